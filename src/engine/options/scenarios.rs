//! Scenario configurations (k6 `lib/executor/*_config`): reads one raw scenario object strictly (an
//! unknown field is an error, as in k6), applies each executor's defaults and validates it with k6's
//! messages. Emits a [`ScenarioConfig`] whose [`ExecutorConfig`] carries resolved, checked values
//! for the executors.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::Value;

use super::Stage;
use crate::engine::duration::GoDuration;

/// The executors k6 knows.
pub const EXECUTORS: &[&str] = &[
    "shared-iterations",
    "per-vu-iterations",
    "constant-vus",
    "ramping-vus",
    "constant-arrival-rate",
    "ramping-arrival-rate",
    "externally-controlled",
];

const BASE_FIELDS: &[&str] = &[
    "executor",
    "startTime",
    "gracefulStop",
    "exec",
    "env",
    "tags",
    "options",
];

fn executor_fields(executor: &str) -> &'static [&'static str] {
    match executor {
        "shared-iterations" | "per-vu-iterations" => &["vus", "iterations", "maxDuration"],
        "constant-vus" => &["vus", "duration"],
        "ramping-vus" => &["startVUs", "stages", "gracefulRampDown"],
        "constant-arrival-rate" => &["rate", "timeUnit", "duration", "preAllocatedVUs", "maxVUs"],
        "ramping-arrival-rate" => &[
            "startRate",
            "timeUnit",
            "stages",
            "preAllocatedVUs",
            "maxVUs",
        ],
        "externally-controlled" => &["vus", "maxVUs", "duration"],
        _ => &[],
    }
}

/// A scenario object as written (every field optional).
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Raw {
    start_time: Option<GoDuration>,
    graceful_stop: Option<GoDuration>,
    exec: Option<String>,
    env: Option<BTreeMap<String, String>>,
    tags: Option<BTreeMap<String, String>>,
    vus: Option<i64>,
    iterations: Option<i64>,
    max_duration: Option<GoDuration>,
    duration: Option<GoDuration>,
    #[serde(rename = "startVUs")]
    start_vus: Option<i64>,
    stages: Option<Vec<Stage>>,
    graceful_ramp_down: Option<GoDuration>,
    rate: Option<i64>,
    time_unit: Option<GoDuration>,
    #[serde(rename = "preAllocatedVUs")]
    pre_allocated_vus: Option<i64>,
    #[serde(rename = "maxVUs")]
    max_vus: Option<i64>,
    start_rate: Option<i64>,
}

/// One stage with resolved values.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ResolvedStage {
    /// Nanoseconds.
    pub duration_ns: u64,
    pub target: u64,
}

/// An executor's resolved and validated settings. Durations in nanoseconds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ExecutorConfig {
    SharedIterations {
        vus: u64,
        iterations: u64,
        max_duration_ns: u64,
    },
    PerVuIterations {
        vus: u64,
        iterations: u64,
        max_duration_ns: u64,
    },
    ConstantVus {
        vus: u64,
        duration_ns: u64,
    },
    /// `vus` looping VUs out of `max_vus`, both changed live through the REST API; a
    /// `duration_ns` of 0 runs until the test is stopped.
    ExternallyControlled {
        vus: u64,
        max_vus: u64,
        duration_ns: u64,
    },
    RampingVus {
        start_vus: u64,
        stages: Vec<ResolvedStage>,
        graceful_ramp_down_ns: u64,
    },
    ConstantArrivalRate {
        rate: u64,
        time_unit_ns: u64,
        duration_ns: u64,
        pre_allocated_vus: u64,
        max_vus: u64,
    },
    RampingArrivalRate {
        start_rate: u64,
        time_unit_ns: u64,
        stages: Vec<ResolvedStage>,
        pre_allocated_vus: u64,
        max_vus: u64,
    },
}

/// One scenario: name, common options and the executor's settings.
#[derive(Clone, Debug, PartialEq)]
pub struct ScenarioConfig {
    pub name: String,
    pub executor_name: String,
    /// Offset from the test start, ns.
    pub start_time_ns: u64,
    /// ns.
    pub graceful_stop_ns: u64,
    pub exec: String,
    pub env: BTreeMap<String, String>,
    pub tags: BTreeMap<String, String>,
    pub executor: ExecutorConfig,
    /// The object as given (for `exec.test.options`).
    pub raw: Value,
}

