//! One test run as a library call: script -> options -> plan -> engine -> samples -> metrics,
//! outputs and summary -> [`RunOutcome`]. `loadgate run` prints what this returns; the service
//! turns it into a `test.finished` event. Nothing here prints.

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use serde_json::Value;
use tokio::sync::oneshot;

use crate::engine::controller::SharedController;
use crate::engine::options::Options;
use crate::engine::options::network::NetworkOptions;
use crate::engine::options::plan::TestPlan;
use crate::engine::scheduler::{RunEnd, RunReport, run_test_controlled};
use crate::engine::state::TestAbort;
use crate::engine::{RunError, TimedPart};
use crate::http::RateLimiter;
use crate::js::coroutine::SummaryOutput;
use crate::js::loader::ScriptFiles;
use crate::js::runner::JsRunner;
use crate::js::shared::{TestShared, VuSettings};
use crate::js::worker::Workers;
use crate::metrics::engine::{EngineOptions, MetricsEngine};
use crate::metrics::thresholds::Evaluation;
use crate::metrics::{Registry, SampleReceiver};
use crate::output::Output;
use crate::output::summary::{SummaryOptions, build_data, build_export, text_summary};
use crate::term::log::ConsoleFile;

pub mod metrics;

pub use metrics::{EngineQueries, EngineQuery, MetricsLink, MetricsStream};

/// A callback run once the plan is known (before VUs are initialised): the shared state and the
/// plan (for the execution header and the progress display).
pub type OnStart = Box<dyn FnOnce(Arc<TestShared>, &TestPlan) + Send>;

/// Everything a test run needs.
pub struct RunConfig {
    /// The k6 script.
    pub script: PathBuf,
    /// The folder `open()` and imports may read (default: the parent of the script's folder).
    pub root: Option<PathBuf>,
    /// `__ENV` as the script sees it.
    pub env: BTreeMap<String, String>,
    /// The environment read for `K6_*` option variables.
    pub options_env: HashMap<String, String>,
    /// The main script's text when it does not come from `script` (`k6 run -`: stdin).
    pub script_source: Option<Vec<u8>>,
    /// Options below the script's (`--config` file), as k6: defaults < file < script.
    pub file_options: Option<Options>,
    /// Options between the script's and the `K6_*` environment's (the service's workload).
    pub workload: Option<Options>,
    /// Options above everything else (command-line flags).
    pub overrides: Options,
    /// Skip threshold evaluation.
    pub no_thresholds: bool,
    /// VU worker threads (default: one per core).
    pub workers: Option<usize>,
    /// How to build the summary; `None` skips it (and handleSummary).
    pub summary: Option<SummaryOptions>,
    /// Consumers of the sample stream besides the metrics engine.
    pub outputs: Vec<Box<dyn Output>>,
    /// Stops the test from outside (signals, service shutdown, maximum duration).
    pub abort: TestAbort,
    /// Called once the plan is known (for the execution header and a progress display).
    pub on_start: Option<OnStart>,
    /// Where this instance meets the others of a distributed test (`None`: alone).
    pub controller: Option<SharedController>,
    /// How metrics travel between instances of a distributed test.
    pub metrics_link: MetricsLink,
    /// Reads of the live metrics engine (the REST API); answered during the run and, after it,
    /// on the final engine until every sender is dropped.
    pub engine_queries: Option<EngineQueries>,
    /// Whether a `paused` test can be resumed (the CLI's REST API, or Ctrl+C); otherwise the
    /// `paused` option is refused instead of waiting forever (the service).
    pub resumable: bool,
    /// How remote (`https://`) modules are fetched and cached (default: from the environment).
    pub modules: crate::js::remote::RemoteConfig,
}

