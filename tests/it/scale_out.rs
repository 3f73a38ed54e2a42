//! Scale-out with real parts: one real `nats-server`, three real `loadgate serve` processes on
//! loopback (the workloads of `test-data/scale-out`), the loopback target. One test split over
//! three replicas gives the totals of one instance, its thresholds are judged on the merged
//! whole, `abortOnFail` stops every runner, a SIGKILLed runner errors the test naming it, too
//! few replicas error it after `--runner-wait`, bad `parallelism` is refused, and a NATS restart
//! in the middle loses and double-counts nothing.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use futures_util::StreamExt;
use serde_json::Value;
use tokio::sync::mpsc::UnboundedReceiver;

use crate::support::*;

fn workloads() -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("test-data/scale-out")
        .display()
        .to_string()
}

/// One `loadgate serve` process; killed on drop.
struct Replica {
    child: Option<Child>,
    http: String,
    host: String,
}

impl Replica {
    fn start(nats: &str, host: &str, extra: &[String]) -> Replica {
        let port = free_port();
        let http = format!("127.0.0.1:{port}");
        let child = Command::new(env!("CARGO_BIN_EXE_loadgate"))
            .args(["serve", "--nats-url", nats, "--tests-dir", &workloads()])
            .args([
                "--http-addr",
                &http,
                "--runner-wait",
                "3s",
                "--workers",
                "1",
            ])
            .args(["--shutdown-grace", "5s"])
            .args(extra)
            // Answers go over NATS; nothing is delivered over HTTP.
            .args(["--distributor-url", "http://127.0.0.1:9/event"])
            .env("HOSTNAME", host)
            .env("K6_NO_USAGE_REPORT", "true")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start loadgate serve");
        Replica {
            child: Some(child),
            http,
            host: host.to_string(),
        }
    }

    async fn ready(&self) {
        let url = format!("http://{}/health/ready", self.http);
        eventually("replica ready", Duration::from_secs(30), || async {
            let r = reqwest::get(&url).await.ok()?;
            (r.status().as_u16() == 200).then_some(())
        })
        .await;
    }

    /// `/v1/tests/{id}` on this replica, if it knows the test.
    async fn test(&self, id: &str) -> Option<Value> {
        let r = reqwest::get(format!("http://{}/v1/tests/{id}", self.http))
            .await
            .ok()?;
        if r.status().as_u16() != 200 {
            return None;
        }
        r.json().await.ok()
    }

    fn signal(&mut self, sig: &str) {
        if let Some(c) = &self.child {
            let _ = Command::new("kill")
                .args([sig, &c.id().to_string()])
                .status();
        }
    }
}

impl Drop for Replica {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// A NATS server, three replicas, the target and a client that hears every answer.
struct Cluster {
    nats: Nats,
    replicas: Vec<Replica>,
    target: String,
    client: async_nats::Client,
    answers: UnboundedReceiver<Value>,
}

impl Cluster {
    async fn start(n: usize) -> Cluster {
        Self::start_with(n, &[]).await
    }

    /// With `extra` flags for every replica.
    async fn start_with(n: usize, extra: &[String]) -> Cluster {
        let nats = Nats::start();
        let target = target().await;
        let replicas: Vec<Replica> = (0..n)
            .map(|i| Replica::start(&nats.url(), &format!("replica-{i}"), extra))
            .collect();
        for r in &replicas {
            r.ready().await;
        }
        let client = async_nats::connect(nats.url()).await.unwrap();
        let (tx, answers) = tokio::sync::mpsc::unbounded_channel();
        // One subscription for both answer types: two would be two tasks racing to the channel,
        // and a .finished sent right after its .started could come first.
        {
            let mut sub = client
                .subscribe("sh.keptn.event.test.*".to_string())
                .await
                .unwrap();
            let tx = tx.clone();
            tokio::spawn(async move {
                while let Some(m) = sub.next().await {
                    if m.subject.ends_with(".started") || m.subject.ends_with(".finished") {
                        let _ = tx.send(serde_json::from_slice::<Value>(&m.payload).unwrap());
                    }
                }
            });
        }
        client.flush().await.unwrap();
        Cluster {
            nats,
            replicas,
            target,
            client,
            answers,
        }
    }

