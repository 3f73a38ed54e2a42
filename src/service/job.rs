//! One test job, from `.started` to `.finished`: resolve the workload, run the engine with a
//! maximum duration and the service's abort, and turn the outcome into a `.finished` answer.
//!
//! Receives a validated [`Triggered`] event (possibly with a data error) and the job's context;
//! emits exactly one [`Finished`] whatever happens (the caller sends it), plus the summary JSON for
//! `GET /v1/tests/{id}`.

use std::collections::BTreeMap;
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering};
use std::time::{Duration, SystemTime};

use serde_json::Value;
use tokio_util::sync::CancellationToken;

use super::{JobLabels, OutputsFactory};
use crate::distributed::coordinator::{Coordinator, CoordinatorReport, TestSpec};
use crate::distributed::protocol::{self, Prepare};
use crate::distributed::provision::NatsDiscovery;
use crate::distributed::{Segments, bundle};
use crate::engine::duration::GoDuration;
use crate::engine::state::{AbortReason, TestAbort};
use crate::keptn::{Finished, Triggered};
use crate::metrics::MetricType;
use crate::metrics::thresholds::{Evaluation, ThresholdOutcome};
use crate::output::summary::format::humanize_value;
use crate::run::{MetricsLink, RunConfig, RunFailure, RunOutcome, RunStatus};
use crate::workload::{OnThresholdFail, WorkloadSource};

/// What one job needs besides its event.
#[derive(Clone)]
pub struct JobContext {
    pub source: WorkloadSource,
    pub outputs: OutputsFactory,
    pub max_test_duration: Duration,
    /// VU worker threads per test (default: one per core).
    pub workers: Option<usize>,
    /// Cancelled when the service gives up waiting for running tests (after the grace period).
    pub abort_all: CancellationToken,
    /// Scale-out over NATS (`None`: no NATS, tests run on this replica only).
    pub scale_out: Option<crate::distributed::ScaleOut>,
    /// Roles of scale-out tests by id (`coordinator`), for `/v1/tests`.
    pub roles: Arc<std::sync::Mutex<HashMap<String, &'static str>>>,
}

/// The end of a job: the answer and the summary export JSON, if the test ran.
pub struct JobResult {
    pub finished: Finished,
    /// The summary export JSON.
    pub summary: Option<Value>,
    /// The end-of-test text summary.
    pub summary_text: Option<String>,
}

const STOP_NONE: u8 = 0;
const STOP_TIMEOUT: u8 = 1;
const STOP_SHUTDOWN: u8 = 2;

/// Runs the job to its end; never panics on input, always returns a `.finished`.
pub async fn execute(t: &Triggered, ctx: &JobContext) -> JobResult {
    execute_watched(t, ctx, None).await
}

