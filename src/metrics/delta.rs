//! Metric deltas: what one instance of a distributed test aggregated since its last report, in a
//! form that crosses the wire and merges exactly.
//!
//! A runner drains its engine into a [`MetricsDelta`] ([`crate::metrics::engine::MetricsEngine::drain_delta`]);
//! the coordinator merges deltas into its engine (`merge_delta`). Everything is keyed by name
//! (metric ids differ between instances): metrics by name with their type, sub-metrics by their
//! `name{tags}` key, checks by group path and name. Floats travel as their IEEE bits, so nothing
//! is rounded on the way (and NaN or infinities survive). Trends travel as exact values while the
//! sender is below the exact cap, else as HDR buckets, which add up bucket for bucket: merged
//! percentiles are those of one engine fed every sample. Deltas of one sender can be coalesced
//! ([`MetricsDelta::absorb`]) when a report could not be delivered: merging is associative.

use std::collections::HashMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use super::registry::{MetricType, ValueType};
use super::sink::{CounterSink, GaugeSink, RateSink, Sink, TrendSink};

/// A sink on the wire.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum WireSink {
    Counter {
        sum: u64,
        samples: u64,
    },
    Gauge {
        last: u64,
        min: u64,
        max: u64,
        samples: u64,
        /// Unix time of the last value in nanoseconds (0: unknown).
        last_at_ns: u64,
    },
    Rate {
        trues: u64,
        total: u64,
    },
    Trend {
        count: u64,
        sum: u64,
        min: u64,
        max: u64,
        /// Exact values (f64 bits), when `buckets` is empty.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        values: Vec<u64>,
        /// HDR buckets `(scaled value, count)`.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        buckets: Vec<(u64, u64)>,
    },
}

fn bits(v: f64) -> u64 {
    v.to_bits()
}

fn float(b: u64) -> f64 {
    f64::from_bits(b)
}

fn time_ns(t: Option<SystemTime>) -> u64 {
    t.and_then(|t| t.duration_since(UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_nanos().min(u128::from(u64::MAX)) as u64)
}

fn ns_time(ns: u64) -> Option<SystemTime> {
    (ns > 0).then(|| UNIX_EPOCH + Duration::from_nanos(ns))
}

impl WireSink {
    /// Encodes a sink; `approximate` sends a trend as HDR buckets even while it is exact.
    pub fn encode(sink: &Sink, approximate: bool) -> WireSink {
        match sink {
            Sink::Counter(c) => WireSink::Counter {
                sum: bits(c.sum),
                samples: c.samples,
            },
            Sink::Gauge(g) => WireSink::Gauge {
                last: bits(g.last),
                min: bits(g.min),
                max: bits(g.max),
                samples: g.samples,
                last_at_ns: time_ns(g.last_at),
            },
            Sink::Rate(r) => WireSink::Rate {
                trues: r.trues,
                total: r.total,
            },
            Sink::Trend(t) => {
                let approx;
                let t = if approximate && !t.is_approximate() {
                    approx = t.to_approximate();
                    &approx
                } else {
                    t
                };
                WireSink::Trend {
                    count: t.count(),
                    sum: bits(t.sum()),
                    min: bits(if t.count() == 0 {
                        f64::INFINITY
                    } else {
                        t.min()
                    }),
                    max: bits(if t.count() == 0 {
                        f64::NEG_INFINITY
                    } else {
                        t.max()
                    }),
                    values: t
                        .exact_values()
                        .map(|v| v.iter().map(|&x| bits(x)).collect())
                        .unwrap_or_default(),
                    buckets: t.hist_buckets(),
                }
            }
        }
    }

    /// Decodes into a sink.
    pub fn decode(&self) -> Sink {
        match self {
            WireSink::Counter { sum, samples } => Sink::Counter(CounterSink {
                sum: float(*sum),
                samples: *samples,
            }),
            WireSink::Gauge {
                last,
                min,
                max,
                samples,
                last_at_ns,
            } => Sink::Gauge(GaugeSink {
                last: float(*last),
                min: float(*min),
                max: float(*max),
                samples: *samples,
                last_at: ns_time(*last_at_ns),
            }),
            WireSink::Rate { trues, total } => Sink::Rate(RateSink {
                trues: *trues,
                total: *total,
            }),
            WireSink::Trend {
                count,
                sum,
                min,
                max,
                values,
                buckets,
            } => Sink::Trend(TrendSink::from_parts(
                *count,
                float(*sum),
                float(*min),
                float(*max),
                values.iter().map(|&b| float(b)).collect(),
                buckets,
            )),
        }
    }

    /// The metric type this sink belongs to.
    pub fn kind(&self) -> MetricType {
        match self {
            WireSink::Counter { .. } => MetricType::Counter,
            WireSink::Gauge { .. } => MetricType::Gauge,
            WireSink::Rate { .. } => MetricType::Rate,
            WireSink::Trend { .. } => MetricType::Trend,
        }
    }

    /// Number of samples it holds.
    pub fn samples(&self) -> u64 {
        match self {
            WireSink::Counter { samples, .. } | WireSink::Gauge { samples, .. } => *samples,
            WireSink::Rate { total, .. } => *total,
            WireSink::Trend { count, .. } => *count,
        }
    }
}

/// One metric's part of a delta.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MetricDelta {
    pub name: String,
    pub contains: ValueType,
    pub sink: WireSink,
}

