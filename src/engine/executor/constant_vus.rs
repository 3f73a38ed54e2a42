//! `constant-vus`: scale(vus) VUs loop iterations for `duration`.

use std::sync::Arc;
use std::time::Duration;

use tokio::time::Instant;

use super::{ExecCtx, run_vu_loops};
use crate::engine::Runner;
use crate::engine::segment::SegmentedIndex;

pub(super) async fn run<R: Runner>(ctx: &Arc<ExecCtx<R>>, vus: u64, duration_ns: u64) {
    let end = Instant::now() + Duration::from_nanos(duration_ns);
    let local_vus = ctx.tuple.scale(vus);
    let index = Arc::new(SegmentedIndex::new(ctx.tuple.clone()));
    run_vu_loops(ctx, local_vus, index, end, || || true).await;
}