/// [`execute`], calling `on_start` with the test's live state once its plan is known (for
/// `/v1/tests/{id}` of a running test).
pub async fn execute_watched(
    t: &Triggered,
    ctx: &JobContext,
    on_start: Option<crate::run::OnStart>,
) -> JobResult {
    let start = SystemTime::now();
    let errored = |msg: String| JobResult {
        finished: Finished::errored(msg, start),
        summary: None,
        summary_text: None,
    };
    if let Some(e) = &t.data_error {
        return errored(format!("invalid test.triggered event: {e}"));
    }
    let resolved = tokio::select! {
        r = tokio::time::timeout(Duration::from_secs(120), ctx.source.resolve(t)) => match r {
            Ok(Ok(r)) => r,
            Ok(Err(e)) => return errored(format!("no workload from the {}: {e}", ctx.source.describe())),
            Err(_) => return errored("fetching the workload took longer than 2m0s".into()),
        },
        _ = ctx.abort_all.cancelled() => return errored("service shutting down before the test started".into()),
    };
    let w = &resolved.workload;
    let strategy = t.teststrategy.as_deref().unwrap_or("default");
    let Some(target) = t.deployment_url.clone().or_else(|| w.target.clone()) else {
        return errored(format!(
            "no target URL: the event has no deployment.deploymentURIsLocal/deploymentURIsPublic and workload '{}' sets no target",
            w.teststrategy
        ));
    };
    let parallelism = match w.parallelism {
        None | Some(1) => 1,
        Some(0) => {
            return errored(format!(
                "invalid workload '{}': parallelism must be at least 1, got 0",
                w.teststrategy
            ));
        }
        Some(p) => p as usize,
    };
    let options = match w.options() {
        Ok(o) => o,
        Err(e) => return errored(format!("invalid workload '{}': {e}", w.teststrategy)),
    };
    let labels = JobLabels {
        project: t.project.clone(),
        stage: t.stage.clone(),
        service: t.service.clone(),
        keptn_context: t.shkeptncontext.clone(),
        testid: t.id.clone(),
    };
    let mut env: BTreeMap<String, String> = w.env.clone();
    env.insert("TARGET_URL".into(), target.clone());
    env.insert("PROJECT".into(), t.project.clone());
    env.insert("STAGE".into(), t.stage.clone());
    env.insert("SERVICE".into(), t.service.clone());
    env.insert("KEPTN_CONTEXT".into(), t.shkeptncontext.clone());
    let options_env: HashMap<String, String> = std::env::vars()
        .filter(|(k, _)| k.starts_with("K6_"))
        .collect();
    let abort = TestAbort::new();
    let mut config = RunConfig::new(resolved.script.clone());
    config.root = Some(resolved.root.clone());
    config.env = env;
    config.options_env = options_env;
    config.workload = Some(options);
    config.outputs = (ctx.outputs)(&labels);
    config.abort = abort.clone();
    config.workers = ctx.workers;
    config.on_start = on_start;
    config.summary = Some(crate::output::summary::SummaryOptions {
        no_color: true,
        ..Default::default()
    });
    let coordinator = if parallelism > 1 {
        match coordinate(t, ctx, &resolved, parallelism, &mut config) {
            Ok(c) => Some(c),
            Err(e) => return errored(e),
        }
    } else {
        None
    };
    tracing::info!(teststrategy = strategy, script = %w.script, %target, parallelism, "test starting");

    let stop = Arc::new(AtomicU8::new(STOP_NONE));
    let watchdog = {
        let (abort, stop, all) = (abort.clone(), stop.clone(), ctx.abort_all.clone());
        let max = ctx.max_test_duration;
        tokio::spawn(async move {
            let why = tokio::select! {
                _ = tokio::time::sleep(max) => STOP_TIMEOUT,
                _ = all.cancelled() => STOP_SHUTDOWN,
                _ = abort.token().cancelled() => return,
            };
            stop.store(why, Ordering::SeqCst);
            abort.abort(AbortReason::Signal);
        })
    };
    // The engine stops itself on abort; this bound only catches an engine that hangs.
    let hard = ctx.max_test_duration + Duration::from_secs(120);
    let result = tokio::time::timeout(hard, crate::run::run(config)).await;
    watchdog.abort();
    let report = coordinator.as_ref().map(Coordinator::finish);
    // Outputs are flushed before run() returns, so the window ends after the last sample.
    let end = SystemTime::now();
    let outcome = match result {
        Err(_) => {
            return errored(format!(
                "the test did not stop within {} after its maximum duration",
                GoDuration::from_std(hard)
            ));
        }
        Ok(Err(e)) => {
            let mut m = failure_message(&e);
            if let Some(f) = report.as_ref().and_then(|r| r.failure.as_ref()) {
                m = format!("scale-out failed: {f}; {m}");
            }
            return errored(m);
        }
        Ok(Ok(o)) => o,
    };
    let max = GoDuration::from_std(ctx.max_test_duration);
    let stopped = stop.load(Ordering::SeqCst);
    let (mut status, mut result, mut message) =
        verdict(&outcome, w.on_threshold_fail, stopped, &max);
    if let Some(r) = &report {
        if let Some(f) = &r.failure {
            // The test did not run as planned: whatever the thresholds say, it failed.
            status = "errored";
            result = "fail";
            message = format!("scale-out failed: {f}; merged results so far: {message}");
        }
        message = format!("{message}; {}", scale_note(r, parallelism));
    }
    JobResult {
        finished: Finished {
            status: status.into(),
            result: result.into(),
            message: format!("teststrategy={strategy}: {message}"),
            start: outcome.started_at,
            end,
        },
        summary: outcome.summary.as_ref().map(|s| s.export.clone()),
        summary_text: outcome.summary.as_ref().map(|s| s.text.clone()),
    }
}

