//! Golden test: the text renderer fed with the exact values real k6 v1.1.0 exported for
//! `test-data/summary/k6-s1.js` must print what k6 printed (`k6-s1.stdout.txt`, `--no-color`).

use std::time::Duration;

use serde_json::Value;

use super::data::{SummaryMetric, SummaryOptions};
use super::format::metric_name_cmp;
use super::text;
use crate::metrics::engine::CheckNode;
use crate::metrics::registry::{MetricType, ValueType};

const EXPORT: &str = include_str!("../../../test-data/summary/k6-s1.export.json");
const STDOUT: &str = include_str!("../../../test-data/summary/k6-s1.stdout.txt");

fn contains(name: &str) -> ValueType {
    let base = name.split('{').next().unwrap_or("");
    if base.starts_with("data_") {
        ValueType::Data
    } else if matches!(base, "http_reqs" | "http_req_failed") {
        ValueType::Default
    } else if base.starts_with("http_req_") || base.ends_with("_duration") || base == "my_trend" {
        ValueType::Time
    } else {
        ValueType::Default
    }
}

fn metrics_from_export(v: &Value, opts: &SummaryOptions) -> Vec<SummaryMetric> {
    let mut out = Vec::new();
    for (name, m) in v["metrics"].as_object().unwrap() {
        let o = m.as_object().unwrap();
        let num = |k: &str| o[k].as_f64().unwrap();
        let (kind, values) = if o.contains_key("count") {
            (
                MetricType::Counter,
                vec![("count".into(), num("count")), ("rate".into(), num("rate"))],
            )
        } else if o.contains_key("passes") {
            let values = vec![
                ("rate".into(), num("value")),
                ("passes".into(), num("passes")),
                ("fails".into(), num("fails")),
            ];
            (MetricType::Rate, values)
        } else if o.contains_key("value") {
            let values = vec![
                ("value".into(), num("value")),
                ("min".into(), num("min")),
                ("max".into(), num("max")),
            ];
            (MetricType::Gauge, values)
        } else {
            let values = opts
                .trend_stats
                .iter()
                .map(|s| (s.clone(), num(s)))
                .collect();
            (MetricType::Trend, values)
        };
        let thresholds = o
            .get("thresholds")
            .and_then(Value::as_object)
            .map(|t| {
                t.iter()
                    .map(|(k, failed)| (k.clone(), !failed.as_bool().unwrap()))
                    .collect()
            })
            .unwrap_or_default();
        out.push(SummaryMetric {
            name: name.clone(),
            kind,
            contains: contains(name),
            values,
            threshold_values: Vec::new(),
            thresholds,
        });
    }
    out.sort_by(|a, b| metric_name_cmp(&a.name, &b.name));
    out
}

fn check(name: &str, passes: u64, fails: u64) -> CheckNode {
    CheckNode {
        name: name.into(),
        path: String::new(),
        passes,
        fails,
    }
}

#[test]
fn matches_real_k6_output() {
    let v: Value = serde_json::from_str(EXPORT).unwrap();
    let reqs = &v["metrics"]["http_reqs"];
    let secs = reqs["count"].as_f64().unwrap() / reqs["rate"].as_f64().unwrap();
    let opts = SummaryOptions {
        no_color: true,
        test_run_duration: Duration::from_secs_f64(secs),
        ..SummaryOptions::default()
    };
    let mut metrics = metrics_from_export(&v, &opts);
    // The export omits threshold-only percentiles; k6 printed p(99)=44.26ms for this one.
    for m in &mut metrics {
        if m.name == "http_req_duration{status:200}" {
            m.threshold_values.push(("p(99)".into(), 44.2605));
        }
        // The export file lists threshold sources in map order; k6 prints definition order.
        if m.name == "http_req_duration" {
            m.thresholds.sort_by(|a, b| b.0.cmp(&a.0));
        }
    }
    let checks = [
        check("status is 200", 10, 0),
        check("always false", 0, 10),
        check("inner ok", 10, 0),
        check("root check", 6, 4),
    ];
    let got = format!("\n{}\n\n", text::render(&metrics, &checks, &opts));
    let want = STDOUT;
    for (i, (g, w)) in got.lines().zip(want.lines()).enumerate() {
        assert_eq!(g, w, "line {}", i + 1);
    }
    assert_eq!(got, want);
}

