//! loadgate: a k6-compatible load-test engine and a Keptn test service.
//!
//! # Layout
//! The data flow (event -> workload -> plan -> engine -> samples -> outputs -> event) is told in
//! ARCHITECTURE.md; one line per module:
//! - [`api`]: k6's REST API of `loadgate run` (`--address`: status, pause/resume, stop, metrics).
//! - [`cli`]: the command line (`run`, `serve`, `demo`, `event send`, `target`) and k6's exit codes
//!   (`cli::exit`: typed run errors to codes, by variant).
//! - [`js`]: QuickJS scripts, the k6 modules and the VU model (VUs on coroutines).
//! - [`engine`]: options, scenarios, execution segments, executors, the scheduler (JS-agnostic).
//! - [`http`]: the HTTP client behind `k6/http` (pooling, timings, redirects, cookies, errors).
//! - [`metrics`]: samples, tags, the metric registry, sinks, thresholds and the aggregating engine.
//! - [`run`]: one test run as a library call (script to outcome), used by the CLI and the service.
//! - [`keptn`]: Keptn CloudEvents for the test task (parse triggered, build started/finished) and
//!   the resource-service client.
//! - [`workload`]: `loadgate.yaml` (teststrategy -> script + option overrides) and its sources.
//! - [`service`]: `loadgate serve`, the Keptn test service (HTTP, NATS, job manager, shutdown).
//! - [`output`]: the end-of-test summary (text, export JSON, handleSummary data) and Prometheus
//!   remote write.
//! - [`term`]: the terminal streams (banner, progress, summary on stdout) and k6's log formats.
//! - [`tls`]: the trust roots (system store, `SSL_CERT_FILE`/`SSL_CERT_DIR` as Go reads them)
//!   and rustls configurations every https client of the process shares.
//! - [`timefmt`]: RFC 3339 timestamps (events, the job list, outputs, log lines).
//! - [`target`]: an httpbin-like loopback HTTP server for the quick start, tests and benchmarks.

pub mod api;
pub mod cli;
pub mod distributed;
pub mod engine;
pub mod grpc;
pub mod http;
pub mod js;
pub mod keptn;
pub mod metrics;
pub mod output;
pub mod redact;
pub mod run;
pub mod service;
pub mod target;
pub mod term;
pub mod timefmt;
pub mod tls;
pub mod workload;
