//! `ramping-arrival-rate`: the rate ramps linearly per stage; global iteration i (1-based) starts
//! when the integral of the rate reaches i — k6's `cal` (§6.5), in the same float arithmetic so the
//! iteration counts match k6. This instance starts the ones in its stripe of the tuple re-segmented
//! by maxVUs.

use std::sync::Arc;

use super::{ExecCtx, arrival};
use crate::engine::Runner;
use crate::engine::options::scenarios::ResolvedStage;

/// Start offsets (ns) of the global iterations `stripe` (0-based, ascending) for a rate starting
/// at `start_rate` per `time_unit_ns` and following `stages`.
pub fn arrival_times(
    start_rate: u64,
    time_unit_ns: u64,
    stages: Vec<ResolvedStage>,
    stripe: impl Iterator<Item = u64>,
) -> impl Iterator<Item = u64> {
    let tu = time_unit_ns.max(1) as f64;
    let mut stripe = stripe.peekable();
    let (mut next_stage, mut ready) = (0usize, false);
    let (mut from, mut to, mut dur) = (start_rate as f64 / tu, 0f64, 0f64);
    let (mut done, mut end_count, mut stage_start) = (0f64, 0f64, 0u64);
    std::iter::from_fn(move || {
        let i = (*stripe.peek()? + 1) as f64;
        loop {
            if ready && i <= end_count {
                stripe.next();
                let x = if from != to {
                    let arg = dur * (from * from * dur + 2.0 * (i - done) * (to - from));
                    (from * dur - if arg < 0.0 { 0.0 } else { arg.sqrt() }) / (from - to)
                } else {
                    (i - done) / to
                };
                return Some(stage_start + x.max(0.0) as u64);
            }
            if ready {
                done = end_count;
                from = to;
                stage_start += dur as u64;
            }
            let s = stages.get(next_stage)?;
            next_stage += 1;
            to = s.target as f64 / tu;
            dur = s.duration_ns as f64;
            end_count += if from != to {
                dur * ((to - from) / 2.0 + from)
            } else {
                dur * to
            };
            ready = true;
        }
    })
}

pub(super) async fn run<R: Runner>(
    ctx: &Arc<ExecCtx<R>>,
    start_rate: u64,
    time_unit_ns: u64,
    stages: &[ResolvedStage],
    pre_allocated_vus: u64,
    max_vus: u64,
) {
    let Some(tuple) = ctx.tuple.resegment(max_vus) else {
        return; // no work on this instance
    };
    let (pre, max) = (tuple.scale(pre_allocated_vus), tuple.scale(max_vus));
    let end: u64 = stages.iter().map(|s| s.duration_ns).sum();
    let schedule = arrival_times(
        start_rate,
        time_unit_ns,
        stages.to_vec(),
        arrival::stripe(&tuple),
    );
    arrival::run(ctx, schedule, end, pre, max, tuple).await
}
