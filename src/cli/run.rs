//! `loadgate run SCRIPT`: the k6-compatible command. Builds a [`RunConfig`] from the flags and
//! the environment, runs it with [`crate::run::run`], prints the summary (or what handleSummary
//! returned), writes `--summary-export`, and returns k6's exit code.

use std::collections::{BTreeMap, HashMap};
use std::io::Write;
use std::sync::{Arc, Mutex};

use super::RunArgs;
use super::exit::ExitCode;
use super::progress::Progress;
use crate::api::{ApiServer, Control};
use crate::engine::RunError;
use crate::engine::duration::GoDuration;
use crate::engine::options::Options;
use crate::engine::state::{AbortReason, TestAbort};
use crate::js::coroutine::SummaryOutput;
use crate::output::Output;
use crate::output::prometheus::{self, ExtraLabels, PrometheusRw, RwConfig};
use crate::output::summary::SummaryOptions;
use crate::run::EngineQueries;
use crate::run::{RunConfig, RunFailure, RunOutcome, RunStatus};

/// The outputs `-o` accepts.
pub const OUTPUT_TYPES: &[&str] = &[
    prometheus::OUTPUT_NAME,
    crate::output::json::OUTPUT_NAME,
    crate::output::csv::OUTPUT_NAME,
];

/// k6's default REST API address.
pub const DEFAULT_API_ADDRESS: &str = "localhost:6565";

/// Logs one error line in k6's log format.
pub fn error_line(msg: &str) {
    crate::term::log::error(msg);
}

/// The error line, with k6's hint for a setup/teardown/handleSummary timeout.
fn with_hint(e: &RunError) -> String {
    match e {
        RunError::Timeout { part, .. } => format!(
            "{e}  hint=\"You can increase the time limit via the {} option\"",
            part.option()
        ),
        _ => e.to_string(),
    }
}

/// Logs why the test could not run; returns k6's exit code for it.
fn failed(f: &RunFailure) -> ExitCode {
    match f {
        RunFailure::Script(e) => error_line(&with_hint(e)),
        other => error_line(&other.to_string()),
    }
    ExitCode::from(f)
}

/// `__ENV`: the process environment (unless disabled) plus `-e KEY=VALUE`.
fn script_env(args: &RunArgs) -> Result<BTreeMap<String, String>, RunFailure> {
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
            _ => {
                return Err(RunFailure::Usage(format!(
                    "invalid -e value `{kv}`: use KEY=VALUE"
                )));
            }
        }
    }
    Ok(env)
}

/// The CLI layer of the options (highest precedence).
fn cli_options(args: &RunArgs) -> Result<Options, RunFailure> {
    let invalid = |what: String| RunFailure::Config(format!("invalid {what}"));
    let mut o = Options {
        vus: args.vus,
        iterations: args.iterations,
        ..Options::default()
    };
    if let Some(d) = &args.duration {
        o.duration = Some(GoDuration::parse(d).map_err(|e| invalid(format!("--duration: {e}")))?);
    }
    if !args.stages.is_empty() {
        let joined = args.stages.join(",");
        o.stages = Some(
            crate::engine::options::env::parse_stages(&joined)
                .map_err(|e| invalid(format!("--stage: {e}")))?,
        );
    }
    if !args.tags.is_empty() {
        let mut tags = BTreeMap::new();
        for t in &args.tags {
            let (k, v) = t
                .split_once('=')
                .ok_or_else(|| invalid(format!("--tag `{t}`: use name=value")))?;
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
    if args.paused {
        o.paused = Some(true);
    }
    o.execution_segment = args.execution_segment.clone();
    o.execution_segment_sequence = args.execution_segment_sequence.clone();
    o.user_agent = args.user_agent.clone();
    o.console_output = args.console_output.clone();
    if let Some(mode) = &args.http_debug {
        if mode != "headers" && mode != "full" {
            return Err(invalid(format!(
                "--http-debug `{mode}`: use headers or full"
            )));
        }
        o.http_debug = Some(mode.clone());
    }
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
    o.rps = args.rps;
    o.batch = args.batch;
    o.batch_per_host = args.batch_per_host;
    o.system_tags = args.system_tags.clone();
    if args.no_connection_reuse {
        o.no_connection_reuse = Some(true);
    }
    if args.no_vu_connection_reuse {
        o.no_vu_connection_reuse = Some(true);
    }
    if !args.blacklist_ip.is_empty() {
        o.blacklist_ips = Some(args.blacklist_ip.clone());
    }
    o.block_hostnames = args.block_hostnames.clone();
    if let Some(d) = &args.min_iteration_duration {
        o.min_iteration_duration = Some(
            GoDuration::parse(d).map_err(|e| invalid(format!("--min-iteration-duration: {e}")))?,
        );
    }
    o.local_ips = args.local_ips.clone().map(serde_json::Value::String);
    o.dns = args.dns.clone().map(serde_json::Value::String);
    Ok(o)
}

/// The `-o` values: the flags, else `K6_OUT` (comma-separated), as k6.
fn output_names(args: &RunArgs, env: &HashMap<String, String>, file: &[String]) -> Vec<String> {
    if !args.out.is_empty() {
        return args.out.clone();
    }
    if env.get("K6_OUT").is_none_or(|v| v.trim().is_empty()) && !file.is_empty() {
        return file.to_vec();
    }
    env.get("K6_OUT")
        .map(|v| {
            v.split(',')
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty())
                .collect()
        })
        .unwrap_or_default()
}

/// A unique test id for the remote-write `testid` label when no `--tag testid=` was given.
fn generated_testid() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    format!("loadgate-{secs}-{:04x}", rand::random::<u16>())
}

