//! Options: precedence (k6 reference §1.1, incl. the RUN examples), shortcuts (§1.2), conflicts and
//! validation messages (checked against k6 v1.1).

use std::collections::HashMap;

use serde_json::json;

use super::plan::{ConfigError, TestPlan};
use super::scenarios::ExecutorConfig;
use super::*;
use std::time::Duration;

fn script(v: Value) -> Options {
    Options::from_json(&v).unwrap().0
}

fn env(pairs: &[(&str, &str)]) -> Options {
    let m: HashMap<String, String> = pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    Options::from_env(&m).unwrap()
}

fn plan(o: Options) -> TestPlan {
    TestPlan::new(o).unwrap()
}

fn only(p: &TestPlan) -> &ExecutorConfig {
    assert_eq!(p.scenarios.len(), 1);
    assert_eq!(p.scenarios[0].name, "default");
    &p.scenarios[0].executor
}

const SEC: u64 = 1_000_000_000;

#[test]
fn unknown_keys_are_reported_not_fatal() {
    let (o, unknown) = Options::from_json(&json!({"vus": 2, "foo": 1, "bar": {}})).unwrap();
    assert_eq!(o.vus, Some(2));
    assert_eq!(unknown, vec!["foo", "bar"]);
    assert!(Options::from_json(&json!({"vus": "x"})).is_err());
    assert!(Options::from_json(&json!(3)).is_err());
}

#[test]
fn precedence_script_env_cli() {
    // RUN: script iterations:4 -> K6_ITERATIONS=6 wins -> -i 8 wins.
    let s = script(json!({"iterations": 4}));
    let o = Options::consolidate(
        s.clone(),
        env(&[("K6_ITERATIONS", "6")]),
        Options::default(),
    );
    assert_eq!(o.iterations, Some(6));
    let cli = Options {
        iterations: Some(8),
        ..Default::default()
    };
    let o = Options::consolidate(s, env(&[("K6_ITERATIONS", "6")]), cli);
    assert_eq!(o.iterations, Some(8));
}

#[test]
fn higher_layer_execution_option_wipes_all_four() {
    // RUN: script {vus:2, iterations:4} + -d 1s -> constant-vus 2 VUs 1s.
    let s = script(json!({"vus": 2, "iterations": 4}));
    let cli = Options {
        duration: Some(GoDuration::from_secs(1)),
        ..Default::default()
    };
    let p = plan(Options::consolidate(s, Options::default(), cli));
    assert_eq!(
        only(&p),
        &ExecutorConfig::ConstantVus {
            vus: 2,
            duration_ns: SEC
        }
    );
    // env scenarios-less override of script scenarios
    let s = script(json!({"scenarios": {"x": {"executor": "shared-iterations"}}}));
    let p = plan(Options::consolidate(
        s,
        env(&[("K6_ITERATIONS", "1")]),
        Options::default(),
    ));
    assert_eq!(
        only(&p),
        &ExecutorConfig::SharedIterations {
            vus: 1,
            iterations: 1,
            max_duration_ns: 600 * SEC
        }
    );
    // VUs are kept, other fields merge individually.
    let o = Options::consolidate(
        script(json!({"vus": 3, "userAgent": "a", "tags": {"x": "1"}})),
        env(&[("K6_USER_AGENT", "b")]),
        Options::default(),
    );
    assert_eq!((o.vus, o.user_agent.as_deref()), (Some(3), Some("b")));
    assert_eq!(o.run_tags().get("x"), Some("1"));
}

