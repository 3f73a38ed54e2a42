//! Outputs: where aggregated results go at the end of (or during) a test.
//!
//! - [`summary`]: end-of-test text summary, `--summary-export` JSON, `handleSummary` data.
//! - [`prometheus`]: Prometheus remote write during the test (`-o experimental-prometheus-rw`).
//! - [`json`]: every sample as a JSON line, in k6's format (`-o json=FILE`).

pub mod json;
pub mod prometheus;
pub mod summary;