const MIN_DURATION: GoDuration = GoDuration::from_secs(1);

fn ns(d: GoDuration) -> u64 {
    d.as_nanos().max(0) as u64
}

fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

fn check_stages(stages: &Option<Vec<Stage>>, p: &mut Vec<String>) -> Vec<ResolvedStage> {
    let stages = stages.as_deref().unwrap_or(&[]);
    if stages.is_empty() {
        p.push("at least one stage has to be specified".into());
    }
    for (i, s) in stages.iter().enumerate() {
        let n = i + 1;
        match s.duration {
            None => p.push(format!("stage {n} doesn't have a duration")),
            Some(d) if d.is_negative() => {
                p.push(format!("the duration for stage {n} can't be negative"))
            }
            _ => {}
        }
        match s.target {
            None => p.push(format!("stage {n} doesn't have a target")),
            Some(t) if t < 0 => p.push(format!("the target for stage {n} can't be negative")),
            _ => {}
        }
    }
    stages
        .iter()
        .map(|s| ResolvedStage {
            duration_ns: s.duration.map_or(0, ns),
            target: s.target.unwrap_or(0).max(0) as u64,
        })
        .collect()
}

fn check_duration(d: Option<GoDuration>, p: &mut Vec<String>) -> u64 {
    match d {
        None => p.push("the duration is unspecified".into()),
        Some(d) if d < MIN_DURATION => p.push(format!(
            "the duration must be at least {MIN_DURATION}, but is {d}"
        )),
        Some(_) => {}
    }
    d.map_or(0, ns)
}

fn check_pre_max(raw: &Raw, p: &mut Vec<String>) -> (u64, u64) {
    let pre = match raw.pre_allocated_vus {
        None => {
            p.push("the number of preAllocatedVUs isn't specified".into());
            0
        }
        Some(v) if v < 0 => {
            p.push("the number of preAllocatedVUs can't be negative".into());
            0
        }
        Some(v) => v as u64,
    };
    let max = raw.max_vus.unwrap_or(pre as i64);
    if max < pre as i64 {
        p.push("maxVUs can't be less than preAllocatedVUs".into());
    }
    (pre, max.max(0) as u64)
}

fn check_time_unit(raw: &Raw, p: &mut Vec<String>) -> u64 {
    let tu = raw.time_unit.unwrap_or(GoDuration::from_secs(1));
    if tu.as_nanos() <= 0 {
        p.push("the timeUnit must be more than 0".into());
    }
    ns(tu)
}

/// Checks `vus > 0` (shared/per-vu/constant).
fn check_vus(vus: i64, p: &mut Vec<String>) -> u64 {
    if vus <= 0 {
        p.push("the number of VUs must be more than 0".into());
    }
    vus.max(0) as u64
}

