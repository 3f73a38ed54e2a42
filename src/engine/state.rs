//! Live execution state of one test on this instance, shared lock-free (atomics) between the
//! scheduler, the executors and the JS side (`exec.instance.*`, `exec.scenario.progress`), and the
//! abort handle through which thresholds, signals and `exec.test.abort()` stop a test.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, SystemTime};

use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

/// Why a test was stopped early.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AbortReason {
    /// A threshold with `abortOnFail` failed (k6 exit 99).
    Threshold,
    /// An OS signal or the service stopped the test (k6 exit 105).
    Signal,
    /// The script called `exec.test.abort(message)` (k6 exit 108).
    Script(String),
    /// A VU was lost (see [`crate::engine::IterationOutcome::Lost`]): the run fails.
    VuLost(String),
}

/// Stops a running test. Cheap to clone. The first reason given wins; a plain cancel of
/// [`TestAbort::token`] without a reason counts as [`AbortReason::Signal`].
#[derive(Clone, Debug, Default)]
pub struct TestAbort {
    token: CancellationToken,
    reason: Arc<Mutex<Option<AbortReason>>>,
}

impl TestAbort {
    /// A fresh handle.
    pub fn new() -> Self {
        Self::default()
    }

    /// Wraps an existing token (e.g. the service's shutdown token).
    pub fn from_token(token: CancellationToken) -> Self {
        TestAbort {
            token,
            reason: Arc::default(),
        }
    }

    /// Stops the test for `reason` (ignored if it was already stopped).
    pub fn abort(&self, reason: AbortReason) {
        if let Ok(mut r) = self.reason.lock()
            && r.is_none()
            && !self.token.is_cancelled()
        {
            *r = Some(reason);
        }
        self.token.cancel();
    }

    /// The token cancelled when the test must stop.
    pub fn token(&self) -> &CancellationToken {
        &self.token
    }

    /// True once stopped.
    pub fn is_aborted(&self) -> bool {
        self.token.is_cancelled()
    }

    /// Why it was stopped, if it was.
    pub fn reason(&self) -> Option<AbortReason> {
        if !self.token.is_cancelled() {
            return None;
        }
        let r = self.reason.lock().ok().and_then(|r| r.clone());
        Some(r.unwrap_or(AbortReason::Signal))
    }
}

/// Progress of one scenario (`exec.scenario.progress`).
#[derive(Debug)]
pub struct ScenarioProgress {
    /// Scenario name.
    pub name: String,
    planned_ns: u64,
    total_iterations: AtomicU64,
    done_iterations: AtomicU64,
    started: OnceLock<Instant>,
    finished: AtomicBool,
    finished_at: OnceLock<Instant>,
    /// When the scenarios were scheduled (a scenario waits its startTime from here).
    created: Instant,
    /// VUs this scenario holds now, and iterations running now (the progress display).
    vus_active: AtomicU64,
    iterations_running: AtomicU64,
}

impl ScenarioProgress {
    /// A scenario planned to run `planned` (its duration or maxDuration).
    pub fn new(name: &str, planned: Duration) -> Self {
        ScenarioProgress {
            name: name.to_string(),
            planned_ns: planned.as_nanos() as u64,
            total_iterations: AtomicU64::new(0),
            done_iterations: AtomicU64::new(0),
            started: OnceLock::new(),
            finished: AtomicBool::new(false),
            finished_at: OnceLock::new(),
            created: Instant::now(),
            vus_active: AtomicU64::new(0),
            iterations_running: AtomicU64::new(0),
        }
    }

    /// When the scenario was scheduled (its startTime counts from here).
    pub fn created_at(&self) -> Instant {
        self.created
    }

    /// When the executor started (after its startTime), if it has.
    pub fn started_at(&self) -> Option<Instant> {
        self.started.get().copied()
    }

    /// When the executor returned (incl. gracefulStop), if it has.
    pub fn finished_at(&self) -> Option<Instant> {
        self.finished_at.get().copied()
    }

    /// The planned run time (duration, maxDuration or the stages' sum).
    pub fn planned(&self) -> Duration {
        Duration::from_nanos(self.planned_ns)
    }

    /// Iterations done (full ones) and planned (0 for duration-based executors).
    pub fn iterations(&self) -> (u64, u64) {
        (
            self.done_iterations.load(Ordering::Relaxed),
            self.total_iterations.load(Ordering::Relaxed),
        )
    }

    /// VUs this scenario holds now.
    pub fn vus_active(&self) -> u64 {
        self.vus_active.load(Ordering::Relaxed)
    }

    /// Iterations running now.
    pub fn iterations_running(&self) -> u64 {
        self.iterations_running.load(Ordering::Relaxed)
    }

    pub(crate) fn vus_changed(&self, activated: bool, n: u64) {
        if activated {
            self.vus_active.fetch_add(n, Ordering::Relaxed);
        } else {
            self.vus_active.fetch_sub(n, Ordering::Relaxed);
        }
    }

