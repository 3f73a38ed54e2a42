//! The fault suite: hostile scripts, hostile servers and failing jobs, each a way the engine or the
//! service once crashed, hung, span or left a test unanswered (issue 14). Every case runs the real
//! binary or the real service on loopback, bounded in time; scripts are in test-data/faults/.

use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use crate::support::*;
use loadgate::service::ServiceConfig;
use loadgate::workload::WorkloadSource;
use serde_json::Value;

const LIMIT: Duration = Duration::from_secs(60);

fn fault(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("test-data/faults")
        .join(name)
}

/// `loadgate run -q --no-summary -e TARGET=target script`, bounded.
fn run(script: &str, target: &str) -> (Output, String) {
    let path = fault(script);
    let env = format!("TARGET={target}");
    let out = loadgate_bounded(
        &[
            "run",
            "-q",
            "--no-summary",
            "-e",
            &env,
            path.to_str().unwrap(),
        ],
        &[],
        LIMIT,
    );
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!text.contains("panicked"), "{script} panicked:\n{text}");
    (out, text)
}

fn assert_exit(script: &str, out: &Output, text: &str, code: i32) {
    use std::os::unix::process::ExitStatusExt;
    assert_eq!(
        out.status.signal(),
        None,
        "{script} was killed by a signal:\n{text}"
    );
    assert_eq!(out.status.code(), Some(code), "{script}:\n{text}");
}

/// A raw loopback HTTP server on a thread of its own: `body` answers every request with that
/// body; `None` accepts connections and never answers. Returns its base URL.
fn raw_server(body: Option<Vec<u8>>) -> String {
    raw_server_with(body, "")
}

/// [`raw_server`] with extra header lines (each ending in `\r\n`).
fn raw_server_with(body: Option<Vec<u8>>, headers: &'static str) -> String {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/", l.local_addr().unwrap());
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for conn in l.incoming() {
            let Ok(mut c) = conn else { continue };
            match &body {
                None => held.push(c),
                Some(b) => {
                    let mut buf = [0u8; 4096];
                    let _ = c.read(&mut buf);
                    let head = format!(
                        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n{headers}Content-Length: {}\r\nConnection: close\r\n\r\n",
                        b.len()
                    );
                    let _ = c.write_all(head.as_bytes());
                    let _ = c.write_all(b);
                }
            }
        }
    });
    url
}

#[test]
fn deep_json_is_a_js_error_not_a_crash() {
    // k6: the selector finds nothing and JSON parsing fails with an error (Go: max depth).
    let url = raw_server(Some(vec![b'['; 20_000]));
    let (out, text) = run("deep_json.js", &url);
    assert_exit("deep_json.js", &out, &text, 0);
    assert!(text.contains("selected: undefined"), "{text}");
    assert!(text.contains("parse: "), "{text}");
}

#[test]
fn response_bodies_and_decompression_are_capped() {
    use flate2::{Compression, write::GzEncoder};
    let mut gz = GzEncoder::new(Vec::new(), Compression::best());
    gz.write_all(&vec![0u8; 10 << 20]).unwrap();
    let bomb = raw_server_with(Some(gz.finish().unwrap()), "Content-Encoding: gzip\r\n");
    let (_rt, url) = target_on_runtime();
    let path = fault("body_caps.js");
    let (target, bomb) = (format!("TARGET={url}"), format!("BOMB={bomb}"));
    let out = loadgate_bounded(
        &[
            "run",
            "-q",
            "--no-summary",
            "-e",
            &target,
            "-e",
            &bomb,
            path.to_str().unwrap(),
        ],
        &[("LOADGATE_MAX_RESPONSE_BODY", "100000")],
        LIMIT,
    );
    let text = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(
        text.contains("big: status=0 error_code=1000 error=response body larger than the limit of 100000 bytes (LOADGATE_MAX_RESPONSE_BODY)"),
        "{text}"
    );
    assert!(text.contains("small: status=200 length=1000"), "{text}");
    assert!(text.contains("dropped: status=200 body=null"), "{text}");
    assert!(
        text.contains("bomb: status=200 error_code=1701 error=gzip: decompressed body larger than the limit of 100000 bytes"),
        "{text}"
    );
}

#[test]
fn numbers_no_duration_holds_behave_as_in_k6() {
    // As k6 (Go durations overflow): sleep returns, the timer fires at once, the request times
    // out at once; no panic, no spinning VU.
    let (_rt, url) = target_on_runtime();
    let (out, text) = run("huge_numbers.js", &url);
    assert_exit("huge_numbers.js", &out, &text, 0);
    assert!(text.contains("msg=never"), "{text}");
    assert!(text.contains("request timeout"), "{text}");
}

