use std::time::{Duration, UNIX_EPOCH};

use prost::Message;

use super::*;
use crate::metrics::builtin;
use crate::output::prometheus::{client, proto};

fn tags(pairs: &[(&str, &str)]) -> Arc<TagSet> {
    Arc::new(pairs.iter().copied().collect())
}

fn at(ms: u64, metric: MetricId, t: &Arc<TagSet>, value: f64) -> Sample {
    Sample {
        metric,
        tags: t.clone(),
        value,
        time: UNIX_EPOCH + Duration::from_millis(ms),
        metadata: None,
    }
}

/// Encodes, compresses, decompresses and decodes, as Prometheus would.
fn roundtrip(series: Vec<TimeSeries>) -> proto::WriteRequest {
    let body = client::encode(&proto::WriteRequest { timeseries: series }).unwrap();
    let raw = snap::raw::Decoder::new().decompress_vec(&body).unwrap();
    proto::WriteRequest::decode(raw.as_slice()).unwrap()
}

fn labels(ts: &TimeSeries) -> Vec<(&str, &str)> {
    ts.labels
        .iter()
        .map(|l| (l.name.as_str(), l.value.as_str()))
        .collect()
}

fn find<'a>(req: &'a proto::WriteRequest, name: &str) -> &'a TimeSeries {
    req.timeseries
        .iter()
        .find(|t| {
            t.labels
                .iter()
                .any(|l| l.name == "__name__" && l.value == name)
        })
        .unwrap_or_else(|| panic!("no series {name}"))
}

fn aggregator(stats: &[&str], native: bool) -> Aggregator {
    let stats: Vec<String> = stats.iter().map(|s| s.to_string()).collect();
    let extra = ExtraLabels {
        overrides: [("project", "sockshop"), ("job", "carts-sockshop-dev")]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        defaults: [("testid", "generated")]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
    };
    Aggregator::new(Arc::new(Registry::new()), &stats, native, extra)
}

#[test]
fn names_labels_values_like_k6() {
    let mut agg = aggregator(
        &[
            "p(95)", "p(99.9)", "min", "max", "avg", "med", "count", "sum",
        ],
        false,
    );
    let req_tags = tags(&[
        ("method", "GET"),
        ("status", "200"),
        ("url", "http://127.0.0.1/x"),
        ("testid", "run42"),
        ("Upper", "u"),
        ("empty", ""),
    ]);
    let test_tags = tags(&[]);
    agg.add(&[
        at(1_000, builtin::HTTP_REQS, &req_tags, 1.0),
        at(1_001, builtin::HTTP_REQ_DURATION, &req_tags, 100.0),
        at(1_002, builtin::HTTP_REQ_DURATION, &req_tags, 300.0),
        at(1_002, builtin::HTTP_REQS, &req_tags, 1.0),
        at(1_003, builtin::HTTP_REQ_FAILED, &req_tags, 0.0),
        at(1_004, builtin::HTTP_REQ_FAILED, &req_tags, 1.0),
        at(1_005, builtin::VUS, &test_tags, 3.0),
        at(1_006, builtin::VUS, &test_tags, 5.0),
        at(1_007, builtin::DATA_SENT, &test_tags, 10.5),
    ]);
    let req = roundtrip(agg.collect());
    let total = find(&req, "k6_http_reqs_total");
    assert_eq!(total.samples[0].value, 2.0);
    assert_eq!(total.samples[0].timestamp, 1_002);
    // Sorted by byte order (`Upper` < `__name__` < lowercase); the sample's testid wins over
    // the default; empty values are dropped; overrides added.
    assert_eq!(
        labels(total),
        vec![
            ("Upper", "u"),
            ("__name__", "k6_http_reqs_total"),
            ("job", "carts-sockshop-dev"),
            ("method", "GET"),
            ("project", "sockshop"),
            ("status", "200"),
            ("testid", "run42"),
            ("url", "http://127.0.0.1/x"),
        ]
    );
    let value = |name: &str| find(&req, name).samples[0].value;
    // Time trends in seconds; count stays a count.
    assert!((value("k6_http_req_duration_p95") - 0.29).abs() < 1e-9);
    assert!((value("k6_http_req_duration_p999") - 0.2998).abs() < 1e-9);
    assert_eq!(value("k6_http_req_duration_min"), 0.1);
    assert_eq!(value("k6_http_req_duration_max"), 0.3);
    assert_eq!(value("k6_http_req_duration_avg"), 0.2);
    assert_eq!(value("k6_http_req_duration_med"), 0.2);
    assert_eq!(value("k6_http_req_duration_count"), 2.0);
    assert_eq!(value("k6_http_req_duration_sum"), 0.4);
    assert_eq!(value("k6_http_req_failed_rate"), 0.5);
    assert_eq!(value("k6_vus"), 5.0);
    assert_eq!(value("k6_data_sent_total"), 10.5);
    assert_eq!(
        labels(find(&req, "k6_vus")),
        vec![
            ("__name__", "k6_vus"),
            ("job", "carts-sockshop-dev"),
            ("project", "sockshop"),
            ("testid", "generated"),
        ]
    );
    assert_eq!(req.timeseries.len(), 1 + 8 + 1 + 1 + 1);
    for ts in &req.timeseries {
        let names: Vec<&str> = ts.labels.iter().map(|l| l.name.as_str()).collect();
        let mut sorted = names.clone();
        sorted.sort();
        assert_eq!(names, sorted);
    }
}

