//! The metrics engine: the single aggregator of a test run.
//!
//! Receives sample batches (`ingest`); keeps one sink per metric, one per sub-metric that
//! thresholds reference (plus `http_req_duration{expected_response:true}`), the group/check tree
//! built from `checks` and `group_duration` samples, and which metrics are observed. Emits
//! threshold [`Evaluation`]s and read access for the end-of-test summary.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;

use super::registry::{Metric, MetricId, MetricType, Registry, ValueType, builtin};
use super::sample::Sample;
use super::sink::Sink;
use super::tags::TagSet;
use super::thresholds::{
    Evaluation, ThresholdError, ThresholdOutcome, ThresholdState, parse_and_validate,
};

/// Engine options.
#[derive(Clone, Debug)]
pub struct EngineOptions {
    /// Create `http_req_duration{expected_response:true}` (k6 does when the `expected_response`
    /// system tag is enabled, the default).
    pub expected_response_submetric: bool,
}

impl Default for EngineOptions {
    fn default() -> Self {
        EngineOptions {
            expected_response_submetric: true,
        }
    }
}

/// One metric's state.
#[derive(Debug)]
pub struct MetricState {
    pub def: Metric,
    pub sink: Sink,
    /// Has samples or is referenced by thresholds.
    pub observed: bool,
    pub thresholds: Vec<ThresholdState>,
    /// Indices into the engine's sub-metrics.
    subs: Vec<usize>,
}

/// One sub-metric (`name{k:v}`).
#[derive(Debug)]
pub struct SubMetricState {
    /// `parent{inner}` as k6 names it.
    pub key: String,
    pub parent: MetricId,
    pub filter: TagSet,
    pub sink: Sink,
    pub observed: bool,
    pub thresholds: Vec<ThresholdState>,
}

/// A group of the check tree (`root` has an empty name and path).
#[derive(Clone, Debug, PartialEq)]
pub struct GroupNode {
    pub name: String,
    /// `::a::b`; empty for the root.
    pub path: String,
    /// Child groups (indices into [`MetricsEngine::groups`]) in first-seen order.
    pub groups: Vec<usize>,
    /// Checks (indices into [`MetricsEngine::checks`]) in first-seen order.
    pub checks: Vec<usize>,
}

/// One check of one group.
#[derive(Clone, Debug, PartialEq)]
pub struct CheckNode {
    pub name: String,
    /// `<group path>::<name>`.
    pub path: String,
    pub passes: u64,
    pub fails: u64,
}

/// Where a threshold lives.
#[derive(Clone, Copy, Debug)]
enum Target {
    Metric(usize, usize),
    Sub(usize, usize),
}

/// The aggregator. See the module docs.
#[derive(Debug)]
pub struct MetricsEngine {
    registry: Arc<Registry>,
    metrics: Vec<MetricState>,
    subs: Vec<SubMetricState>,
    sub_by_key: HashMap<String, usize>,
    order: Vec<Target>,
    groups: Vec<GroupNode>,
    group_by_path: HashMap<String, usize>,
    checks: Vec<CheckNode>,
    /// Checks merged by name across groups, first-seen order (k6's compact summary list).
    flat_checks: Vec<CheckNode>,
    flat_by_name: HashMap<String, usize>,
}

impl MetricsEngine {
    /// Creates the engine and validates `thresholds` (the raw `options.thresholds` value)
    /// against the registry, returning every problem.
    pub fn new(
        registry: Arc<Registry>,
        thresholds: Option<&Value>,
        opts: EngineOptions,
    ) -> Result<Self, Vec<ThresholdError>> {
        let resolved = match thresholds {
            Some(v) => parse_and_validate(v, &registry)?,
            None => Vec::new(),
        };
        let mut engine = MetricsEngine {
            registry,
            metrics: Vec::new(),
            subs: Vec::new(),
            sub_by_key: HashMap::new(),
            order: Vec::new(),
            groups: vec![GroupNode {
                name: String::new(),
                path: String::new(),
                groups: Vec::new(),
                checks: Vec::new(),
            }],
            group_by_path: HashMap::from([(String::new(), 0)]),
            checks: Vec::new(),
            flat_checks: Vec::new(),
            flat_by_name: HashMap::new(),
        };
        engine.sync_registry();
        if opts.expected_response_submetric {
            let filter: TagSet = [("expected_response", "true")].into_iter().collect();
            engine.sub_index(
                builtin::HTTP_REQ_DURATION,
                "http_req_duration{expected_response:true}",
                filter,
            );
        }
        for r in resolved {
            let idx = r.id.0 as usize;
            if idx >= engine.metrics.len() {
                engine.sync_registry();
            }
            let Some(state) = engine.metrics.get_mut(idx) else {
                continue;
            };
            state.observed = true;
            let states: Vec<ThresholdState> = r
                .parsed
                .thresholds
                .into_iter()
                .map(ThresholdState::new)
                .collect();
            match r.parsed.filter {
                None => {
                    let state = &mut engine.metrics[idx];
                    let base = state.thresholds.len();
                    for i in 0..states.len() {
                        engine.order.push(Target::Metric(idx, base + i));
                    }
                    state.thresholds.extend(states);
                }
                Some(filter) => {
                    let s = engine.sub_index(r.id, &r.parsed.key, filter);
                    let sub = &mut engine.subs[s];
                    sub.observed = true;
                    let base = sub.thresholds.len();
                    for i in 0..states.len() {
                        engine.order.push(Target::Sub(s, base + i));
                    }
                    sub.thresholds.extend(states);
                }
            }
        }
        Ok(engine)
    }

