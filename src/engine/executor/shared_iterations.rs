//! `shared-iterations`: `iterations` taken from one shared pool by `vus` looping VUs, within
//! `maxDuration`. On a segment: VUs = scale(vus); iterations = scale(iterations) on the tuple
//! re-segmented by `vus`, whose stripe also numbers the iterations (§6.4). Iterations not started
//! when maxDuration ends are counted as `dropped_iterations`.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use tokio::task::JoinSet;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::{ExecCtx, finish_loops, spawn_near};
use crate::engine::segment::SegmentedIndex;
use crate::engine::{IterationOutcome, Runner, Vu};

pub(super) async fn run<R: Runner>(
    ctx: &Arc<ExecCtx<R>>,
    vus: u64,
    iterations: u64,
    max_duration_ns: u64,
) {
    let start = Instant::now();
    let local_vus = ctx.tuple.scale(vus);
    let Some(iter_tuple) = ctx.tuple.resegment(vus) else {
        return; // no work on this instance
    };
    let total = iter_tuple.scale(iterations);
    ctx.progress.set_total_iterations(total);
    let index = Arc::new(SegmentedIndex::new(iter_tuple));
    let taken = Arc::new(AtomicU64::new(0));
    let soft = CancellationToken::new();
    let hard = ctx.hard_stop();
    let mut set = JoinSet::new();
    for mut vu in ctx.pool.take(local_vus, &hard).await {
        let (ctx, index, taken, soft, hard) = (
            ctx.clone(),
            index.clone(),
            taken.clone(),
            soft.clone(),
            hard.clone(),
        );
        ctx.state.vu_activated(1);
        let near = vu.runtime();
        spawn_near(&mut set, near, async move {
            while !soft.is_cancelled() && !hard.is_cancelled() {
                if taken.fetch_add(1, Ordering::Relaxed) >= total {
                    break;
                }
                if let IterationOutcome::Aborted(_) = ctx.iteration(&mut vu, &index, &hard).await {
                    break;
                }
            }
            ctx.state.vu_deactivated(1);
            vu
        });
    }
    let end = start + Duration::from_nanos(max_duration_ns);
    let vus = finish_loops(&mut set, end, &soft, &hard, ctx.graceful_stop()).await;
    ctx.pool.put(vus);
    // `taken` overshoots by one per VU that found the pool empty.
    let started = taken.load(Ordering::Relaxed).min(total);
    if !ctx.abort.is_aborted() {
        ctx.dropped(total - started);
    }
}
