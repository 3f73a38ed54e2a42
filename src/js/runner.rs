//! [`JsRunner`]: the engine's `Runner` for a k6 script. It owns the VU workers and the options VU
//! (`__VU` = 0), which reads `options` and later runs `setup()`, `teardown()` and `handleSummary()`.

use std::sync::Arc;

use futures_util::future::BoxFuture;
use tokio_util::sync::CancellationToken;

use crate::engine::{RunError, Runner, SetupData, VuIds};

use super::coroutine::{Command, InitInfo, Reply, SummaryOutput};
use super::shared::TestShared;
use super::vu::{JsVu, spawn_vu};
use super::worker::Workers;

/// Runs a k6 script's VUs on a pool of worker threads.
pub struct JsRunner {
    workers: Arc<Workers>,
    shared: Arc<TestShared>,
    /// The options/setup/teardown VU.
    main_vu: JsVu,
    info: InitInfo,
}

impl JsRunner {
    /// Starts the options VU: evaluates the script once and reads its exports and options. A
    /// script error here is the init error k6 exits 107 for.
    pub async fn start(workers: Arc<Workers>, shared: Arc<TestShared>) -> Result<Self, RunError> {
        let ids = VuIds {
            id_in_instance: 0,
            id_in_test: 0,
        };
        let (main_vu, info) = spawn_vu(&workers, shared.clone(), ids, true).await?;
        Ok(JsRunner {
            workers,
            shared,
            main_vu,
            info,
        })
    }

    /// What the options VU found: exports and the exported options as JSON.
    pub fn info(&self) -> &InitInfo {
        &self.info
    }

    /// State shared by all VUs (settings, counters, registry).
    pub fn shared(&self) -> &Arc<TestShared> {
        &self.shared
    }

    /// Runs `handleSummary(data)`; `Ok(None)` if the script does not export it. `text` and
    /// `text_color` are what jslib's `textSummary(data)` returns without and with colours.
    pub async fn handle_summary(
        &self,
        data_json: String,
        text: String,
        text_color: String,
    ) -> Result<Option<Vec<SummaryOutput>>, RunError> {
        let interrupt = CancellationToken::new();
        // Dropping this future (its timeout) interrupts the script.
        let _stop = interrupt.clone().drop_guard();
        let cmd = Command::HandleSummary {
            data: data_json,
            text,
            text_color,
            interrupt,
        };
        match self.main_vu.call(cmd).await? {
            Reply::Summary(r) => r,
            _ => Err(RunError::Internal(
                "unexpected reply to handleSummary".to_string(),
            )),
        }
    }

    /// Shuts the options VU down and waits for every VU worker to end. Call after all VUs the
    /// engine created were dropped.
    pub fn shutdown(self) {
        drop(self.main_vu);
        self.workers.shutdown();
    }

    /// Shuts the options VU down without waiting for the workers (the caller owns them).
    pub fn shutdown_vus(self) {
        drop(self.main_vu);
    }
}

impl Runner for JsRunner {
    type Vu = JsVu;

