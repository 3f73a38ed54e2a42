//! Threshold evaluation: judges one threshold against a sink and keeps its last verdict.
//!
//! Receives sinks and the elapsed test time; emits per-threshold verdicts with the observed
//! value, following k6's rules (empty sinks skipped during the run; an empty Rate passes at the
//! end; `abortOnFail` honoured only after `delayAbortEval`).

use std::time::Duration;

use super::parser::Threshold;
use crate::metrics::registry::ValueType;
use crate::metrics::sink::Sink;

/// A threshold plus its state across evaluations.
#[derive(Clone, Debug, PartialEq)]
pub struct ThresholdState {
    pub def: Threshold,
    /// The verdict of the last evaluation that judged it (false before any).
    pub last_failed: bool,
    /// The aggregation value seen at that evaluation (`None`: no value, e.g. empty Rate).
    pub last_value: Option<f64>,
}

impl ThresholdState {
    /// A threshold not evaluated yet.
    pub fn new(def: Threshold) -> Self {
        ThresholdState {
            def,
            last_failed: false,
            last_value: None,
        }
    }

    /// Judges the threshold on `sink`. Returns whether it was judged (false when skipped because
    /// the sink is empty during the run).
    pub fn evaluate(&mut self, sink: &mut Sink, elapsed: Duration, final_eval: bool) -> bool {
        if !final_eval && sink.is_empty() {
            return false;
        }
        let value = sink.aggregate(self.def.expr.aggregation, elapsed.as_secs_f64());
        self.last_value = value;
        // k6 `runNoTaint`: no value for the aggregation → the threshold passes.
        self.last_failed = match value {
            Some(v) => !self.def.expr.operator.holds(v, self.def.expr.value),
            None => false,
        };
        true
    }

    /// True when a failure of this threshold should abort the test at `elapsed`.
    pub fn wants_abort(&self, elapsed: Duration) -> bool {
        self.last_failed
            && self.def.abort_on_fail
            && self.def.delay_abort_eval.is_none_or(|d| elapsed > d)
    }
}

/// The verdict of one threshold at one evaluation.
#[derive(Clone, Debug, PartialEq)]
pub struct ThresholdOutcome {
    /// The (sub-)metric key, e.g. `http_req_duration` or `http_req_duration{status:200}`.
    pub metric: String,
    /// The expression as written.
    pub source: String,
    /// The aggregation as written (`p(95)`), for messages like `p(95)=412ms`.
    pub aggregation: String,
    pub ok: bool,
    /// The observed aggregation value (ms for time metrics, bytes for data, 0..1 for rates).
    pub observed: Option<f64>,
    /// What the metric's values are, for formatting `observed`.
    pub contains: ValueType,
    pub abort_on_fail: bool,
}

/// The result of [`crate::metrics::engine::MetricsEngine::evaluate`].
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Evaluation {
    /// Any threshold failed.
    pub failed: bool,
    /// A failed threshold has `abortOnFail` and its `delayAbortEval` has passed (periodic
    /// evaluations only; always false on the final one).
    pub should_abort: bool,
    /// Sorted, de-duplicated keys of metrics with a failed threshold (k6's log line).
    pub failed_metrics: Vec<String>,
    /// Sorted keys of metrics whose failure asks for the abort.
    pub abort_metrics: Vec<String>,
    /// Every threshold in definition order.
    pub thresholds: Vec<ThresholdOutcome>,
}

impl Evaluation {
    /// k6's log line for the end of a failed test:
    /// `thresholds on metrics 'a, b' have been crossed`.
    pub fn crossed_message(&self) -> Option<String> {
        (!self.failed_metrics.is_empty()).then(|| {
            format!(
                "thresholds on metrics '{}' have been crossed",
                self.failed_metrics.join(", ")
            )
        })
    }

    /// k6's log line when `abortOnFail` stops the test.
    pub fn abort_message(&self) -> Option<String> {
        (!self.abort_metrics.is_empty()).then(|| {
            format!(
                "thresholds on metrics '{}' were crossed; at least one has abortOnFail enabled, stopping test prematurely",
                self.abort_metrics.join(", ")
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::registry::MetricType;
    use crate::metrics::thresholds::parser::parse_expression;

    fn state(src: &str, abort: bool, delay: Option<Duration>) -> ThresholdState {
        ThresholdState::new(Threshold {
            source: src.to_string(),
            expr: parse_expression(src).unwrap(),
            abort_on_fail: abort,
            delay_abort_eval: delay,
        })
    }

    #[test]
    fn empty_sinks_skipped_during_run_and_judged_at_end() {
        let mut t = state("p(95)>10", false, None);
        let mut sink = Sink::new(MetricType::Trend);
        assert!(!t.evaluate(&mut sink, Duration::from_secs(2), false));
        assert!(!t.last_failed);
        assert!(t.evaluate(&mut sink, Duration::from_secs(3), true));
        assert!(t.last_failed);
        assert_eq!(t.last_value, Some(0.0));
    }

    #[test]
    fn empty_rate_passes_at_end() {
        let mut t = state("rate>0.9", false, None);
        let mut sink = Sink::new(MetricType::Rate);
        t.evaluate(&mut sink, Duration::from_secs(1), true);
        assert!(!t.last_failed);
        assert_eq!(t.last_value, None);
    }

    #[test]
    fn counter_rate_uses_elapsed_seconds() {
        let mut t = state("rate<5", false, None);
        let mut sink = Sink::new(MetricType::Counter);
        for _ in 0..20 {
            sink.add(1.0);
        }
        t.evaluate(&mut sink, Duration::from_secs(2), false);
        assert!(t.last_failed);
        t.evaluate(&mut sink, Duration::from_secs(10), false);
        assert!(!t.last_failed);
    }

    #[test]
    fn abort_waits_for_delay() {
        let mut t = state("rate<0.01", true, Some(Duration::from_secs(10)));
        let mut sink = Sink::new(MetricType::Rate);
        sink.add(1.0);
        t.evaluate(&mut sink, Duration::from_secs(2), false);
        assert!(t.last_failed);
        assert!(!t.wants_abort(Duration::from_secs(2)));
        assert!(t.wants_abort(Duration::from_secs(11)));
        let mut no_abort = state("rate<0.01", false, None);
        no_abort.evaluate(&mut sink, Duration::from_secs(2), false);
        assert!(!no_abort.wants_abort(Duration::from_secs(100)));
    }
}
