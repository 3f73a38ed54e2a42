//! The summary's view of the engine: observed metrics with their summary values, and the
//! `handleSummary(data)` object (k6.md §5.3).
//!
//! Receives the [`MetricsEngine`] and [`SummaryOptions`]; emits [`SummaryMetric`]s (shared by the
//! text and export renderers) and the `data` JSON value.

use std::time::Duration;

use serde_json::{Map, Value, json};

use super::format::metric_name_cmp;
use crate::metrics::engine::{GroupNode, MetricsEngine};
use crate::metrics::registry::{MetricType, ValueType};
use crate::metrics::sink::{Sink, rate_per_sec};
use crate::metrics::thresholds::ThresholdState;

/// Inputs of the summary besides the engine.
#[derive(Clone, Debug)]
pub struct SummaryOptions {
    /// `--summary-trend-stats` (default `avg,min,med,max,p(90),p(95)`).
    pub trend_stats: Vec<String>,
    /// `--summary-time-unit` (`""`, `s`, `ms`, `us`).
    pub time_unit: String,
    /// `--no-color`.
    pub no_color: bool,
    pub is_stdout_tty: bool,
    pub is_stderr_tty: bool,
    /// How long the test ran (rates are per second of it).
    pub test_run_duration: Duration,
    /// What `setup()` returned, JSON round-tripped; `None` = undefined.
    pub setup_data: Option<Value>,
}

impl Default for SummaryOptions {
    fn default() -> Self {
        SummaryOptions {
            trend_stats: ["avg", "min", "med", "max", "p(90)", "p(95)"]
                .map(String::from)
                .to_vec(),
            time_unit: String::new(),
            no_color: false,
            is_stdout_tty: false,
            is_stderr_tty: false,
            test_run_duration: Duration::ZERO,
            setup_data: None,
        }
    }
}

/// One observed (sub-)metric, ready to render.
#[derive(Clone, Debug, PartialEq)]
pub struct SummaryMetric {
    /// `name` or `name{k:v}`.
    pub name: String,
    pub kind: MetricType,
    pub contains: ValueType,
    /// Counter `count, rate`; Gauge `value, min, max`; Rate `rate, passes, fails`; Trend the
    /// trend stats in order.
    pub values: Vec<(String, f64)>,
    /// Threshold percentiles that are not trend stats (`p(99)`), for the THRESHOLDS block.
    pub threshold_values: Vec<(String, f64)>,
    /// `(source, ok)` in definition order.
    pub thresholds: Vec<(String, bool)>,
}

impl SummaryMetric {
    /// The value of `key`, looking in `values` then `threshold_values`.
    pub fn value(&self, key: &str) -> Option<f64> {
        self.values
            .iter()
            .chain(&self.threshold_values)
            .find(|(k, _)| k == key)
            .map(|(_, v)| *v)
    }
}

fn finite_or_zero(v: f64) -> f64 {
    if v.is_finite() { v } else { 0.0 }
}

/// The summary values of a sink.
pub fn sink_values(
    sink: &mut Sink,
    trend_stats: &[String],
    elapsed: Duration,
) -> Vec<(String, f64)> {
    let secs = elapsed.as_secs_f64();
    match sink {
        Sink::Counter(c) => vec![
            ("count".into(), c.sum),
            ("rate".into(), rate_per_sec(c.sum, secs)),
        ],
        Sink::Gauge(g) => vec![
            ("value".into(), g.last),
            ("min".into(), finite_or_zero(g.min)),
            ("max".into(), finite_or_zero(g.max)),
        ],
        Sink::Rate(r) => {
            let rate = if r.total > 0 {
                r.trues as f64 / r.total as f64
            } else {
                0.0
            };
            vec![
                ("rate".into(), rate),
                ("passes".into(), r.trues as f64),
                ("fails".into(), (r.total - r.trues) as f64),
            ]
        }
        Sink::Trend(_) => trend_stats
            .iter()
            .map(|s| (s.clone(), sink.trend_stat(s).unwrap_or(0.0)))
            .collect(),
    }
}

