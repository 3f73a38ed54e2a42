//! The metrics stream of one test: every sample batch goes to the metrics engine and to each
//! output; on a scale-out coordinator every merged delta from the runners does too.
//!
//! The engine is the one consumer thresholds and the summary read: thresholds are judged on it
//! every 2 s during the run (aborting on `abortOnFail`) and once at the end, and the summary is
//! built from it. Remote write and file outputs consume the same stream through
//! [`Output`]. How this instance relates to others is its [`MetricsLink`]: alone it judges its
//! own samples; a runner ships what it aggregated every 2 s instead of judging; a coordinator
//! merges the runners' deltas ([`MetricsStream::merge_delta`]) where a single instance feeds
//! samples, so nothing downstream can tell the two apart.

use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::{mpsc, oneshot};

use crate::engine::state::{AbortReason, TestAbort};
use crate::metrics::delta::MetricsDelta;
use crate::metrics::engine::{MergeError, MetricsEngine, Shipped};
use crate::metrics::{SampleBatch, SampleReceiver};
use crate::output::Output;

/// How this instance's metrics relate to other instances of a distributed test.
#[derive(Default)]
pub enum MetricsLink {
    /// Alone: thresholds are judged here on this instance's samples.
    #[default]
    Local,
    /// A scale-out runner: nothing is judged here; every 2 s (and once at the end) what was
    /// aggregated is drained into a delta and sent here. The sender is dropped after the last.
    Ship(mpsc::UnboundedSender<MetricsDelta>),
    /// A scale-out coordinator: the runners' deltas arriving here are merged into this
    /// instance's engine, and thresholds are judged on the merged data.
    Merge(mpsc::UnboundedReceiver<MetricsDelta>),
}

/// Why a stream could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum StreamError {
    /// A coordinator's output that cannot write merged data.
    #[error("the {0} output cannot write the merged results of a distributed test")]
    NoDeltas(String),
}

/// A read of the live metrics engine from outside the stream's task (the REST API's
/// `/v1/metrics` and `/v1/groups`): run on that task between two batches.
pub type EngineQuery = Box<dyn FnOnce(&mut MetricsEngine) + Send>;

/// Where [`EngineQuery`]s arrive.
pub type EngineQueries = mpsc::UnboundedReceiver<EngineQuery>;

/// The metrics engine plus the outputs, fed as one.
pub struct MetricsStream {
    engine: MetricsEngine,
    outputs: Vec<Box<dyn Output>>,
    queries: Option<EngineQueries>,
}

impl MetricsStream {
    /// A stream of local samples into `engine` and `outputs` (started here).
    pub fn new(engine: MetricsEngine, mut outputs: Vec<Box<dyn Output>>) -> Self {
        for o in &mut outputs {
            o.start(engine.registry().clone());
        }
        MetricsStream {
            engine,
            outputs,
            queries: None,
        }
    }

    /// Answers `queries` while the stream runs (see [`MetricsStream::take_queries`] for after).
    pub fn with_queries(mut self, queries: Option<EngineQueries>) -> Self {
        self.queries = queries;
        self
    }

    /// The query channel back, to keep answering on the final engine after the run.
    pub fn take_queries(&mut self) -> Option<EngineQueries> {
        self.queries.take()
    }

    /// A coordinator's stream: every output must accept merged deltas.
    pub fn merging(
        engine: MetricsEngine,
        mut outputs: Vec<Box<dyn Output>>,
    ) -> Result<Self, StreamError> {
        if let Some(o) = outputs.iter().find(|o| !o.accepts_deltas()) {
            return Err(StreamError::NoDeltas(o.name().to_string()));
        }
        for o in &mut outputs {
            o.whole_test();
        }
        Ok(Self::new(engine, outputs))
    }

    /// Feeds one batch of samples.
    pub fn ingest(&mut self, batch: SampleBatch) {
        self.engine.ingest(&batch);
        if !self.outputs.is_empty() {
            let batch = Arc::new(batch);
            for o in self.outputs.iter_mut() {
                o.add_samples(&batch);
            }
        }
    }

