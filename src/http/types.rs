//! The plain data the HTTP client receives ([`ClientConfig`], [`Request`]) and returns
//! ([`Exchange`], [`Hop`], [`Response`]). No behaviour beyond defaults and small accessors.

use std::rc::Rc;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;

use super::cookies::{CookieJar, ResponseCookie};
use super::dns::Resolver;
use super::error_code::HttpError;
use super::rate::RateLimiter;
use crate::engine::options::network::NetworkOptions;

/// k6's default `User-Agent` (`userAgent` option).
pub const DEFAULT_USER_AGENT: &str = "Grafana k6/1.1.0";

/// Per-VU client settings, from the test options.
#[derive(Clone, Debug)]
pub struct ClientConfig {
    /// `User-Agent` sent unless the request sets one; `None` sends none (k6 `userAgent: ""`).
    pub user_agent: Option<String>,
    /// `insecureSkipTLSVerify`: accept any server certificate.
    pub insecure_skip_tls_verify: bool,
    /// `tlsVersion`/`tlsCipherSuites`: the test's own TLS configuration (else the shared default).
    pub tls: Option<Arc<tokio_rustls::rustls::ClientConfig>>,
    /// `hosts`, `blacklistIPs`, `blockHostnames` (shared by every VU of a test).
    pub net: Arc<NetworkOptions>,
    /// `noConnectionReuse`: a new connection for every request, sent with `Connection: close`.
    pub no_connection_reuse: bool,
    /// `dns`: the test's resolver (else the system resolver, first IPv4 address, no cache).
    pub resolver: Option<Arc<Resolver>>,
    /// `localIPs`: the source address this VU's connections bind to.
    pub local_ip: Option<std::net::IpAddr>,
    /// `rps`: the test-wide request rate limit, shared by every VU.
    pub rps: Option<Arc<RateLimiter>>,
    /// `discardResponseBodies`: the binding uses it to pick [`ResponseType::None`] as default.
    pub discard_response_bodies: bool,
    /// Idle keep-alive connections kept per host (`0` = no reuse, like `noConnectionReuse`).
    /// k6 uses `batchPerHost` (default 6) for this.
    pub max_idle_per_host: usize,
    /// Offer HTTP/2 over TLS (k6's default; `GODEBUG=http2client=0` turns it off, see
    /// [`http2_enabled`](super::http2_enabled)).
    pub http2: bool,
}

impl Default for ClientConfig {
    fn default() -> Self {
        ClientConfig {
            user_agent: Some(DEFAULT_USER_AGENT.to_string()),
            insecure_skip_tls_verify: false,
            tls: None,
            net: Arc::new(NetworkOptions::default()),
            no_connection_reuse: false,
            resolver: None,
            local_ip: None,
            rps: None,
            discard_response_bodies: false,
            max_idle_per_host: 6,
            http2: true,
        }
    }
}

/// `responseType`: what to do with the response body.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ResponseType {
    /// Body kept (the binding makes a string).
    #[default]
    Text,
    /// Body kept (the binding makes an ArrayBuffer).
    Binary,
    /// Body read and discarded; [`Response::body`] is `None`.
    None,
}

/// `auth` param; credentials come from the URL's userinfo (`http://user:pass@host/`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Auth {
    /// `Authorization: Basic` on every hop.
    Basic,
    /// RFC 7616 digest: the first request goes without credentials, a 401 challenge is answered.
    Digest,
}

/// `compression` param: encodings applied to the request body, in order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Compression {
    Gzip,
    Deflate,
}

/// One entry of the `cookies` param.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RequestCookie {
    pub name: String,
    pub value: String,
    /// `replace: true`: the jar's cookie of the same name is not sent.
    pub replace: bool,
}

/// Which cookie jar a request uses (`jar` param).
#[derive(Clone, Debug, Default)]
pub enum JarChoice {
    /// The VU's own jar ([`super::HttpClient::jar`]).
    #[default]
    Vu,
    /// A jar made with `new http.CookieJar()`.
    Custom(Rc<CookieJar>),
    /// No jar: cookies are neither sent from nor stored into any jar.
    Disabled,
}

/// One request as the script asked for it.
#[derive(Clone, Debug)]
pub struct Request {
    /// Upper-case method (`GET`, `POST`, ...).
    pub method: String,
    /// Absolute `http://` or `https://` URL, userinfo allowed.
    pub url: String,
    /// Headers in script order; names as given (sent canonicalised). `Host` overrides the host.
    pub headers: Vec<(String, String)>,
    pub body: Bytes,
    /// Covers the whole exchange, redirects included. Default 60 s.
    pub timeout: Duration,
    /// Redirects followed before the 3xx itself is returned. Default 10.
    pub max_redirects: u32,
    pub response_type: ResponseType,
    pub auth: Option<Auth>,
    pub cookies: Vec<RequestCookie>,
    pub jar: JarChoice,
    pub compression: Vec<Compression>,
}

