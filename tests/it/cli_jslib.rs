//! jslib's k6-summary and k6-utils work offline: `loadgate run` serves built-in copies for their
//! usual URLs (when offline and not cached, or when the fetch fails), and textSummary returns the
//! same text the default summary prints. Run offline here: tests do not reach the internet.

use std::path::PathBuf;
use std::process::Command;

#[test]
fn jslib_summary_and_utils_run_offline() {
    let script =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("test-data/scripts/jslib_offline.js");
    let dir = tempfile::tempdir().unwrap();
    let junit = dir.path().join("junit.xml");
    let out = Command::new(env!("CARGO_BIN_EXE_loadgate"))
        .args(["run", "-q", "--no-color", "-e"])
        .arg(format!("JUNIT_FILE={}", junit.display()))
        .arg(&script)
        .env("LOADGATE_OFFLINE", "1")
        .env("LOADGATE_MODULE_CACHE", dir.path().join("cache"))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(stdout.contains("TOTAL RESULTS"), "{stdout}");
    assert!(stdout.contains("✓ uuidv4 shape"), "{stdout}");
    let xml = std::fs::read_to_string(&junit).unwrap();
    assert!(
        xml.contains("<testcase name=\"checks - rate==1\" />"),
        "{xml}"
    );
    assert!(xml.contains("failures=\"0\""), "{xml}");
}

#[test]
fn other_remote_modules_are_refused_clearly_offline() {
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("remote.js");
    std::fs::write(
        &script,
        "import x from 'https://example.com/lib.js';\nexport default function () {}\n",
    )
    .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_loadgate"))
        .args(["run", "-q"])
        .arg(&script)
        .env("LOADGATE_OFFLINE", "1")
        .env("LOADGATE_MODULE_CACHE", dir.path().join("cache"))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(107), "{stderr}");
    assert!(stderr.contains("runs offline"), "{stderr}");
}
