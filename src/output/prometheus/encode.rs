//! Samples -> aggregated series -> remote-write [`proto::TimeSeries`], named as k6's
//! `experimental-prometheus-rw` output names them (k6.md §7.3). Receives sample batches (on the
//! output's aggregator task) and the registry; emits, per push, one point per series that got a
//! newer sample since the last push, and at the end optional stale markers.
//!
//! One series = metric + tag set. Counters are cumulative (`k6_<m>_total`), gauges the last value
//! (`k6_<m>`), rates cumulative (`k6_<m>_rate`), trends one gauge per stat (`k6_<m>_p95`, ...) over
//! every sample since the start, time trends in seconds, or a native histogram
//! (`k6_<m>_seconds`, `_bytes`). Deliberate difference from k6: `_count` is a plain count (k6
//! divides it by 1000 for time trends, a quirk no dashboard reads).

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use super::histogram::NativeHistogram;
use super::proto::{Label, Sample as PromSample, TimeSeries};
use crate::metrics::delta::MetricsDelta;
use crate::metrics::sink::{Sink, parse_percentile_stat};
use crate::metrics::{MetricId, MetricType, Registry, Sample, TagSet, ValueType};

/// Every metric name gets this prefix.
pub const NAME_PREFIX: &str = "k6_";

/// One trend statistic written as a gauge.
#[derive(Clone, Debug, PartialEq)]
pub enum TrendStat {
    Count,
    Sum,
    Min,
    Max,
    Avg,
    Med,
    /// `p(N)`, N in percent.
    Percentile(f64),
}

impl TrendStat {
    /// Parses `count`, `sum`, `min`, `max`, `avg`, `med`, `p(N)`; `None` otherwise.
    pub fn parse(s: &str) -> Option<(Self, String)> {
        let stat = match s {
            "count" => TrendStat::Count,
            "sum" => TrendStat::Sum,
            "min" => TrendStat::Min,
            "max" => TrendStat::Max,
            "avg" => TrendStat::Avg,
            "med" => TrendStat::Med,
            _ => TrendStat::Percentile(parse_percentile_stat(s)?),
        };
        // k6: `p(99.9)` -> `p999` (parentheses and dots removed).
        let suffix: String = s
            .chars()
            .filter(|c| !matches!(c, '(' | ')' | '.'))
            .collect();
        Some((stat, suffix))
    }
}

/// Labels added to every series besides the sample's tags.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ExtraLabels {
    /// Set on every series, replacing a tag of the same name (the service's identity labels).
    pub overrides: BTreeMap<String, String>,
    /// Set only where the sample has no tag of that name (a generated `testid`).
    pub defaults: BTreeMap<String, String>,
}

enum Value {
    Sink(Sink),
    Native(NativeHistogram),
}

struct Series {
    kind: MetricType,
    contains: ValueType,
    /// `k6_<metric>`.
    base: String,
    /// Sorted labels with a `__name__` entry at `name_at` (its value is filled per point).
    labels: Vec<Label>,
    name_at: usize,
    value: Value,
    last_ms: i64,
    pushed_ms: i64,
}

/// The per-series state of one test.
pub struct Aggregator {
    stats: Vec<(TrendStat, String)>,
    native: bool,
    extra: ExtraLabels,
    registry: Arc<Registry>,
    metrics: Vec<Option<(String, MetricType, ValueType)>>,
    /// Every distinct tag set, numbered: hashed once per new `Arc` (the samples of one request
    /// share one), not once per sample.
    tag_sets: HashMap<Arc<TagSet>, u32>,
    /// Series by (metric, tag-set number): a cheap key.
    index: HashMap<(MetricId, u32), usize>,
    series: Vec<Series>,
    /// The last tag set seen and its number (the `Arc` kept here pins the pointer, so `ptr_eq`
    /// cannot match a different, reallocated set).
    last_tags: Option<(Arc<TagSet>, u32)>,
    /// The empty tag set of merged whole-test series.
    test_wide: Arc<TagSet>,
    /// Samples go into the whole-test series too (a scale-out coordinator's own samples).
    whole_test: bool,
}

/// Milliseconds since the Unix epoch, truncated.
pub fn millis(t: SystemTime) -> i64 {
    t.duration_since(UNIX_EPOCH)
        .unwrap_or(Duration::ZERO)
        .as_millis() as i64
}

/// A valid Prometheus label name: invalid characters become `_`, a leading digit gets a `_`.
pub fn label_name(name: &str) -> String {
    let mut out: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    if out.starts_with(|c: char| c.is_ascii_digit()) {
        out.insert(0, '_');
    }
    out
}

