//! Executors and the scheduler driven by a Rust-closure Runner under a paused clock, so schedules
//! are checked exactly (k6 reference §1.4, §6.4, §6.5).

use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::FutureExt;
use futures_util::future::BoxFuture;
use serde_json::{Value, json};
use tokio::time::Instant;

use crate::engine::options::Options;
use crate::engine::options::plan::TestPlan;
use crate::engine::scheduler::{RunEnd, RunReport, run_test};
use crate::engine::state::{AbortReason, ExecutionState, TestAbort};
use crate::engine::{IterationOutcome, IterationSpec, RunError, Runner, SetupData, Vu, VuIds};
use crate::metrics::{SampleBatch, builtin};

/// One iteration as the test VU saw it.
#[derive(Clone, Debug)]
pub struct Rec {
    pub vu: u64,
    pub vu_in_test: u64,
    pub scenario: String,
    pub start_ms: u64,
    pub iter_in_test: u64,
    pub outcome: IterationOutcome,
}

type Behave = dyn Fn(&IterationSpec, VuIds) -> (Duration, IterationOutcome) + Send + Sync;

pub struct TestRunner {
    base: Instant,
    log: Arc<Mutex<Vec<Rec>>>,
    behave: Arc<Behave>,
    teardowns: Arc<Mutex<Vec<SetupData>>>,
}

pub struct TestVu {
    ids: VuIds,
    base: Instant,
    log: Arc<Mutex<Vec<Rec>>>,
    behave: Arc<Behave>,
}

impl Vu for TestVu {
    fn ids(&self) -> VuIds {
        self.ids
    }
    fn run_iteration(&mut self, spec: IterationSpec) -> BoxFuture<'_, IterationOutcome> {
        async move {
            let start_ms = self.base.elapsed().as_millis() as u64;
            let (d, out) = (self.behave)(&spec, self.ids);
            let outcome = tokio::select! {
                _ = spec.interrupt.cancelled() => IterationOutcome::Interrupted,
                _ = tokio::time::sleep(d) => out,
            };
            self.log.lock().unwrap().push(Rec {
                vu: self.ids.id_in_instance,
                vu_in_test: self.ids.id_in_test,
                scenario: spec.scenario.name.clone(),
                start_ms,
                iter_in_test: spec.iteration_in_test,
                outcome: outcome.clone(),
            });
            outcome
        }
        .boxed()
    }
}

impl Runner for TestRunner {
    type Vu = TestVu;
    fn new_vu(&self, ids: VuIds) -> BoxFuture<'static, Result<TestVu, RunError>> {
        let vu = TestVu {
            ids,
            base: self.base,
            log: self.log.clone(),
            behave: self.behave.clone(),
        };
        async move { Ok(vu) }.boxed()
    }
    fn setup(&self) -> BoxFuture<'static, Result<SetupData, RunError>> {
        async { Ok(Some("{\"a\":1}".to_string())) }.boxed()
    }
    fn teardown(&self, data: SetupData) -> BoxFuture<'static, Result<(), RunError>> {
        self.teardowns.lock().unwrap().push(data);
        async { Ok(()) }.boxed()
    }
}

pub struct Run {
    pub report: RunReport,
    pub recs: Vec<Rec>,
    pub samples: Vec<SampleBatch>,
    pub teardowns: Vec<SetupData>,
}

impl Run {
    fn completed(&self) -> Vec<&Rec> {
        self.recs
            .iter()
            .filter(|r| r.outcome == IterationOutcome::Completed)
            .collect()
    }
    fn starts(&self) -> Vec<u64> {
        let mut v: Vec<u64> = self.recs.iter().map(|r| r.start_ms).collect();
        v.sort();
        v
    }
    fn metric_sum(&self, id: crate::metrics::MetricId) -> f64 {
        self.samples
            .iter()
            .flatten()
            .filter(|s| s.metric == id)
            .map(|s| s.value)
            .sum()
    }
}

