//! The JSON:API documents of k6's REST API v1 (`api/v1` in k6 v1.1), built from the live
//! execution state and the metrics engine: the same envelopes, types, ids and field names.

use md5::{Digest, Md5};
use serde_json::{Map, Value, json};

use crate::metrics::engine::{GroupNode, MetricsEngine};
use crate::metrics::sink::Sink;
use crate::metrics::thresholds::ThresholdState;

/// `{"errors":[{"status","title","detail"}]}`, k6's `apiError`.
pub fn error(status: u16, title: &str, detail: &str) -> Value {
    json!({"errors": [{"status": status.to_string(), "title": title, "detail": detail}]})
}

/// The attributes of `GET /v1/status`.
#[derive(Clone, Debug, PartialEq)]
pub struct Status {
    /// k6's `lib.ExecutionStatus` number.
    pub status: u32,
    pub paused: bool,
    pub vus: u64,
    pub vus_max: u64,
    pub stopped: bool,
    pub running: bool,
    pub tainted: bool,
}

/// `{"data":{"type":"status","id":"default","attributes":{...}}}`.
pub fn status(s: &Status) -> Value {
    json!({"data": {"type": "status", "id": "default", "attributes": {
        "status": s.status,
        "paused": s.paused,
        "vus": s.vus,
        "vus-max": s.vus_max,
        "stopped": s.stopped,
        "running": s.running,
        "tainted": s.tainted,
    }}})
}

/// `{"data":{"type":"setupData","id":"default","attributes":{}}}`, with `"data"` once setup()
/// returned something.
pub fn setup_data(data: Option<&str>) -> Value {
    let mut attributes = Map::new();
    if let Some(v) = data.and_then(|d| serde_json::from_str::<Value>(d).ok()) {
        attributes.insert("data".to_string(), v);
    }
    json!({"data": {"type": "setupData", "id": "default", "attributes": attributes}})
}

/// `tainted` as k6 keeps it per metric: null without thresholds or before their first judgement,
/// else whether one of them failed.
fn tainted(thresholds: &[ThresholdState]) -> Value {
    if thresholds.iter().any(|t| t.last_failed) {
        return Value::Bool(true);
    }
    if thresholds.iter().any(|t| t.last_value.is_some()) {
        return Value::Bool(false);
    }
    Value::Null
}

/// A number as Go's encoder writes a float64: integral values without a fraction (`2`, not
/// `2.0`).
fn num(v: f64) -> Value {
    if v.is_finite() && v.fract() == 0.0 && v.abs() < 1e15 {
        Value::from(v as i64)
    } else {
        Value::from(v)
    }
}

/// k6's `Sink.Format`: what one metric shows in the REST API.
fn sample(sink: &mut Sink, elapsed_secs: f64) -> Value {
    let rate = |n: f64| {
        if elapsed_secs > 0.0 {
            n / elapsed_secs
        } else {
            0.0
        }
    };
    match sink {
        Sink::Counter(c) => json!({"count": num(c.sum), "rate": num(rate(c.sum))}),
        Sink::Gauge(g) => json!({"value": num(g.last)}),
        Sink::Rate(r) => {
            let v = if r.total > 0 {
                r.trues as f64 / r.total as f64
            } else {
                0.0
            };
            json!({"rate": num(v)})
        }
        Sink::Trend(t) => {
            if t.count() == 0 {
                return json!({"avg": 0, "max": 0, "med": 0, "min": 0, "p(90)": 0, "p(95)": 0});
            }
            json!({
                "avg": num(t.avg()),
                "max": num(t.max()),
                "med": num(t.med()),
                "min": num(t.min()),
                "p(90)": num(t.percentile(0.90)),
                "p(95)": num(t.percentile(0.95)),
            })
        }
    }
}

fn metric_data(id: &str, kind: &str, contains: &str, tainted: Value, sample: Value) -> Value {
    json!({"type": "metrics", "id": id, "attributes": {
        "type": kind, "contains": contains, "tainted": tainted, "sample": sample,
    }})
}

/// Every observed metric and sub-metric (k6's `ObservedMetrics`) as `metrics` resources.
pub fn metric_list(engine: &mut MetricsEngine, elapsed_secs: f64) -> Vec<Value> {
    let mut out = Vec::new();
    let parents: Vec<(&'static str, &'static str)> = engine
        .metrics()
        .iter()
        .map(|m| (m.def.kind.as_str(), m.def.contains.as_str()))
        .collect();
    let (metrics, subs) = engine.states_mut();
    for m in metrics.iter_mut().filter(|m| m.observed) {
        let t = tainted(&m.thresholds);
        let s = sample(&mut m.sink, elapsed_secs);
        out.push(metric_data(
            &m.def.name,
            m.def.kind.as_str(),
            m.def.contains.as_str(),
            t,
            s,
        ));
    }
    for sub in subs.iter_mut().filter(|s| s.observed) {
        let (kind, contains) = parents
            .get(sub.parent.0 as usize)
            .copied()
            .unwrap_or(("counter", "default"));
        let t = tainted(&sub.thresholds);
        let s = sample(&mut sub.sink, elapsed_secs);
        out.push(metric_data(&sub.key, kind, contains, t, s));
    }
    out
}

