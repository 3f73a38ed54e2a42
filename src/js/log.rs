//! Script-facing log lines in k6's format, on stderr.

use std::io::Write;

use crate::engine::ScenarioInfo;
use crate::http::Exchange;

use super::shared::TestShared;

/// Logs an exception that ended an iteration, as k6 does (`ERRO[0001] Error: ... source=stacktrace`).
pub fn script_error(shared: &TestShared, text: &str, scenario: &ScenarioInfo) {
    let secs = shared.elapsed().as_secs();
    let mut err = std::io::stderr().lock();
    let _ = writeln!(
        err,
        "ERRO[{secs:04}] {text}  executor={} scenario={} source=stacktrace",
        scenario.executor, scenario.name
    );
}

/// `--http-debug`: the request and the response of an exchange, as k6 logs them
/// (`INFO[0001] Request: ... source=http-debug`); bodies only with `full`.
pub fn http_debug(shared: &TestShared, ex: &Exchange, bodies: bool) {
    let req = &ex.response.request;
    let mut request = format!("{} {} HTTP/1.1\n", req.method, req.url);
    for (k, values) in &req.headers {
        for v in values {
            request.push_str(&format!("{k}: {v}\n"));
        }
    }
    if bodies && !req.body.is_empty() {
        request.push('\n');
        request.push_str(&String::from_utf8_lossy(&req.body));
        request.push('\n');
    }
    let r = &ex.response;
    let mut response = format!("{} {}\n", r.proto, r.status_text);
    for (k, v) in &r.headers {
        response.push_str(&format!("{k}: {v}\n"));
    }
    if bodies && let Some(body) = &r.body {
        response.push('\n');
        response.push_str(&String::from_utf8_lossy(body));
        response.push('\n');
    }
    let secs = shared.elapsed().as_secs();
    let mut err = std::io::stderr().lock();
    let _ = writeln!(
        err,
        "INFO[{secs:04}] Request:\n{request}  source=http-debug"
    );
    if r.error.is_empty() {
        let _ = writeln!(
            err,
            "INFO[{secs:04}] Response:\n{response}  source=http-debug"
        );
    } else {
        let _ = writeln!(
            err,
            "INFO[{secs:04}] Response error: {}  source=http-debug",
            r.error
        );
    }
}
