//! `loadgate run SCRIPT`: the k6-compatible run. Reads the script's options (VU 0), merges them
//! with `K6_*` environment variables and flags, validates the plan and thresholds (exit 104 before
//! any request), runs it, judges thresholds during the run and at the end, prints the summary and
//! returns k6's exit code.

use std::collections::{BTreeMap, HashMap};
use std::io::{IsTerminal, Write};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::oneshot;

use super::RunArgs;
use super::exit::ExitCode;
use super::progress::Progress;
use crate::engine::RunError;
use crate::engine::duration::GoDuration;
use crate::engine::options::Options;
use crate::engine::options::plan::TestPlan;
use crate::engine::scheduler::{RunEnd, run_test};
use crate::engine::state::{AbortReason, TestAbort};
use crate::js::coroutine::SummaryOutput;
use crate::js::loader::ScriptFiles;
use crate::js::runner::JsRunner;
use crate::js::shared::{TestShared, VuSettings};
use crate::js::worker::Workers;
use crate::metrics::engine::{EngineOptions, MetricsEngine};
use crate::metrics::{Registry, SampleReceiver};
use crate::output::summary::{SummaryOptions, build_data, build_export, stdout_text};

/// Prints one error line in k6's terminal log format.
pub fn error_line(msg: &str) {
    let mut err = std::io::stderr().lock();
    let _ = writeln!(err, "ERRO[0000] {msg}");
}

fn exit_for(e: &RunError) -> ExitCode {
    match e {
        RunError::Script(_) => ExitCode::ScriptException,
        RunError::Aborted(_) => ExitCode::ScriptAborted,
        RunError::Timeout(m) if m.contains("teardown") => ExitCode::TeardownTimeout,
        RunError::Timeout(_) => ExitCode::SetupTimeout,
        RunError::Internal(_) => ExitCode::ScriptException,
    }
}

/// `__ENV`: the process environment (unless disabled) plus `-e KEY=VALUE`.
fn script_env(args: &RunArgs) -> Result<BTreeMap<String, String>, String> {
    let mut env: BTreeMap<String, String> = if args.include_system_env_vars {
        std::env::vars().collect()
    } else {
        BTreeMap::new()
    };
    for kv in &args.env {
        match kv.split_once('=') {
            Some((k, v)) if !k.is_empty() => {
                env.insert(k.to_string(), v.to_string());
            }
            _ => return Err(format!("invalid -e value `{kv}`: use KEY=VALUE")),
        }
    }
    Ok(env)
}

/// The CLI layer of the options (highest precedence).
fn cli_options(args: &RunArgs) -> Result<Options, String> {
    let mut o = Options {
        vus: args.vus,
        iterations: args.iterations,
        ..Options::default()
    };
    if let Some(d) = &args.duration {
        o.duration = Some(GoDuration::parse(d).map_err(|e| format!("invalid --duration: {e}"))?);
    }
    if !args.stages.is_empty() {
        let joined = args.stages.join(",");
        o.stages = Some(
            crate::engine::options::env::parse_stages(&joined)
                .map_err(|e| format!("invalid --stage: {e}"))?,
        );
    }
    if !args.tags.is_empty() {
        let mut tags = BTreeMap::new();
        for t in &args.tags {
            let (k, v) = t
                .split_once('=')
                .ok_or_else(|| format!("invalid --tag `{t}`: use name=value"))?;
            tags.insert(k.to_string(), v.to_string());
        }
        o.tags = Some(tags);
    }
    if let Some(s) = &args.summary_trend_stats {
        o.summary_trend_stats = Some(s.split(',').map(|x| x.trim().to_string()).collect());
    }
    if let Some(u) = &args.summary_time_unit {
        o.summary_time_unit = Some(u.clone());
    }
    if args.no_setup {
        o.no_setup = Some(true);
    }
    if args.no_teardown {
        o.no_teardown = Some(true);
    }
    o.execution_segment = args.execution_segment.clone();
    o.execution_segment_sequence = args.execution_segment_sequence.clone();
    o.user_agent = args.user_agent.clone();
    o.max_redirects = args.max_redirects;
    if args.throw {
        o.throw = Some(true);
    }
    if args.insecure_skip_tls_verify {
        o.insecure_skip_tls_verify = Some(true);
    }
    if args.discard_response_bodies {
        o.discard_response_bodies = Some(true);
    }
    Ok(o)
}

fn settings_from(plan: &TestPlan) -> VuSettings {
    let o = &plan.options;
    let defaults = VuSettings::default();
    VuSettings {
        user_agent: o.user_agent.clone().unwrap_or(defaults.user_agent),
        max_redirects: o.max_redirects.unwrap_or(10).max(0) as u32,
        discard_response_bodies: o.discard_response_bodies.unwrap_or(false),
        no_cookies_reset: o.no_cookies_reset.unwrap_or(false),
        throw: o.throw.unwrap_or(false),
        test_tags: o.run_tags(),
        batch: o.batch.unwrap_or(20).max(1) as usize,
        min_iteration_duration: o
            .min_iteration_duration
            .as_ref()
            .map(|d| d.to_std())
            .unwrap_or(Duration::ZERO),
        hosts: BTreeMap::new(),
        insecure_skip_tls_verify: o.insecure_skip_tls_verify.unwrap_or(false),
    }
}