/// The outputs' descriptions for the execution header, in k6's words.
fn output_descriptions(
    args: &RunArgs,
    env: &HashMap<String, String>,
    file: &[String],
) -> Vec<String> {
    output_names(args, env, file)
        .iter()
        .map(|spec| {
            let (name, arg) = spec.split_once('=').unwrap_or((spec.as_str(), ""));
            match name {
                "json" if arg.is_empty() || arg == "-" => "json(stdout)".to_string(),
                "json" => format!("json ({arg})"),
                "csv" => match crate::output::csv::CsvConfig::new(arg, env) {
                    Ok(c) if c.file_name == "-" => "csv (stdout)".to_string(),
                    Ok(c) => format!("csv ({})", c.file_name),
                    Err(_) => "csv".to_string(),
                },
                n if n == prometheus::OUTPUT_NAME => format!(
                    "Prometheus remote write ({})",
                    crate::redact::url(
                        env.get("K6_PROMETHEUS_RW_SERVER_URL")
                            .map_or("http://localhost:9090/api/v1/write", String::as_str)
                    )
                ),
                other => other.to_string(),
            }
        })
        .collect()
}

/// The tag columns of the csv output: `--system-tags`, else `K6_SYSTEM_TAGS`, else k6's default.
fn csv_columns(args: &RunArgs, env: &HashMap<String, String>) -> Vec<String> {
    if let Some(t) = &args.system_tags {
        return t.clone();
    }
    if let Some(v) = env.get("K6_SYSTEM_TAGS") {
        return v
            .split(',')
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .collect();
    }
    crate::engine::options::DEFAULT_SYSTEM_TAGS
        .iter()
        .map(|s| s.to_string())
        .collect()
}

/// Builds the outputs named by `-o`/`K6_OUT` (`name` or `name=arg`; the argument is ignored, as
/// k6 v1 does for remote write). Errors are k6's texts (exit 255).
pub fn build_outputs(
    args: &RunArgs,
    env: &HashMap<String, String>,
    file_out: &[String],
) -> Result<Vec<Box<dyn Output>>, RunFailure> {
    let cannot = |name: &str, e: &dyn std::fmt::Display| {
        RunFailure::Usage(format!("could not create the '{name}' output: {e}"))
    };
    let mut outputs: Vec<Box<dyn Output>> = Vec::new();
    for spec in output_names(args, env, file_out) {
        let (name, arg) = spec.split_once('=').unwrap_or((spec.as_str(), ""));
        if name == crate::output::json::OUTPUT_NAME {
            let path = if arg.is_empty() { "-" } else { arg };
            outputs.push(Box::new(crate::output::json::JsonOutput::new(path)));
            continue;
        }
        if name == crate::output::csv::OUTPUT_NAME {
            let config =
                crate::output::csv::CsvConfig::new(arg, env).map_err(|e| cannot(name, &e))?;
            let output = crate::output::csv::CsvOutput::new(config, &csv_columns(args, env))
                .map_err(|e| cannot(name, &e))?;
            outputs.push(Box::new(output));
            continue;
        }
        if name != prometheus::OUTPUT_NAME {
            return Err(RunFailure::Usage(format!(
                "invalid output type '{name}', available types are: {}",
                OUTPUT_TYPES.join(", ")
            )));
        }
        let config = RwConfig::from_env(env).map_err(|e| RunFailure::Usage(e.to_string()))?;
        let mut extra = ExtraLabels::default();
        let tagged = args.tags.iter().any(|t| t.starts_with("testid="));
        if !tagged {
            let id = generated_testid();
            tracing::info!("prometheus remote write: testid={id}");
            extra.defaults.insert("testid".to_string(), id);
        }
        let output = PrometheusRw::new(config, extra).map_err(|e| cannot(name, &e))?;
        outputs.push(Box::new(output));
    }
    Ok(outputs)
}