#[test]
fn only_series_with_newer_samples_are_pushed_and_values_are_cumulative() {
    let mut agg = aggregator(&["p(95)"], false);
    let a = tags(&[("name", "a")]);
    let b = tags(&[("name", "b")]);
    agg.add(&[
        at(10, builtin::ITERATIONS, &a, 1.0),
        at(10, builtin::ITERATIONS, &b, 1.0),
    ]);
    assert_eq!(agg.collect().len(), 2);
    assert!(agg.collect().is_empty(), "nothing new");
    // Same millisecond again: not newer, not pushed (no duplicate timestamps per series).
    agg.add(&[at(10, builtin::ITERATIONS, &a, 1.0)]);
    assert!(agg.collect().is_empty());
    agg.add(&[at(20, builtin::ITERATIONS, &a, 1.0)]);
    let req = roundtrip(agg.collect());
    assert_eq!(req.timeseries.len(), 1);
    assert_eq!(req.timeseries[0].samples[0].value, 3.0);
    assert_eq!(req.timeseries[0].samples[0].timestamp, 20);
    assert_eq!(agg.series_count(), 2);
}

#[test]
fn stale_markers_for_every_series_name() {
    let mut agg = aggregator(&["p(95)", "max"], false);
    let t = tags(&[]);
    agg.add(&[
        at(5, builtin::HTTP_REQ_DURATION, &t, 1.0),
        at(5, builtin::CHECKS, &t, 1.0),
    ]);
    let req = roundtrip(agg.stale_markers(99));
    assert_eq!(req.timeseries.len(), 3);
    for ts in &req.timeseries {
        assert!(super::super::stale::is_stale(ts.samples[0].value));
        assert_eq!(ts.samples[0].timestamp, 99);
    }
    find(&req, "k6_checks_rate");
    find(&req, "k6_http_req_duration_max");
}

#[test]
fn native_histograms_for_trends() {
    let mut agg = aggregator(&["p(95)"], true);
    let t = tags(&[]);
    let custom = agg
        .registry
        .register("sizes", MetricType::Trend, ValueType::Data)
        .unwrap();
    agg.add(&[
        at(5, builtin::HTTP_REQ_DURATION, &t, 1500.0),
        at(5, builtin::HTTP_REQ_DURATION, &t, 3000.0),
        at(6, builtin::HTTP_REQ_DURATION, &t, 3500.0),
        at(6, custom, &t, 2048.0),
        at(6, builtin::HTTP_REQS, &t, 1.0),
    ]);
    let req = roundtrip(agg.collect());
    assert_eq!(req.timeseries.len(), 3);
    let h = &find(&req, "k6_http_req_duration_seconds").histograms[0];
    assert_eq!(h.count, Some(proto::HistogramCount::CountInt(3)));
    assert_eq!(h.sum, 8.0);
    assert_eq!(h.schema, 3);
    assert_eq!(h.timestamp, 6);
    assert!(
        find(&req, "k6_http_req_duration_seconds")
            .samples
            .is_empty()
    );
    assert_eq!(
        find(&req, "k6_sizes_bytes").histograms[0].count,
        Some(proto::HistogramCount::CountInt(1))
    );
    assert_eq!(find(&req, "k6_http_reqs_total").samples[0].value, 1.0);
    // Stale markers for native series are float samples.
    let stale = roundtrip(agg.stale_markers(7));
    assert!(
        stale
            .timeseries
            .iter()
            .all(|t| t.samples.len() == 1 && t.histograms.is_empty())
    );
}

