//! From consolidated options to a validated [`TestPlan`] (k6 `deriveAndValidateConfig`): turns the
//! shortcuts (`vus`, `duration`, `iterations`, `stages`) into the `default` scenario exactly as k6's
//! `DeriveScenariosFromShortcuts`, rejects conflicting shortcuts, validates every scenario and the
//! execution segment, and derives what the rest of the program needs: the exec function names, the
//! planned total duration, `vus_max` for this instance and the options JSON for `exec.test.options`.
//! All problems are collected into one [`ConfigErrors`] (k6 exit code 104).

use std::time::Duration;

use serde_json::{Map, Value, json};

use super::Options;
use super::scenarios::{ExecutorConfig, ScenarioConfig};
use crate::engine::segment::{ExecutionSegment, ExecutionTuple, parse_sequence};

/// One configuration problem.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    /// A scenario with one or more problems.
    #[error("scenario {scenario} has configuration errors: {}", problems.join(", "))]
    Scenario {
        scenario: String,
        problems: Vec<String>,
    },
    /// A problem with the options as a whole (conflicting shortcuts, bad segment, ...).
    #[error("{0}")]
    Options(String),
}

/// All configuration problems of a test (k6 exit code 104).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("There were problems with the specified script configuration:{}", .0.iter().map(|e| format!("\n\t- {e}")).collect::<String>())]
pub struct ConfigErrors(pub Vec<ConfigError>);

/// The validated test: consolidated options, scenarios in declaration order, and this instance's
/// execution segment.
#[derive(Clone, Debug)]
pub struct TestPlan {
    /// Consolidated options, with the shortcuts folded into `scenarios`.
    pub options: Options,
    pub scenarios: Vec<ScenarioConfig>,
    /// This instance's execution segment in its sequence.
    pub tuple: ExecutionTuple,
}

fn conflict(a: &str, b: &str) -> ConfigError {
    ConfigError::Options(format!(
        "using `{a}` and `{b}` options simultaneously is not allowed"
    ))
}

/// k6's `DeriveScenariosFromShortcuts`: the scenarios map the consolidated options stand for.
pub fn derive_scenarios(o: &Options) -> Result<Map<String, Value>, ConfigError> {
    let stages_given = o.stages.as_ref().is_some_and(|s| !s.is_empty());
    let mut m = Map::new();
    let base = |executor: &str| json!({"executor": executor, "startTime": null, "gracefulStop": null, "env": null, "exec": null, "tags": null});
    if let Some(iterations) = o.iterations {
        if stages_given {
            return Err(conflict("iterations", "stages"));
        }
        if o.scenarios.is_some() {
            return Err(conflict("iterations", "scenarios"));
        }
        let mut s = base("shared-iterations");
        s["vus"] = json!(o.vus);
        s["iterations"] = json!(iterations);
        s["maxDuration"] = json!(o.duration.map(|d| d.to_string()));
        m.insert("default".into(), s);
    } else if let Some(duration) = o.duration {
        if stages_given {
            return Err(conflict("duration", "stages"));
        }
        if o.scenarios.is_some() {
            return Err(conflict("duration", "scenarios"));
        }
        if duration.as_nanos() <= 0 {
            return Err(ConfigError::Options(format!(
                "the duration must be greater than 0 (got {duration}); for infinite duration use the externally-controlled executor"
            )));
        }
        let mut s = base("constant-vus");
        s["vus"] = json!(o.vus);
        s["duration"] = json!(duration.to_string());
        m.insert("default".into(), s);
    } else if stages_given {
        if o.scenarios.is_some() {
            return Err(conflict("stages", "scenarios"));
        }
        let stages: Vec<Value> = o
            .stages
            .iter()
            .flatten()
            .filter(|s| s.duration.is_some())
            .map(|s| json!({"duration": s.duration.map(|d| d.to_string()), "target": s.target}))
            .collect();
        let mut s = base("ramping-vus");
        s["startVUs"] = json!(o.vus);
        s["stages"] = Value::Array(stages);
        s["gracefulRampDown"] = Value::Null;
        m.insert("default".into(), s);
    } else if let Some(sc) = o.scenarios.as_ref().filter(|s| !s.is_empty()) {
        return Ok(sc.clone());
    } else {
        if let Some(v) = o.vus.filter(|v| *v != 1) {
            tracing::warn!(
                "the `vus={v}` option will be ignored, it only works in conjunction with `iterations`, `duration`, or `stages`"
            );
        }
        if o.stages.as_ref().is_some_and(Vec::is_empty) {
            tracing::warn!(
                "`stages` was explicitly set to an empty value, running the script with 1 iteration in 1 VU"
            );
        }
        if o.scenarios.as_ref().is_some_and(Map::is_empty) {
            tracing::warn!(
                "`scenarios` was explicitly set to an empty value, running the script with 1 iteration in 1 VU"
            );
        }
        // k6's NewPerVUIterationsConfig: 1 VU, 1 iteration by the executor's defaults, shown
        // as null in `exec.test.options`.
        let mut s = base("per-vu-iterations");
        s["vus"] = Value::Null;
        s["iterations"] = Value::Null;
        s["maxDuration"] = Value::Null;
        m.insert("default".into(), s);
    }
    Ok(m)
}

