//! Sinks: the running aggregate of one metric (or sub-metric), one kind per [`MetricType`].
//!
//! A sink receives sample values (`add`), answers the aggregations thresholds and summaries ask
//! for (`count`, `rate`, `value`, `avg`, `min`, `max`, `med`, `p(N)`), and merges with another sink
//! of the same kind (results of distributed instances). Trend sinks keep every value exactly up
//! to [`TREND_EXACT_CAP`] values, so percentiles follow k6's formula on small tests, then switch to
//! an HDR histogram (3 significant digits) so memory stays bounded on long tests.

use hdrhistogram::Histogram;

use super::registry::MetricType;

/// How many trend values are kept exactly before switching to the HDR histogram.
pub const TREND_EXACT_CAP: usize = 10_000;

/// Trend values are recorded in the histogram as `round(value * HDR_SCALE)`: for millisecond
/// timings that is nanoseconds, i.e. sub-microsecond resolution.
const HDR_SCALE: f64 = 1_000_000.0;

/// Largest scaled value the histogram accepts (values above are clamped; min/max stay exact).
const HDR_MAX: f64 = (u64::MAX / 4) as f64;

/// Why two sinks could not be merged.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SinkError {
    #[error("cannot merge a {other} sink into a {this} sink")]
    KindMismatch {
        this: &'static str,
        other: &'static str,
    },
}

/// Counter: the sum of all values.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct CounterSink {
    pub sum: f64,
    /// Number of samples (0 = empty sink).
    pub samples: u64,
}

/// Gauge: the last value, plus min and max.
#[derive(Clone, Debug, PartialEq)]
pub struct GaugeSink {
    pub last: f64,
    pub min: f64,
    pub max: f64,
    pub samples: u64,
    /// When the last value was taken, if known (merging sinks of several instances keeps the
    /// value with the latest time).
    pub last_at: Option<std::time::SystemTime>,
}

impl Default for GaugeSink {
    fn default() -> Self {
        GaugeSink {
            last: 0.0,
            min: f64::INFINITY,
            max: f64::NEG_INFINITY,
            samples: 0,
            last_at: None,
        }
    }
}

/// Rate: how many samples were non-zero out of how many.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RateSink {
    pub trues: u64,
    pub total: u64,
}

/// Trend: exact count/sum/min/max, exact values up to a cap, an HDR histogram beyond.
#[derive(Clone, Debug)]
pub struct TrendSink {
    count: u64,
    sum: f64,
    min: f64,
    max: f64,
    values: Vec<f64>,
    sorted: bool,
    hist: Option<Box<Histogram<u64>>>,
}

impl Default for TrendSink {
    fn default() -> Self {
        TrendSink {
            count: 0,
            sum: 0.0,
            min: f64::INFINITY,
            max: f64::NEG_INFINITY,
            values: Vec::new(),
            sorted: true,
            hist: None,
        }
    }
}

fn new_hist() -> Box<Histogram<u64>> {
    // 3 significant digits with auto-resize: the constructor only fails for sigfig > 5.
    match Histogram::new(3) {
        Ok(h) => Box::new(h),
        Err(_) => unreachable!("3 significant digits is valid"),
    }
}

/// Records `n` times `v`, growing the histogram as needed (saturating if growing fails).
fn record(h: &mut Histogram<u64>, v: u64, n: u64) {
    if h.record_n(v, n).is_err() {
        h.saturating_record_n(v, n);
    }
}

fn scaled(v: f64) -> u64 {
    let s = (v * HDR_SCALE).round();
    if s.is_nan() || s <= 0.0 {
        0
    } else if s >= HDR_MAX {
        HDR_MAX as u64
    } else {
        s as u64
    }
}

impl TrendSink {
    /// Adds one value.
    pub fn add(&mut self, v: f64) {
        self.count += 1;
        self.sum += v;
        if v < self.min {
            self.min = v;
        }
        if v > self.max {
            self.max = v;
        }
        match &mut self.hist {
            Some(h) => record(h, scaled(v), 1),
            None => {
                if self.sorted && self.values.last().is_some_and(|&l| l > v) {
                    self.sorted = false;
                }
                self.values.push(v);
                if self.values.len() > TREND_EXACT_CAP {
                    self.spill();
                }
            }
        }
    }

    /// Moves the exact values into the histogram.
    fn spill(&mut self) {
        let mut h = self.hist.take().unwrap_or_else(new_hist);
        for v in self.values.drain(..) {
            record(&mut h, scaled(v), 1);
        }
        self.values = Vec::new();
        self.sorted = true;
        self.hist = Some(h);
    }

