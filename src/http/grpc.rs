//! gRPC client connections for `k6/net/grpc`: [`dial`] opens one HTTP/2 connection (h2c with
//! `plaintext`, TLS with ALPN `h2` otherwise) through the same dialer as `k6/http` (hosts,
//! blacklists, local IPs, byte counting); [`Channel::unary`] and [`Channel::stream`] run calls
//! on it. Every failure becomes a [`Status`] as grpc-go reports it (transport errors are
//! `Unavailable`, an expired deadline `DeadlineExceeded`). No JS and no descriptors here:
//! messages are encoded bytes.

use std::net::SocketAddr;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::combinators::UnsyncBoxBody;
use http_body_util::{BodyExt, Full, StreamBody};
use hyper::body::{Frame, Incoming};
use hyper::client::conn::http2;
use hyper_util::rt::{TokioExecutor, TokioIo};
use tokio::sync::mpsc;

use super::conn::{self, ConnectOptions, ConnectTimings, PoolKey};
use super::ws::Counters;
use crate::grpc::{Status, code, wire};

/// grpc-go's default limit on a received message (4 MiB).
pub const DEFAULT_MAX_RECEIVE: usize = 4 * 1024 * 1024;
/// grpc-go's default limit on a sent message.
pub const DEFAULT_MAX_SEND: usize = i32::MAX as usize;

type Body = UnsyncBoxBody<Bytes, std::io::Error>;

/// What `client.connect` needs.
#[derive(Clone, Debug)]
pub struct DialOptions {
    pub plaintext: bool,
    pub timeout: Duration,
    pub max_receive: usize,
    pub max_send: usize,
    pub user_agent: String,
    /// The VU's HTTP client settings (hosts, blacklists, local IP, TLS).
    pub client: super::ClientConfig,
}

/// One connection of a client.
#[derive(Clone)]
pub struct Channel {
    sender: http2::SendRequest<Body>,
    authority: String,
    https: bool,
    pub remote: SocketAddr,
    pub counters: Counters,
    max_receive: usize,
    max_send: usize,
    user_agent: String,
}

/// Per-call settings.
#[derive(Clone, Debug, Default)]
pub struct CallOptions {
    /// Metadata as header name and value (`-bin` values raw; they are base64-encoded here).
    pub metadata: Vec<(String, Vec<u8>)>,
    pub timeout: Option<Duration>,
}

/// Metadata the server sent: name and values, in arrival order.
pub type Metadata = Vec<(String, Vec<String>)>;

/// A unary call's outcome.
#[derive(Debug)]
pub struct Reply {
    pub status: Status,
    pub headers: Metadata,
    pub trailers: Metadata,
    /// The response message (encoded), when one arrived.
    pub message: Option<Bytes>,
}

/// What a stream reports, in order: headers once (if the server answered), messages, the end.
#[derive(Debug)]
pub enum StreamEvent {
    Message(Bytes),
    /// The stream is over: the status (OK for a clean end) and the trailers.
    End(Status, Metadata),
}

/// Opens a connection to `addr` (`host:port`) within `opts.timeout`.
pub async fn dial(addr: &str, opts: &DialOptions) -> Result<Channel, String> {
    match tokio::time::timeout(opts.timeout, dial_inner(addr, opts)).await {
        Ok(r) => r,
        Err(_) => Err("context deadline exceeded".to_string()),
    }
}

fn connection_error(detail: &str) -> String {
    format!("connection error: desc = \"transport: error while dialing: {detail}\"")
}

