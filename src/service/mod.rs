//! `loadgate serve`: the Keptn test service. Owns the transports (HTTP via axum, NATS via
//! async-nats), the [`jobs::JobManager`] they feed, the service metrics and graceful shutdown.
//!
//! Receives `...test.triggered` CloudEvents; emits `.started`/`.finished` answers (see
//! [`crate::keptn`]) on the transport the event came from, and runs each test with
//! [`crate::run::run`]. Outputs for a test (Prometheus remote write) come from
//! [`ServiceConfig::outputs`], a factory the binary wires.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::keptn::resource::Secret;
use crate::output::Output;
use crate::workload::WorkloadSource;

pub mod answer;
pub mod capture;
pub mod http;
pub mod job;
pub mod jobs;
pub mod metrics;
pub mod nats;
pub mod scale;

pub use answer::Responder;
pub use jobs::{JobManager, JobState, Submitted};

/// The Keptn context of one test, for labelling its metrics.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JobLabels {
    pub project: String,
    pub stage: String,
    pub service: String,
    pub keptn_context: String,
    /// The triggered event's id.
    pub testid: String,
}

/// Builds the outputs of one test from its labels.
pub type OutputsFactory = Arc<dyn Fn(&JobLabels) -> Vec<Box<dyn Output>> + Send + Sync>;

/// The default triggered type.
pub const DEFAULT_TYPE: &str = "sh.keptn.event.test.triggered";

/// Everything `loadgate serve` is configured with.
#[derive(Clone)]
pub struct ServiceConfig {
    /// NATS server URL; `None`: HTTP only.
    pub nats_url: Option<String>,
    /// NATS authentication and TLS.
    pub nats_settings: nats::NatsSettings,
    /// The `...triggered` types taken (also the NATS subjects).
    pub types: Vec<String>,
    /// The NATS queue group.
    pub queue_group: String,
    pub source: WorkloadSource,
    /// Where HTTP-delivered events are answered (Keptn's distributor).
    pub distributor_url: String,
    /// The Keptn API (answers go to `{api}/v1/event` instead of the distributor).
    pub keptn_api_endpoint: Option<String>,
    pub keptn_api_token: Option<Secret>,
    pub max_concurrent_tests: usize,
    pub max_test_duration: Duration,
    /// How long running tests may go on after SIGTERM before they are aborted.
    pub shutdown_grace: Duration,
    /// The largest `POST /` body accepted.
    pub max_body_bytes: usize,
    /// VU worker threads per test (default: one per core).
    pub workers: Option<usize>,
    pub outputs: OutputsFactory,
    /// Delivery counters of the remote-write outputs, shown on `/metrics`.
    pub remote_write_stats: Option<Arc<crate::output::prometheus::RwStats>>,
    /// How long a scale-out coordinator waits for enough free replicas (`--runner-wait`).
    pub runner_wait: Duration,
}

impl Default for ServiceConfig {
    fn default() -> Self {
        ServiceConfig {
            nats_url: None,
            nats_settings: nats::NatsSettings::default(),
            types: vec![DEFAULT_TYPE.to_string()],
            queue_group: "loadgate".into(),
            source: WorkloadSource::Embedded,
            distributor_url: "http://localhost:8081/event".into(),
            keptn_api_endpoint: None,
            keptn_api_token: None,
            max_concurrent_tests: 2,
            max_test_duration: Duration::from_secs(3600),
            shutdown_grace: Duration::from_secs(30),
            max_body_bytes: 1024 * 1024,
            workers: None,
            outputs: Arc::new(|_| Vec::new()),
            remote_write_stats: None,
            runner_wait: Duration::from_secs(60),
        }
    }
}