impl ScenarioConfig {
    /// Reads and validates the scenario `name`. `Err` carries every problem, in k6's words.
    pub fn parse(name: &str, value: &Value) -> Result<ScenarioConfig, Vec<String>> {
        let obj = value
            .as_object()
            .ok_or_else(|| vec![format!("scenario '{name}' must be an object")])?;
        let executor_name = match obj.get("executor") {
            Some(Value::String(e)) => e.clone(),
            None | Some(Value::Null) => {
                return Err(vec![format!(
                    "scenario '{name}' doesn't have a specified executor type"
                )]);
            }
            Some(other) => return Err(vec![format!("invalid executor type {other}")]),
        };
        if !EXECUTORS.contains(&executor_name.as_str()) {
            return Err(vec![format!("unknown executor type '{executor_name}'")]);
        }
        let allowed = executor_fields(&executor_name);
        let unknown: Vec<String> = obj
            .keys()
            .filter(|k| !BASE_FIELDS.contains(&k.as_str()) && !allowed.contains(&k.as_str()))
            .map(|k| format!("json: unknown field \"{k}\""))
            .collect();
        if !unknown.is_empty() {
            return Err(unknown);
        }
        let raw: Raw = serde_json::from_value(value.clone()).map_err(|e| vec![e.to_string()])?;

        let mut p = Vec::new();
        if !valid_name(name) {
            p.push("the scenario name should contain only numbers, latin letters, underscores, and dashes".into());
        }
        if raw.exec.as_deref() == Some("") {
            p.push("exec value cannot be empty".into());
        }
        let start_time = raw.start_time.unwrap_or_default();
        if start_time.is_negative() {
            p.push("the startTime can't be negative".into());
        }
        let external = executor_name == "externally-controlled";
        let graceful_stop = match raw.graceful_stop {
            // No gracefulStop: its VUs are stopped at once (k6 refuses the option).
            _ if external => GoDuration::default(),
            Some(g) => g,
            None => GoDuration::from_secs(30),
        };
        if graceful_stop.is_negative() {
            p.push("the gracefulStop timeout can't be negative".into());
        }
        let executor = Self::executor(&executor_name, &raw, &mut p);
        if !p.is_empty() {
            return Err(p);
        }
        Ok(ScenarioConfig {
            name: name.to_string(),
            executor_name,
            start_time_ns: ns(start_time),
            graceful_stop_ns: ns(graceful_stop),
            exec: raw.exec.clone().unwrap_or_else(|| "default".to_string()),
            env: raw.env.clone().unwrap_or_default(),
            tags: raw.tags.clone().unwrap_or_default(),
            executor,
            raw: value.clone(),
        })
    }

    fn executor(name: &str, raw: &Raw, p: &mut Vec<String>) -> ExecutorConfig {
        match name {
            "shared-iterations" | "per-vu-iterations" => {
                let vus = check_vus(raw.vus.unwrap_or(1), p);
                let iterations = raw.iterations.unwrap_or(1);
                let max_duration = raw.max_duration.unwrap_or(GoDuration::from_secs(600));
                if name == "shared-iterations" {
                    if iterations < vus as i64 {
                        p.push(format!("the number of iterations ({iterations}) can't be less than the number of VUs ({vus})"));
                    }
                } else if iterations <= 0 {
                    p.push("the number of iterations must be more than 0".into());
                }
                if max_duration < MIN_DURATION {
                    p.push(format!(
                        "the maxDuration must be at least {MIN_DURATION}, but is {max_duration}"
                    ));
                }
                let (iterations, max_duration_ns) = (iterations.max(0) as u64, ns(max_duration));
                if name == "shared-iterations" {
                    ExecutorConfig::SharedIterations {
                        vus,
                        iterations,
                        max_duration_ns,
                    }
                } else {
                    ExecutorConfig::PerVuIterations {
                        vus,
                        iterations,
                        max_duration_ns,
                    }
                }
            }
            "externally-controlled" => {
                let vus = raw.vus.unwrap_or(0);
                let max_vus = raw.max_vus.unwrap_or(vus);
                if vus < 0 {
                    p.push("the number of VUs can't be negative".into());
                }
                if max_vus < vus {
                    p.push(format!("the number of active VUs ({vus}) must be less than or equal to the number of maxVUs ({max_vus})"));
                }
                let duration_ns = match raw.duration {
                    None => {
                        p.push(
                            "the duration must be specified, for infinite duration use 0".into(),
                        );
                        0
                    }
                    Some(d) if d.is_negative() => {
                        p.push(
                            "the duration can't be negative, for infinite duration use 0".into(),
                        );
                        0
                    }
                    Some(d) => ns(d),
                };
                if raw.graceful_stop.is_some() {
                    p.push(
                        "gracefulStop is not supported by the externally controlled executor"
                            .into(),
                    );
                }
                ExecutorConfig::ExternallyControlled {
                    vus: vus.max(0) as u64,
                    max_vus: max_vus.max(0) as u64,
                    duration_ns,
                }
            }
            "constant-vus" => {
                let vus = check_vus(raw.vus.unwrap_or(1), p);
                let duration_ns = check_duration(raw.duration, p);
                ExecutorConfig::ConstantVus { vus, duration_ns }
            }
            "ramping-vus" => {
                let start = raw.start_vus.unwrap_or(1);
                if start < 0 {
                    p.push("the number of start VUs can't be negative".into());
                }
                let stages = check_stages(&raw.stages, p);
                if start <= 0 && !stages.is_empty() && stages.iter().all(|s| s.target == 0) {
                    p.push("either startVUs or one of the stages' target values must be greater than 0".into());
                }
                let grd = raw.graceful_ramp_down.unwrap_or(GoDuration::from_secs(30));
                if grd.is_negative() {
                    p.push("the gracefulRampDown timeout can't be negative".into());
                }
                ExecutorConfig::RampingVus {
                    start_vus: start.max(0) as u64,
                    stages,
                    graceful_ramp_down_ns: ns(grd),
                }
            }
            "constant-arrival-rate" => {
                match raw.rate {
                    None => p.push("the iteration rate isn't specified".into()),
                    Some(r) if r <= 0 => p.push("the iteration rate must be more than 0".into()),
                    _ => {}
                }
                let time_unit_ns = check_time_unit(raw, p);
                let duration_ns = check_duration(raw.duration, p);
                let (pre_allocated_vus, max_vus) = check_pre_max(raw, p);
                let rate = raw.rate.unwrap_or(0).max(0) as u64;
                ExecutorConfig::ConstantArrivalRate {
                    rate,
                    time_unit_ns,
                    duration_ns,
                    pre_allocated_vus,
                    max_vus,
                }
            }
            _ => {
                let start_rate = raw.start_rate.unwrap_or(0);
                if start_rate < 0 {
                    p.push("the startRate value can't be negative".into());
                }
                let time_unit_ns = check_time_unit(raw, p);
                let stages = check_stages(&raw.stages, p);
                let (pre_allocated_vus, max_vus) = check_pre_max(raw, p);
                ExecutorConfig::RampingArrivalRate {
                    start_rate: start_rate.max(0) as u64,
                    time_unit_ns,
                    stages,
                    pre_allocated_vus,
                    max_vus,
                }
            }
        }
    }

