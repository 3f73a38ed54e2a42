//! The scale-out protocol: subjects and messages (JSON), all under `loadgate.` (never
//! `sh.keptn.`, which Keptn's JetStream captures).
//!
//! | subject | direction | message |
//! |---|---|---|
//! | `loadgate.discover` | coordinator → every replica, replies to an inbox | [`Discover`] → [`Offer`] |
//! | `loadgate.r.<replica>.prepare` | coordinator → one replica (request) | [`Prepare`] → [`Reply`] |
//! | `loadgate.t.<test>.c` | runner → coordinator (request) | [`FromRunner`] → [`Reply`] |
//! | `loadgate.t.<test>.r.<replica>` | coordinator → runner (request) | [`ToRunner`] → [`Reply`] |
//! | `loadgate.t.<test>.hb` | coordinator → runners, every second | [`Heartbeat`] |
//!
//! Every control message is a request retried until it is answered; deltas carry a sequence
//! number so a retried delta whose answer was lost is not merged twice; the `epoch` of an
//! assignment fences out anything that is not the runner it was given to.

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use bytes::Bytes;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::metrics::delta::MetricsDelta;
use crate::workload::Workload;

/// Every replica answers discovery here.
pub const DISCOVER: &str = "loadgate.discover";

/// Where one replica takes assignments.
pub fn prepare_subject(replica: &str) -> String {
    format!("loadgate.r.{replica}.prepare")
}

/// Where a test's coordinator takes messages from its runners.
pub fn coordinator_subject(test: &str) -> String {
    format!("loadgate.t.{test}.c")
}

/// Where a test's runner takes messages from its coordinator.
pub fn runner_subject(test: &str, replica: &str) -> String {
    format!("loadgate.t.{test}.r.{replica}")
}

/// The coordinator's heartbeat for a test.
pub fn heartbeat_subject(test: &str) -> String {
    format!("loadgate.t.{test}.hb")
}

/// A NATS subject token for a test id (ids are UUIDs in Keptn, but any event id must work).
pub fn token(id: &str) -> String {
    id.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// The version replicas must share to work on one test.
pub fn version() -> &'static str {
    env!("CARGO_PKG_VERSION")
}

/// Who can run a segment of `test`?
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Discover {
    pub test: String,
    pub coordinator: String,
}

/// A replica's answer to [`Discover`].
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Offer {
    pub replica: String,
    pub version: String,
    pub free_slots: usize,
    /// Host name (the pod's, on Kubernetes).
    pub host: String,
}

/// A file of the test's folder.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct BundleFile {
    /// Relative to the folder, `/`-separated.
    pub path: String,
    /// Base64.
    pub data: String,
}

/// One segment handed to one replica.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Prepare {
    pub test: String,
    /// The fencing token of this assignment.
    pub epoch: String,
    pub coordinator: String,
    pub version: String,
    /// 1-based runner number (the coordinator is 0).
    pub index: usize,
    pub parallelism: usize,
    pub segment: String,
    pub sequence: String,
    /// The test's folder and the script's path in it.
    pub files: Vec<BundleFile>,
    pub script: String,
    pub workload: Workload,
    pub env: BTreeMap<String, String>,
    /// The coordinator's `K6_*` variables, so every instance reads the same options.
    pub options_env: HashMap<String, String>,
    /// How long a runner goes on without hearing from its coordinator.
    pub dead_man_ms: u64,
    /// Keptn identity, for `/v1/tests`.
    pub project: String,
    pub stage: String,
    pub service: String,
    pub keptn_context: String,
}

/// What a runner tells its coordinator.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum RunnerEvent {
    /// The runner's VUs are initialised.
    Ready { init_ms: u64 },
    /// Metrics since the last acknowledged delta, plus the runner's current VU counts.
    Delta {
        seq: u64,
        vus: u64,
        vus_max: u64,
        delta: MetricsDelta,
    },
    /// Every delta up to `last_seq` was acknowledged and the segment is over.
    Done { last_seq: u64 },
    /// The segment could not run (init or setup failed, for instance).
    Failed { error: String },
    /// The script called `exec.test.abort()` on this runner.
    AbortRequest { reason: String },
    /// The replica is shutting down (SIGTERM) and leaves the test.
    Leaving { reason: String },
}

/// A runner's message with its identity.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct FromRunner {
    pub replica: String,
    pub epoch: String,
    #[serde(flatten)]
    pub event: RunnerEvent,
}

/// What a coordinator tells one runner.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ToRunner {
    /// Start now, with setup's data.
    Go { setup_data: Option<String> },
}

/// The coordinator's heartbeat; `abort` set once the test must stop everywhere.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Heartbeat {
    pub abort: Option<String>,
}

/// The answer to every request.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Reply {
    pub ok: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// When the message was received (Unix ns, the receiver's clock).
    #[serde(default)]
    pub received_ns: u64,
}

impl Reply {
    pub fn ok() -> Self {
        Reply {
            ok: true,
            reason: None,
            received_ns: now_ns(),
        }
    }

    pub fn refuse(reason: impl Into<String>) -> Self {
        Reply {
            ok: false,
            reason: Some(reason.into()),
            received_ns: now_ns(),
        }
    }
}

/// Unix time in nanoseconds.
pub fn now_ns() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64)
}

/// Why a request failed.
#[derive(Debug, thiserror::Error)]
pub enum ProtocolError {
    #[error("no answer within {0:?}")]
    Timeout(Duration),
    #[error("nats: {0}")]
    Nats(String),
    #[error("invalid message: {0}")]
    Invalid(String),
}

pub fn encode<T: Serialize>(m: &T) -> Bytes {
    // Serialising these types cannot fail (no maps with non-string keys, no foreign types).
    Bytes::from(serde_json::to_vec(m).unwrap_or_default())
}

pub fn decode<T: DeserializeOwned>(b: &[u8]) -> Result<T, ProtocolError> {
    serde_json::from_slice(b).map_err(|e| ProtocolError::Invalid(e.to_string()))
}

/// One request with a bound on the answer.
pub async fn request<T: Serialize>(
    client: &async_nats::Client,
    subject: String,
    message: &T,
    within: Duration,
) -> Result<Reply, ProtocolError> {
    match tokio::time::timeout(within, client.request(subject, encode(message))).await {
        Err(_) => Err(ProtocolError::Timeout(within)),
        Ok(Err(e)) => Err(ProtocolError::Nats(e.to_string())),
        Ok(Ok(m)) => decode(&m.payload),
    }
}

/// Answers a request (if it has a reply subject).
pub async fn answer(client: &async_nats::Client, msg: &async_nats::Message, reply: &Reply) {
    if let Some(to) = &msg.reply
        && let Err(e) = client.publish(to.clone(), encode(reply)).await
    {
        tracing::debug!(error = %e, "answer not sent");
    }
}
