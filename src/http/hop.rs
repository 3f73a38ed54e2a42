//! One hop: get a connection (pooled, else new), write the request, read the whole response, and
//! measure it the way k6's httptrace does: `blocked` until a connection is in hand (DNS, connect
//! and TLS inside it), `sending` until the last byte of the request was written, `waiting` until
//! the first response byte, `receiving` until the body ended; bytes from the socket counters.
//! The deadline covers all of it; on expiry the timings say how far the hop got.
//! On HTTP/2 the socket is shared by concurrent streams and carries frames of its own (SETTINGS,
//! WINDOW_UPDATE), so `waiting` ends when the response head arrived (Go's GotFirstResponseByte on
//! h2 is the HEADERS frame) and bytes are claimed from the connection's counters once each.

use std::net::SocketAddr;
use std::sync::Arc;

use bytes::{Bytes, BytesMut};
use http::HeaderMap;
use http_body_util::{BodyExt, Full};
use tokio::time::Instant;

use super::conn::{self, Conn, ConnectOptions, ConnectTimings, Pool, PoolKey};
use super::error_code::{self, HttpError};
use super::io::{ByteCounts, ConnStats};
use super::types::Timings;

/// What one hop sends.
pub(crate) struct HopRequest<'a> {
    pub method: &'a str,
    /// Origin-form target (`/path?query`).
    pub target: &'a str,
    pub headers: HeaderMap,
    pub body: Bytes,
    /// Keep the body bytes (else they are read and dropped).
    pub keep_body: bool,
}

/// A complete response (body still encoded).
pub(crate) struct RawResponse {
    pub status: u16,
    /// `HTTP/1.1` or `HTTP/1.0`, as the status line said, or `HTTP/2.0`.
    pub proto: &'static str,
    pub status_text: String,
    pub headers: HeaderMap,
    pub body: Bytes,
}

/// How a hop went, also when it failed.
pub(crate) struct HopOutcome {
    pub timings: Timings,
    pub bytes: ByteCounts,
    pub tls_version: &'static str,
    pub tls_suite: Arc<str>,
    pub remote: Option<SocketAddr>,
    pub result: Result<RawResponse, HttpError>,
}

/// Progress of a hop, kept outside the timed future so a timeout can still report it.
struct Progress {
    start: Instant,
    got_conn: Option<Instant>,
    connect: ConnectTimings,
    stats: Option<Arc<ConnStats>>,
    base_bytes: ByteCounts,
    end: Option<Instant>,
    tls_version: &'static str,
    tls_suite: Arc<str>,
    remote: Option<SocketAddr>,
    /// The connection speaks HTTP/2.
    h2: bool,
    /// When the response head arrived.
    head_at: Option<Instant>,
}

/// Sends one hop and measures it.
pub(crate) async fn send(
    pool: &Pool,
    key: &PoolKey,
    opts: &ConnectOptions<'_>,
    req: HopRequest<'_>,
    deadline: Instant,
) -> HopOutcome {
    let mut p = Progress {
        start: Instant::now(),
        got_conn: None,
        connect: ConnectTimings::default(),
        stats: None,
        base_bytes: ByteCounts::default(),
        end: None,
        tls_version: "",
        tls_suite: Arc::from(""),
        remote: None,
        h2: false,
        head_at: None,
    };
    let result = match tokio::time::timeout_at(deadline, run(pool, key, opts, req, &mut p)).await {
        Ok(r) => r,
        Err(_) => Err(HttpError::Timeout),
    };
    let now = Instant::now();
    let end = p.end.unwrap_or(now);
    let ms = |d: std::time::Duration| d.as_secs_f64() * 1000.0;
    let mut t = Timings::default();
    let mut bytes = ByteCounts::default();
    if let (Some(got), Some(stats)) = (p.got_conn, &p.stats) {
        t.blocked = ms(got - p.start);
        t.looking_up = ms(p.connect.looking_up);
        t.connecting = ms(p.connect.connecting);
        t.tls_handshaking = ms(p.connect.tls_handshaking);
        let (wrote_at, first_at) = if p.h2 {
            let head = p.head_at.unwrap_or(end).max(got);
            let wrote = stats.first_write().map(Instant::from_std);
            let wrote_at = wrote.unwrap_or(head).clamp(got, head);
            (wrote_at, head)
        } else {
            let wrote = stats.last_write().map(Instant::from_std);
            let first = stats.first_read().map(Instant::from_std);
            let wrote_at = wrote.unwrap_or(end).max(got);
            (wrote_at, first.unwrap_or(end).max(wrote_at))
        };
        t.sending = ms(wrote_at - got);
        t.waiting = ms(first_at - wrote_at);
        t.receiving = ms(end.max(first_at) - first_at);
        t.duration = t.sending + t.waiting + t.receiving;
        bytes = if p.h2 {
            stats.claim()
        } else {
            let now_bytes = stats.bytes();
            ByteCounts {
                read: now_bytes.read - p.base_bytes.read,
                written: now_bytes.written - p.base_bytes.written,
            }
        };
    }
    HopOutcome {
        timings: t,
        bytes,
        tls_version: p.tls_version,
        tls_suite: p.tls_suite,
        remote: p.remote,
        result,
    }
}

