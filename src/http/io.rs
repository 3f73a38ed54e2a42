//! The socket adapter under every connection: [`CountingIo`] counts the bytes that really cross
//! the socket and stamps the last write and the first read of each request into a shared
//! [`ConnStats`]; the client reads them to get exact `sending`/`waiting`/`receiving` timings and
//! `data_sent`/`data_received`. [`Stream`] is the plain-or-TLS stream hyper runs on.

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll};
use std::time::Instant;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio_rustls::client::TlsStream;

/// Per-connection counters shared between the connection task and the client (atomics with
/// relaxed ordering: the connection task runs on the same thread in practice).
#[derive(Debug)]
pub(crate) struct ConnStats {
    base: Instant,
    read: AtomicU64,
    written: AtomicU64,
    /// ns since `base` + 1 of the latest successful write; 0 = none.
    last_write: AtomicU64,
    /// ns since `base` + 1 of the first write since [`ConnStats::begin_request`]; 0 = none.
    first_write: AtomicU64,
    /// Bytes already attributed to a request by [`ConnStats::claim`] (HTTP/2, where requests
    /// share the connection concurrently).
    claimed_read: AtomicU64,
    claimed_written: AtomicU64,
    /// ns since `base` + 1 of the first read with data since [`ConnStats::begin_request`]; 0 = none.
    first_read: AtomicU64,
}

/// A snapshot of the byte counters.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct ByteCounts {
    pub read: u64,
    pub written: u64,
}

impl ConnStats {
    pub(crate) fn new() -> Arc<Self> {
        Arc::new(ConnStats {
            base: Instant::now(),
            read: AtomicU64::new(0),
            written: AtomicU64::new(0),
            last_write: AtomicU64::new(0),
            first_write: AtomicU64::new(0),
            claimed_read: AtomicU64::new(0),
            claimed_written: AtomicU64::new(0),
            first_read: AtomicU64::new(0),
        })
    }

    /// Forgets the time stamps of the previous request on this connection.
    pub(crate) fn begin_request(&self) {
        self.last_write.store(0, Ordering::Relaxed);
        self.first_write.store(0, Ordering::Relaxed);
        self.first_read.store(0, Ordering::Relaxed);
    }

    /// The bytes that crossed the socket since the previous claim (or since it opened), now
    /// attributed to the caller: with HTTP/2 several requests overlap on one connection, and each
    /// byte is counted once, by the request that finishes first after it.
    pub(crate) fn claim(&self) -> ByteCounts {
        let now = self.bytes();
        let read = self.claimed_read.swap(now.read, Ordering::Relaxed);
        let written = self.claimed_written.swap(now.written, Ordering::Relaxed);
        ByteCounts {
            read: now.read.saturating_sub(read),
            written: now.written.saturating_sub(written),
        }
    }

    pub(crate) fn bytes(&self) -> ByteCounts {
        ByteCounts {
            read: self.read.load(Ordering::Relaxed),
            written: self.written.load(Ordering::Relaxed),
        }
    }

    /// When the request was last written to, if it was.
    pub(crate) fn last_write(&self) -> Option<Instant> {
        self.at(self.last_write.load(Ordering::Relaxed))
    }

    /// When the first write since [`ConnStats::begin_request`] happened, if it did.
    pub(crate) fn first_write(&self) -> Option<Instant> {
        self.at(self.first_write.load(Ordering::Relaxed))
    }

    /// When the first response byte arrived, if it did.
    pub(crate) fn first_read(&self) -> Option<Instant> {
        self.at(self.first_read.load(Ordering::Relaxed))
    }

    fn at(&self, stamp: u64) -> Option<Instant> {
        (stamp != 0).then(|| self.base + std::time::Duration::from_nanos(stamp - 1))
    }

    fn stamp(&self) -> u64 {
        u64::try_from(self.base.elapsed().as_nanos())
            .unwrap_or(u64::MAX - 1)
            .saturating_add(1)
    }

    fn on_read(&self, n: usize) {
        self.read.fetch_add(n as u64, Ordering::Relaxed);
        if self.first_read.load(Ordering::Relaxed) == 0 {
            self.first_read.store(self.stamp(), Ordering::Relaxed);
        }
    }

    fn on_write(&self, n: usize) {
        self.written.fetch_add(n as u64, Ordering::Relaxed);
        let now = self.stamp();
        self.last_write.store(now, Ordering::Relaxed);
        if self.first_write.load(Ordering::Relaxed) == 0 {
            self.first_write.store(now, Ordering::Relaxed);
        }
    }
}

/// Wraps a socket and reports every read/write to its [`ConnStats`].
pub(crate) struct CountingIo<T> {
    inner: T,
    stats: Arc<ConnStats>,
}

impl<T> CountingIo<T> {
    pub(crate) fn new(inner: T, stats: Arc<ConnStats>) -> Self {
        CountingIo { inner, stats }
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for CountingIo<T> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let res = Pin::new(&mut self.inner).poll_read(cx, buf);
        if let Poll::Ready(Ok(())) = res {
            let n = buf.filled().len() - before;
            if n > 0 {
                self.stats.on_read(n);
            }
        }
        res
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for CountingIo<T> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let res = Pin::new(&mut self.inner).poll_write(cx, buf);
        if let Poll::Ready(Ok(n)) = res {
            self.stats.on_write(n);
        }
        res
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let res = Pin::new(&mut self.inner).poll_write_vectored(cx, bufs);
        if let Poll::Ready(Ok(n)) = res {
            self.stats.on_write(n);
        }
        res
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

/// The byte stream one connection runs on.
pub(crate) enum Stream {
    Plain(CountingIo<TcpStream>),
    Tls(Box<TlsStream<CountingIo<TcpStream>>>),
}

impl AsyncRead for Stream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_read(cx, buf),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for Stream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_write(cx, buf),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_write(cx, buf),
        }
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_write_vectored(cx, bufs),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_write_vectored(cx, bufs),
        }
    }

    fn is_write_vectored(&self) -> bool {
        match self {
            Stream::Plain(s) => s.is_write_vectored(),
            Stream::Tls(s) => s.is_write_vectored(),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_flush(cx),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_shutdown(cx),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_shutdown(cx),
        }
    }
}