async fn dial_inner(addr: &str, opts: &DialOptions) -> Result<Channel, String> {
    let (host, port) = split_host_port(addr).ok_or_else(|| {
        connection_error(&format!(
            "dial tcp: address {addr}: missing port in address"
        ))
    })?;
    let key = PoolKey {
        https: !opts.plaintext,
        host: host.to_string(),
        port,
    };
    let client = &opts.client;
    let connect_opts = ConnectOptions {
        net: &client.net,
        local_ip: client.local_ip,
        insecure_skip_tls_verify: client.insecure_skip_tls_verify,
        tls: client.tls.as_ref(),
        resolver: client.resolver.as_deref(),
        http2: true,
    };
    let mut timings = ConnectTimings::default();
    let dialed = conn::open_stream(&key, &connect_opts, &mut timings)
        .await
        .map_err(|e| connection_error(&super::ws::go_dial_error(&e)))?;
    let counters = Counters::new(dialed.stats.clone());
    let remote = dialed.remote;
    let (sender, connection) = http2::Builder::new(TokioExecutor::new())
        .max_frame_size(16 * 1024)
        .handshake(TokioIo::new(dialed.stream))
        .await
        .map_err(|e| connection_error(&e.to_string()))?;
    tokio::spawn(async move {
        if let Err(e) = connection.await {
            tracing::debug!(error = %e, "grpc connection ended with an error");
        }
    });
    Ok(Channel {
        sender,
        authority: addr.to_string(),
        https: !opts.plaintext,
        remote,
        counters,
        max_receive: opts.max_receive,
        max_send: opts.max_send,
        user_agent: opts.user_agent.clone(),
    })
}

/// `host:port`, `[v6]:port`.
fn split_host_port(addr: &str) -> Option<(&str, u16)> {
    let (host, port) = addr.rsplit_once(':')?;
    let host = host.trim_start_matches('[').trim_end_matches(']');
    Some((host, port.parse().ok()?))
}

impl Channel {
    pub fn is_closed(&self) -> bool {
        self.sender.is_closed()
    }

    fn request(
        &self,
        method: &str,
        opts: &CallOptions,
        body: Body,
    ) -> Result<http::Request<Body>, Status> {
        let scheme = if self.https { "https" } else { "http" };
        let mut req = http::Request::builder()
            .method(http::Method::POST)
            .uri(format!("{scheme}://{}{method}", self.authority))
            .header("content-type", "application/grpc")
            .header("te", "trailers")
            .header(
                "user-agent",
                format!("{} grpc-rust-loadgate", self.user_agent),
            );
        if let Some(t) = opts.timeout {
            req = req.header("grpc-timeout", wire::timeout_header(t));
        }
        for (k, v) in &opts.metadata {
            let value = if k.ends_with("-bin") {
                use base64::Engine as _;
                base64::engine::general_purpose::STANDARD_NO_PAD.encode(v)
            } else {
                String::from_utf8_lossy(v).into_owned()
            };
            req = req.header(k.to_ascii_lowercase(), value);
        }
        req.body(body)
            .map_err(|e| Status::new(code::INTERNAL, format!("grpc: {e}")))
    }

    /// Sends a request and waits for the response head (a trailers-only answer included).
    async fn start(&self, req: http::Request<Body>) -> Result<http::Response<Incoming>, Status> {
        let mut sender = self.sender.clone();
        sender.ready().await.map_err(|e| transport_status(&e))?;
        sender
            .send_request(req)
            .await
            .map_err(|e| transport_status(&e))
    }

    /// A unary call (or any call sending one message and reading one, as reflection does).
    pub async fn unary(&self, method: &str, message: Bytes, opts: &CallOptions) -> Reply {
        let fail = |status: Status| Reply {
            status,
            headers: Vec::new(),
            trailers: Vec::new(),
            message: None,
        };
        if message.len() > self.max_send {
            return fail(Status::new(
                code::RESOURCE_EXHAUSTED,
                format!(
                    "grpc: trying to send message larger than max ({} vs. {})",
                    message.len(),
                    self.max_send
                ),
            ));
        }
        let body = Full::new(wire::frame(&message))
            .map_err(|never| match never {})
            .boxed_unsync();
        let work = async {
            let req = self.request(method, opts, body)?;
            let res = self.start(req).await?;
            Ok::<_, Status>(self.read_unary(res).await)
        };
        let outcome = match opts.timeout {
            Some(t) => match tokio::time::timeout(t, work).await {
                Ok(r) => r,
                Err(_) => Err(Status::new(
                    code::DEADLINE_EXCEEDED,
                    "context deadline exceeded",
                )),
            },
            None => work.await,
        };
        outcome.unwrap_or_else(fail)
    }

