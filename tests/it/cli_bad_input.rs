//! Bad input to `loadgate run`: each case must give one clear error naming the problem and k6's
//! exit code, never a panic; runaway scripts are stopped. Scripts are in test-data/bad/.

use std::path::PathBuf;
use std::process::Output;
use std::time::Duration;

fn bad(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("test-data/bad")
        .join(name)
}

/// Runs `loadgate` with a time limit; returns its output.
fn loadgate(args: &[&str], limit: Duration) -> Output {
    crate::support::loadgate_bounded(args, &[], limit)
}

fn check_error(script: &str, code: i32, needles: &[&str]) {
    let path = bad(script);
    let out = loadgate(
        &["run", "-q", path.to_str().unwrap()],
        Duration::from_secs(30),
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(code), "{script}: stderr:\n{stderr}");
    assert!(!stderr.contains("panicked"), "{script} panicked:\n{stderr}");
    for n in needles {
        assert!(stderr.contains(n), "{script}: expected {n:?} in:\n{stderr}");
    }
}

#[test]
fn missing_script_exits_255_naming_it() {
    check_error("not-there.js", 255, &["not-there.js", "no such file"]);
}

#[test]
fn syntax_error_exits_107_with_position() {
    check_error(
        "syntax_error.js",
        107,
        &["SyntaxError", "syntax_error.js:3:"],
    );
}

#[test]
fn unknown_module_exits_107() {
    check_error("unknown_module.js", 107, &["unknown module `k6/ws-nope`"]);
}

#[test]
fn invalid_duration_exits_104() {
    check_error(
        "invalid_duration.js",
        104,
        &["invalid duration", "ten seconds"],
    );
}

#[test]
fn negative_vus_exits_104() {
    check_error("negative_vus.js", 104, &["VUs"]);
}

#[test]
fn threshold_on_unknown_metric_exits_104() {
    check_error("unknown_metric_threshold.js", 104, &["no_such_metric"]);
}

#[test]
fn open_outside_the_test_folder_is_refused() {
    check_error("escape_open.js", 107, &["outside the test folder"]);
}

#[test]
fn bad_flag_exits_255() {
    let out = loadgate(&["run", "--vus", "many", "x.js"], Duration::from_secs(10));
    assert_eq!(out.status.code(), Some(255));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--vus"));
}

#[test]
fn endless_iteration_is_stopped_at_graceful_stop() {
    let path = bad("endless_loop.js");
    // 1 s duration + 1 s gracefulStop; the limit only guards against a hang.
    let out = loadgate(
        &["run", "-q", "--no-summary", path.to_str().unwrap()],
        Duration::from_secs(30),
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn network_errors_are_failed_requests() {
    let (_rt, url) = crate::support::target_on_runtime();
    let path = bad("network_errors.js");
    let target = format!("TARGET={url}");
    let out = loadgate(
        &[
            "run",
            "-q",
            "--no-summary",
            "-e",
            &target,
            path.to_str().unwrap(),
        ],
        Duration::from_secs(30),
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(stderr.contains("connection refused"), "{stderr}");
}
