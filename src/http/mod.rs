//! The HTTP client behind `k6/http`: one [`HttpClient`] per VU with its own connection pool and
//! cookie jar. It receives a [`Request`] (already converted from JS values by the binding), sends
//! it over hyper's HTTP/1.1 connection API on top of a byte-counting, time-stamping socket adapter,
//! follows redirects itself, and returns an [`Exchange`]: one [`Hop`] per request actually sent
//! (what the binding turns into `http_req_*` samples, `data_sent`/`data_received`) plus the final
//! [`Response`] (what becomes the JS `Response` object). Errors are k6's codes and strings
//! (see [`error_code`]).

mod auth;
mod batch;
mod body;
mod client;
mod conn;
pub mod cookies;
pub mod dns;
pub mod error_code;
mod headers;
mod hop;
mod io;
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
