//! Outputs: where aggregated results go at the end of (or during) a test.
//!
//! - [`summary`]: end-of-test text summary, `--summary-export` JSON, `handleSummary` data.

pub mod summary;
