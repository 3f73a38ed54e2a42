//! The loopback HTTP target (`loadgate target`): a small httpbin-like axum server used by the README
//! quick start, the conformance tests and the benchmarks. It receives any request on any method and
//! answers deterministically from the path alone (see [`app`] for the endpoints); it emits no logs per
//! request so that it stays cheap as a benchmark target. Callers own the listener (bind it to
//! 127.0.0.1) and the shutdown signal.

mod graphql;
mod grpc;
mod gzip;
mod handlers;
mod tls;
mod ws;

pub use grpc::PROTO as GRPC_PROTO;
pub use tls::{serve_router_tls, serve_tls};

use std::future::Future;

use axum::Router;
use tokio::net::TcpListener;

/// The target's router. Every endpoint answers any method:
///
/// | path | response |
/// |---|---|
/// | `/` | 200 `ok\n` |
/// | `/status/CODE` | CODE, empty body |
/// | `/json` | a fixed JSON document (see [`JSON_DOC`]) |
/// | `/delay/MS` | waits MS ms, then 200 `ok\n` |
/// | `/echo` | JSON `{method, path, query, headers, body}` (header names lowercase) |
/// | `/redirect/N` | 302 to `/redirect/N-1`; `/redirect/0` is 200 `ok\n` |
/// | `/redirect-to?url=U` | 302 to `U` |
/// | `/conn` | JSON `{peer}`: the client's address, one per connection (when served by [`serve`]) |
/// | `/cookies/set?k=v` | sets each cookie (`Path=/`), 200 with them as JSON |
/// | `/cookies` | JSON of the request's cookies |
/// | `/bytes/N` | N bytes of `x` |
/// | `/html` | an HTML page with forms, links and lists (`page.html`, for k6/html) |
/// | `/basic-auth/USER/PASS` | 200 with matching basic auth, else 401 with `WWW-Authenticate` |
/// | `/gzip` | a gzip-encoded JSON document |
/// | `/headers` | JSON `{headers}` of the request |
/// | `/mark` | 200 `ok\n` (benchmark marker) |
/// | `/graphql` | GraphQL over HTTP (POST, Bearer token): GitHub-like `repository.issues` and `addReaction` |
/// | `/main.FeatureExplorer/*`, `/main.RouteGuide/*` | gRPC (h2c here, h2 on TLS): the route guide services of `route_guide.proto` (see [`grpc`]) |
/// | `/grpc.reflection.v1.ServerReflection/*`, `v1alpha` | gRPC server reflection |
/// | `/ws/echo` | WebSocket: echoes text and binary messages (subprotocols `echo`, `chat`) |
/// | `/ws/send/N` | WebSocket: sends `msg-1`..`msg-N`, then closes with 1000 |
/// | `/ws/abort` | WebSocket: drops the connection without a close frame |
///
/// Anything else is 404.
pub fn app() -> Router {
    use axum::routing::any;
    Router::new()
        .route("/graphql", any(graphql::handle))
        .route("/main.FeatureExplorer/{method}", any(grpc::handle))
        .route("/main.RouteGuide/{method}", any(grpc::handle))
        .route(
            "/grpc.reflection.v1.ServerReflection/{method}",
            any(grpc::handle),
        )
        .route(
            "/grpc.reflection.v1alpha.ServerReflection/{method}",
            any(grpc::handle),
        )
        .route("/ws/echo", any(ws::echo))
        .route("/ws/send/{n}", any(ws::send))
        .route("/ws/abort", any(ws::abort))
        .fallback(handlers::handle)
}

/// The document served by `/json`.
pub const JSON_DOC: &str =
    r#"{"name":"conformance","items":[1,2,3],"nested":{"key":"value","n":42}}"#;

/// Serves [`app`] on `listener` (plain HTTP/1.1; [`serve_tls`] for https with HTTP/2) until `shutdown` completes, then finishes in-flight requests and
/// returns.
///
/// # Errors
/// Returns the I/O error that stopped the server.
pub async fn serve(
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    use axum::serve::ListenerExt as _;
    let app = app().into_make_service_with_connect_info::<std::net::SocketAddr>();
    // No Nagle: an HTTP/2 answer goes out in several small writes (head, data, trailers), and a
    // delayed ACK would hold the last of them ~40 ms.
    let listener = listener.tap_io(|tcp| {
        let _ = tcp.set_nodelay(true);
    });
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await
}

#[cfg(test)]
mod tests;