impl Aggregator {
    /// An empty aggregator; `trend_stats` must be valid (see [`super::config::valid_trend_stat`]).
    pub fn new(
        registry: Arc<Registry>,
        trend_stats: &[String],
        native: bool,
        extra: ExtraLabels,
    ) -> Self {
        Aggregator {
            stats: trend_stats
                .iter()
                .filter_map(|s| TrendStat::parse(s))
                .collect(),
            native,
            extra,
            registry,
            metrics: Vec::new(),
            tag_sets: HashMap::new(),
            index: HashMap::new(),
            series: Vec::new(),
            last_tags: None,
            test_wide: Arc::new(TagSet::new()),
            whole_test: false,
        }
    }

    /// Aggregates samples into the whole-test series (see [`Aggregator::merge`]) when `on`.
    pub fn whole_test(mut self, on: bool) -> Self {
        self.whole_test = on;
        self
    }

    /// Number of series seen so far.
    pub fn series_count(&self) -> usize {
        self.series.len()
    }

    fn metric(&mut self, id: MetricId) -> Option<(String, MetricType, ValueType)> {
        let i = id.0 as usize;
        if let Some(Some(m)) = self.metrics.get(i) {
            return Some(m.clone());
        }
        let m = self.registry.get(id)?;
        if self.metrics.len() <= i {
            self.metrics.resize(i + 1, None);
        }
        let entry = (m.name, m.kind, m.contains);
        self.metrics[i] = Some(entry.clone());
        Some(entry)
    }

    fn labels_for(&self, tags: &TagSet) -> (Vec<Label>, usize) {
        let mut map: BTreeMap<String, String> = BTreeMap::new();
        for (k, v) in &self.extra.defaults {
            map.insert(label_name(k), v.clone());
        }
        for (k, v) in tags.iter() {
            if !k.is_empty() && !v.is_empty() {
                map.insert(label_name(k), v.to_string());
            }
        }
        for (k, v) in &self.extra.overrides {
            map.insert(label_name(k), v.clone());
        }
        map.retain(|k, v| !v.is_empty() && k != "__name__");
        map.insert("__name__".to_string(), String::new());
        let labels: Vec<Label> = map
            .into_iter()
            .map(|(name, value)| Label { name, value })
            .collect();
        let name_at = labels
            .iter()
            .position(|l| l.name == "__name__")
            .unwrap_or(0);
        (labels, name_at)
    }

    /// Aggregates a batch.
    pub fn add(&mut self, samples: &[Sample]) {
        let test_wide = self.test_wide.clone();
        for s in samples {
            let tags = if self.whole_test { &test_wide } else { &s.tags };
            if let Some(idx) = self.series_index(s.metric, tags) {
                self.observe(idx, s);
            }
        }
    }

    /// Merges a runner's delta (a scale-out coordinator's input). A delta holds whole-metric
    /// aggregates, not per-tag series, so each metric is written as one series with only the
    /// extra labels: the merged test's numbers (percentiles cannot be summed in PromQL).
    /// Metrics are matched by name in the registry (the metrics engine registers unknown ones
    /// before outputs see a delta).
    pub fn merge(&mut self, delta: &MetricsDelta, time: SystemTime) {
        let test_wide = self.test_wide.clone();
        for d in &delta.metrics {
            let Some(id) = self.registry.lookup(&d.name) else {
                continue;
            };
            let Some(idx) = self.series_index(id, &test_wide) else {
                continue;
            };
            let sink = d.sink.decode();
            let series = &mut self.series[idx];
            match (&mut series.value, &sink) {
                (Value::Sink(into), other) => {
                    if let Err(e) = into.merge(other) {
                        tracing::warn!(metric = %d.name, "remote write: {e}");
                        continue;
                    }
                }
                (Value::Native(h), Sink::Trend(t)) => {
                    let secs = series.contains == ValueType::Time;
                    t.for_each_value(|v, n| h.observe_n(if secs { v / 1000.0 } else { v }, n));
                }
                (Value::Native(_), other) => {
                    tracing::warn!(
                        metric = %d.name,
                        "remote write: a {} delta for a trend series ignored",
                        other.kind().as_str()
                    );
                    continue;
                }
            }
            series.last_ms = series.last_ms.max(millis(time));
        }
    }

    /// The series of (metric, tags), created on first use; `None` for an unknown metric.
    fn series_index(&mut self, metric: MetricId, tags: &Arc<TagSet>) -> Option<usize> {
        let tag_set = match &self.last_tags {
            Some((t, n)) if Arc::ptr_eq(t, tags) => *n,
            _ => {
                let next = self.tag_sets.len() as u32;
                let n = *self.tag_sets.entry(tags.clone()).or_insert(next);
                self.last_tags = Some((tags.clone(), n));
                n
            }
        };
        let key = (metric, tag_set);
        if let Some(&i) = self.index.get(&key) {
            return Some(i);
        }
        let (name, kind, contains) = self.metric(metric)?;
        let (labels, name_at) = self.labels_for(tags);
        let value = if kind == MetricType::Trend && self.native {
            Value::Native(NativeHistogram::default())
        } else {
            Value::Sink(Sink::new(kind))
        };
        self.series.push(Series {
            kind,
            contains,
            base: format!("{NAME_PREFIX}{name}"),
            labels,
            name_at,
            value,
            last_ms: i64::MIN,
            pushed_ms: i64::MIN,
        });
        self.index.insert(key, self.series.len() - 1);
        Some(self.series.len() - 1)
    }