fn plan_for(options: Value, segment: Option<(&str, &str)>) -> TestPlan {
    let mut o = Options::from_json(&options).unwrap().0;
    if let Some((seg, seq)) = segment {
        o.execution_segment = Some(seg.into());
        o.execution_segment_sequence = Some(seq.into());
    }
    TestPlan::new(o).unwrap()
}

async fn run_with(
    plan: &TestPlan,
    abort: TestAbort,
    behave: impl Fn(&IterationSpec, VuIds) -> (Duration, IterationOutcome) + Send + Sync + 'static,
) -> Run {
    let log = Arc::new(Mutex::new(Vec::new()));
    let teardowns = Arc::new(Mutex::new(Vec::new()));
    let runner = Arc::new(TestRunner {
        base: Instant::now(),
        log: log.clone(),
        behave: Arc::new(behave),
        teardowns: teardowns.clone(),
    });
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let state = Arc::new(ExecutionState::new());
    let report = run_test(runner, plan, tx, abort, state).await.unwrap();
    let mut samples = Vec::new();
    while let Ok(b) = rx.try_recv() {
        samples.push(b);
    }
    let recs = log.lock().unwrap().clone();
    let teardowns = teardowns.lock().unwrap().clone();
    Run {
        report,
        recs,
        samples,
        teardowns,
    }
}

async fn run(options: Value, iter: Duration) -> Run {
    run_with(&plan_for(options, None), TestAbort::new(), move |_, _| {
        (iter, IterationOutcome::Completed)
    })
    .await
}

const MS: Duration = Duration::from_millis(1);

#[tokio::test(start_paused = true)]
async fn shared_iterations_runs_exactly_all() {
    let r = run(json!({"vus": 5, "iterations": 100}), 10 * MS).await;
    assert_eq!(r.completed().len(), 100);
    assert_eq!(r.report.iterations_completed, 100);
    let mut ids: Vec<u64> = r.recs.iter().map(|x| x.iter_in_test).collect();
    ids.sort();
    assert_eq!(ids, (0..100).collect::<Vec<_>>());
    assert_eq!(r.report.end, RunEnd::Completed);
    assert_eq!(r.report.setup_data.as_deref(), Some("{\"a\":1}"));
    assert_eq!(r.teardowns, vec![Some("{\"a\":1}".to_string())]);
    assert_eq!(r.metric_sum(builtin::DROPPED_ITERATIONS), 0.0);
}

#[tokio::test(start_paused = true)]
async fn shared_iterations_drops_the_rest_at_max_duration() {
    let r = run(json!({"scenarios": {"s": {"executor": "shared-iterations", "vus": 2, "iterations": 10, "maxDuration": "1s", "gracefulStop": "0s"}}}), 300 * MS).await;
    // Each VU starts at 0, 300, 600, 900 ms: 8 started, the ones at 900 ms are interrupted at 1 s.
    assert_eq!(r.completed().len(), 6);
    assert_eq!(r.report.iterations_interrupted, 2);
    assert_eq!(r.metric_sum(builtin::DROPPED_ITERATIONS), 2.0);
}

#[tokio::test(start_paused = true)]
async fn per_vu_iterations_each_vu_runs_its_share() {
    let r = run(
        json!({"scenarios": {"p": {"executor": "per-vu-iterations", "vus": 3, "iterations": 4}}}),
        10 * MS,
    )
    .await;
    assert_eq!(r.completed().len(), 12);
    for vu in 1..=3 {
        assert_eq!(r.recs.iter().filter(|x| x.vu == vu).count(), 4);
    }
    assert!(r.recs.iter().all(|x| x.scenario == "p"));
}

#[tokio::test(start_paused = true)]
async fn constant_vus_loops_for_duration() {
    let r = run(json!({"vus": 2, "duration": "1s"}), 100 * MS).await;
    assert_eq!(r.completed().len(), 20);
    assert_eq!(r.report.iterations_interrupted, 0);
}

#[tokio::test(start_paused = true)]
async fn constant_arrival_rate_starts_on_time() {
    let r = run(json!({"scenarios": {"c": {"executor": "constant-arrival-rate", "rate": 8, "duration": "1s", "preAllocatedVUs": 2}}}), 10 * MS).await;
    assert_eq!(r.starts(), (0..8).map(|k| k * 125).collect::<Vec<_>>());
    assert_eq!(r.metric_sum(builtin::DROPPED_ITERATIONS), 0.0);
}