#[test]
fn endless_setup_is_stopped_by_setup_timeout() {
    let (out, text) = run("setup_loop.js", "http://127.0.0.1:9/");
    assert_exit("setup_loop.js", &out, &text, 100);
    assert!(
        text.contains("setup() execution timed out after 1 seconds"),
        "{text}"
    );
}

#[test]
fn a_huge_group_tag_does_not_overflow_the_stack() {
    let (out, text) = run("group_tag.js", "http://127.0.0.1:9/");
    assert_exit("group_tag.js", &out, &text, 0);
}

#[test]
fn delay_abort_eval_inf_runs_as_in_k6() {
    let (out, text) = run("delay_abort_inf.js", "http://127.0.0.1:9/");
    assert_exit("delay_abort_inf.js", &out, &text, 0);
}

#[test]
fn deep_recursion_is_a_range_error() {
    let (out, text) = run("deep_recursion.js", "http://127.0.0.1:9/");
    assert_exit("deep_recursion.js", &out, &text, 0);
    assert!(
        text.contains("caught: RangeError: Maximum call stack size exceeded"),
        "{text}"
    );
}

#[test]
fn a_server_that_never_answers_times_out() {
    let url = raw_server(None);
    let (out, text) = run("never_answers.js", &url);
    assert_exit("never_answers.js", &out, &text, 0);
    assert!(text.contains("status=0 error_code=1050"), "{text}");
}

#[test]
fn a_redirect_loop_stops_after_max_redirects() {
    let (_rt, url) = target_on_runtime();
    let (out, text) = run("redirect_loop.js", &url);
    assert_exit("redirect_loop.js", &out, &text, 0);
    assert!(text.contains("Stopped after 11 redirects"), "{text}");
    assert!(text.contains("status=302"), "{text}");
}

#[test]
fn an_iteration_that_never_yields_is_interrupted() {
    let (out, text) = run("iteration_loop.js", "http://127.0.0.1:9/");
    assert_exit("iteration_loop.js", &out, &text, 0);
}

#[test]
fn a_memory_bomb_hits_the_vu_memory_limit() {
    // Each iteration hoards 1 MiB strings without end: with a 32 MiB limit per VU the hoarding
    // throws (catchable, as k6 scripts expect of errors), the uncaught one fails its iteration with
    // a message naming the limit, and the test goes on to its end with exit 0.
    let path = fault("memory_bomb.js");
    let out = loadgate_bounded(
        &["run", "-q", "--no-summary", path.to_str().unwrap()],
        &[("LOADGATE_MAX_VU_MEMORY", "32MiB")],
        LIMIT,
    );
    let text = String::from_utf8_lossy(&out.stderr);
    assert_exit("memory_bomb.js", &out, &text, 0);
    assert_eq!(
        text.matches("caught: InternalError: out of memory").count(),
        3,
        "{text}"
    );
    assert_eq!(
        text.matches(
            "the VU exceeded its memory limit of 32 MiB (--max-vu-memory, LOADGATE_MAX_VU_MEMORY)"
        )
        .count(),
        3,
        "{text}"
    );

    // A limit that is not a size is refused before anything runs (k6's exit for a bad flag).
    let out = loadgate_bounded(
        &["run", "--max-vu-memory", "lots", path.to_str().unwrap()],
        &[],
        LIMIT,
    );
    let text = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(255), "{text}");
    assert!(text.contains("invalid --max-vu-memory"), "{text}");
    assert!(!text.contains("caught"), "{text}");
}

#[test]
fn sigterm_stops_an_endless_init_context() {
    let path = fault("init_loop.js");
    let child = Command::new(env!("CARGO_BIN_EXE_loadgate"))
        .args(["run", "-q", "--no-summary", path.to_str().unwrap()])
        .env("K6_NO_USAGE_REPORT", "true")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_secs(1));
    // SAFETY: kill(2) on our own child's pid.
    unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    let out = wait_bounded(child, "loadgate run init_loop.js", Duration::from_secs(15));
    let text = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(105), "{text}");
    assert!(text.contains("init context was interrupted"), "{text}");
}

