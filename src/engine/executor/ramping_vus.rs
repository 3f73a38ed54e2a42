//! `ramping-vus`: the number of looping VUs follows the stages, interpolated linearly. The exact
//! VU start/stop times are k6's `getRawExecutionSteps` (§6.5), computed on the global VU numbers
//! this instance owns. A VU told to stop finishes its iteration within `gracefulRampDown`, else it
//! is interrupted; at the end of the stages the usual `gracefulStop` applies.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::Notify;
use tokio::task::JoinSet;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::{ExecCtx, finish_loops, sleep_until, spawn_near};
use crate::engine::options::scenarios::ResolvedStage;
use crate::engine::segment::{ExecutionTuple, SegmentedIndex};
use crate::engine::{Runner, Vu};

/// From `offset_ns` after the scenario start, `planned` VUs of this instance should run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct VuStep {
    pub offset_ns: u64,
    pub planned: u64,
}

/// k6's raw execution steps for this instance (without gracefulRampDown).
pub fn ramping_vu_steps(
    tuple: &ExecutionTuple,
    start_vus: u64,
    stages: &[ResolvedStage],
) -> Vec<VuStep> {
    let mut steps = vec![VuStep {
        offset_ns: 0,
        planned: tuple.scale(start_vus),
    }];
    let mut add = |offset_ns: u64, planned: u64| {
        if steps.last().is_some_and(|s| s.planned != planned) {
            steps.push(VuStep { offset_ns, planned });
        }
    };
    let (mut from, mut end) = (start_vus, 0u64);
    for s in stages {
        let (to, dur) = (s.target, s.duration_ns);
        end += dur;
        if dur == 0 {
            add(end, tuple.scale(to));
        } else if to > from {
            for u in from + 1..=to {
                if tuple.owns(u - 1) {
                    let back = (dur as u128 * (to - u) as u128 / (to - from) as u128) as u64;
                    add(end - back, tuple.scale(u));
                }
            }
        } else if to < from {
            for u in (to + 1..=from).rev() {
                if tuple.owns(u - 1) {
                    let back = (dur as u128 * (u - 1 - to) as u128 / (from - to) as u128) as u64;
                    add(end - back, tuple.scale(u) - 1);
                }
            }
        }
        from = to;
    }
    steps
}

/// One local VU position: active or not, with the token that interrupts its iteration.
struct Slot {
    active: AtomicBool,
    generation: AtomicU64,
    wake: Notify,
    token: Mutex<CancellationToken>,
}

impl Slot {
    fn token(&self, hard: &CancellationToken) -> CancellationToken {
        let mut t = match self.token.lock() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        };
        if t.is_cancelled() && !hard.is_cancelled() {
            *t = hard.child_token();
        }
        t.clone()
    }
}

pub(super) async fn run<R: Runner>(
    ctx: &Arc<ExecCtx<R>>,
    start_vus: u64,
    stages: &[ResolvedStage],
    ramp_down_ns: u64,
) {
    let start = Instant::now();
    let steps = ramping_vu_steps(&ctx.tuple, start_vus, stages);
    let max = steps.iter().map(|s| s.planned).max().unwrap_or(0);
    let index = Arc::new(SegmentedIndex::new(ctx.tuple.clone()));
    let soft = CancellationToken::new();
    let hard = ctx.hard_stop();
    let mut set = JoinSet::new();
    let mut slots = Vec::with_capacity(max as usize);
    for mut vu in ctx.pool.take(max, &hard).await {
        let slot = Arc::new(Slot {
            active: AtomicBool::new(false),
            generation: AtomicU64::new(0),
            wake: Notify::new(),
            token: Mutex::new(hard.child_token()),
        });
        slots.push(slot.clone());
        let (ctx, index, soft, hard) = (ctx.clone(), index.clone(), soft.clone(), hard.clone());
        let near = vu.runtime();
        spawn_near(&mut set, near, async move {
            loop {
                // Wait to be activated.
                loop {
                    let woken = slot.wake.notified();
                    tokio::pin!(woken);
                    woken.as_mut().enable();
                    if slot.active.load(Ordering::Acquire) {
                        break;
                    }
                    tokio::select! {
                        _ = soft.cancelled() => return vu,
                        _ = hard.cancelled() => return vu,
                        _ = woken => {}
                    }
                }
                if soft.is_cancelled() || hard.is_cancelled() {
                    return vu;
                }
                let token = slot.token(&hard);
                ctx.vu_activated(1);
                let mut aborted = false;
                while slot.active.load(Ordering::Acquire)
                    && !soft.is_cancelled()
                    && !token.is_cancelled()
                {
                    if ctx.iteration(&mut vu, &index, &token).await.ends_loop() {
                        aborted = true;
                        break;
                    }
                }
                ctx.vu_deactivated(1);
                if aborted || soft.is_cancelled() || hard.is_cancelled() {
                    return vu;
                }
            }
        });
    }
    let mut timers = JoinSet::new();
    let ramp_down = Duration::from_nanos(ramp_down_ns);
    let mut current = 0usize;
    for step in &steps {
        if !sleep_until(start + Duration::from_nanos(step.offset_ns), &hard).await {
            break;
        }
        let planned = (step.planned as usize).min(slots.len());
        for slot in slots.iter().take(planned).skip(current) {
            slot.generation.fetch_add(1, Ordering::AcqRel);
            slot.active.store(true, Ordering::Release);
            slot.wake.notify_one();
        }
        for slot in slots.iter().take(current).skip(planned) {
            let generation = slot.generation.fetch_add(1, Ordering::AcqRel) + 1;
            slot.active.store(false, Ordering::Release);
            let slot = slot.clone();
            timers.spawn(async move {
                tokio::time::sleep(ramp_down).await;
                if slot.generation.load(Ordering::Acquire) == generation
                    && !slot.active.load(Ordering::Acquire)
                    && let Ok(t) = slot.token.lock()
                {
                    t.cancel();
                }
            });
        }
        current = planned;
    }
    let total: u64 = stages.iter().map(|s| s.duration_ns).sum();
    let end = start + Duration::from_nanos(total);
    let vus = finish_loops(&mut set, end, &soft, &hard, ctx.graceful_stop()).await;
    timers.abort_all();
    ctx.pool.put(vus);
}