/// `p(N)` at the start of a threshold source followed by an operator starting with `<>=`
/// (k6's `^p\((\d+(?:\.\d+)?)\)\s*([<>=])`): returns (`p(N)` as written, N).
fn threshold_percentile(source: &str) -> Option<(String, f64)> {
    let s = source.trim();
    let inner_end = s.strip_prefix("p(")?.find(')')? + 2;
    let digits = &s[2..inner_end];
    let mut parts = digits.splitn(2, '.');
    let int_ok = parts
        .next()
        .is_some_and(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()));
    let frac_ok = parts
        .next()
        .is_none_or(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()));
    let rest = s[inner_end + 1..].trim_start();
    if !int_ok || !frac_ok || !rest.starts_with(['<', '>', '=']) {
        return None;
    }
    Some((format!("p({digits})"), digits.parse().ok()?))
}

fn build_metric(
    name: &str,
    kind: MetricType,
    contains: ValueType,
    sink: &mut Sink,
    thresholds: &[ThresholdState],
    opts: &SummaryOptions,
) -> SummaryMetric {
    let values = sink_values(sink, &opts.trend_stats, opts.test_run_duration);
    let mut threshold_values = Vec::new();
    if let Sink::Trend(t) = sink {
        for th in thresholds {
            if let Some((key, p)) = threshold_percentile(&th.def.source)
                && !threshold_values
                    .iter()
                    .any(|(k, _): &(String, f64)| *k == key)
            {
                threshold_values.push((key, t.percentile(p / 100.0)));
            }
        }
    }
    SummaryMetric {
        name: name.to_string(),
        kind,
        contains,
        values,
        threshold_values,
        thresholds: thresholds
            .iter()
            .map(|t| (t.def.source.clone(), !t.last_failed))
            .collect(),
    }
}

/// Every observed metric and sub-metric, sorted as the summary sorts them.
pub fn collect_metrics(engine: &mut MetricsEngine, opts: &SummaryOptions) -> Vec<SummaryMetric> {
    let (metrics, subs) = engine.states_mut();
    let mut out = Vec::new();
    for m in metrics.iter_mut().filter(|m| m.observed) {
        out.push(build_metric(
            &m.def.name,
            m.def.kind,
            m.def.contains,
            &mut m.sink,
            &m.thresholds,
            opts,
        ));
    }
    for s in subs.iter_mut().filter(|s| s.observed) {
        let Some(parent) = metrics.get(s.parent.0 as usize) else {
            continue;
        };
        out.push(build_metric(
            &s.key,
            parent.def.kind,
            parent.def.contains,
            &mut s.sink,
            &s.thresholds,
            opts,
        ));
    }
    out.sort_by(|a, b| metric_name_cmp(&a.name, &b.name));
    out
}

fn values_object(values: &[(String, f64)]) -> Value {
    Value::Object(
        values
            .iter()
            .map(|(k, v)| (k.clone(), super::format::json_number(*v)))
            .collect(),
    )
}

/// A group of the tree as k6's `data.root_group`, with arrays.
fn group_json(engine: &MetricsEngine, g: &GroupNode) -> Value {
    let groups: Vec<Value> = g
        .groups
        .iter()
        .map(|&i| group_json(engine, &engine.groups()[i]))
        .collect();
    let checks: Vec<Value> = g
        .checks
        .iter()
        .map(|&i| {
            let c = &engine.checks()[i];
            json!({"name": c.name, "path": c.path, "id": md5_hex(&c.path), "passes": c.passes, "fails": c.fails})
        })
        .collect();
    json!({"name": g.name, "path": g.path, "id": md5_hex(&g.path), "groups": groups, "checks": checks})
}

