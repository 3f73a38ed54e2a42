//! The engine's side of distributed runs: a runner drains what it aggregated into a
//! [`MetricsDelta`]; the coordinator merges deltas into its engine, so thresholds, the summary and
//! everything else read the merged state as if one engine had seen every sample.

use std::collections::HashMap;

use super::{MetricsEngine, Sink};
use crate::metrics::builtin;
use crate::metrics::delta::{CheckDelta, MetricDelta, MetricsDelta, SubMetricDelta, WireSink};
use crate::metrics::sink::TREND_EXACT_CAP;

/// Why a delta could not be merged completely (the rest of it was).
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum MergeError {
    #[error("metric '{name}' is a {here} here but a {there} in the delta")]
    KindMismatch {
        name: String,
        here: &'static str,
        there: &'static str,
    },
    #[error("metric '{0}' cannot be registered: {1}")]
    Register(String, String),
}

/// Cumulative trend counts already shipped, per metric or sub-metric key: a sender ships exact
/// values until its own total passes the exact cap, HDR buckets after (bounded reports; the
/// merged result is the same either way).
#[derive(Debug, Default)]
pub struct Shipped {
    trend_counts: HashMap<String, u64>,
}

impl Shipped {
    fn encode(&mut self, key: &str, sink: &Sink) -> WireSink {
        let approximate = match sink {
            Sink::Trend(t) => {
                let total = self.trend_counts.entry(key.to_string()).or_default();
                *total += t.count();
                *total > TREND_EXACT_CAP as u64
            }
            _ => false,
        };
        WireSink::encode(sink, approximate)
    }
}

impl MetricsEngine {
    /// Takes everything aggregated since the last drain, leaving empty sinks and zero check
    /// counts behind. `vus` and `vus_max` are left out: they are per-instance gauges that the
    /// coordinator sums across instances instead of merging.
    pub fn drain_delta(&mut self, shipped: &mut Shipped) -> MetricsDelta {
        let mut delta = MetricsDelta::default();
        for m in &mut self.metrics {
            let id = m.def.name.as_str();
            if m.sink.is_empty() || id == "vus" || id == "vus_max" {
                continue;
            }
            let sink = std::mem::replace(&mut m.sink, Sink::new(m.def.kind));
            delta.metrics.push(MetricDelta {
                name: m.def.name.clone(),
                contains: m.def.contains,
                sink: shipped.encode(&m.def.name, &sink),
            });
        }
        for s in &mut self.subs {
            if s.sink.is_empty() {
                continue;
            }
            let kind = s.sink.kind();
            let sink = std::mem::replace(&mut s.sink, Sink::new(kind));
            delta.submetrics.push(SubMetricDelta {
                key: s.key.clone(),
                sink: shipped.encode(&s.key, &sink),
            });
        }
        for g in &self.groups {
            for &c in &g.checks {
                let node = &mut self.checks[c];
                if node.passes + node.fails == 0 {
                    continue;
                }
                delta.checks.push(CheckDelta {
                    group: g.path.clone(),
                    name: node.name.clone(),
                    passes: std::mem::take(&mut node.passes),
                    fails: std::mem::take(&mut node.fails),
                });
            }
        }
        for c in &mut self.flat_checks {
            c.passes = 0;
            c.fails = 0;
        }
        delta.groups = self.groups.iter().skip(1).map(|g| g.path.clone()).collect();
        delta
    }

    /// Merges a delta from another instance. Unknown metrics are registered with the delta's
    /// type; sub-metrics this engine does not track are ignored (no threshold needs them). Every
    /// part that can merge is merged; the first problem is returned.
    pub fn merge_delta(&mut self, delta: &MetricsDelta) -> Result<(), MergeError> {
        let mut first_error = None;
        for g in &delta.groups {
            self.group_index(g);
        }
        for m in &delta.metrics {
            let kind = m.sink.kind();
            let id = match self.registry.register(&m.name, kind, m.contains) {
                Ok(id) => id,
                Err(e) => {
                    first_error.get_or_insert(match self.registry.lookup(&m.name) {
                        Some(id) => MergeError::KindMismatch {
                            name: m.name.clone(),
                            here: self.registry.get(id).map_or("metric", |d| d.kind.as_str()),
                            there: kind.as_str(),
                        },
                        None => MergeError::Register(m.name.clone(), e.to_string()),
                    });
                    continue;
                }
            };
            if id == builtin::VUS || id == builtin::VUS_MAX {
                continue;
            }
            let idx = id.0 as usize;
            if idx >= self.metrics.len() {
                self.sync_registry();
            }
            let Some(state) = self.metrics.get_mut(idx) else {
                continue;
            };
            if state.sink.merge(&m.sink.decode()).is_ok() {
                state.observed = true;
            }
        }
        for s in &delta.submetrics {
            let Some(&i) = self.sub_by_key.get(&s.key) else {
                tracing::debug!(key = %s.key, "sub-metric not tracked here; its delta is ignored");
                continue;
            };
            let sub = &mut self.subs[i];
            if sub.sink.merge(&s.sink.decode()).is_ok() {
                sub.observed = true;
            }
        }
        for c in &delta.checks {
            self.record_check(&c.group, &c.name, c.passes, c.fails);
        }
        match first_error {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests;