impl RunConfig {
    /// A configuration with defaults for everything but the script.
    pub fn new(script: impl Into<PathBuf>) -> Self {
        RunConfig {
            script: script.into(),
            root: None,
            env: BTreeMap::new(),
            options_env: HashMap::new(),
            script_source: None,
            file_options: None,
            workload: None,
            overrides: Options::default(),
            no_thresholds: false,
            workers: None,
            summary: Some(SummaryOptions::default()),
            outputs: Vec::new(),
            abort: TestAbort::new(),
            on_start: None,
            controller: None,
            metrics_link: MetricsLink::Local,
            engine_queries: None,
            resumable: false,
            modules: crate::js::remote::RemoteConfig::default(),
        }
    }
}

/// Why a test could not run at all.
#[derive(Debug, thiserror::Error)]
pub enum RunFailure {
    /// The script could not be read, or a worker could not start (k6 exit 255).
    #[error("{0}")]
    Usage(String),
    /// Invalid options or thresholds (k6 exit 104); every problem, one per line.
    #[error("{0}")]
    Config(String),
    /// The init context, setup or a VU failed (k6 exit 107/108/100).
    #[error("{0}")]
    Script(RunError),
}

/// How a test that ran ended.
#[derive(Clone, Debug, PartialEq)]
pub enum RunStatus {
    /// Ran to its end; thresholds (if any) passed.
    Passed,
    /// One or more thresholds failed (possibly aborting the run early).
    ThresholdsFailed,
    /// `exec.test.abort(msg)` (k6 exit 108).
    AbortedByScript(String),
    /// Stopped from outside before its end (k6 exit 105).
    Interrupted,
    /// Stopped through the REST API (`PATCH /v1/status`, k6 exit 103).
    StoppedFromApi,
    /// `exec.test.fail(msg)` (k6 exit 110).
    Failed(String),
    /// teardown() threw or timed out.
    TeardownFailed(String),
    /// setup() threw, called `fail()` or `exec.test.abort()`, or timed out: nothing else ran.
    SetupFailed(String),
    /// A VU was lost (a crash in loadgate, a VU stack overflow): the test stopped and failed.
    VuLost(String),
}

/// The end-of-test summary in every form.
#[derive(Debug)]
pub struct Summary {
    /// The text k6 prints by default.
    pub text: String,
    /// The `handleSummary(data)` object.
    pub data: Value,
    /// The `--summary-export` document.
    pub export: Value,
    /// What `handleSummary` returned, if the script exports it and it ran.
    pub handled: Option<Vec<SummaryOutput>>,
    /// Why `handleSummary` failed, if it did (the text summary is then the fallback).
    pub handle_error: Option<String>,
}

/// The result of a test that ran.
#[derive(Debug)]
pub struct RunOutcome {
    pub status: RunStatus,
    /// Threshold verdicts at the end, with observed values.
    pub evaluation: Evaluation,
    pub report: RunReport,
    pub summary: Option<Summary>,
    /// When the scenarios started and when the last sample was taken in.
    pub started_at: SystemTime,
    pub ended_at: SystemTime,
    pub duration: Duration,
}

/// How long the end of a test waits for the VU workers' last samples.
const FLUSH_DEADLINE: Duration = Duration::from_secs(10);

/// Runs one test to its end.
pub async fn run(mut config: RunConfig) -> Result<RunOutcome, RunFailure> {
    let source = config.script_source.take();
    let files = ScriptFiles::with_source(&config.script, source, config.root.as_deref())
        .map_err(|e| RunFailure::Usage(format!("cannot read the script: {e}")))?;
    let workers = config
        .workers
        .map_or_else(Workers::per_core, Workers::new)
        .map_err(|e| RunFailure::Usage(format!("cannot start VU workers: {e}")))?;
    let workers = Arc::new(workers);
    let registry = Arc::new(Registry::new());
    let (samples_tx, samples_rx) = tokio::sync::mpsc::unbounded_channel();
    let env = std::mem::take(&mut config.env);
    let shared = Arc::new(
        TestShared::new(files, env, registry.clone(), samples_tx)
            .with_abort(config.abort.token().clone())
            .with_remote(config.modules.clone()),
    );
    let result = match JsRunner::start(workers.clone(), shared.clone()).await {
        Ok(runner) => run_with(config, runner, &workers, shared, registry, samples_rx).await,
        Err(e) => Err(RunFailure::Script(e)),
    };
    workers.shutdown_within(Duration::from_secs(5));
    result
}

