//! `externally-controlled`: `vus` looping VUs out of `maxVUs` initialised ones, changed while it
//! runs through the REST API ([`ExternalControl`]): more VUs start at once, fewer are interrupted
//! (as k6's hard stop), a pause lets running iterations finish and starts none until the resume,
//! a higher maxVUs initialises VUs on the spot. It ends after `duration` of test run time (pauses
//! not counted), or never with a duration of 0, and has no gracefulStop.

use std::sync::Arc;
use std::time::Duration;

use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use super::ExecCtx;
use crate::engine::segment::SegmentedIndex;
use crate::engine::state::{ExternalCommand, ExternalControl};
use crate::engine::{Runner, Vu};

/// One VU looping iterations: `soft` lets its iteration finish, `hard` interrupts it.
struct Looping<V> {
    soft: CancellationToken,
    hard: CancellationToken,
    task: JoinHandle<Option<V>>,
}

struct Run<R: Runner> {
    ctx: Arc<ExecCtx<R>>,
    index: Arc<SegmentedIndex>,
    stop: CancellationToken,
    idle: Vec<R::Vu>,
    active: Vec<Looping<R::Vu>>,
}

impl<R: Runner> Run<R> {
    fn start_one(&mut self) -> bool {
        let Some(mut vu) = self.idle.pop() else {
            return false;
        };
        let soft = CancellationToken::new();
        let hard = self.stop.child_token();
        let (ctx, index, s, h) = (
            self.ctx.clone(),
            self.index.clone(),
            soft.clone(),
            hard.clone(),
        );
        let near = vu.runtime();
        // Counted active at once, as k6's getVU, so the API's answer shows the new count.
        ctx.vu_activated(1);
        let work = async move {
            while !s.is_cancelled() && !h.is_cancelled() {
                if ctx.iteration(&mut vu, &index, &h).await.ends_loop() {
                    break;
                }
            }
            ctx.vu_deactivated(1);
            Some(vu)
        };
        let task = match near {
            Some(handle) => handle.spawn(work),
            None => tokio::spawn(work),
        };
        self.active.push(Looping { soft, hard, task });
        true
    }

    /// Stops the last `n` looping VUs (`hard`: interrupting their iterations) and keeps them.
    async fn stop_some(&mut self, n: usize, hard: bool) {
        let at = self.active.len().saturating_sub(n);
        let stopping: Vec<_> = self.active.drain(at..).collect();
        for l in &stopping {
            if hard {
                l.hard.cancel();
            } else {
                l.soft.cancel();
            }
        }
        for l in stopping {
            match l.task.await {
                Ok(Some(vu)) => self.idle.push(vu),
                Ok(None) => {}
                Err(e) => tracing::error!("a VU task failed: {e}"),
            }
        }
    }

    /// Brings the looping VUs to `vus` (none while paused) out of `max_vus` initialised ones.
    async fn follow(
        &mut self,
        vus: u64,
        max_vus: u64,
        paused: bool,
        had_max: u64,
    ) -> Result<(), String> {
        for _ in had_max..max_vus {
            if self.stop.is_cancelled() {
                return Ok(());
            }
            let vu = self.ctx.pool.create().await.map_err(|e| e.to_string())?;
            self.idle.push(vu);
        }
        let want = if paused { 0 } else { vus as usize };
        if self.active.len() > want {
            let extra = self.active.len() - want;
            self.stop_some(extra, true).await;
        }
        while self.active.len() < want && self.start_one() {}
        if max_vus < had_max {
            let surplus = (had_max - max_vus) as usize;
            let keep = self.idle.len().saturating_sub(surplus);
            let back: Vec<_> = self.idle.drain(keep..).collect();
            self.ctx.pool.put(back);
        }
        Ok(())
    }
}

pub(super) async fn run<R: Runner>(
    ctx: &Arc<ExecCtx<R>>,
    vus: u64,
    max_vus: u64,
    duration_ns: u64,
) {
    // The first externally-controlled scenario is the one the REST API drives.
    let control = ctx
        .state
        .external()
        .filter(|c| c.name == ctx.config.name)
        .unwrap_or_else(|| Arc::new(ExternalControl::new(&ctx.config.name, vus, max_vus)));
    let (mut vus, mut max_vus, mut commands) = control.start();
    let stop = ctx.hard_stop();
    let idle = ctx.pool.take(max_vus, &stop).await;
    let mut run = Run {
        ctx: ctx.clone(),
        index: Arc::new(SegmentedIndex::new(ctx.tuple.clone())),
        stop: stop.clone(),
        idle,
        active: Vec::new(),
    };
    let mut paused = false;
    if let Err(e) = run.follow(vus, max_vus, paused, max_vus).await {
        tracing::error!(scenario = %ctx.config.name, "cannot start the VUs: {e}");
    }
    let start_offset = Duration::from_nanos(ctx.config.start_time_ns);
    let duration = Duration::from_nanos(duration_ns);
    let mut tick = tokio::time::interval(Duration::from_millis(100));
    loop {
        tokio::select! {
            biased;
            _ = stop.cancelled() => break,
            cmd = commands.recv() => match cmd {
                None => break,
                Some(ExternalCommand::Scale { vus: v, max_vus: m, reply }) => {
                    let r = run.follow(v, m, paused, max_vus).await;
                    if r.is_ok() {
                        (vus, max_vus) = (v, m);
                        control.applied(vus, max_vus);
                    }
                    let _ = reply.send(r);
                }
                Some(ExternalCommand::Pause { paused: p, reply }) => {
                    if p != paused {
                        if p {
                            let n = run.active.len();
                            run.stop_some(n, false).await;
                        } else {
                            while (run.active.len() as u64) < vus && run.start_one() {}
                        }
                        paused = p;
                    }
                    let _ = reply.send(Ok(()));
                }
            },
            _ = tick.tick(), if duration_ns > 0 => {
                let elapsed = ctx.state.current_test_run_duration().saturating_sub(start_offset);
                if elapsed >= duration {
                    break;
                }
            }
        }
    }
    control.finished();
    let n = run.active.len();
    run.stop_some(n, true).await;
    ctx.pool.put(std::mem::take(&mut run.idle));
}
