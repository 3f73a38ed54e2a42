//! `constant-arrival-rate`: global iteration k (0-based) starts at `k·timeUnit/rate` after the
//! start while that is before `duration` (§6.5); this instance starts the ones in its stripe of the
//! tuple re-segmented by maxVUs, with scaled preAllocatedVUs/maxVUs (§6.4).

use std::sync::Arc;

use super::{ExecCtx, arrival};
use crate::engine::Runner;

pub(super) async fn run<R: Runner>(
    ctx: &Arc<ExecCtx<R>>,
    rate: u64,
    time_unit_ns: u64,
    duration_ns: u64,
    pre_allocated_vus: u64,
    max_vus: u64,
) {
    let Some(tuple) = ctx.tuple.resegment(max_vus) else {
        return; // no work on this instance
    };
    let (pre, max) = (tuple.scale(pre_allocated_vus), tuple.scale(max_vus));
    let rate = rate.max(1) as u128;
    let schedule = arrival::stripe(&tuple)
        .map(move |g| u64::try_from(g as u128 * time_unit_ns as u128 / rate).unwrap_or(u64::MAX))
        .take_while(move |&t| t < duration_ns);
    arrival::run(ctx, schedule, duration_ns, pre, max, tuple).await
}