/// Runs the test and returns the exit code.
pub async fn run(args: RunArgs) -> ExitCode {
    match args.summary_mode.as_str() {
        "compact" => {}
        "full" | "legacy" => {
            error_line(&format!(
                "summary mode `{}` is not supported yet; loadgate prints k6's default, compact",
                args.summary_mode
            ));
            return ExitCode::Usage;
        }
        other => {
            error_line(&format!(
                "invalid summary mode `{other}`: use compact, full or legacy"
            ));
            return ExitCode::Usage;
        }
    }
    if !args.quiet {
        let banner = super::banner::banner(crate::term::stdout_colors());
        crate::term::write(crate::term::Stream::Stdout, &banner);
    }
    let mut env = match script_env(&args) {
        Ok(e) => e,
        Err(f) => return failed(&f),
    };
    let overrides = match cli_options(&args) {
        Ok(o) => o,
        Err(f) => return failed(&f),
    };
    match args.compatibility_mode.as_str() {
        // loadgate runs one engine (QuickJS, ES2023 with modules); scripts valid in either of
        // k6's modes run in it.
        "extended" | "base" => {}
        // As k6 v1.1: `.ts` files are transpiled whatever the mode; the mode only warns.
        "experimental_enhanced" => tracing::warn!(
            "ComaptibilityMode \"experimental_enhanced\" is deprecated. Types are stripped by default for `.ts` files. Please move to using \"base\" instead as \"experimental_enhanced\" will be removed in the future"
        ),
        other => {
            error_line(&format!(
                "invalid compatibility mode \"{other}\". Use: \"extended\", \"base\", \"experimental_enhanced\""
            ));
            return ExitCode::Usage;
        }
    }
    let file = match super::config_file::load(args.config.as_deref(), &|k| std::env::var(k).ok()) {
        Ok(f) => f,
        Err(e) => return failed(&RunFailure::Config(e.to_string())),
    };
    let script_source = if args.script.as_os_str() == "-" {
        let mut text = Vec::new();
        if let Err(e) = std::io::Read::read_to_end(&mut std::io::stdin(), &mut text) {
            error_line(&format!("cannot read the script from standard input: {e}"));
            return ExitCode::Usage;
        }
        Some(text)
    } else {
        None
    };
    let target_stop = tokio_util::sync::CancellationToken::new();
    if args.local_target {
        match start_local_target(target_stop.clone()).await {
            Ok(url) => {
                env.entry("TARGET".to_string()).or_insert(url);
            }
            Err(e) => {
                error_line(&format!("cannot start the local target: {e}"));
                return ExitCode::Usage;
            }
        }
    }
    let mut config = RunConfig::new(&args.script);
    config.root = args.root.clone();
    config.modules.offline |= args.offline;
    if let Some(dir) = &args.module_cache {
        config.modules.cache_dir = Some(dir.clone());
    }
    config.env = env;
    config.options_env = std::env::vars().collect::<HashMap<_, _>>();
    config.script_source = script_source;
    let file_linger = file.linger;
    config.file_options = Some(file.options);
    config.outputs = match build_outputs(&args, &config.options_env, &file.out) {
        Ok(o) => o,
        Err(f) => {
            target_stop.cancel();
            return failed(&f);
        }
    };
    let api = match start_api(&args).await {
        Ok(api) => api,
        Err(code) => {
            target_stop.cancel();
            return code;
        }
    };
    let api = api.map(|(server, queries)| {
        config.engine_queries = Some(queries);
        server
    });
    let api_handle = api.as_ref().map(ApiServer::handle);
    config.overrides = overrides;
    config.resumable = true;
    config.no_thresholds = args.no_thresholds;
    config.workers = args.workers;
    let streams = crate::term::streams();
    config.summary = (!args.no_summary).then(|| SummaryOptions {
        no_color: !crate::term::stdout_colors(),
        is_stdout_tty: streams.stdout_tty,
        is_stderr_tty: streams.stderr_tty,
        ..SummaryOptions::default()
    });
    let abort = TestAbort::new();
    config.abort = abort.clone();
    let progress: Arc<Mutex<Option<Progress>>> = Arc::new(Mutex::new(None));
    let slot = progress.clone();
    let show = !args.quiet;
    let script_name = args.script.display().to_string();
    let descriptions = output_descriptions(&args, &config.options_env, &file.out);
    let progress_abort = abort.clone();
    config.on_start = Some(Box::new(move |shared, plan| {
        if let Some(api) = &api_handle {
            api.attach(Control {
                state: shared.execution.clone(),
                abort: progress_abort.clone(),
                executors: plan
                    .scenarios
                    .iter()
                    .map(|s| (s.name.clone(), s.executor_name.clone()))
                    .collect(),
            });
        }
        let colors = crate::term::stdout_colors();
        let header = super::banner::execution_header(plan, &script_name, &descriptions, colors);
        if show {
            crate::term::write(crate::term::Stream::Stdout, &header);
        } else {
            tracing::debug!("{header}");
        }
        if let Ok(mut p) = slot.lock() {
            *p = Some(Progress::start(shared, plan, progress_abort, show));
        }
    }));
    let signals = tokio::spawn(abort_on_signal(abort.clone()));
    let result = crate::run::run(config).await;
    signals.abort();
    let progress = progress.lock().ok().and_then(|mut p| p.take());
    if let Some(p) = progress {
        p.finish().await;
    }
    // k6 lingers before the summary, with the REST API up (a signal during the run skips it).
    if (args.linger || file_linger) && result.is_ok() && abort.reason() != Some(AbortReason::Signal)
    {
        linger(args.quiet).await;
    }
    let code = match result {
        Ok(outcome) => report(&args, outcome),
        Err(f) => failed(&f),
    };
    if let Some(api) = api {
        api.shutdown().await;
    }
    target_stop.cancel();
    code
}

