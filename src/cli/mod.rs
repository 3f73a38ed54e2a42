//! The command line: `loadgate run` (k6-compatible), `loadgate target` (a loopback test target),
//! `loadgate serve` / `demo` / `event send` (the Keptn service) and `loadgate version`. Flags mirror k6's names so k6 users' commands keep working.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

pub mod banner;
pub mod config_file;
pub mod event;
pub mod exit;
pub mod logging;
pub mod progress;
pub mod run;
pub mod serve;

/// loadgate: k6-compatible load tests, as a CLI and as a Keptn test service.
#[derive(Debug, Parser)]
#[command(name = "loadgate", version, about, disable_help_subcommand = true)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

/// Flags of every subcommand, as k6's root flags (`k6 --log-format json run x.js` and
/// `k6 run --log-format json x.js` both work).
#[derive(Debug, Args, Clone, Default)]
pub struct GlobalArgs {
    /// Log format: `json`, `raw`, or k6's default text (colored on a terminal, logfmt otherwise).
    #[arg(long, global = true, env = "K6_LOG_FORMAT")]
    pub log_format: Option<String>,
    /// Where logs go: `stderr`, `stdout`, `none` or `file=PATH[,level=LEVEL]`.
    #[arg(long, global = true, env = "K6_LOG_OUTPUT", default_value = "stderr")]
    pub log_output: String,
    /// Debug logs (-v).
    #[arg(short = 'v', long, global = true)]
    pub verbose: bool,
    /// The most memory one VU's JavaScript may allocate (bytes or e.g. `256MiB`; `0`: no limit;
    /// default 256 MiB). Beyond it the iteration fails with an out-of-memory error.
    #[arg(long, global = true, env = "LOADGATE_MAX_VU_MEMORY")]
    pub max_vu_memory: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run a k6 script (same flags, summary and exit codes as `k6 run`).
    Run(Box<RunArgs>),
    /// Serve the built-in HTTP test target on a loopback address.
    Target(TargetArgs),
    /// Run the Keptn test service (answers test.triggered over NATS and HTTP).
    Serve(Box<ServeArgs>),
    /// Run the whole service loop once on this machine: service, target, event, summary.
    Demo(DemoArgs),
    /// Send CloudEvents by hand.
    #[command(subcommand)]
    Event(EventCommand),
    /// Print the version.
    Version,
}

