//! The pool of initialised VUs shared by all scenarios: a VU serves one scenario at a time and goes
//! back to the pool when that scenario ends. Creates VUs through the [`Runner`] with k6's ids
//! (`idInInstance` = local count, `idInTest` = global position in this instance's stripe), up front
//! with bounded parallelism and later on demand for arrival-rate executors.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use futures_util::StreamExt;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use super::segment::{ExecutionTuple, SegmentedIndex};
use super::state::ExecutionState;
use super::{RunError, Runner, VuIds};

/// Idle VUs plus the means to create more.
pub struct VuPool<R: Runner> {
    runner: Arc<R>,
    ids: SegmentedIndex,
    idle: Mutex<VecDeque<R::Vu>>,
    returned: Notify,
    state: Arc<ExecutionState>,
}

impl<R: Runner> VuPool<R> {
    /// An empty pool; ids follow `tuple` (the test's original execution tuple).
    pub fn new(runner: Arc<R>, tuple: ExecutionTuple, state: Arc<ExecutionState>) -> Self {
        VuPool {
            runner,
            ids: SegmentedIndex::new(tuple),
            idle: Mutex::new(VecDeque::new()),
            returned: Notify::new(),
            state,
        }
    }

    /// Creates one VU with the next ids (not added to the pool).
    pub async fn create(&self) -> Result<R::Vu, RunError> {
        let (scaled, unscaled) = self.ids.next();
        let ids = VuIds {
            id_in_instance: scaled,
            id_in_test: unscaled,
        };
        let vu = self.runner.new_vu(ids).await?;
        self.state.vu_initialized();
        Ok(vu)
    }

    /// Creates `n` VUs, at most `parallelism` at a time, and adds them to the pool. Stops early
    /// (`Ok`) when `stop` is cancelled; fails on the first VU that fails to initialise.
    pub async fn init(
        &self,
        n: u64,
        parallelism: usize,
        stop: &CancellationToken,
    ) -> Result<(), RunError> {
        let mut created = futures_util::stream::iter(0..n)
            .map(|_| self.create())
            .buffer_unordered(parallelism.max(1));
        let mut vus = Vec::with_capacity(n as usize);
        loop {
            tokio::select! {
                biased;
                _ = stop.cancelled() => break,
                next = created.next() => match next {
                    Some(vu) => vus.push(vu?),
                    None => break,
                },
            }
        }
        vus.sort_by_key(|v| super::Vu::ids(v).id_in_instance);
        self.put(vus);
        Ok(())
    }

    /// Takes up to `n` idle VUs without waiting.
    pub fn try_take(&self, n: u64) -> Vec<R::Vu> {
        let mut idle = match self.idle.lock() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        };
        let k = (n as usize).min(idle.len());
        idle.drain(..k).collect()
    }

    /// Takes `n` VUs, waiting for other scenarios to return theirs if needed. Returns fewer when
    /// `stop` is cancelled first.
    pub async fn take(&self, n: u64, stop: &CancellationToken) -> Vec<R::Vu> {
        let mut got = self.try_take(n);
        while (got.len() as u64) < n {
            let notified = self.returned.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            got.extend(self.try_take(n - got.len() as u64));
            if got.len() as u64 >= n {
                break;
            }
            tracing::debug!(
                missing = n - got.len() as u64,
                "waiting for VUs to come back to the pool"
            );
            tokio::select! {
                _ = stop.cancelled() => break,
                _ = notified => {}
            }
        }
        got
    }

    /// Returns VUs to the pool.
    pub fn put(&self, vus: impl IntoIterator<Item = R::Vu>) {
        {
            let mut idle = match self.idle.lock() {
                Ok(g) => g,
                Err(p) => p.into_inner(),
            };
            idle.extend(vus);
        }
        self.returned.notify_waiters();
    }

    /// Number of idle VUs.
    pub fn idle_len(&self) -> usize {
        self.idle.lock().map(|g| g.len()).unwrap_or(0)
    }
}