#[tokio::test(start_paused = true)]
async fn ramping_arrival_rate_runs_exactly_30() {
    let r = run(json!({"scenarios": {"r": {"executor": "ramping-arrival-rate", "startRate": 0, "preAllocatedVUs": 5,
        "stages": [{"duration": "1s", "target": 20}, {"duration": "1s", "target": 20}]}}}), 10 * MS).await;
    assert_eq!(r.completed().len(), 30);
    let s = r.starts();
    assert!(
        (316..=317).contains(&s[0]),
        "sqrt(2/20) s, timers have 1 ms resolution: {}",
        s[0]
    );
    assert_eq!(s[9], 1000);
    assert_eq!(s[29], 2000);
}

#[test]
fn arrival_time_formula() {
    use crate::engine::options::scenarios::ResolvedStage;
    let st = |d: u64, t: u64| ResolvedStage {
        duration_ns: d * 1_000_000_000,
        target: t,
    };
    let v: Vec<u64> =
        super::arrival_times(0, 1_000_000_000, vec![st(1, 20), st(1, 20)], 0..).collect();
    assert_eq!(v.len(), 30);
    // 10/s constant then down to 0: 10 + 5 iterations.
    let v: Vec<u64> =
        super::arrival_times(10, 1_000_000_000, vec![st(1, 10), st(1, 0)], 0..).collect();
    assert_eq!(v.len(), 15);
    assert_eq!(v[0], 100_000_000);
}

#[tokio::test(start_paused = true)]
async fn ramping_vus_start_and_stop_times() {
    let r = run(json!({"scenarios": {"v": {"executor": "ramping-vus", "startVUs": 0, "gracefulRampDown": "0s",
        "stages": [{"duration": "1s", "target": 4}, {"duration": "1s", "target": 0}]}}}), 100 * MS).await;
    for (vu, start, stop) in [
        (1, 250, 2000),
        (2, 500, 1750),
        (3, 750, 1500),
        (4, 1000, 1250),
    ] {
        let mine: Vec<&Rec> = r.recs.iter().filter(|x| x.vu == vu).collect();
        assert_eq!(mine.first().unwrap().start_ms, start, "VU {vu} start");
        let last = mine.last().unwrap();
        assert!(
            last.start_ms < stop && last.start_ms + 100 >= stop,
            "VU {vu} last start {} vs stop {stop}",
            last.start_ms
        );
    }
    let steps = super::ramping_vu_steps(
        &crate::engine::segment::ExecutionTuple::full(),
        0,
        &[crate::engine::options::scenarios::ResolvedStage {
            duration_ns: 1_000,
            target: 4,
        }],
    );
    assert_eq!(
        steps
            .iter()
            .map(|s| (s.offset_ns, s.planned))
            .collect::<Vec<_>>(),
        vec![(0, 0), (250, 1), (500, 2), (750, 3), (1000, 4)]
    );
}

#[tokio::test(start_paused = true)]
async fn ramping_vus_graceful_ramp_down_interrupts_long_iterations() {
    let r = run(json!({"scenarios": {"v": {"executor": "ramping-vus", "startVUs": 2, "gracefulRampDown": "200ms", "gracefulStop": "0s",
        "stages": [{"duration": "500ms", "target": 2}, {"duration": "0s", "target": 1}, {"duration": "2s", "target": 1}]}}}), 900 * MS).await;
    // VU 2 is stopped at 500 ms mid-iteration and interrupted 200 ms later; VU 1 loops on.
    let vu2: Vec<&Rec> = r.recs.iter().filter(|x| x.vu == 2).collect();
    assert_eq!(vu2.len(), 1);
    assert_eq!(vu2[0].outcome, IterationOutcome::Interrupted);
    assert_eq!(
        r.recs
            .iter()
            .filter(|x| x.vu == 1 && x.outcome == IterationOutcome::Completed)
            .count(),
        2
    );
}