/// `loadgate serve` flags; each has an environment equivalent.
#[derive(Debug, Args, Clone)]
pub struct ServeArgs {
    /// NATS server URL (HTTP only when absent); `tls://` for TLS.
    #[arg(long, env = "NATS_URL")]
    pub nats_url: Option<String>,
    /// NATS credentials file (user JWT and NKey seed).
    #[arg(long, env = "NATS_CREDS")]
    pub nats_creds: Option<PathBuf>,
    /// NATS user (with --nats-password).
    #[arg(long, env = "NATS_USER")]
    pub nats_user: Option<String>,
    /// NATS password (prefer the variable; never logged).
    #[arg(long, env = "NATS_PASSWORD", hide_env_values = true)]
    pub nats_password: Option<String>,
    /// NATS token (prefer the variable; never logged).
    #[arg(long, env = "NATS_TOKEN", hide_env_values = true)]
    pub nats_token: Option<String>,
    /// PEM CA bundle for the NATS server's certificate (turns TLS on).
    #[arg(long, env = "NATS_CA")]
    pub nats_ca: Option<PathBuf>,
    /// PEM client certificate for NATS (with --nats-key).
    #[arg(long, env = "NATS_CERT")]
    pub nats_cert: Option<PathBuf>,
    /// PEM key of the NATS client certificate.
    #[arg(long, env = "NATS_KEY")]
    pub nats_key: Option<PathBuf>,
    /// A `...triggered` type to take (also its NATS subject); repeatable, for custom task names.
    #[arg(
        long = "event-type",
        env = "LOADGATE_EVENT_TYPES",
        value_delimiter = ','
    )]
    pub event_types: Vec<String>,
    /// The NATS queue group (one replica of the group takes each event).
    #[arg(long, env = "LOADGATE_QUEUE_GROUP", default_value = "loadgate")]
    pub queue_group: String,
    /// HTTP address for events, /v1/tests, health and /metrics.
    #[arg(long, env = "LOADGATE_HTTP_ADDR", default_value = "0.0.0.0:8080")]
    pub http_addr: String,
    /// A folder with loadgate.yaml and the scripts (wins over the resource service).
    #[arg(long, env = "LOADGATE_TESTS_DIR")]
    pub tests_dir: Option<PathBuf>,
    /// Fetch loadgate.yaml and scripts from this Keptn resource service (default with
    /// --keptn-api-endpoint: {endpoint}/resource-service).
    #[arg(long, env = "LOADGATE_RESOURCE_SERVICE_URL")]
    pub resource_service_url: Option<String>,
    /// Run the embedded demo workloads when no workload source is given (otherwise serve
    /// refuses to start without one).
    #[arg(long, env = "LOADGATE_DEMO_WORKLOADS")]
    pub demo_workloads: bool,
    /// Where answers to HTTP events go (Keptn's distributor).
    #[arg(
        long,
        env = "LOADGATE_DISTRIBUTOR_URL",
        default_value = "http://localhost:8081/event"
    )]
    pub distributor_url: String,
    /// The Keptn API; answers to HTTP events then go to {endpoint}/v1/event.
    #[arg(long, env = "KEPTN_API_ENDPOINT")]
    pub keptn_api_endpoint: Option<String>,
    /// The Keptn API token (sent as x-token; never logged).
    #[arg(long, env = "KEPTN_API_TOKEN", hide_env_values = true)]
    pub keptn_api_token: Option<String>,
    /// Tests running at once; more wait their turn.
    #[arg(long, env = "LOADGATE_MAX_CONCURRENT_TESTS", default_value_t = 2)]
    pub max_concurrent_tests: usize,
    /// A test running longer is aborted (errored .finished).
    #[arg(long, env = "LOADGATE_MAX_TEST_DURATION", default_value = "1h")]
    pub max_test_duration: String,
    /// After SIGTERM, how long running tests may go on before they are aborted.
    #[arg(long, env = "LOADGATE_SHUTDOWN_GRACE", default_value = "30s")]
    pub shutdown_grace: String,
    /// Scale-out: how long the coordinator of a `parallelism: N` test waits for N-1 free
    /// replicas on NATS before the test is errored.
    #[arg(long, env = "LOADGATE_RUNNER_WAIT", default_value = "60s")]
    pub runner_wait: String,
    /// The largest event body accepted over HTTP.
    #[arg(long, env = "LOADGATE_MAX_BODY_BYTES", default_value_t = 1024 * 1024)]
    pub max_body_bytes: usize,
    /// VU worker threads per test (default: one per core).
    #[arg(long, env = "LOADGATE_WORKERS")]
    pub workers: Option<usize>,
    /// Prometheus remote-write URL: every test's metrics go there, labelled with project, stage,
    /// service and keptn_context (other settings from the K6_PROMETHEUS_RW_* variables).
    #[arg(long, env = "PROMETHEUS_RW_URL")]
    pub prometheus_rw_url: Option<String>,
}

/// `loadgate demo` flags.
#[derive(Debug, Args, Clone)]
pub struct DemoArgs {
    /// The teststrategy of the demo event.
    #[arg(long, default_value = "performance")]
    pub strategy: String,
    /// Workloads folder (default: the embedded workloads).
    #[arg(long)]
    pub tests_dir: Option<PathBuf>,
    /// How long to wait for the .finished event.
    #[arg(long, default_value = "5m")]
    pub timeout: String,
}

/// `loadgate event ...`.
#[derive(Debug, Subcommand, Clone)]
pub enum EventCommand {
    /// Send a CloudEvent JSON file and print the answers.
    Send(EventSendArgs),
}

/// `loadgate event send` flags.
#[derive(Debug, Args, Clone)]
#[command(group(clap::ArgGroup::new("transport").required(true).args(["nats", "http"])))]
pub struct EventSendArgs {
    /// The CloudEvent (structured JSON).
    pub file: PathBuf,
    /// Publish on this NATS server and print the answers.
    #[arg(long)]
    pub nats: Option<String>,
    /// POST to this URL (a loadgate service's `/`).
    #[arg(long)]
    pub http: Option<String>,
    /// With --http: receive answers on this address (the service's --distributor-url).
    #[arg(long)]
    pub listen: Option<String>,
    /// How long to wait for the .finished answer.
    #[arg(long, default_value = "10m")]
    pub timeout: String,
    /// Send the event with a fresh id (a saved event sent again is otherwise a duplicate, which
    /// the service ignores).
    #[arg(long)]
    pub new_id: bool,
}

