//! Live execution state of one test on this instance, shared lock-free (atomics) between the
//! scheduler, the executors and the JS side (`exec.instance.*`, `exec.scenario.progress`), and the
//! abort handle through which thresholds, signals and `exec.test.abort()` stop a test.

use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
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
    /// `PATCH /v1/status` with `stopped: true` (k6 exit 103).
    RestApi,
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

/// Where a test run is, with k6's numbers (`lib.ExecutionStatus`, the `status` of
/// `GET /v1/status`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u32)]
pub enum ExecutionStatus {
    Created = 0,
    InitVus = 1,
    InitExecutors = 2,
    InitDone = 3,
    PausedBeforeRun = 4,
    Started = 5,
    Setup = 6,
    Running = 7,
    Teardown = 8,
    Ended = 9,
    Interrupted = 10,
}

/// Counters of one test on this instance (k6 `lib.ExecutionState`).
#[derive(Debug, Default)]
pub struct ExecutionState {
    status: AtomicU32,
    /// Paused (`--paused` before the start, or the REST API); `resumed` wakes the waiters.
    paused: AtomicBool,
    resumed: tokio::sync::Notify,
    ended: AtomicBool,
    /// When the run stopped (ended or interrupted): the test run duration stands still then.
    stopped_at: OnceLock<Instant>,
    /// Pauses after the start: the current one and the total of the past ones (not counted in
    /// the test run duration, as k6).
    pauses: Mutex<(Option<Instant>, Duration)>,
    /// The first externally-controlled scenario's live settings (the REST API changes them).
    external: OnceLock<Arc<ExternalControl>>,
    /// What setup() returned (JSON), once it ran (`GET /v1/setup`).
    setup_data: Mutex<Option<String>>,
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

    /// The current [`ExecutionStatus`] as k6 numbers it.
    pub fn status(&self) -> u32 {
        self.status.load(Ordering::Relaxed)
    }

    pub(crate) fn set_status(&self, s: ExecutionStatus) {
        self.status.store(s as u32, Ordering::Relaxed);
    }

    /// True while paused.
    pub fn is_paused(&self) -> bool {
        self.paused.load(Ordering::Relaxed)
    }

    /// Pauses (`true`) or resumes the test; waiters of [`ExecutionState::wait_resumed`] go on.
    pub fn set_paused(&self, paused: bool) {
        if self.has_started()
            && let Ok(mut p) = self.pauses.lock()
        {
            match (paused, p.0) {
                (true, None) => p.0 = Some(Instant::now()),
                (false, Some(since)) => {
                    p.1 += since.elapsed();
                    p.0 = None;
                }
                _ => {}
            }
        }
        self.paused.store(paused, Ordering::Relaxed);
        if !paused {
            self.resumed.notify_waiters();
        }
    }

    /// Waits while paused; false when `stop` was cancelled first.
    pub async fn wait_resumed(&self, stop: &CancellationToken) -> bool {
        loop {
            let notified = self.resumed.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if !self.is_paused() {
                return true;
            }
            tokio::select! {
                _ = stop.cancelled() => return false,
                _ = notified => {}
            }
        }
    }

    /// True once the scenarios started (setup included), as k6's `HasStarted`.
    pub fn has_started(&self) -> bool {
        self.started.get().is_some()
    }

    /// True once the test ran to its end (not when it was aborted), as k6's `HasEnded`.
    pub fn has_ended(&self) -> bool {
        self.ended.load(Ordering::Relaxed)
    }

    pub(crate) fn mark_ended(&self) {
        self.ended.store(true, Ordering::Relaxed);
        self.mark_stopped();
    }

    /// The run is over (ended or interrupted): its duration stops growing.
    pub(crate) fn mark_stopped(&self) {
        let _ = self.stopped_at.set(Instant::now());
    }

    /// The externally-controlled scenario the REST API drives, if the test has one.
    pub fn external(&self) -> Option<Arc<ExternalControl>> {
        self.external.get().cloned()
    }

    pub(crate) fn set_external(&self, control: Arc<ExternalControl>) {
        let _ = self.external.set(control);
    }

    /// What setup() returned, as JSON, once it ran and returned something.
    pub fn setup_data(&self) -> Option<String> {
        self.setup_data.lock().ok().and_then(|d| d.clone())
    }