    /// The executor's own run time (without gracefulStop), ns: `duration`, `maxDuration` or the
    /// sum of the stages.
    pub fn run_duration_ns(&self) -> u64 {
        match &self.executor {
            ExecutorConfig::SharedIterations {
                max_duration_ns, ..
            }
            | ExecutorConfig::PerVuIterations {
                max_duration_ns, ..
            } => *max_duration_ns,
            ExecutorConfig::ConstantVus { duration_ns, .. }
            | ExecutorConfig::ExternallyControlled { duration_ns, .. }
            | ExecutorConfig::ConstantArrivalRate { duration_ns, .. } => *duration_ns,
            ExecutorConfig::RampingVus { stages, .. }
            | ExecutorConfig::RampingArrivalRate { stages, .. } => {
                stages.iter().map(|s| s.duration_ns).sum()
            }
        }
    }

    /// Offset from the test start at which this scenario is over at the latest (startTime + own
    /// duration + gracefulStop; + gracefulRampDown is not added, as in k6's banner), ns.
    pub fn planned_end_ns(&self) -> u64 {
        self.start_time_ns + self.run_duration_ns() + self.graceful_stop_ns
    }

    /// VUs this scenario needs at most (unscaled): `vus`, the maximum of startVUs and the
    /// stages' targets, or `preAllocatedVUs` (arrival-rate grows to maxVUs on demand).
    pub fn max_planned_vus(&self) -> u64 {
        match &self.executor {
            ExecutorConfig::SharedIterations { vus, .. }
            | ExecutorConfig::PerVuIterations { vus, .. }
            | ExecutorConfig::ConstantVus { vus, .. } => *vus,
            // Its maxVUs are initialised up front, as k6's execution requirements say.
            ExecutorConfig::ExternallyControlled { max_vus, .. } => *max_vus,
            ExecutorConfig::RampingVus {
                start_vus, stages, ..
            } => stages.iter().map(|s| s.target).fold(*start_vus, u64::max),
            ExecutorConfig::ConstantArrivalRate {
                pre_allocated_vus, ..
            }
            | ExecutorConfig::RampingArrivalRate {
                pre_allocated_vus, ..
            } => *pre_allocated_vus,
        }
    }
}
