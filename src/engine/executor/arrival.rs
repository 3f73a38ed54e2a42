//! The common engine of the two arrival-rate executors (open model): start the iterations of a
//! precomputed schedule on time on any idle VU; when none is idle, count a `dropped_iterations`
//! and initialise one more VU in the background (one at a time) up to maxVUs, warning once when
//! the cap is reached. A VU counts in `vus` only while it runs an iteration (k6's activeVUPool);
//! the scenario's progress shows running/held VUs.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::task::JoinSet;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::{ExecCtx, finish_loops, sleep_until, spawn_near};
use crate::engine::segment::{ExecutionTuple, SegmentedIndex};
use crate::engine::{Runner, Vu};

type Idle<V> = Arc<Mutex<Vec<V>>>;

fn lock<V>(idle: &Idle<V>) -> std::sync::MutexGuard<'_, Vec<V>> {
    match idle.lock() {
        Ok(g) => g,
        Err(p) => p.into_inner(),
    }
}

/// The 0-based global iteration numbers this instance owns, in order.
pub(super) fn stripe(tuple: &ExecutionTuple) -> impl Iterator<Item = u64> + use<> {
    let t = tuple.clone();
    (1u64..).map(move |k| t.unscaled(k) - 1)
}

/// Runs `schedule` (offsets in ns from the scenario start, ascending) with `pre` VUs, growing to
/// `max`, numbering iterations by `iter_tuple`, and ends `end_ns` after the start (+ gracefulStop).
pub(super) async fn run<R: Runner>(
    ctx: &Arc<ExecCtx<R>>,
    schedule: impl Iterator<Item = u64>,
    end_ns: u64,
    pre: u64,
    max: u64,
    iter_tuple: ExecutionTuple,
) {
    let start = Instant::now();
    let hard = ctx.hard_stop();
    let index = Arc::new(SegmentedIndex::new(iter_tuple));
    let initial = ctx.pool.take(pre, &hard).await;
    let vus = Arc::new(AtomicU64::new(initial.len() as u64));
    ctx.vus_held(initial.len() as u64);
    let idle: Idle<R::Vu> = Arc::new(Mutex::new(initial));
    let initializing = Arc::new(AtomicBool::new(false));
    let mut creating = JoinSet::new();
    let mut running: JoinSet<()> = JoinSet::new();
    let mut warned = false;
    for offset in schedule {
        if !sleep_until(start + Duration::from_nanos(offset), &hard).await {
            break;
        }
        while running.try_join_next().is_some() {}
        let vu = lock(&idle).pop();
        match vu {
            Some(mut vu) => {
                let (ctx, index, idle, hard) =
                    (ctx.clone(), index.clone(), idle.clone(), hard.clone());
                let near = vu.runtime();
                spawn_near(&mut running, near, async move {
                    // k6 counts a VU of an arrival-rate executor as active (`vus`, the REST
                    // API, exec.instance.vusActive) only while it runs an iteration.
                    ctx.state.vu_activated(1);
                    ctx.iteration(&mut vu, &index, &hard).await;
                    ctx.state.vu_deactivated(1);
                    lock(&idle).push(vu);
                });
            }
            None => {
                ctx.dropped(1);
                let have = vus.load(Ordering::Acquire);
                if have < max {
                    if !initializing.swap(true, Ordering::AcqRel) {
                        let (ctx, idle, vus, initializing) =
                            (ctx.clone(), idle.clone(), vus.clone(), initializing.clone());
                        creating.spawn(async move {
                            tracing::debug!(scenario = %ctx.scenario.name, "initialising an unplanned VU");
                            match ctx.pool.create().await {
                                Ok(vu) => {
                                    vus.fetch_add(1, Ordering::AcqRel);
                                    ctx.vus_held(1);
                                    lock(&idle).push(vu);
                                }
                                Err(e) => tracing::error!(scenario = %ctx.scenario.name, "error while allocating unplanned VU: {e}"),
                            }
                            initializing.store(false, Ordering::Release);
                        });
                    }
                } else if !warned {
                    warned = true;
                    tracing::warn!(
                        scenario = %ctx.scenario.name,
                        "Insufficient VUs, reached {have} active VUs and cannot initialize more"
                    );
                }
            }
        }
    }
    let end = start + Duration::from_nanos(end_ns);
    sleep_until(end, &hard).await;
    let soft = CancellationToken::new();
    finish_loops(&mut running, end, &soft, &hard, ctx.graceful_stop()).await;
    while creating.join_next().await.is_some() {}
    let vus_back: Vec<R::Vu> = std::mem::take(&mut *lock(&idle));
    ctx.vus_released(vus.load(Ordering::Acquire));
    ctx.pool.put(vus_back);
}
