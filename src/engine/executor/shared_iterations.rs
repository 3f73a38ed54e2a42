//! `shared-iterations`: `iterations` taken from one shared pool by `vus` looping VUs, within
//! `maxDuration`. On a segment: VUs = scale(vus); iterations = scale(iterations) on the tuple
//! re-segmented by `vus`, whose stripe also numbers the iterations (§6.4). Iterations not started
//! when maxDuration ends are counted as `dropped_iterations`.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use tokio::time::Instant;

use super::{ExecCtx, run_vu_loops};
use crate::engine::Runner;
use crate::engine::segment::SegmentedIndex;

pub(super) async fn run<R: Runner>(
    ctx: &Arc<ExecCtx<R>>,
    vus: u64,
    iterations: u64,
    max_duration_ns: u64,
) {
    let end = Instant::now() + Duration::from_nanos(max_duration_ns);
    let local_vus = ctx.tuple.scale(vus);
    let Some(iter_tuple) = ctx.tuple.resegment(vus) else {
        return; // no work on this instance
    };
    let total = iter_tuple.scale(iterations);
    ctx.progress.set_total_iterations(total);
    let index = Arc::new(SegmentedIndex::new(iter_tuple));
    let taken = Arc::new(AtomicU64::new(0));
    run_vu_loops(ctx, local_vus, index, end, || {
        let taken = taken.clone();
        move || taken.fetch_add(1, Ordering::Relaxed) < total
    })
    .await;
    // `taken` overshoots by one per VU that found the pool empty.
    let started = taken.load(Ordering::Relaxed).min(total);
    if !ctx.abort.is_aborted() {
        ctx.dropped(total - started);
    }
}