/// Consolidates and validates the options; errors are k6's exit-104 texts.
fn plan(config: &mut RunConfig, runner: &JsRunner) -> Result<(TestPlan, NetworkOptions), String> {
    let script_json = match &runner.info().options_json {
        Some(s) => serde_json::from_str(s).map_err(|e| format!("invalid options: {e}"))?,
        None => Value::Object(Default::default()),
    };
    let script = Options::from_script(&script_json).map_err(|e| e.to_string())?;
    let mut options = match config.file_options.take() {
        Some(file) => file.apply(script, "script"),
        None => script,
    };
    if let Some(w) = config.workload.take() {
        options = options.apply(w, "workload");
    }
    let env = Options::from_env(&config.options_env).map_err(|e| e.to_string())?;
    let overrides = std::mem::take(&mut config.overrides);
    let consolidated = Options::consolidate(options, env, overrides);
    let mut problems = crate::engine::options::support::refusals(&consolidated);
    let network = match NetworkOptions::from_options(&consolidated) {
        Ok(n) => Some(n),
        Err(e) => {
            problems.extend(e);
            None
        }
    };
    let network = match network {
        Some(n) if problems.is_empty() => n,
        _ => return Err(problems.join("\n")),
    };
    if consolidated.paused == Some(true) && !config.resumable {
        return Err(
            "the paused option needs k6's REST API to resume the test, and only `loadgate run` has it"
                .to_string(),
        );
    }
    let plan = TestPlan::new(consolidated).map_err(|e| e.to_string())?;
    let exports = &runner.info().exports;
    for name in plan.exec_names() {
        if !exports.iter().any(|e| e == name) {
            return Err(format!("function '{name}' not found in exports"));
        }
    }
    Ok((plan, network))
}

fn settings_from(plan: &TestPlan, network: NetworkOptions) -> VuSettings {
    let o = &plan.options;
    let defaults = VuSettings::default();
    VuSettings {
        user_agent: o.user_agent.clone().unwrap_or(defaults.user_agent),
        max_redirects: o.max_redirects.unwrap_or(10).max(0) as u32,
        discard_response_bodies: o.discard_response_bodies.unwrap_or(false),
        no_cookies_reset: o.no_cookies_reset.unwrap_or(false),
        throw: o.throw.unwrap_or(false),
        test_tags: o.run_tags(),
        min_iteration_duration: o
            .min_iteration_duration
            .as_ref()
            .map(|d| d.to_std())
            .unwrap_or(Duration::ZERO),
        rps: network.rps.map(|r| Arc::new(RateLimiter::new(r))),
        tls: None,
        resolver: Some(Arc::new(crate::http::dns::Resolver::new(network.dns))),
        network: Arc::new(network),
        insecure_skip_tls_verify: o.insecure_skip_tls_verify.unwrap_or(false),
        http_debug: match o.http_debug.as_deref() {
            Some("full") => Some(true),
            Some("") | None => None,
            Some(_) => Some(false),
        },
    }
}

