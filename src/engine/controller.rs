//! The controller seam (k6's `execution.Controller`): where the instances of one distributed test
//! wait for each other and share data that only one of them computes.
//!
//! The scheduler calls [`Controller::signal_and_wait`] at [`Barrier`]s and runs `setup()` and
//! `teardown()` through [`Controller::run_once`]. [`LocalController`] (one instance, `loadgate run`)
//! passes every barrier at once and runs everything itself; the scale-out coordinator and runners
//! (`crate::distributed`) implement it over NATS: the coordinator runs setup and teardown, runners
//! receive setup's data and skip teardown.

use std::sync::Arc;

use futures_util::future::BoxFuture;

use super::options::plan::TestPlan;
use super::state::{ExecutionState, TestAbort};
use super::{RunError, SetupData};

/// A point where every instance of a test waits for the others.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Barrier {
    /// This instance's VUs are initialised (before setup).
    VusInitialized,
    /// This instance's scenarios are over (before teardown).
    TestDone,
}

/// Work done once per test, on one instance.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Once {
    Setup,
    Teardown,
}

/// See the module docs.
pub trait Controller: Send + Sync + 'static {
    /// Called once the plan of this instance is known, before VUs are initialised: checks that
    /// the test can be distributed and starts whatever runs beside it (handing out segments,
    /// heartbeats). `state` and `abort` are this instance's. An error is a configuration error.
    fn prepare(
        &self,
        _plan: &TestPlan,
        _state: Arc<ExecutionState>,
        _abort: TestAbort,
    ) -> Result<(), String> {
        Ok(())
    }
    /// Signals that this instance reached `at` and waits until the test may go on.
    fn signal_and_wait(&self, at: Barrier) -> BoxFuture<'_, Result<(), RunError>>;
    /// Runs `work` if this instance is the one that does it, else obtains its result from that
    /// instance (setup data) or skips it (teardown: `Ok(None)`).
    fn run_once(
        &self,
        what: Once,
        work: BoxFuture<'static, Result<SetupData, RunError>>,
    ) -> BoxFuture<'_, Result<SetupData, RunError>>;
}

/// One instance alone: no waiting, everything runs here.
#[derive(Clone, Copy, Debug, Default)]
pub struct LocalController;

impl Controller for LocalController {
    fn signal_and_wait(&self, _at: Barrier) -> BoxFuture<'_, Result<(), RunError>> {
        Box::pin(async { Ok(()) })
    }

    fn run_once(
        &self,
        _what: Once,
        work: BoxFuture<'static, Result<SetupData, RunError>>,
    ) -> BoxFuture<'_, Result<SetupData, RunError>> {
        work
    }
}

/// The controller of a run (shared by the scheduler and whoever drives the protocol).
pub type SharedController = Arc<dyn Controller>;

/// The local controller as a [`SharedController`].
pub fn local() -> SharedController {
    Arc::new(LocalController)
}