#[test]
fn env_layer() {
    let o = env(&[
        ("K6_VUS", "3"),
        ("K6_DURATION", "1m30s"),
        ("K6_STAGES", "1s:2,1s:0"),
        ("K6_THRESHOLDS", r#"{"http_req_duration":["p(95)<200"]}"#),
        ("K6_TAGS", "a=1,b=2"),
        ("K6_SUMMARY_TREND_STATS", "avg,p(99)"),
        ("K6_SUMMARY_TIME_UNIT", "ms"),
        ("K6_NO_SETUP", "true"),
        ("K6_NO_TEARDOWN", "1"),
        ("K6_SETUP_TIMEOUT", "5s"),
        ("K6_INSECURE_SKIP_TLS_VERIFY", "T"),
        ("K6_SYSTEM_TAGS", "status,url"),
        ("PATH", "/bin"),
    ]);
    assert_eq!(o.vus, Some(3));
    assert_eq!(o.duration, Some(GoDuration::from_secs(90)));
    assert_eq!(o.stages.as_ref().map(Vec::len), Some(2));
    assert_eq!(
        o.stages.as_ref().unwrap()[0],
        Stage {
            duration: Some(GoDuration::from_secs(1)),
            target: Some(2)
        }
    );
    assert!(o.thresholds.as_ref().unwrap()["http_req_duration"].is_array());
    assert_eq!(o.tags.as_ref().unwrap().len(), 2);
    assert_eq!(o.summary_trend_stats(), vec!["avg", "p(99)"]);
    assert_eq!(o.summary_time_unit.as_deref(), Some("ms"));
    assert_eq!((o.no_setup, o.no_teardown), (Some(true), Some(true)));
    assert_eq!(o.setup_timeout(), Duration::from_secs(5));
    assert_eq!(o.insecure_skip_tls_verify, Some(true));
    assert_eq!(o.system_tags(), vec!["status", "url"]);
    let bad: HashMap<String, String> = [("K6_VUS".to_string(), "abc".to_string())].into();
    let e = Options::from_env(&bad).unwrap_err();
    assert!(
        e.to_string().contains("\"abc\"") && e.to_string().contains("K6_VUS"),
        "{e}"
    );
}

#[test]
fn shortcuts_table() {
    // iterations (+vus, duration) -> shared-iterations with maxDuration = duration.
    let p = plan(script(json!({"iterations": 3, "duration": "5s", "vus": 2})));
    assert_eq!(
        only(&p),
        &ExecutorConfig::SharedIterations {
            vus: 2,
            iterations: 3,
            max_duration_ns: 5 * SEC
        }
    );
    // duration -> constant-vus; unset vus behaves as 1.
    let p = plan(script(json!({"duration": "1s"})));
    assert_eq!(
        only(&p),
        &ExecutorConfig::ConstantVus {
            vus: 1,
            duration_ns: SEC
        }
    );
    // stages -> ramping-vus with startVUs = vus; stages without duration dropped.
    let p = plan(script(
        json!({"vus": 2, "stages": [{"duration": "1s", "target": 5}, {"target": 3}]}),
    ));
    match only(&p) {
        ExecutorConfig::RampingVus {
            start_vus, stages, ..
        } => {
            assert_eq!(*start_vus, 2);
            assert_eq!(stages.len(), 1);
        }
        other => panic!("{other:?}"),
    }
    // nothing -> per-vu-iterations 1x1 (vus ignored with a warning), also for explicit empties.
    for o in [
        json!({}),
        json!({"vus": 5}),
        json!({"stages": []}),
        json!({"scenarios": {}}),
        Value::Null,
    ] {
        let p = plan(script(o));
        assert_eq!(
            only(&p),
            &ExecutorConfig::PerVuIterations {
                vus: 1,
                iterations: 1,
                max_duration_ns: 600 * SEC
            }
        );
    }
    // scenarios used as they are.
    let p = plan(script(
        json!({"scenarios": {"a": {"executor": "constant-vus", "duration": "2s"}, "b": {"executor": "per-vu-iterations", "exec": "other"}}}),
    ));
    assert_eq!(
        p.scenarios
            .iter()
            .map(|s| s.name.as_str())
            .collect::<Vec<_>>(),
        vec!["a", "b"]
    );
    assert_eq!(p.exec_names(), vec!["default", "other"]);
}

#[test]
fn shortcut_conflicts() {
    let cases = [
        (
            json!({"iterations": 1, "stages": [{"duration": "1s", "target": 1}]}),
            "`iterations` and `stages`",
        ),
        (
            json!({"iterations": 1, "scenarios": {"a": {"executor": "per-vu-iterations"}}}),
            "`iterations` and `scenarios`",
        ),
        (
            json!({"duration": "1s", "stages": [{"duration": "1s", "target": 1}]}),
            "`duration` and `stages`",
        ),
        (
            json!({"duration": "1s", "scenarios": {"a": {"executor": "per-vu-iterations"}}}),
            "`duration` and `scenarios`",
        ),
        (
            json!({"stages": [{"duration": "1s", "target": 1}], "scenarios": {"a": {"executor": "per-vu-iterations"}}}),
            "`stages` and `scenarios`",
        ),
        (json!({"duration": "0s"}), "externally-controlled"),
    ];
    for (o, want) in cases {
        let e = TestPlan::new(script(o)).unwrap_err();
        assert!(e.to_string().contains(want), "{e}");
    }
}

#[test]
fn validation_collects_all_problems_with_k6_messages() {
    let o = script(json!({"scenarios": {
        "a b": {"executor": "shared-iterations", "vus": 5, "iterations": 2, "maxDuration": "500ms"},
        "c": {"executor": "constant-vus", "vus": -1},
        "f": {"executor": "constant-arrival-rate", "rate": 0, "preAllocatedVUs": 3, "maxVUs": 1, "duration": "1s"},
        "g": {"executor": "ramping-vus", "stages": []},
        "h": {"executor": "per-vu-iterations", "startTime": "-1s", "exec": ""},
        "i": {"executor": "nope"},
        "j": {"vus": 1},
        "k": {"executor": "constant-vus", "vus": 1, "duration": "1s", "bogus": 2},
        "l": {"executor": "ramping-arrival-rate", "stages": [{"duration": "1s"}]},
    }}));
    let e = TestPlan::new(o).unwrap_err();
    let text = e.to_string();
    let expected = [
        "scenario a b has configuration errors: the scenario name should contain only numbers, latin letters, underscores, and dashes, the number of iterations (2) can't be less than the number of VUs (5), the maxDuration must be at least 1s, but is 500ms",
        "scenario c has configuration errors: the number of VUs must be more than 0, the duration is unspecified",
        "scenario f has configuration errors: the iteration rate must be more than 0, maxVUs can't be less than preAllocatedVUs",
        "scenario g has configuration errors: at least one stage has to be specified",
        "scenario h has configuration errors: exec value cannot be empty, the startTime can't be negative",
        "scenario i has configuration errors: unknown executor type 'nope'",
        "scenario j has configuration errors: scenario 'j' doesn't have a specified executor type",
        "scenario k has configuration errors: json: unknown field \"bogus\"",
        "scenario l has configuration errors: stage 1 doesn't have a target, the number of preAllocatedVUs isn't specified",
    ];
    assert_eq!(e.0.len(), expected.len(), "{text}");
    for (got, want) in e.0.iter().zip(expected) {
        assert_eq!(got.to_string(), want);
    }
    assert!(text.starts_with(
        "There were problems with the specified script configuration:\n\t- scenario a b"
    ));
    // Bad durations fail when read, naming the value.
    let err = Options::from_json(&json!({"duration": "xyz"})).unwrap_err();
    assert!(err.to_string().contains("\"xyz\""), "{err}");
    // externally-controlled: k6 v1.1's problems, in its order.
    let e = TestPlan::new(script(json!({"scenarios": {"e": {
        "executor": "externally-controlled", "vus": 4, "maxVUs": 3, "gracefulStop": "1s"
    }}})))
    .unwrap_err();
    let ConfigError::Scenario { problems, .. } = &e.0[0] else {
        panic!("{e:?}")
    };
    assert_eq!(
        problems,
        &[
            "the number of active VUs (4) must be less than or equal to the number of maxVUs (3)",
            "the duration must be specified, for infinite duration use 0",
            "gracefulStop is not supported by the externally controlled executor",
        ]
    );
    // maxVUs defaults to vus and is initialised up front; no gracefulStop in the plan.
    let p = TestPlan::new(script(json!({"scenarios": {"e": {
        "executor": "externally-controlled", "vus": 2, "duration": "2s"
    }}})))
    .unwrap();
    assert_eq!(p.vus_max(), 2);
    assert_eq!(p.scenarios[0].planned_end_ns(), 2_000_000_000);
}

#[test]
fn derived_values() {
    // RUN: api startTime 500ms + maxDuration 10m + 30s -> 10m30.5s.
    let p = plan(script(json!({"scenarios": {
        "api": {"executor": "shared-iterations", "startTime": "500ms", "maxDuration": "10m"},
        "b": {"executor": "constant-vus", "vus": 2, "duration": "10s"},
        "c": {"executor": "constant-vus", "vus": 2, "duration": "10s"},
        "late": {"executor": "constant-arrival-rate", "rate": 1, "duration": "1s", "preAllocatedVUs": 7, "startTime": "1h"},
    }})));
    assert_eq!(
        GoDuration::from_std(p.total_duration()).to_string(),
        "1h0m31s"
    );
    assert_eq!(p.vus_max(), 7);
    let p = plan(script(json!({"scenarios": {
        "api": {"executor": "shared-iterations", "startTime": "500ms", "maxDuration": "10m"},
        "b": {"executor": "constant-vus", "vus": 2, "duration": "10s"},
        "c": {"executor": "constant-vus", "vus": 2, "duration": "10s"},
    }})));
    assert_eq!(
        GoDuration::from_std(p.total_duration()).to_string(),
        "10m30.5s"
    );
    assert_eq!(p.vus_max(), 5);
    // Sequential scenarios share VUs.
    let p = plan(script(json!({"scenarios": {
        "a": {"executor": "constant-vus", "vus": 3, "duration": "1s", "gracefulStop": "0s"},
        "b": {"executor": "constant-vus", "vus": 2, "duration": "1s", "startTime": "1s"},
    }})));
    assert_eq!(p.vus_max(), 3);
}

#[test]
fn segment_options_scale_vus_max() {
    let mut o = script(json!({"vus": 10, "iterations": 10}));
    o.execution_segment = Some("0:1/3".into());
    assert_eq!(plan(o.clone()).vus_max(), 3);
    o.execution_segment_sequence = Some("0,1/3,2/3,1".into());
    assert_eq!(plan(o.clone()).vus_max(), 4);
    o.execution_segment = Some("0:1/4".into());
    let e = TestPlan::new(o).unwrap_err();
    assert!(e.to_string().contains("couldn't find segment"), "{e}");
}

#[test]
fn options_json_like_k6() {
    let p = plan(script(json!({"iterations": 1, "tags": {"a": "b"}})));
    let v = p.options_json();
    assert!(v.get("iterations").is_none() && v.get("vus").is_none());
    assert_eq!(v["scenarios"]["default"]["executor"], "shared-iterations");
    assert_eq!(v["scenarios"]["default"]["iterations"], 1);
    assert!(v["scenarios"]["default"]["vus"].is_null());
    assert_eq!(v["tags"], json!({"a": "b"}));
    assert_eq!(
        v["summaryTrendStats"],
        json!(["avg", "min", "med", "max", "p(90)", "p(95)"])
    );
    assert!(v["setupTimeout"].is_null());
    assert!(v.get("insecureSkipTLSVerify").is_some());
}