    /// Picks up metrics registered since the last call (custom metrics from init contexts).
    fn sync_registry(&mut self) {
        let all = self.registry.all();
        for def in all.into_iter().skip(self.metrics.len()) {
            let sink = Sink::new(def.kind);
            self.metrics.push(MetricState {
                def,
                sink,
                observed: false,
                thresholds: Vec::new(),
                subs: Vec::new(),
            });
        }
    }

    fn sub_index(&mut self, parent: MetricId, key: &str, filter: TagSet) -> usize {
        if let Some(&i) = self.sub_by_key.get(key) {
            return i;
        }
        let kind = self
            .metrics
            .get(parent.0 as usize)
            .map_or(MetricType::Trend, |m| m.def.kind);
        let i = self.subs.len();
        self.subs.push(SubMetricState {
            key: key.to_string(),
            parent,
            filter,
            sink: Sink::new(kind),
            observed: false,
            thresholds: Vec::new(),
        });
        self.sub_by_key.insert(key.to_string(), i);
        if let Some(m) = self.metrics.get_mut(parent.0 as usize) {
            m.subs.push(i);
        }
        i
    }

    /// Adds a batch of samples.
    pub fn ingest(&mut self, samples: &[Sample]) {
        for s in samples {
            self.ingest_one(s);
        }
    }

    fn ingest_one(&mut self, s: &Sample) {
        let idx = s.metric.0 as usize;
        if idx >= self.metrics.len() {
            self.sync_registry();
        }
        let Some(m) = self.metrics.get_mut(idx) else {
            tracing::warn!(metric = idx, "sample for an unknown metric id dropped");
            return;
        };
        m.sink.add(s.value);
        m.observed = true;
        if let Sink::Gauge(g) = &mut m.sink {
            g.last_at = Some(s.time);
        }
        for &si in &m.subs {
            let sub = &mut self.subs[si];
            if s.tags.contains_all(&sub.filter) {
                sub.sink.add(s.value);
                sub.observed = true;
                if let Sink::Gauge(g) = &mut sub.sink {
                    g.last_at = Some(s.time);
                }
            }
        }
        if s.metric == builtin::CHECKS {
            if let Some(name) = s.tags.get("check") {
                let group = s.tags.get("group").unwrap_or("");
                let passed = u64::from(s.value != 0.0);
                self.record_check(group, name, passed, 1 - passed);
            }
        } else if s.metric == builtin::GROUP_DURATION
            && let Some(group) = s.tags.get("group")
        {
            self.group_index(group);
        }
    }

    /// The group node for `path` (`::a::b`), created with its parents if new. Iterative: the
    /// depth of a path never grows the stack.
    fn group_index(&mut self, path: &str) -> usize {
        if let Some(&i) = self.group_by_path.get(path) {
            return i;
        }
        // Walk up to the deepest ancestor that exists, then create the missing levels below it.
        let mut missing = vec![path];
        let mut parent = loop {
            let last = missing[missing.len() - 1];
            let up = last.rfind("::").map_or("", |pos| &last[..pos]);
            if let Some(&i) = self.group_by_path.get(up) {
                break i;
            }
            missing.push(up);
        };
        while let Some(p) = missing.pop() {
            let name = p.rfind("::").map_or(p, |pos| &p[pos + 2..]);
            let i = self.groups.len();
            self.groups.push(GroupNode {
                name: name.to_string(),
                path: p.to_string(),
                groups: Vec::new(),
                checks: Vec::new(),
            });
            self.groups[parent].groups.push(i);
            self.group_by_path.insert(p.to_string(), i);
            parent = i;
        }
        parent
    }

