//! The target over TLS: the same [`app`](super::app) behind rustls, speaking HTTP/2 or HTTP/1.1
//! as the client's ALPN chooses (the server offers `h2` first, like Go's `http.Server`). The
//! caller supplies the certificate in a rustls `ServerConfig` (tests make one with a fresh
//! self-signed certificate).

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::ConnectInfo;
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls::ServerConfig;
use tower_service::Service;

/// Serves [`app`](super::app) over TLS on `listener` until `shutdown` completes. The ALPN list of
/// `config` is replaced by `h2`, `http/1.1`. Connections already open are left to finish.
///
/// # Errors
/// Returns the I/O error that stopped the accept loop.
pub async fn serve_tls(
    listener: TcpListener,
    config: ServerConfig,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    serve_router_tls(listener, config, super::app(), shutdown).await
}

/// [`serve_tls`] for any router (tests serve a capture distributor or a remote-write receiver
/// over TLS with it).
///
/// # Errors
/// Returns the I/O error that stopped the accept loop.
pub async fn serve_router_tls(
    listener: TcpListener,
    mut config: ServerConfig,
    router: axum::Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    let acceptor = TlsAcceptor::from(Arc::new(config));
    tokio::pin!(shutdown);
    loop {
        let (tcp, peer) = tokio::select! {
            r = listener.accept() => r?,
            () = &mut shutdown => return Ok(()),
        };
        let _ = tcp.set_nodelay(true);
        let acceptor = acceptor.clone();
        let router = router.clone();
        tokio::spawn(async move {
            let Ok(tls) = acceptor.accept(tcp).await else {
                return;
            };
            let service = hyper::service::service_fn(move |mut req: http::Request<Incoming>| {
                req.extensions_mut().insert(ConnectInfo::<SocketAddr>(peer));
                let mut router = router.clone();
                async move { router.call(req).await }
            });
            let served = auto::Builder::new(TokioExecutor::new())
                .serve_connection_with_upgrades(TokioIo::new(tls), service)
                .await;
            if let Err(e) = served {
                tracing::debug!(error = %e, "target tls connection ended with an error");
            }
        });
    }
}
