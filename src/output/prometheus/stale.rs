//! Stale markers (`K6_PROMETHEUS_RW_STALE_MARKERS`): at the end of the test, every series ever
//! written gets one point with Prometheus' stale NaN, 1 ms after the moment of stopping, so
//! queries stop returning it at once instead of after the 5-minute lookback. Receives the end
//! time; emits the marker value and timestamp ([`super::encode::Aggregator::stale_markers`] writes
//! them per series). A marker at or before a query's time hides the series from plain instant
//! selectors; range functions (`last_over_time`, `max_over_time`, `rate`) skip markers, so the
//! shipped Keptn SLIs (test-data/keptn/sli.yaml) work with or without them.

use std::time::SystemTime;

use super::encode::millis;

/// The bits of Prometheus' stale marker NaN (`value.StaleNaN`).
pub const STALE_NAN_BITS: u64 = 0x7ff0_0000_0000_0002;

/// The stale marker value.
pub fn stale_nan() -> f64 {
    f64::from_bits(STALE_NAN_BITS)
}

/// True when `v` is the stale marker (a plain NaN is not).
pub fn is_stale(v: f64) -> bool {
    v.to_bits() == STALE_NAN_BITS
}

/// The markers' timestamp (ms): 1 ms after `now`, as k6 writes them, so they come after the last
/// real point of every series.
pub fn marker_time(now: SystemTime) -> i64 {
    millis(now) + 1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn marker_is_a_special_nan() {
        assert!(stale_nan().is_nan());
        assert!(is_stale(stale_nan()));
        assert!(!is_stale(f64::NAN));
        let now = SystemTime::UNIX_EPOCH + std::time::Duration::from_millis(1500);
        assert_eq!(marker_time(now), 1501);
    }
}
