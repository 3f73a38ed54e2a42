//! End-to-end tests of [`HttpClient`] against servers started on 127.0.0.1:0 in the test.

use std::collections::HashMap;
use std::io::Write;
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query};
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::response::{IntoResponse, Response as AxumResponse};
use axum::routing::any;
use md5::{Digest, Md5};

use super::*;

async fn echo(method: Method, headers: HeaderMap, body: Bytes) -> AxumResponse {
    let mut h = serde_json::Map::new();
    for (k, v) in &headers {
        h.insert(
            k.as_str().to_string(),
            serde_json::Value::String(v.to_str().unwrap_or("").to_string()),
        );
    }
    let doc = serde_json::json!({
        "method": method.as_str(),
        "headers": h,
        "body": String::from_utf8_lossy(&body),
    });
    (
        [(header::CONTENT_TYPE, "application/json")],
        doc.to_string(),
    )
        .into_response()
}

async fn redirect(Path(n): Path<u32>) -> AxumResponse {
    if n == 0 {
        return "ok".into_response();
    }
    (
        StatusCode::FOUND,
        [(header::LOCATION, format!("/redirect/{}", n - 1))],
    )
        .into_response()
}

async fn to(Path((code, path)): Path<(u16, String)>) -> AxumResponse {
    let status = StatusCode::from_u16(code).unwrap_or(StatusCode::FOUND);
    (status, [(header::LOCATION, format!("/{path}"))]).into_response()
}

async fn set_cookies(Query(q): Query<HashMap<String, String>>) -> AxumResponse {
    let mut resp = "set".into_response();
    for (k, v) in q {
        let value = format!("{k}={v}; Path=/").parse().unwrap();
        resp.headers_mut().append(header::SET_COOKIE, value);
    }
    resp
}

async fn set_and_redirect() -> AxumResponse {
    (
        StatusCode::FOUND,
        [
            (header::SET_COOKIE, "hop=1; Path=/"),
            (header::LOCATION, "/echo"),
        ],
    )
        .into_response()
}

async fn delay(Path(ms): Path<u64>) -> &'static str {
    tokio::time::sleep(Duration::from_millis(ms)).await;
    "ok"
}

async fn gzipped() -> AxumResponse {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(&b"hello gzip ".repeat(100)).unwrap();
    let body = enc.finish().unwrap();
    ([(header::CONTENT_ENCODING, "gzip")], body).into_response()
}

async fn status(Path(code): Path<u16>) -> StatusCode {
    StatusCode::from_u16(code).unwrap_or(StatusCode::OK)
}

const NONCE: &str = "abc123";