    /// Number of values.
    pub fn count(&self) -> u64 {
        self.count
    }

    /// Sum of values.
    pub fn sum(&self) -> f64 {
        self.sum
    }

    /// Smallest value (0 when empty, as k6).
    pub fn min(&self) -> f64 {
        if self.count == 0 { 0.0 } else { self.min }
    }

    /// Largest value (0 when empty).
    pub fn max(&self) -> f64 {
        if self.count == 0 { 0.0 } else { self.max }
    }

    /// Mean (0 when empty).
    pub fn avg(&self) -> f64 {
        if self.count == 0 {
            0.0
        } else {
            self.sum / self.count as f64
        }
    }

    /// Median = p(0.5).
    pub fn med(&mut self) -> f64 {
        self.percentile(0.5)
    }

    /// True once the values live in the HDR histogram (percentiles approximate, within 0.1%).
    pub fn is_approximate(&self) -> bool {
        self.hist.is_some()
    }

    /// Percentile `pct` in `[0, 1]`, k6's formula: `i = pct·(n−1)`, linear interpolation between
    /// the sorted neighbours; n=0 → 0, n=1 → the value. Beyond the exact cap, read from the
    /// histogram and clamped into `[min, max]`.
    pub fn percentile(&mut self, pct: f64) -> f64 {
        if self.count == 0 {
            return 0.0;
        }
        if let Some(h) = &self.hist {
            let q = pct.clamp(0.0, 1.0);
            let v = h.value_at_quantile(q) as f64 / HDR_SCALE;
            return v.clamp(self.min, self.max);
        }
        if !self.sorted {
            self.values.sort_unstable_by(f64::total_cmp);
            self.sorted = true;
        }
        exact_percentile(&self.values, pct)
    }

    /// Merges another trend into this one.
    pub fn merge(&mut self, other: &TrendSink) {
        self.count += other.count;
        self.sum += other.sum;
        self.min = self.min.min(other.min);
        self.max = self.max.max(other.max);
        if let Some(oh) = &other.hist {
            if self.hist.is_none() {
                self.spill();
            }
            if let Some(h) = &mut self.hist {
                // Both auto-resize, so add only fails on overflow of counts; saturate then.
                if h.add(oh.as_ref()).is_err() {
                    for v in oh.iter_recorded() {
                        record(h, v.value_iterated_to(), v.count_at_value());
                    }
                }
            }
            self.record_exact_into_hist(&other.values);
            return;
        }
        match &mut self.hist {
            Some(_) => self.record_exact_into_hist(&other.values),
            None => {
                self.values.extend_from_slice(&other.values);
                self.sorted = false;
                if self.values.len() > TREND_EXACT_CAP {
                    self.spill();
                }
            }
        }
    }

    /// The exact values, while the sink has not switched to the histogram.
    pub fn exact_values(&self) -> Option<&[f64]> {
        self.hist.is_none().then_some(self.values.as_slice())
    }

    /// The histogram's recorded buckets as `(highest equivalent scaled value, count)`, plus any
    /// exact values folded in; empty while the sink is exact. Recording these into a histogram
    /// of the same configuration reproduces it bucket for bucket.
    pub fn hist_buckets(&self) -> Vec<(u64, u64)> {
        let mut out = Vec::new();
        if let Some(h) = &self.hist {
            for v in h.iter_recorded() {
                out.push((v.value_iterated_to(), v.count_at_value()));
            }
        }
        out
    }

    /// Every value with its count: the exact values, or the histogram's buckets (each at its
    /// highest equivalent value) once beyond the cap.
    pub fn for_each_value(&self, mut f: impl FnMut(f64, u64)) {
        if let Some(h) = &self.hist {
            for v in h.iter_recorded() {
                f(v.value_iterated_to() as f64 / HDR_SCALE, v.count_at_value());
            }
        }
        for &v in &self.values {
            f(v, 1);
        }
    }

    /// The same sink as a histogram: exact values are folded into the buckets (what a sink
    /// beyond the exact cap holds).
    pub fn to_approximate(&self) -> TrendSink {
        let mut t = self.clone();
        if t.hist.is_none() {
            t.spill();
        }
        t
    }