#[test]
fn label_names_are_made_valid_and_suffixes_follow_k6() {
    assert_eq!(label_name("my-tag.x"), "my_tag_x");
    assert_eq!(label_name("1st"), "_1st");
    assert_eq!(
        TrendStat::parse("p(99.9)").map(|s| s.1),
        Some("p999".to_string())
    );
    assert_eq!(
        TrendStat::parse("p(95)").map(|s| s.0),
        Some(TrendStat::Percentile(95.0))
    );
    assert_eq!(
        TrendStat::parse("avg").map(|s| s.1),
        Some("avg".to_string())
    );
    assert!(TrendStat::parse("p95").is_none());
}

/// A coordinator's remote write of merged deltas writes, per metric, the series one instance
/// would write for the same samples without per-request tags.
#[test]
fn merged_deltas_write_the_series_samples_write() {
    use crate::metrics::engine::{EngineOptions, MetricsEngine, Shipped};
    let none = tags(&[]);
    let samples: Vec<Sample> = (0..300u64)
        .flat_map(|i| {
            [
                at(1_000 + i, builtin::HTTP_REQS, &none, 1.0),
                at(
                    1_000 + i,
                    builtin::HTTP_REQ_DURATION,
                    &none,
                    ((i * 13) % 97) as f64,
                ),
                at(
                    1_000 + i,
                    builtin::HTTP_REQ_FAILED,
                    &none,
                    (i % 4 == 0) as u8 as f64,
                ),
            ]
        })
        .collect();
    for native in [false, true] {
        let stats = ["p(95)", "p(99)", "min", "max", "avg", "med", "count"];
        let mut single = aggregator(&stats, native);
        single.add(&samples);
        let mut merged = aggregator(&stats, native);
        let mut runners: Vec<(MetricsEngine, Shipped)> = (0..2)
            .map(|_| {
                let e =
                    MetricsEngine::new(Arc::new(Registry::new()), None, EngineOptions::default());
                (e.unwrap(), Shipped::default())
            })
            .collect();
        for (i, chunk) in samples.chunks(8).enumerate() {
            let (engine, shipped) = &mut runners[i % 2];
            engine.ingest(chunk);
            if i % 10 == 9 {
                merged.merge(
                    &engine.drain_delta(shipped),
                    UNIX_EPOCH + Duration::from_millis(1_299),
                );
            }
        }
        for (engine, shipped) in &mut runners {
            merged.merge(
                &engine.drain_delta(shipped),
                UNIX_EPOCH + Duration::from_millis(1_299),
            );
        }
        let (a, b) = (roundtrip(single.collect()), roundtrip(merged.collect()));
        assert!(a.timeseries.len() >= 3, "{}", a.timeseries.len());
        let key = |ts: &TimeSeries| format!("{:?}", labels(ts));
        let mut a: Vec<_> = a.timeseries.iter().map(|t| (key(t), t.clone())).collect();
        let mut b: Vec<_> = b.timeseries.iter().map(|t| (key(t), t.clone())).collect();
        a.sort_by(|x, y| x.0.cmp(&y.0));
        b.sort_by(|x, y| x.0.cmp(&y.0));
        // A sum is added in another order: equal up to rounding, then compared.
        for ((_, x), (_, y)) in a.iter_mut().zip(b.iter_mut()) {
            for (hx, hy) in x.histograms.iter_mut().zip(y.histograms.iter_mut()) {
                assert!(
                    (hx.sum - hy.sum).abs() <= 1e-9 * hx.sum.abs(),
                    "{hx:?} {hy:?}"
                );
                hy.sum = hx.sum;
            }
            for (px, py) in x.samples.iter().zip(y.samples.iter_mut()) {
                assert!(
                    (px.value - py.value).abs() <= 1e-9 * px.value.abs(),
                    "{px:?} {py:?}"
                );
                py.value = px.value;
            }
        }
        assert_eq!(a, b, "native histograms: {native}");
    }
}
