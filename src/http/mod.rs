//! The HTTP client behind `k6/http`: one [`HttpClient`] per VU with its own connection pool and
//! cookie jar. It receives a [`Request`] (already converted from JS values by the binding), sends
//! it over hyper's HTTP/1.1 connection API on top of a byte-counting, time-stamping socket adapter,
//! follows redirects itself, and returns an [`Exchange`]: one [`Hop`] per request actually sent
//! (what the binding turns into `http_req_*` samples, `data_sent`/`data_received`) plus the final
//! [`Response`] (what becomes the JS `Response` object). Errors are k6's codes and strings
//! (see [`error_code`]). Over https it negotiates HTTP/2 by ALPN, as k6 does, and falls back
//! to HTTP/1.1 when the server does not offer it.

mod auth;
mod batch;
mod body;
mod client;
mod client_cert;
mod conn;
pub mod cookies;
pub mod dns;
pub mod error_code;
pub mod grpc;
mod headers;
mod hop;
mod io;
pub mod limits;
pub mod rate;
mod redirect;
pub(crate) mod tls;
mod types;
pub mod ws;

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tls_tests;

pub use body::{MultipartPart, form_urlencode, multipart_form_data};
pub use client::HttpClient;
pub use cookies::{CookieJar, CookieOptions, ResponseCookie, SESSION_EXPIRES_MS};
pub use error_code::HttpError;
pub use rate::RateLimiter;
pub use redirect::clean_url;
pub use types::{
    Auth, ClientConfig, Compression, DEFAULT_USER_AGENT, Exchange, Hop, JarChoice, Request,
    RequestCookie, RequestRecord, Response, ResponseType, Timings,
};

/// Whether `k6/http` offers HTTP/2: k6 turns it off when `GODEBUG` has `http2client=0`
/// (K6:internal/js/runner.go `forceHTTP1`).
pub fn http2_enabled() -> bool {
    http2_enabled_by(std::env::var("GODEBUG").ok().as_deref())
}

fn http2_enabled_by(godebug: Option<&str>) -> bool {
    !godebug
        .unwrap_or("")
        .split(',')
        .any(|v| v.trim() == "http2client=0")
}

#[cfg(test)]
#[test]
fn godebug_http2client_0_turns_http2_off() {
    assert!(http2_enabled_by(None));
    assert!(http2_enabled_by(Some("x509sha1=1")));
    assert!(!http2_enabled_by(Some("x509sha1=1,http2client=0")));
    assert!(!http2_enabled_by(Some("http2client=0")));
}
