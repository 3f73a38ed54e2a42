//! Samples: one measured value of one metric, with its tags and time.

use std::sync::Arc;
use std::time::SystemTime;

use super::registry::MetricId;
use super::tags::TagSet;

/// One measurement. The tags are shared: the samples of one HTTP request point at one set.
#[derive(Clone, Debug, PartialEq)]
pub struct Sample {
    pub metric: MetricId,
    pub tags: Arc<TagSet>,
    pub value: f64,
    pub time: SystemTime,
    /// `exec.vu.metrics.metadata` when the sample was taken (k6's sample metadata: shown by the
    /// JSON output, not a tag, so it never makes a time series); `None` when there is none.
    pub metadata: Option<Arc<Metadata>>,
}

/// Sample metadata: key/value pairs sorted by key.
pub type Metadata = Vec<(String, String)>;

/// Samples travel in batches (one request, one iteration) to keep channel traffic low.
pub type SampleBatch = Vec<Sample>;

/// Where VUs, executors and the scheduler send their samples. Unbounded on purpose: a VU must never
/// block on metrics; the consumer drains it continuously.
pub type SampleSender = tokio::sync::mpsc::UnboundedSender<SampleBatch>;

/// The consuming end of [`SampleSender`].
pub type SampleReceiver = tokio::sync::mpsc::UnboundedReceiver<SampleBatch>;

impl Sample {
    /// A sample taken now.
    pub fn now(metric: MetricId, tags: Arc<TagSet>, value: f64) -> Self {
        Sample {
            metric,
            tags,
            value,
            time: SystemTime::now(),
            metadata: None,
        }
    }
}