    /// Adds `passes` and `fails` to one check (one sample adds 1 to either).
    fn record_check(&mut self, group: &str, name: &str, passes: u64, fails: u64) {
        let g = self.group_index(group);
        // Fast path: look the check up by group index + name without building the path.
        let ci = self.groups[g]
            .checks
            .iter()
            .copied()
            .find(|&c| self.checks[c].name == name);
        let ci = match ci {
            Some(c) => c,
            None => {
                let path = format!("{group}::{name}");
                let c = self.checks.len();
                self.checks.push(CheckNode {
                    name: name.to_string(),
                    path,
                    passes: 0,
                    fails: 0,
                });
                self.groups[g].checks.push(c);
                c
            }
        };
        let fi = match self.flat_by_name.get(name) {
            Some(&f) => f,
            None => {
                let f = self.flat_checks.len();
                self.flat_checks.push(CheckNode {
                    name: name.to_string(),
                    path: String::new(),
                    passes: 0,
                    fails: 0,
                });
                self.flat_by_name.insert(name.to_string(), f);
                f
            }
        };
        for node in [&mut self.checks[ci], &mut self.flat_checks[fi]] {
            node.passes += passes;
            node.fails += fails;
        }
    }

    /// Evaluates every threshold. During the run (`final_eval == false`) metrics with empty
    /// sinks are skipped (their last verdict stands); at the end every threshold is judged.
    pub fn evaluate(&mut self, elapsed: Duration, final_eval: bool) -> Evaluation {
        let mut ev = Evaluation::default();
        for &t in &self.order {
            let (key, contains, state) = match t {
                Target::Metric(m, i) => {
                    let ms = &mut self.metrics[m];
                    let st = &mut ms.thresholds[i];
                    st.evaluate(&mut ms.sink, elapsed, final_eval);
                    (ms.def.name.as_str(), ms.def.contains, &*st)
                }
                Target::Sub(s, i) => {
                    let sub = &mut self.subs[s];
                    let st = &mut sub.thresholds[i];
                    st.evaluate(&mut sub.sink, elapsed, final_eval);
                    let contains = self
                        .metrics
                        .get(sub.parent.0 as usize)
                        .map_or(ValueType::Default, |m| m.def.contains);
                    (sub.key.as_str(), contains, &*st)
                }
            };
            if state.last_failed {
                ev.failed = true;
                if !ev.failed_metrics.iter().any(|k| k == key) {
                    ev.failed_metrics.push(key.to_string());
                }
                if !final_eval && state.wants_abort(elapsed) {
                    ev.should_abort = true;
                    if !ev.abort_metrics.iter().any(|k| k == key) {
                        ev.abort_metrics.push(key.to_string());
                    }
                }
            }
            ev.thresholds.push(ThresholdOutcome {
                metric: key.to_string(),
                source: state.def.source.clone(),
                aggregation: state.def.expr.aggregation_text.clone(),
                ok: !state.last_failed,
                observed: state.last_value,
                contains,
                abort_on_fail: state.def.abort_on_fail,
            });
        }
        ev.failed_metrics.sort();
        ev.abort_metrics.sort();
        ev
    }

    /// Metrics and sub-metrics whose last threshold judgement failed (k6's
    /// `GetMetricsWithBreachedThresholdsCount`, the REST API's `tainted`); nothing is judged here.
    pub fn breached_count(&self) -> usize {
        let failed = |t: &[ThresholdState]| t.iter().any(|t| t.last_failed);
        self.metrics
            .iter()
            .filter(|m| failed(&m.thresholds))
            .count()
            + self.subs.iter().filter(|s| failed(&s.thresholds)).count()
    }

    /// True when any thresholds are defined.
    pub fn has_thresholds(&self) -> bool {
        !self.order.is_empty()
    }

    /// The registry this engine reads definitions from.
    pub fn registry(&self) -> &Arc<Registry> {
        &self.registry
    }

    /// All metric states, indexed by id.
    pub fn metrics(&self) -> &[MetricState] {
        &self.metrics
    }

    /// All sub-metric states.
    pub fn submetrics(&self) -> &[SubMetricState] {
        &self.subs
    }

    /// Mutable access to metrics and sub-metrics (percentiles sort trend values lazily).
    pub fn states_mut(&mut self) -> (&mut [MetricState], &mut [SubMetricState]) {
        (&mut self.metrics, &mut self.subs)
    }

    /// The group tree; index 0 is the root.
    pub fn groups(&self) -> &[GroupNode] {
        &self.groups
    }

    /// All checks of the tree (indexed from [`GroupNode::checks`]).
    pub fn checks(&self) -> &[CheckNode] {
        &self.checks
    }

    /// Checks merged by name across groups, in first-seen order (`path` is empty).
    pub fn flat_checks(&self) -> &[CheckNode] {
        &self.flat_checks
    }
}

mod delta;

pub use delta::{MergeError, Shipped};

#[cfg(test)]
mod tests;
