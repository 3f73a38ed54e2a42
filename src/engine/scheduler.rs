//! The scheduler: runs one test on this instance (k6 `execution.Scheduler.Run`). Receives the
//! [`Runner`], the validated [`TestPlan`], the sample channel, the [`TestAbort`] handle and the
//! shared [`ExecutionState`]. Initialises `vus_max` VUs up front (bounded parallelism), runs setup,
//! starts every scenario at its startTime on the shared VU pool, emits the `vus`/`vus_max` gauges
//! every second, stops everything on abort, runs teardown (also after an abort, as k6 does), and
//! returns a [`RunReport`].

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use tokio::task::JoinSet;
use tokio::time::Instant;

use super::controller::{Barrier, Once, SharedController};
use super::executor::{self, ExecCtx};
use super::options::plan::TestPlan;
use super::options::scenarios::ExecutorConfig;
use super::state::{
    AbortReason, ExecutionState, ExecutionStatus, ExternalControl, ScenarioProgress, TestAbort,
};
use super::vu_pool::VuPool;
use super::{RunError, Runner, ScenarioInfo, SetupData, TimedPart};
use crate::metrics::{Sample, SampleSender, TagSet, builtin};

/// How a test ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RunEnd {
    /// Every scenario ran to its end.
    Completed,
    /// A threshold with `abortOnFail` stopped it (k6 exit 99).
    AbortedByThreshold,
    /// `exec.test.abort(message)` in an iteration (k6 exit 108).
    AbortedByScript(String),
    /// A signal or the service stopped it (k6 exit 105).
    Interrupted,
    /// A VU was lost; the test stopped and failed.
    VuLost(String),
    /// `PATCH /v1/status` with `stopped: true` (k6 exit 103).
    StoppedFromApi,
}

/// The outcome of [`run_test`].
#[derive(Clone, Debug)]
pub struct RunReport {
    pub end: RunEnd,
    /// What `setup()` returned (None when it did not run or returned nothing).
    pub setup_data: SetupData,
    pub iterations_completed: u64,
    pub iterations_interrupted: u64,
    pub dropped_iterations: u64,
    /// VUs initialised in total.
    pub vus_max: u64,
    /// A teardown failure (exception, abort, timeout); the test itself still ran.
    pub teardown_error: Option<RunError>,
    /// A setup failure (exception, `fail()`, abort, timeout): no scenario and no teardown ran, but
    /// the summary and thresholds are still produced, as k6 does.
    pub setup_error: Option<RunError>,
}

/// Tuning of [`run_test`].
#[derive(Clone)]
pub struct SchedulerConfig {
    /// VUs initialised at the same time (default: the number of CPUs).
    pub init_parallelism: usize,
    /// Period of the `vus`/`vus_max` samples (k6: 1 s).
    pub gauge_period: Duration,
    /// Where the instances of a distributed test meet (local: nobody to wait for).
    pub controller: SharedController,
}

impl Default for SchedulerConfig {
    fn default() -> Self {
        SchedulerConfig {
            init_parallelism: std::thread::available_parallelism().map_or(2, |n| n.get()),
            gauge_period: Duration::from_secs(1),
            controller: super::controller::local(),
        }
    }
}

/// `vus`/`vus_max` as the whole test has them: this instance's plus those the other instances
/// reported (scale-out coordinator; zero elsewhere).
fn emit_gauges(samples: &SampleSender, tags: &Arc<TagSet>, state: &ExecutionState) {
    let (remote_vus, remote_vus_max) = state.remote_vus();
    let now = SystemTime::now();
    let s = |metric, value: u64| Sample {
        metric,
        tags: tags.clone(),
        value: value as f64,
        time: now,
        metadata: None,
    };
    let _ = samples.send(vec![
        s(builtin::VUS, state.vus_active() + remote_vus),
        s(builtin::VUS_MAX, state.vus_initialized() + remote_vus_max),
    ]);
}

/// Runs `timed` with `limit`; past it, k6's timeout error for `part`.
async fn with_timeout<T>(
    part: TimedPart,
    limit: Duration,
    timed: impl Future<Output = Result<T, RunError>>,
) -> Result<T, RunError> {
    match tokio::time::timeout(limit, timed).await {
        Ok(r) => r,
        Err(_) => Err(RunError::Timeout { part, limit }),
    }
}

