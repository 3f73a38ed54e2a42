//! What `loadgate run` prints on stdout before the test, as k6 does: the banner, then the
//! execution header (`execution`, `script`, `output`, `scenarios` with one line per scenario in
//! k6's words). Both are left out with `--quiet`.

use std::fmt::Write as _;
use std::time::Duration;

use crate::engine::duration::GoDuration;
use crate::engine::options::plan::TestPlan;
use crate::engine::options::scenarios::{ExecutorConfig, ResolvedStage, ScenarioConfig};

const BANNER: &str = r"  _                 _             _
 | | ___   __ _  __| | __ _  __ _| |_ ___
 | |/ _ \ / _` |/ _` |/ _` |/ _` | __/ _ \
 | | (_) | (_| | (_| | (_| | (_| | ||  __/
 |_|\___/ \__,_|\__,_|\__, |\__,_|\__\___|
                      |___/";

/// `\n{banner}\n\n`, yellow when colors are on (k6's).
pub fn banner(colors: bool) -> String {
    if colors {
        format!("\n\x1b[33m{BANNER}\x1b[0m\n\n")
    } else {
        format!("\n{BANNER}\n\n")
    }
}

fn go(ns: u64) -> String {
    GoDuration(ns as i64).to_string()
}

/// k6's `getBaseInfo`: the executor's own facts, then `exec`, `startTime`, `gracefulStop`.
fn base_info(s: &ScenarioConfig, mut facts: Vec<String>) -> String {
    if let Some(exec) = s.raw.get("exec").and_then(|v| v.as_str()) {
        facts.push(format!("exec: {exec}"));
    }
    if s.start_time_ns > 0 {
        facts.push(format!("startTime: {}", go(s.start_time_ns)));
    }
    if s.graceful_stop_ns > 0 {
        facts.push(format!("gracefulStop: {}", go(s.graceful_stop_ns)));
    }
    if facts.is_empty() {
        String::new()
    } else {
        format!(" ({})", facts.join(", "))
    }
}

fn stages_sum(stages: &[ResolvedStage]) -> u64 {
    stages.iter().map(|s| s.duration_ns).sum()
}

fn max_vus_range(plan: &TestPlan, pre: u64, max: u64) -> String {
    let (pre_s, max_s) = match plan.tuple.resegment(max) {
        Some(t) => (t.scale(pre), t.scale(max)),
        None => (plan.tuple.scale(pre), plan.tuple.scale(max)),
    };
    if max_s > pre_s {
        format!("maxVUs: {pre_s}-{max_s}")
    } else {
        format!("maxVUs: {pre_s}")
    }
}

/// The segment's share of the whole test, as a float (k6 `FloatLength`).
pub fn segment_length(plan: &TestPlan) -> f64 {
    let l = plan.tuple.segment().length();
    l.num() as f64 / l.den().max(1) as f64
}

/// Iterations per second of `rate` per `time_unit_ns`, for this segment.
fn per_sec(plan: &TestPlan, rate: u64, time_unit_ns: u64) -> f64 {
    if time_unit_ns == 0 {
        return 0.0;
    }
    rate as f64 * 1e9 / time_unit_ns as f64 * segment_length(plan)
}

/// k6's `GetDescription` of one scenario's executor.
pub fn describe(plan: &TestPlan, s: &ScenarioConfig) -> String {
    let t = &plan.tuple;
    match &s.executor {
        ExecutorConfig::ConstantVus { vus, duration_ns } => format!(
            "{} looping VUs for {}{}",
            t.scale(*vus),
            go(*duration_ns),
            base_info(s, vec![])
        ),
        ExecutorConfig::ExternallyControlled {
            vus,
            max_vus,
            duration_ns,
        } => format!(
            "Externally controlled execution with {} VUs, {} max VUs, {} duration",
            t.scale(*vus),
            t.scale(*max_vus),
            if *duration_ns == 0 {
                "infinite".to_string()
            } else {
                go(*duration_ns)
            }
        ),
        ExecutorConfig::SharedIterations {
            vus,
            iterations,
            max_duration_ns,
        } => format!(
            "{} iterations shared among {} VUs{}",
            t.scale(*iterations),
            t.scale(*vus),
            base_info(s, vec![format!("maxDuration: {}", go(*max_duration_ns))])
        ),
        ExecutorConfig::PerVuIterations {
            vus,
            iterations,
            max_duration_ns,
        } => format!(
            "{iterations} iterations for each of {} VUs{}",
            t.scale(*vus),
            base_info(s, vec![format!("maxDuration: {}", go(*max_duration_ns))])
        ),
        ExecutorConfig::RampingVus {
            start_vus,
            stages,
            graceful_ramp_down_ns,
        } => format!(
            "Up to {} looping VUs for {} over {} stages{}",
            t.scale(stages.iter().map(|x| x.target).fold(*start_vus, u64::max)),
            go(stages_sum(stages)),
            stages.len(),
            base_info(
                s,
                vec![format!("gracefulRampDown: {}", go(*graceful_ramp_down_ns))]
            )
        ),
        ExecutorConfig::ConstantArrivalRate {
            rate,
            time_unit_ns,
            duration_ns,
            pre_allocated_vus,
            max_vus,
        } => format!(
            "{:.2} iterations/s for {}{}",
            per_sec(plan, *rate, *time_unit_ns),
            go(*duration_ns),
            base_info(s, vec![max_vus_range(plan, *pre_allocated_vus, *max_vus)])
        ),
        ExecutorConfig::RampingArrivalRate {
            start_rate,
            time_unit_ns,
            stages,
            pre_allocated_vus,
            max_vus,
        } => {
            let max_rate = stages.iter().map(|x| x.target).fold(*start_rate, u64::max);
            format!(
                "Up to {:.2} iterations/s for {} over {} stages{}",
                per_sec(plan, max_rate, *time_unit_ns),
                go(stages_sum(stages)),
                stages.len(),
                base_info(s, vec![max_vus_range(plan, *pre_allocated_vus, *max_vus)])
            )
        }
    }
}

/// VUs a scenario may hold at most on this instance (arrival-rate: up to maxVUs).
fn max_possible_vus_of(plan: &TestPlan, s: &ScenarioConfig) -> u64 {
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
        } => plan
            .tuple
            .resegment(*max_vus)
            .map_or(0, |t| t.scale((*max_vus).max(*pre_allocated_vus))),
        _ => plan.scenario_vus(s),
    }
}

/// k6's `GetMaxPossibleVUs`: the most VUs overlapping scenarios may hold at once.
pub fn max_possible_vus(plan: &TestPlan) -> u64 {
    plan.peak_vus(|s| max_possible_vus_of(plan, s))
}

/// The planned maximum duration rounded to 100 ms, as k6's header shows it.
pub fn max_duration(plan: &TestPlan) -> Duration {
    let ns = plan.total_duration().as_nanos() as u64;
    let step = 100_000_000;
    Duration::from_nanos((ns + step / 2) / step * step)
}

/// Scenarios in k6's order: by startTime, then by name.
pub fn sorted_scenarios(plan: &TestPlan) -> Vec<&ScenarioConfig> {
    let mut v: Vec<&ScenarioConfig> = plan.scenarios.iter().collect();
    v.sort_by(|a, b| {
        a.start_time_ns
            .cmp(&b.start_time_ns)
            .then_with(|| a.name.cmp(&b.name))
    });
    v
}

/// The execution header k6 prints before the test (`script` as given on the command line,
/// `outputs` the outputs' descriptions).
pub fn execution_header(plan: &TestPlan, script: &str, outputs: &[String], colors: bool) -> String {
    let value = |s: &str| {
        if colors {
            format!("\x1b[36m{s}\x1b[0m")
        } else {
            s.to_string()
        }
    };
    let mut b = String::new();
    let _ = writeln!(b);
    let _ = writeln!(b, "     execution: {}", value("local"));
    let _ = writeln!(b, "        script: {}", value(script));
    let outs = if outputs.is_empty() {
        "-".to_string()
    } else {
        outputs.join(", ")
    };
    let _ = writeln!(b, "        output: {}", value(&outs));
    let _ = writeln!(b);
    let n = plan.scenarios.len();
    let desc = if n == 1 {
        "1 scenario".to_string()
    } else {
        format!("{n} scenarios")
    };
    let _ = writeln!(
        b,
        "     scenarios: {}",
        value(&format!(
            "({:.2}%) {desc}, {} max VUs, {} max duration (incl. graceful stop):",
            segment_length(plan) * 100.0,
            max_possible_vus(plan),
            GoDuration::from_std(max_duration(plan))
        ))
    );
    for s in sorted_scenarios(plan) {
        let _ = writeln!(b, "              * {}: {}", s.name, describe(plan, s));
    }
    let _ = writeln!(b);
    b
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::options::Options;

    fn plan(script_options: serde_json::Value) -> TestPlan {
        let o = Options::from_script(&script_options).unwrap();
        TestPlan::new(o).unwrap()
    }

    #[test]
    fn header_as_k6() {
        let p = plan(serde_json::json!({
            "scenarios": {
                "b": { "executor": "shared-iterations", "vus": 1, "iterations": 4, "startTime": "1s" },
                "a": { "executor": "constant-vus", "vus": 2, "duration": "3s" },
            }
        }));
        let h = execution_header(&p, "s1.js", &[], false);
        assert_eq!(
            h,
            "\n     execution: local\n        script: s1.js\n        output: -\n\n     \
             scenarios: (100.00%) 2 scenarios, 3 max VUs, 10m31s max duration (incl. graceful stop):\n              \
             * a: 2 looping VUs for 3s (gracefulStop: 30s)\n              \
             * b: 4 iterations shared among 1 VUs (maxDuration: 10m0s, startTime: 1s, gracefulStop: 30s)\n\n"
        );
    }

    #[test]
    fn descriptions_of_every_executor() {
        let p = plan(serde_json::json!({
            "scenarios": {
                "pv": { "executor": "per-vu-iterations", "vus": 2, "iterations": 3, "exec": "other" },
                "rv": { "executor": "ramping-vus", "startVUs": 1, "stages": [{"duration": "2s", "target": 5}, {"duration": "1s", "target": 0}] },
                "car": { "executor": "constant-arrival-rate", "rate": 10, "timeUnit": "1s", "duration": "5s", "preAllocatedVUs": 2, "maxVUs": 8 },
                "rar": { "executor": "ramping-arrival-rate", "startRate": 1, "timeUnit": "1m", "preAllocatedVUs": 3, "stages": [{"duration": "1m", "target": 120}] },
            }
        }));
        let d: Vec<String> = p.scenarios.iter().map(|s| describe(&p, s)).collect();
        assert!(d.contains(&"3 iterations for each of 2 VUs (maxDuration: 10m0s, exec: other, gracefulStop: 30s)".to_string()), "{d:?}");
        assert!(d.contains(&"Up to 5 looping VUs for 3s over 2 stages (gracefulRampDown: 30s, gracefulStop: 30s)".to_string()), "{d:?}");
        assert!(
            d.contains(&"10.00 iterations/s for 5s (maxVUs: 2-8, gracefulStop: 30s)".to_string()),
            "{d:?}"
        );
        assert!(
            d.contains(
                &"Up to 2.00 iterations/s for 1m0s over 1 stages (maxVUs: 3, gracefulStop: 30s)"
                    .to_string()
            ),
            "{d:?}"
        );
    }
}
