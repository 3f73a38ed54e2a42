//! WebSocket endpoints of the target: `/ws/echo` sends every text and binary message back
//! (pings are answered by the protocol layer) until the client closes; `/ws/send/N` sends N
//! text messages `msg-1`..`msg-N` and then closes with 1000 (a server-initiated close);
//! `/ws/abort` drops the TCP connection without a close frame.

use axum::extract::Path;
use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::response::Response;

pub(super) async fn echo(upgrade: WebSocketUpgrade) -> Response {
    upgrade
        .protocols(["echo", "chat"])
        .on_upgrade(|mut socket: WebSocket| async move {
            while let Some(Ok(msg)) = socket.recv().await {
                let reply = match msg {
                    Message::Text(t) => Message::Text(t),
                    Message::Binary(b) => Message::Binary(b),
                    // The protocol layer answers the close; reading on flushes the answer.
                    Message::Close(_) | Message::Ping(_) | Message::Pong(_) => continue,
                };
                if socket.send(reply).await.is_err() {
                    break;
                }
            }
        })
}

pub(super) async fn send(Path(n): Path<u32>, upgrade: WebSocketUpgrade) -> Response {
    upgrade.on_upgrade(move |mut socket: WebSocket| async move {
        for i in 1..=n.min(100_000) {
            if socket
                .send(Message::Text(format!("msg-{i}").into()))
                .await
                .is_err()
            {
                return;
            }
        }
        let _ = socket
            .send(Message::Close(Some(CloseFrame {
                code: 1000,
                reason: "done".into(),
            })))
            .await;
        // Wait for the client's answer to the close.
        while let Some(Ok(msg)) = socket.recv().await {
            if matches!(msg, Message::Close(_)) {
                break;
            }
        }
    })
}

pub(super) async fn abort(upgrade: WebSocketUpgrade) -> Response {
    upgrade.on_upgrade(|socket: WebSocket| async move {
        drop(socket);
    })
}