async fn run_with(
    mut config: RunConfig,
    runner: JsRunner,
    workers: &Workers,
    shared: Arc<TestShared>,
    registry: Arc<Registry>,
    samples_rx: SampleReceiver,
) -> Result<RunOutcome, RunFailure> {
    let (plan, network) = match plan(&mut config, &runner) {
        Ok(p) => p,
        Err(e) => {
            runner.shutdown_vus();
            return Err(RunFailure::Config(e));
        }
    };
    let thresholds = plan
        .options
        .thresholds
        .as_ref()
        .filter(|_| !config.no_thresholds);
    let engine = match MetricsEngine::new(registry.clone(), thresholds, EngineOptions::default()) {
        Ok(e) => e,
        Err(errors) => {
            runner.shutdown_vus();
            let text = errors.iter().map(ToString::to_string).collect::<Vec<_>>();
            return Err(RunFailure::Config(text.join("\n")));
        }
    };
    if let Some(path) = plan
        .options
        .console_output
        .as_deref()
        .filter(|p| !p.is_empty())
    {
        match ConsoleFile::open(std::path::Path::new(path)) {
            Ok(f) => shared.set_console_output(Arc::new(f)),
            Err(e) => {
                runner.shutdown_vus();
                return Err(RunFailure::Usage(format!(
                    "cannot open the console output file {path}: {e}"
                )));
            }
        }
    }
    let tls = if network.tls.is_default() {
        None
    } else {
        let insecure = plan.options.insecure_skip_tls_verify.unwrap_or(false);
        if network
            .tls
            .client_certs
            .iter()
            .any(|c| !c.domains.is_empty())
        {
            // k6's warning, word for word: the domains do not choose anything (see
            // http::client_cert).
            tracing::warn!(
                "tlsAuth.domains option could be removed in the next releases, it's recommended to leave it empty and let k6 automatically detect from the provided certificate. It follows the Go's NameToCertificate deprecation - https://pkg.go.dev/crypto/tls@go1.17#Config."
            );
        }
        match crate::http::tls::build_with(insecure, &network.tls) {
            Ok(c) => Some(c),
            Err(e) => {
                runner.shutdown_vus();
                return Err(RunFailure::Config(e));
            }
        }
    };
    let mut settings = settings_from(&plan, network);
    settings.tls = tls;
    shared.set_settings(settings);
    if let Ok(mut o) = shared.options_json.write() {
        *o = Some(plan.options_json().to_string());
    }
    let controller = config
        .controller
        .take()
        .unwrap_or_else(crate::engine::controller::local);
    if let Err(e) = controller.prepare(&plan, shared.execution.clone(), config.abort.clone()) {
        runner.shutdown_vus();
        return Err(RunFailure::Config(e));
    }
    if let Some(on_start) = config.on_start.take() {
        on_start(shared.clone(), &plan);
    }

    let outputs = std::mem::take(&mut config.outputs);
    let stream = if matches!(config.metrics_link, MetricsLink::Merge(_)) {
        match MetricsStream::merging(engine, outputs) {
            Ok(s) => s,
            Err(e) => {
                runner.shutdown_vus();
                return Err(RunFailure::Config(e.to_string()));
            }
        }
    } else {
        MetricsStream::new(engine, outputs)
    }
    .with_queries(config.engine_queries.take());
    let runner = Arc::new(runner);
    let abort = config.abort.clone();
    let started = Instant::now();
    let started_at = SystemTime::now();
    let (done_tx, done_rx) = oneshot::channel();
    let metrics = tokio::spawn(stream.run(
        samples_rx,
        std::mem::take(&mut config.metrics_link),
        abort.clone(),
        started,
        done_rx,
    ));
    let state = shared.execution.clone();
    let result = run_test_controlled(
        runner.clone(),
        &plan,
        shared.samples.clone(),
        abort,
        state,
        controller,
    )
    .await;
    let duration = started.elapsed();
    // A worker busy in native code (or lost) must not hold the end of the test forever.
    if !workers.flush_within(FLUSH_DEADLINE).await {
        tracing::warn!(
            "the VU workers did not hand over their last samples within {FLUSH_DEADLINE:?}"
        );
    }
    let _ = done_tx.send(());
    let mut stream = metrics
        .await
        .map_err(|e| RunFailure::Usage(format!("internal error: the metrics task failed: {e}")))?;
    let queries = stream.take_queries();
    let mut engine = stream.finish().await;
    let ended_at = SystemTime::now();
    let report = match result {
        Ok(r) => r,
        Err(e) => {
            finish_runner(runner);
            return Err(RunFailure::Script(e));
        }
    };
    let evaluation = engine.evaluate(duration, true);
    let summary = match config.summary.take() {
        Some(mut opts) => {
            opts.trend_stats = plan.options.summary_trend_stats();
            opts.time_unit = plan.options.summary_time_unit.clone().unwrap_or_default();
            opts.test_run_duration = duration;
            opts.setup_data = report
                .setup_data
                .as_deref()
                .and_then(|s| serde_json::from_str(s).ok());
            let limit = plan.options.handle_summary_timeout();
            Some(summarize(&runner, &mut engine, &opts, limit).await)
        }
        None => None,
    };
    finish_runner(runner);
    let status = status_of(&report, &evaluation, shared.failed());
    if let Some(queries) = queries {
        tokio::spawn(metrics::answer_queries(engine, queries));
    }
    Ok(RunOutcome {
        status,
        evaluation,
        report,
        summary,
        started_at,
        ended_at,
        duration,
    })
}