async fn digest(method: Method, headers: HeaderMap) -> AxumResponse {
    let Some(auth) = headers.get(header::AUTHORIZATION) else {
        let ch = format!(r#"Digest realm="r", qop="auth", nonce="{NONCE}", opaque="o""#);
        return (StatusCode::UNAUTHORIZED, [(header::WWW_AUTHENTICATE, ch)]).into_response();
    };
    let auth = auth.to_str().unwrap_or("");
    let field = |k: &str| {
        auth.split(", ")
            .find_map(|p| p.strip_prefix(&format!("{k}=")))
            .unwrap_or("")
            .trim_matches('"')
            .to_string()
    };
    let h = |s: String| format!("{:x}", Md5::digest(s.as_bytes()));
    let ha1 = h("u:r:p".to_string());
    let ha2 = h(format!("{}:{}", method.as_str(), field("uri")));
    let expected = h(format!(
        "{ha1}:{NONCE}:{}:{}:{}:{ha2}",
        field("nc"),
        field("cnonce"),
        field("qop")
    ));
    if field("response") == expected && field("uri") == "/digest" {
        "authed".into_response()
    } else {
        StatusCode::FORBIDDEN.into_response()
    }
}

async fn server() -> String {
    let app = Router::new()
        .route("/", any(|| async { "ok" }))
        .route("/echo", any(echo))
        .route("/redirect/{n}", any(redirect))
        .route("/to/{code}/{path}", any(to))
        .route("/cookies/set", any(set_cookies))
        .route("/cookies/hop", any(set_and_redirect))
        .route("/delay/{ms}", any(delay))
        .route("/gzip", any(gzipped))
        .route("/status/{code}", any(status))
        .route("/digest", any(digest));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://{addr}")
}

fn client() -> HttpClient {
    HttpClient::new(ClientConfig::default())
}

fn json(ex: &Exchange) -> serde_json::Value {
    serde_json::from_slice(ex.response.body.as_ref().unwrap()).unwrap()
}

#[tokio::test]
async fn get_post_defaults_and_byte_counts() {
    let base = server().await;
    let c = client();
    let mut req = Request::new("GET", format!("{base}/echo"));
    req.headers.push(("x-lower".into(), "a".into()));
    let ex = c.execute(req).await;
    assert_eq!(ex.hops.len(), 1);
    let r = &ex.response;
    assert_eq!(
        (r.status, r.status_text.as_str(), r.proto),
        (200, "200 OK", "HTTP/1.1")
    );
    assert_eq!(r.error_code, 0);
    assert_eq!(r.remote_ip, "127.0.0.1");
    let doc = json(&ex);
    assert_eq!(doc["headers"]["user-agent"], "Grafana k6/1.1.0");
    assert_eq!(doc["headers"]["x-lower"], "a");
    assert!(doc["headers"].get("accept-encoding").is_none());
    assert!(
        r.headers
            .iter()
            .any(|(k, v)| k == "Content-Type" && v == "application/json")
    );
    assert_eq!(
        r.request.headers,
        vec![
            ("X-Lower".to_string(), vec!["a".to_string()]),
            (
                "User-Agent".to_string(),
                vec!["Grafana k6/1.1.0".to_string()]
            ),
        ]
    );
    let hop = &ex.hops[0];
    let body_len = r.body.as_ref().unwrap().len() as u64;
    assert!(hop.bytes_received > body_len + 30, "{}", hop.bytes_received);
    assert!(
        hop.bytes_sent > 40 && hop.bytes_sent < 200,
        "{}",
        hop.bytes_sent
    );
    let t = hop.timings;
    assert!((t.duration - (t.sending + t.waiting + t.receiving)).abs() < 1e-9);
    assert!(t.blocked >= t.connecting && t.connecting > 0.0);

    let mut req = Request::new("POST", format!("{base}/echo"));
    req.body = bytes::Bytes::from_static(b"payload");
    req.headers
        .push(("Content-Type".into(), "text/plain".into()));
    let ex = c.execute(req).await;
    let doc = json(&ex);
    assert_eq!(doc["method"], "POST");
    assert_eq!(doc["body"], "payload");
    assert_eq!(doc["headers"]["content-length"], "7");
    assert_eq!(ex.response.request.body.as_ref(), b"payload");
}

#[tokio::test]
async fn keep_alive_reuses_the_connection() {
    let base = server().await;
    let c = client();
    let first = c.execute(Request::new("GET", format!("{base}/"))).await;
    assert!(first.hops[0].timings.connecting > 0.0);
    assert_eq!(c.idle_connections(), 1);
    let second = c.execute(Request::new("GET", format!("{base}/"))).await;
    assert_eq!(second.response.status, 200);
    assert_eq!(second.hops[0].timings.connecting, 0.0);
    assert_eq!(second.hops[0].timings.looking_up, 0.0);
    assert_eq!(c.idle_connections(), 1);
    // Same bytes for the same request on a reused connection.
    assert_eq!(first.hops[0].bytes_sent, second.hops[0].bytes_sent);
}

#[tokio::test]
async fn redirects_are_followed_hop_by_hop() {
    let base = server().await;
    let c = client();
    let ex = c
        .execute(Request::new("GET", format!("{base}/redirect/3")))
        .await;
    assert_eq!(ex.hops.len(), 4);
    assert_eq!(ex.response.status, 200);
    assert_eq!(ex.response.url, format!("{base}/redirect/0"));
    assert_eq!(ex.hops[0].status, 302);
    assert_eq!(ex.hops[3].url, format!("{base}/redirect/0"));
    assert!(!ex.redirect_limit_reached);
    // The request record is the first hop's.
    assert_eq!(ex.response.request.url, format!("{base}/redirect/3"));

    let mut req = Request::new("GET", format!("{base}/redirect/3"));
    req.max_redirects = 1;
    let ex = c.execute(req).await;
    assert_eq!(ex.hops.len(), 2);
    assert_eq!(ex.response.status, 302);
    assert_eq!(ex.response.url, format!("{base}/redirect/2"));
    assert!(ex.redirect_limit_reached);
    assert!(
        ex.redirect_warning()
            .starts_with("Stopped after 2 redirects")
    );

    let mut req = Request::new("GET", format!("{base}/redirect/1"));
    req.max_redirects = 0;
    let ex = c.execute(req).await;
    assert_eq!((ex.hops.len(), ex.response.status), (1, 302));
}

#[tokio::test]
async fn redirect_method_and_body_rules() {
    let base = server().await;
    let c = client();
    let mut req = Request::new("POST", format!("{base}/to/302/echo"));
    req.body = bytes::Bytes::from_static(b"data");
    req.headers
        .push(("Content-Type".into(), "text/plain".into()));
    req.headers.push(("X-Keep".into(), "1".into()));
    let ex = c.execute(req.clone()).await;
    let doc = json(&ex);
    assert_eq!(doc["method"], "GET");
    assert_eq!(doc["body"], "");
    assert_eq!(doc["headers"]["x-keep"], "1");
    assert!(doc["headers"].get("content-type").is_none());
    assert_eq!(doc["headers"]["referer"], format!("{base}/to/302/echo"));
    assert_eq!(ex.hops[1].method, "GET");

    req.url = format!("{base}/to/307/echo");
    let ex = c.execute(req).await;
    let doc = json(&ex);
    assert_eq!(doc["method"], "POST");
    assert_eq!(doc["body"], "data");
    assert_eq!(doc["headers"]["content-type"], "text/plain");
}

#[tokio::test]
async fn cookies_across_requests_redirects_and_reset() {
    let base = server().await;
    let c = client();
    let ex = c
        .execute(Request::new("GET", format!("{base}/cookies/set?a=1")))
        .await;
    assert_eq!(ex.response.cookies.len(), 1);
    assert_eq!(ex.response.cookies[0].name, "a");
    assert_eq!(ex.response.cookies[0].path, "/");
    assert_eq!(ex.response.cookies[0].expires, SESSION_EXPIRES_MS);

    let ex = c.execute(Request::new("GET", format!("{base}/echo"))).await;
    assert_eq!(json(&ex)["headers"]["cookie"], "a=1");

    // Per-request cookies go first; replace hides the jar's cookie of that name.
    let mut req = Request::new("GET", format!("{base}/echo"));
    req.cookies.push(RequestCookie {
        name: "x".into(),
        value: "y".into(),
        replace: false,
    });
    req.cookies.push(RequestCookie {
        name: "a".into(),
        value: "2".into(),
        replace: true,
    });
    req.headers.push(("Cookie".into(), "hdr=1".into()));
    let ex = c.execute(req).await;
    assert_eq!(json(&ex)["headers"]["cookie"], "hdr=1; x=y; a=2");
    assert_eq!(
        ex.response.request.cookies,
        vec![
            ("hdr".to_string(), "1".to_string()),
            ("x".to_string(), "y".to_string()),
            ("a".to_string(), "2".to_string()),
        ]
    );

    // A cookie set by a redirect hop is sent on the next hop.
    let ex = c
        .execute(Request::new("GET", format!("{base}/cookies/hop")))
        .await;
    assert_eq!(json(&ex)["headers"]["cookie"], "a=1; hop=1");

    c.jar().reset();
    let ex = c.execute(Request::new("GET", format!("{base}/echo"))).await;
    assert!(json(&ex)["headers"].get("cookie").is_none());

    // A disabled jar neither sends nor stores.
    let mut req = Request::new("GET", format!("{base}/cookies/set?b=1"));
    req.jar = JarChoice::Disabled;
    c.execute(req).await;
    assert!(c.jar().is_empty());
}

#[tokio::test]
async fn basic_and_digest_auth() {
    let base = server().await;
    let c = client();
    let url = base.replace("http://", "http://user:pw@");
    let ex = c.execute(Request::new("GET", format!("{url}/echo"))).await;
    assert_eq!(json(&ex)["headers"]["authorization"], "Basic dXNlcjpwdw==");
    assert_eq!(ex.hops[0].url, format!("{base}/echo"));
    assert_eq!(ex.response.request.url, format!("{url}/echo"));

    let mut req = Request::new("GET", base.replace("http://", "http://u:p@") + "/digest");
    req.auth = Some(Auth::Digest);
    let ex = c.execute(req).await;
    assert_eq!(ex.hops.len(), 2);
    assert_eq!(ex.hops[0].status, 401);
    assert_eq!(ex.response.status, 200);
    assert_eq!(ex.response.body.as_deref(), Some(&b"authed"[..]));
}

#[tokio::test]
async fn gzip_bodies_are_decoded() {
    let base = server().await;
    let c = client();
    let ex = c.execute(Request::new("GET", format!("{base}/gzip"))).await;
    let body = ex.response.body.clone().unwrap();
    assert_eq!(body.as_ref(), b"hello gzip ".repeat(100).as_slice());
    assert!(ex.hops[0].bytes_received < body.len() as u64);
    assert!(
        ex.response
            .headers
            .iter()
            .any(|(k, v)| k == "Content-Encoding" && v == "gzip")
    );

    let mut req = Request::new("GET", format!("{base}/gzip"));
    req.response_type = ResponseType::None;
    let ex = c.execute(req).await;
    assert!(ex.response.body.is_none());
    assert_eq!(ex.response.status, 200);
}

#[tokio::test]
async fn status_codes_map_to_error_codes() {
    let base = server().await;
    let ex = client()
        .execute(Request::new("GET", format!("{base}/status/503")))
        .await;
    assert_eq!(ex.response.status, 503);
    assert_eq!(ex.response.error_code, 1503);
    assert_eq!(ex.response.error, "");
    assert_eq!(ex.hops[0].error_code, 1503);
}

#[tokio::test]
async fn timeout_gives_1050() {
    let base = server().await;
    let c = client();
    let mut req = Request::new("GET", format!("{base}/delay/2000"));
    req.timeout = Duration::from_millis(100);
    let ex = c.execute(req).await;
    assert_eq!(ex.response.status, 0);
    assert_eq!(ex.response.error_code, 1050);
    assert_eq!(ex.response.error, "request timeout");
    assert!(ex.hops[0].timings.waiting > 0.0);
    assert_eq!(c.idle_connections(), 0);
}

#[tokio::test]
async fn connection_refused_gives_1212() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    let ex = client()
        .execute(Request::new("GET", format!("http://{addr}/x")))
        .await;
    let r = &ex.response;
    assert_eq!((r.status, r.error_code), (0, 1212));
    assert_eq!(r.error, "dial: connection refused");
    assert_eq!(r.status_text, "");
    assert_eq!(r.proto, "");
    assert_eq!(r.timings, Timings::default());
    let e = ex.hops[0].error.as_ref().unwrap();
    assert_eq!(
        e.log_detail("GET", &r.url),
        format!("Get \"http://{addr}/x\": dial tcp {addr}: connect: connection refused")
    );
}

