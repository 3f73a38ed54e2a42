//! The service's command-line faces: `loadgate demo` runs the whole loop in one process (no NATS,
//! no Prometheus) and `loadgate event send FILE --nats URL` fires an event and prints the answers.

use std::process::Command;

use crate::support::*;
use loadgate::service::ServiceConfig;

#[test]
fn demo_runs_the_loop_and_prints_the_finished_event() {
    let out = Command::new(env!("CARGO_BIN_EXE_loadgate"))
        .args(["demo", "--strategy", "functional", "--timeout", "60s"])
        .current_dir(std::env::temp_dir())
        .output()
        .expect("run loadgate demo");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("checks_succeeded"), "{stdout}");
    assert!(
        stdout.contains("\"type\": \"sh.keptn.event.test.finished\""),
        "{stdout}"
    );
    assert!(stdout.contains("\"result\": \"pass\""), "{stdout}");
    // The service's lifecycle at its default level, with wall-clock times (ms) and quoted values.
    let stderr = String::from_utf8_lossy(&out.stderr);
    for needle in [
        "level=info msg=\"test accepted\"",
        "level=info msg=\"test starting\"",
        "level=info msg=\"test finished\" detail=\"teststrategy=functional:",
        " result=pass status=succeeded",
        " teststrategy=functional",
    ] {
        assert!(stderr.contains(needle), "{needle:?} not in:\n{stderr}");
    }
    let first = stderr
        .lines()
        .find(|l| l.contains("test accepted"))
        .unwrap_or("");
    assert!(
        first.starts_with("time=\"20") && &first[25..26] == "." && first[6..31].ends_with("Z\""),
        "no wall-clock time with milliseconds: {first}"
    );

    // --log-format json: one JSON object a line.
    let out = Command::new(env!("CARGO_BIN_EXE_loadgate"))
        .args([
            "--log-format",
            "json",
            "demo",
            "--strategy",
            "functional",
            "--timeout",
            "60s",
        ])
        .current_dir(std::env::temp_dir())
        .output()
        .expect("run loadgate demo");
    assert_eq!(out.status.code(), Some(0));
    let stderr = String::from_utf8_lossy(&out.stderr);
    let logs: Vec<serde_json::Value> = stderr
        .lines()
        .filter(|l| l.starts_with('{'))
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert!(
        logs.iter()
            .any(|l| l["msg"] == "test finished" && l["status"] == "succeeded"),
        "{stderr}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn event_send_over_nats_prints_started_and_finished() {
    let nats = Nats::start();
    let target = target().await;
    let svc = start(ServiceConfig {
        nats_url: Some(nats.url()),
        ..config()
    })
    .await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("event.json");
    std::fs::write(&file, triggered("quick", Some(&target)).to_string()).unwrap();
    let url = nats.url();
    let out = tokio::task::spawn_blocking(move || {
        Command::new(env!("CARGO_BIN_EXE_loadgate"))
            .args(["event", "send"])
            .arg(&file)
            .args(["--nats", &url, "--timeout", "60s"])
            .output()
            .expect("run loadgate event send")
    })
    .await
    .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let started = stdout
        .find("sh.keptn.event.test.started")
        .expect("started printed");
    let finished = stdout
        .find("sh.keptn.event.test.finished")
        .expect("finished printed");
    assert!(started < finished);
    svc.shutdown().await;
}
