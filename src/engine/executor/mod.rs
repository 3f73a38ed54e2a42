//! Executors: one per k6 executor, each running one scenario on this instance's execution segment
//! (k6 reference §1.4, §6.4, §6.5). An executor receives an [`ExecCtx`] (the scenario, the shared VU
//! pool, the segment, the sample channel, the abort handle) and starts iterations on VUs on time;
//! it emits `dropped_iterations` samples and updates [`ExecutionState`]. VUs themselves emit the
//! `iterations`/`iteration_duration`/`data_*` samples. When its own time is up, an executor lets
//! running iterations finish for `gracefulStop`, then interrupts them, and returns its VUs.

mod arrival;
mod constant_arrival_rate;
mod constant_vus;
mod externally_controlled;
mod per_vu_iterations;
mod ramping_arrival_rate;
mod ramping_vus;
mod shared_iterations;

use std::sync::Arc;
use std::time::Duration;

use tokio::task::JoinSet;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::options::scenarios::{ExecutorConfig, ScenarioConfig};
use super::segment::{ExecutionTuple, SegmentedIndex};
use super::state::{AbortReason, ExecutionState, ScenarioProgress, TestAbort};
use super::vu_pool::VuPool;
use super::{IterationOutcome, IterationSpec, Runner, ScenarioInfo, SetupData, Vu};
use crate::metrics::{Sample, SampleSender, TagSet, builtin};

pub use ramping_arrival_rate::arrival_times;
pub use ramping_vus::{VuStep, ramping_vu_steps};

/// Everything an executor needs to run its scenario.
pub struct ExecCtx<R: Runner> {
    pub config: Arc<ScenarioConfig>,
    pub scenario: Arc<ScenarioInfo>,
    /// The test's execution tuple (this instance's segment).
    pub tuple: ExecutionTuple,
    pub pool: Arc<VuPool<R>>,
    pub samples: SampleSender,
    pub state: Arc<ExecutionState>,
    pub progress: Arc<ScenarioProgress>,
    pub abort: TestAbort,
    pub setup_data: Arc<SetupData>,
    /// Tags of executor-emitted samples (`dropped_iterations`): the scenario's tags.
    pub tags: Arc<TagSet>,
}

/// Runs the scenario's executor to its end (incl. gracefulStop) or until the test is aborted.
pub async fn run<R: Runner>(ctx: Arc<ExecCtx<R>>) {
    ctx.progress.mark_started();
    match ctx.config.executor.clone() {
        ExecutorConfig::SharedIterations {
            vus,
            iterations,
            max_duration_ns,
        } => shared_iterations::run(&ctx, vus, iterations, max_duration_ns).await,
        ExecutorConfig::PerVuIterations {
            vus,
            iterations,
            max_duration_ns,
        } => per_vu_iterations::run(&ctx, vus, iterations, max_duration_ns).await,
        ExecutorConfig::ConstantVus { vus, duration_ns } => {
            constant_vus::run(&ctx, vus, duration_ns).await
        }
        ExecutorConfig::ExternallyControlled {
            vus,
            max_vus,
            duration_ns,
        } => externally_controlled::run(&ctx, vus, max_vus, duration_ns).await,
        ExecutorConfig::RampingVus {
            start_vus,
            stages,
            graceful_ramp_down_ns,
        } => ramping_vus::run(&ctx, start_vus, &stages, graceful_ramp_down_ns).await,
        ExecutorConfig::ConstantArrivalRate {
            rate,
            time_unit_ns,
            duration_ns,
            pre_allocated_vus,
            max_vus,
        } => {
            constant_arrival_rate::run(
                &ctx,
                rate,
                time_unit_ns,
                duration_ns,
                pre_allocated_vus,
                max_vus,
            )
            .await
        }
        ExecutorConfig::RampingArrivalRate {
            start_rate,
            time_unit_ns,
            stages,
            pre_allocated_vus,
            max_vus,
        } => {
            ramping_arrival_rate::run(
                &ctx,
                start_rate,
                time_unit_ns,
                &stages,
                pre_allocated_vus,
                max_vus,
            )
            .await
        }
    }
    ctx.progress.mark_finished();
}

impl<R: Runner> ExecCtx<R> {
    /// Runs one iteration on `vu` with the next iteration numbers of `index`, and accounts for
    /// its outcome. `Aborted` stops the whole test.
    pub(crate) async fn iteration(
        &self,
        vu: &mut R::Vu,
        index: &SegmentedIndex,
        interrupt: &CancellationToken,
    ) -> IterationOutcome {
        let (scaled, unscaled) = index.next();
        let spec = IterationSpec {
            scenario: self.scenario.clone(),
            iteration_in_instance: scaled - 1,
            iteration_in_test: unscaled - 1,
            interrupt: interrupt.clone(),
            setup_data: self.setup_data.clone(),
        };
        self.progress.iteration_started();
        let outcome = vu.run_iteration(spec).await;
        self.progress.iteration_ended();
        // An iteration that completes without ever waiting must not starve the runtime.
        tokio::task::consume_budget().await;
        match &outcome {
            IterationOutcome::Completed | IterationOutcome::Failed(_) => {
                self.state.add_completed();
                self.progress.iteration_done();
            }
            IterationOutcome::Interrupted => self.state.add_interrupted(),
            IterationOutcome::Aborted(msg) => {
                tracing::warn!(scenario = %self.scenario.name, "test aborted by the script: {msg}");
                self.state.add_interrupted();
                self.abort.abort(AbortReason::Script(msg.clone()));
            }
            IterationOutcome::Lost(msg) => {
                tracing::error!(scenario = %self.scenario.name, "a VU was lost, stopping the test: {msg}");
                self.abort.abort(AbortReason::VuLost(msg.clone()));
            }
        }
        outcome
    }