fn status_of(report: &RunReport, evaluation: &Evaluation, failed: Option<String>) -> RunStatus {
    // k6's exit code then is setup's (107, 108, 100), whatever the thresholds say.
    if let Some(e) = &report.setup_error {
        return RunStatus::SetupFailed(e.to_string());
    }
    match &report.end {
        RunEnd::AbortedByScript(msg) => return RunStatus::AbortedByScript(msg.clone()),
        RunEnd::Interrupted => return RunStatus::Interrupted,
        RunEnd::StoppedFromApi => return RunStatus::StoppedFromApi,
        RunEnd::VuLost(msg) => return RunStatus::VuLost(msg.clone()),
        RunEnd::AbortedByThreshold | RunEnd::Completed => {}
    }
    if evaluation.failed {
        return RunStatus::ThresholdsFailed;
    }
    if let Some(e) = &report.teardown_error {
        return RunStatus::TeardownFailed(e.to_string());
    }
    if let Some(msg) = failed {
        return RunStatus::Failed(msg);
    }
    RunStatus::Passed
}

async fn summarize(
    runner: &JsRunner,
    engine: &mut MetricsEngine,
    opts: &SummaryOptions,
    limit: Duration,
) -> Summary {
    let text = text_summary(engine, opts);
    let data = build_data(engine, opts);
    let export = build_export(engine, opts);
    let (handled, handle_error) = if runner.info().exports.iter().any(|e| e == "handleSummary") {
        let mut colored = opts.clone();
        colored.no_color = false;
        let mut plain = opts.clone();
        plain.no_color = true;
        let (text_plain, text_color) =
            (text_summary(engine, &plain), text_summary(engine, &colored));
        let call = runner.handle_summary(data.to_string(), text_plain, text_color);
        // Past handleSummaryTimeout the call is dropped, which interrupts the script (k6's text).
        match tokio::time::timeout(limit, call).await {
            Ok(Ok(h)) => (h, None),
            Ok(Err(e)) => (None, Some(e.to_string())),
            Err(_) => (
                None,
                Some(
                    RunError::Timeout {
                        part: TimedPart::HandleSummary,
                        limit,
                    }
                    .to_string(),
                ),
            ),
        }
    } else {
        (None, None)
    };
    Summary {
        text,
        data,
        export,
        handled,
        handle_error,
    }
}

/// Shuts the options VU down once no executor holds the runner any more.
fn finish_runner(runner: Arc<JsRunner>) {
    if let Ok(r) = Arc::try_unwrap(runner) {
        r.shutdown_vus();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn paused_without_a_way_to_resume_is_refused_not_a_hang() {
        let dir = tempfile::tempdir().unwrap();
        let script = dir.path().join("p.js");
        std::fs::write(
            &script,
            "export const options = { paused: true, iterations: 1 };\nexport default function () {}\n",
        )
        .unwrap();
        let mut config = RunConfig::new(&script);
        config.workers = Some(1);
        config.summary = None;
        match run(config).await {
            Err(RunFailure::Config(e)) => assert!(e.contains("paused"), "{e}"),
            other => panic!("expected a config error, got {other:?}"),
        }
    }
}
