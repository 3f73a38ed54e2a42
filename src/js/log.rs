//! Script-facing log lines in k6's format (see [`crate::term::log`]).

use tracing::Level;

use crate::engine::ScenarioInfo;
use crate::http::Exchange;

use super::shared::TestShared;
use crate::term::log;

/// Logs an exception that ended an iteration, as k6 does (`ERRO[0001] Error: ... source=stacktrace`).
pub fn script_error(_shared: &TestShared, text: &str, scenario: &ScenarioInfo) {
    log::emit(
        Level::ERROR,
        text,
        &[
            ("executor", scenario.executor.clone()),
            ("scenario", scenario.name.clone()),
            ("source", "stacktrace".into()),
        ],
    );
}

/// `--http-debug`: the request and the response of an exchange, as k6 logs them
/// (`INFO[0001] Request: ... source=http-debug`); bodies only with `full`.
pub fn http_debug(_shared: &TestShared, ex: &Exchange, bodies: bool) {
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
    let source = [("source", "http-debug".to_string())];
    log::emit(Level::INFO, &format!("Request:\n{request}"), &source);
    if r.error.is_empty() {
        log::emit(Level::INFO, &format!("Response:\n{response}"), &source);
    } else {
        log::emit(
            Level::INFO,
            &format!("Response error: {}", r.error),
            &source,
        );
    }
}
