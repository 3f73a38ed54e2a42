//! Exit codes, as k6 uses them, so pipelines that check k6's codes work unchanged. The typed
//! errors of a run ([`RunError`], [`RunFailure`]) map to them here, by variant.

use crate::engine::{RunError, TimedPart};
use crate::run::RunFailure;

/// Process exit codes of `loadgate run`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExitCode {
    Ok = 0,
    ThresholdsFailed = 99,
    SetupTimeout = 100,
    TeardownTimeout = 101,
    /// `PATCH /v1/status` with `stopped: true`.
    StoppedFromApi = 103,
    InvalidConfig = 104,
    ExternalAbort = 105,
    /// The REST API could not listen on an `--address` given explicitly.
    CannotStartApi = 106,
    ScriptException = 107,
    ScriptAborted = 108,
    /// loadgate itself failed mid-test (a lost VU): k6's exit code for a Go panic.
    Panic = 109,
    TestFailed = 110,
    /// A problem before the test could be described at all (missing script, bad flag): k6 exits -1.
    Usage = 255,
}

impl ExitCode {
    /// The numeric code.
    pub fn code(self) -> i32 {
        self as i32
    }
}

impl From<&RunError> for ExitCode {
    /// k6's code for an error of the init context, setup or teardown.
    fn from(e: &RunError) -> ExitCode {
        match e {
            RunError::Script(_) | RunError::Internal(_) => ExitCode::ScriptException,
            RunError::Aborted(_) => ExitCode::ScriptAborted,
            RunError::Timeout {
                part: TimedPart::Teardown,
                ..
            } => ExitCode::TeardownTimeout,
            // handleSummary's timeout is reported, not an exit code of its own (as k6).
            RunError::Timeout { .. } => ExitCode::SetupTimeout,
            RunError::Interrupted(_) => ExitCode::ExternalAbort,
            RunError::VuLost(_) => ExitCode::Panic,
        }
    }
}

impl From<&RunFailure> for ExitCode {
    /// k6's code for a test that could not run.
    fn from(f: &RunFailure) -> ExitCode {
        match f {
            RunFailure::Usage(_) => ExitCode::Usage,
            RunFailure::Config(_) => ExitCode::InvalidConfig,
            RunFailure::Script(e) => ExitCode::from(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn errors_map_to_k6_codes() {
        let timeout = |part| RunError::Timeout {
            part,
            limit: Duration::from_secs(1),
        };
        let code = |e: &RunError| ExitCode::from(e).code();
        assert_eq!(code(&timeout(TimedPart::Setup)), 100);
        assert_eq!(code(&timeout(TimedPart::Teardown)), 101);
        assert_eq!(code(&RunError::Script("x".into())), 107);
        assert_eq!(code(&RunError::Aborted("x".into())), 108);
        assert_eq!(code(&RunError::Interrupted("x".into())), 105);
        assert_eq!(code(&RunError::VuLost("x".into())), 109);
        let fail = |f: &RunFailure| ExitCode::from(f).code();
        assert_eq!(fail(&RunFailure::Usage("x".into())), 255);
        assert_eq!(fail(&RunFailure::Config("x".into())), 104);
        assert_eq!(fail(&RunFailure::Script(timeout(TimedPart::Teardown))), 101);
        assert_eq!(
            timeout(TimedPart::Setup).to_string(),
            "setup() execution timed out after 1 seconds"
        );
    }
}
