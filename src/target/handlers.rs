//! Request dispatch and the endpoint handlers of the target. Receives every request (the router's
//! fallback), picks the endpoint from the path's first segment and builds the response; no state,
//! no logging.

use std::time::Duration;

use axum::body::{Body, Bytes, to_bytes};
use axum::http::header::{
    AUTHORIZATION, CONTENT_ENCODING, CONTENT_TYPE, COOKIE, LOCATION, SET_COOKIE, WWW_AUTHENTICATE,
};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use serde_json::{Map, Value};

use super::{JSON_DOC, gzip};

/// Largest request body `/echo` reads.
const MAX_BODY: usize = 16 * 1024 * 1024;
/// Largest `/bytes/N` answered.
const MAX_BYTES: usize = 64 * 1024 * 1024;
/// Longest `/delay/MS` honoured.
const MAX_DELAY_MS: u64 = 300_000;

const TEXT: HeaderValue = HeaderValue::from_static("text/plain");
const JSON: HeaderValue = HeaderValue::from_static("application/json");

/// The page of `/html`: forms, links, lists and data attributes for k6/html's Selection API.
const HTML_PAGE: &str = include_str!("page.html");

/// The router fallback: dispatches on the path.
pub(super) async fn handle(req: axum::extract::Request) -> Response {
    let (parts, body) = req.into_parts();
    let path = parts.uri.path();
    let mut segs = path.trim_start_matches('/').splitn(3, '/');
    let head = segs.next().unwrap_or("");
    let arg = segs.next();
    let rest = segs.next();
    match (head, arg, rest) {
        ("", None, None) | ("mark", None, None) => ok(),
        ("status", Some(code), None) => status(code),
        ("json", None, None) => json(StatusCode::OK, Body::from(JSON_DOC)),
        ("delay", Some(ms), None) => match ms.parse::<u64>() {
            Ok(ms) => {
                tokio::time::sleep(Duration::from_millis(ms.min(MAX_DELAY_MS))).await;
                ok()
            }
            Err(_) => not_found(),
        },
        ("echo", None, None) => {
            let body = match to_bytes(body, MAX_BODY).await {
                Ok(b) => b,
                Err(_) => return text(StatusCode::PAYLOAD_TOO_LARGE, "body too large\n"),
            };
            echo(
                &parts.method,
                path,
                parts.uri.query(),
                &parts.headers,
                &body,
            )
        }
        ("redirect", Some(n), None) => redirect(n),
        ("redirect-to", None, None) => redirect_to(parts.uri.query()),
        ("conn", None, None) => {
            let peer = parts
                .extensions
                .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
                .map_or_else(String::new, |c| c.0.to_string());
            json(
                StatusCode::OK,
                Body::from(serde_json::json!({ "peer": peer }).to_string()),
            )
        }
        ("cookies", Some("set"), None) => set_cookies(parts.uri.query()),
        ("cookies", None, None) => cookies(&parts.headers),
        ("bytes", Some(n), None) => match n.parse::<usize>() {
            Ok(n) if n <= MAX_BYTES => (
                [(
                    CONTENT_TYPE,
                    HeaderValue::from_static("application/octet-stream"),
                )],
                vec![b'x'; n],
            )
                .into_response(),
            Ok(_) => text(StatusCode::BAD_REQUEST, "too many bytes\n"),
            Err(_) => not_found(),
        },
        ("basic-auth", Some(user), Some(pass)) if !pass.contains('/') => {
            basic_auth(user, pass, &parts.headers)
        }
        ("gzip", None, None) => gzipped(&parts.method),
        ("html", None, None) => (
            [(
                CONTENT_TYPE,
                HeaderValue::from_static("text/html; charset=utf-8"),
            )],
            HTML_PAGE,
        )
            .into_response(),
        ("headers", None, None) => {
            let mut doc = Map::new();
            doc.insert("headers".into(), headers_json(&parts.headers));
            json(StatusCode::OK, Body::from(Value::Object(doc).to_string()))
        }
        _ => not_found(),
    }
}

fn text(code: StatusCode, body: &'static str) -> Response {
    (code, [(CONTENT_TYPE, TEXT)], body).into_response()
}

fn ok() -> Response {
    text(StatusCode::OK, "ok\n")
}

fn not_found() -> Response {
    text(StatusCode::NOT_FOUND, "not found\n")
}

fn json(code: StatusCode, body: Body) -> Response {
    (code, [(CONTENT_TYPE, JSON)], body).into_response()
}

fn status(code: &str) -> Response {
    match code.parse::<u16>().ok().filter(|c| *c >= 200) {
        Some(c) => match StatusCode::from_u16(c) {
            Ok(sc) => sc.into_response(),
            Err(_) => text(StatusCode::BAD_REQUEST, "invalid status\n"),
        },
        None => text(StatusCode::BAD_REQUEST, "invalid status\n"),
    }
}

