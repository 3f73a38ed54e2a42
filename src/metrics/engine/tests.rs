use super::*;
use serde_json::json;

fn tags(pairs: &[(&str, &str)]) -> Arc<TagSet> {
    Arc::new(pairs.iter().copied().collect())
}

fn sample(metric: MetricId, t: &Arc<TagSet>, value: f64) -> Sample {
    Sample::now(metric, t.clone(), value)
}

fn engine(th: serde_json::Value) -> MetricsEngine {
    MetricsEngine::new(
        Arc::new(Registry::new()),
        Some(&th),
        EngineOptions::default(),
    )
    .unwrap()
}

#[test]
fn submetrics_match_by_subset() {
    let mut e = engine(json!({
        "http_req_duration{status:200}": ["p(95)<100"],
        "http_req_duration{status:404}": ["max<1"],
    }));
    let ok = tags(&[
        ("status", "200"),
        ("method", "GET"),
        ("expected_response", "true"),
    ]);
    let bad = tags(&[("status", "500"), ("expected_response", "false")]);
    e.ingest(&[
        sample(builtin::HTTP_REQ_DURATION, &ok, 10.0),
        sample(builtin::HTTP_REQ_DURATION, &ok, 20.0),
        sample(builtin::HTTP_REQ_DURATION, &bad, 500.0),
    ]);
    let subs = e.submetrics();
    let by_key = |k: &str| subs.iter().find(|s| s.key == k).unwrap();
    let Sink::Trend(t) = &by_key("http_req_duration{status:200}").sink else {
        panic!()
    };
    assert_eq!(t.count(), 2);
    let er = by_key("http_req_duration{expected_response:true}");
    assert!(er.observed);
    let nf = by_key("http_req_duration{status:404}");
    assert!(nf.observed && nf.sink.is_empty());
    let ev = e.evaluate(Duration::from_secs(1), true);
    assert!(!ev.failed, "{ev:?}");
    assert_eq!(ev.thresholds.len(), 2);
    assert_eq!(ev.thresholds[1].observed, Some(0.0));
}

#[test]
fn failed_names_sorted_and_values_exposed() {
    let mut e = engine(json!({
        "http_reqs": ["count>100"],
        "http_req_duration": ["p(95)<300", "avg<1000"],
        "checks": ["rate>0.9"],
    }));
    let t = tags(&[("status", "200")]);
    e.ingest(&[
        sample(builtin::HTTP_REQS, &t, 1.0),
        sample(builtin::HTTP_REQ_DURATION, &t, 412.0),
    ]);
    let ev = e.evaluate(Duration::from_secs(1), true);
    assert!(ev.failed);
    assert_eq!(ev.failed_metrics, vec!["http_req_duration", "http_reqs"]);
    let p95 = &ev.thresholds[1];
    assert_eq!(
        (p95.aggregation.as_str(), p95.ok, p95.observed),
        ("p(95)", false, Some(412.0))
    );
    assert_eq!(p95.contains, ValueType::Time);
    // checks never sampled: an empty Rate passes.
    assert!(ev.thresholds[3].ok);
    assert_eq!(
        ev.crossed_message().unwrap(),
        "thresholds on metrics 'http_req_duration, http_reqs' have been crossed"
    );
}

#[test]
fn periodic_evaluation_skips_empty_and_aborts_after_delay() {
    let mut e = engine(json!({
        "http_req_failed": [{"threshold": "rate<0.01", "abortOnFail": true, "delayAbortEval": "5s"}],
        "http_req_duration": ["p(95)>1000"],
    }));
    let ev = e.evaluate(Duration::from_secs(2), false);
    assert!(!ev.failed && !ev.should_abort);
    let t = tags(&[]);
    e.ingest(&[sample(builtin::HTTP_REQ_FAILED, &t, 1.0)]);
    let ev = e.evaluate(Duration::from_secs(2), false);
    assert!(ev.failed && !ev.should_abort);
    let ev = e.evaluate(Duration::from_secs(6), false);
    assert!(ev.should_abort);
    assert_eq!(ev.abort_metrics, vec!["http_req_failed"]);
    assert!(ev.abort_message().unwrap().contains("abortOnFail enabled"));
    // The empty trend was skipped during the run, judged at the end.
    assert!(ev.thresholds[1].ok);
    let ev = e.evaluate(Duration::from_secs(7), true);
    assert!(!ev.thresholds[1].ok && !ev.should_abort);
}

#[test]
fn check_tree_in_first_seen_order() {
    let mut e = engine(json!({}));
    let root = tags(&[("check", "root ok")]);
    let a = tags(&[("check", "status"), ("group", "::api")]);
    let ab = tags(&[("check", "inner"), ("group", "::api::inner")]);
    let same_name = tags(&[("check", "status"), ("group", "")]);
    let gd = tags(&[("group", "::other")]);
    e.ingest(&[
        sample(builtin::CHECKS, &a, 1.0),
        sample(builtin::CHECKS, &a, 0.0),
        sample(builtin::CHECKS, &ab, 1.0),
        sample(builtin::GROUP_DURATION, &gd, 3.0),
        sample(builtin::CHECKS, &root, 1.0),
        sample(builtin::CHECKS, &same_name, 1.0),
    ]);
    let g = e.groups();
    assert_eq!(g[0].groups.len(), 2);
    let api = &g[g[0].groups[0]];
    assert_eq!((api.name.as_str(), api.path.as_str()), ("api", "::api"));
    assert_eq!(g[api.groups[0]].path, "::api::inner");
    assert_eq!(g[g[0].groups[1]].name, "other");
    let c = &e.checks()[api.checks[0]];
    assert_eq!(
        (c.path.as_str(), c.passes, c.fails),
        ("::api::status", 1, 1)
    );
    let root_checks: Vec<&str> = g[0]
        .checks
        .iter()
        .map(|&i| e.checks()[i].path.as_str())
        .collect();
    assert_eq!(root_checks, vec!["::root ok", "::status"]);
    let flat: Vec<(&str, u64, u64)> = e
        .flat_checks()
        .iter()
        .map(|c| (c.name.as_str(), c.passes, c.fails))
        .collect();
    assert_eq!(
        flat,
        vec![("status", 2, 1), ("inner", 1, 0), ("root ok", 1, 0)]
    );
}

#[test]
fn custom_metrics_registered_later_are_picked_up() {
    let reg = Arc::new(Registry::new());
    let mut e = MetricsEngine::new(reg.clone(), None, EngineOptions::default()).unwrap();
    let id = reg
        .register("late", MetricType::Counter, ValueType::Default)
        .unwrap();
    e.ingest(&[sample(id, &tags(&[]), 2.0)]);
    let m = &e.metrics()[id.0 as usize];
    assert!(m.observed);
    assert_eq!(m.def.name, "late");
}

#[test]
fn invalid_thresholds_are_all_reported() {
    let errs = MetricsEngine::new(
        Arc::new(Registry::new()),
        Some(&json!({"nosuch": ["avg<1"], "http_reqs": ["p(95)<1"]})),
        EngineOptions::default(),
    )
    .unwrap_err();
    assert_eq!(errs.len(), 2);
}