    async fn read_unary(&self, res: http::Response<Incoming>) -> Reply {
        let headers = metadata_of(res.headers());
        let mut reply = Reply {
            status: Status::ok(),
            headers,
            trailers: Vec::new(),
            message: None,
        };
        if let Some(status) = head_status(&res) {
            reply.status = status;
            if let Some(s) = status_of(res.headers()) {
                reply.status = s;
                reply.trailers = std::mem::take(&mut reply.headers);
            }
            if !reply.status.is_ok() || res.status() != http::StatusCode::OK {
                return reply;
            }
        }
        let mut body = res.into_body();
        let mut decoder = wire::Decoder::default();
        let mut count = 0usize;
        loop {
            match body.frame().await {
                None => {
                    reply.status = Status::new(
                        code::INTERNAL,
                        "server closed the stream without sending trailers",
                    );
                    return reply;
                }
                Some(Err(e)) => {
                    reply.status = transport_status(&e);
                    return reply;
                }
                Some(Ok(frame)) => match frame.into_data() {
                    Ok(data) => {
                        decoder.push(&data);
                        loop {
                            match decoder.next_message(self.max_receive) {
                                Ok(Some(m)) => {
                                    count += 1;
                                    if reply.message.is_none() {
                                        reply.message = Some(m);
                                    }
                                }
                                Ok(None) => break,
                                Err(e) => {
                                    reply.status =
                                        Status::new(code::RESOURCE_EXHAUSTED, e.to_string());
                                    return reply;
                                }
                            }
                        }
                    }
                    Err(frame) => {
                        if let Ok(trailers) = frame.into_trailers() {
                            reply.status = status_of(&trailers).unwrap_or_else(|| {
                                Status::new(
                                    code::INTERNAL,
                                    "server sent trailers without grpc-status",
                                )
                            });
                            reply.trailers = metadata_of(&trailers);
                            if reply.status.is_ok() && count != 1 {
                                reply.status = Status::new(
                                    code::INTERNAL,
                                    if count == 0 {
                                        "grpc: server returned no message for a unary call"
                                    } else {
                                        "grpc: server sent more than one message for a unary call"
                                    },
                                );
                            }
                            if !reply.status.is_ok() {
                                reply.message = None;
                            }
                            return reply;
                        }
                    }
                },
            }
        }
    }

    /// Starts a stream: `outgoing` is what the script writes (each an encoded message; closing
    /// it half-closes the call); `on` gets every event, the last being [`StreamEvent::End`].
    /// Returns when the stream is over.
    pub async fn stream(
        &self,
        method: &str,
        opts: &CallOptions,
        outgoing: mpsc::UnboundedReceiver<Bytes>,
        mut on: impl FnMut(StreamEvent),
    ) {
        let max_send = self.max_send;
        let frames = futures_util::stream::unfold(outgoing, move |mut rx| async move {
            let m = rx.recv().await?;
            if m.len() > max_send {
                return None;
            }
            Some((Ok::<_, std::io::Error>(Frame::data(wire::frame(&m))), rx))
        });
        let body = StreamBody::new(frames).boxed_unsync();
        let work = async {
            let req = match self.request(method, opts, body) {
                Ok(r) => r,
                Err(s) => return (s, Vec::new()),
            };
            let res = match self.start(req).await {
                Ok(r) => r,
                Err(s) => return (s, Vec::new()),
            };
            if let Some(status) = head_status(&res) {
                let trailers = metadata_of(res.headers());
                let status = status_of(res.headers()).unwrap_or(status);
                if !status.is_ok() || res.status() != http::StatusCode::OK {
                    return (status, trailers);
                }
            }
            let mut body = res.into_body();
            let mut decoder = wire::Decoder::default();
            loop {
                match body.frame().await {
                    None => {
                        return (
                            Status::new(
                                code::INTERNAL,
                                "server closed the stream without sending trailers",
                            ),
                            Vec::new(),
                        );
                    }
                    Some(Err(e)) => return (transport_status(&e), Vec::new()),
                    Some(Ok(frame)) => match frame.into_data() {
                        Ok(data) => {
                            decoder.push(&data);
                            loop {
                                match decoder.next_message(self.max_receive) {
                                    Ok(Some(m)) => on(StreamEvent::Message(m)),
                                    Ok(None) => break,
                                    Err(e) => {
                                        return (
                                            Status::new(code::RESOURCE_EXHAUSTED, e.to_string()),
                                            Vec::new(),
                                        );
                                    }
                                }
                            }
                        }
                        Err(frame) => {
                            if let Ok(trailers) = frame.into_trailers() {
                                let status = status_of(&trailers).unwrap_or_else(|| {
                                    Status::new(
                                        code::INTERNAL,
                                        "server sent trailers without grpc-status",
                                    )
                                });
                                return (status, metadata_of(&trailers));
                            }
                        }
                    },
                }
            }
        };
        let (status, trailers) = match opts.timeout {
            Some(t) => match tokio::time::timeout(t, work).await {
                Ok(r) => r,
                Err(_) => (
                    Status::new(code::DEADLINE_EXCEEDED, "context deadline exceeded"),
                    Vec::new(),
                ),
            },
            None => work.await,
        };
        on(StreamEvent::End(status, trailers));
    }
}

