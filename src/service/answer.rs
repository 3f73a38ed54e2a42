//! Where answers go: published on NATS on the subject named by the answer's type, or POSTed as a
//! structured CloudEvent to the distributor (`http://localhost:8081/event`) or to
//! `{KEPTN_API_ENDPOINT}/v1/event` with `x-token`. Sends are retried with backoff (0.5 s doubling
//! to 30 s) for up to 10 minutes, so a distributor or Keptn API that is down for a while still gets
//! the answer; once the service shuts down, a failed attempt is the last. A NATS publish made while
//! disconnected is flushed once the client has reconnected. What is finally lost is counted by the
//! caller (`loadgate_answers_lost_total`).
//!
//! Receives answer events (JSON); emits nothing but logs. Tokens are never logged.

use std::time::Duration;

use serde_json::Value;
use tokio_util::sync::CancellationToken;

use crate::keptn::resource::Secret;

/// Why an answer could not be delivered.
#[derive(Debug, thiserror::Error)]
pub enum AnswerError {
    #[error("cannot publish {ty} on nats: {reason}")]
    Nats { ty: String, reason: String },
    #[error("cannot post {ty} to {url}: {reason}")]
    Http {
        ty: String,
        url: String,
        reason: String,
    },
}

/// The way back for one event's answers.
#[derive(Clone, Debug)]
pub enum Responder {
    /// Publish on the subject named by the answer's type.
    Nats(async_nats::Client),
    /// POST a structured CloudEvent.
    Http {
        client: reqwest::Client,
        url: String,
        token: Option<Secret>,
    },
}

/// How long a NATS answer may wait for the server to come back.
const NATS_DEADLINE: Duration = Duration::from_secs(120);
/// How long an HTTP answer is retried (backoff 0.5 s, 1 s, 2 s... up to [`HTTP_MAX_BACKOFF`]).
const HTTP_DEADLINE: Duration = Duration::from_secs(600);
/// The longest wait between two HTTP attempts.
const HTTP_MAX_BACKOFF: Duration = Duration::from_secs(30);

impl Responder {
    /// The HTTP responder for `--distributor-url`, or for the Keptn API when `api` is set.
    pub fn http(distributor: &str, api: Option<&str>, token: Option<Secret>) -> Self {
        let url = match api {
            Some(a) => format!("{}/v1/event", a.trim_end_matches('/')),
            None => distributor.to_string(),
        };
        let client = crate::tls::reqwest_builder()
            .timeout(Duration::from_secs(10))
            .build()
            .unwrap_or_default();
        Responder::Http {
            client,
            url,
            token: if api.is_some() { token } else { None },
        }
    }

    /// Sends one answer, retrying until delivered or the retries are spent; once `stop` is
    /// cancelled (shutdown), a failed attempt is not retried.
    pub async fn send(&self, event: &Value, stop: &CancellationToken) -> Result<(), AnswerError> {
        let ty = event
            .get("type")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        match self {
            Responder::Nats(client) => send_nats(client, &ty, event).await,
            Responder::Http { client, url, token } => {
                send_http(client, url, token.as_ref(), &ty, event, stop).await
            }
        }
    }
}

async fn send_nats(
    client: &async_nats::Client,
    ty: &str,
    event: &Value,
) -> Result<(), AnswerError> {
    let err = |reason: String| AnswerError::Nats {
        ty: ty.to_string(),
        reason,
    };
    let body = serde_json::to_vec(event).map_err(|e| err(e.to_string()))?;
    let deadline = tokio::time::Instant::now() + NATS_DEADLINE;
    let mut delay = Duration::from_millis(250);
    // A publish is queued in the client and written after a reconnect; retry only if the queue
    // refused it, and wait for the flush so the answer has left before we report it sent.
    loop {
        match client.publish(ty.to_string(), body.clone().into()).await {
            Ok(()) => break,
            Err(e) if tokio::time::Instant::now() < deadline => {
                tracing::warn!(error = %e, "publish failed, retrying");
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(Duration::from_secs(5));
            }
            Err(e) => return Err(err(e.to_string())),
        }
    }
    loop {
        match tokio::time::timeout(Duration::from_secs(5), client.flush()).await {
            Ok(Ok(())) => return Ok(()),
            _ if tokio::time::Instant::now() < deadline => {
                tracing::warn!(subject = ty, "nats flush pending, waiting for the server");
            }
            Ok(Err(e)) => return Err(err(e.to_string())),
            Err(_) => return Err(err("flush timed out".into())),
        }
    }
}

async fn send_http(
    client: &reqwest::Client,
    url: &str,
    token: Option<&Secret>,
    ty: &str,
    event: &Value,
    stop: &CancellationToken,
) -> Result<(), AnswerError> {
    let deadline = tokio::time::Instant::now() + HTTP_DEADLINE;
    let mut delay = Duration::from_millis(500);
    let mut last;
    let mut attempt = 0u32;
    loop {
        attempt += 1;
        let mut req = client
            .post(url)
            .header("content-type", "application/cloudevents+json")
            .body(event.to_string());
        if let Some(t) = token {
            req = req.header("x-token", t.expose());
        }
        match req.send().await {
            Ok(r) if r.status().is_success() => return Ok(()),
            Ok(r) => last = format!("HTTP {}", r.status()),
            Err(e) => last = e.without_url().to_string(),
        }
        let now = tokio::time::Instant::now();
        if stop.is_cancelled() || now + delay > deadline {
            break;
        }
        tracing::warn!(attempt, error = %last, url = %crate::redact::url(url), "answer not delivered, retrying");
        tokio::select! {
            _ = tokio::time::sleep(delay) => {}
            // Shutting down: one more attempt, then give up.
            _ = stop.cancelled() => {}
        }
        delay = (delay * 2).min(HTTP_MAX_BACKOFF);
    }
    Err(AnswerError::Http {
        ty: ty.to_string(),
        url: crate::redact::url(url),
        reason: last,
    })
}
