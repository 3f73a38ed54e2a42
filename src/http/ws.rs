//! WebSocket client connections for `k6/ws` and `k6/websockets`: [`dial`] resolves, dials (TLS for
//! `wss://`, HTTP/1.1 only, as k6 forces) and runs the upgrade handshake with tokio-tungstenite;
//! [`run_session`] then pumps frames both ways until the socket closes, reporting each event to
//! a callback. Bytes are counted on the socket, like every HTTP connection ([`super::io`]).
//! No JS here: the bindings in `js::modules` turn [`WsEvent`]s into script callbacks.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use tokio::sync::mpsc;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::{Error as WsError, Message};
use tokio_util::sync::CancellationToken;

use super::conn::{self, ConnectOptions, ConnectTimings, PoolKey};
use super::error_code::HttpError;
use super::io::{ByteCounts, ConnStats, Stream};

/// k6's handshake timeout (gorilla's dialer, `HandshakeTimeout: 60s`).
pub const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(60);

/// What a WebSocket dial needs.
#[derive(Clone, Debug)]
pub struct DialOptions {
    /// Request headers (User-Agent, the script's headers, Cookie).
    pub headers: Vec<(String, String)>,
    /// `Sec-WebSocket-Protocol` offers.
    pub subprotocols: Vec<String>,
    /// The VU's HTTP client settings: hosts, blacklists, local address, TLS.
    pub client: super::ClientConfig,
}

/// The server's answer to the upgrade request.
#[derive(Clone, Debug, Default)]
pub struct Handshake {
    pub status: u16,
    /// Header names in Go's canonical form, values joined with `, ` (as k6's `res.headers`).
    pub headers: Vec<(String, String)>,
    pub body: String,
    /// The subprotocol the server chose (empty if none).
    pub subprotocol: String,
}

/// A failed dial: k6's error text, and the server's answer when there was one (a non-101 status).
#[derive(Clone, Debug)]
pub struct DialError {
    pub message: String,
    pub response: Option<Handshake>,
}

/// An open WebSocket and the byte counters of its socket.
pub struct Session {
    stream: WebSocketStream<Stream>,
    pub remote: SocketAddr,
    pub counters: Counters,
}

/// Byte counters of one socket; [`Counters::take`] returns what crossed it since the last call.
#[derive(Clone)]
pub struct Counters {
    stats: Arc<ConnStats>,
    seen: std::rc::Rc<std::cell::Cell<ByteCounts>>,
}

impl Counters {
    /// Counters over a socket's statistics (shared with `k6/net/grpc` connections).
    pub(crate) fn new(stats: Arc<ConnStats>) -> Self {
        Counters {
            stats,
            seen: Default::default(),
        }
    }

    /// (sent, received) bytes since the last call.
    pub fn take(&self) -> (u64, u64) {
        let now = self.stats.bytes();
        let before = self.seen.replace(now);
        (
            now.written.saturating_sub(before.written),
            now.read.saturating_sub(before.read),
        )
    }
}

/// Opens a WebSocket to `url` (`ws://` or `wss://`). The dial and the handshake are bounded by
/// [`HANDSHAKE_TIMEOUT`]. On failure the bytes that crossed the socket are lost to the metrics,
/// as are k6's (they are tiny).
pub async fn dial(url: &url::Url, opts: &DialOptions) -> Result<(Session, Handshake), DialError> {
    match tokio::time::timeout(HANDSHAKE_TIMEOUT, dial_inner(url, opts)).await {
        Ok(r) => r,
        Err(_) => Err(DialError {
            message: "websocket: handshake timeout".to_string(),
            response: None,
        }),
    }
}