#[tokio::test]
async fn invalid_url_and_scheme() {
    let c = client();
    let ex = c.execute(Request::new("GET", "not a url")).await;
    assert_eq!(ex.response.error_code, 1020);
    let ex = c.execute(Request::new("GET", "ftp://127.0.0.1/")).await;
    assert_eq!(ex.response.error_code, 1000);
    assert_eq!(ex.hops.len(), 1);
}

#[tokio::test]
async fn concurrent_requests_on_one_client() {
    let base = server().await;
    let c = client();
    let futs = (0..5).map(|_| c.execute(Request::new("GET", format!("{base}/delay/50"))));
    let results = futures_util::future::join_all(futs).await;
    assert!(results.iter().all(|ex| ex.response.status == 200));
    assert_eq!(c.idle_connections(), 5);
    let again = c.execute(Request::new("GET", format!("{base}/"))).await;
    assert_eq!(again.hops[0].timings.connecting, 0.0);
}

#[tokio::test]
async fn dropped_future_leaves_client_usable() {
    let base = server().await;
    let c = client();
    c.execute(Request::new("GET", format!("{base}/"))).await;
    let slow = c.execute(Request::new("GET", format!("{base}/delay/5000")));
    assert!(
        tokio::time::timeout(Duration::from_millis(50), slow)
            .await
            .is_err()
    );
    let ex = c.execute(Request::new("GET", format!("{base}/"))).await;
    assert_eq!(ex.response.status, 200);
    assert_eq!(ex.response.body.as_deref(), Some(&b"ok"[..]));
}