/// Runs the test and returns the exit code.
pub async fn run(args: RunArgs) -> ExitCode {
    let env = match script_env(&args) {
        Ok(e) => e,
        Err(e) => {
            error_line(&e);
            return ExitCode::Usage;
        }
    };
    let files = match ScriptFiles::new(&args.script, args.root.as_deref()) {
        Ok(f) => f,
        Err(e) => {
            error_line(&format!("cannot read the script: {e}"));
            return ExitCode::Usage;
        }
    };
    let workers = match args.workers.map_or_else(Workers::per_core, Workers::new) {
        Ok(w) => Arc::new(w),
        Err(e) => {
            error_line(&format!("cannot start VU workers: {e}"));
            return ExitCode::Usage;
        }
    };
    let registry = Arc::new(Registry::new());
    let (samples_tx, samples_rx) = tokio::sync::mpsc::unbounded_channel();
    let shared = Arc::new(TestShared::new(files, env, registry.clone(), samples_tx));
    let runner = match JsRunner::start(workers.clone(), shared.clone()).await {
        Ok(r) => r,
        Err(e) => {
            error_line(&e.to_string());
            workers.shutdown();
            return exit_for(&e);
        }
    };
    let code = run_with(&args, runner, shared, registry, samples_rx).await;
    workers.shutdown_within(Duration::from_secs(5));
    code
}

async fn run_with(
    args: &RunArgs,
    runner: JsRunner,
    shared: Arc<TestShared>,
    registry: Arc<Registry>,
    samples_rx: SampleReceiver,
) -> ExitCode {
    let plan = match plan(args, &runner) {
        Ok(p) => p,
        Err(e) => {
            error_line(&e);
            runner.shutdown();
            return ExitCode::InvalidConfig;
        }
    };
    let thresholds = plan
        .options
        .thresholds
        .as_ref()
        .filter(|_| !args.no_thresholds);
    let engine = match MetricsEngine::new(registry, thresholds, EngineOptions::default()) {
        Ok(e) => e,
        Err(errors) => {
            for e in &errors {
                error_line(&e.to_string());
            }
            runner.shutdown();
            return ExitCode::InvalidConfig;
        }
    };
    shared.set_settings(settings_from(&plan));
    if let Ok(mut o) = shared.options_json.write() {
        *o = Some(plan.options_json().to_string());
    }

    let runner = Arc::new(runner);
    let abort = TestAbort::new();
    let started = Instant::now();
    let (done_tx, done_rx) = oneshot::channel();
    let metrics = tokio::spawn(metrics_loop(
        engine,
        samples_rx,
        abort.clone(),
        started,
        done_rx,
    ));
    let signals = tokio::spawn(abort_on_signal(abort.clone()));
    let progress = Progress::start(
        shared.clone(),
        plan.vus_max(),
        plan.total_duration(),
        !args.quiet,
    );
    let state = shared.execution.clone();
    let result = run_test(
        runner.clone(),
        &plan,
        shared.samples.clone(),
        abort.clone(),
        state,
    )
    .await;
    progress.finish().await;
    signals.abort();
    let elapsed = started.elapsed();
    let _ = done_tx.send(());
    let Ok(mut engine) = metrics.await else {
        error_line("internal error: the metrics task failed");
        return ExitCode::ScriptException;
    };

    let report = match result {
        Ok(r) => r,
        Err(e) => {
            error_line(&e.to_string());
            finish_runner(runner);
            return exit_for(&e);
        }
    };
    let evaluation = engine.evaluate(elapsed, true);
    if !args.no_summary {
        let setup_data = report
            .setup_data
            .as_deref()
            .and_then(|s| serde_json::from_str(s).ok());
        let opts = SummaryOptions {
            trend_stats: plan.options.summary_trend_stats(),
            time_unit: plan.options.summary_time_unit.clone().unwrap_or_default(),
            no_color: args.no_color || !std::io::stdout().is_terminal(),
            is_stdout_tty: std::io::stdout().is_terminal(),
            is_stderr_tty: std::io::stderr().is_terminal(),
            test_run_duration: elapsed,
            setup_data,
        };
        write_summaries(args, &runner, &mut engine, &opts).await;
    }
    finish_runner(runner);

    if let Some(e) = &report.teardown_error {
        error_line(&e.to_string());
    }
    match &report.end {
        RunEnd::AbortedByScript(msg) => {
            error_line(&format!("test aborted: {msg}"));
            return ExitCode::ScriptAborted;
        }
        RunEnd::Interrupted => return ExitCode::ExternalAbort,
        RunEnd::AbortedByThreshold | RunEnd::Completed => {}
    }
    if evaluation.failed {
        if let Some(msg) = evaluation.crossed_message() {
            error_line(&msg);
        }
        return ExitCode::ThresholdsFailed;
    }
    if let Some(e) = &report.teardown_error {
        return exit_for(e);
    }
    if shared.failed().is_some() {
        return ExitCode::TestFailed;
    }
    ExitCode::Ok
}

