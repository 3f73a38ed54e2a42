//! The `--summary-export` file (k6's legacy flat format, k6.md §5.2).
//!
//! Receives the [`MetricsEngine`] and [`SummaryOptions`]; emits the JSON value k6 writes:
//! `root_group` with maps, flat metric values, `thresholds` with `true` = failed.

use super::format::json_number;
use serde_json::{Map, Value, json};

use super::data::{SummaryMetric, SummaryOptions, collect_metrics, md5_hex};
use crate::metrics::engine::{GroupNode, MetricsEngine};
use crate::metrics::registry::MetricType;

fn group_json(engine: &MetricsEngine, g: &GroupNode) -> Value {
    let groups: Map<String, Value> = g
        .groups
        .iter()
        .map(|&i| {
            let child = &engine.groups()[i];
            (child.name.clone(), group_json(engine, child))
        })
        .collect();
    let checks: Map<String, Value> = g
        .checks
        .iter()
        .map(|&i| {
            let c = &engine.checks()[i];
            (
                c.name.clone(),
                json!({"name": c.name, "path": c.path, "id": md5_hex(&c.path), "passes": c.passes, "fails": c.fails}),
            )
        })
        .collect();
    json!({"name": g.name, "path": g.path, "id": md5_hex(&g.path), "groups": groups, "checks": checks})
}

fn metric_json(sm: &SummaryMetric) -> Value {
    let mut o = Map::new();
    match sm.kind {
        MetricType::Rate => {
            // Legacy format: passes, fails, value (= the rate).
            o.insert(
                "passes".into(),
                json_number(sm.value("passes").unwrap_or(0.0)),
            );
            o.insert(
                "fails".into(),
                json_number(sm.value("fails").unwrap_or(0.0)),
            );
            o.insert("value".into(), json_number(sm.value("rate").unwrap_or(0.0)));
        }
        _ => {
            for (k, v) in &sm.values {
                o.insert(k.clone(), json_number(*v));
            }
        }
    }
    if !sm.thresholds.is_empty() {
        let th: Map<String, Value> = sm
            .thresholds
            .iter()
            .map(|(src, ok)| (src.clone(), json!(!ok)))
            .collect();
        o.insert("thresholds".into(), Value::Object(th));
    }
    Value::Object(o)
}

/// The `--summary-export` JSON.
pub fn build_export(engine: &mut MetricsEngine, opts: &SummaryOptions) -> Value {
    let metrics: Map<String, Value> = collect_metrics(engine, opts)
        .iter()
        .map(|sm| (sm.name.clone(), metric_json(sm)))
        .collect();
    let mut out = json!({
        "root_group": group_json(engine, &engine.groups()[0]),
        "metrics": Value::Object(metrics),
    });
    if let (Some(sd), Value::Object(o)) = (&opts.setup_data, &mut out) {
        o.insert("setup_data".into(), sd.clone());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::engine::EngineOptions;
    use crate::metrics::registry::{Registry, builtin};
    use crate::metrics::sample::Sample;
    use crate::metrics::tags::TagSet;
    use std::sync::Arc;
    use std::time::Duration;

    #[test]
    fn legacy_export_shape() {
        let th = json!({"http_req_failed": ["rate<0.5"], "http_reqs": ["count>0"]});
        let mut e = MetricsEngine::new(
            Arc::new(Registry::new()),
            Some(&th),
            EngineOptions::default(),
        )
        .unwrap();
        let t: Arc<TagSet> = Arc::new(
            [("check", "status is 200"), ("group", "::g1")]
                .into_iter()
                .collect(),
        );
        let none: Arc<TagSet> = Arc::new(TagSet::new());
        e.ingest(&[
            Sample::now(builtin::CHECKS, t, 1.0),
            Sample::now(builtin::HTTP_REQ_FAILED, none.clone(), 1.0),
            Sample::now(builtin::HTTP_REQ_FAILED, none.clone(), 0.0),
            Sample::now(builtin::HTTP_REQS, none, 4.0),
        ]);
        e.evaluate(Duration::from_secs(2), true);
        let opts = SummaryOptions {
            test_run_duration: Duration::from_secs(2),
            ..SummaryOptions::default()
        };
        let x = build_export(&mut e, &opts);
        let g1 = &x["root_group"]["groups"]["g1"];
        assert_eq!(g1["id"], md5_hex("::g1"));
        assert_eq!(g1["checks"]["status is 200"]["path"], "::g1::status is 200");
        let f = &x["metrics"]["http_req_failed"];
        assert_eq!(
            (
                f["passes"].as_f64(),
                f["fails"].as_f64(),
                f["value"].as_f64()
            ),
            (Some(1.0), Some(1.0), Some(0.5))
        );
        assert_eq!(f["thresholds"]["rate<0.5"], true);
        assert_eq!(x["metrics"]["http_reqs"]["rate"], 2.0);
        assert_eq!(x["metrics"]["http_reqs"]["thresholds"]["count>0"], false);
        assert!(x.get("setup_data").is_none());
    }
}
