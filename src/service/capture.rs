//! A tiny loopback answer receiver standing in for Keptn's distributor: it accepts POSTed
//! CloudEvents and hands them to the caller. Used by `loadgate demo`, `loadgate event send
//! --listen` and the tests. Bind it to 127.0.0.1.
//!
//! Receives HTTP POSTs with JSON bodies; emits them on a channel.

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::post;
use serde_json::Value;
use tokio::net::TcpListener;
use tokio::sync::mpsc;

/// Serves `POST /event` (and `POST /v1/event`) on `listener`; each body parsed as JSON goes to the
/// returned channel. Stops when the receiver is dropped and the next request arrives, or with the
/// runtime.
pub fn serve(listener: TcpListener) -> mpsc::UnboundedReceiver<Value> {
    let (app, rx) = app();
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    rx
}

/// The receiver's routes (`POST /event`, `POST /v1/event`) and the channel of what they get,
/// to serve some other way (over TLS in the tests).
pub fn app() -> (Router, mpsc::UnboundedReceiver<Value>) {
    let (tx, rx) = mpsc::unbounded_channel();
    let app = Router::new()
        .route("/event", post(receive))
        .route("/v1/event", post(receive))
        .with_state(tx);
    (app, rx)
}

async fn receive(State(tx): State<mpsc::UnboundedSender<Value>>, body: Bytes) -> StatusCode {
    match serde_json::from_slice::<Value>(&body) {
        Ok(v) => {
            let _ = tx.send(v);
            StatusCode::OK
        }
        Err(_) => StatusCode::BAD_REQUEST,
    }
}