/// Shuts the options VU down once no executor holds the runner any more.
fn finish_runner(runner: Arc<JsRunner>) {
    if let Ok(r) = Arc::try_unwrap(runner) {
        r.shutdown_vus();
    }
}

/// Ingests samples, judges thresholds every 2 s (aborting on `abortOnFail`), and returns the
/// engine once `done` fires and the channel is drained.
async fn metrics_loop(
    mut engine: MetricsEngine,
    mut rx: SampleReceiver,
    abort: TestAbort,
    started: Instant,
    mut done: oneshot::Receiver<()>,
) -> MetricsEngine {
    let mut tick = tokio::time::interval(Duration::from_secs(2));
    tick.tick().await;
    loop {
        tokio::select! {
            biased;
            batch = rx.recv() => match batch {
                Some(b) => engine.ingest(&b),
                None => break,
            },
            _ = tick.tick() => {
                if engine.has_thresholds() {
                    let ev = engine.evaluate(started.elapsed(), false);
                    if ev.should_abort && !abort.is_aborted() {
                        if let Some(msg) = ev.abort_message() {
                            error_line(&msg);
                        }
                        abort.abort(AbortReason::Threshold);
                    }
                }
            }
            _ = &mut done => {
                while let Ok(b) = rx.try_recv() {
                    engine.ingest(&b);
                }
                break;
            }
        }
    }
    engine
}

/// SIGINT or SIGTERM stops the test (k6 exit 105).
async fn abort_on_signal(abort: TestAbort) {
    let term = async {
        #[cfg(unix)]
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            s.recv().await;
            return;
        }
        std::future::pending::<()>().await
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term => {}
    }
    error_line("stopping the test (signal received)");
    abort.abort(AbortReason::Signal);
}

/// handleSummary (falling back to the text summary when it is absent or throws) and
/// `--summary-export`.
async fn write_summaries(
    args: &RunArgs,
    runner: &JsRunner,
    engine: &mut MetricsEngine,
    opts: &SummaryOptions,
) {
    if let Some(path) = &args.summary_export {
        let export = build_export(engine, opts);
        let text = serde_json::to_string_pretty(&export).unwrap_or_default();
        if let Err(e) = std::fs::write(path, text) {
            error_line(&format!(
                "cannot write the summary export {}: {e}",
                path.display()
            ));
        }
    }
    let handled = if runner.info().exports.iter().any(|e| e == "handleSummary") {
        let data = build_data(engine, opts);
        match runner.handle_summary(data.to_string()).await {
            Ok(Some(outputs)) => {
                write_outputs(&outputs);
                true
            }
            Ok(None) => false,
            Err(e) => {
                error_line(&format!("handleSummary failed: {e}"));
                false
            }
        }
    } else {
        false
    };
    if !handled {
        let text = stdout_text(engine, opts);
        let mut out = std::io::stdout().lock();
        let _ = out.write_all(text.as_bytes());
        let _ = out.flush();
    }
}

fn write_outputs(outputs: &[SummaryOutput]) {
    for o in outputs {
        match o.target.as_str() {
            "stdout" => {
                let mut out = std::io::stdout().lock();
                let _ = out.write_all(&o.content);
                let _ = out.flush();
            }
            "stderr" => {
                let _ = std::io::stderr().lock().write_all(&o.content);
            }
            path => {
                if let Err(e) = std::fs::write(path, &o.content) {
                    error_line(&format!("handleSummary: cannot write {path}: {e}"));
                }
            }
        }
    }
}

/// Consolidates and validates the options; errors are k6's exit-104 texts.
fn plan(args: &RunArgs, runner: &JsRunner) -> Result<TestPlan, String> {
    let script_json = match &runner.info().options_json {
        Some(s) => serde_json::from_str(s).map_err(|e| format!("invalid options: {e}"))?,
        None => serde_json::Value::Object(Default::default()),
    };
    let script = Options::from_script(&script_json).map_err(|e| e.to_string())?;
    let process_env: HashMap<String, String> = std::env::vars().collect();
    let env = Options::from_env(&process_env).map_err(|e| e.to_string())?;
    let cli = cli_options(args)?;
    let consolidated = Options::consolidate(script, env, cli);
    let plan = TestPlan::new(consolidated).map_err(|e| e.to_string())?;
    let exports = &runner.info().exports;
    for name in plan.exec_names() {
        if !exports.iter().any(|e| e == name) {
            return Err(format!("function '{name}' not found in exports"));
        }
    }
    Ok(plan)
}
