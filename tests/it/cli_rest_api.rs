//! k6's REST API of `loadgate run` against the real binary over real HTTP: `--paused` and a
//! resume through `PATCH /v1/status`, k6's errors for pausing and scaling a non-externally-
//! controlled test, a stop (exit 103), `--linger`, and an `--address` that cannot be bound (exit
//! 106). Documents are compared with what k6 v1.1.0 answered for the same script
//! (test-data/api/k6-v1.1/): the same keys and value types, and equal values where they do not
//! depend on timing.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use super::support::free_port;

fn data(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("test-data/api")
        .join(name)
}

fn k6_doc(name: &str) -> Value {
    let text = std::fs::read_to_string(data(&format!("k6-v1.1/{name}.json"))).expect("fixture");
    serde_json::from_str(&text).expect("fixture json")
}

fn start(args: &[&str]) -> Child {
    Command::new(env!("CARGO_BIN_EXE_loadgate"))
        .args(args)
        .env("K6_NO_USAGE_REPORT", "true")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start loadgate")
}

/// Waits for the child to exit within `limit` (killed and failed otherwise).
fn finish(mut child: Child, limit: Duration) -> Output {
    let started = Instant::now();
    while child.try_wait().expect("wait").is_none() {
        if started.elapsed() > limit {
            let _ = child.kill();
            let out = child.wait_with_output().expect("output");
            panic!(
                "loadgate did not stop within {limit:?}; stderr:\n{}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child.wait_with_output().expect("output")
}

/// One HTTP/1.1 request; `None` when nothing listens yet. Returns (status, body).
fn request(addr: &str, method: &str, path: &str, body: &str) -> Option<(u16, String)> {
    let mut s = TcpStream::connect(addr).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(10))).ok()?;
    let req = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    s.write_all(req.as_bytes()).ok()?;
    let mut raw = String::new();
    s.read_to_string(&mut raw).ok()?;
    let status = raw.split(' ').nth(1)?.parse().ok()?;
    let body = raw.split_once("\r\n\r\n").map(|(_, b)| b.to_string())?;
    Some((status, body))
}

fn json_request(addr: &str, method: &str, path: &str, body: &str) -> (u16, Value) {
    let (code, text) = request(addr, method, path, body).expect("the API answers");
    let v = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}: {text}"));
    (code, v)
}

/// Polls `GET path` until `ok` holds for its document (bounded).
fn wait_for(addr: &str, path: &str, ok: impl Fn(&Value) -> bool) -> Value {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Some((200, text)) = request(addr, "GET", path, "")
            && let Ok(v) = serde_json::from_str::<Value>(&text)
            && ok(&v)
        {
            return v;
        }
        assert!(Instant::now() < deadline, "{path} never became as expected");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The JSON shape: objects by key, arrays by their first element, scalars by type (a number is
/// a number whether Go wrote it with a fraction or not).
fn shape(v: &Value) -> Value {
    match v {
        Value::Object(m) => Value::Object(m.iter().map(|(k, v)| (k.clone(), shape(v))).collect()),
        Value::Array(a) => Value::Array(a.first().map(shape).into_iter().collect()),
        Value::Number(_) => Value::String("number".into()),
        Value::String(_) => Value::String("string".into()),
        Value::Bool(_) => Value::String("bool".into()),
        Value::Null => Value::Null,
    }
}

fn by_id<'a>(list: &'a Value, id: &str) -> &'a Value {
    list["data"]
        .as_array()
        .and_then(|l| l.iter().find(|x| x["id"] == id))
        .unwrap_or_else(|| panic!("no {id} in {list}"))
}

