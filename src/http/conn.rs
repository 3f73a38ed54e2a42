//! Connections and the per-VU keep-alive pool. [`connect`] resolves the host (honouring the
//! `hosts`, `blockHostnames` and `blacklistIPs` options), dials TCP, does the TLS handshake for https, and hands the stream to hyper's
//! HTTP/1.1 client handshake, or its HTTP/2 one when ALPN chose `h2` (like Go, and so k6, HTTP/2
//! only over TLS: no h2c); the connection future runs as its own tokio task. It reports how
//! long each phase took ([`ConnectTimings`]). [`Pool`] keeps idle HTTP/1.1 connections per
//! scheme/host/port, and one shared HTTP/2 connection per key that every request multiplexes on.

use std::cell::RefCell;
use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::client::conn::{http1, http2};
use hyper_util::rt::{TokioExecutor, TokioIo};
use tokio::net::TcpStream;

use super::dns::Resolver;
use super::error_code::{self, HttpError};
use super::io::{ConnStats, CountingIo, Stream};
use super::tls;
use crate::engine::options::network::NetworkOptions;

/// Identifies connections that may be shared: scheme, host (as in the URL) and port.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) struct PoolKey {
    pub https: bool,
    pub host: String,
    pub port: u16,
}

/// The request side of a connection, by protocol.
pub(crate) enum Sender {
    Http1(http1::SendRequest<Full<Bytes>>),
    /// Clones share the one connection (one stream per request).
    Http2(http2::SendRequest<Full<Bytes>>),
}

impl Sender {
    pub(crate) fn is_closed(&self) -> bool {
        match self {
            Sender::Http1(s) => s.is_closed(),
            Sender::Http2(s) => s.is_closed(),
        }
    }

    pub(crate) fn is_http2(&self) -> bool {
        matches!(self, Sender::Http2(_))
    }

    /// Waits until the connection can take a request.
    pub(crate) async fn ready(&mut self) -> hyper::Result<()> {
        match self {
            Sender::Http1(s) => s.ready().await,
            Sender::Http2(s) => s.ready().await,
        }
    }

    pub(crate) async fn send(
        &mut self,
        req: http::Request<Full<Bytes>>,
    ) -> hyper::Result<http::Response<Incoming>> {
        match self {
            Sender::Http1(s) => s.send_request(req).await,
            Sender::Http2(s) => s.send_request(req).await,
        }
    }
}

/// One live connection.
pub(crate) struct Conn {
    pub sender: Sender,
    pub stats: Arc<ConnStats>,
    pub remote: SocketAddr,
    pub tls_version: &'static str,
    pub tls_suite: Arc<str>,
}

impl Conn {
    /// A second handle on an HTTP/2 connection (`None` for HTTP/1.1, which is not shared).
    fn share(&self) -> Option<Conn> {
        match &self.sender {
            Sender::Http2(s) => Some(Conn {
                sender: Sender::Http2(s.clone()),
                stats: self.stats.clone(),
                remote: self.remote,
                tls_version: self.tls_version,
                tls_suite: self.tls_suite.clone(),
            }),
            Sender::Http1(_) => None,
        }
    }
}

/// How long each phase of opening a connection took.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct ConnectTimings {
    pub looking_up: Duration,
    pub connecting: Duration,
    pub tls_handshaking: Duration,
}

/// What a connect attempt needs from the client configuration.
pub(crate) struct ConnectOptions<'a> {
    /// `hosts`, `blacklistIPs`, `blockHostnames`.
    pub net: &'a NetworkOptions,
    /// `dns`: the test's resolver.
    pub resolver: Option<&'a Resolver>,
    /// `localIPs`: bind the socket to this source address first.
    pub local_ip: Option<IpAddr>,
    pub insecure_skip_tls_verify: bool,
    /// The test's TLS configuration, when `tlsVersion`/`tlsCipherSuites` are set (its ALPN list
    /// is used as is).
    pub tls: Option<&'a Arc<tokio_rustls::rustls::ClientConfig>>,
    /// Offer `h2` in ALPN when `tls` is `None` (`k6/http`; not WebSockets).
    pub http2: bool,
}

/// A dialled socket (TCP, plus TLS for https) before any protocol runs on it.
pub(crate) struct Dialed {
    pub stream: Stream,
    pub stats: Arc<ConnStats>,
    pub remote: SocketAddr,
    pub tls_version: &'static str,
    pub tls_suite: Arc<str>,
    /// ALPN chose `h2`.
    pub h2: bool,
}