/// `parallelism 3: the coordinator and 2 runners, start skew 1.2ms`.
fn scale_note(r: &CoordinatorReport, parallelism: usize) -> String {
    let skew = match r.start_skew {
        Some(d) => format!(
            "start skew {}",
            GoDuration::from_std(Duration::from_micros(d.as_micros() as u64))
        ),
        None => "not started together".to_string(),
    };
    format!(
        "parallelism {parallelism}: the coordinator and {} runner(s), {skew}",
        r.runners
    )
}

/// Makes this job the coordinator of a `parallelism`-way scale-out test: checks that NATS is
/// there, packs the test folder for the runners and plugs the coordinator into the run.
fn coordinate(
    t: &Triggered,
    ctx: &JobContext,
    resolved: &crate::workload::Resolved,
    parallelism: usize,
    config: &mut RunConfig,
) -> Result<Coordinator, String> {
    let Some(scale) = &ctx.scale_out else {
        return Err(format!(
            "parallelism {parallelism} needs NATS: scale-out hands segments to other replicas over NATS, and this replica has no --nats-url"
        ));
    };
    let (files, script) = bundle::pack(&resolved.root, &resolved.script)?;
    let template = Prepare {
        test: t.id.clone(),
        epoch: String::new(),
        coordinator: scale.replica.clone(),
        version: protocol::version().to_string(),
        index: 0,
        parallelism,
        segment: String::new(),
        sequence: String::new(),
        files,
        script,
        workload: resolved.workload.clone(),
        env: config.env.clone(),
        options_env: config.options_env.clone(),
        dead_man_ms: scale.dead_man.as_millis() as u64,
        project: t.project.clone(),
        stage: t.stage.clone(),
        service: t.service.clone(),
        keptn_context: t.shkeptncontext.clone(),
    };
    let provisioner = Arc::new(NatsDiscovery {
        client: scale.client.clone(),
        me: scale.replica.clone(),
    });
    let spec = TestSpec {
        test: t.id.clone(),
        parallelism,
        template,
    };
    let (coordinator, deltas) = Coordinator::new(scale.clone(), provisioner, spec);
    let segments = Segments::new(parallelism);
    config.overrides.execution_segment = Some(segments.segment(0));
    config.overrides.execution_segment_sequence = Some(segments.sequence());
    config.controller = Some(Arc::new(coordinator.clone()));
    config.metrics_link = MetricsLink::Merge(deltas);
    if let Ok(mut r) = ctx.roles.lock() {
        r.insert(t.id.clone(), "coordinator");
    }
    Ok(coordinator)
}

fn failure_message(e: &RunFailure) -> String {
    match e {
        RunFailure::Usage(m) => format!("cannot run the script: {m}"),
        RunFailure::Config(m) => format!("invalid options: {}", m.replace('\n', "; ")),
        RunFailure::Script(e) => format!("script error: {e}"),
    }
}