async fn dial_inner(url: &url::Url, opts: &DialOptions) -> Result<(Session, Handshake), DialError> {
    let plain = |message: String| DialError {
        message,
        response: None,
    };
    let https = match url.scheme() {
        "ws" => false,
        "wss" => true,
        other => return Err(plain(format!("malformed ws or wss URL: scheme {other:?}"))),
    };
    let host = url
        .host_str()
        .ok_or_else(|| plain("malformed ws or wss URL".to_string()))?
        .to_string();
    let key = PoolKey {
        https,
        host,
        port: url
            .port_or_known_default()
            .unwrap_or(if https { 443 } else { 80 }),
    };
    let client = &opts.client;
    let connect_opts = ConnectOptions {
        net: &client.net,
        local_ip: client.local_ip,
        insecure_skip_tls_verify: client.insecure_skip_tls_verify,
        tls: client.tls.as_ref(),
        resolver: client.resolver.as_deref(),
        // k6's ws modules set NextProtos to http/1.1 only.
        http2: false,
    };
    let mut timings = ConnectTimings::default();
    let dialed = conn::open_stream(&key, &connect_opts, &mut timings)
        .await
        .map_err(|e| plain(go_dial_error(&e)))?;
    let stats = dialed.stats.clone();
    let remote = dialed.remote;

    let mut request = url
        .as_str()
        .into_client_request()
        .map_err(|e| plain(e.to_string()))?;
    let headers = request.headers_mut();
    for (k, v) in &opts.headers {
        let (Ok(name), Ok(value)) = (
            k.parse::<tokio_tungstenite::tungstenite::http::HeaderName>(),
            HeaderValue::from_str(v),
        ) else {
            return Err(plain(format!("invalid header {k:?}")));
        };
        headers.insert(name, value);
    }
    if !opts.subprotocols.is_empty() {
        let offer = opts.subprotocols.join(", ");
        let value = HeaderValue::from_str(&offer).map_err(|e| plain(e.to_string()))?;
        headers.insert("sec-websocket-protocol", value);
    }
    match tokio_tungstenite::client_async_with_config(request, dialed.stream, None).await {
        Ok((stream, response)) => {
            let subprotocol = response
                .headers()
                .get("sec-websocket-protocol")
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_string();
            let handshake = Handshake {
                status: response.status().as_u16(),
                headers: canonical_headers(response.headers()),
                body: String::new(),
                subprotocol,
            };
            let counters = Counters {
                stats,
                seen: Default::default(),
            };
            Ok((
                Session {
                    stream,
                    remote,
                    counters,
                },
                handshake,
            ))
        }
        Err(WsError::Http(response)) => {
            let handshake = Handshake {
                status: response.status().as_u16(),
                headers: canonical_headers(response.headers()),
                body: response
                    .body()
                    .as_ref()
                    .map(|b| String::from_utf8_lossy(b).into_owned())
                    .unwrap_or_default(),
                subprotocol: String::new(),
            };
            Err(DialError {
                message: "websocket: bad handshake".to_string(),
                response: Some(handshake),
            })
        }
        Err(e) => Err(plain(e.to_string())),
    }
}

/// The Go error text k6 shows for a failed dial (`dial tcp 127.0.0.1:1: connect: connection
/// refused`).
pub(crate) fn go_dial_error(e: &HttpError) -> String {
    match e {
        HttpError::ConnectionRefused { addr } => {
            format!("dial tcp {addr}: connect: connection refused")
        }
        HttpError::Dial { addr, message, .. } => format!("dial tcp {addr}: connect: {message}"),
        HttpError::NoSuchHost { host } => format!("dial tcp: lookup {host}: no such host"),
        HttpError::Dns { host, message } => format!("dial tcp: lookup {host}: {message}"),
        other => other.to_string(),
    }
}

fn canonical_headers(
    map: &tokio_tungstenite::tungstenite::http::HeaderMap,
) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    for (name, value) in map {
        let name = canonical_name(name.as_str());
        let value = String::from_utf8_lossy(value.as_bytes()).into_owned();
        match out.iter_mut().find(|(n, _)| *n == name) {
            Some((_, v)) => {
                v.push_str(", ");
                v.push_str(&value);
            }
            None => out.push((name, value)),
        }
    }
    out
}

/// Go's `CanonicalMIMEHeaderKey`: `sec-websocket-accept` -> `Sec-Websocket-Accept`.
fn canonical_name(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut upper = true;
    for c in name.chars() {
        out.push(if upper {
            c.to_ascii_uppercase()
        } else {
            c.to_ascii_lowercase()
        });
        upper = c == '-';
    }
    out
}

/// What the script asks a session to send.
#[derive(Debug)]
pub enum Outgoing {
    Text(String),
    Binary(Vec<u8>),
    Ping(Vec<u8>),
    /// A close frame with this code and reason; the session then waits for the server's close.
    Close(u16, String),
}

/// What happened on a session.
#[derive(Debug)]
pub enum WsEvent {
    Text(String, Instant),
    Binary(Vec<u8>, Instant),
    /// The server pinged (the pong is sent automatically).
    Ping,
    /// The server answered one of our pings with this payload.
    Pong(Vec<u8>, Instant),
    /// A read or write failed (Go's error text); `Closed` follows.
    Error(String),
    /// The socket is closed: the close code (1006 when there was no close frame) and reason.
    Closed {
        code: u16,
        reason: String,
    },
}