/// `loadgate run` flags; names and meanings as in `k6 run`.
#[derive(Debug, Args, Clone, Default)]
pub struct RunArgs {
    /// The k6 script to run (`-` reads it from standard input).
    pub script: PathBuf,
    /// Number of VUs (-u).
    #[arg(short = 'u', long)]
    pub vus: Option<i64>,
    /// Test duration, e.g. 30s or 2m (-d).
    #[arg(short = 'd', long)]
    pub duration: Option<String>,
    /// Total iterations, shared by the VUs (-i).
    #[arg(short = 'i', long)]
    pub iterations: Option<i64>,
    /// A ramping stage `duration:target`; repeat for several (-s).
    #[arg(short = 's', long = "stage")]
    pub stages: Vec<String>,
    /// An environment variable for `__ENV`, `KEY=VALUE`; repeatable (-e).
    #[arg(short = 'e', long = "env")]
    pub env: Vec<String>,
    /// A tag for every sample, `name=value`; repeatable.
    #[arg(long = "tag")]
    pub tags: Vec<String>,
    /// Write the end-of-test summary as JSON (k6's legacy export format).
    #[arg(long, env = "K6_SUMMARY_EXPORT")]
    pub summary_export: Option<PathBuf>,
    /// Trend statistics in the summary, e.g. `avg,p(95),p(99.9)`.
    #[arg(long)]
    pub summary_trend_stats: Option<String>,
    /// Summary layout: `compact` (k6's default; `full` and `legacy` are not supported yet).
    #[arg(long, env = "K6_SUMMARY_MODE", default_value = "compact")]
    pub summary_mode: String,
    /// Fixed time unit for the summary: s, ms or us.
    #[arg(long)]
    pub summary_time_unit: Option<String>,
    /// Skip the end-of-test summary and handleSummary().
    #[arg(long, env = "K6_NO_SUMMARY")]
    pub no_summary: bool,
    /// Skip threshold evaluation.
    #[arg(long, env = "K6_NO_THRESHOLDS")]
    pub no_thresholds: bool,
    /// Skip setup().
    #[arg(long)]
    pub no_setup: bool,
    /// Skip teardown().
    #[arg(long)]
    pub no_teardown: bool,
    /// No progress output (-q).
    #[arg(short = 'q', long)]
    pub quiet: bool,
    /// Address of k6's REST API (-a; default localhost:6565, `''` turns it off).
    #[arg(short = 'a', long)]
    pub address: Option<String>,
    /// Start the test paused; resume it through the REST API (-p, also `K6_PAUSED`).
    #[arg(short = 'p', long)]
    pub paused: bool,
    /// Keep the REST API up after the test until Ctrl+C (-l, also `K6_LINGER`).
    #[arg(short = 'l', long, env = "K6_LINGER")]
    pub linger: bool,
    /// No colors in the output (also `NO_COLOR`, `K6_NO_COLOR`).
    #[arg(long)]
    pub no_color: bool,
    /// Write `console.*` lines to this file instead of the log (`K6_CONSOLE_OUTPUT`).
    #[arg(long)]
    pub console_output: Option<String>,
    /// Pass the process environment to `__ENV` (default true).
    #[arg(long, env = "K6_INCLUDE_SYSTEM_ENV_VARS", default_value_t = true, action = clap::ArgAction::Set)]
    pub include_system_env_vars: bool,
    /// This instance's execution segment, e.g. `0:1/3`.
    #[arg(long)]
    pub execution_segment: Option<String>,
    /// The segments of all instances, e.g. `0,1/3,2/3,1`.
    #[arg(long)]
    pub execution_segment_sequence: Option<String>,
    /// Outputs for metrics (`-o`, also `K6_OUT`): `experimental-prometheus-rw`.
    #[arg(short = 'o', long = "out")]
    pub out: Vec<String>,
    /// User-Agent header of HTTP requests.
    #[arg(long)]
    pub user_agent: Option<String>,
    /// Maximum redirects followed per request.
    #[arg(long)]
    pub max_redirects: Option<i64>,
    /// Log every HTTP request and response (`headers`, the default, or `full` with bodies).
    #[arg(long, env = "K6_HTTP_DEBUG", num_args = 0..=1, default_missing_value = "headers", require_equals = true)]
    pub http_debug: Option<String>,
    /// Failed HTTP requests throw instead of returning status 0 (-w).
    #[arg(short = 'w', long)]
    pub throw: bool,
    /// Skip TLS certificate verification.
    #[arg(long)]
    pub insecure_skip_tls_verify: bool,
    /// Discard response bodies (responseType none by default).
    #[arg(long)]
    pub discard_response_bodies: bool,
    /// The folder that open() and imports may read from (default: the parent of the script's
    /// folder).
    #[arg(long)]
    pub root: Option<PathBuf>,
    /// Never fetch remote modules: only the module cache and built-in copies (air-gapped
    /// clusters; also `LOADGATE_OFFLINE`).
    #[arg(long)]
    pub offline: bool,
    /// Where fetched remote modules are kept (default: `$XDG_CACHE_HOME/loadgate/modules`; also
    /// `LOADGATE_MODULE_CACHE`).
    #[arg(long, value_name = "DIR")]
    pub module_cache: Option<PathBuf>,
    /// VU worker threads (default: one per core).
    #[arg(long)]
    pub workers: Option<usize>,
    /// A JSON config file (k6's `--config`/`-c`, also `K6_CONFIG`): options below the script's.
    #[arg(short = 'c', long = "config", env = "K6_CONFIG")]
    pub config: Option<PathBuf>,
    /// JavaScript compatibility mode: `extended` (default) or `base`; both run the same engine.
    #[arg(long, env = "K6_COMPATIBILITY_MODE", default_value = "extended")]
    pub compatibility_mode: String,
    /// Limit requests per second over the whole test (0 = no limit).
    #[arg(long)]
    pub rps: Option<i64>,
    /// Maximum parallel requests of one http.batch call.
    #[arg(long)]
    pub batch: Option<i64>,
    /// Maximum parallel requests of one http.batch call to one host.
    #[arg(long)]
    pub batch_per_host: Option<i64>,
    /// The system tags attached to samples, comma-separated (k6's names).
    #[arg(long, value_delimiter = ',')]
    pub system_tags: Option<Vec<String>>,
    /// Open a new connection for every request.
    #[arg(long)]
    pub no_connection_reuse: bool,
    /// Do not keep connections from one iteration to the next.
    #[arg(long)]
    pub no_vu_connection_reuse: bool,
    /// Refuse requests to an IP range (CIDR); repeatable or comma-separated.
    #[arg(long = "blacklist-ip", value_delimiter = ',')]
    pub blacklist_ip: Vec<String>,
    /// Refuse requests to host names matching a pattern (`*.example.com`); comma-separated.
    #[arg(long = "block-hostnames", value_delimiter = ',')]
    pub block_hostnames: Option<Vec<String>>,
    /// Minimum duration of one iteration, e.g. 1s.
    #[arg(long)]
    pub min_iteration_duration: Option<String>,
    /// Source addresses of the VUs: IPs, `a-b` ranges, CIDRs; VU n takes address n.
    #[arg(long)]
    pub local_ips: Option<String>,
    /// DNS resolution as k6: `ttl=5m,select=random,policy=preferIPv4`.
    #[arg(long)]
    pub dns: Option<String>,
    /// Start the built-in test target on a free loopback port for this run and pass its URL to
    /// the script as `__ENV.TARGET` (loadgate only; for the quick start and local tries).
    #[arg(long)]
    pub local_target: bool,
}

