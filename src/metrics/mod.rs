//! Metrics: pure data, no I/O. Samples come in from VUs and executors; sinks aggregate them per
//! metric and sub-metric; thresholds are judged on the sinks.
//!
//! - [`engine`]: the aggregator (sinks, sub-metrics, check tree, threshold evaluation).
//! - [`registry`]: metric definitions (built-ins with fixed ids, custom metrics).
//! - [`tags`]: tag sets.
//! - [`thresholds`]: threshold grammar, validation and evaluation.
//! - [`sample`]: the sample type and the channel it travels on.
//! - [`sink`]: per-metric aggregates (Counter, Gauge, Rate, Trend) and their merge.
//! - [`delta`]: what one instance of a distributed test aggregated, as it crosses the wire.

pub mod delta;
pub mod engine;
pub mod registry;
pub mod sample;
pub mod sink;
pub mod tags;
pub mod thresholds;

pub use registry::{Metric, MetricId, MetricType, Registry, ValueType, builtin};
pub use sample::{Metadata, Sample, SampleBatch, SampleReceiver, SampleSender};
pub use tags::TagSet;