/// Strips `null` members so that a scenario object built from shortcuts reads like a user's.
fn without_nulls(v: &Value) -> Value {
    match v {
        Value::Object(o) => Value::Object(
            o.iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
        ),
        other => other.clone(),
    }
}

impl TestPlan {
    /// Derives scenarios from the consolidated options and validates everything, returning all
    /// problems at once.
    pub fn new(options: Options) -> Result<TestPlan, ConfigErrors> {
        let mut errors = Vec::new();
        let raw = match derive_scenarios(&options) {
            Ok(m) => m,
            Err(e) => return Err(ConfigErrors(vec![e])),
        };
        let mut scenarios = Vec::with_capacity(raw.len());
        for (name, value) in &raw {
            match ScenarioConfig::parse(name, &without_nulls(value)) {
                Ok(mut s) => {
                    s.raw = value.clone();
                    scenarios.push(s);
                }
                Err(problems) => errors.push(ConfigError::Scenario {
                    scenario: name.clone(),
                    problems,
                }),
            }
        }
        let segment = options
            .execution_segment
            .as_deref()
            .map(ExecutionSegment::parse)
            .transpose();
        let sequence = parse_sequence(options.execution_segment_sequence.as_deref().unwrap_or(""));
        let tuple = match (segment, sequence) {
            (Ok(seg), Ok(seq)) => {
                ExecutionTuple::new(seg, &seq).map_err(|e| ConfigError::Options(e.to_string()))
            }
            (Err(e), _) | (_, Err(e)) => Err(ConfigError::Options(e.to_string())),
        };
        let tuple = match tuple {
            Ok(t) => Some(t),
            Err(e) => {
                errors.push(e);
                None
            }
        };
        // k6's IsDistributable: its VUs follow the REST API of one instance.
        if options.execution_segment.is_some()
            && let Some(s) = scenarios
                .iter()
                .find(|s| matches!(s.executor, ExecutorConfig::ExternallyControlled { .. }))
        {
            errors.push(ConfigError::Scenario {
                scenario: s.name.clone(),
                problems: vec![
                    "the externally-controlled executor cannot run on an execution segment (it is not distributable)"
                        .to_string(),
                ],
            });
        }
        match tuple {
            Some(tuple) if errors.is_empty() => {
                let mut options = options;
                options.scenarios = Some(raw);
                options.vus = None;
                options.duration = None;
                options.iterations = None;
                options.stages = None;
                Ok(TestPlan {
                    options,
                    scenarios,
                    tuple,
                })
            }
            _ => Err(ConfigErrors(errors)),
        }
    }

    /// The distinct exported function names the scenarios call (`exec`), for the caller to check
    /// against the script's exports ("function 'x' not found in exports").
    pub fn exec_names(&self) -> Vec<&str> {
        let mut v: Vec<&str> = Vec::new();
        for s in &self.scenarios {
            if !v.contains(&s.exec.as_str()) {
                v.push(&s.exec);
            }
        }
        v
    }

    /// Planned total duration incl. graceful stops: max over scenarios of startTime + duration +
    /// gracefulStop (k6's "max duration (incl. graceful stop)").
    pub fn total_duration(&self) -> Duration {
        Duration::from_nanos(
            self.scenarios
                .iter()
                .map(ScenarioConfig::planned_end_ns)
                .max()
                .unwrap_or(0),
        )
    }

    /// VUs of one scenario on this instance, at most at any time (arrival-rate: preAllocatedVUs).
    pub fn scenario_vus(&self, s: &ScenarioConfig) -> u64 {
        match &s.executor {
            ExecutorConfig::ConstantArrivalRate {
                pre_allocated_vus,
                max_vus,
                ..
            }
            | ExecutorConfig::RampingArrivalRate {
                pre_allocated_vus,
                max_vus,
                ..
            } => self
                .tuple
                .resegment(*max_vus)
                .map_or(0, |t| t.scale(*pre_allocated_vus)),
            _ => self.tuple.scale(s.max_planned_vus()),
        }
    }

    /// Maximum number of VUs planned to run at the same time on this instance, across overlapping
    /// scenarios (each holds its VUs from startTime to its end incl. gracefulStop). These are
    /// initialised up front.
    pub fn vus_max(&self) -> u64 {
        self.peak_vus(|s| self.scenario_vus(s))
    }

    /// The most VUs held at once when each scenario holds `vus_of(scenario)` from its startTime to
    /// its planned end (incl. gracefulStop).
    pub fn peak_vus(&self, vus_of: impl Fn(&ScenarioConfig) -> u64) -> u64 {
        let mut events: Vec<(u64, i128)> = Vec::new();
        for s in &self.scenarios {
            let v = vus_of(s) as i128;
            events.push((s.start_time_ns, v));
            events.push((s.planned_end_ns(), -v));
        }
        // Ends before starts at the same instant: a scenario that starts when another ends reuses its VUs.
        events.sort_by_key(|&(t, d)| (t, d));
        let (mut cur, mut max) = (0i128, 0i128);
        for (_, d) in events {
            cur += d;
            max = max.max(cur);
        }
        max as u64
    }

    /// The consolidated options as k6 shows them in `exec.test.options`.
    pub fn options_json(&self) -> Value {
        let mut v = self.options.to_json();
        if let Value::Object(o) = &mut v {
            for k in ["vus", "duration", "iterations", "stages"] {
                o.remove(k);
            }
        }
        v
    }
}
