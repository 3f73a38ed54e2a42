//! The engine: options, scenarios, execution segments, executors and the scheduler that runs a test.
//! It is JS-agnostic: it reaches scripts only through the [`Runner`] and [`Vu`] traits below (k6's
//! Runner/ActiveVU seam), so executors are tested with Rust-closure VUs and no JS engine.
//!
//! Data flow: `options` (script < env < CLI) -> scenarios -> execution plan for this instance's
//! segment -> executors start/stop VUs and iterations on time -> VUs emit samples.

pub mod controller;
pub mod duration;
pub mod executor;
pub mod options;
pub mod scheduler;
pub mod segment;
pub mod state;
pub mod vu_pool;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::SystemTime;

use futures_util::future::BoxFuture;
use tokio_util::sync::CancellationToken;

use crate::metrics::TagSet;

/// Identity of one VU, fixed for its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct VuIds {
    /// 1-based id within this instance (`exec.vu.idInInstance`, `__VU`).
    pub id_in_instance: u64,
    /// 1-based id across all instances of a distributed test (`exec.vu.idInTest`).
    pub id_in_test: u64,
}

/// What a VU needs to know about the scenario it runs an iteration for. Shared by all iterations of
/// one scenario.
#[derive(Clone, Debug)]
pub struct ScenarioInfo {
    /// Scenario name (`exec.scenario.name`, the `scenario` tag).
    pub name: String,
    /// Executor name, e.g. `constant-vus` (`exec.scenario.executor`).
    pub executor: String,
    /// Exported function to call (`exec`, default `default`).
    pub exec: String,
    /// Extra `__ENV` entries for this scenario.
    pub env: BTreeMap<String, String>,
    /// Tags added to every sample of this scenario (the `scenario` tag is included).
    pub tags: TagSet,
    /// When the scenario started (`exec.scenario.startTime`).
    pub start_time: SystemTime,
}

/// One iteration to run.
#[derive(Clone, Debug)]
pub struct IterationSpec {
    pub scenario: Arc<ScenarioInfo>,
    /// 0-based iteration number within this scenario on this instance (`exec.scenario.iterationInInstance`).
    pub iteration_in_instance: u64,
    /// 0-based iteration number within this scenario across all instances (`exec.scenario.iterationInTest`).
    pub iteration_in_test: u64,
    /// Cancelled when the iteration must be interrupted (gracefulStop, gracefulRampDown, abort).
    /// The VU stops at its next host call (HTTP, sleep) or via the JS interrupt handler.
    pub interrupt: CancellationToken,
    /// The JSON result of `setup()`, passed as first argument to the exec function. Shared: the VU
    /// parses it once per distinct `Arc`.
    pub setup_data: Arc<SetupData>,
}

/// How one iteration ended.
#[derive(Clone, Debug, PartialEq)]
pub enum IterationOutcome {
    /// Ran to its end.
    Completed,
    /// Threw an exception; it still counts as an iteration (k6 logs it and goes on).
    Failed(String),
    /// Cut short through [`IterationSpec::interrupt`]; emits no `iterations` sample.
    Interrupted,
    /// The script called `exec.test.abort()`: the whole test must stop (exit 108).
    Aborted(String),
    /// The VU is gone (its driver failed, its stack overflowed): its loop must stop and the whole
    /// test fails; never counted as an iteration.
    Lost(String),
}

impl IterationOutcome {
    /// True when the VU must not start another iteration (the test is aborted or the VU lost).
    pub fn ends_loop(&self) -> bool {
        matches!(
            self,
            IterationOutcome::Aborted(_) | IterationOutcome::Lost(_)
        )
    }
}

/// Errors a runner reports while creating VUs or running setup/teardown.
#[derive(Debug, Clone, thiserror::Error)]
pub enum RunError {
    /// An exception in the init context, setup or teardown (k6 exit 107). Carries the message with
    /// the script position.
    #[error("{0}")]
    Script(String),
    /// `exec.test.abort()` during setup or teardown (k6 exit 108).
    #[error("test aborted: {0}")]
    Aborted(String),
    /// setup, teardown or handleSummary exceeded its timeout (k6 exit 100/101), in k6's words.
    #[error("{}() execution timed out after {} seconds", .part.function(), .limit.as_secs_f64())]
    Timeout {
        /// Which function ran out of time.
        part: TimedPart,
        /// Its limit (`setupTimeout`, `teardownTimeout`, `handleSummaryTimeout`).
        limit: std::time::Duration,
    },
    /// The test was stopped from outside (a signal, the service) before it could start (k6 exit
    /// 105).
    #[error("{0}")]
    Interrupted(String),
    /// A VU was lost (its worker died, it overflowed its stack): the run fails.
    #[error("{0}")]
    VuLost(String),
    /// Anything else that stops the run.
    #[error("{0}")]
    Internal(String),
}

/// The script functions that run under a time limit of their own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimedPart {
    Setup,
    Teardown,
    HandleSummary,
}

impl TimedPart {
    /// The script function's name.
    pub fn function(self) -> &'static str {
        match self {
            TimedPart::Setup => "setup",
            TimedPart::Teardown => "teardown",
            TimedPart::HandleSummary => "handleSummary",
        }
    }

    /// The option that sets its limit.
    pub fn option(self) -> &'static str {
        match self {
            TimedPart::Setup => "setupTimeout",
            TimedPart::Teardown => "teardownTimeout",
            TimedPart::HandleSummary => "handleSummaryTimeout",
        }
    }
}

/// Data returned by `setup()`, JSON-serialised (k6 round-trips it through JSON).
pub type SetupData = Option<String>;

/// A virtual user ready to run iterations. `Send` so executors on any runtime can drive it; the JS
/// implementation forwards to a coroutine pinned to a worker thread.
pub trait Vu: Send + 'static {
    /// This VU's ids.
    fn ids(&self) -> VuIds;
    /// Runs one iteration of `spec.scenario.exec` with the setup data.
    fn run_iteration(&mut self, spec: IterationSpec) -> BoxFuture<'_, IterationOutcome>;
    /// The runtime this VU lives on, if it has one: executors drive the VU from a task there,
    /// so an iteration's command and reply stay on one thread (no cross-thread wake-ups).
    fn runtime(&self) -> Option<tokio::runtime::Handle> {
        None
    }
}

/// Creates VUs and runs the test's setup and teardown.
pub trait Runner: Send + Sync + 'static {
    type Vu: Vu;
    /// Creates and initialises one VU (its init context runs here).
    fn new_vu(&self, ids: VuIds) -> BoxFuture<'static, Result<Self::Vu, RunError>>;
    /// Runs `setup()` if the script exports it; returns its JSON-serialised result.
    fn setup(&self) -> BoxFuture<'static, Result<SetupData, RunError>>;
    /// Runs `teardown(data)` if the script exports it.
    fn teardown(&self, data: SetupData) -> BoxFuture<'static, Result<(), RunError>>;
}