async fn run(
    pool: &Pool,
    key: &PoolKey,
    opts: &ConnectOptions<'_>,
    mut req: HopRequest<'_>,
    p: &mut Progress,
) -> Result<RawResponse, HttpError> {
    let mut retried = false;
    loop {
        let (mut conn, reused) = acquire(pool, key, opts, p).await?;
        let got = Instant::now();
        p.got_conn = Some(got);
        p.stats = Some(conn.stats.clone());
        p.base_bytes = if reused {
            conn.stats.bytes()
        } else {
            ByteCounts::default()
        };
        p.tls_version = conn.tls_version;
        p.tls_suite = conn.tls_suite.clone();
        p.remote = Some(conn.remote);
        p.h2 = conn.sender.is_http2();
        conn.stats.begin_request();

        // Keep a copy of the headers only when a retry may need them.
        let mut headers = if reused && !retried {
            req.headers.clone()
        } else {
            std::mem::take(&mut req.headers)
        };
        let builder = http::Request::builder().method(req.method);
        let mut builder = if p.h2 {
            // HTTP/2 carries the host as `:authority` (Go: `req.Host`, else the URL's host).
            let authority = headers
                .remove(http::header::HOST)
                .and_then(|h| h.to_str().ok().map(str::to_owned))
                .unwrap_or_else(|| format!("{}:{}", key.host, key.port));
            builder.uri(format!("https://{authority}{}", req.target))
        } else {
            builder.uri(req.target)
        };
        if let Some(h) = builder.headers_mut() {
            *h = headers;
        }
        let request = builder
            .body(Full::new(req.body.clone()))
            .map_err(|e| HttpError::Other(format!("invalid request: {e}")))?;
        let response = match conn.sender.send(request).await {
            Ok(r) => {
                p.head_at = Some(Instant::now());
                r
            }
            Err(e) => {
                // A kept-alive connection the server closed meanwhile: retry once on a new one,
                // as Go does, if nothing of a response arrived.
                let nothing_read = conn.stats.bytes().read == p.base_bytes.read;
                if reused && !retried && nothing_read {
                    retried = true;
                    p.start = Instant::now();
                    continue;
                }
                return Err(error_code::from_hyper_error(&e));
            }
        };
        let (parts, mut body) = response.into_parts();
        let mut data = BytesMut::new();
        let cap = super::limits::max_response_body();
        while let Some(frame) = body.frame().await {
            let frame = frame.map_err(|e| error_code::from_hyper_error(&e))?;
            // Bodies not kept are dropped as they arrive; kept ones are capped.
            if let (true, Ok(chunk)) = (req.keep_body, frame.into_data()) {
                if data.len() + chunk.len() > cap {
                    return Err(HttpError::BodyTooLarge { limit: cap });
                }
                data.extend_from_slice(&chunk);
            }
        }
        p.end = Some(Instant::now());
        let close = parts
            .headers
            .get(http::header::CONNECTION)
            .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"close"));
        if !close {
            pool.put(key, conn);
        }
        let status_text = match parts.extensions.get::<hyper::ext::ReasonPhrase>() {
            Some(r) => format!(
                "{} {}",
                parts.status.as_u16(),
                String::from_utf8_lossy(r.as_bytes())
            ),
            None => format!(
                "{} {}",
                parts.status.as_u16(),
                parts.status.canonical_reason().unwrap_or("")
            )
            .trim_end()
            .to_string(),
        };
        let proto = match parts.version {
            http::Version::HTTP_10 => "HTTP/1.0",
            http::Version::HTTP_2 => "HTTP/2.0",
            _ => "HTTP/1.1",
        };
        return Ok(RawResponse {
            status: parts.status.as_u16(),
            proto,
            status_text,
            headers: parts.headers,
            body: data.freeze(),
        });
    }
}

/// A ready connection: the most recent idle one, else a new one.
async fn acquire(
    pool: &Pool,
    key: &PoolKey,
    opts: &ConnectOptions<'_>,
    p: &mut Progress,
) -> Result<(Conn, bool), HttpError> {
    while let Some(mut c) = pool.take(key) {
        if c.sender.ready().await.is_ok() {
            p.connect = ConnectTimings::default();
            return Ok((c, true));
        }
    }
    let c = conn::connect(key, opts, &mut p.connect).await?;
    Ok((c, false))
}
