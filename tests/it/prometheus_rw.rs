//! Prometheus remote write end to end: a real `prometheus` (Debian package, started here on a free
//! 127.0.0.1 port with a temporary data folder, killed by a guard) receives a real test run through
//! the output; every SLI of `test-data/keptn/sli.yaml` is then evaluated as Keptn's
//! prometheus-service does it (placeholders substituted, instant query at the test's end) and must
//! return exactly one series in the expected range. Also: Prometheus down for the whole run, 4xx
//! not retried, 5xx retried, native histograms (on, and refused when the feature is off).
//!
//! Needs `prometheus` on PATH (`apt-get install prometheus`, 2.42).

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use loadgate::metrics::{Registry, Sample, TagSet, builtin};
use loadgate::output::Output;
use loadgate::output::prometheus::{ExtraLabels, PrometheusRw, RwConfig};
use loadgate::run::{RunConfig, RunOutcome, RunStatus};
use serde_json::Value;

/// Upper bound for anything that waits (a hang fails the test instead of blocking the suite).
const BOUND: Duration = Duration::from_secs(90);

fn repo(p: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(p)
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A running prometheus, killed on drop (also when the test fails).
pub(crate) struct Prometheus {
    child: Child,
    base: String,
    _dir: tempfile::TempDir,
}

impl Drop for Prometheus {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Prometheus {
    pub(crate) async fn start(native_histograms: bool) -> Prometheus {
        // Its readiness probe is a reqwest client: the TLS provider must be there first (when
        // this module runs alone, no other test has installed it).
        loadgate::tls::install_default_provider();
        let bin = std::env::var("PROMETHEUS").unwrap_or_else(|_| "prometheus".to_string());
        if Command::new(&bin).arg("--version").output().is_err() {
            panic!(
                "these tests need the `prometheus` server (2.42) on PATH and could not run `{bin} --version`.\n\
                 Install it with `apt-get install -y --no-install-recommends prometheus` or set PROMETHEUS=/path."
            );
        }
        let dir = tempfile::tempdir().unwrap();
        let cfg = dir.path().join("prom.yml");
        std::fs::write(
            &cfg,
            "global:\n  scrape_interval: 15s\nscrape_configs: []\n",
        )
        .unwrap();
        let port = free_port();
        let mut cmd = Command::new(&bin);
        cmd.arg(format!("--config.file={}", cfg.display()))
            .arg(format!(
                "--storage.tsdb.path={}",
                dir.path().join("data").display()
            ))
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            .arg("--web.enable-remote-write-receiver")
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        if native_histograms {
            cmd.arg("--enable-feature=native-histograms");
        }
        let child = cmd.spawn().unwrap();
        let p = Prometheus {
            child,
            base: format!("http://127.0.0.1:{port}"),
            _dir: dir,
        };
        let client = reqwest::Client::new();
        let deadline = std::time::Instant::now() + BOUND;
        loop {
            if let Ok(r) = client.get(format!("{}/-/ready", p.base)).send().await
                && r.status().is_success()
            {
                return p;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "prometheus did not become ready"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    pub(crate) fn write_url(&self) -> url::Url {
        url::Url::parse(&format!("{}/api/v1/write", self.base)).unwrap()
    }

    /// An instant query at `time` (Unix seconds): the result vector.
    pub(crate) async fn query(&self, q: &str, time: f64) -> Vec<Value> {
        let body = reqwest::Client::new()
            .get(format!("{}/api/v1/query", self.base))
            .query(&[("query", q.to_string()), ("time", format!("{time:.3}"))])
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let r: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(r["status"], "success", "query {q}: {r}");
        r["data"]["result"].as_array().cloned().unwrap_or_default()
    }
}

/// The loopback target, stopped on drop.
struct Target {
    url: String,
    stop: tokio_util::sync::CancellationToken,
}

impl Drop for Target {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

async fn target() -> Target {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let stop = tokio_util::sync::CancellationToken::new();
    let s = stop.clone();
    tokio::spawn(loadgate::target::serve(listener, async move {
        s.cancelled().await
    }));
    Target { url, stop }
}

/// Log lines of the whole test binary (a global subscriber, installed once).
fn logs() -> &'static Mutex<Vec<u8>> {
    static LOGS: OnceLock<&'static Mutex<Vec<u8>>> = OnceLock::new();
    LOGS.get_or_init(|| {
        let buf: &'static Mutex<Vec<u8>> = Box::leak(Box::new(Mutex::new(Vec::new())));
        struct W(&'static Mutex<Vec<u8>>);
        impl Write for W {
            fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
                self.0.lock().unwrap().extend_from_slice(b);
                Ok(b.len())
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        let _ = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::WARN)
            .with_ansi(false)
            .with_writer(move || W(buf))
            .try_init();
        buf
    })
}

fn keptn_labels(testid: &str) -> ExtraLabels {
    let mut extra = ExtraLabels::default();
    for (k, v) in [
        ("project", "sockshop"),
        ("stage", "dev"),
        ("service", "carts"),
        ("keptn_context", "ctx-1"),
        ("job", "carts-sockshop-dev"),
        ("testid", testid),
    ] {
        extra.overrides.insert(k.to_string(), v.to_string());
    }
    extra
}

async fn run_smoke(target: &Target, output: PrometheusRw, duration: &str) -> RunOutcome {
    let mut config = RunConfig::new(repo("test-data/scripts/rw_smoke.js"));
    config.env = BTreeMap::from([
        ("TARGET".to_string(), target.url.clone()),
        ("DURATION".to_string(), duration.to_string()),
    ]);
    config.workers = Some(1);
    config.outputs = vec![Box::new(output)];
    tokio::time::timeout(BOUND, loadgate::run::run(config))
        .await
        .expect("the run ended in bounded time")
        .unwrap()
}

/// The `indicators` of an sli.yaml (one `name: 'query'` per line, as the fixture is written).
fn indicators(path: &Path) -> Vec<(String, String)> {
    let text = std::fs::read_to_string(path).unwrap();
    let mut out = Vec::new();
    let mut inside = false;
    for line in text.lines() {
        if line.starts_with("indicators:") {
            inside = true;
            continue;
        }
        let t = line.trim();
        if !inside || t.is_empty() || t.starts_with('#') {
            continue;
        }
        let (name, q) = t.split_once(": ").unwrap();
        let q = q.trim().trim_matches('\'').replace("''", "'");
        out.push((name.to_string(), q));
    }
    out
}

fn secs(t: SystemTime) -> f64 {
    t.duration_since(UNIX_EPOCH).unwrap().as_secs_f64()
}

fn summary_value(outcome: &RunOutcome, metric: &str, key: &str) -> f64 {
    let data = &outcome.summary.as_ref().unwrap().data;
    data["metrics"][metric]["values"][key].as_f64().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn quality_gate_slis_on_a_real_run() {
    let prom = Prometheus::start(false).await;
    let target = target().await;
    let config = RwConfig {
        server_url: prom.write_url(),
        push_interval: Duration::from_millis(500),
        // Stale markers land before test.end; the SLIs use *_over_time and rate(), which skip
        // them, so the quality gate must still see every series.
        stale_markers: true,
        ..RwConfig::default()
    };
    let output = PrometheusRw::new(config, keptn_labels("gate-1")).unwrap();
    let stats = output.stats();
    let outcome = run_smoke(&target, output, "3s").await;
    assert_eq!(outcome.status, RunStatus::Passed);
    assert_eq!(stats.dropped_samples.load(Ordering::Relaxed), 0);
    assert!(stats.delivered_samples.load(Ordering::Relaxed) > 0);

    // As prometheus-service: $DURATION_SECONDS = ceil(end - start) + "s", query at end.
    let (start, end) = (secs(outcome.started_at), secs(outcome.ended_at));
    let duration = format!("{}s", (end - start).ceil() as u64);
    let reqs = summary_value(&outcome, "http_reqs", "count");
    let failed = summary_value(&outcome, "http_req_failed", "rate");
    let p95_max_ms = summary_value(&outcome, "http_req_duration", "max");
    let mut checked = Vec::new();
    for (name, query) in indicators(&repo("test-data/keptn/sli.yaml")) {
        let q = query
            .replace("$PROJECT", "sockshop")
            .replace("$STAGE", "dev")
            .replace("$SERVICE", "carts")
            .replace("$DURATION_SECONDS", &duration);
        let result = prom.query(&q, end).await;
        assert_eq!(
            result.len(),
            1,
            "SLI {name} must return exactly one value: {q} -> {result:?}"
        );
        let v: f64 = result[0]["value"][1].as_str().unwrap().parse().unwrap();
        assert!(v.is_finite(), "SLI {name} is {v}");
        let close = |a: f64, b: f64| (a - b).abs() <= 1e-9 * b.abs().max(1.0);
        match name.as_str() {
            "http_reqs" => assert_eq!(v, reqs, "{name}"),
            "error_rate" => assert!(close(v, failed) && v > 0.0, "{name}: {v} vs {failed}"),
            "checks_rate" => assert_eq!(v, 1.0, "{name}"),
            "vus_max" => assert_eq!(v, 2.0, "{name}"),
            "response_time_p95" | "response_time_p99" => {
                assert!(v > 0.0 && v <= p95_max_ms + 1e-6, "{name}: {v} ms")
            }
            "iteration_duration_p95" => assert!((50.0..10_000.0).contains(&v), "{name}: {v} ms"),
            "throughput" => assert!(v > 0.0 && v <= reqs, "{name}: {v}/s"),
            other => panic!("no expected range for SLI {other}"),
        }
        checked.push(name);
    }
    assert_eq!(checked.len(), 8, "{checked:?}");

    // k6's names and labels, as the dashboards query them.
    let vus = prom
        .query("last_over_time(k6_vus{testid=\"gate-1\"}[1m])", end)
        .await;
    assert_eq!(vus.len(), 1);
    let labels = &vus[0]["metric"];
    assert_eq!(labels["job"], "carts-sockshop-dev");
    assert_eq!(labels["keptn_context"], "ctx-1");
    let by_status = prom
        .query(
            "last_over_time(k6_http_req_duration_p99{testid=\"gate-1\",status=\"503\"}[1m])",
            end,
        )
        .await;
    assert_eq!(by_status.len(), 1);
    assert_eq!(by_status[0]["metric"]["expected_response"], "false");
    assert_eq!(by_status[0]["metric"]["method"], "GET");
    // A plain instant selector at the end sees the stale markers: the series are gone.
    let stale = prom.query("k6_vus{testid=\"gate-1\"}", end + 1.0).await;
    assert!(stale.is_empty(), "{stale:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prometheus_down_leaves_the_result_unchanged_and_warns() {
    let logs = logs();
    let target = target().await;
    let url = url::Url::parse(&format!("http://127.0.0.1:{}/api/v1/write", free_port())).unwrap();
    let config = RwConfig {
        server_url: url,
        push_interval: Duration::from_millis(300),
        stop_timeout: Duration::from_secs(1),
        ..RwConfig::default()
    };
    let output = PrometheusRw::new(config, keptn_labels("down-1")).unwrap();
    let stats = output.stats();
    let outcome = run_smoke(&target, output, "1s").await;
    assert_eq!(outcome.status, RunStatus::Passed);
    assert!(outcome.evaluation.thresholds.iter().all(|t| t.ok));
    let dropped = stats.dropped_samples.load(Ordering::Relaxed);
    assert!(dropped > 0);
    assert_eq!(stats.delivered_samples.load(Ordering::Relaxed), 0);
    let text = String::from_utf8_lossy(&logs.lock().unwrap()).into_owned();
    assert!(
        text.contains(&format!(
            "prometheus remote write: {dropped} of {dropped} samples"
        )),
        "{text}"
    );
    assert!(
        text.contains("were not delivered to http://127.0.0.1:"),
        "{text}"
    );
}

/// An endpoint answering the given statuses in turn (the last one repeats); counts requests.
async fn scripted_endpoint(statuses: Vec<u16>) -> (url::Url, Arc<AtomicUsize>) {
    let hits = Arc::new(AtomicUsize::new(0));
    let h = hits.clone();
    let app = axum::Router::new().route(
        "/api/v1/write",
        axum::routing::post(move || {
            let n = h.fetch_add(1, Ordering::SeqCst);
            let code = statuses[n.min(statuses.len() - 1)];
            async move { axum::http::StatusCode::from_u16(code).unwrap() }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/api/v1/write", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url::Url::parse(&url).unwrap(), hits)
}

/// Starts an output on `url`, adds one sample, stops (the final push), returns the output's stats.
async fn one_push(config: RwConfig) -> Arc<loadgate::output::prometheus::RwStats> {
    let mut out = PrometheusRw::new(config, ExtraLabels::default()).unwrap();
    let stats = out.stats();
    out.start(Arc::new(Registry::new()));
    out.add_samples(&Arc::new(vec![Sample::now(
        builtin::HTTP_REQ_DURATION,
        Arc::new(TagSet::new()),
        12.0,
    )]));
    tokio::time::timeout(BOUND, Box::new(out).stop())
        .await
        .unwrap();
    stats
}

fn slow_push_config(url: url::Url) -> RwConfig {
    RwConfig {
        server_url: url,
        push_interval: Duration::from_secs(3600),
        stop_timeout: Duration::from_secs(5),
        ..RwConfig::default()
    }
}

#[tokio::test]
async fn client_errors_are_not_retried() {
    let (url, hits) = scripted_endpoint(vec![400]).await;
    let stats = one_push(slow_push_config(url)).await;
    assert_eq!(hits.load(Ordering::SeqCst), 1, "a 4xx is final");
    assert_eq!(stats.failed_pushes.load(Ordering::Relaxed), 1);
    assert_eq!(
        stats.dropped_samples.load(Ordering::Relaxed),
        6,
        "six trend stats"
    );
}

#[tokio::test]
async fn server_errors_are_retried_with_backoff() {
    let (url, hits) = scripted_endpoint(vec![503, 500, 204]).await;
    let stats = one_push(slow_push_config(url)).await;
    assert_eq!(hits.load(Ordering::SeqCst), 3);
    assert_eq!(stats.failed_pushes.load(Ordering::Relaxed), 2);
    assert_eq!(stats.delivered_samples.load(Ordering::Relaxed), 6);
    assert_eq!(stats.dropped_samples.load(Ordering::Relaxed), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn native_histograms_reach_prometheus_and_are_final_when_disabled() {
    let on = Prometheus::start(true).await;
    let off = Prometheus::start(false).await;
    for (prom, enabled) in [(&on, true), (&off, false)] {
        let mut config = slow_push_config(prom.write_url());
        config.trend_as_native_histogram = true;
        let stats = one_push(config).await;
        if enabled {
            assert_eq!(stats.delivered_samples.load(Ordering::Relaxed), 1);
            let now = secs(SystemTime::now());
            let count = prom
                .query("histogram_count(k6_http_req_duration_seconds)", now)
                .await;
            assert_eq!(count.len(), 1);
            assert_eq!(count[0]["value"][1], "1");
            let sum = prom
                .query("histogram_sum(k6_http_req_duration_seconds)", now)
                .await;
            assert_eq!(sum[0]["value"][1], "0.012");
        } else {
            // HTTP 500 "native histograms are disabled": permanent, one attempt only.
            assert_eq!(stats.failed_pushes.load(Ordering::Relaxed), 1);
            assert_eq!(stats.dropped_samples.load(Ordering::Relaxed), 1);
        }
    }
}

/// The `indicators` of tutorial 2's `sli.yaml` block (`name: query` lines, comments skipped).
fn tutorial_indicators() -> Vec<(String, String)> {
    let md = std::fs::read_to_string(repo("tutorials/02-keptn.md")).unwrap();
    let start = md
        .find("```yaml file=sli.yaml")
        .expect("tutorial 2 has an sli.yaml block");
    let block = &md[start..];
    let block = &block[..block[3..].find("```").unwrap() + 3];
    let mut out = Vec::new();
    let mut inside = false;
    for line in block.lines() {
        if line.starts_with("indicators:") {
            inside = true;
            continue;
        }
        let t = line.trim();
        if !inside || t.is_empty() || t.starts_with('#') {
            continue;
        }
        let (name, q) = t.split_once(": ").unwrap();
        out.push((name.to_string(), q.to_string()));
    }
    out
}

/// Tutorial 2's SLIs as prometheus-service runs them (instant queries at test.end over
/// `[$DURATION_SECONDS]`), on a real Prometheus with native histograms, for a test shorter than
/// the push interval (1 s: one push, the final one) and a 60 s test (twelve pushes), against the
/// run's own summary: error_rate and throughput from the counters, p95 merged over every series.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tutorial_slis_hold_for_a_1s_and_a_60s_test() {
    let slis = tutorial_indicators();
    let names: Vec<&str> = slis.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        [
            "response_time_p95",
            "error_rate",
            "throughput",
            "checks_rate"
        ]
    );
    let target = target().await;
    for duration in ["1s", "60s"] {
        let prom = Prometheus::start(true).await;
        let config = RwConfig {
            server_url: prom.write_url(),
            // The default push interval: a 1 s test gets only the final push.
            push_interval: Duration::from_secs(5),
            trend_as_native_histogram: true,
            ..RwConfig::default()
        };
        let output = PrometheusRw::new(config, keptn_labels(&format!("sli-{duration}"))).unwrap();
        let stats = output.stats();
        let outcome = run_smoke(&target, output, duration).await;
        assert_eq!(outcome.status, RunStatus::Passed, "{duration}");
        assert_eq!(stats.dropped_samples.load(Ordering::Relaxed), 0);
        let (start, end) = (secs(outcome.started_at), secs(outcome.ended_at));
        let window = (end - start).ceil();
        let reqs = summary_value(&outcome, "http_reqs", "count");
        let failed = summary_value(&outcome, "http_req_failed", "rate");
        let p95 = summary_value(&outcome, "http_req_duration", "p(95)");
        assert!(
            failed > 0.0 && failed < 1.0,
            "the script fails some requests: {failed}"
        );
        for (name, query) in &slis {
            let q = query
                .replace("$PROJECT", "sockshop")
                .replace("$STAGE", "dev")
                .replace("$SERVICE", "carts")
                .replace("$DURATION_SECONDS", &format!("{window}s"));
            let result = prom.query(&q, end).await;
            assert_eq!(
                result.len(),
                1,
                "{duration}: SLI {name} must return exactly one value: {q} -> {result:?}"
            );
            let v: f64 = result[0]["value"][1].as_str().unwrap().parse().unwrap();
            match name.as_str() {
                // A ratio of counters: exactly the summary's rate (not the worst series' 1.0).
                "error_rate" => assert!(
                    (v - failed).abs() <= 1e-9,
                    "{duration}: {name} {v} vs the summary's {failed}"
                ),
                // Requests over the window's length (a 10 ms step: within 1 % of it).
                "throughput" => {
                    let want = reqs / window;
                    assert!(
                        (v - want).abs() <= 0.011 * want,
                        "{duration}: {name} {v}/s vs {reqs} requests in {window} s"
                    );
                }
                // Native histograms (schema 3: buckets grow by 2^(1/8), about 9 %): the merged
                // p95 of every request lies within one bucket of the summary's exact p95.
                "response_time_p95" => {
                    let want = p95;
                    assert!(
                        v > 0.0 && (v / want) < 1.10 && (want / v) < 1.10,
                        "{duration}: {name} {v} ms vs the summary's p(95) {want} ms"
                    );
                }
                "checks_rate" => assert_eq!(v, 1.0, "{duration}: {name}"),
                other => panic!("no expectation for SLI {other}"),
            }
        }
    }
}
