//! k6's REST API (v1) of `loadgate run`: `--address` (default `localhost:6565`, off with
//! `--address ''`), `GET`/`PATCH /v1/status` (pause, resume, stop), `GET /v1/metrics[/{id}]`,
//! `GET /v1/groups[/{id}]` and `GET /v1/setup`, with k6 v1.1's JSON:API documents ([`json`]) and
//! error texts. The server is bound before the test loads; the [`Control`] of the test is handed
//! over once the plan is known ([`ApiServer::attach`]). Metrics and groups are read on the metrics
//! engine's own task through [`EngineQuery`]s, during the run and, with `--linger`, after it.
//!
//! Not implemented, refused with 501: running setup()/teardown() or replacing the setup data
//! from the API (`POST`/`PUT /v1/setup`, `POST /v1/teardown`).

pub mod json;

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::Value;
use tokio::sync::{mpsc, oneshot};
use tokio_util::sync::CancellationToken;

use crate::engine::state::{AbortReason, ExecutionState, TestAbort};
use crate::metrics::engine::MetricsEngine;
use crate::run::{EngineQueries, EngineQuery};

/// The executor that takes live changes (k6 pauses and scales only this one after the start).
pub const EXTERNALLY_CONTROLLED: &str = "externally-controlled";

/// How long a request waits for the metrics engine's answer.
const QUERY_TIMEOUT: Duration = Duration::from_secs(5);

/// What the API can see and do of one running test (k6's `ControlSurface`).
pub struct Control {
    pub state: Arc<ExecutionState>,
    pub abort: TestAbort,
    /// `(scenario name, executor type)` of every scenario, in plan order.
    pub executors: Vec<(String, String)>,
}

struct Shared {
    control: OnceLock<Control>,
    engine: mpsc::UnboundedSender<EngineQuery>,
}

/// Hands a test over to a running [`ApiServer`].
#[derive(Clone)]
pub struct ApiHandle(Arc<Shared>);

impl ApiHandle {
    /// Hands the test over to the API (once; later calls are ignored).
    pub fn attach(&self, control: Control) {
        let _ = self.0.control.set(control);
    }
}

/// The bound REST API server of one `loadgate run`.
pub struct ApiServer {
    shared: Arc<Shared>,
    stop: CancellationToken,
    task: tokio::task::JoinHandle<()>,
    /// The address it listens on.
    pub local_addr: std::net::SocketAddr,
}

impl ApiServer {
    /// Binds `addr` and starts serving; the returned receiver goes to the run
    /// ([`crate::run::RunConfig::engine_queries`]).
    pub async fn bind(addr: &str) -> std::io::Result<(ApiServer, EngineQueries)> {
        let listener = tokio::net::TcpListener::bind(addr).await?;
        let local_addr = listener.local_addr()?;
        let (tx, rx) = mpsc::unbounded_channel();
        let shared = Arc::new(Shared {
            control: OnceLock::new(),
            engine: tx,
        });
        let stop = CancellationToken::new();
        let app = router(shared.clone());
        let token = stop.clone();
        let task = tokio::spawn(async move {
            let served = axum::serve(listener, app)
                .with_graceful_shutdown(async move { token.cancelled().await })
                .await;
            if let Err(e) = served {
                tracing::warn!("the REST API server stopped: {e}");
            }
        });
        Ok((
            ApiServer {
                shared,
                stop,
                task,
                local_addr,
            },
            rx,
        ))
    }

    /// A handle to hand the test over with, once its plan is known.
    pub fn handle(&self) -> ApiHandle {
        ApiHandle(self.shared.clone())
    }

    /// Stops the server (open requests get up to a second, as k6's shutdown).
    pub async fn shutdown(self) {
        self.stop.cancel();
        let mut task = self.task;
        if tokio::time::timeout(Duration::from_secs(1), &mut task)
            .await
            .is_err()
        {
            task.abort();
        }
    }
}

fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/v1/status", get(get_status).patch(patch_status))
        .route("/v1/metrics", get(get_metrics))
        .route("/v1/metrics/{id}", get(get_metric))
        .route("/v1/groups", get(get_groups))
        .route("/v1/groups/{id}", get(get_group))
        .route(
            "/v1/setup",
            get(get_setup).post(not_implemented).put(not_implemented),
        )
        .route("/v1/teardown", post(not_implemented))
        .with_state(shared)
}

fn respond(code: StatusCode, body: &Value) -> Response {
    (
        code,
        [(header::CONTENT_TYPE, "application/json; charset=utf-8")],
        body.to_string(),
    )
        .into_response()
}