/// `GET /v1/metrics`.
pub fn metrics(engine: &mut MetricsEngine, elapsed_secs: f64) -> Value {
    json!({"data": metric_list(engine, elapsed_secs)})
}

/// `GET /v1/metrics/{id}`: `None` when no observed metric has that id.
pub fn metric(engine: &mut MetricsEngine, elapsed_secs: f64, id: &str) -> Option<Value> {
    metric_list(engine, elapsed_secs)
        .into_iter()
        .find(|m| m["id"] == id)
        .map(|m| json!({"data": m}))
}

/// k6's group and check ids: the MD5 of the path, in hex.
fn path_id(path: &str) -> String {
    let digest = Md5::digest(path.as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

fn group_data(engine: &MetricsEngine, index: usize, parent: Option<&GroupNode>) -> Value {
    let groups = engine.groups();
    let g = &groups[index];
    let checks: Value = if g.checks.is_empty() {
        Value::Null
    } else {
        g.checks
            .iter()
            .filter_map(|&c| engine.checks().get(c))
            .map(|c| {
                json!({"id": path_id(&c.path), "path": c.path, "name": c.name,
                       "passes": c.passes, "fails": c.fails})
            })
            .collect()
    };
    let children: Vec<Value> = g
        .groups
        .iter()
        .filter_map(|&i| groups.get(i))
        .map(|c| json!({"type": "groups", "id": path_id(&c.path)}))
        .collect();
    let parent = parent.map_or(
        Value::Null,
        |p| json!({"type": "groups", "id": path_id(&p.path)}),
    );
    json!({"type": "groups", "id": path_id(&g.path),
           "attributes": {"path": g.path, "name": g.name, "checks": checks},
           "relationships": {"groups": {"data": children}, "parent": {"data": parent}}})
}

/// The group tree, root first, depth first (k6's `FlattenGroup`).
pub fn group_list(engine: &MetricsEngine) -> Vec<Value> {
    let groups = engine.groups();
    let mut out = Vec::new();
    // (index, parent index); an explicit stack keeps deep trees off the call stack.
    let mut stack = vec![(0usize, None::<usize>)];
    while let Some((i, parent)) = stack.pop() {
        let Some(g) = groups.get(i) else { continue };
        out.push(group_data(engine, i, parent.and_then(|p| groups.get(p))));
        for &child in g.groups.iter().rev() {
            stack.push((child, Some(i)));
        }
    }
    out
}

/// `GET /v1/groups`.
pub fn groups(engine: &MetricsEngine) -> Value {
    json!({"data": group_list(engine)})
}

/// `GET /v1/groups/{id}`: `None` when no group has that id.
pub fn group(engine: &MetricsEngine, id: &str) -> Option<Value> {
    group_list(engine)
        .into_iter()
        .find(|g| g["id"] == id)
        .map(|g| json!({"data": g}))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_md5_of_paths_as_in_k6() {
        // Ids k6 v1.1 gave for the root group, group `g1` and its check `one`.
        assert_eq!(path_id(""), "d41d8cd98f00b204e9800998ecf8427e");
        assert_eq!(path_id("::g1"), "9ccb03cc5acd728a2fe595bbd1f14da3");
        assert_eq!(path_id("::g1::one"), "44411afd5731710ff71ca272cc10adff");
    }

    #[test]
    fn numbers_as_go_writes_them() {
        assert_eq!(num(2.0).to_string(), "2");
        assert_eq!(num(0.0).to_string(), "0");
        assert_eq!(num(8.5).to_string(), "8.5");
    }

    #[test]
    fn status_and_setup_documents() {
        let s = Status {
            status: 4,
            paused: true,
            vus: 0,
            vus_max: 2,
            stopped: false,
            running: false,
            tainted: false,
        };
        // k6 v1.1's bytes for a paused test before its start.
        assert_eq!(
            status(&s).to_string(),
            r#"{"data":{"type":"status","id":"default","attributes":{"status":4,"paused":true,"vus":0,"vus-max":2,"stopped":false,"running":false,"tainted":false}}}"#
        );
        assert_eq!(
            setup_data(None).to_string(),
            r#"{"data":{"type":"setupData","id":"default","attributes":{}}}"#
        );
        assert_eq!(
            setup_data(Some(r#"{"a":1,"b":[2]}"#)).to_string(),
            r#"{"data":{"type":"setupData","id":"default","attributes":{"data":{"a":1,"b":[2]}}}}"#
        );
        assert_eq!(
            error(400, "Invalid data", "x").to_string(),
            r#"{"errors":[{"status":"400","title":"Invalid data","detail":"x"}]}"#
        );
    }
}
