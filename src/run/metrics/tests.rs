//! The stream fed with merged deltas judges and summarises the test exactly as one instance fed
//! every sample does.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use serde_json::json;

use super::*;
use crate::metrics::engine::{EngineOptions, Shipped};
use crate::metrics::{MetricType, Registry, Sample, TagSet, ValueType, builtin};

fn tags(pairs: &[(&str, &str)]) -> Arc<TagSet> {
    Arc::new(pairs.iter().copied().collect())
}

fn thresholds() -> serde_json::Value {
    json!({
        "http_req_duration": ["p(95)<300", "avg<200"],
        "http_req_duration{status:500}": ["max<100"],
        "http_req_failed": ["rate<0.2"],
        "checks": ["rate>0.9"],
        "iterations": ["count>=100"],
        "my_trend": ["p(99)<50"],
    })
}

/// The engine after the init context declared `my_trend`.
fn engine(registry: &Arc<Registry>) -> MetricsEngine {
    registry
        .register("my_trend", MetricType::Trend, ValueType::Default)
        .unwrap();
    MetricsEngine::new(
        registry.clone(),
        Some(&thresholds()),
        EngineOptions::default(),
    )
    .unwrap()
}

/// A deterministic test's samples: requests with two statuses, checks in two groups, a custom
/// trend, iterations; varied values so percentiles depend on every one of them.
fn samples(registry: &Registry) -> Vec<Sample> {
    let custom = registry
        .register("my_trend", MetricType::Trend, ValueType::Default)
        .unwrap();
    let ok = tags(&[("status", "200"), ("expected_response", "true")]);
    let err = tags(&[("status", "500"), ("expected_response", "false")]);
    let g_a = tags(&[("group", "::a"), ("check", "is 200")]);
    let g_b = tags(&[("group", "::a::b"), ("check", "has body")]);
    let none = tags(&[]);
    let t0 = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000);
    let mut out = Vec::new();
    for i in 0..1_000u32 {
        let time = t0 + Duration::from_millis(u64::from(i));
        let failed = i % 7 == 0;
        let t = if failed { &err } else { &ok };
        let d = f64::from((i * 37) % 401) + 0.25;
        let mut push = |metric, tags: &Arc<TagSet>, value| {
            out.push(Sample {
                metric,
                tags: tags.clone(),
                value,
                time,
                metadata: None,
            })
        };
        push(builtin::HTTP_REQ_DURATION, t, d);
        push(builtin::HTTP_REQ_FAILED, t, f64::from(u8::from(failed)));
        push(builtin::HTTP_REQS, t, 1.0);
        push(builtin::CHECKS, &g_a, f64::from(u8::from(!failed)));
        if i % 3 == 0 {
            push(builtin::CHECKS, &g_b, f64::from(u8::from(i % 2 == 0)));
        }
        push(builtin::ITERATIONS, &none, 1.0);
        push(custom, &none, f64::from(i % 61));
    }
    out
}

fn verdicts(engine: &mut MetricsEngine) -> Vec<(String, String, bool, Option<f64>)> {
    engine
        .evaluate(Duration::from_secs(10), true)
        .thresholds
        .into_iter()
        .map(|t| (t.metric, t.source, t.ok, t.observed))
        .collect()
}