/// [`run_test_with`] with the default configuration.
pub async fn run_test<R: Runner>(
    runner: Arc<R>,
    plan: &TestPlan,
    samples: SampleSender,
    abort: TestAbort,
    state: Arc<ExecutionState>,
) -> Result<RunReport, RunError> {
    run_test_with(
        runner,
        plan,
        samples,
        abort,
        state,
        SchedulerConfig::default(),
    )
    .await
}

/// [`run_test_with`] with the default configuration and `controller`.
pub async fn run_test_controlled<R: Runner>(
    runner: Arc<R>,
    plan: &TestPlan,
    samples: SampleSender,
    abort: TestAbort,
    state: Arc<ExecutionState>,
    controller: SharedController,
) -> Result<RunReport, RunError> {
    let config = SchedulerConfig {
        controller,
        ..SchedulerConfig::default()
    };
    run_test_with(runner, plan, samples, abort, state, config).await
}

/// Runs the whole test. `Err` when VU initialisation fails (k6 exits 107 then, with no summary);
/// otherwise a report, also for aborted tests and a failed setup (which skips the scenarios and
/// teardown).
pub async fn run_test_with<R: Runner>(
    runner: Arc<R>,
    plan: &TestPlan,
    samples: SampleSender,
    abort: TestAbort,
    state: Arc<ExecutionState>,
    config: SchedulerConfig,
) -> Result<RunReport, RunError> {
    let run_tags = Arc::new(plan.options.run_tags());
    let pool = Arc::new(VuPool::new(
        runner.clone(),
        plan.tuple.clone(),
        state.clone(),
    ));

    // Gauges from the start, so that a long init shows up.
    let gauges_stop = tokio_util::sync::CancellationToken::new();
    let gauges = {
        let (samples, tags, state, stop) = (
            samples.clone(),
            run_tags.clone(),
            state.clone(),
            gauges_stop.clone(),
        );
        let period = config.gauge_period;
        tokio::spawn(async move {
            let mut tick = tokio::time::interval_at(Instant::now() + period, period);
            loop {
                tokio::select! {
                    _ = stop.cancelled() => break,
                    _ = tick.tick() => emit_gauges(&samples, &tags, &state),
                }
            }
            // No sample at the end: k6 emits these only on its 1 s tick, so a test shorter than
            // a second shows no `vus` in its summary.
        })
    };
    let result = run_inner(runner, plan, &samples, &abort, &state, &pool, config).await;
    gauges_stop.cancel();
    let _ = gauges.await;
    result
}