    /// Feeds one runner's delta (a coordinator's input): merged into the engine, then handed to
    /// every output that takes deltas. What could be merged is, even when an error is returned.
    pub fn merge_delta(&mut self, delta: MetricsDelta) -> Result<(), MergeError> {
        let merged = self.engine.merge_delta(&delta);
        let delta = Arc::new(delta);
        for o in self.outputs.iter_mut().filter(|o| o.accepts_deltas()) {
            o.add_delta(&delta);
        }
        merged
    }

    /// Judges the thresholds during the run and aborts the test on a failed `abortOnFail`.
    pub fn judge(&mut self, elapsed: Duration, abort: &TestAbort) {
        if !self.engine.has_thresholds() {
            return;
        }
        let ev = self.engine.evaluate(elapsed, false);
        if ev.should_abort && !abort.is_aborted() {
            if let Some(msg) = ev.abort_message() {
                tracing::error!("{msg}");
            }
            abort.abort(AbortReason::Threshold);
        }
    }

    /// The engine (final thresholds, summary).
    pub fn engine_mut(&mut self) -> &mut MetricsEngine {
        &mut self.engine
    }

    /// Stops (flushes) every output and returns the engine.
    pub async fn finish(self) -> MetricsEngine {
        for o in self.outputs {
            o.stop().await;
        }
        self.engine
    }

    /// Runs the stream until `done` fires and the channels are drained: samples (and, on a
    /// coordinator, deltas) are fed as they come; every 2 s since `started` thresholds are
    /// judged, or, on a runner, a delta is shipped (and a last one at the end).
    pub async fn run(
        mut self,
        mut samples: SampleReceiver,
        link: MetricsLink,
        abort: TestAbort,
        started: Instant,
        mut done: oneshot::Receiver<()>,
    ) -> Self {
        let mut tick = tokio::time::interval(Duration::from_secs(2));
        tick.tick().await;
        let (ship, mut merge) = match link {
            MetricsLink::Local => (None, None),
            MetricsLink::Ship(tx) => (Some(tx), None),
            MetricsLink::Merge(rx) => (None, Some(rx)),
        };
        let mut shipped = Shipped::default();
        loop {
            tokio::select! {
                biased;
                batch = samples.recv() => match batch {
                    Some(b) => self.ingest(b),
                    None => break,
                },
                d = recv_delta(&mut merge) => match d {
                    Some(d) => self.merge_logged(d),
                    None => merge = None,
                },
                q = recv_delta(&mut self.queries) => match q {
                    Some(q) => q(&mut self.engine),
                    None => self.queries = None,
                },
                _ = tick.tick() => match &ship {
                    Some(tx) => {
                        let _ = tx.send(self.engine.drain_delta(&mut shipped));
                    }
                    None => self.judge(started.elapsed(), &abort),
                },
                _ = &mut done => {
                    while let Ok(b) = samples.try_recv() {
                        self.ingest(b);
                    }
                    if let Some(rx) = merge.as_mut() {
                        while let Ok(d) = rx.try_recv() {
                            self.merge_logged(d);
                        }
                    }
                    break;
                }
            }
        }
        if let Some(tx) = ship {
            let _ = tx.send(self.engine.drain_delta(&mut shipped));
        }
        self
    }

    fn merge_logged(&mut self, delta: MetricsDelta) {
        if let Err(e) = self.merge_delta(delta) {
            tracing::error!("a runner's metrics could not be merged completely: {e}");
        }
    }
}

async fn recv_delta<T>(rx: &mut Option<mpsc::UnboundedReceiver<T>>) -> Option<T> {
    match rx {
        Some(rx) => rx.recv().await,
        None => std::future::pending().await,
    }
}

/// Answers `queries` on the final `engine` until every sender is gone (a lingering REST API).
pub async fn answer_queries(mut engine: MetricsEngine, mut queries: EngineQueries) {
    while let Some(q) = queries.recv().await {
        q(&mut engine);
    }
}

#[cfg(test)]
mod tests;