    /// `n` VUs start working for this scenario (`vus`, and the scenario's own count).
    pub(crate) fn vu_activated(&self, n: u64) {
        self.state.vu_activated(n);
        self.progress.vus_changed(true, n);
    }

    /// `n` VUs stop working for this scenario.
    pub(crate) fn vu_deactivated(&self, n: u64) {
        self.state.vu_deactivated(n);
        self.progress.vus_changed(false, n);
    }

    /// `n` VUs are held by this arrival-rate scenario (its own count, shown in the progress); the
    /// `vus` gauge counts them only while they run an iteration, as k6's activeVUPool does.
    pub(crate) fn vus_held(&self, n: u64) {
        self.progress.vus_changed(true, n);
    }

    /// `n` VUs go back from this arrival-rate scenario.
    pub(crate) fn vus_released(&self, n: u64) {
        self.progress.vus_changed(false, n);
    }

    /// Emits `dropped_iterations` += n.
    pub(crate) fn dropped(&self, n: u64) {
        if n == 0 {
            return;
        }
        self.state.add_dropped(n);
        let _ = self.samples.send(vec![Sample::now(
            builtin::DROPPED_ITERATIONS,
            self.tags.clone(),
            n as f64,
        )]);
    }

    /// A token cancelled when this executor's iterations must be interrupted (also on abort).
    pub(crate) fn hard_stop(&self) -> CancellationToken {
        self.abort.token().child_token()
    }

    /// gracefulStop.
    pub(crate) fn graceful_stop(&self) -> Duration {
        Duration::from_nanos(self.config.graceful_stop_ns)
    }
}

/// Sleeps until `deadline`; returns early (false) when `stop` is cancelled.
/// Spawns `fut` into `set` on `runtime` (the worker that owns the VU the task drives, from
/// [`crate::engine::Vu::runtime`]), so the VU and its loop share a thread; else on this runtime.
pub(crate) fn spawn_near<T: Send + 'static>(
    set: &mut tokio::task::JoinSet<T>,
    runtime: Option<tokio::runtime::Handle>,
    fut: impl std::future::Future<Output = T> + Send + 'static,
) {
    match runtime {
        Some(handle) => {
            set.spawn_on(fut, &handle);
        }
        None => {
            set.spawn(fut);
        }
    }
}

/// The loop of the VU-looping executors (constant-vus, per-vu-iterations, shared-iterations):
/// takes `vus` VUs and drives each from a task next to it that starts iterations while its
/// `more()` (one per VU, from `more_for`) says so and the executor is not stopped; at `end`, runs
/// [`finish_loops`] and returns the VUs to the pool.
pub(crate) async fn run_vu_loops<R: Runner, F>(
    ctx: &Arc<ExecCtx<R>>,
    vus: u64,
    index: Arc<SegmentedIndex>,
    end: Instant,
    mut more_for: impl FnMut() -> F,
) where
    F: FnMut() -> bool + Send + 'static,
{
    let soft = CancellationToken::new();
    let hard = ctx.hard_stop();
    let mut set = tokio::task::JoinSet::new();
    for mut vu in ctx.pool.take(vus, &hard).await {
        let (ctx, index, soft, hard) = (ctx.clone(), index.clone(), soft.clone(), hard.clone());
        let mut more = more_for();
        ctx.vu_activated(1);
        let near = vu.runtime();
        spawn_near(&mut set, near, async move {
            while !soft.is_cancelled() && !hard.is_cancelled() && more() {
                if ctx.iteration(&mut vu, &index, &hard).await.ends_loop() {
                    break;
                }
            }
            ctx.vu_deactivated(1);
            vu
        });
    }
    let vus = finish_loops(&mut set, end, &soft, &hard, ctx.graceful_stop()).await;
    ctx.pool.put(vus);
}

pub(crate) async fn sleep_until(deadline: Instant, stop: &CancellationToken) -> bool {
    tokio::select! {
        biased;
        _ = stop.cancelled() => false,
        _ = tokio::time::sleep_until(deadline) => true,
    }
}

/// The common end of VU-looping executors: wait for the loops to end by themselves until `end`
/// (or an abort), then tell them to start no new iteration (`soft`), give running iterations
/// `grace`, then interrupt them (`hard`), and collect every VU back. `Vu` tasks return their VU.
pub(crate) async fn finish_loops<V: Send + 'static>(
    set: &mut JoinSet<V>,
    end: Instant,
    soft: &CancellationToken,
    hard: &CancellationToken,
    grace: Duration,
) -> Vec<V> {
    let mut vus = Vec::with_capacity(set.len());
    let collect = |r: Result<V, tokio::task::JoinError>, vus: &mut Vec<V>| match r {
        Ok(vu) => vus.push(vu),
        Err(e) => tracing::error!("a VU task failed: {e}"),
    };
    // Phase 1: the executor's own time.
    loop {
        tokio::select! {
            biased;
            _ = hard.cancelled() => break,
            r = set.join_next() => match r {
                Some(r) => collect(r, &mut vus),
                None => return vus,
            },
            _ = tokio::time::sleep_until(end) => break,
        }
    }
    soft.cancel();
    // Phase 2: gracefulStop.
    let grace_end = Instant::now() + grace;
    loop {
        tokio::select! {
            biased;
            _ = hard.cancelled() => break,
            r = set.join_next() => match r {
                Some(r) => collect(r, &mut vus),
                None => return vus,
            },
            _ = tokio::time::sleep_until(grace_end) => break,
        }
    }
    // Phase 3: interrupt what still runs.
    hard.cancel();
    while let Some(r) = set.join_next().await {
        collect(r, &mut vus);
    }
    vus
}

#[cfg(test)]
mod tests;