/// Resolves, dials TCP and does the TLS handshake for https; `timings` is filled in as far as the
/// attempt got, also on error. Shared by HTTP and WebSocket connections.
pub(crate) async fn open_stream(
    key: &PoolKey,
    opts: &ConnectOptions<'_>,
    timings: &mut ConnectTimings,
) -> Result<Dialed, HttpError> {
    let t0 = Instant::now();
    let addr = resolve(key, opts.net, opts.resolver).await;
    timings.looking_up = t0.elapsed();
    let addr = addr?;

    let t1 = Instant::now();
    let tcp = dial(addr, opts.local_ip)
        .await
        .map_err(|e| error_code::from_connect_error(&e, addr));
    timings.connecting = t1.elapsed();
    let tcp = tcp?;
    let _ = tcp.set_nodelay(true);
    let stats = ConnStats::new();
    let counted = CountingIo::new(tcp, stats.clone());

    let (stream, tls_version, tls_suite, h2) = if key.https {
        let t2 = Instant::now();
        let res = tls_handshake(&key.host, counted, opts).await;
        timings.tls_handshaking = t2.elapsed();
        let s = res?;
        let (_, session) = s.get_ref();
        let version = tls::version_name(session.protocol_version());
        let suite: Arc<str> = tls::suite_name(session.negotiated_cipher_suite()).into();
        let h2 = session.alpn_protocol() == Some(tls::ALPN_H2);
        (Stream::Tls(Box::new(s)), version, suite, h2)
    } else {
        (Stream::Plain(counted), "", Arc::from(""), false)
    };
    Ok(Dialed {
        stream,
        stats,
        remote: addr,
        tls_version,
        tls_suite,
        h2,
    })
}

/// Opens a new connection; `timings` is filled in as far as the attempt got, also on error.
pub(crate) async fn connect(
    key: &PoolKey,
    opts: &ConnectOptions<'_>,
    timings: &mut ConnectTimings,
) -> Result<Conn, HttpError> {
    let Dialed {
        stream,
        stats,
        remote: addr,
        tls_version,
        tls_suite,
        h2,
    } = open_stream(key, opts, timings).await?;

    let sender = if h2 {
        let (sender, connection) = http2::Builder::new(TokioExecutor::new())
            .handshake(TokioIo::new(stream))
            .await
            .map_err(|e| error_code::from_hyper_error(&e))?;
        tokio::spawn(async move {
            if let Err(e) = connection.await {
                tracing::debug!(error = %e, "http/2 connection ended with an error");
            }
        });
        Sender::Http2(sender)
    } else {
        let (sender, connection) = http1::Builder::new()
            .title_case_headers(true)
            .handshake(TokioIo::new(stream))
            .await
            .map_err(|e| error_code::from_hyper_error(&e))?;
        tokio::spawn(async move {
            if let Err(e) = connection.await {
                tracing::debug!(error = %e, "http connection ended with an error");
            }
        });
        Sender::Http1(sender)
    };
    Ok(Conn {
        sender,
        stats,
        remote: addr,
        tls_version,
        tls_suite,
    })
}

/// TCP connect, from `local` (port chosen by the system) when given.
async fn dial(addr: SocketAddr, local: Option<IpAddr>) -> std::io::Result<TcpStream> {
    let Some(ip) = local else {
        return TcpStream::connect(addr).await;
    };
    let socket = if ip.is_ipv4() {
        tokio::net::TcpSocket::new_v4()?
    } else {
        tokio::net::TcpSocket::new_v6()?
    };
    socket.bind(SocketAddr::new(ip, 0))?;
    socket.connect(addr).await
}

async fn tls_handshake(
    host: &str,
    io: CountingIo<TcpStream>,
    opts: &ConnectOptions<'_>,
) -> Result<tokio_rustls::client::TlsStream<CountingIo<TcpStream>>, HttpError> {
    let cfg = match opts.tls {
        Some(c) => c.clone(),
        None if opts.http2 => tls::config_h2(opts.insecure_skip_tls_verify)?,
        None => tls::config(opts.insecure_skip_tls_verify)?,
    };
    let name = tls::server_name(host)?;
    tokio_rustls::TlsConnector::from(cfg)
        .connect(name, io)
        .await
        .map_err(|e| error_code::from_io_error(&e, false))
}