#[test]
fn imports_and_open_cannot_leave_the_test_folder() {
    let sub = fault("folder/sub");
    // Above the root, whether the file exists or not: the same refusal.
    let (out, text) = run("folder/sub/escape_import.js", "http://127.0.0.1:9/");
    assert_exit("escape_import.js", &out, &text, 107);
    assert!(text.contains("outside the test folder"), "{text}");

    let tmp = tempfile::tempdir().unwrap();
    let secret = tmp.path().join("secret.txt");
    std::fs::write(&secret, "secret").unwrap();
    let dir = tempfile::tempdir().unwrap();
    let scripts = dir.path().join("test/scripts");
    std::fs::create_dir_all(&scripts).unwrap();
    std::fs::copy(sub.join("escape_symlink.js"), scripts.join("main.js")).unwrap();
    std::os::unix::fs::symlink(&secret, scripts.join("outside")).unwrap();
    let main = scripts.join("main.js");
    let out = loadgate_bounded(
        &["run", "-q", "--no-summary", main.to_str().unwrap()],
        &[],
        LIMIT,
    );
    let text = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(107), "{text}");
    assert!(text.contains("outside the test folder"), "{text}");
    assert!(!text.contains("secret.txt"), "{text}");
}

fn fault_service() -> ServiceConfig {
    ServiceConfig {
        source: WorkloadSource::Dir(fault("service")),
        ..config()
    }
}

async fn running_gauge(addr: &str) -> String {
    metrics_text(addr)
        .await
        .lines()
        .find(|l| l.starts_with("loadgate_tests_running"))
        .unwrap_or("loadgate_tests_running missing")
        .to_string()
}

