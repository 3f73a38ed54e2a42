//! Header work for one request: splitting the script's headers by role ([`BaseHeaders`]),
//! the `Cookie` header (script header, request cookies, jar), the `response.request` record,
//! Go's canonical header names, and the small URL-derived values (target, `Host`, credentials).

use bytes::Bytes;
use http::header::{self, HeaderMap, HeaderName, HeaderValue};
use url::Url;

use super::cookies::CookieJar;
use super::error_code::HttpError;
use super::types::{Request, RequestRecord};

/// Headers of the original request, split by the role Go gives them.
pub(crate) struct BaseHeaders {
    /// Everything else, canonical names, in script order.
    pub other: Vec<(HeaderName, HeaderValue)>,
    pub host: Option<HeaderValue>,
    pub user_agent: Option<HeaderValue>,
    pub cookie: Option<String>,
    pub authorization: bool,
}

/// k6's `error_code` for a status: `1000 + status` from 400 on.
pub(crate) fn status_error_code(status: u16) -> u32 {
    if status >= 400 {
        1000 + u32::from(status)
    } else {
        0
    }
}

/// Request cookies, then jar cookies not replaced by them, after the script's own `Cookie` header.
pub(crate) fn build_cookie_header(
    own: Option<&str>,
    req: &Request,
    jar: Option<&CookieJar>,
    url: &Url,
) -> Option<String> {
    let mut out = own.map(str::to_string).unwrap_or_default();
    let mut push = |name: &str, value: &str| {
        if !out.is_empty() {
            out.push_str("; ");
        }
        out.push_str(name);
        out.push('=');
        out.push_str(value);
    };
    for c in &req.cookies {
        push(&c.name, &c.value);
    }
    if let Some(jar) = jar {
        for (name, value) in jar.cookies_for(url) {
            if !req.cookies.iter().any(|c| c.replace && c.name == name) {
                push(&name, &value);
            }
        }
    }
    (!out.is_empty()).then_some(out)
}

pub(crate) fn make_record(
    req: &Request,
    base: &BaseHeaders,
    cookie: Option<&str>,
    body: &Bytes,
) -> RequestRecord {
    let mut headers: Vec<(String, Vec<String>)> = Vec::with_capacity(base.other.len() + 2);
    let mut add = |name: String, value: String| match headers.iter_mut().find(|(n, _)| *n == name) {
        Some((_, vs)) => vs.push(value),
        None => headers.push((name, vec![value])),
    };
    for (n, v) in &base.other {
        add(
            canonical(n.as_str()),
            String::from_utf8_lossy(v.as_bytes()).into_owned(),
        );
    }
    if let Some(ua) = &base.user_agent {
        add(
            "User-Agent".to_string(),
            String::from_utf8_lossy(ua.as_bytes()).into_owned(),
        );
    }
    let mut cookies = Vec::new();
    if let Some(c) = cookie {
        add("Cookie".to_string(), c.to_string());
        for pair in c.split(';') {
            if let Some((n, v)) = pair.trim().split_once('=') {
                cookies.push((n.to_string(), v.to_string()));
            }
        }
    }
    RequestRecord {
        method: req.method.clone(),
        url: req.url.clone(),
        headers,
        body: body.clone(),
        cookies,
    }
}

/// Response headers with Go's canonical names, repeated ones joined with `", "`, arrival order.
pub(crate) fn joined_headers(map: &HeaderMap) -> Vec<(String, String)> {
    let mut out = Vec::with_capacity(map.keys_len());
    for name in map.keys() {
        let mut value = String::new();
        for (i, v) in map.get_all(name).iter().enumerate() {
            if i > 0 {
                value.push_str(", ");
            }
            value.push_str(&String::from_utf8_lossy(v.as_bytes()));
        }
        out.push((canonical(name.as_str()), value));
    }
    out
}

/// Go's `CanonicalMIMEHeaderKey`: `content-type` -> `Content-Type`.
pub(crate) fn canonical(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut upper = true;
    for c in name.chars() {
        if upper {
            out.push(c.to_ascii_uppercase());
        } else {
            out.push(c.to_ascii_lowercase());
        }
        upper = c == '-';
    }
    out
}

/// Headers that describe the body and are dropped with it on 301/302/303 (Go 1.22+).
pub(crate) fn is_payload_header(n: &HeaderName) -> bool {
    *n == header::CONTENT_TYPE
        || *n == header::CONTENT_ENCODING
        || *n == header::CONTENT_LANGUAGE
        || *n == header::CONTENT_LOCATION
}

/// Percent-decoded userinfo.
pub(crate) fn credentials(url: &Url) -> (String, String) {
    let dec = |s: &str| {
        percent_encoding::percent_decode_str(s)
            .decode_utf8_lossy()
            .into_owned()
    };
    (dec(url.username()), dec(url.password().unwrap_or("")))
}

/// Path and query (the HTTP/1.1 origin-form request target).
pub(crate) fn request_target(url: &Url) -> String {
    let path = &url[url::Position::BeforePath..url::Position::AfterQuery];
    if path.is_empty() {
        "/".to_string()
    } else {
        path.to_string()
    }
}

pub(crate) fn host_header(url: &Url) -> Result<HeaderValue, HttpError> {
    let host = url.host_str().unwrap_or("");
    let value = match url.port() {
        Some(p) => format!("{host}:{p}"),
        None => host.to_string(),
    };
    HeaderValue::from_str(&value).map_err(|_| HttpError::InvalidUrl(url.to_string()))
}

pub(crate) fn same_host(a: &Url, b: &Url) -> bool {
    a.host_str() == b.host_str() && a.port_or_known_default() == b.port_or_known_default()
}
