//! `per-vu-iterations`: each VU runs exactly `iterations`, within `maxDuration`. On a segment:
//! VUs = scale(vus), iterations per VU unscaled (§6.4). Iterations not run when maxDuration ends
//! are counted as `dropped_iterations`.

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
    let total = local_vus * iterations;
    ctx.progress.set_total_iterations(total);
    let index = Arc::new(SegmentedIndex::new(ctx.tuple.clone()));
    let started = Arc::new(AtomicU64::new(0));
    run_vu_loops(ctx, local_vus, index, end, || {
        let (started, mut left) = (started.clone(), iterations);
        move || {
            if left == 0 {
                return false;
            }
            left -= 1;
            started.fetch_add(1, Ordering::Relaxed);
            true
        }
    })
    .await;
    if !ctx.abort.is_aborted() {
        ctx.dropped(total.saturating_sub(started.load(Ordering::Relaxed)));
    }
}