/// How long a closing session waits for the server's close frame before dropping the socket.
const CLOSE_WAIT: Duration = Duration::from_secs(2);

/// Runs `session` until it closes: sends what arrives on `outgoing`, reports every frame and
/// the end to `on_event`. `cancel` (the VU stops) sends a `1001 going away` close. When every
/// sender of `outgoing` is dropped the session closes with 1001 too. `Closed` is always the
/// last event.
pub async fn run_session(
    session: Session,
    mut outgoing: mpsc::UnboundedReceiver<Outgoing>,
    mut on_event: impl FnMut(WsEvent),
    cancel: CancellationToken,
) {
    let (mut sink, mut stream) = session.stream.split();
    let mut closing: Option<Instant> = None;
    let mut open_outgoing = true;
    loop {
        let deadline = closing.map(|t| t + CLOSE_WAIT);
        let wait_close = async {
            match deadline {
                Some(d) => tokio::time::sleep_until(d.into()).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            out = outgoing.recv(), if open_outgoing && closing.is_none() => {
                let frame = match out {
                    Some(Outgoing::Text(s)) => Message::text(s),
                    Some(Outgoing::Binary(b)) => Message::binary(b),
                    Some(Outgoing::Ping(p)) => Message::Ping(p.into()),
                    Some(Outgoing::Close(code, reason)) => {
                        closing = Some(Instant::now());
                        Message::Close(Some(CloseFrame {
                            code: CloseCode::from(code),
                            reason: reason.into(),
                        }))
                    }
                    None => {
                        open_outgoing = false;
                        closing = Some(Instant::now());
                        Message::Close(Some(CloseFrame {
                            code: CloseCode::Away,
                            reason: "".into(),
                        }))
                    }
                };
                if let Err(e) = sink.send(frame).await {
                    on_event(WsEvent::Error(go_io_error(&e)));
                    on_event(WsEvent::Closed { code: 1006, reason: String::new() });
                    return;
                }
            }
            msg = stream.next() => match msg {
                Some(Ok(Message::Text(t))) => on_event(WsEvent::Text(t.to_string(), Instant::now())),
                Some(Ok(Message::Binary(b))) => on_event(WsEvent::Binary(b.to_vec(), Instant::now())),
                Some(Ok(Message::Ping(_))) => on_event(WsEvent::Ping),
                Some(Ok(Message::Pong(p))) => on_event(WsEvent::Pong(p.to_vec(), Instant::now())),
                Some(Ok(Message::Close(frame))) => {
                    // tungstenite answers the close; the stream then ends.
                    let (code, reason) = frame
                        .map(|f| (u16::from(f.code), f.reason.to_string()))
                        .unwrap_or((1005, String::new()));
                    let _ = sink.flush().await;
                    on_event(WsEvent::Closed { code, reason });
                    return;
                }
                Some(Ok(Message::Frame(_))) => {}
                Some(Err(e)) => {
                    on_event(WsEvent::Error(go_io_error(&e)));
                    on_event(WsEvent::Closed { code: 1006, reason: String::new() });
                    return;
                }
                None => {
                    on_event(WsEvent::Closed { code: 1006, reason: String::new() });
                    return;
                }
            },
            _ = cancel.cancelled(), if closing.is_none() => {
                closing = Some(Instant::now());
                let _ = sink
                    .send(Message::Close(Some(CloseFrame {
                        code: CloseCode::Away,
                        reason: "".into(),
                    })))
                    .await;
            }
            _ = wait_close => {
                on_event(WsEvent::Closed { code: 1006, reason: String::new() });
                return;
            }
        }
    }
}

/// gorilla's wording for the common read/write failures.
fn go_io_error(e: &WsError) -> String {
    match e {
        WsError::ConnectionClosed | WsError::AlreadyClosed => "websocket: close sent".to_string(),
        WsError::Protocol(p) => {
            let text = p.to_string();
            if text.contains("without closing handshake") {
                "websocket: close 1006 (abnormal closure): unexpected EOF".to_string()
            } else {
                text
            }
        }
        WsError::Io(io) => io.to_string(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_names_are_canonical() {
        assert_eq!(
            canonical_name("sec-websocket-accept"),
            "Sec-Websocket-Accept"
        );
        assert_eq!(canonical_name("upgrade"), "Upgrade");
    }
}