/// One sub-metric's part of a delta (`key` is `name{k:v}` as in thresholds).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SubMetricDelta {
    pub key: String,
    pub sink: WireSink,
}

/// One check's new passes and fails.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckDelta {
    /// The group path (`::a::b`, empty for the root).
    pub group: String,
    pub name: String,
    pub passes: u64,
    pub fails: u64,
}

/// What one instance aggregated since its last report. See the module docs.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct MetricsDelta {
    pub metrics: Vec<MetricDelta>,
    pub submetrics: Vec<SubMetricDelta>,
    pub checks: Vec<CheckDelta>,
    /// Group paths seen (so groups without checks still appear in the tree).
    pub groups: Vec<String>,
}

fn merge_wire(into: &mut WireSink, other: &WireSink) {
    let mut a = into.decode();
    let b = other.decode();
    if a.merge(&b).is_ok() {
        let approximate = matches!(into, WireSink::Trend { buckets, .. } if !buckets.is_empty())
            || matches!(other, WireSink::Trend { buckets, .. } if !buckets.is_empty());
        *into = WireSink::encode(&a, approximate);
    }
}

impl MetricsDelta {
    /// True when it carries nothing.
    pub fn is_empty(&self) -> bool {
        self.metrics.is_empty()
            && self.submetrics.is_empty()
            && self.checks.is_empty()
            && self.groups.is_empty()
    }

    /// Adds a later delta of the same sender into this one (an undelivered report is coalesced
    /// with the next). Sinks of another type under the same name are dropped (they cannot merge).
    pub fn absorb(&mut self, later: MetricsDelta) {
        let at: HashMap<String, usize> = self
            .metrics
            .iter()
            .enumerate()
            .map(|(i, m)| (m.name.clone(), i))
            .collect();
        for m in later.metrics {
            match at.get(&m.name) {
                Some(&i) => merge_wire(&mut self.metrics[i].sink, &m.sink),
                None => self.metrics.push(m),
            }
        }
        let at: HashMap<String, usize> = self
            .submetrics
            .iter()
            .enumerate()
            .map(|(i, m)| (m.key.clone(), i))
            .collect();
        for m in later.submetrics {
            match at.get(&m.key) {
                Some(&i) => merge_wire(&mut self.submetrics[i].sink, &m.sink),
                None => self.submetrics.push(m),
            }
        }
        for c in later.checks {
            match self
                .checks
                .iter_mut()
                .find(|x| x.group == c.group && x.name == c.name)
            {
                Some(x) => {
                    x.passes += c.passes;
                    x.fails += c.fails;
                }
                None => self.checks.push(c),
            }
        }
        for g in later.groups {
            if !self.groups.contains(&g) {
                self.groups.push(g);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_sink_kind_round_trips_through_json() {
        let mut trend = Sink::new(MetricType::Trend);
        for v in [3.25, 1.0, 7.5, f64::MAX / 1e300] {
            trend.add(v);
        }
        let mut gauge = Sink::new(MetricType::Gauge);
        gauge.add(4.0);
        if let Sink::Gauge(g) = &mut gauge {
            g.last_at = Some(UNIX_EPOCH + Duration::from_nanos(1_700_000_000_123_456_789));
        }
        let mut counter = Sink::new(MetricType::Counter);
        counter.add(0.1);
        counter.add(0.2);
        let mut rate = Sink::new(MetricType::Rate);
        rate.add(1.0);
        rate.add(0.0);
        for (sink, approx) in [
            (&trend, false),
            (&trend, true),
            (&gauge, false),
            (&counter, false),
            (&rate, false),
        ] {
            let wire = WireSink::encode(sink, approx);
            let text = serde_json::to_string(&wire).unwrap();
            let back: WireSink = serde_json::from_str(&text).unwrap();
            assert_eq!(back, wire);
            let mut decoded = back.decode();
            let mut original = if approx {
                let Sink::Trend(t) = sink else { panic!() };
                Sink::Trend(t.to_approximate())
            } else {
                sink.clone()
            };
            for stat in ["avg", "min", "max", "med", "p(95)", "count"] {
                assert_eq!(
                    decoded.trend_stat(stat),
                    original.trend_stat(stat),
                    "{stat}"
                );
            }
            if let (Sink::Gauge(a), Sink::Gauge(b)) = (&decoded, &original) {
                assert_eq!(a, b);
            }
            if let (Sink::Counter(a), Sink::Counter(b)) = (&decoded, &original) {
                assert_eq!(a, b);
            }
        }
    }

    #[test]
    fn absorbing_adds_up() {
        let mut c = Sink::new(MetricType::Counter);
        c.add(2.0);
        let d = |n: u64| MetricsDelta {
            metrics: vec![MetricDelta {
                name: "iterations".into(),
                contains: ValueType::Default,
                sink: WireSink::encode(&c, false),
            }],
            checks: vec![CheckDelta {
                group: String::new(),
                name: "ok".into(),
                passes: n,
                fails: 1,
            }],
            ..Default::default()
        };
        let mut a = d(3);
        a.absorb(d(4));
        assert_eq!(
            a.metrics[0].sink,
            WireSink::Counter {
                sum: 4.0f64.to_bits(),
                samples: 2
            }
        );
        assert_eq!((a.checks[0].passes, a.checks[0].fails), (7, 2));
    }
}
