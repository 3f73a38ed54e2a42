//! Thresholds: k6's grammar ([`parser`]), validation against the metric registry (here) and
//! evaluation ([`eval`]).
//!
//! Receives the raw `options.thresholds` JSON and the [`Registry`]; emits validated
//! [`ResolvedThresholds`] for the metrics engine, or every configuration error found.

pub mod eval;
pub mod parser;

use serde_json::Value;

pub use eval::{Evaluation, ThresholdOutcome, ThresholdState};
pub use parser::{Expression, MetricThresholds, Operator, Threshold, ThresholdError};

use crate::metrics::registry::{Metric, MetricId, Registry};
use crate::metrics::sink::supported_methods;

/// Thresholds of one (sub-)metric, resolved against the registry.
#[derive(Clone, Debug, PartialEq)]
pub struct ResolvedThresholds {
    pub id: MetricId,
    pub metric: Metric,
    pub parsed: MetricThresholds,
}

/// Parses `options.thresholds` and checks every threshold against the registry: the metric
/// must exist and support the aggregation. Returns all problems, not only the first.
pub fn parse_and_validate(
    value: &Value,
    registry: &Registry,
) -> Result<Vec<ResolvedThresholds>, Vec<ThresholdError>> {
    let (parsed, mut errors) = parser::parse_thresholds_partial(value);
    let mut out = Vec::with_capacity(parsed.len());
    for mt in parsed {
        let Some((id, metric)) = registry
            .lookup(&mt.metric)
            .and_then(|id| registry.get(id).map(|m| (id, m)))
        else {
            errors.push(ThresholdError::UnknownMetric(mt.metric.clone()));
            continue;
        };
        let mut ok = true;
        for t in &mt.thresholds {
            if !t.expr.aggregation.supported_by(metric.kind) {
                ok = false;
                errors.push(ThresholdError::UnsupportedAggregation {
                    threshold: t.source.clone(),
                    metric: mt.metric.clone(),
                    method: t.expr.aggregation.method().to_string(),
                    kind: metric.kind.as_str().to_string(),
                    supported: supported_methods(metric.kind).join(", "),
                });
            }
        }
        if ok {
            out.push(ResolvedThresholds {
                id,
                metric,
                parsed: mt,
            });
        }
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(errors)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::registry::{MetricType, ValueType};
    use serde_json::json;

    #[test]
    fn validates_against_registry() {
        let r = Registry::new();
        r.register("my_trend", MetricType::Trend, ValueType::Default)
            .unwrap();
        let ok = parse_and_validate(
            &json!({"my_trend": ["p(95)<1"], "http_reqs{status:200}": ["count>1", "rate>1"]}),
            &r,
        )
        .unwrap();
        assert_eq!(ok.len(), 2);
        assert_eq!(ok[1].parsed.key, "http_reqs{status:200}");

        let errs = parse_and_validate(
            &json!({"http_reqs": ["p(95)<1"], "nosuch": ["avg<1"], "checks": ["count<1"], "vus": ["max<1"], "x": ["bad"]}),
            &r,
        )
        .unwrap_err();
        let texts: Vec<String> = errs.iter().map(|e| e.to_string()).collect();
        assert_eq!(texts.len(), 6, "{texts:?}");
        assert!(texts.contains(&"invalid threshold \"p(95)<1\" applied on metric http_reqs; reason: unsupported aggregation method p on metric of type counter. supported aggregation methods for this metric are: count, rate".to_string()));
        assert!(
            texts.contains(
                &"invalid threshold defined on nosuch; reason: no metric name \"nosuch\" found"
                    .to_string()
            )
        );
        assert!(
            texts
                .iter()
                .any(|t| t.contains("method count on metric of type rate"))
        );
        assert!(texts.iter().any(|t| t.contains("method max on metric of type gauge. supported aggregation methods for this metric are: value")));
    }
}
