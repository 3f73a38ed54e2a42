//! k6's HTTP error classification (K6:lib/netext/httpext/error_codes.go): every transport failure
//! becomes an [`HttpError`] whose `Display` is k6's `error` string and whose [`HttpError::code`]
//! is k6's `error_code`. Receives io/hyper/rustls errors, emits the enum.

use std::io;
use std::net::SocketAddr;

/// A transport-level failure of one request, as k6 reports it.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum HttpError {
    /// The request's `timeout` elapsed (1050).
    #[error("request timeout")]
    Timeout,
    /// The URL could not be parsed or has no host (1020).
    #[error("invalid url {0:?}")]
    InvalidUrl(String),
    /// The scheme is neither http nor https (1000; Go: `unsupported protocol scheme`).
    #[error("unsupported protocol scheme {0:?}")]
    UnsupportedScheme(String),
    /// The host name does not resolve (1101).
    #[error("lookup: no such host")]
    NoSuchHost { host: String },
    /// Another resolver failure (1100).
    #[error("lookup {host}: {message}")]
    Dns { host: String, message: String },
    /// The resolved address is in a `blacklistIPs` range (1110).
    #[error("ip is blacklisted")]
    BlacklistedIp { ip: std::net::IpAddr, net: String },
    /// The host name matches a `blockHostnames` pattern (1111).
    #[error("hostname is blocked")]
    BlockedHostname { host: String, pattern: String },
    /// TCP connect got RST (1212).
    #[error("dial: connection refused")]
    ConnectionRefused { addr: SocketAddr },
    /// TCP connect failed otherwise (1213 with an errno, else 1210).
    #[error("dial: unknown errno {errno} error with msg `{message}`")]
    Dial {
        addr: SocketAddr,
        errno: i32,
        message: String,
    },
    /// The peer reset the connection (1220); `op` is `read` or `write`.
    #[error("{op}: connection reset by peer")]
    ResetByPeer { op: &'static str },
    /// Writing to a closed connection (1201).
    #[error("{op}: broken pipe")]
    BrokenPipe { op: &'static str },
    /// Another socket error (1200).
    #[error("{0}")]
    Tcp(String),
    /// The server's certificate is not signed by a known authority (1310).
    #[error("x509: unknown authority")]
    UnknownAuthority,
    /// The certificate is not valid for the host name (1311).
    #[error("x509: certificate doesn't match hostname")]
    HostnameMismatch,
    /// Another TLS failure (1300).
    #[error("{0}")]
    Tls(String),
    /// The body's `Content-Encoding` could not be decoded (1701).
    #[error("{0}")]
    Decompression(String),
    /// The response body is larger than [`super::limits::max_response_body`] (1000).
    #[error("response body larger than the limit of {limit} bytes ({env})", env = super::limits::MAX_RESPONSE_BODY_ENV)]
    BodyTooLarge { limit: usize },
    /// Anything else, e.g. `EOF` when the server closed without answering (1000).
    #[error("{0}")]
    Other(String),
}

impl HttpError {
    /// k6's numeric `error_code`.
    pub fn code(&self) -> u32 {
        match self {
            HttpError::Timeout => 1050,
            HttpError::InvalidUrl(_) => 1020,
            HttpError::UnsupportedScheme(_)
            | HttpError::Other(_)
            | HttpError::BodyTooLarge { .. } => 1000,
            HttpError::NoSuchHost { .. } => 1101,
            HttpError::Dns { .. } => 1100,
            HttpError::BlacklistedIp { .. } => 1110,
            HttpError::BlockedHostname { .. } => 1111,
            HttpError::ConnectionRefused { .. } => 1212,
            HttpError::Dial { errno, .. } => {
                if *errno != 0 {
                    1213
                } else {
                    1210
                }
            }
            HttpError::ResetByPeer { .. } => 1220,
            HttpError::BrokenPipe { .. } => 1201,
            HttpError::Tcp(_) => 1200,
            HttpError::UnknownAuthority => 1310,
            HttpError::HostnameMismatch => 1311,
            HttpError::Tls(_) => 1300,
            HttpError::Decompression(_) => 1701,
        }
    }

    /// The longer Go-style text k6 logs with `level=warning msg="Request Failed"`, e.g.
    /// `Get "http://127.0.0.1:1/x": dial tcp 127.0.0.1:1: connect: connection refused`.
    pub fn log_detail(&self, method: &str, url: &str) -> String {
        let op = go_method_op(method);
        let inner = match self {
            HttpError::ConnectionRefused { addr } => {
                format!("dial tcp {addr}: connect: connection refused")
            }
            HttpError::Dial { addr, message, .. } => format!("dial tcp {addr}: connect: {message}"),
            HttpError::NoSuchHost { host } => format!("lookup {host}: no such host"),
            HttpError::BlacklistedIp { ip, net } => {
                format!("IP ({ip}) is in a blacklisted range ({net})")
            }
            HttpError::BlockedHostname { host, pattern } => {
                format!("hostname ({host}) is in a blocked pattern ({pattern})")
            }
            other => other.to_string(),
        };
        format!("{op} \"{url}\": {inner}")
    }
}

/// Go's `urlErrorOp`: `GET` -> `Get`.
fn go_method_op(method: &str) -> String {
    let mut out = String::with_capacity(method.len());
    for (i, c) in method.chars().enumerate() {
        if i == 0 {
            out.push(c.to_ascii_uppercase());
        } else {
            out.push(c.to_ascii_lowercase());
        }
    }
    out
}

/// Classifies a failed TCP connect to `addr`.
pub(crate) fn from_connect_error(err: &io::Error, addr: SocketAddr) -> HttpError {
    match err.kind() {
        io::ErrorKind::ConnectionRefused => HttpError::ConnectionRefused { addr },
        io::ErrorKind::TimedOut => HttpError::Tcp("dial: i/o timeout".to_string()),
        _ => HttpError::Dial {
            addr,
            errno: err.raw_os_error().unwrap_or(0),
            message: strip_os_suffix(&err.to_string()),
        },
    }
}

/// Classifies an io error while the request was being sent or the response read.
pub(crate) fn from_io_error(err: &io::Error, writing: bool) -> HttpError {
    let op = if writing { "write" } else { "read" };
    match err.kind() {
        io::ErrorKind::ConnectionReset | io::ErrorKind::ConnectionAborted => {
            HttpError::ResetByPeer { op }
        }
        io::ErrorKind::BrokenPipe => HttpError::BrokenPipe { op },
        io::ErrorKind::UnexpectedEof => HttpError::Other("unexpected EOF".to_string()),
        _ => {
            if let Some(tls) = err
                .get_ref()
                .and_then(|e| e.downcast_ref::<tokio_rustls::rustls::Error>())
            {
                return super::tls::classify(tls);
            }
            HttpError::Tcp(format!("{op}: {}", strip_os_suffix(&err.to_string())))
        }
    }
}

/// Classifies a hyper error (sending the request or reading the response head/body).
pub(crate) fn from_hyper_error(err: &hyper::Error) -> HttpError {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(err);
    while let Some(e) = source {
        if let Some(io) = e.downcast_ref::<io::Error>() {
            return from_io_error(io, false);
        }
        source = e.source();
    }
    if err.is_incomplete_message() {
        return HttpError::Other("EOF".to_string());
    }
    if err.is_parse() {
        return HttpError::Other(format!("malformed HTTP response: {err}"));
    }
    HttpError::Other(err.to_string())
}

/// `Connection refused (os error 111)` -> `connection refused` (Go's lowercase, no errno).
fn strip_os_suffix(msg: &str) -> String {
    let base = msg.split(" (os error").next().unwrap_or(msg);
    let mut out = base.to_string();
    if let Some(first) = out.get_mut(0..1) {
        first.make_ascii_lowercase();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_and_messages() {
        let addr: SocketAddr = "127.0.0.1:1".parse().unwrap();
        let e = HttpError::ConnectionRefused { addr };
        assert_eq!(e.code(), 1212);
        assert_eq!(e.to_string(), "dial: connection refused");
        assert_eq!(
            e.log_detail("GET", "http://127.0.0.1:1/x"),
            "Get \"http://127.0.0.1:1/x\": dial tcp 127.0.0.1:1: connect: connection refused"
        );
        assert_eq!(HttpError::Timeout.code(), 1050);
        assert_eq!(HttpError::Timeout.to_string(), "request timeout");
        let dns = HttpError::NoSuchHost {
            host: "x.invalid".into(),
        };
        assert_eq!(dns.code(), 1101);
        assert_eq!(dns.to_string(), "lookup: no such host");
        let io = io::Error::from(io::ErrorKind::ConnectionReset);
        assert_eq!(from_io_error(&io, false).code(), 1220);
        assert_eq!(
            from_io_error(&io, false).to_string(),
            "read: connection reset by peer"
        );
    }

    #[test]
    fn refused_from_io() {
        let addr: SocketAddr = "127.0.0.1:1".parse().unwrap();
        let io = io::Error::from(io::ErrorKind::ConnectionRefused);
        assert_eq!(from_connect_error(&io, addr).code(), 1212);
        assert_eq!(
            strip_os_suffix("Network unreachable (os error 101)"),
            "network unreachable"
        );
    }
}
