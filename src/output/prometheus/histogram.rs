//! Native histograms for trends (`K6_PROMETHEUS_RW_TREND_AS_NATIVE_HISTOGRAM`), shaped as k6's
//! client_golang histogram: bucket factor 1.1 (schema 3), zero threshold 2^-128, cumulative since
//! the start of the test. Receives observations (already in the series' unit), emits
//! [`proto::Histogram`] points.

use std::collections::BTreeMap;

use super::proto;

/// client_golang picks the largest schema whose growth factor is at most the configured 1.1:
/// 2^(2^-3) ≈ 1.0905.
pub const SCHEMA: i32 = 3;

/// client_golang's `DefNativeHistogramZeroThreshold` (2^-128).
pub const ZERO_THRESHOLD: f64 = 2.938_735_877_055_719e-39;

/// A cumulative sparse histogram.
#[derive(Clone, Debug, Default)]
pub struct NativeHistogram {
    count: u64,
    sum: f64,
    zero_count: u64,
    positive: BTreeMap<i32, u64>,
    negative: BTreeMap<i32, u64>,
}

/// The bucket index of `v > 0` for [`SCHEMA`]: bucket `i` holds `(2^((i-1)/8), 2^(i/8)]`.
pub fn bucket_index(v: f64) -> i32 {
    let scale = f64::from(1 << SCHEMA);
    let mut i = (v.log2() * scale).ceil() as i32;
    // log2 rounding can be off by one at bucket boundaries: check against the bounds.
    if 2f64.powf(f64::from(i - 1) / scale) >= v {
        i -= 1;
    } else if 2f64.powf(f64::from(i) / scale) < v {
        i += 1;
    }
    i
}

impl NativeHistogram {
    /// Records one observation (NaN is ignored).
    pub fn observe(&mut self, v: f64) {
        self.observe_n(v, 1);
    }

    /// Records `n` observations of `v`.
    pub fn observe_n(&mut self, v: f64, n: u64) {
        if v.is_nan() || n == 0 {
            return;
        }
        self.count += n;
        self.sum += v * n as f64;
        if v.abs() <= ZERO_THRESHOLD {
            self.zero_count += n;
        } else if v > 0.0 {
            *self.positive.entry(bucket_index(v)).or_default() += n;
        } else {
            *self.negative.entry(bucket_index(-v)).or_default() += n;
        }
    }

    /// Number of observations.
    pub fn count(&self) -> u64 {
        self.count
    }

    /// The remote-write point at `timestamp` (ms).
    pub fn to_proto(&self, timestamp: i64) -> proto::Histogram {
        let (positive_spans, positive_deltas) = spans_and_deltas(&self.positive);
        let (negative_spans, negative_deltas) = spans_and_deltas(&self.negative);
        proto::Histogram {
            count: Some(proto::HistogramCount::CountInt(self.count)),
            sum: self.sum,
            schema: SCHEMA,
            zero_threshold: ZERO_THRESHOLD,
            zero_count: Some(proto::ZeroCount::ZeroCountInt(self.zero_count)),
            negative_spans,
            negative_deltas,
            negative_counts: Vec::new(),
            positive_spans,
            positive_deltas,
            positive_counts: Vec::new(),
            reset_hint: 0,
            timestamp,
        }
    }
}

/// Spans of consecutive buckets (offset = gap from the previous span's end, the first one
/// absolute) and the counts as deltas from the previous bucket.
fn spans_and_deltas(buckets: &BTreeMap<i32, u64>) -> (Vec<proto::BucketSpan>, Vec<i64>) {
    let mut spans: Vec<proto::BucketSpan> = Vec::new();
    let mut deltas = Vec::with_capacity(buckets.len());
    let mut next: Option<i32> = None;
    let mut prev_count = 0i64;
    for (&i, &c) in buckets {
        match (next, spans.last_mut()) {
            (Some(n), Some(span)) if n == i => span.length += 1,
            (Some(n), _) => spans.push(proto::BucketSpan {
                offset: i - n,
                length: 1,
            }),
            (None, _) => spans.push(proto::BucketSpan {
                offset: i,
                length: 1,
            }),
        }
        next = Some(i + 1);
        let c = c as i64;
        deltas.push(c - prev_count);
        prev_count = c;
    }
    (spans, deltas)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bucket_boundaries_are_upper_inclusive() {
        assert_eq!(bucket_index(1.0), 0);
        assert_eq!(bucket_index(2.0), 8);
        assert_eq!(bucket_index(1.01), 1);
        assert_eq!(bucket_index(0.5), -8);
        for i in -40..40 {
            let upper = 2f64.powf(f64::from(i) / 8.0);
            assert_eq!(bucket_index(upper), i, "upper bound of bucket {i}");
            assert_eq!(bucket_index(upper * 1.000_001), i + 1);
        }
    }

    #[test]
    fn spans_and_deltas_like_prometheus() {
        let mut h = NativeHistogram::default();
        for v in [1.0, 1.05, 1.05, 2.0, 0.0] {
            h.observe(v);
        }
        let p = h.to_proto(7);
        assert_eq!(p.count, Some(proto::HistogramCount::CountInt(5)));
        assert_eq!(p.zero_count, Some(proto::ZeroCount::ZeroCountInt(1)));
        assert!((p.sum - 5.1).abs() < 1e-9);
        // Buckets 0 (1.0), 1 (1.05 twice), 8 (2.0).
        assert_eq!(
            p.positive_spans,
            vec![
                proto::BucketSpan {
                    offset: 0,
                    length: 2
                },
                proto::BucketSpan {
                    offset: 6,
                    length: 1
                }
            ]
        );
        assert_eq!(p.positive_deltas, vec![1, 1, -1]);
        assert_eq!(p.timestamp, 7);
    }
}
