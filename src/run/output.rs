//! Outputs: everything that consumes the sample stream besides the metrics engine (Prometheus
//! remote write, files). The metrics task hands every batch to each output; outputs must not
//! block (buffer and flush on their own task), and are stopped, flushed, at the end of the test.

use std::sync::Arc;

use futures_util::future::BoxFuture;

use crate::metrics::{Registry, SampleBatch};

/// A consumer of the test's samples.
pub trait Output: Send {
    /// A short name for logs (`experimental-prometheus-rw`).
    fn name(&self) -> &str;
    /// Called once before the first sample, with the test's metric definitions (custom metrics
    /// may still be added to the registry later; look them up when a new id appears).
    fn start(&mut self, registry: Arc<Registry>);
    /// Called for every batch, on the metrics task: buffer, never block. The batch is shared
    /// (an `Arc`), so keeping it costs no copy.
    fn add_samples(&mut self, samples: &Arc<SampleBatch>);
    /// Called once at the end: flush what is buffered. The test's end is reported only after
    /// every output has stopped.
    fn stop(self: Box<Self>) -> BoxFuture<'static, ()>;
}