/// Binds the REST API (`--address`, default `localhost:6565`, `''` for none). A taken default
/// address is a warning; an explicit one that cannot be bound stops the run (k6 exit 106).
async fn start_api(args: &RunArgs) -> Result<Option<(ApiServer, EngineQueries)>, ExitCode> {
    let (addr, explicit) = match args.address.as_deref() {
        Some("") => return Ok(None),
        Some(a) => (a, true),
        None => (DEFAULT_API_ADDRESS, false),
    };
    match ApiServer::bind(addr).await {
        Ok((server, queries)) => {
            tracing::debug!("Starting the REST API server on {}", server.local_addr);
            Ok(Some((server, queries)))
        }
        Err(e) => {
            let detail = match e.kind() {
                std::io::ErrorKind::AddrInUse => {
                    format!("listen tcp {addr}: bind: address already in use")
                }
                _ => format!("listen tcp {addr}: {e}"),
            };
            let fields = [("error", detail)];
            if explicit {
                crate::term::log::emit(tracing::Level::ERROR, "Error from API server", &fields);
                Err(ExitCode::CannotStartApi)
            } else {
                crate::term::log::emit(tracing::Level::WARN, "Error from API server", &fields);
                Ok(None)
            }
        }
    }
}

/// `--linger`: the test is done; wait for Ctrl+C (or SIGTERM) with the REST API still up.
async fn linger(quiet: bool) {
    let msg = "The test is done, but --linger was enabled, so loadgate is waiting for Ctrl+C to continue...";
    tracing::debug!("{msg}");
    if !quiet {
        crate::term::write(crate::term::Stream::Stdout, &format!("{msg}\n"));
    }
    #[cfg(unix)]
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
    let term_recv = async {
        #[cfg(unix)]
        if let Some(s) = term.as_mut() {
            s.recv().await;
            return;
        }
        std::future::pending::<()>().await
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term_recv => {}
    }
    tracing::debug!("Ctrl+C received, exiting...");
}