fn verdict(
    o: &RunOutcome,
    on_fail: OnThresholdFail,
    stopped: u8,
    max: &GoDuration,
) -> (&'static str, &'static str, String) {
    let reqs = o
        .summary
        .as_ref()
        .and_then(|s| s.data.pointer("/metrics/http_reqs/values/count"))
        .and_then(Value::as_f64)
        .unwrap_or(0.0);
    let tail = format!(
        "{reqs} requests in {}",
        GoDuration::from_std(Duration::from_millis(o.duration.as_millis() as u64))
    );
    match &o.status {
        RunStatus::Passed => (
            "succeeded",
            "pass",
            format!("{}; {tail}", passed_message(&o.evaluation)),
        ),
        RunStatus::ThresholdsFailed => (
            "succeeded",
            on_fail.result(),
            format!("{}; {tail}", failed_message(&o.evaluation)),
        ),
        RunStatus::Interrupted => {
            let why = match stopped {
                STOP_TIMEOUT => format!("maximum test duration {max} reached, test aborted"),
                STOP_SHUTDOWN => "service shutting down, test aborted".to_string(),
                _ => "test interrupted".to_string(),
            };
            ("errored", "fail", format!("{why}; {tail}"))
        }
        RunStatus::StoppedFromApi => (
            "errored",
            "fail",
            format!("test stopped from the REST API; {tail}"),
        ),
        RunStatus::AbortedByScript(m) => (
            "errored",
            "fail",
            format!("the script aborted the test: {m}; {tail}"),
        ),
        RunStatus::Failed(m) => (
            "succeeded",
            "fail",
            format!("the script failed the test: {m}; {tail}"),
        ),
        RunStatus::VuLost(m) => ("errored", "fail", format!("the test failed: {m}; {tail}")),
        RunStatus::TeardownFailed(m) => {
            ("errored", "fail", format!("teardown failed: {m}; {tail}"))
        }
        RunStatus::SetupFailed(m) => ("errored", "fail", format!("setup failed: {m}; {tail}")),
    }
}

fn observed(t: &ThresholdOutcome) -> String {
    match t.observed {
        None => "no value".into(),
        Some(v) => {
            let kind = if t.aggregation == "rate" {
                MetricType::Rate
            } else {
                MetricType::Trend
            };
            format!(
                "{}={}",
                t.aggregation,
                humanize_value(v, kind, t.contains, "")
            )
        }
    }
}

fn passed_message(e: &Evaluation) -> String {
    if e.thresholds.is_empty() {
        return "no thresholds".into();
    }
    let each: Vec<String> = e
        .thresholds
        .iter()
        .map(|t| format!("{} {} ({})", t.metric, t.source, observed(t)))
        .collect();
    format!(
        "{} thresholds passed: {}",
        e.thresholds.len(),
        each.join("; ")
    )
}

/// `thresholds failed: http_req_duration p(95)<300 (p(95)=412.3ms); 1 of 3 thresholds failed`.
pub fn failed_message(e: &Evaluation) -> String {
    let failed: Vec<String> = e
        .thresholds
        .iter()
        .filter(|t| !t.ok)
        .map(|t| format!("{} {} ({})", t.metric, t.source, observed(t)))
        .collect();
    format!(
        "thresholds failed: {}; {} of {} thresholds failed",
        failed.join("; "),
        failed.len(),
        e.thresholds.len()
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::ValueType;

    fn outcome(
        metric: &str,
        source: &str,
        agg: &str,
        ok: bool,
        v: f64,
        c: ValueType,
    ) -> ThresholdOutcome {
        ThresholdOutcome {
            metric: metric.into(),
            source: source.into(),
            aggregation: agg.into(),
            ok,
            observed: Some(v),
            contains: c,
            abort_on_fail: false,
        }
    }

    #[test]
    fn failed_thresholds_are_named_with_values() {
        let e = Evaluation {
            failed: true,
            thresholds: vec![
                outcome(
                    "http_req_duration",
                    "p(95)<300",
                    "p(95)",
                    false,
                    412.3,
                    ValueType::Time,
                ),
                outcome(
                    "http_req_failed",
                    "rate<0.01",
                    "rate",
                    true,
                    0.0,
                    ValueType::Default,
                ),
                outcome(
                    "checks",
                    "rate>0.99",
                    "rate",
                    false,
                    0.5,
                    ValueType::Default,
                ),
            ],
            ..Default::default()
        };
        let m = failed_message(&e);
        assert!(
            m.starts_with("thresholds failed: http_req_duration p(95)<300 (p(95)=412.3ms)"),
            "{m}"
        );
        assert!(m.contains("checks rate>0.99 (rate=50.00%)"), "{m}");
        assert!(m.ends_with("2 of 3 thresholds failed"), "{m}");
    }
}
