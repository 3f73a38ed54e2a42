//! Property: random splits of one sample stream over N runner engines, drained at random moments,
//! coalesced when a report is "not delivered", carried through JSON and merged in arrival order,
//! give exactly what one engine fed the whole stream gives.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::json;

use super::Shipped;
use crate::metrics::delta::MetricsDelta;
use crate::metrics::engine::{EngineOptions, MetricsEngine};
use crate::metrics::{MetricId, MetricType, Registry, Sample, TagSet, ValueType, builtin};

struct Ids {
    counter: MetricId,
    rate: MetricId,
    gauge: MetricId,
    trend: MetricId,
}

/// A registry with the custom metrics registered in an order of its own (ids differ between
/// instances, as they do between processes).
fn registry(order: usize) -> (Arc<Registry>, Ids) {
    let r = Arc::new(Registry::new());
    let mut defs = vec![
        ("my_counter", MetricType::Counter, ValueType::Default),
        ("my_rate", MetricType::Rate, ValueType::Default),
        ("my_gauge", MetricType::Gauge, ValueType::Default),
        ("my_trend", MetricType::Trend, ValueType::Time),
    ];
    let n = defs.len();
    defs.rotate_left(order % n);
    for (n, k, c) in defs {
        r.register(n, k, c).unwrap();
    }
    let id = |n| r.lookup(n).unwrap();
    let ids = Ids {
        counter: id("my_counter"),
        rate: id("my_rate"),
        gauge: id("my_gauge"),
        trend: id("my_trend"),
    };
    (r, ids)
}

fn thresholds() -> serde_json::Value {
    json!({
        "http_req_duration": ["p(95)<250", "avg<100", "med>1"],
        "http_req_duration{status:200}": ["p(99)<300", "max<400"],
        "my_trend": ["p(90)<50"],
        "my_counter": ["count==1000"],
        "my_rate": ["rate>0.5"],
        "my_gauge": ["value>3"],
        "checks": ["rate>0.9"],
        "http_reqs": ["count>10"],
    })
}

fn engine(order: usize) -> (MetricsEngine, Ids) {
    let (r, ids) = registry(order);
    let th = thresholds();
    let e = MetricsEngine::new(r, Some(&th), EngineOptions::default()).unwrap();
    (e, ids)
}

/// One abstract sample: which metric, value, tags; mapped to ids per engine.
#[derive(Clone)]
enum Kind {
    HttpReqs,
    Duration,
    Counter,
    Rate,
    Gauge,
    Trend,
    Check,
}

#[derive(Clone)]
struct Abstract {
    kind: Kind,
    value: f64,
    tags: Arc<TagSet>,
    time: SystemTime,
}

fn stream(rng: &mut StdRng, n: usize) -> Vec<Abstract> {
    let base = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
    let tagsets: Vec<Arc<TagSet>> = [
        vec![("status", "200"), ("expected_response", "true")],
        vec![("status", "404"), ("expected_response", "false")],
        vec![
            ("status", "200"),
            ("expected_response", "true"),
            ("group", "::a"),
        ],
        vec![("group", "::a::b"), ("check", "is ok")],
        vec![("group", ""), ("check", "is ok")],
        vec![("group", "::a"), ("check", "body")],
    ]
    .into_iter()
    .map(|p| Arc::new(p.into_iter().collect()))
    .collect();
    (0..n)
        .map(|i| {
            let time = base + Duration::from_micros(i as u64 * 37);
            let (kind, value, tags) = match rng.gen_range(0..7) {
                0 => (Kind::HttpReqs, 1.0, tagsets[rng.gen_range(0..3)].clone()),
                1 => (
                    Kind::Duration,
                    // A heavy tail with many ties and sub-millisecond parts.
                    (rng.gen_range(0.0f64..1.0).powi(3) * 500.0 * 1000.0).round() / 1000.0,
                    tagsets[rng.gen_range(0..3)].clone(),
                ),
                2 => (
                    Kind::Counter,
                    rng.gen_range(0..5) as f64,
                    tagsets[0].clone(),
                ),
                3 => (Kind::Rate, f64::from(rng.gen_bool(0.7)), tagsets[0].clone()),
                4 => (Kind::Gauge, rng.gen_range(-10.0..10.0), tagsets[1].clone()),
                5 => (Kind::Trend, rng.gen_range(0.0..100.0), tagsets[2].clone()),
                _ => (
                    Kind::Check,
                    f64::from(rng.gen_bool(0.95)),
                    tagsets[rng.gen_range(3..6)].clone(),
                ),
            };
            Abstract {
                kind,
                value,
                tags,
                time,
            }
        })
        .collect()
}