#[tokio::test]
async fn server_closing_idle_connection_is_retried() {
    // A raw server that answers one request per connection, then closes without saying so.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        loop {
            let Ok((mut s, _)) = listener.accept().await else {
                return;
            };
            let mut buf = [0u8; 1024];
            let _ = s.read(&mut buf).await;
            let _ = s
                .write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
                .await;
            let _ = s.shutdown().await;
        }
    });
    let c = client();
    for _ in 0..3 {
        let ex = c
            .execute(Request::new("GET", format!("http://{addr}/")))
            .await;
        assert_eq!(ex.response.status, 200, "{:?}", ex.response.error);
    }
}

#[tokio::test]
async fn hosts_override_and_host_header() {
    let base = server().await;
    let port = base.rsplit(':').next().unwrap().to_string();
    let cfg = ClientConfig {
        net: std::sync::Arc::new(
            crate::engine::options::network::NetworkOptions::with_hosts(&[(
                "test.k6.local",
                "127.0.0.1",
            )])
            .unwrap(),
        ),
        ..Default::default()
    };
    let c = HttpClient::new(cfg);
    let ex = c
        .execute(Request::new(
            "GET",
            format!("http://test.k6.local:{port}/echo"),
        ))
        .await;
    assert_eq!(
        json(&ex)["headers"]["host"],
        format!("test.k6.local:{port}")
    );
    let mut req = Request::new("GET", format!("{base}/echo"));
    req.headers.push(("Host".into(), "virtual.example".into()));
    let ex = c.execute(req).await;
    assert_eq!(json(&ex)["headers"]["host"], "virtual.example");
}