async fn view(addr: std::net::SocketAddr, id: &str) -> Value {
    reqwest::get(format!("http://{addr}/v1/tests/{id}"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

async fn post_event(addr: std::net::SocketAddr, ev: &Value) {
    let r = reqwest::Client::new()
        .post(format!("http://{addr}/"))
        .header("content-type", "application/cloudevents+json")
        .body(ev.to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 202);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_job_that_panics_still_answers_and_frees_its_slot() {
    let target = target().await;
    let (dist, mut rx) = distributor().await;
    // The outputs factory is called inside the job: its first call panics.
    let panicked = Arc::new(AtomicBool::new(false));
    let once = panicked.clone();
    let outputs: loadgate::service::OutputsFactory = Arc::new(move |_labels| {
        if !once.swap(true, Ordering::SeqCst) {
            panic!("outputs on fire");
        }
        Vec::new()
    });
    let svc = start(ServiceConfig {
        distributor_url: dist,
        max_concurrent_tests: 1,
        outputs,
        ..fault_service()
    })
    .await;
    let addr = svc.local_addr();

    let ev = triggered("quick", Some(&target));
    let id = ev["id"].as_str().unwrap();
    post_event(addr, &ev).await;
    let (_s, f) = started_finished(&mut rx, id).await;
    assert!(panicked.load(Ordering::SeqCst));
    assert_eq!(f["data"]["status"], "errored", "{f}");
    assert_eq!(f["data"]["result"], "fail", "{f}");
    let msg = f["data"]["message"].as_str().unwrap();
    assert!(msg.contains("panicked: outputs on fire"), "{msg}");
    let v = view(addr, id).await;
    assert_eq!(v["state"], "finished", "{v}");
    assert_eq!(v["status"], "errored", "{v}");
    assert_eq!(
        running_gauge(&addr.to_string()).await,
        "loadgate_tests_running 0"
    );

    // The only slot was given back: the next test runs.
    let ev2 = triggered("quick", Some(&target));
    post_event(addr, &ev2).await;
    let (_s, f2) = started_finished(&mut rx, ev2["id"].as_str().unwrap()).await;
    assert_eq!(f2["data"]["status"], "succeeded", "{f2}");
    svc.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_threshold_with_delay_abort_eval_inf_is_answered() {
    let target = target().await;
    let (dist, mut rx) = distributor().await;
    let svc = start(ServiceConfig {
        distributor_url: dist,
        ..fault_service()
    })
    .await;
    let addr = svc.local_addr();
    let ev = triggered("infdelay", Some(&target));
    let id = ev["id"].as_str().unwrap();
    post_event(addr, &ev).await;
    let (_s, f) = started_finished(&mut rx, id).await;
    // As k6 (exit 0): the test runs and its threshold passes.
    assert_eq!(f["data"]["status"], "succeeded", "{f}");
    assert_eq!(f["data"]["result"], "pass", "{f}");
    assert_eq!(view(addr, id).await["state"], "finished");
    assert_eq!(
        running_gauge(&addr.to_string()).await,
        "loadgate_tests_running 0"
    );
    svc.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn answers_outlive_a_distributor_that_is_down_for_20_seconds() {
    // The answers used to be dropped after 6 attempts (about 15 s): a distributor restarting for
    // longer never heard of the test. Now they are retried for minutes, and none is lost.
    let target = target().await;
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let svc = start(ServiceConfig {
        distributor_url: format!("http://127.0.0.1:{port}/event"),
        ..fault_service()
    })
    .await;
    let addr = svc.local_addr();
    let ev = triggered("quick", Some(&target));
    let id = ev["id"].as_str().unwrap();
    post_event(addr, &ev).await;
    eventually("the test to finish", Duration::from_secs(60), || async {
        (view(addr, id).await["state"] == "finished").then_some(())
    })
    .await;
    tokio::time::sleep(Duration::from_secs(20)).await;
    let l = tokio::net::TcpListener::bind(("127.0.0.1", port))
        .await
        .unwrap();
    let mut rx = loadgate::service::capture::serve(l);
    let (_s, f) = started_finished(&mut rx, id).await;
    assert_eq!(f["data"]["status"], "succeeded", "{f}");
    let m = metrics_text(&addr.to_string()).await;
    assert!(m.contains("loadgate_answers_lost_total 0"), "{m}");
    svc.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn credentials_in_urls_never_appear_in_logs_events_or_the_api() {
    // Remote write to a Prometheus that is down, with a password in its URL: every failed push
    // used to log the password. The URL is still named, redacted as Go's URL.Redacted() does.
    let target = target().await;
    let (dist, mut rx) = distributor().await;
    let (port, down) = (free_port(), free_port());
    let log = tempfile::NamedTempFile::new().unwrap();
    let child = Command::new(env!("CARGO_BIN_EXE_loadgate"))
        .args(["serve", "--http-addr", &format!("127.0.0.1:{port}")])
        .arg("--tests-dir")
        .arg(tests_dir())
        .args(["--distributor-url", &dist, "--workers", "1"])
        .args([
            "--prometheus-rw-url",
            &format!("http://loadgate:s3cretpw@127.0.0.1:{down}/api/v1/write"),
        ])
        .env_remove("NATS_URL")
        .env_remove("KEPTN_API_ENDPOINT")
        .env("K6_PROMETHEUS_RW_PUSH_INTERVAL", "100ms")
        .env("LOADGATE_LOG", "debug")
        .stdout(Stdio::null())
        .stderr(Stdio::from(log.reopen().unwrap()))
        .spawn()
        .expect("start loadgate serve");
    let base = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::new();
    eventually("loadgate serve to come up", Duration::from_secs(30), || {
        let c = client.get(format!("{base}/health/live")).send();
        async move { c.await.ok().map(|_| ()) }
    })
    .await;
    let ev = triggered("quick", Some(&target));
    let id = ev["id"].as_str().unwrap();
    let r = client
        .post(format!("{base}/"))
        .header("content-type", "application/cloudevents+json")
        .body(ev.to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 202);
    let (s, f) = started_finished(&mut rx, id).await;
    let tests = client
        .get(format!("{base}/v1/tests"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let metrics = metrics_text(&format!("127.0.0.1:{port}")).await;
    // SAFETY: kill(2) on our own child's pid.
    unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    wait_bounded(child, "loadgate serve", LIMIT);
    let logs = std::fs::read_to_string(log.path()).unwrap();
    for (what, text) in [
        ("logs", logs.to_string()),
        (".started", s.to_string()),
        (".finished", f.to_string()),
        ("/v1/tests", tests),
        ("/metrics", metrics),
    ] {
        assert!(
            !text.contains("s3cretpw"),
            "the password is in {what}:\n{text}"
        );
    }
    assert!(
        logs.contains(&format!("loadgate:xxxxx@127.0.0.1:{down}")),
        "{logs}"
    );
}

#[test]
fn log_lines_cannot_be_forged() {
    for format in ["text", "json"] {
        let path = fault("log_forgery.js");
        let mut args = vec!["run", "-q", "--no-summary", "--address", ""];
        if format == "json" {
            args.extend(["--log-format", "json"]);
        }
        args.push(path.to_str().unwrap());
        let out = loadgate_bounded(&args, &[], LIMIT);
        let text = String::from_utf8_lossy(&out.stderr);
        assert_exit("log_forgery.js", &out, &text, 0);
        assert_eq!(text.lines().count(), 2, "{format}:\n{text}");
        for line in text.lines() {
            assert!(
                !line.starts_with("level=") && !line.starts_with("time=\"2026-01-01"),
                "{line}"
            );
            if format == "json" {
                serde_json::from_str::<Value>(line).unwrap();
            }
        }
        assert!(text.contains("forged by console"), "{text}");
        assert!(text.contains("forged by an error"), "{text}");
    }
}