impl Request {
    /// A request with k6's defaults (60 s timeout, 10 redirects, text body, VU jar).
    pub fn new(method: impl Into<String>, url: impl Into<String>) -> Self {
        Request {
            method: method.into(),
            url: url.into(),
            headers: Vec::new(),
            body: Bytes::new(),
            timeout: Duration::from_secs(60),
            max_redirects: 10,
            response_type: ResponseType::Text,
            auth: None,
            cookies: Vec::new(),
            jar: JarChoice::Vu,
            compression: Vec::new(),
        }
    }
}

/// k6's `timings` object, all in milliseconds.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Timings {
    /// Waiting for a connection (includes looking_up, connecting and tls_handshaking).
    pub blocked: f64,
    pub looking_up: f64,
    pub connecting: f64,
    pub tls_handshaking: f64,
    /// Writing the request.
    pub sending: f64,
    /// Time to first byte after the request was written.
    pub waiting: f64,
    /// Reading the response.
    pub receiving: f64,
    /// sending + waiting + receiving.
    pub duration: f64,
}

/// One request actually sent (each redirect hop is one): what `http_reqs` and the
/// `http_req_*` trends are emitted from.
#[derive(Clone, Debug)]
pub struct Hop {
    pub method: String,
    /// The URL with userinfo stripped (the `url`/`name` tag).
    pub url: String,
    /// 0 on transport error.
    pub status: u16,
    /// `HTTP/1.1`, or empty when no response arrived.
    pub proto: &'static str,
    pub timings: Timings,
    /// Transport error, if any.
    pub error: Option<HttpError>,
    /// k6's `error_code` tag: the transport error's code, else `1000 + status` for status >= 400,
    /// else 0.
    pub error_code: u32,
    /// `tls1.3` / `tls1.2`, empty for plain HTTP.
    pub tls_version: &'static str,
    /// Bytes written to the socket for this hop (headers, body; TLS records).
    pub bytes_sent: u64,
    /// Bytes read from the socket for this hop (as on the wire, before decompression).
    pub bytes_received: u64,
    /// The server's address, when a connection was made (the `ip` system tag).
    pub remote_ip: Option<std::net::IpAddr>,
}

/// The request as recorded on `response.request` (k6 records the first hop's request).
#[derive(Clone, Debug, Default)]
pub struct RequestRecord {
    pub method: String,
    /// The URL as given (k6 keeps userinfo here).
    pub url: String,
    /// Canonical header names with all values (`User-Agent`, `Cookie` included; not `Host`).
    pub headers: Vec<(String, Vec<String>)>,
    pub body: Bytes,
    /// Cookies sent, parsed back from the `Cookie` header: (name, value) in order.
    pub cookies: Vec<(String, String)>,
}

/// The final response of an exchange (`http.Response` in JS).
#[derive(Clone, Debug, Default)]
pub struct Response {
    /// 0 on transport error.
    pub status: u16,
    /// `200 OK` (the server's reason phrase); empty on transport error.
    pub status_text: String,
    /// `HTTP/1.1`, empty on transport error.
    pub proto: &'static str,
    /// Final URL after redirects (userinfo kept as in the request).
    pub url: String,
    /// Canonical names in arrival order; repeated headers joined with `", "`.
    pub headers: Vec<(String, String)>,
    /// Decompressed body; `None` for [`ResponseType::None`] or when there is none (error).
    pub body: Option<Bytes>,
    pub timings: Timings,
    /// k6's error string, empty when none.
    pub error: String,
    /// k6's error code, 0 when none (1000 + status for status >= 400).
    pub error_code: u32,
    pub remote_ip: String,
    pub remote_port: u16,
    /// Cookies set by the final response, in order.
    pub cookies: Vec<ResponseCookie>,
    /// `tls1.3` / `tls1.2`, empty for plain HTTP.
    pub tls_version: String,
    /// e.g. `TLS_AES_128_GCM_SHA256`, empty for plain HTTP.
    pub tls_cipher_suite: String,
    pub request: RequestRecord,
}

/// Everything one `http.request()` produced.
#[derive(Clone, Debug)]
pub struct Exchange {
    /// One per request sent, in order; never empty (a request that could not even be parsed
    /// yields one hop with the error).
    pub hops: Vec<Hop>,
    pub response: Response,
    /// The redirect limit stopped the chain and the 3xx was returned. k6 then warns
    /// (see [`Exchange::redirect_warning`]) unless the script set `redirects` itself.
    pub redirect_limit_reached: bool,
}

impl Exchange {
    /// k6's warning text when the redirect limit was reached (log it with field `url`, the first URL).
    pub fn redirect_warning(&self) -> String {
        format!(
            "Stopped after {} redirects and returned the redirection; pass {{ redirects: n }} in request params or set global maxRedirects to silence this",
            self.hops.len()
        )
    }
}
