//! The NATS transport: queue-subscribes every configured `...triggered` subject in one queue
//! group (so one replica takes each event), parses bodies as structured CloudEvents and hands them
//! to the job manager with a NATS responder (answers go on the subject named by their type). The
//! client reconnects with backoff forever; subscriptions are restored by async-nats.
//!
//! Receives NATS messages; emits [`crate::keptn::Triggered`] events to the [`JobManager`].

use futures_util::StreamExt;
use futures_util::stream::select_all;

use super::answer::Responder;
use super::jobs::{JobManager, Submitted};
use crate::keptn::event::{EventError, decode_structured, parse_triggered};

/// Why NATS could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum NatsError {
    #[error("cannot connect to nats at {url}: {reason}")]
    Connect { url: String, reason: String },
    #[error("cannot subscribe to {subject}: {reason}")]
    Subscribe { subject: String, reason: String },
}

/// Connects (retrying in the background until the server is there).
pub async fn connect(url: &str) -> Result<async_nats::Client, NatsError> {
    async_nats::ConnectOptions::new()
        .name("loadgate")
        .retry_on_initial_connect()
        .max_reconnects(None)
        .event_callback(|e| async move {
            match e {
                async_nats::Event::Connected => tracing::info!("nats connected"),
                async_nats::Event::Disconnected => {
                    tracing::warn!("nats disconnected, reconnecting")
                }
                other => tracing::debug!(event = %other, "nats event"),
            }
        })
        .connect(url)
        .await
        .map_err(|e| NatsError::Connect {
            url: url.to_string(),
            reason: e.to_string(),
        })
}

/// Subscribes and feeds the job manager until the manager starts closing; then unsubscribes.
pub async fn subscribe(
    client: async_nats::Client,
    types: Vec<String>,
    group: String,
    jobs: JobManager,
) -> Result<tokio::task::JoinHandle<()>, NatsError> {
    let mut subs = Vec::new();
    for subject in &types {
        let s = client
            .queue_subscribe(subject.clone(), group.clone())
            .await
            .map_err(|e| NatsError::Subscribe {
                subject: subject.clone(),
                reason: e.to_string(),
            })?;
        subs.push(s);
    }
    // Make sure the server has the subscriptions before we report ready.
    // Bounded: with the server away, the client subscribes once it connects.
    match tokio::time::timeout(std::time::Duration::from_secs(5), client.flush()).await {
        Ok(Ok(())) => {}
        Ok(Err(e)) => tracing::warn!(error = %e, "nats flush after subscribing failed"),
        Err(_) => tracing::warn!("nats not reachable yet; subscriptions wait for the connection"),
    }
    let closing = jobs.closing();
    Ok(tokio::spawn(async move {
        let mut all = select_all(subs);
        loop {
            let msg = tokio::select! {
                m = all.next() => match m { Some(m) => m, None => break },
                _ = closing.cancelled() => break,
            };
            handle(&client, &types, &jobs, &msg.payload);
        }
        for s in all.iter_mut() {
            let _ = s.unsubscribe().await;
        }
        tracing::info!("nats subscriptions closed");
    }))
}

fn handle(client: &async_nats::Client, types: &[String], jobs: &JobManager, body: &[u8]) {
    let m = jobs.metrics();
    m.events_received.with_label_values(&["nats"]).inc();
    let refuse = |reason: &str, e: &EventError| {
        m.events_refused.with_label_values(&["nats", reason]).inc();
        tracing::warn!(transport = "nats", reason, error = %e, "event refused");
    };
    let event = match decode_structured(body) {
        Ok(e) => e,
        Err(e) => return refuse("invalid", &e),
    };
    let t = match parse_triggered(&event, types) {
        Ok(t) => t,
        Err(e @ EventError::UnknownType(_)) => return refuse("unknown_type", &e),
        Err(e) => return refuse("invalid", &e),
    };
    let id = t.id.clone();
    match jobs.submit(t, Responder::Nats(client.clone())) {
        Submitted::Accepted => {}
        Submitted::Duplicate => {
            m.events_refused
                .with_label_values(&["nats", "duplicate"])
                .inc();
            tracing::info!(id, "duplicate delivery ignored");
        }
        Submitted::ShuttingDown => {
            m.events_refused
                .with_label_values(&["nats", "shutting_down"])
                .inc();
        }
    }
}
