//! `constant-vus`: scale(vus) VUs loop iterations for `duration`.

use std::sync::Arc;
use std::time::Duration;

use tokio::task::JoinSet;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::{ExecCtx, finish_loops, spawn_near};
use crate::engine::segment::SegmentedIndex;
use crate::engine::{IterationOutcome, Runner, Vu};

pub(super) async fn run<R: Runner>(ctx: &Arc<ExecCtx<R>>, vus: u64, duration_ns: u64) {
    let start = Instant::now();
    let local_vus = ctx.tuple.scale(vus);
    let index = Arc::new(SegmentedIndex::new(ctx.tuple.clone()));
    let soft = CancellationToken::new();
    let hard = ctx.hard_stop();
    let mut set = JoinSet::new();
    for mut vu in ctx.pool.take(local_vus, &hard).await {
        let (ctx, index, soft, hard) = (ctx.clone(), index.clone(), soft.clone(), hard.clone());
        ctx.state.vu_activated(1);
        let near = vu.runtime();
        spawn_near(&mut set, near, async move {
            while !soft.is_cancelled() && !hard.is_cancelled() {
                if let IterationOutcome::Aborted(_) = ctx.iteration(&mut vu, &index, &hard).await {
                    break;
                }
            }
            ctx.state.vu_deactivated(1);
            vu
        });
    }
    let end = start + Duration::from_nanos(duration_ns);
    let vus = finish_loops(&mut set, end, &soft, &hard, ctx.graceful_stop()).await;
    ctx.pool.put(vus);
}