/// Host name -> socket address, as k6's dialer: a host name matching `blockHostnames` is refused,
/// then `hosts` (`name:port` entries first, then `name`; an entry without a port keeps the URL's),
/// IP literals as is, else the system resolver preferring IPv4 (k6's default `preferIPv4`); the
/// address is then checked against `blacklistIPs`. Runs for every new connection, so for every
/// redirect hop to another host.
async fn resolve(
    key: &PoolKey,
    net: &NetworkOptions,
    resolver: Option<&Resolver>,
) -> Result<SocketAddr, HttpError> {
    let bare = key.host.trim_start_matches('[').trim_end_matches(']');
    let literal = bare.parse::<IpAddr>().ok();
    if literal.is_none()
        && let Some(((), pattern)) = net.blocked.get(bare)
    {
        return Err(HttpError::BlockedHostname {
            host: bare.to_string(),
            pattern,
        });
    }
    let addr = match mapped(bare, key.port, net) {
        Some(a) => a,
        None => match literal {
            Some(ip) => SocketAddr::new(ip, key.port),
            None => match resolver {
                Some(r) => SocketAddr::new(r.lookup(bare).await?, key.port),
                None => lookup(bare, key.port).await?,
            },
        },
    };
    if let Some(range) = net.blacklist.iter().find(|n| n.contains(addr.ip())) {
        return Err(HttpError::BlacklistedIp {
            ip: addr.ip(),
            net: range.to_string(),
        });
    }
    Ok(addr)
}

/// The `hosts` entry for `host:port`, else for `host`.
fn mapped(host: &str, port: u16, net: &NetworkOptions) -> Option<SocketAddr> {
    if net.hosts.is_empty() {
        return None;
    }
    let with_port = if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    };
    if let Some((t, _)) = net.hosts.get(&with_port) {
        return Some(SocketAddr::new(t.ip, t.port.unwrap_or(port)));
    }
    net.hosts
        .get(host)
        .map(|(t, _)| SocketAddr::new(t.ip, t.port.unwrap_or(port)))
}

async fn lookup(bare: &str, port: u16) -> Result<SocketAddr, HttpError> {
    match tokio::net::lookup_host((bare, port)).await {
        Ok(addrs) => {
            let mut first = None;
            for a in addrs {
                if a.is_ipv4() {
                    return Ok(a);
                }
                first.get_or_insert(a);
            }
            first.ok_or_else(|| HttpError::NoSuchHost {
                host: bare.to_string(),
            })
        }
        Err(e) => Err(super::dns::lookup_error(bare, &e)),
    }
}

/// Idle keep-alive connections of one VU (an HTTP/2 connection stays in it while in use, and is
/// handed out as clones). Never borrowed across an await.
pub(crate) struct Pool {
    idle: RefCell<HashMap<PoolKey, Vec<Conn>>>,
    max_idle_per_host: usize,
}

impl Pool {
    pub(crate) fn new(max_idle_per_host: usize) -> Self {
        Pool {
            idle: RefCell::new(HashMap::new()),
            max_idle_per_host,
        }
    }

    /// The most recently used idle connection to `key` that is still open; an HTTP/2 one stays
    /// in the pool and a clone is returned.
    pub(crate) fn take(&self, key: &PoolKey) -> Option<Conn> {
        let mut idle = self.idle.borrow_mut();
        let list = idle.get_mut(key)?;
        while let Some(conn) = list.pop() {
            if !conn.sender.is_closed() {
                if let Some(shared) = conn.share() {
                    list.push(conn);
                    return Some(shared);
                }
                return Some(conn);
            }
        }
        None
    }

    /// Returns a connection whose exchange completed cleanly. Of HTTP/2 connections one per key
    /// is kept (the one already there, else this one).
    pub(crate) fn put(&self, key: &PoolKey, conn: Conn) {
        if conn.sender.is_closed() || self.max_idle_per_host == 0 {
            return;
        }
        let mut idle = self.idle.borrow_mut();
        if let Some(list) = idle.get_mut(key) {
            list.retain(|c| !c.sender.is_closed());
            if conn.sender.is_http2() && list.iter().any(|c| c.sender.is_http2()) {
                return;
            }
            if list.len() < self.max_idle_per_host {
                list.push(conn);
            }
            return;
        }
        idle.insert(key.clone(), vec![conn]);
    }

    /// Closes every idle connection.
    pub(crate) fn clear(&self) {
        self.idle.borrow_mut().clear();
    }

    #[cfg(test)]
    pub(crate) fn idle_count(&self) -> usize {
        self.idle.borrow().values().map(Vec::len).sum()
    }
}
