//! Metrics: pure data, no I/O. Samples come in from VUs and executors; sinks aggregate them per
//! metric and sub-metric; thresholds are judged on the sinks.
//!
//! - [`registry`]: metric definitions (built-ins with fixed ids, custom metrics).
//! - [`tags`]: tag sets.
//! - [`sample`]: the sample type and the channel it travels on.

pub mod registry;
pub mod sample;
pub mod tags;

pub use registry::{Metric, MetricId, MetricType, Registry, ValueType, builtin};
pub use sample::{Sample, SampleBatch, SampleReceiver, SampleSender};
pub use tags::TagSet;
