//! Exit codes, as k6 uses them, so pipelines that check k6's codes work unchanged.

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