fn redirect(n: &str) -> Response {
    match n.parse::<u64>() {
        Ok(0) => ok(),
        Ok(n) => match HeaderValue::from_str(&format!("/redirect/{}", n - 1)) {
            Ok(loc) => (StatusCode::FOUND, [(LOCATION, loc)]).into_response(),
            Err(_) => not_found(),
        },
        Err(_) => not_found(),
    }
}

/// `/redirect-to?url=U`: 302 to `U` (any URL, e.g. another host name).
fn redirect_to(query: Option<&str>) -> Response {
    let url = query
        .unwrap_or("")
        .split('&')
        .find_map(|kv| kv.strip_prefix("url=").map(decode_component));
    match url.and_then(|u| HeaderValue::from_str(&u).ok()) {
        Some(loc) => (StatusCode::FOUND, [(LOCATION, loc)]).into_response(),
        None => text(StatusCode::BAD_REQUEST, "missing url\n"),
    }
}

/// Decodes one `application/x-www-form-urlencoded` component (`+` is a space, `%XX` a byte).
pub(super) fn decode_component(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).ok();
                match hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                    Some(b) => {
                        out.push(b);
                        i += 2;
                    }
                    None => out.push(b'%'),
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Parses a query string into an ordered map; a repeated key keeps its last value.
fn query_map(query: Option<&str>) -> Map<String, Value> {
    let mut map = Map::new();
    for pair in query.unwrap_or("").split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        map.insert(decode_component(k), Value::String(decode_component(v)));
    }
    map
}

/// Request headers as a JSON object with lowercase names; repeated headers are joined with `, `.
fn headers_json(headers: &HeaderMap) -> Value {
    let mut map = Map::new();
    for name in headers.keys() {
        let joined = headers
            .get_all(name)
            .iter()
            .map(|v| String::from_utf8_lossy(v.as_bytes()))
            .collect::<Vec<_>>()
            .join(", ");
        map.insert(name.as_str().to_owned(), Value::String(joined));
    }
    Value::Object(map)
}

fn echo(
    method: &Method,
    path: &str,
    query: Option<&str>,
    headers: &HeaderMap,
    body: &Bytes,
) -> Response {
    let mut doc = Map::new();
    doc.insert("method".into(), Value::String(method.as_str().to_owned()));
    doc.insert("path".into(), Value::String(path.to_owned()));
    doc.insert("query".into(), Value::Object(query_map(query)));
    doc.insert("headers".into(), headers_json(headers));
    doc.insert(
        "body".into(),
        Value::String(String::from_utf8_lossy(body).into_owned()),
    );
    json(StatusCode::OK, Body::from(Value::Object(doc).to_string()))
}

fn set_cookies(query: Option<&str>) -> Response {
    let cookies = query_map(query);
    let mut headers = HeaderMap::new();
    for (k, v) in &cookies {
        let v = v.as_str().unwrap_or("");
        if let Ok(value) = HeaderValue::from_str(&format!("{k}={v}; Path=/")) {
            headers.append(SET_COOKIE, value);
        }
    }
    headers.insert(CONTENT_TYPE, JSON);
    (headers, Value::Object(cookies).to_string()).into_response()
}

fn cookies(headers: &HeaderMap) -> Response {
    let mut jar = Map::new();
    for value in headers.get_all(COOKIE) {
        let value = String::from_utf8_lossy(value.as_bytes());
        for item in value.split(';') {
            if let Some((k, v)) = item.trim().split_once('=') {
                jar.insert(k.to_owned(), Value::String(v.to_owned()));
            }
        }
    }
    json(StatusCode::OK, Body::from(Value::Object(jar).to_string()))
}

fn basic_auth(user: &str, pass: &str, headers: &HeaderMap) -> Response {
    let (user, pass) = (decode_component(user), decode_component(pass));
    let given = headers
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Basic "))
        .and_then(|b| {
            base64::engine::general_purpose::STANDARD
                .decode(b.trim())
                .ok()
        });
    let expected = format!("{user}:{pass}");
    if given.as_deref() == Some(expected.as_bytes()) {
        let doc = serde_json::json!({ "authenticated": true, "user": user });
        json(StatusCode::OK, Body::from(doc.to_string()))
    } else {
        (
            StatusCode::UNAUTHORIZED,
            [(
                WWW_AUTHENTICATE,
                HeaderValue::from_static("Basic realm=\"loadgate\""),
            )],
        )
            .into_response()
    }
}

fn gzipped(method: &Method) -> Response {
    let doc = serde_json::json!({ "gzipped": true, "method": method.as_str() });
    let body = gzip::encode(doc.to_string().as_bytes());
    (
        [
            (CONTENT_TYPE, JSON),
            (CONTENT_ENCODING, HeaderValue::from_static("gzip")),
        ],
        body,
    )
        .into_response()
}