#[tokio::test]
async fn request_body_compression() {
    let base = server().await;
    let mut req = Request::new("POST", format!("{base}/echo"));
    req.body = bytes::Bytes::from_static(b"abc");
    req.compression = vec![Compression::Gzip];
    let ex = client().execute(req).await;
    assert_eq!(json(&ex)["headers"]["content-encoding"], "gzip");
}

#[tokio::test]
async fn wire_format_matches_go() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (tx, rx) = tokio::sync::oneshot::channel();
    tokio::spawn(async move {
        let (mut s, _) = listener.accept().await.unwrap();
        let mut got = Vec::new();
        let mut buf = [0u8; 4096];
        while !got.ends_with(b"body") {
            let n = s.read(&mut buf).await.unwrap();
            if n == 0 {
                break;
            }
            got.extend_from_slice(&buf[..n]);
        }
        s.write_all(b"HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n")
            .await
            .unwrap();
        let _ = tx.send(got);
    });
    let mut req = Request::new("POST", format!("http://{addr}/p?q=1"));
    req.body = bytes::Bytes::from_static(b"body");
    req.headers = vec![
        ("x-b".into(), "2".into()),
        ("content-type".into(), "text/plain".into()),
        ("A-a".into(), "1".into()),
    ];
    let ex = client().execute(req).await;
    assert_eq!(ex.response.status_text, "201 Created");
    let got = String::from_utf8(rx.await.unwrap()).unwrap();
    let expected = format!(
        "POST /p?q=1 HTTP/1.1\r\nHost: {addr}\r\nUser-Agent: Grafana k6/1.1.0\r\nContent-Length: 4\r\nA-A: 1\r\nContent-Type: text/plain\r\nX-B: 2\r\n\r\nbody"
    );
    assert_eq!(got, expected);
    assert_eq!(ex.hops[0].bytes_sent, expected.len() as u64);
}