#[tokio::test]
async fn merged_deltas_judge_and_summarise_like_one_instance() {
    // One instance: every sample into one stream.
    let single_registry = Arc::new(Registry::new());
    let all = samples(&single_registry);
    let mut single = MetricsStream::new(engine(&single_registry), Vec::new());
    single.ingest(all.clone());

    // Three runners (their own registries: ids differ per process, names do not) take every
    // third batch and ship a delta now and then; the coordinator merges them into its stream.
    let coordinator_registry = Arc::new(Registry::new());
    let mut coordinator =
        MetricsStream::merging(engine(&coordinator_registry), Vec::new()).unwrap();
    let mut runners: Vec<(MetricsEngine, Shipped)> = (0..3)
        .map(|_| (engine(&Arc::new(Registry::new())), Shipped::default()))
        .collect();
    let custom = single_registry.lookup("my_trend").unwrap();
    for (i, chunk) in all.chunks(7).enumerate() {
        let (runner, shipped) = &mut runners[i % 3];
        // Re-number the custom metric into the runner's registry (same name, another process).
        let local = runner.registry().lookup("my_trend").unwrap();
        let chunk: Vec<Sample> = chunk
            .iter()
            .map(|s| Sample {
                metric: if s.metric == custom { local } else { s.metric },
                ..s.clone()
            })
            .collect();
        runner.ingest(&chunk);
        if i % 15 == 14 {
            coordinator
                .merge_delta(runner.drain_delta(shipped))
                .unwrap();
        }
    }
    // The last deltas of two runners are coalesced before they are merged (a retry after an
    // outage), the third goes alone.
    let mut drained = runners
        .iter_mut()
        .map(|(e, shipped)| e.drain_delta(shipped));
    let (mut coalesced, second, third) = (
        drained.next().unwrap(),
        drained.next().unwrap(),
        drained.next().unwrap(),
    );
    coalesced.absorb(second);
    coordinator.merge_delta(coalesced).unwrap();
    coordinator.merge_delta(third).unwrap();

    let mut single = single.finish().await;
    let mut merged = coordinator.finish().await;
    let expected = verdicts(&mut single);
    assert_eq!(expected.len(), 7);
    assert!(expected.iter().any(|v| !v.2), "some threshold fails");
    assert!(expected.iter().any(|v| v.2), "some threshold passes");
    assert_eq!(verdicts(&mut merged), expected);

    for name in ["http_req_duration", "http_reqs", "checks", "my_trend"] {
        let (a, b) = (
            single
                .metrics()
                .iter()
                .find(|m| m.def.name == name)
                .unwrap(),
            merged
                .metrics()
                .iter()
                .find(|m| m.def.name == name)
                .unwrap(),
        );
        assert!(b.observed, "{name} observed");
        let (mut sa, mut sb) = (a.sink.clone(), b.sink.clone());
        for stat in ["count", "min", "max", "med", "p(90)", "p(99.9)"] {
            if sa.kind() == MetricType::Trend {
                assert_eq!(sa.trend_stat(stat), sb.trend_stat(stat), "{name} {stat}");
            }
        }
        assert_eq!(
            format!("{:?}", a.sink.kind()),
            format!("{:?}", b.sink.kind())
        );
    }
    let subs = |e: &MetricsEngine| {
        e.submetrics()
            .iter()
            .map(|s| (s.key.clone(), s.observed, format!("{:?}", s.sink)))
            .collect::<Vec<_>>()
    };
    let (sub_single, sub_merged) = (subs(&single), subs(&merged));
    assert_eq!(sub_single.len(), 2);
    for ((ka, oa, _), (kb, ob, _)) in sub_single.iter().zip(&sub_merged) {
        assert_eq!((ka, oa), (kb, ob));
    }
    let checks = |e: &MetricsEngine| {
        e.checks()
            .iter()
            .map(|c| (c.path.clone(), c.passes, c.fails))
            .collect::<Vec<_>>()
    };
    assert_eq!(checks(&merged), checks(&single));
    assert_eq!(checks(&single).len(), 2);
    let groups = |e: &MetricsEngine| {
        e.groups()
            .iter()
            .map(|g| g.path.clone())
            .collect::<Vec<_>>()
    };
    assert_eq!(groups(&merged), groups(&single));
    let flat = |e: &MetricsEngine| {
        e.flat_checks()
            .iter()
            .map(|c| (c.name.clone(), c.passes, c.fails))
            .collect::<Vec<_>>()
    };
    assert_eq!(flat(&merged), flat(&single));
}

#[test]
fn a_delta_with_another_metric_type_is_refused() {
    let registry = Arc::new(Registry::new());
    let mut stream = MetricsStream::merging(engine(&registry), Vec::new()).unwrap();
    let other = Arc::new(Registry::new());
    let id = other
        .register("my_trend", MetricType::Counter, ValueType::Default)
        .unwrap();
    let mut runner = MetricsEngine::new(other, None, EngineOptions::default()).unwrap();
    runner.ingest(&[Sample::now(id, tags(&[]), 1.0)]);
    let delta = runner.drain_delta(&mut Shipped::default());
    assert!(stream.merge_delta(delta).is_err());
}

#[test]
fn a_coordinator_refuses_an_output_that_cannot_take_deltas() {
    let registry = Arc::new(Registry::new());
    let json: Box<dyn Output> = Box::new(crate::output::json::JsonOutput::new("/dev/null"));
    match MetricsStream::merging(engine(&registry), vec![json]) {
        Err(e) => assert!(e.to_string().contains("json"), "{e}"),
        Ok(_) => panic!("the json output cannot write merged data"),
    }
}