/// Prints the summary and the closing log lines; returns the exit code.
fn report(args: &RunArgs, outcome: RunOutcome) -> ExitCode {
    if let Some(summary) = &outcome.summary {
        if let Some(path) = &args.summary_export {
            let text = serde_json::to_string_pretty(&summary.export).unwrap_or_default();
            if let Err(e) = std::fs::write(path, text) {
                error_line(&format!(
                    "cannot write the summary export {}: {e}",
                    path.display()
                ));
            }
        }
        if let Some(e) = &summary.handle_error {
            error_line(&format!("handleSummary failed: {e}"));
        }
        match &summary.handled {
            Some(outputs) => write_outputs(outputs),
            None => {
                crate::term::write(
                    crate::term::Stream::Stdout,
                    &format!("\n{}\n\n", summary.text),
                );
            }
        }
    }
    if let Some(e) = &outcome.report.teardown_error {
        error_line(&with_hint(e));
    }
    match &outcome.status {
        RunStatus::Passed => ExitCode::Ok,
        RunStatus::ThresholdsFailed => {
            if let Some(msg) = outcome.evaluation.crossed_message() {
                error_line(&msg);
            }
            ExitCode::ThresholdsFailed
        }
        RunStatus::AbortedByScript(msg) => {
            error_line(&format!("test aborted: {msg}"));
            ExitCode::ScriptAborted
        }
        RunStatus::Interrupted => ExitCode::ExternalAbort,
        RunStatus::StoppedFromApi => {
            error_line("test run stopped from REST API");
            ExitCode::StoppedFromApi
        }
        RunStatus::VuLost(msg) => {
            error_line(&format!("the test failed: {msg}"));
            ExitCode::Panic
        }
        RunStatus::Failed(msg) => {
            if !msg.is_empty() {
                error_line(&format!("test failed: {msg}"));
            }
            ExitCode::TestFailed
        }
        RunStatus::TeardownFailed(_) => outcome
            .report
            .teardown_error
            .as_ref()
            .map_or(ExitCode::ScriptException, ExitCode::from),
        RunStatus::SetupFailed(msg) => {
            error_line(msg);
            outcome
                .report
                .setup_error
                .as_ref()
                .map_or(ExitCode::ScriptException, ExitCode::from)
        }
    }
}

/// Serves [`crate::target`] on a free loopback port until `stop`; returns its URL.
async fn start_local_target(stop: tokio_util::sync::CancellationToken) -> std::io::Result<String> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}", listener.local_addr()?);
    tokio::spawn(async move {
        if let Err(e) = crate::target::serve(listener, async move { stop.cancelled().await }).await
        {
            error_line(&format!("local target stopped: {e}"));
        }
    });
    Ok(url)
}

/// SIGINT or SIGTERM stops the test (k6 exit 105); a second one exits at once with 105, as k6
/// does, without waiting for teardown or the summary.
async fn abort_on_signal(abort: TestAbort) {
    #[cfg(unix)]
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
    for n in 0..2 {
        let term_recv = async {
            #[cfg(unix)]
            if let Some(s) = term.as_mut() {
                s.recv().await;
                return;
            }
            std::future::pending::<()>().await
        };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term_recv => {}
        }
        if n == 0 {
            error_line("stopping the test (signal received)");
            abort.abort(AbortReason::Signal);
        }
    }
    error_line("aborting in response to a second signal, not waiting for the test to end");
    std::process::exit(ExitCode::ExternalAbort.code());
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outputs_from_flags_or_k6_out() {
        let mut args = RunArgs::default();
        let mut env = HashMap::new();
        assert!(build_outputs(&args, &env, &[]).unwrap().is_empty());
        env.insert(
            "K6_OUT".to_string(),
            "experimental-prometheus-rw".to_string(),
        );
        let outs = build_outputs(&args, &env, &[]).unwrap();
        assert_eq!(outs.len(), 1);
        assert_eq!(outs[0].name(), "experimental-prometheus-rw");
        args.out = vec!["json=x.json".to_string()];
        let outs = build_outputs(&args, &env, &[]).unwrap();
        assert_eq!(outs[0].name(), "json");
        args.out = vec!["influxdb=http://x".to_string()];
        let err = build_outputs(&args, &env, &[]).err().unwrap().to_string();
        assert_eq!(
            err,
            "invalid output type 'influxdb', available types are: experimental-prometheus-rw, json, csv"
        );
        args.out = vec!["csv=/no/such/folder/x.csv".to_string()];
        let err = build_outputs(&args, &env, &[]).err().unwrap().to_string();
        assert!(
            err.starts_with("could not create the 'csv' output: open /no/such/folder/x.csv:"),
            "{err}"
        );
        args.out = vec!["experimental-prometheus-rw=ignored".to_string()];
        env.insert(
            "K6_PROMETHEUS_RW_TREND_STATS".to_string(),
            "p(x)".to_string(),
        );
        let err = build_outputs(&args, &env, &[]).err().unwrap().to_string();
        assert!(err.contains("K6_PROMETHEUS_RW_TREND_STATS `p(x)`"), "{err}");
    }
}
