//! Outputs: where a test's metrics go besides the metrics engine, and the seam they plug into.
//!
//! - [`Output`]: the consumer trait of the metrics stream (sample batches, or merged deltas on a
//!   scale-out coordinator); the metrics task in `run::metrics` feeds every output.
//! - [`summary`]: end-of-test text summary, `--summary-export` JSON, `handleSummary` data.
//! - [`prometheus`]: Prometheus remote write during the test (`-o experimental-prometheus-rw`).
//! - [`json`]: every sample as a JSON line, in k6's format (`-o json=FILE`).
//! - [`csv`]: every sample as a CSV row, in k6's format (`-o csv=FILE`).

use std::sync::Arc;

use futures_util::future::BoxFuture;

use crate::metrics::delta::MetricsDelta;
use crate::metrics::{Registry, SampleBatch};

pub mod csv;
mod file_thread;
pub mod json;
pub mod prometheus;
pub mod summary;

/// A consumer of the test's metrics stream besides the metrics engine (Prometheus remote write,
/// files). The metrics task hands every batch to each output; outputs must not block (buffer and
/// flush on their own task), and are stopped, flushed, at the end of the test.
pub trait Output: Send {
    /// A short name for logs (`experimental-prometheus-rw`).
    fn name(&self) -> &str;
    /// Called once before the first sample, with the test's metric definitions (custom metrics
    /// may still be added to the registry later; look them up when a new id appears).
    fn start(&mut self, registry: Arc<Registry>);
    /// Called for every batch, on the metrics task: buffer, never block. The batch is shared
    /// (an `Arc`), so keeping it costs no copy.
    fn add_samples(&mut self, samples: &Arc<SampleBatch>);
    /// True when the output can consume merged deltas instead of samples (a scale-out
    /// coordinator refuses, before the test starts, an output that cannot).
    fn accepts_deltas(&self) -> bool {
        false
    }
    /// Called, on a coordinator, for every merged delta (only if [`Output::accepts_deltas`]).
    fn add_delta(&mut self, _delta: &Arc<MetricsDelta>) {}
    /// Called on a scale-out coordinator before [`Output::start`]: this instance's samples and
    /// the runners' deltas are parts of one test, and deltas carry no tags, so both are written
    /// as whole-test series (one series per metric, merged percentiles in one place).
    fn whole_test(&mut self) {}
    /// Called once at the end: flush what is buffered. The test's end is reported only after
    /// every output has stopped.
    fn stop(self: Box<Self>) -> BoxFuture<'static, ()>;
}