    /// Rebuilds a sink from its parts (see [`TrendSink::exact_values`] and
    /// [`TrendSink::hist_buckets`]): `buckets` empty means an exact sink holding `values`.
    pub fn from_parts(
        count: u64,
        sum: f64,
        min: f64,
        max: f64,
        values: Vec<f64>,
        buckets: &[(u64, u64)],
    ) -> TrendSink {
        let (hist, values) = if buckets.is_empty() && values.len() <= TREND_EXACT_CAP {
            (None, values)
        } else {
            let mut h = new_hist();
            for &(v, n) in buckets {
                record(&mut h, v, n);
            }
            for &v in &values {
                record(&mut h, scaled(v), 1);
            }
            (Some(h), Vec::new())
        };
        let sorted = values.windows(2).all(|w| w[0] <= w[1]);
        TrendSink {
            count,
            sum,
            min,
            max,
            values,
            sorted,
            hist,
        }
    }

    fn record_exact_into_hist(&mut self, values: &[f64]) {
        if let Some(h) = &mut self.hist {
            for &v in values {
                record(h, scaled(v), 1);
            }
        }
    }
}

/// k6's percentile on sorted values.
fn exact_percentile(sorted: &[f64], pct: f64) -> f64 {
    match sorted.len() {
        0 => 0.0,
        1 => sorted[0],
        n => {
            let i = pct * (n - 1) as f64;
            if i <= 0.0 {
                return sorted[0];
            }
            if i >= (n - 1) as f64 {
                return sorted[n - 1];
            }
            let lo = i.floor();
            let lower = sorted[lo as usize];
            let upper = sorted[i.ceil() as usize];
            lower + (upper - lower) * (i - lo)
        }
    }
}

/// One metric's aggregate.
#[derive(Clone, Debug)]
pub enum Sink {
    Counter(CounterSink),
    Gauge(GaugeSink),
    Rate(RateSink),
    Trend(TrendSink),
}

impl Sink {
    /// An empty sink for a metric type.
    pub fn new(kind: MetricType) -> Self {
        match kind {
            MetricType::Counter => Sink::Counter(CounterSink::default()),
            MetricType::Gauge => Sink::Gauge(GaugeSink::default()),
            MetricType::Rate => Sink::Rate(RateSink::default()),
            MetricType::Trend => Sink::Trend(TrendSink::default()),
        }
    }

    /// The metric type of this sink.
    pub fn kind(&self) -> MetricType {
        match self {
            Sink::Counter(_) => MetricType::Counter,
            Sink::Gauge(_) => MetricType::Gauge,
            Sink::Rate(_) => MetricType::Rate,
            Sink::Trend(_) => MetricType::Trend,
        }
    }

    /// Adds one sample value.
    #[inline]
    pub fn add(&mut self, v: f64) {
        match self {
            Sink::Counter(c) => {
                c.sum += v;
                c.samples += 1;
            }
            Sink::Gauge(g) => {
                g.last = v;
                g.min = g.min.min(v);
                g.max = g.max.max(v);
                g.samples += 1;
            }
            Sink::Rate(r) => {
                r.total += 1;
                if v != 0.0 {
                    r.trues += 1;
                }
            }
            Sink::Trend(t) => t.add(v),
        }
    }

    /// True when no sample was added.
    pub fn is_empty(&self) -> bool {
        match self {
            Sink::Counter(c) => c.samples == 0,
            Sink::Gauge(g) => g.samples == 0,
            Sink::Rate(r) => r.total == 0,
            Sink::Trend(t) => t.count == 0,
        }
    }

    /// Merges `other` (same kind) into this sink. Gauges keep the last value with the latest
    /// `last_at`; without times, `other`'s (the caller merges in time order).
    pub fn merge(&mut self, other: &Sink) -> Result<(), SinkError> {
        match (self, other) {
            (Sink::Counter(a), Sink::Counter(b)) => {
                a.sum += b.sum;
                a.samples += b.samples;
            }
            (Sink::Gauge(a), Sink::Gauge(b)) => {
                let later = match (a.last_at, b.last_at) {
                    (Some(x), Some(y)) => y >= x,
                    _ => true,
                };
                if b.samples > 0 {
                    if a.samples == 0 || later {
                        a.last = b.last;
                        a.last_at = b.last_at.or(a.last_at);
                    }
                    a.min = a.min.min(b.min);
                    a.max = a.max.max(b.max);
                    a.samples += b.samples;
                }
            }
            (Sink::Rate(a), Sink::Rate(b)) => {
                a.trues += b.trues;
                a.total += b.total;
            }
            (Sink::Trend(a), Sink::Trend(b)) => a.merge(b),
            (a, b) => {
                return Err(SinkError::KindMismatch {
                    this: a.kind().as_str(),
                    other: b.kind().as_str(),
                });
            }
        }
        Ok(())
    }