#[test]
fn engine_state_renders_like_k6() {
    use crate::metrics::engine::{EngineOptions, MetricsEngine};
    use crate::metrics::registry::{Registry, builtin};
    use crate::metrics::sample::Sample;
    use crate::metrics::tags::TagSet;
    use std::sync::Arc;

    let reg = Arc::new(Registry::new());
    let counter = reg
        .register("my_counter", MetricType::Counter, ValueType::Default)
        .unwrap();
    let gauge = reg
        .register("my_gauge", MetricType::Gauge, ValueType::Default)
        .unwrap();
    let trend = reg
        .register("my_trend", MetricType::Trend, ValueType::Time)
        .unwrap();
    let th = serde_json::json!({
        "my_counter": ["count==200"],
        "my_trend{kind:even}": ["max<=48", "p(99)<100"],
        "checks": ["rate>0.9"],
    });
    let mut e = MetricsEngine::new(reg, Some(&th), EngineOptions::default()).unwrap();
    let tags =
        |pairs: &[(&str, &str)]| -> Arc<TagSet> { Arc::new(pairs.iter().copied().collect()) };
    let even = tags(&[("kind", "even")]);
    let odd = tags(&[("kind", "odd")]);
    let ok = tags(&[("check", "ok"), ("group", "::g")]);
    let bad = tags(&[("check", "sometimes")]);
    let none = tags(&[]);
    let mut samples = Vec::new();
    for i in 0..100u32 {
        samples.push(Sample::now(counter, none.clone(), 2.0));
        samples.push(Sample::now(gauge, none.clone(), f64::from(i % 4 + 1)));
        let t = if i % 2 == 0 { &even } else { &odd };
        samples.push(Sample::now(trend, t.clone(), f64::from(i % 25) * 2.0));
        samples.push(Sample::now(builtin::CHECKS, ok.clone(), 1.0));
        samples.push(Sample::now(
            builtin::CHECKS,
            bad.clone(),
            f64::from(i % 3 == 0),
        ));
    }
    samples.push(Sample::now(builtin::ITERATIONS, none.clone(), 1.0));
    samples.push(Sample::now(builtin::DATA_RECEIVED, none.clone(), 12_345.0));
    e.ingest(&samples);
    e.evaluate(Duration::from_secs(4), true);
    let opts = SummaryOptions {
        no_color: true,
        test_run_duration: Duration::from_secs(4),
        ..SummaryOptions::default()
    };
    let got = super::stdout_text(&mut e, &opts);
    let want = "

  █ THRESHOLDS 

    checks
    ✗ 'rate>0.9' rate=67.00%

    my_counter
    ✓ 'count==200' count=200

    my_trend{kind:even}
    ✓ 'max<=48' max=48ms
    ✓ 'p(99)<100' p(99)=48ms


  █ TOTAL RESULTS 

    checks_total.......................: 200    50/s
    checks_succeeded...................: 67.00% 134 out of 200
    checks_failed......................: 33.00% 66 out of 200

    ✓ ok
    ✗ sometimes
      ↳  34% — ✓ 34 / ✗ 66

    CUSTOM
    my_counter...........................: 200   50/s
    my_gauge.............................: 4     min=1    max=4
    my_trend.............................: avg=24ms min=0s med=24ms max=48ms p(90)=44ms p(95)=46ms
      { kind:even }......................: avg=24ms min=0s med=24ms max=48ms p(90)=44ms p(95)=46ms

    EXECUTION
    iterations...........................: 1     0.25/s

    NETWORK
    data_received........................: 12 kB 3.1 kB/s



";
    for (i, (g, w)) in got.lines().zip(want.lines()).enumerate() {
        assert_eq!(g, w, "line {}", i + 1);
    }
    assert_eq!(got, want);
}