fn concrete(a: &Abstract, ids: &Ids) -> Sample {
    let metric = match a.kind {
        Kind::HttpReqs => builtin::HTTP_REQS,
        Kind::Duration => builtin::HTTP_REQ_DURATION,
        Kind::Counter => ids.counter,
        Kind::Rate => ids.rate,
        Kind::Gauge => ids.gauge,
        Kind::Trend => ids.trend,
        Kind::Check => builtin::CHECKS,
    };
    Sample {
        metric,
        tags: a.tags.clone(),
        value: a.value,
        time: a.time,
        metadata: None,
    }
}

fn through_json(d: &MetricsDelta) -> MetricsDelta {
    serde_json::from_str(&serde_json::to_string(d).unwrap()).unwrap()
}

fn close(a: f64, b: f64) -> bool {
    a == b || (a - b).abs() <= 1e-12 * a.abs().max(b.abs())
}

fn assert_same(single: &mut MetricsEngine, merged: &mut MetricsEngine, case: &str) {
    let stats = [
        "count", "min", "max", "med", "p(0)", "p(50)", "p(90)", "p(95)", "p(99)", "p(99.9)",
        "p(100)",
    ];
    let names: Vec<String> = single
        .metrics()
        .iter()
        .filter(|m| !m.sink.is_empty())
        .map(|m| m.def.name.clone())
        .collect();
    for name in names {
        let sid = single.registry().lookup(&name).unwrap();
        let mid = merged.registry().lookup(&name).unwrap();
        let (sm, _) = single.states_mut();
        let mut s = sm[sid.0 as usize].sink.clone();
        let (mm, _) = merged.states_mut();
        let mut m = mm[mid.0 as usize].sink.clone();
        match (&s, &m) {
            (crate::metrics::sink::Sink::Trend(a), crate::metrics::sink::Sink::Trend(b)) => {
                assert!(close(a.avg(), b.avg()), "{case} {name} avg");
                assert_eq!(a.is_approximate(), b.is_approximate(), "{case} {name}");
            }
            (a, b) => assert_eq!(format!("{a:?}"), format!("{b:?}"), "{case} {name}"),
        }
        for st in stats {
            assert_eq!(s.trend_stat(st), m.trend_stat(st), "{case} {name} {st}");
        }
    }
    let (_, ssubs) = single.states_mut();
    let mut ssubs: Vec<_> = ssubs
        .iter()
        .map(|s| (s.key.clone(), s.sink.clone()))
        .collect();
    let (_, msubs) = merged.states_mut();
    let mut msubs: Vec<_> = msubs
        .iter()
        .map(|s| (s.key.clone(), s.sink.clone()))
        .collect();
    assert_eq!(ssubs.len(), msubs.len());
    for ((ka, a), (kb, b)) in ssubs.iter_mut().zip(msubs.iter_mut()) {
        assert_eq!(ka, kb);
        for st in stats {
            assert_eq!(a.trend_stat(st), b.trend_stat(st), "{case} {ka} {st}");
        }
    }
    let tree = |e: &MetricsEngine| {
        let mut v: Vec<_> = e
            .checks()
            .iter()
            .map(|c| (c.path.clone(), c.passes, c.fails))
            .collect();
        v.sort();
        let mut g: Vec<_> = e.groups().iter().map(|g| g.path.clone()).collect();
        g.sort();
        (v, g)
    };
    assert_eq!(tree(single), tree(merged), "{case} checks");
    let el = Duration::from_secs(10);
    let a = single.evaluate(el, true);
    let b = merged.evaluate(el, true);
    assert_eq!(a.failed, b.failed, "{case}");
    assert_eq!(a.failed_metrics, b.failed_metrics, "{case}");
    for (x, y) in a.thresholds.iter().zip(&b.thresholds) {
        assert_eq!((&x.metric, &x.source, x.ok), (&y.metric, &y.source, y.ok));
        match (x.observed, y.observed) {
            (Some(p), Some(q)) => assert!(close(p, q), "{case} {} {p} {q}", x.source),
            (p, q) => assert_eq!(p, q),
        }
    }
}