/// `loadgate target` flags.
#[derive(Debug, Args, Clone)]
pub struct TargetArgs {
    /// Address to listen on; loopback only by intent.
    #[arg(long, default_value = "127.0.0.1:8099")]
    pub addr: String,
}

/// Sets up the terminal and logging from the flags; see [`logging`]. Errors are k6's texts.
pub fn init_tracing(cli: &Cli) -> Result<(), String> {
    logging::init(cli)
}

/// Runs a subcommand on the control runtime; returns the process exit code.
pub async fn dispatch(command: Command) -> i32 {
    match command {
        Command::Run(args) => run::run(*args).await.code(),
        Command::Target(args) => target(args).await,
        Command::Serve(args) => serve::serve(*args).await,
        Command::Demo(args) => serve::demo(args).await,
        Command::Event(EventCommand::Send(args)) => event::send(args).await,
        Command::Version => 0,
    }
}

async fn target(args: TargetArgs) -> i32 {
    let listener = match tokio::net::TcpListener::bind(&args.addr).await {
        Ok(l) => l,
        Err(e) => {
            crate::term::log::error(&format!("cannot listen on {}: {e}", args.addr));
            return 1;
        }
    };
    let addr = listener
        .local_addr()
        .map(|a| a.to_string())
        .unwrap_or(args.addr);
    eprintln!("loadgate target listening on http://{addr} (Ctrl-C to stop)");
    match crate::target::serve(listener, async {
        let _ = tokio::signal::ctrl_c().await;
    })
    .await
    {
        Ok(()) => 0,
        Err(e) => {
            crate::term::log::error(&format!("target stopped: {e}"));
            1
        }
    }
}