#[test]
fn paused_resumed_inspected_and_stopped_as_k6() {
    let addr = format!("127.0.0.1:{}", free_port());
    let script = data("control.js");
    let child = start(&["run", "--paused", "-a", &addr, script.to_str().unwrap()]);

    let paused = wait_for(&addr, "/v1/status", |_| true);
    assert_eq!(paused, k6_doc("status-paused"), "paused before the start");
    let (_, setup) = json_request(&addr, "GET", "/v1/setup", "");
    assert_eq!(setup, k6_doc("setup-before"));

    let (code, resumed) = json_request(
        &addr,
        "PATCH",
        "/v1/status",
        r#"{"data":{"attributes":{"paused":false}}}"#,
    );
    assert_eq!(code, 200);
    assert_eq!(resumed["data"]["attributes"]["paused"], false);
    let running = wait_for(&addr, "/v1/status", |s| {
        s["data"]["attributes"]["vus"] == 2 && s["data"]["attributes"]["tainted"] == false
    });
    assert_eq!(running, k6_doc("status-running"));
    // Let the thresholds be judged once (every 2 s) so `tainted` is set, as in k6's answer.
    wait_for(&addr, "/v1/metrics/checks", |m| {
        m["data"]["attributes"]["tainted"] == false
    });

    let (_, setup) = json_request(&addr, "GET", "/v1/setup", "");
    assert_eq!(setup, k6_doc("setup-running"));

    let (_, metrics) = json_request(&addr, "GET", "/v1/metrics", "");
    let k6_metrics = k6_doc("metrics-running");
    for k6_metric in k6_metrics["data"].as_array().unwrap() {
        let id = k6_metric["id"].as_str().unwrap();
        let ours = by_id(&metrics, id);
        assert_eq!(shape(ours), shape(k6_metric), "metric {id}");
        assert_eq!(ours["attributes"]["type"], k6_metric["attributes"]["type"]);
        assert_eq!(
            ours["attributes"]["contains"],
            k6_metric["attributes"]["contains"]
        );
    }
    let (_, checks) = json_request(&addr, "GET", "/v1/metrics/checks", "");
    assert_eq!(checks, k6_doc("metric-checks"));

    let (_, groups) = json_request(&addr, "GET", "/v1/groups", "");
    let k6_groups = k6_doc("groups-running");
    assert_eq!(shape(&groups), shape(&k6_groups));
    let ids = |d: &Value| -> Vec<Value> {
        d["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|g| g["id"].clone())
            .collect()
    };
    assert_eq!(ids(&groups), ids(&k6_groups));
    let (_, g1) = json_request(
        &addr,
        "GET",
        "/v1/groups/9ccb03cc5acd728a2fe595bbd1f14da3",
        "",
    );
    let mut k6_g1 = k6_doc("group-g1");
    let passes = &g1["data"]["attributes"]["checks"][0]["passes"];
    assert!(passes.as_u64().unwrap() > 0, "{g1}");
    k6_g1["data"]["attributes"]["checks"][0]["passes"] = passes.clone();
    assert_eq!(g1, k6_g1);

    for (path, fixture) in [
        ("/v1/metrics/nope", "metric-not-found"),
        ("/v1/groups/nope", "group-not-found"),
    ] {
        let (code, doc) = json_request(&addr, "GET", path, "");
        assert_eq!((code, doc), (404, k6_doc(fixture)), "{path}");
    }
    let patch = |body: &str| json_request(&addr, "PATCH", "/v1/status", body);
    assert_eq!(
        patch(r#"{"data":{"attributes":{"paused":true}}}"#),
        (500, k6_doc("pause-error"))
    );
    assert_eq!(
        patch(r#"{"data":{"attributes":{"vus":5}}}"#),
        (500, k6_doc("scale-error"))
    );
    let (code, bad) = patch("xx");
    assert_eq!(code, 400);
    assert_eq!(bad["errors"][0]["title"], "Invalid data");
    assert_eq!(
        request(&addr, "DELETE", "/v1/status", "").map(|r| r.0),
        Some(405)
    );

    let (code, stopped) = patch(r#"{"data":{"attributes":{"stopped":true}}}"#);
    assert_eq!(code, 200);
    assert_eq!(stopped["data"]["attributes"]["stopped"], true);
    let out = finish(child, Duration::from_secs(30));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(103), "stderr:\n{stderr}");
    assert!(
        stderr.contains("test run stopped from REST API"),
        "{stderr}"
    );
    assert!(
        stderr.contains(r#"teardown {\"a\":1,\"b\":[2]}"#),
        "{stderr}"
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("TOTAL RESULTS"));
}

#[test]
fn linger_keeps_the_api_up_until_a_signal_then_prints_the_summary() {
    let addr = format!("127.0.0.1:{}", free_port());
    let script = data("short.js");
    let child = start(&["run", "--linger", "-a", &addr, script.to_str().unwrap()]);
    let ended = wait_for(&addr, "/v1/status", |s| {
        s["data"]["attributes"]["status"] == 9
    });
    assert_eq!(ended["data"]["attributes"]["running"], false);
    let it = wait_for(&addr, "/v1/metrics/iterations", |_| true);
    assert_eq!(it["data"]["attributes"]["sample"]["count"], 2);
    let rate = |m: &Value| m["data"]["attributes"]["sample"]["rate"].as_f64().unwrap();
    std::thread::sleep(Duration::from_millis(300));
    let again = wait_for(&addr, "/v1/metrics/iterations", |_| true);
    assert_eq!(rate(&it), rate(&again), "the run's duration stands still");
    // SAFETY: kill(2) on our own child's pid.
    unsafe {
        libc::kill(child.id() as i32, libc::SIGINT);
    }
    let out = finish(child, Duration::from_secs(20));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    let msg = stdout
        .find("--linger was enabled")
        .expect("the linger line");
    let summary = stdout.find("TOTAL RESULTS").expect("the summary");
    assert!(msg < summary, "k6 lingers before the summary:\n{stdout}");
}

#[test]
fn an_explicit_address_in_use_exits_106_and_empty_turns_it_off() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let script = data("short.js");
    let out = finish(
        start(&["run", "-q", "-a", &addr, script.to_str().unwrap()]),
        Duration::from_secs(30),
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(106), "{stderr}");
    assert!(
        stderr.contains(&format!(
            r#"msg="Error from API server" error="listen tcp {addr}: bind: address already in use""#
        )),
        "{stderr}"
    );
    let out = finish(
        start(&["run", "-q", "--address", "", script.to_str().unwrap()]),
        Duration::from_secs(30),
    );
    assert_eq!(out.status.code(), Some(0));
}

fn attrs(doc: &Value) -> (u64, u64, bool) {
    let a = &doc["data"]["attributes"];
    (
        a["vus"].as_u64().unwrap(),
        a["vus-max"].as_u64().unwrap(),
        a["paused"].as_bool().unwrap(),
    )
}

#[test]
fn externally_controlled_scales_and_pauses_as_k6() {
    // What k6 v1.1 answered for the same PATCHes on this script (1 VU of 2 max, 30 s).
    let addr = format!("127.0.0.1:{}", free_port());
    let script = data("external.js");
    let child = start(&["run", "-q", "-a", &addr, script.to_str().unwrap()]);
    wait_for(&addr, "/v1/status", |s| s["data"]["attributes"]["vus"] == 1);
    let patch = |body: &str| json_request(&addr, "PATCH", "/v1/status", body);
    let (code, s) = patch(r#"{"data":{"attributes":{"vus":2}}}"#);
    assert_eq!((code, attrs(&s)), (200, (2, 2, false)), "{s}");
    let config_error = |detail: &str| serde_json::json!({"errors": [{"status": "400", "title": "Config update error", "detail": detail}]});
    assert_eq!(
        patch(r#"{"data":{"attributes":{"vus":3}}}"#),
        (
            400,
            config_error(
                "invalid configuration supplied: the number of active VUs (3) must be less than or equal to the number of maxVUs (2)"
            )
        )
    );
    assert_eq!(
        patch(r#"{"data":{"attributes":{"vus-max":1}}}"#),
        (
            400,
            config_error(
                "invalid configuration supplied: the number of active VUs (2) must be less than or equal to the number of maxVUs (1)"
            )
        )
    );
    assert_eq!(
        patch(r#"{"data":{"attributes":{"vus":-1}}}"#),
        (
            400,
            config_error("invalid configuration supplied: the number of VUs can't be negative")
        )
    );
    let (_, s) = patch(r#"{"data":{"attributes":{"vus-max":4,"vus":4}}}"#);
    assert_eq!(attrs(&s), (4, 4, false), "{s}");

    let (_, s) = patch(r#"{"data":{"attributes":{"paused":true}}}"#);
    assert_eq!(attrs(&s), (0, 4, true), "{s}");
    let count = |m: &Value| m["data"]["attributes"]["sample"]["count"].as_u64().unwrap();
    // Samples of the last iterations reach the engine a little later: let them land first.
    std::thread::sleep(Duration::from_millis(1500));
    let before = count(&wait_for(&addr, "/v1/metrics/iterations", |_| true));
    std::thread::sleep(Duration::from_millis(1000));
    let after = count(&wait_for(&addr, "/v1/metrics/iterations", |_| true));
    assert_eq!(before, after, "no iteration while paused");
    let (_, s) = patch(r#"{"data":{"attributes":{"paused":false}}}"#);
    assert_eq!(attrs(&s), (4, 4, false), "{s}");
    wait_for(&addr, "/v1/metrics/iterations", |m| count(m) > after);
    let (_, s) = patch(r#"{"data":{"attributes":{"vus":0}}}"#);
    assert_eq!(attrs(&s), (0, 4, false), "{s}");

    patch(r#"{"data":{"attributes":{"stopped":true}}}"#);
    let out = finish(child, Duration::from_secs(30));
    assert_eq!(
        out.status.code(),
        Some(103),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn externally_controlled_ends_after_its_duration() {
    let script = data("external.js");
    let out = finish(
        start(&[
            "run",
            "--address",
            "",
            "-e",
            "DUR=1s",
            script.to_str().unwrap(),
        ]),
        Duration::from_secs(30),
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(
        stdout.contains("* ec: Externally controlled execution with 1 VUs, 2 max VUs, 1s duration"),
        "{stdout}"
    );
    assert!(
        stdout.contains("1 scenario, 2 max VUs, 1s max duration"),
        "{stdout}"
    );
}
