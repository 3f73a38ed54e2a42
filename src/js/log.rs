//! Script-facing log lines in k6's format, on stderr.

use std::io::Write;

use crate::engine::ScenarioInfo;

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
