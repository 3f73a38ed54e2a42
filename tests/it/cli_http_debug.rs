//! `--http-debug`: every request and response is logged to stderr as k6 logs them, bodies only
//! with `--http-debug=full`.

use std::process::Command;

fn run_with(flag: &str, url: &str, script: &std::path::Path) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_loadgate"))
        .args(["run", "-q", "--no-summary", flag, "-e"])
        .arg(format!("TARGET={url}"))
        .arg(script)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn http_debug_logs_requests_and_responses() {
    let (_rt, url) = crate::support::target_on_runtime();
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("debug.js");
    std::fs::write(
        &script,
        "import http from 'k6/http';\nexport const options = { iterations: 1 };\n\
         export default function () { http.post(`${__ENV.TARGET}/echo`, 'secret-body', { headers: { 'X-Trace': 'on' } }); }\n",
    )
    .unwrap();
    let headers = run_with("--http-debug", &url, &script);
    // Not a terminal: logfmt lines as k6 writes them, newlines escaped inside the quoted msg.
    assert!(
        headers.contains("level=info msg=\"Request:\\nPOST "),
        "{headers}"
    );
    assert!(headers.contains("X-Trace: on"), "{headers}");
    assert!(
        headers.contains("msg=\"Response:\\nHTTP/1.1 200 OK"),
        "{headers}"
    );
    assert!(headers.contains(" source=http-debug\n"), "{headers}");
    assert!(!headers.contains("secret-body"), "{headers}");
    let full = run_with("--http-debug=full", &url, &script);
    assert!(full.contains("secret-body"), "{full}");
}