    fn new_vu(&self, ids: VuIds) -> BoxFuture<'static, Result<JsVu, RunError>> {
        let workers = self.workers.clone();
        let shared = self.shared.clone();
        Box::pin(async move {
            spawn_vu(&workers, shared, ids, false)
                .await
                .map(|(vu, _)| vu)
        })
    }

    fn setup(&self) -> BoxFuture<'static, Result<SetupData, RunError>> {
        let tx = self.main_vu.sender();
        Box::pin(async move {
            let interrupt = CancellationToken::new();
            // Dropped by the scheduler's timeout or abort: the script is interrupted.
            let _stop = interrupt.clone().drop_guard();
            match JsVu::call_on(&tx, Command::Setup(interrupt)).await? {
                Reply::Setup(r) => r,
                _ => Err(RunError::Internal("unexpected reply to setup".to_string())),
            }
        })
    }

    fn teardown(&self, data: SetupData) -> BoxFuture<'static, Result<(), RunError>> {
        let tx = self.main_vu.sender();
        Box::pin(async move {
            let interrupt = CancellationToken::new();
            let _stop = interrupt.clone().drop_guard();
            match JsVu::call_on(&tx, Command::Teardown(data, interrupt)).await? {
                Reply::Teardown(r) => r,
                _ => Err(RunError::Internal(
                    "unexpected reply to teardown".to_string(),
                )),
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::time::SystemTime;

    use tokio_util::sync::CancellationToken;

    use super::*;
    use crate::engine::{IterationOutcome, IterationSpec, ScenarioInfo, Vu};
    use crate::js::loader::ScriptFiles;
    use crate::metrics::{Registry, TagSet, builtin};

    async fn server() -> String {
        let app = axum::Router::new().route("/", axum::routing::get(|| async { "ok\n" }));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        format!("http://{addr}")
    }

    fn spec(exec: &str) -> IterationSpec {
        let mut tags = TagSet::new();
        tags.insert("scenario", "default");
        IterationSpec {
            scenario: Arc::new(ScenarioInfo {
                name: "default".into(),
                executor: "per-vu-iterations".into(),
                exec: exec.into(),
                env: BTreeMap::new(),
                tags,
                start_time: SystemTime::now(),
            }),
            iteration_in_instance: 0,
            iteration_in_test: 0,
            interrupt: CancellationToken::new(),
            setup_data: Arc::new(Some("{\"n\":42}".into())),
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn runs_iterations_with_sync_http_and_checks() {
        let url = server().await;
        let dir = tempfile::tempdir().unwrap();
        let script = dir.path().join("s.js");
        std::fs::write(
            &script,
            r#"
import http from 'k6/http';
import { check, group, sleep } from 'k6';
import { Counter } from 'k6/metrics';
const c = new Counter('my_counter');
export const options = { vus: 2, iterations: 4 };
export function setup() { return { n: 42 }; }
export default function (data) {
  const res = http.get(__ENV.URL + '/');
  group('g', () => { check(res, { 'is 200': (r) => r.status === 200, 'data': () => data.n === 42 }); });
  c.add(2, { k: 'v' });
  sleep(0.01);
  if (__ITER === 1) throw new Error('boom');
}
"#,
        )
        .unwrap();
        let files = ScriptFiles::new(&script, None).unwrap();
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        let mut env = BTreeMap::new();
        env.insert("URL".to_string(), url);
        let shared = Arc::new(TestShared::new(files, env, Arc::new(Registry::new()), tx));
        let workers = Arc::new(Workers::new(2).unwrap());
        let runner = JsRunner::start(workers, shared.clone()).await.unwrap();
        assert!(
            runner
                .info()
                .options_json
                .as_deref()
                .unwrap()
                .contains("\"vus\":2")
        );
        assert_eq!(runner.setup().await.unwrap().as_deref(), Some("{\"n\":42}"));
        let mut vu = runner
            .new_vu(VuIds {
                id_in_instance: 1,
                id_in_test: 1,
            })
            .await
            .unwrap();
        assert_eq!(
            vu.run_iteration(spec("default")).await,
            IterationOutcome::Completed
        );
        assert!(
            matches!(vu.run_iteration(spec("default")).await, IterationOutcome::Failed(m) if m.contains("boom"))
        );
        assert!(
            matches!(vu.run_iteration(spec("nope")).await, IterationOutcome::Failed(m) if m.contains("not found"))
        );
        drop(vu);
        runner.shutdown();
        let mut samples = Vec::new();
        while let Ok(batch) = rx.try_recv() {
            samples.extend(batch);
        }
        let count = |id| samples.iter().filter(|s| s.metric == id).count();
        assert_eq!(count(builtin::HTTP_REQS), 2);
        assert_eq!(count(builtin::ITERATIONS), 3);
        let checks: Vec<_> = samples
            .iter()
            .filter(|s| s.metric == builtin::CHECKS)
            .collect();
        assert_eq!(checks.len(), 4);
        assert!(
            checks
                .iter()
                .all(|s| s.value == 1.0 && s.tags.get("group") == Some("::g"))
        );
        let custom = shared.registry.lookup("my_counter").unwrap();
        assert_eq!(
            samples
                .iter()
                .filter(|s| s.metric == custom)
                .map(|s| s.value)
                .sum::<f64>(),
            4.0
        );
        let req = samples
            .iter()
            .find(|s| s.metric == builtin::HTTP_REQS)
            .unwrap();
        assert_eq!(req.tags.get("status"), Some("200"));
        assert_eq!(req.tags.get("scenario"), Some("default"));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn init_errors_name_the_position() {
        let dir = tempfile::tempdir().unwrap();
        let script = dir.path().join("bad.js");
        std::fs::write(&script, "export default function () {\n  http.get('x'\n}\n").unwrap();
        let files = ScriptFiles::new(&script, None).unwrap();
        let (tx, _rx) = tokio::sync::mpsc::unbounded_channel();
        let shared = Arc::new(TestShared::new(
            files,
            BTreeMap::new(),
            Arc::new(Registry::new()),
            tx,
        ));
        let workers = Arc::new(Workers::new(1).unwrap());
        let err = JsRunner::start(workers.clone(), shared)
            .await
            .err()
            .unwrap();
        let text = err.to_string();
        assert!(text.contains("bad.js:3"), "{text}");
        workers.shutdown();
    }
}
