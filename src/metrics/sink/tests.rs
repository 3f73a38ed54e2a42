use super::*;

fn trend(values: &[f64]) -> TrendSink {
    let mut t = TrendSink::default();
    for &v in values {
        t.add(v);
    }
    t
}

#[test]
fn percentile_small_inputs_follow_k6() {
    assert_eq!(trend(&[]).percentile(0.95), 0.0);
    assert_eq!(trend(&[7.0]).percentile(0.95), 7.0);
    let mut t = trend(&[4.0, 1.0, 3.0, 2.0]);
    // i = 0.5·3 = 1.5 → 2 + (3−2)·0.5
    assert_eq!(t.med(), 2.5);
    // i = 0.95·3 = 2.85 → 3 + 0.85
    assert!((t.percentile(0.95) - 3.85).abs() < 1e-12);
    assert_eq!(t.percentile(0.0), 1.0);
    assert_eq!(t.percentile(1.0), 4.0);
    assert_eq!(t.avg(), 2.5);
    assert_eq!((t.min(), t.max(), t.count()), (1.0, 4.0, 4));
}

#[test]
fn percentile_large_inputs_within_tenth_of_percent() {
    let n = 200_000u32;
    let mut t = TrendSink::default();
    let mut exact = Vec::with_capacity(n as usize);
    // A deterministic spread over 0.01 ms .. 2000 ms, inserted out of order.
    for i in 0..n {
        let k = (i.wrapping_mul(7919)) % n;
        let v = 0.01 + (k as f64 / n as f64).powi(3) * 2000.0;
        t.add(v);
        exact.push(v);
    }
    assert!(t.is_approximate());
    exact.sort_by(f64::total_cmp);
    for p in [0.5, 0.9, 0.95, 0.99, 0.999] {
        let want = exact_percentile(&exact, p);
        let got = t.percentile(p);
        assert!(((got - want) / want).abs() < 0.001, "p{p}: {got} vs {want}");
    }
    assert_eq!(t.min(), exact[0]);
    assert_eq!(t.max(), exact[exact.len() - 1]);
    assert_eq!(t.count(), n as u64);
}

#[test]
fn sinks_merge() {
    let mut a = Sink::new(MetricType::Counter);
    a.add(2.0);
    let mut b = Sink::new(MetricType::Counter);
    b.add(3.0);
    a.merge(&b).unwrap();
    assert_eq!(a.aggregate(Aggregation::Count, 1.0), Some(5.0));
    assert_eq!(a.aggregate(Aggregation::Rate, 2.0), Some(2.5));

    let mut g1 = Sink::new(MetricType::Gauge);
    g1.add(5.0);
    let mut g2 = Sink::new(MetricType::Gauge);
    g2.add(1.0);
    g2.add(3.0);
    g1.merge(&g2).unwrap();
    let Sink::Gauge(g) = &g1 else { panic!() };
    assert_eq!((g.last, g.min, g.max), (3.0, 1.0, 5.0));

    let mut r1 = Sink::new(MetricType::Rate);
    r1.add(1.0);
    let mut r2 = Sink::new(MetricType::Rate);
    r2.add(0.0);
    r1.merge(&r2).unwrap();
    assert_eq!(r1.aggregate(Aggregation::Rate, 1.0), Some(0.5));

    let mut t1 = Sink::Trend(trend(&[1.0, 2.0]));
    let t2 = Sink::Trend(trend(&[3.0, 4.0]));
    t1.merge(&t2).unwrap();
    assert_eq!(t1.aggregate(Aggregation::Med, 1.0), Some(2.5));
    assert!(t1.merge(&r1).is_err());
}

#[test]
fn trend_merge_across_cap_uses_histogram() {
    let big: Vec<f64> = (0..TREND_EXACT_CAP + 5).map(|i| i as f64).collect();
    let mut a = Sink::Trend(trend(&big));
    let b = Sink::Trend(trend(&[1.0, 2.0, 3.0]));
    let mut b2 = b.clone();
    b2.merge(&a).unwrap();
    a.merge(&b).unwrap();
    for s in [&mut a, &mut b2] {
        let Sink::Trend(t) = s else { panic!() };
        assert_eq!(t.count(), (TREND_EXACT_CAP + 8) as u64);
        let med = t.med();
        assert!((med - 5000.0).abs() / 5000.0 < 0.002, "{med}");
    }
}

#[test]
fn empty_rate_has_no_value() {
    let mut r = Sink::new(MetricType::Rate);
    assert!(r.is_empty());
    assert_eq!(r.aggregate(Aggregation::Rate, 1.0), None);
    let mut t = Sink::new(MetricType::Trend);
    assert_eq!(t.aggregate(Aggregation::Percentile(95.0), 1.0), Some(0.0));
}

#[test]
fn percentile_keys() {
    assert_eq!(Aggregation::Percentile(95.0).key(), "p(95)");
    assert_eq!(Aggregation::Percentile(99.9).key(), "p(99.9)");
    assert_eq!(parse_percentile_stat("p(99.9)"), Some(99.9));
    assert_eq!(parse_percentile_stat("avg"), None);
}
