//! SIGTERM mid-test: `loadgate serve` (the real binary) stops taking events, lets running tests
//! go on for the grace period, aborts them, and still sends every `.finished` (the running test's
//! and a queued one's) before it exits 0.

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use crate::support::*;

struct Guard(Child);

impl Drop for Guard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_mid_test_still_sends_every_finished() {
    let target = target().await;
    let (dist, mut rx) = distributor().await;
    let port = free_port();
    let child = Command::new(env!("CARGO_BIN_EXE_loadgate"))
        .args(["serve", "--http-addr", &format!("127.0.0.1:{port}")])
        .arg("--tests-dir")
        .arg(tests_dir())
        .args(["--distributor-url", &dist])
        .args([
            "--max-concurrent-tests",
            "1",
            "--shutdown-grace",
            "1s",
            "--workers",
            "1",
        ])
        .env_remove("NATS_URL")
        .env_remove("KEPTN_API_ENDPOINT")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start loadgate serve");
    let mut guard = Guard(child);
    let base = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::new();
    let mut up = false;
    for _ in 0..100 {
        if client
            .get(format!("{base}/health/live"))
            .send()
            .await
            .is_ok()
        {
            up = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(up, "loadgate serve did not come up");
    let running = triggered("slow", Some(&target));
    let queued = triggered("quick", Some(&target));
    let rid = running["id"].as_str().unwrap();
    let qid = queued["id"].as_str().unwrap();
    let post = |ev: serde_json::Value| {
        let (client, base) = (client.clone(), base.clone());
        async move {
            let r = client
                .post(format!("{base}/"))
                .header("content-type", "application/cloudevents+json")
                .body(ev.to_string())
                .send()
                .await
                .unwrap();
            assert_eq!(r.status().as_u16(), 202);
        }
    };
    post(running.clone()).await;
    // Wait until the slow test runs, then send one that must wait for the only slot.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let j: serde_json::Value = client
            .get(format!("{base}/v1/tests/{rid}"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        // A running test shows its start and live counters (read from the engine).
        if j["state"] == "running" && j["progress"]["vus"] == 1 {
            assert!(j["start"].as_str().is_some_and(|s| s.ends_with('Z')), "{j}");
            assert!(j["progress"]["elapsed_seconds"].as_f64().is_some(), "{j}");
            assert_eq!(j["progress"]["vus_max"], 1, "{j}");
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "never running with live counters: {j}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    post(queued.clone()).await;
    for id in [rid, qid] {
        let a = next_for(&mut rx, id, Duration::from_secs(30)).await;
        assert_eq!(a["type"], "sh.keptn.event.test.started", "{a}");
    }
    let j: serde_json::Value = client
        .get(format!("{base}/v1/tests/{qid}"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(j["state"], "queued", "{j}");
    let pid = guard.0.id() as libc::pid_t;
    // SAFETY: sending a signal to our own child process.
    assert_eq!(unsafe { libc::kill(pid, libc::SIGTERM) }, 0);
    let mut finished = std::collections::HashMap::new();
    while finished.len() < 2 {
        let a = tokio::time::timeout(Duration::from_secs(60), rx.recv())
            .await
            .expect("every .finished after SIGTERM")
            .unwrap();
        assert_eq!(a["type"], "sh.keptn.event.test.finished", "{a}");
        finished.insert(a["triggeredid"].as_str().unwrap().to_string(), a);
    }
    let r = &finished[rid];
    assert_answer(r, &running);
    assert_eq!(r["data"]["status"], "errored");
    assert!(
        r["data"]["message"]
            .as_str()
            .unwrap()
            .contains("service shutting down, test aborted"),
        "{r}"
    );
    assert_window(r);
    let q = &finished[qid];
    assert_eq!(q["data"]["status"], "errored");
    assert!(
        q["data"]["message"]
            .as_str()
            .unwrap()
            .contains("before the test started"),
        "{q}"
    );
    // The process exits on its own, with 0.
    let mut status = None;
    for _ in 0..200 {
        if let Some(s) = guard.0.try_wait().unwrap() {
            status = Some(s);
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(status.expect("exited after SIGTERM").code(), Some(0));
}