    /// Publishes a test.triggered for `strategy`; returns its id.
    async fn trigger(&self, strategy: &str) -> String {
        let ev = triggered(strategy, Some(&self.target));
        self.client
            .publish(
                "sh.keptn.event.test.triggered",
                ev.to_string().into_bytes().into(),
            )
            .await
            .unwrap();
        self.client.flush().await.unwrap();
        ev["id"].as_str().unwrap().to_string()
    }

    /// Runs `strategy` to its `.finished` (exactly one `.started` before it).
    async fn run(&mut self, strategy: &str) -> (String, Value) {
        let id = self.trigger(strategy).await;
        let f = self.finished(&id).await;
        (id, f)
    }

    async fn finished(&mut self, id: &str) -> Value {
        let s = next_for(&mut self.answers, id, Duration::from_secs(30)).await;
        assert_eq!(s["type"], "sh.keptn.event.test.started", "{s}");
        let f = next_for(&mut self.answers, id, Duration::from_secs(120)).await;
        assert_eq!(f["type"], "sh.keptn.event.test.finished", "{f}");
        f
    }

    /// Every replica's `/v1/tests/{id}` entry, once all of them are finished.
    async fn entries(&self, id: &str) -> Vec<(usize, Value)> {
        eventually("every entry finished", Duration::from_secs(30), || async {
            let mut all = Vec::new();
            for (i, r) in self.replicas.iter().enumerate() {
                if let Some(t) = r.test(id).await {
                    if t["state"] != "finished" {
                        return None;
                    }
                    all.push((i, t));
                }
            }
            Some(all)
        })
        .await
    }