fn run_case(seed: u64, n: usize, runners: usize) -> bool {
    let mut rng = StdRng::seed_from_u64(seed);
    let all = stream(&mut rng, n);
    let (mut single, sids) = engine(0);
    for a in &all {
        single.ingest(&[concrete(a, &sids)]);
    }

    let (mut merged, _) = engine(1);
    let mut fleet: Vec<(MetricsEngine, Ids, Shipped, Option<MetricsDelta>)> = (0..runners)
        .map(|i| {
            let (e, ids) = engine(i + 2);
            (e, ids, Shipped::default(), None)
        })
        .collect();
    let deliver = |merged: &mut MetricsEngine, pending: &mut Option<MetricsDelta>| {
        if let Some(d) = pending.take() {
            merged.merge_delta(&through_json(&d)).unwrap();
        }
    };
    for a in &all {
        let r = rng.gen_range(0..runners);
        let (e, ids, shipped, pending) = &mut fleet[r];
        e.ingest(&[concrete(a, ids)]);
        if rng.gen_range(0..200) == 0 {
            let d = e.drain_delta(shipped);
            match pending {
                Some(p) => p.absorb(d),
                None => *pending = Some(d),
            }
            // One report in three is "lost" and coalesced with the next.
            if rng.gen_range(0..3) != 0 {
                deliver(&mut merged, pending);
            }
        }
    }
    for (e, _, shipped, pending) in &mut fleet {
        let d = e.drain_delta(shipped);
        match pending {
            Some(p) => p.absorb(d),
            None => *pending = Some(d),
        }
        deliver(&mut merged, pending);
    }
    assert_same(
        &mut single,
        &mut merged,
        &format!("seed {seed} n {n} runners {runners}"),
    );
    matches!(&single.metrics()[builtin::HTTP_REQ_DURATION.0 as usize].sink,
        crate::metrics::sink::Sink::Trend(t) if t.is_approximate())
}

#[test]
fn random_splits_merge_to_the_single_engine_result() {
    for seed in 0..6 {
        assert!(!run_case(seed, 3_000, 2 + seed as usize % 3));
    }
}

#[test]
fn random_splits_merge_exactly_beyond_the_exact_cap() {
    // ~11k durations and ~11k custom trend values: both sides switch to HDR.
    assert!(run_case(42, 80_000, 4));
}

#[test]
fn a_runner_s_vus_gauges_stay_out_of_its_deltas() {
    let (mut e, _) = engine(0);
    let t = Arc::new(TagSet::new());
    e.ingest(&[
        Sample::now(builtin::VUS, t.clone(), 5.0),
        Sample::now(builtin::VUS_MAX, t.clone(), 5.0),
        Sample::now(builtin::ITERATIONS, t, 1.0),
    ]);
    let d = e.drain_delta(&mut Shipped::default());
    let names: Vec<&str> = d.metrics.iter().map(|m| m.name.as_str()).collect();
    assert_eq!(names, ["iterations"]);
    assert!(e.drain_delta(&mut Shipped::default()).metrics.is_empty());
}
