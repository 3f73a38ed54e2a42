//! loadgate: a k6-compatible load-test engine and a Keptn test service.
//!
//! # Layout
//! - [`engine`]: options, scenarios, execution segments, executors, the scheduler (JS-agnostic).
//! - [`metrics`]: samples, tags, the metric registry, sinks and thresholds.

pub mod engine;
pub mod http;
pub mod js;
pub mod metrics;