    /// The coordinator's summary export of `id`; checks the roles on the way: one coordinator
    /// and `runners` runners (none: a single instance).
    async fn summary(&self, id: &str, runners: usize) -> Value {
        let entries = self.entries(id).await;
        if runners == 0 {
            // One instance: one entry, no role.
            assert_eq!(entries.len(), 1, "{entries:?}");
            assert!(entries[0].1["role"].is_null(), "{entries:?}");
            return entries[0].1["summary"].clone();
        }
        let roles: Vec<&str> = entries
            .iter()
            .map(|(_, t)| t["role"].as_str().unwrap_or("none"))
            .collect();
        let coordinators = roles.iter().filter(|r| **r == "coordinator").count();
        let running = roles.iter().filter(|r| **r == "runner").count();
        assert_eq!((coordinators, running), (1, runners), "{entries:?}");
        let (_, c) = entries
            .into_iter()
            .find(|(_, t)| t["role"] == "coordinator")
            .unwrap();
        c["summary"].clone()
    }
}

fn count(summary: &Value, metric: &str) -> f64 {
    summary["metrics"][metric]["count"]
        .as_f64()
        .unwrap_or_else(|| panic!("no {metric} count in {summary}"))
}

fn checks(summary: &Value) -> (f64, f64) {
    let c = &summary["metrics"]["checks"];
    (
        c["passes"].as_f64().unwrap_or(-1.0),
        c["fails"].as_f64().unwrap_or(-1.0),
    )
}

fn message(f: &Value) -> &str {
    f["data"]["message"].as_str().unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_test_over_three_replicas_is_judged_as_one() {
    let mut c = Cluster::start(3).await;

    // shared-iterations: 30 iterations split 10/10/10; `http_reqs: count==30` fails on every
    // slice and passes on the whole.
    let (id, f) = c.run("shared").await;
    assert_eq!(f["data"]["status"], "succeeded", "{f}");
    assert_eq!(f["data"]["result"], "pass", "{f}");
    let m = message(&f);
    assert!(m.contains("http_reqs count==30 (count=30)"), "{m}");
    assert!(
        m.contains("parallelism 3: the coordinator and 2 runner(s), start skew"),
        "{m}"
    );
    let split = c.summary(&id, 2).await;
    let (one_id, one) = c.run("shared-one").await;
    assert_eq!(one["data"]["result"], "pass", "{one}");
    let whole = c.summary(&one_id, 0).await;
    for metric in ["iterations", "http_reqs"] {
        assert_eq!(count(&split, metric), count(&whole, metric), "{metric}");
    }
    assert_eq!(count(&split, "http_reqs"), 30.0);
    assert_eq!(checks(&split), checks(&whole));
    assert_eq!(checks(&split), (30.0, 0.0));

    // per-vu-iterations: 6 VUs x 4 iterations, 2 VUs per instance.
    let (id, f) = c.run("pervu").await;
    assert_eq!(f["data"]["result"], "pass", "{f}");
    let split = c.summary(&id, 2).await;
    let (one_id, _) = c.run("pervu-one").await;
    let whole = c.summary(&one_id, 0).await;
    for metric in ["iterations", "http_reqs"] {
        assert_eq!(count(&split, metric), count(&whole, metric), "{metric}");
    }
    assert_eq!(count(&split, "iterations"), 24.0);
    assert_eq!(checks(&split), checks(&whole));

    // abortOnFail on the merged count stops every runner long before the 60 s the test has.
    let (id, f) = c.run("abort").await;
    assert_eq!(f["data"]["result"], "fail", "{f}");
    assert!(message(&f).contains("http_reqs count<20"), "{f}");
    let entries = c.entries(&id).await;
    let runners: Vec<&Value> = entries
        .iter()
        .map(|(_, t)| t)
        .filter(|t| t["role"] == "runner")
        .collect();
    assert_eq!(runners.len(), 2, "{entries:?}");
    for r in runners {
        let m = r["message"].as_str().unwrap_or_default();
        assert!(
            m.contains("the coordinator stopped the test: a threshold with abortOnFail failed"),
            "{r}"
        );
    }

    // exec.test.abort() on a runner's VU stops the whole test.
    let (id, f) = c.run("scriptabort").await;
    assert_eq!(f["data"]["status"], "errored", "{f}");
    assert!(
        message(&f).contains("the script aborted the test: VU 3 asked to stop"),
        "{f}"
    );
    let entries = c.entries(&id).await;
    assert_eq!(entries.len(), 3, "{entries:?}");

    // Not enough replicas (4 runners wanted, 2 there): errored after --runner-wait (3s).
    let (_, f) = c.run("wide").await;
    assert_eq!(f["data"]["status"], "errored", "{f}");
    assert!(
        message(&f).contains("scale-out needs 4 runner(s) besides this replica; found 2 free"),
        "{f}"
    );

    // Bad parallelism: clear errors, nothing hangs.
    for (strategy, needle) in [
        ("zero", "parallelism must be at least 1, got 0"),
        ("toomany", "parallelism 4 is larger than the test's 3 VUs"),
        (
            "external",
            "the externally-controlled executor cannot run on an execution segment",
        ),
    ] {
        let (_, f) = c.run(strategy).await;
        assert_eq!(f["data"]["status"], "errored", "{strategy}: {f}");
        assert!(message(&f).contains(needle), "{strategy}: {f}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_runner_errors_the_test_and_is_named() {
    let mut c = Cluster::start(3).await;
    let id = c.trigger("long").await;
    // Wait until a runner has the segment running, then SIGKILL it.
    let victim = eventually(
        "a runner runs a segment",
        Duration::from_secs(30),
        || async {
            for (i, r) in c.replicas.iter().enumerate() {
                if let Some(t) = r.test(&id).await
                    && t["role"] == "runner"
                {
                    return Some(i);
                }
            }
            None
        },
    )
    .await;
    c.replicas[victim].signal("-KILL");
    let f = c.finished(&id).await;
    assert_eq!(f["data"]["status"], "errored", "{f}");
    assert_eq!(f["data"]["result"], "fail", "{f}");
    let m = message(&f);
    let host = &c.replicas[victim].host;
    assert!(m.contains(&format!("on {host}) lost")), "{m}");
    assert!(m.contains("merged results so far"), "{m}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_runner_stopped_with_sigterm_is_leaving() {
    let mut c = Cluster::start(3).await;
    let id = c.trigger("long").await;
    let victim = eventually(
        "a runner runs a segment",
        Duration::from_secs(30),
        || async {
            for (i, r) in c.replicas.iter().enumerate() {
                if let Some(t) = r.test(&id).await
                    && t["role"] == "runner"
                {
                    return Some(i);
                }
            }
            None
        },
    )
    .await;
    c.replicas[victim].signal("-TERM");
    let f = c.finished(&id).await;
    assert_eq!(f["data"]["status"], "errored", "{f}");
    let m = message(&f);
    let host = &c.replicas[victim].host;
    assert!(m.contains(&format!("on {host}) is leaving")), "{m}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_nats_restart_mid_test_loses_and_double_counts_nothing() {
    let mut c = Cluster::start(3).await;
    let id = c.trigger("paced").await;
    let s = next_for(&mut c.answers, &id, Duration::from_secs(30)).await;
    assert_eq!(s["type"], "sh.keptn.event.test.started", "{s}");
    // Once every runner is running (deltas flowing), the server goes away and comes back.
    eventually("two runners run", Duration::from_secs(30), || async {
        let mut n = 0;
        for r in &c.replicas {
            if let Some(t) = r.test(&id).await
                && t["role"] == "runner"
            {
                n += 1;
            }
        }
        (n == 2).then_some(())
    })
    .await;
    let port = c.nats.port;
    c.nats.stop();
    tokio::time::sleep(Duration::from_millis(500)).await;
    c.nats = Nats::start_on(port);
    // The test's own listener reconnects too; the answer is read from the coordinator.
    let entries = eventually("the test finished", Duration::from_secs(120), || async {
        let mut all = Vec::new();
        for r in &c.replicas {
            if let Some(t) = r.test(&id).await {
                if t["state"] != "finished" {
                    return None;
                }
                all.push(t);
            }
        }
        (all.len() == 3).then_some(all)
    })
    .await;
    let coord = entries
        .iter()
        .find(|t| t["role"] == "coordinator")
        .expect("a coordinator");
    assert_eq!(coord["status"], "succeeded", "{coord}");
    assert_eq!(coord["result"], "pass", "{coord}");
    let summary = &coord["summary"];
    assert_eq!(count(summary, "iterations"), 60.0, "{summary}");
    assert_eq!(count(summary, "http_reqs"), 60.0);
    assert_eq!(checks(summary), (60.0, 0.0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_coordinator_writes_the_merged_series_and_runners_none() {
    loadgate::tls::install_default_provider();
    let prom = crate::prometheus_rw::Prometheus::start(false).await;
    let extra = [
        "--prometheus-rw-url".to_string(),
        prom.write_url().to_string(),
    ];
    let mut c = Cluster::start_with(3, &extra).await;
    let (id, f) = c.run("shared").await;
    assert_eq!(f["data"]["result"], "pass", "{f}");
    let summary = c.summary(&id, 2).await;
    let p95_ms = summary["metrics"]["http_req_duration"]["p(95)"]
        .as_f64()
        .unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs_f64();
    // One series per metric for the whole test (no runner writes its own), with the merged
    // values: the p95 is the .finished one, the request count the whole test's.
    let p95 = prom
        .query(
            &format!("last_over_time(k6_http_req_duration_p95{{testid=\"{id}\"}}[10m])"),
            now,
        )
        .await;
    assert_eq!(p95.len(), 1, "{p95:?}");
    let v: f64 = p95[0]["value"][1].as_str().unwrap().parse().unwrap();
    assert!(
        (v * 1000.0 - p95_ms).abs() <= p95_ms * 1e-9,
        "prometheus p95 {v}s, summary p(95) {p95_ms}ms"
    );
    let reqs = prom
        .query(
            &format!("sum(max_over_time(k6_http_reqs_total{{testid=\"{id}\"}}[10m]))"),
            now,
        )
        .await;
    assert_eq!(reqs.len(), 1, "{reqs:?}");
    assert_eq!(reqs[0]["value"][1], "30", "{reqs:?}");
}