    pub(crate) fn set_setup_data(&self, data: Option<String>) {
        if let Ok(mut d) = self.setup_data.lock() {
            *d = data;
        }
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
        let Some((_, start)) = self.started.get() else {
            return Duration::ZERO;
        };
        let (pause_since, paused) = self.pauses.lock().map(|p| *p).unwrap_or_default();
        let end = self
            .stopped_at
            .get()
            .copied()
            .or(pause_since)
            .unwrap_or_else(Instant::now);
        end.saturating_duration_since(*start).saturating_sub(paused)
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

/// A change the REST API asks of a running externally-controlled executor; `reply` says whether
/// it was made.
#[derive(Debug)]
pub enum ExternalCommand {
    /// New active and maximum VUs (validated).
    Scale {
        vus: u64,
        max_vus: u64,
        reply: tokio::sync::oneshot::Sender<Result<(), String>>,
    },
    /// Pause (let running iterations finish, start none) or resume.
    Pause {
        paused: bool,
        reply: tokio::sync::oneshot::Sender<Result<(), String>>,
    },
}

#[derive(Debug, Default)]
struct ExternalInner {
    vus: u64,
    max_vus: u64,
    /// The executor's command channel, once it runs.
    running: Option<tokio::sync::mpsc::UnboundedSender<ExternalCommand>>,
}

/// The live settings of an externally-controlled scenario (k6's `ExternallyControlled`
/// executor's `UpdateConfig`/`SetPaused`): before the executor starts a change is only
/// recorded; after, it is sent to the executor, which answers once its VUs follow.
#[derive(Debug)]
pub struct ExternalControl {
    /// The scenario's name.
    pub name: String,
    start_max_vus: u64,
    inner: Mutex<ExternalInner>,
}

impl ExternalControl {
    /// The settings of the scenario's config.
    pub fn new(name: &str, vus: u64, max_vus: u64) -> Self {
        ExternalControl {
            name: name.to_string(),
            start_max_vus: max_vus,
            inner: Mutex::new(ExternalInner {
                vus,
                max_vus,
                running: None,
            }),
        }
    }

    /// Current (vus, maxVUs).
    pub fn current(&self) -> (u64, u64) {
        self.inner
            .lock()
            .map(|i| (i.vus, i.max_vus))
            .unwrap_or_default()
    }

    /// Sets `vus` and/or `maxVUs`, with k6's validation and texts.
    pub async fn scale(&self, vus: Option<i64>, max_vus: Option<i64>) -> Result<(), String> {
        let (cur_vus, cur_max) = self.current();
        let vus = vus.unwrap_or(cur_vus as i64);
        let max = max_vus.unwrap_or(cur_max as i64);
        let mut problems = Vec::new();
        if vus < 0 {
            problems.push("the number of VUs can't be negative".to_string());
        }
        if max < vus {
            problems.push(format!(
                "the number of active VUs ({vus}) must be less than or equal to the number of maxVUs ({max})"
            ));
        }
        if !problems.is_empty() {
            return Err(format!(
                "invalid configuration supplied: {}",
                problems.join(", ")
            ));
        }
        if (max as u64) < self.start_max_vus {
            return Err(format!(
                "the new number of max VUs cannot be lower than the starting number of max VUs ({})",
                self.start_max_vus
            ));
        }
        let (vus, max_vus) = (vus as u64, max as u64);
        let tx = {
            let Ok(mut inner) = self.inner.lock() else {
                return Err("internal error: the executor's state is poisoned".to_string());
            };
            match &inner.running {
                Some(tx) => tx.clone(),
                None => {
                    inner.vus = vus;
                    inner.max_vus = max_vus;
                    return Ok(());
                }
            }
        };
        let (reply, answer) = tokio::sync::oneshot::channel();
        tx.send(ExternalCommand::Scale {
            vus,
            max_vus,
            reply,
        })
        .map_err(|_| "the externally controlled executor has finished".to_string())?;
        answer
            .await
            .map_err(|_| "the externally controlled executor has finished".to_string())?
    }

    /// Pauses or resumes the running executor.
    pub async fn set_paused(&self, paused: bool) -> Result<(), String> {
        let tx = self.inner.lock().ok().and_then(|i| i.running.clone());
        let Some(tx) = tx else {
            return Err(
                "cannot pause the externally controlled executor before it has started".to_string(),
            );
        };
        let (reply, answer) = tokio::sync::oneshot::channel();
        tx.send(ExternalCommand::Pause { paused, reply })
            .map_err(|_| "the externally controlled executor has finished".to_string())?;
        answer
            .await
            .map_err(|_| "the externally controlled executor has finished".to_string())?
    }

    /// The executor starts: the settings it starts with and where commands arrive.
    pub(crate) fn start(
        &self,
    ) -> (
        u64,
        u64,
        tokio::sync::mpsc::UnboundedReceiver<ExternalCommand>,
    ) {
        let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
        let Ok(mut inner) = self.inner.lock() else {
            return (0, self.start_max_vus, rx);
        };
        inner.running = Some(tx);
        (inner.vus, inner.max_vus, rx)
    }

    /// The executor follows new settings.
    pub(crate) fn applied(&self, vus: u64, max_vus: u64) {
        if let Ok(mut inner) = self.inner.lock() {
            inner.vus = vus;
            inner.max_vus = max_vus;
        }
    }

    /// The executor has ended: later changes are refused.
    pub(crate) fn finished(&self) {
        if let Ok(mut inner) = self.inner.lock() {
            inner.running = None;
        }
    }
}