fn api_error(code: StatusCode, title: &str, detail: &str) -> Response {
    respond(code, &json::error(code.as_u16(), title, detail))
}

fn not_loaded() -> Response {
    api_error(
        StatusCode::SERVICE_UNAVAILABLE,
        "Not ready",
        "the test is still being loaded",
    )
}

/// Runs `read` on the metrics engine's task; `None` when it does not answer.
async fn query<T: Send + 'static>(
    shared: &Shared,
    read: impl FnOnce(&mut MetricsEngine) -> T + Send + 'static,
) -> Option<T> {
    let (tx, rx) = oneshot::channel();
    let q: EngineQuery = Box::new(move |engine| {
        let _ = tx.send(read(engine));
    });
    shared.engine.send(q).ok()?;
    tokio::time::timeout(QUERY_TIMEOUT, rx).await.ok()?.ok()
}

fn engine_unavailable() -> Response {
    api_error(
        StatusCode::SERVICE_UNAVAILABLE,
        "Metrics unavailable",
        "the metrics engine did not answer",
    )
}

async fn status_of(shared: &Shared, c: &Control) -> json::Status {
    let tainted = query(shared, |e| e.breached_count()).await;
    json::Status {
        status: c.state.status(),
        paused: c.state.is_paused(),
        vus: c.state.vus_active(),
        vus_max: c.state.vus_initialized(),
        stopped: c.abort.is_aborted(),
        running: c.state.has_started() && !c.state.has_ended(),
        tainted: tainted.unwrap_or(0) > 0,
    }
}

async fn get_status(State(shared): State<Arc<Shared>>) -> Response {
    let Some(c) = shared.control.get() else {
        return not_loaded();
    };
    let s = status_of(&shared, c).await;
    respond(StatusCode::OK, &json::status(&s))
}

/// The attributes a `PATCH /v1/status` may set (others are ignored, as k6's decoder does).
#[derive(Debug, Default, PartialEq)]
struct StatusPatch {
    paused: Option<bool>,
    vus: Option<i64>,
    vus_max: Option<i64>,
    stopped: bool,
}

fn parse_patch(body: &[u8]) -> Result<StatusPatch, String> {
    let doc: Value = serde_json::from_slice(body).map_err(|e| e.to_string())?;
    let attrs = doc.pointer("/data/attributes");
    let field = |name: &str| attrs.and_then(|a| a.get(name)).filter(|v| !v.is_null());
    let boolean = |name: &str| -> Result<Option<bool>, String> {
        field(name)
            .map(|v| {
                v.as_bool().ok_or_else(|| {
                    format!("cannot unmarshal {v} into the status field \"{name}\" of type bool")
                })
            })
            .transpose()
    };
    let int = |name: &str| -> Result<Option<i64>, String> {
        field(name)
            .map(|v| {
                v.as_i64().ok_or_else(|| {
                    format!("cannot unmarshal {v} into the status field \"{name}\" of type int64")
                })
            })
            .transpose()
    };
    Ok(StatusPatch {
        paused: boolean("paused")?,
        vus: int("vus")?,
        vus_max: int("vus-max")?,
        stopped: boolean("stopped")?.unwrap_or(false),
    })
}

/// k6's `Scheduler.SetPaused`: before the start a paused test can be resumed; otherwise every
/// executor must support pausing (only externally-controlled does).
async fn set_paused(c: &Control, pause: bool) -> Result<(), String> {
    if !c.state.has_started() && c.state.is_paused() {
        if pause {
            return Err("execution is already paused".to_string());
        }
        c.state.set_paused(false);
        return Ok(());
    }
    if let Some((name, executor)) = c
        .executors
        .iter()
        .find(|(_, executor)| executor != EXTERNALLY_CONTROLLED)
    {
        return Err(format!(
            "{executor} executor '{name}' doesn't support pause and resume operations after its start"
        ));
    }
    if let Some(external) = c.state.external() {
        external.set_paused(pause).await?;
    }
    c.state.set_paused(pause);
    Ok(())
}