#[tokio::test(start_paused = true)]
async fn graceful_stop_interrupts_a_long_iteration() {
    let start = Instant::now();
    let r = run(json!({"scenarios": {"c": {"executor": "constant-vus", "vus": 1, "duration": "1s", "gracefulStop": "2s"}}}), 5000 * MS).await;
    assert_eq!(r.recs.len(), 1);
    assert_eq!(r.recs[0].outcome, IterationOutcome::Interrupted);
    assert_eq!(r.report.iterations_interrupted, 1);
    assert_eq!(start.elapsed(), 3000 * MS);
    // An iteration ending within gracefulStop completes.
    let r = run(json!({"scenarios": {"c": {"executor": "constant-vus", "vus": 1, "duration": "1s", "gracefulStop": "2s"}}}), 1500 * MS).await;
    assert_eq!(r.completed().len(), 1);
}

#[tokio::test(start_paused = true)]
async fn dropped_iterations_when_vus_are_busy() {
    let r = run(json!({"scenarios": {"c": {"executor": "constant-arrival-rate", "rate": 10, "duration": "1s", "preAllocatedVUs": 1, "tags": {"t": "x"}}}}), 250 * MS).await;
    assert_eq!(r.starts(), vec![0, 300, 600, 900]);
    assert_eq!(r.metric_sum(builtin::DROPPED_ITERATIONS), 6.0);
    assert_eq!(r.report.dropped_iterations, 6);
    let s = r
        .samples
        .iter()
        .flatten()
        .find(|s| s.metric == builtin::DROPPED_ITERATIONS)
        .unwrap();
    assert_eq!(s.tags.get("scenario"), Some("c"));
    assert_eq!(s.tags.get("t"), Some("x"));
}

#[tokio::test(start_paused = true)]
async fn arrival_rate_grows_vus_up_to_max() {
    let r = run(json!({"scenarios": {"c": {"executor": "constant-arrival-rate", "rate": 10, "duration": "1s", "preAllocatedVUs": 0, "maxVUs": 2}}}), 150 * MS).await;
    // t=0 dropped (a VU is created), then 2 VUs alternate at 100 ms ticks.
    assert_eq!(
        r.metric_sum(builtin::DROPPED_ITERATIONS),
        2.0,
        "{:?}",
        r.starts()
    );
    assert_eq!(r.completed().len(), 8);
    assert_eq!(r.report.vus_max, 2);
}

#[tokio::test(start_paused = true)]
async fn script_abort_stops_everything() {
    let plan = plan_for(
        json!({"scenarios": {
        "a": {"executor": "constant-vus", "vus": 2, "duration": "10s"},
        "b": {"executor": "constant-arrival-rate", "rate": 5, "duration": "10s", "preAllocatedVUs": 1}}}),
        None,
    );
    let start = Instant::now();
    let r = run_with(&plan, TestAbort::new(), |spec, _| {
        if spec.scenario.name == "a" && spec.iteration_in_instance == 5 {
            (100 * MS, IterationOutcome::Aborted("stop".into()))
        } else {
            (100 * MS, IterationOutcome::Completed)
        }
    })
    .await;
    assert_eq!(r.report.end, RunEnd::AbortedByScript("stop".into()));
    assert!(start.elapsed() < Duration::from_secs(1));
    assert_eq!(r.teardowns.len(), 1, "teardown still runs");
}

#[tokio::test(start_paused = true)]
async fn threshold_abort_interrupts_and_runs_teardown() {
    let plan = plan_for(json!({"vus": 1, "duration": "10s"}), None);
    let abort = TestAbort::new();
    let a2 = abort.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(1500)).await;
        a2.abort(AbortReason::Threshold);
    });
    let start = Instant::now();
    let r = run_with(&plan, abort, |_, _| {
        (Duration::from_secs(1), IterationOutcome::Completed)
    })
    .await;
    assert_eq!(r.report.end, RunEnd::AbortedByThreshold);
    assert_eq!(start.elapsed(), 1500 * MS);
    assert_eq!(r.report.iterations_completed, 1);
    assert_eq!(r.report.iterations_interrupted, 1);
    assert_eq!(r.teardowns.len(), 1);
}