async fn run_inner<R: Runner>(
    runner: Arc<R>,
    plan: &TestPlan,
    samples: &SampleSender,
    abort: &TestAbort,
    state: &Arc<ExecutionState>,
    pool: &Arc<VuPool<R>>,
    config: SchedulerConfig,
) -> Result<RunReport, RunError> {
    let vus_max = plan.vus_max();
    tracing::debug!(vus_max, "initialising VUs");
    let controller = config.controller.clone();
    if plan.options.paused == Some(true) {
        state.set_paused(true);
    }
    if let Some((name, vus, max_vus)) = plan.scenarios.iter().find_map(|s| match s.executor {
        ExecutorConfig::ExternallyControlled { vus, max_vus, .. } => {
            Some((s.name.clone(), vus, max_vus))
        }
        _ => None,
    }) {
        state.set_external(Arc::new(ExternalControl::new(&name, vus, max_vus)));
    }
    state.set_status(ExecutionStatus::InitVus);
    pool.init(vus_max, config.init_parallelism, abort.token())
        .await?;
    state.set_status(ExecutionStatus::InitDone);
    tokio::select! {
        biased;
        _ = abort.token().cancelled() => {}
        r = controller.signal_and_wait(Barrier::VusInitialized) => r?,
    }
    // `--paused` (or a pause through the REST API before the start): wait for a resume.
    if state.is_paused() && !abort.is_aborted() {
        tracing::debug!("execution is paused, waiting for resume or interrupt");
        state.set_status(ExecutionStatus::PausedBeforeRun);
        state.wait_resumed(abort.token()).await;
    }
    if abort.is_aborted() {
        state.set_status(ExecutionStatus::Interrupted);
    } else {
        state.set_status(ExecutionStatus::Started);
        state.mark_started();
    }

    let mut setup_data: SetupData = None;
    if !abort.is_aborted() {
        state.set_status(ExecutionStatus::Setup);
        let run_setup = plan.options.no_setup != Some(true);
        let limit = plan.options.setup_timeout();
        let work = runner.setup();
        let setup = controller.run_once(
            Once::Setup,
            Box::pin(async move {
                if run_setup {
                    with_timeout(TimedPart::Setup, limit, work).await
                } else {
                    Ok(None)
                }
            }),
        );
        tokio::select! {
            biased;
            _ = abort.token().cancelled() => {}
            r = setup => match r {
                Ok(data) => setup_data = data,
                Err(e) => {
                    state.set_status(ExecutionStatus::Ended);
                    return Ok(report(RunEnd::Completed, None, state, None, Some(e)));
                }
            },
        }
        state.set_setup_data(setup_data.clone());
    }
    let shared_setup = Arc::new(setup_data.clone());

    let mut scenarios = JoinSet::new();
    if !abort.is_aborted() {
        state.set_status(ExecutionStatus::Running);
        let test_start = Instant::now();
        for config in &plan.scenarios {
            let progress = Arc::new(ScenarioProgress::new(
                &config.name,
                Duration::from_nanos(config.run_duration_ns()),
            ));
            state.add_scenario(progress.clone());
            let mut tags = plan.options.run_tags();
            for (k, v) in &config.tags {
                tags.insert(k, v);
            }
            if plan.options.system_tags().iter().any(|t| t == "scenario") {
                tags.insert("scenario", &config.name);
            }
            let (config, pool, samples, state, abort, setup) = (
                Arc::new(config.clone()),
                pool.clone(),
                samples.clone(),
                state.clone(),
                abort.clone(),
                shared_setup.clone(),
            );
            let tuple = plan.tuple.clone();
            scenarios.spawn(async move {
                let at = test_start + Duration::from_nanos(config.start_time_ns);
                if !executor::sleep_until(at, abort.token()).await {
                    return;
                }
                let tags = Arc::new(tags);
                let scenario = Arc::new(ScenarioInfo {
                    name: config.name.clone(),
                    executor: config.executor_name.clone(),
                    exec: config.exec.clone(),
                    env: config.env.clone(),
                    tags: (*tags).clone(),
                    start_time: SystemTime::now(),
                });
                let ctx = Arc::new(ExecCtx {
                    config,
                    scenario,
                    tuple,
                    pool,
                    samples,
                    state,
                    progress,
                    abort,
                    setup_data: setup,
                    tags,
                });
                executor::run(ctx).await;
            });
        }
    }
    while let Some(r) = scenarios.join_next().await {
        if let Err(e) = r {
            tracing::error!("a scenario task failed: {e}");
        }
    }

    let end = match abort.reason() {
        None => RunEnd::Completed,
        Some(AbortReason::Threshold) => RunEnd::AbortedByThreshold,
        Some(AbortReason::Script(m)) => RunEnd::AbortedByScript(m),
        Some(AbortReason::Signal) => RunEnd::Interrupted,
        Some(AbortReason::VuLost(m)) => RunEnd::VuLost(m),
        Some(AbortReason::RestApi) => RunEnd::StoppedFromApi,
    };

    // The other instances' last samples are in before teardown runs (k6 does the same).
    if let Err(e) = controller.signal_and_wait(Barrier::TestDone).await {
        tracing::error!("waiting for the other instances failed: {e}");
    }
    // k6 runs teardown even after an abort (thresholds, test.abort(), first Ctrl+C).
    state.set_status(ExecutionStatus::Teardown);
    let teardown_error = if plan.options.no_teardown == Some(true) {
        None
    } else {
        let limit = plan.options.teardown_timeout();
        let work = runner.teardown(setup_data.clone());
        controller
            .run_once(
                Once::Teardown,
                Box::pin(async move {
                    with_timeout(TimedPart::Teardown, limit, work)
                        .await
                        .map(|()| None)
                }),
            )
            .await
            .err()
    };
    if abort.is_aborted() {
        state.set_status(ExecutionStatus::Interrupted);
        state.mark_stopped();
    } else {
        state.set_status(ExecutionStatus::Ended);
        state.mark_ended();
    }
    Ok(report(end, setup_data, state, teardown_error, None))
}

fn report(
    end: RunEnd,
    setup_data: SetupData,
    state: &ExecutionState,
    teardown_error: Option<RunError>,
    setup_error: Option<RunError>,
) -> RunReport {
    RunReport {
        end,
        setup_data,
        iterations_completed: state.iterations_completed(),
        iterations_interrupted: state.iterations_interrupted(),
        dropped_iterations: state.dropped_iterations(),
        vus_max: state.vus_initialized(),
        teardown_error,
        setup_error,
    }
}