    /// The value of an aggregation as thresholds use it (`count`, `rate`, `value`, `avg`, `min`,
    /// `max`, `med`, `p(N)` with `pct` in 0..1). `None` when the aggregation has no value: wrong
    /// type, or a Rate with no samples (k6's "threshold passes" case).
    pub fn aggregate(&mut self, agg: Aggregation, elapsed_secs: f64) -> Option<f64> {
        match (self, agg) {
            (Sink::Counter(c), Aggregation::Count) => Some(c.sum),
            (Sink::Counter(c), Aggregation::Rate) => Some(rate_per_sec(c.sum, elapsed_secs)),
            (Sink::Gauge(g), Aggregation::Value) => Some(g.last),
            (Sink::Rate(r), Aggregation::Rate) => {
                (r.total > 0).then(|| r.trues as f64 / r.total as f64)
            }
            (Sink::Trend(t), Aggregation::Avg) => Some(t.avg()),
            (Sink::Trend(t), Aggregation::Min) => Some(t.min()),
            (Sink::Trend(t), Aggregation::Max) => Some(t.max()),
            (Sink::Trend(t), Aggregation::Med) => Some(t.med()),
            (Sink::Trend(t), Aggregation::Percentile(p)) => Some(t.percentile(p / 100.0)),
            _ => None,
        }
    }

    /// A trend summary column (`avg`, `min`, `med`, `max`, `count`, `p(N)`); `None` for an
    /// unknown column or a non-trend sink.
    pub fn trend_stat(&mut self, stat: &str) -> Option<f64> {
        let Sink::Trend(t) = self else {
            return None;
        };
        match stat {
            "avg" => Some(t.avg()),
            "min" => Some(t.min()),
            "med" => Some(t.med()),
            "max" => Some(t.max()),
            "count" => Some(t.count as f64),
            _ => parse_percentile_stat(stat).map(|p| t.percentile(p / 100.0)),
        }
    }
}

/// `count / seconds`, 0 for a zero duration.
pub fn rate_per_sec(count: f64, elapsed_secs: f64) -> f64 {
    if elapsed_secs > 0.0 {
        count / elapsed_secs
    } else {
        0.0
    }
}

/// Parses `p(N)` into N.
pub fn parse_percentile_stat(s: &str) -> Option<f64> {
    let inner = s.strip_prefix("p(")?.strip_suffix(')')?;
    let v: f64 = inner.trim().parse().ok()?;
    v.is_finite().then_some(v)
}

/// A threshold aggregation method.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Aggregation {
    Count,
    Rate,
    Value,
    Avg,
    Min,
    Max,
    Med,
    /// `p(N)` with N in percent (0..100).
    Percentile(f64),
}

impl Aggregation {
    /// k6's method name (`p` for percentiles), as used in error messages.
    pub fn method(&self) -> &'static str {
        match self {
            Aggregation::Count => "count",
            Aggregation::Rate => "rate",
            Aggregation::Value => "value",
            Aggregation::Avg => "avg",
            Aggregation::Min => "min",
            Aggregation::Max => "max",
            Aggregation::Med => "med",
            Aggregation::Percentile(_) => "p",
        }
    }

    /// The aggregation key as k6 shows it (`p(95)`, `p(99.9)`, `avg`).
    pub fn key(&self) -> String {
        match self {
            Aggregation::Percentile(p) => format!("p({})", format_g(*p)),
            other => other.method().to_string(),
        }
    }

    /// True when `kind` supports this aggregation (k6's `supportedAggregationMethods`).
    pub fn supported_by(&self, kind: MetricType) -> bool {
        match self {
            Aggregation::Percentile(_) => kind == MetricType::Trend,
            other => supported_methods(kind).contains(&other.method()),
        }
    }
}

/// The aggregation methods a metric type supports, in k6's order.
pub fn supported_methods(kind: MetricType) -> &'static [&'static str] {
    match kind {
        MetricType::Counter => &["count", "rate"],
        MetricType::Gauge => &["value"],
        MetricType::Rate => &["rate"],
        MetricType::Trend => &["avg", "min", "max", "med", "p(N)"],
    }
}

/// Go's `%g` for the numbers that appear in percentile keys (shortest representation).
pub fn format_g(v: f64) -> String {
    // Rust's Display is the shortest round-trip representation, as %g for ordinary magnitudes.
    format!("{v}")
}

#[cfg(test)]
mod tests;