#[tokio::test(start_paused = true)]
async fn scenarios_share_the_pool_and_start_on_time() {
    let plan = plan_for(
        json!({"tags": {"run": "1"}, "scenarios": {
        "a": {"executor": "per-vu-iterations", "vus": 2, "iterations": 1, "gracefulStop": "0s", "maxDuration": "1s"},
        "b": {"executor": "per-vu-iterations", "vus": 2, "iterations": 1, "startTime": "1s"}}}),
        None,
    );
    assert_eq!(plan.vus_max(), 2);
    let r = run_with(&plan, TestAbort::new(), |spec, _| {
        assert_eq!(spec.scenario.tags.get("run"), Some("1"));
        assert_eq!(
            spec.scenario.tags.get("scenario"),
            Some(spec.scenario.name.as_str())
        );
        (10 * MS, IterationOutcome::Completed)
    })
    .await;
    let b: Vec<u64> = r
        .recs
        .iter()
        .filter(|x| x.scenario == "b")
        .map(|x| x.start_ms)
        .collect();
    assert_eq!(b, vec![1000, 1000]);
    assert_eq!(r.report.vus_max, 2);
    // vus / vus_max gauges carry only the test-wide tags.
    let g = r
        .samples
        .iter()
        .flatten()
        .find(|s| s.metric == builtin::VUS_MAX)
        .unwrap();
    assert_eq!(g.value, 2.0);
    assert_eq!(g.tags.get("run"), Some("1"));
    assert_eq!(g.tags.len(), 1);
}

#[tokio::test(start_paused = true)]
async fn segments_split_work_exactly() {
    let seq = "0,1/2,3/4,1";
    let segs = ["0:1/2", "1/2:3/4", "3/4:1"];
    // shared-iterations vus=3 iterations=10: 7/3/0 with k6's global numbers.
    let mut per = Vec::new();
    for seg in segs {
        let plan = plan_for(json!({"vus": 3, "iterations": 10}), Some((seg, seq)));
        let r = run_with(&plan, TestAbort::new(), |_, _| {
            (10 * MS, IterationOutcome::Completed)
        })
        .await;
        let mut ids: Vec<u64> = r.recs.iter().map(|x| x.iter_in_test).collect();
        ids.sort();
        per.push(ids);
    }
    assert_eq!(per, vec![vec![0, 2, 3, 5, 6, 8, 9], vec![1, 4, 7], vec![]]);
    // constant-arrival-rate 8/s: instances start global iterations 0,2,4,6 / 1,5 / 3,7.
    let mut starts = Vec::new();
    for seg in segs {
        let plan = plan_for(
            json!({"scenarios": {"c": {"executor": "constant-arrival-rate", "rate": 8, "duration": "1s", "preAllocatedVUs": 4}}}),
            Some((seg, seq)),
        );
        let r = run_with(&plan, TestAbort::new(), |_, _| {
            (10 * MS, IterationOutcome::Completed)
        })
        .await;
        starts.push(r.starts());
    }
    assert_eq!(
        starts,
        vec![vec![0, 250, 500, 750], vec![125, 625], vec![375, 875]]
    );
    // ramping-vus 0->12: VU ids in test follow the stripe; the total is the whole test.
    let mut total = 0;
    for seg in segs {
        let plan = plan_for(
            json!({"stages": [{"duration": "1s", "target": 12}, {"duration": "1s", "target": 12}], "vus": 0}),
            Some((seg, seq)),
        );
        let r = run_with(&plan, TestAbort::new(), |_, _| {
            (2000 * MS, IterationOutcome::Completed)
        })
        .await;
        let mut vus: Vec<u64> = r.recs.iter().map(|x| x.vu_in_test).collect();
        vus.sort();
        vus.dedup();
        total += vus.len();
        if seg == "1/2:3/4" {
            assert_eq!(vus, vec![2, 6, 10]);
        }
    }
    assert_eq!(total, 12);
}