    pub(crate) fn iteration_started(&self) {
        self.iterations_running.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn iteration_ended(&self) {
        self.iterations_running.fetch_sub(1, Ordering::Relaxed);
    }

    pub(crate) fn mark_started(&self) {
        let _ = self.started.set(Instant::now());
    }

    pub(crate) fn mark_finished(&self) {
        let _ = self.finished_at.set(Instant::now());
        self.finished.store(true, Ordering::Relaxed);
    }

    /// For iteration-based executors: the iterations this instance plans.
    pub(crate) fn set_total_iterations(&self, n: u64) {
        self.total_iterations.store(n, Ordering::Relaxed);
    }

    pub(crate) fn iteration_done(&self) {
        self.done_iterations.fetch_add(1, Ordering::Relaxed);
    }

    /// 0..1: iterations done / planned for iteration-based executors, else elapsed / duration.
    pub fn progress(&self) -> f64 {
        if self.finished.load(Ordering::Relaxed) {
            return 1.0;
        }
        let Some(start) = self.started.get() else {
            return 0.0;
        };
        let total = self.total_iterations.load(Ordering::Relaxed);
        let p = if total > 0 {
            self.done_iterations.load(Ordering::Relaxed) as f64 / total as f64
        } else if self.planned_ns > 0 {
            start.elapsed().as_nanos() as f64 / self.planned_ns as f64
        } else {
            0.0
        };
        p.clamp(0.0, 1.0)
    }
}

/// Counters of one test on this instance (k6 `lib.ExecutionState`).
#[derive(Debug, Default)]
pub struct ExecutionState {
    iterations_completed: AtomicU64,
    iterations_interrupted: AtomicU64,
    dropped_iterations: AtomicU64,
    vus_active: AtomicU64,
    vus_initialized: AtomicU64,
    /// `vus`/`vus_max` of the other instances of a distributed test (coordinator only).
    remote_vus: AtomicU64,
    remote_vus_max: AtomicU64,
    started: OnceLock<(SystemTime, Instant)>,
    scenarios: Mutex<Vec<Arc<ScenarioProgress>>>,
}

impl ExecutionState {
    /// Empty state.
    pub fn new() -> Self {
        Self::default()
    }

    /// Full iterations (incl. ones that threw) — `exec.instance.iterationsCompleted`.
    pub fn iterations_completed(&self) -> u64 {
        self.iterations_completed.load(Ordering::Relaxed)
    }

    /// Interrupted iterations — `exec.instance.iterationsInterrupted`.
    pub fn iterations_interrupted(&self) -> u64 {
        self.iterations_interrupted.load(Ordering::Relaxed)
    }

    /// Iterations dropped by executors.
    pub fn dropped_iterations(&self) -> u64 {
        self.dropped_iterations.load(Ordering::Relaxed)
    }

    /// VUs currently used by executors — `exec.instance.vusActive`, the `vus` metric.
    pub fn vus_active(&self) -> u64 {
        self.vus_active.load(Ordering::Relaxed)
    }

    /// VUs initialised so far — `exec.instance.vusInitialized`, the `vus_max` metric.
    pub fn vus_initialized(&self) -> u64 {
        self.vus_initialized.load(Ordering::Relaxed)
    }

    /// `vus` and `vus_max` summed over the other instances of a distributed test.
    pub fn remote_vus(&self) -> (u64, u64) {
        (
            self.remote_vus.load(Ordering::Relaxed),
            self.remote_vus_max.load(Ordering::Relaxed),
        )
    }

    /// Sets what [`ExecutionState::remote_vus`] returns (the scale-out coordinator, as runners
    /// report).
    pub fn set_remote_vus(&self, vus: u64, vus_max: u64) {
        self.remote_vus.store(vus, Ordering::Relaxed);
        self.remote_vus_max.store(vus_max, Ordering::Relaxed);
    }

    /// When the test started (wall clock), once it has.
    pub fn start_time(&self) -> Option<SystemTime> {
        self.started.get().map(|s| s.0)
    }

    /// Time since the test started — `exec.instance.currentTestRunDuration`.
    pub fn current_test_run_duration(&self) -> Duration {
        self.started.get().map_or(Duration::ZERO, |s| s.1.elapsed())
    }

    /// Progress of the scenario `name`, if it exists.
    pub fn scenario_progress(&self, name: &str) -> Option<f64> {
        let list = self.scenarios.lock().ok()?;
        list.iter().find(|s| s.name == name).map(|s| s.progress())
    }

    /// All scenarios' progress, in plan order.
    pub fn scenarios(&self) -> Vec<Arc<ScenarioProgress>> {
        self.scenarios.lock().map(|l| l.clone()).unwrap_or_default()
    }

    pub(crate) fn mark_started(&self) {
        let _ = self.started.set((SystemTime::now(), Instant::now()));
    }

    pub(crate) fn add_scenario(&self, p: Arc<ScenarioProgress>) {
        if let Ok(mut l) = self.scenarios.lock() {
            l.push(p);
        }
    }

    pub(crate) fn add_completed(&self) {
        self.iterations_completed.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn add_interrupted(&self) {
        self.iterations_interrupted.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn add_dropped(&self, n: u64) {
        self.dropped_iterations.fetch_add(n, Ordering::Relaxed);
    }

    pub(crate) fn vu_activated(&self, n: u64) {
        self.vus_active.fetch_add(n, Ordering::Relaxed);
    }

    pub(crate) fn vu_deactivated(&self, n: u64) {
        self.vus_active.fetch_sub(n, Ordering::Relaxed);
    }

    pub(crate) fn vu_initialized(&self) {
        self.vus_initialized.fetch_add(1, Ordering::Relaxed);
    }
}