/// The status a response head already decides: a non-200 HTTP answer (grpc-go's mapping) or a
/// trailers-only answer (`grpc-status` in the head). `None`: read the body.
fn head_status(res: &http::Response<Incoming>) -> Option<Status> {
    let http_status = res.status();
    if http_status != http::StatusCode::OK {
        let code = match http_status.as_u16() {
            400 => code::INTERNAL,
            401 => code::UNAUTHENTICATED,
            403 => code::PERMISSION_DENIED,
            404 => code::UNIMPLEMENTED,
            429 | 502 | 503 | 504 => code::UNAVAILABLE,
            _ => code::UNKNOWN,
        };
        return Some(Status::new(
            code,
            format!(
                "unexpected HTTP status code received from server: {} ({})",
                http_status.as_u16(),
                http_status.canonical_reason().unwrap_or("")
            ),
        ));
    }
    status_of(res.headers())
}

fn status_of(headers: &http::HeaderMap) -> Option<Status> {
    let code = headers
        .get("grpc-status")?
        .to_str()
        .ok()?
        .trim()
        .parse()
        .ok()?;
    let message = headers
        .get("grpc-message")
        .and_then(|v| v.to_str().ok())
        .map(wire::decode_message)
        .unwrap_or_default();
    Some(Status::new(code, message))
}

/// The metadata a caller sees (reserved headers left out, `-bin` values decoded).
fn metadata_of(headers: &http::HeaderMap) -> Metadata {
    let mut out: Metadata = Vec::new();
    for (name, value) in headers {
        let name = name.as_str();
        if wire::is_reserved(name) {
            continue;
        }
        let value = if name.ends_with("-bin") {
            use base64::Engine as _;
            let raw = value.as_bytes();
            let decoded = base64::engine::general_purpose::STANDARD_NO_PAD
                .decode(
                    raw.strip_suffix(b"==")
                        .or_else(|| raw.strip_suffix(b"="))
                        .unwrap_or(raw),
                )
                .unwrap_or_else(|_| raw.to_vec());
            String::from_utf8_lossy(&decoded).into_owned()
        } else {
            String::from_utf8_lossy(value.as_bytes()).into_owned()
        };
        match out.iter_mut().find(|(n, _)| n == name) {
            Some((_, vs)) => vs.push(value),
            None => out.push((name.to_string(), vec![value])),
        }
    }
    out
}

/// A transport failure as grpc-go reports it.
fn transport_status(e: &hyper::Error) -> Status {
    let text = e.to_string();
    if let Some(reason) = std::error::Error::source(e)
        .and_then(|s| s.downcast_ref::<h2::Error>())
        .and_then(h2::Error::reason)
    {
        let code = match reason {
            h2::Reason::CANCEL => code::CANCELED,
            h2::Reason::REFUSED_STREAM => code::UNAVAILABLE,
            h2::Reason::ENHANCE_YOUR_CALM => code::RESOURCE_EXHAUSTED,
            h2::Reason::INADEQUATE_SECURITY => code::PERMISSION_DENIED,
            _ => code::INTERNAL,
        };
        return Status::new(
            code,
            format!("stream terminated by RST_STREAM with error code: {reason:?}"),
        );
    }
    Status::new(
        code::UNAVAILABLE,
        format!("error reading from server: {text}"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_port() {
        assert_eq!(
            split_host_port("127.0.0.1:10000"),
            Some(("127.0.0.1", 10000))
        );
        assert_eq!(split_host_port("[::1]:5"), Some(("::1", 5)));
        assert_eq!(split_host_port("localhost"), None);
    }
}