/// Why the service could not start.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    #[error(transparent)]
    Nats(#[from] nats::NatsError),
    #[error("cannot set up metrics: {0}")]
    Metrics(#[from] prometheus::Error),
    #[error("http server address: {0}")]
    Io(#[from] std::io::Error),
}

/// A running service.
pub struct Running {
    pub jobs: JobManager,
    addr: SocketAddr,
    grace: Duration,
    http_stop: CancellationToken,
    http: tokio::task::JoinHandle<()>,
    nats_sub: Option<tokio::task::JoinHandle<()>>,
    scale_sub: Option<tokio::task::JoinHandle<()>>,
    nats: Option<async_nats::Client>,
}

/// Starts the service on `listener` (and NATS when configured).
pub async fn start(config: ServiceConfig, listener: TcpListener) -> Result<Running, ServiceError> {
    crate::tls::install_default_provider();
    let metrics = metrics::ServiceMetrics::new(config.remote_write_stats.clone())?;
    // NATS first: with it, this replica takes part in scale-out (as coordinator or runner).
    let client = match &config.nats_url {
        Some(url) => Some(nats::connect(url, &config.nats_settings).await?),
        None => None,
    };
    let scale_out = client.clone().map(|c| {
        let mut s = crate::distributed::ScaleOut::new(c);
        s.runner_wait = config.runner_wait;
        s
    });
    let ctx = job::JobContext {
        source: config.source.clone(),
        outputs: config.outputs.clone(),
        max_test_duration: config.max_test_duration,
        workers: config.workers,
        abort_all: CancellationToken::new(),
        scale_out: scale_out.clone(),
        roles: Arc::default(),
    };
    let jobs = JobManager::new(ctx, config.max_concurrent_tests, metrics);
    let (nats, nats_sub, scale_sub) = match (client, scale_out) {
        (Some(client), Some(scale)) => {
            let replica = scale.replica.clone();
            let scale_sub = scale::serve(scale, jobs.clone()).await.map_err(|reason| {
                nats::NatsError::Subscribe {
                    subject: "loadgate.>".into(),
                    reason,
                }
            })?;
            let sub = nats::subscribe(
                client.clone(),
                config.types.clone(),
                config.queue_group.clone(),
                jobs.clone(),
            )
            .await?;
            tracing::info!(url = %crate::redact::url(config.nats_url.as_deref().unwrap_or_default()), group = %config.queue_group, types = ?config.types, %replica, auth = config.nats_settings.describe(), "nats subscribed");
            (Some(client), Some(sub), Some(scale_sub))
        }
        _ => (None, None, None),
    };
    let responder = Responder::http(
        &config.distributor_url,
        config.keptn_api_endpoint.as_deref(),
        config.keptn_api_token.clone(),
    );
    let state = http::AppState {
        jobs: jobs.clone(),
        types: Arc::new(config.types.clone()),
        responder,
        nats: nats.clone(),
    };
    let addr = listener.local_addr()?;
    let http_stop = CancellationToken::new();
    let stop = http_stop.clone();
    let app = http::app(state, config.max_body_bytes);
    let http = tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, app)
            .with_graceful_shutdown(async move { stop.cancelled().await })
            .await
        {
            tracing::error!(error = %e, "http server stopped");
        }
    });
    tracing::info!(%addr, workloads = %config.source.describe(), "loadgate service listening");
    Ok(Running {
        jobs,
        addr,
        grace: config.shutdown_grace,
        http_stop,
        http,
        nats_sub,
        scale_sub,
        nats,
    })
}

impl Running {
    /// The HTTP address.
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// Graceful shutdown: stop taking events, let tests end within the grace period, abort the
    /// rest, send every `.finished`, then stop HTTP and NATS.
    pub async fn shutdown(self) {
        tracing::info!(grace = ?self.grace, "shutting down");
        self.jobs.shutdown(self.grace).await;
        if let Some(s) = self.nats_sub {
            let _ = s.await;
        }
        if let Some(s) = self.scale_sub {
            let _ = s.await;
        }
        if let Some(c) = &self.nats {
            let _ = tokio::time::timeout(Duration::from_secs(5), c.flush()).await;
        }
        self.http_stop.cancel();
        let _ = tokio::time::timeout(Duration::from_secs(5), self.http).await;
        tracing::info!("stopped");
    }
}