    fn observe(&mut self, idx: usize, s: &Sample) {
        let series = &mut self.series[idx];
        match &mut series.value {
            Value::Sink(sink) => sink.add(s.value),
            Value::Native(h) => h.observe(if series.contains == ValueType::Time {
                s.value / 1000.0
            } else {
                s.value
            }),
        }
        series.last_ms = series.last_ms.max(millis(s.time));
    }

    /// One point per series that got a newer (ms) sample since the last call.
    pub fn collect(&mut self) -> Vec<TimeSeries> {
        let mut out = Vec::new();
        for series in &mut self.series {
            if series.last_ms <= series.pushed_ms {
                continue;
            }
            series.pushed_ms = series.last_ms;
            points(series, &self.stats, &mut out);
        }
        out
    }

    /// A stale marker at `at_ms` for every name of every series ever seen.
    pub fn stale_markers(&self, at_ms: i64) -> Vec<TimeSeries> {
        let mut out = Vec::new();
        for series in &self.series {
            for name in names(series, &self.stats) {
                out.push(TimeSeries {
                    labels: with_name(series, name),
                    samples: vec![PromSample {
                        value: super::stale::stale_nan(),
                        timestamp: at_ms,
                    }],
                    histograms: Vec::new(),
                });
            }
        }
        out
    }
}

fn with_name(series: &Series, name: String) -> Vec<Label> {
    let mut labels = series.labels.clone();
    labels[series.name_at].value = name;
    labels
}

/// The `__name__`s a series is written under.
fn names(series: &Series, stats: &[(TrendStat, String)]) -> Vec<String> {
    match (&series.value, series.kind) {
        (Value::Native(_), _) => vec![native_name(series)],
        (_, MetricType::Counter) => vec![format!("{}_total", series.base)],
        (_, MetricType::Gauge) => vec![series.base.clone()],
        (_, MetricType::Rate) => vec![format!("{}_rate", series.base)],
        (_, MetricType::Trend) => stats
            .iter()
            .map(|(_, suffix)| format!("{}_{suffix}", series.base))
            .collect(),
    }
}

fn native_name(series: &Series) -> String {
    match series.contains {
        ValueType::Time => format!("{}_seconds", series.base),
        ValueType::Data => format!("{}_bytes", series.base),
        ValueType::Default => series.base.clone(),
    }
}

fn points(series: &mut Series, stats: &[(TrendStat, String)], out: &mut Vec<TimeSeries>) {
    let ts = series.last_ms;
    let float = |labels: Vec<Label>, value: f64| TimeSeries {
        labels,
        samples: vec![PromSample {
            value,
            timestamp: ts,
        }],
        histograms: Vec::new(),
    };
    let base = series.base.clone();
    let values: Vec<(String, f64)> = match &mut series.value {
        Value::Native(h) => {
            let point = h.to_proto(ts);
            out.push(TimeSeries {
                labels: with_name(series, native_name(series)),
                samples: Vec::new(),
                histograms: vec![point],
            });
            return;
        }
        Value::Sink(Sink::Counter(c)) => vec![(format!("{base}_total"), c.sum)],
        Value::Sink(Sink::Gauge(g)) => vec![(base, g.last)],
        Value::Sink(Sink::Rate(r)) => {
            let v = if r.total == 0 {
                0.0
            } else {
                r.trues as f64 / r.total as f64
            };
            vec![(format!("{base}_rate"), v)]
        }
        Value::Sink(Sink::Trend(t)) => {
            let time = series.contains == ValueType::Time;
            stats
                .iter()
                .map(|(stat, suffix)| {
                    let v = match stat {
                        TrendStat::Count => t.count() as f64,
                        TrendStat::Sum => t.sum(),
                        TrendStat::Min => t.min(),
                        TrendStat::Max => t.max(),
                        TrendStat::Avg => t.avg(),
                        TrendStat::Med => t.med(),
                        TrendStat::Percentile(p) => t.percentile(p / 100.0),
                    };
                    let v = if time && *stat != TrendStat::Count {
                        v / 1000.0
                    } else {
                        v
                    };
                    (format!("{base}_{suffix}"), v)
                })
                .collect()
        }
    };
    for (name, v) in values {
        out.push(float(with_name(series, name), v));
    }
}

#[cfg(test)]
#[path = "encode_tests.rs"]
mod tests;