async fn patch_status(State(shared): State<Arc<Shared>>, body: Bytes) -> Response {
    let Some(c) = shared.control.get() else {
        return not_loaded();
    };
    let patch = match parse_patch(&body) {
        Ok(p) => p,
        Err(e) => return api_error(StatusCode::BAD_REQUEST, "Invalid data", &e),
    };
    if patch.stopped {
        if !c.abort.is_aborted() {
            tracing::debug!("test run stopped from REST API");
        }
        c.abort.abort(AbortReason::RestApi);
    } else {
        if let Some(pause) = patch.paused
            && let Err(e) = set_paused(c, pause).await
        {
            return api_error(StatusCode::INTERNAL_SERVER_ERROR, "Pause error", &e);
        }
        if patch.vus.is_some() || patch.vus_max.is_some() {
            let Some(external) = c.state.external() else {
                return api_error(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "Execution config error",
                    "an externally-controlled executor needs to be configured for live configuration updates",
                );
            };
            if let Err(e) = external.scale(patch.vus, patch.vus_max).await {
                return api_error(StatusCode::BAD_REQUEST, "Config update error", &e);
            }
        }
    }
    let s = status_of(&shared, c).await;
    respond(StatusCode::OK, &json::status(&s))
}

fn elapsed_secs(shared: &Shared) -> f64 {
    shared
        .control
        .get()
        .map_or(0.0, |c| c.state.current_test_run_duration().as_secs_f64())
}

async fn get_metrics(State(shared): State<Arc<Shared>>) -> Response {
    let t = elapsed_secs(&shared);
    match query(&shared, move |e| json::metrics(e, t)).await {
        Some(doc) => respond(StatusCode::OK, &doc),
        None => engine_unavailable(),
    }
}

async fn get_metric(State(shared): State<Arc<Shared>>, Path(id): Path<String>) -> Response {
    let t = elapsed_secs(&shared);
    match query(&shared, move |e| json::metric(e, t, &id)).await {
        Some(Some(doc)) => respond(StatusCode::OK, &doc),
        Some(None) => api_error(
            StatusCode::NOT_FOUND,
            "Not Found",
            "No metric with that ID was found",
        ),
        None => engine_unavailable(),
    }
}

async fn get_groups(State(shared): State<Arc<Shared>>) -> Response {
    match query(&shared, |e| json::groups(e)).await {
        Some(doc) => respond(StatusCode::OK, &doc),
        None => engine_unavailable(),
    }
}

async fn get_group(State(shared): State<Arc<Shared>>, Path(id): Path<String>) -> Response {
    match query(&shared, move |e| json::group(e, &id)).await {
        Some(Some(doc)) => respond(StatusCode::OK, &doc),
        Some(None) => api_error(
            StatusCode::NOT_FOUND,
            "Not Found",
            "No group with that ID was found",
        ),
        None => engine_unavailable(),
    }
}

async fn get_setup(State(shared): State<Arc<Shared>>) -> Response {
    let Some(c) = shared.control.get() else {
        return not_loaded();
    };
    let data = c.state.setup_data();
    respond(StatusCode::OK, &json::setup_data(data.as_deref()))
}

async fn not_implemented() -> Response {
    api_error(
        StatusCode::NOT_IMPLEMENTED,
        "Not implemented",
        "loadgate does not run setup() or teardown() or replace the setup data from the REST API; \
         the test runs them itself",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patch_bodies_as_k6_decodes_them() {
        assert_eq!(
            parse_patch(br#"{"data":{"attributes":{"paused":false}}}"#).unwrap(),
            StatusPatch {
                paused: Some(false),
                ..StatusPatch::default()
            }
        );
        assert_eq!(
            parse_patch(
                br#"{"data":{"type":"status","attributes":{"vus":3,"vus-max":5,"paused":null}}}"#
            )
            .unwrap(),
            StatusPatch {
                vus: Some(3),
                vus_max: Some(5),
                ..StatusPatch::default()
            }
        );
        assert_eq!(parse_patch(b"{}").unwrap(), StatusPatch::default());
        assert!(parse_patch(b"xx").is_err());
        let e = parse_patch(br#"{"data":{"attributes":{"paused":"yes"}}}"#).unwrap_err();
        assert!(e.contains("\"paused\""), "{e}");
    }

    fn control(executors: &[(&str, &str)]) -> Control {
        Control {
            state: Arc::new(ExecutionState::new()),
            abort: TestAbort::new(),
            executors: executors
                .iter()
                .map(|(n, e)| (n.to_string(), e.to_string()))
                .collect(),
        }
    }

    #[tokio::test]
    async fn pause_rules_of_k6s_scheduler() {
        let c = control(&[("default", "constant-vus")]);
        assert_eq!(
            set_paused(&c, true).await.unwrap_err(),
            "constant-vus executor 'default' doesn't support pause and resume operations after its start"
        );
        c.state.set_paused(true);
        assert_eq!(
            set_paused(&c, true).await.unwrap_err(),
            "execution is already paused"
        );
        set_paused(&c, false).await.unwrap();
        assert!(!c.state.is_paused());
    }
}