/// Hex md5 of a group or check path (k6's ids).
pub fn md5_hex(s: &str) -> String {
    use md5::{Digest, Md5};
    let digest = Md5::digest(s.as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// The `handleSummary(data)` object.
pub fn build_data(engine: &mut MetricsEngine, opts: &SummaryOptions) -> Value {
    let metrics = collect_metrics(engine, opts);
    let mut m = Map::new();
    for sm in &metrics {
        let mut obj = Map::new();
        obj.insert("type".into(), json!(sm.kind.as_str()));
        obj.insert("contains".into(), json!(sm.contains.as_str()));
        obj.insert("values".into(), values_object(&sm.values));
        if !sm.thresholds.is_empty() {
            let th: Map<String, Value> = sm
                .thresholds
                .iter()
                .map(|(src, ok)| (src.clone(), json!({"ok": ok})))
                .collect();
            obj.insert("thresholds".into(), Value::Object(th));
        }
        m.insert(sm.name.clone(), Value::Object(obj));
    }
    let root = group_json(engine, &engine.groups()[0]);
    let mut data = json!({
        "root_group": root,
        "options": {
            "summaryTrendStats": opts.trend_stats,
            "summaryTimeUnit": opts.time_unit,
            "noColor": opts.no_color,
        },
        "state": {
            "isStdOutTTY": opts.is_stdout_tty,
            "isStdErrTTY": opts.is_stderr_tty,
            "testRunDurationMs": opts.test_run_duration.as_secs_f64() * 1000.0,
        },
        "metrics": Value::Object(m),
    });
    if let (Some(sd), Value::Object(o)) = (&opts.setup_data, &mut data) {
        o.insert("setup_data".into(), sd.clone());
    }
    data
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::engine::EngineOptions;
    use crate::metrics::registry::{Registry, builtin};
    use crate::metrics::sample::Sample;
    use crate::metrics::tags::TagSet;
    use std::sync::Arc;

    #[test]
    fn data_object_shape() {
        let reg = Arc::new(Registry::new());
        let th = json!({"http_req_duration": ["p(99)<100"], "checks": ["rate>0.5"]});
        let mut e = MetricsEngine::new(reg, Some(&th), EngineOptions::default()).unwrap();
        let t: Arc<TagSet> = Arc::new([("check", "ok"), ("group", "::g1")].into_iter().collect());
        let r: Arc<TagSet> = Arc::new([("expected_response", "true")].into_iter().collect());
        e.ingest(&[
            Sample::now(builtin::CHECKS, t.clone(), 1.0),
            Sample::now(builtin::CHECKS, t, 0.0),
            Sample::now(builtin::HTTP_REQ_DURATION, r, 10.0),
        ]);
        e.evaluate(Duration::from_secs(2), true);
        let opts = SummaryOptions {
            test_run_duration: Duration::from_secs(2),
            setup_data: Some(json!({"n": 42})),
            ..SummaryOptions::default()
        };
        let d = build_data(&mut e, &opts);
        assert_eq!(d["root_group"]["id"], "d41d8cd98f00b204e9800998ecf8427e");
        assert_eq!(d["root_group"]["groups"][0]["path"], "::g1");
        assert_eq!(
            d["root_group"]["groups"][0]["checks"][0]["path"],
            "::g1::ok"
        );
        assert_eq!(d["root_group"]["groups"][0]["checks"][0]["fails"], 1);
        assert_eq!(d["metrics"]["checks"]["values"]["rate"], 0.5);
        assert_eq!(
            d["metrics"]["checks"]["thresholds"]["rate>0.5"]["ok"],
            false
        );
        assert_eq!(d["metrics"]["http_req_duration"]["values"]["p(95)"], 10.0);
        assert!(
            d["metrics"]["http_req_duration"]["values"]
                .get("p(99)")
                .is_none()
        );
        assert_eq!(
            d["metrics"]["http_req_duration{expected_response:true}"]["contains"],
            "time"
        );
        assert_eq!(d["state"]["testRunDurationMs"], 2000.0);
        assert_eq!(d["setup_data"]["n"], 42);
        assert!(d["metrics"].get("vus").is_none());
    }

    #[test]
    fn threshold_percentile_keys() {
        assert_eq!(
            threshold_percentile(" p(99.90) < 1"),
            Some(("p(99.90)".into(), 99.9))
        );
        assert_eq!(threshold_percentile("p(95)!=1"), None);
        assert_eq!(threshold_percentile("avg<1"), None);
    }
}
