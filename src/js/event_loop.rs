//! A VU's event loop, run after each call into the script (iteration, setup, teardown,
//! handleSummary): QuickJS's job queue (Promise continuations), timers (`setTimeout`,
//! `setInterval`) and protocol events ([`super::io::IoHub`]: WebSocket messages, gRPC streams),
//! until the returned Promise has settled and no timer or live socket/stream is left, as k6 v1
//! does. Waiting suspends the VU like `sleep()`; an interrupted iteration drops its timers and
//! closes its sockets.

use std::time::Duration;

use rquickjs::{Ctx, Function, Value};

use super::convert::throw;
use super::coroutine::{Resume, Suspend};
use super::state::VuState;
use crate::engine::duration::GoDuration;

const NEVER: &str = "the async function waits for something that never happens (an API loadgate \
                     does not provide yet?)";

/// `value` itself or, when it is a Promise (what an `async function` returns), what it settles to,
/// after running the job queue, timers and protocol events.
pub fn settle<'js>(
    ctx: &Ctx<'js>,
    state: &VuState,
    value: Value<'js>,
) -> rquickjs::Result<Value<'js>> {
    let Some(promise) = value.as_promise().cloned() else {
        run(ctx, state, None, &|| false)?;
        return Ok(value);
    };
    let settled = run(ctx, state, None, &|| promise.result::<Value>().is_some())?;
    if !settled {
        return Err(throw(ctx, NEVER));
    }
    match promise.result::<Value>() {
        Some(Ok(v)) => {
            // k6 lets the timers and sockets an iteration started run out before it ends.
            run(ctx, state, None, &|| false)?;
            Ok(v)
        }
        Some(Err(e)) => Err(e),
        None => Err(throw(ctx, NEVER)),
    }
}

/// Runs jobs, protocol events and timers until `done()` holds (`Ok(true)`) or nothing is left
/// that could make progress (`Ok(false)`). Used by [`settle`] and by `k6/ws`'s blocking
/// `connect`, which runs the loop until its socket closes and, like k6, delivers only that
/// socket's events meanwhile (`only`).
pub fn run<'js>(
    ctx: &Ctx<'js>,
    state: &VuState,
    only: Option<u32>,
    done: &dyn Fn() -> bool,
) -> rquickjs::Result<bool> {
    loop {
        while ctx.execute_pending_job() {}
        if let Some(task) = state.io.pop(only) {
            task(ctx, state)?;
            continue;
        }
        if done() {
            return Ok(true);
        }
        let globals = ctx.globals();
        // Timers are installed on first use; without them only jobs and protocol events run.
        let timers = match (
            globals.get::<_, Option<Function>>("__lgTimerWait")?,
            globals.get::<_, Option<Function>>("__lgTimerFire")?,
        ) {
            (Some(wait), Some(fire)) => Some((wait, fire)),
            _ => None,
        };
        let ms: f64 = match &timers {
            Some((wait, _)) => wait.call(())?,
            None => -1.0,
        };
        let busy = state.io.busy();
        if ms < 0.0 && !busy {
            return Ok(false);
        }
        if state.interrupted.get() {
            return Err(throw(ctx, "iteration interrupted"));
        }
        if ms > 0.0 || busy {
            let limit = (ms >= 0.0).then(|| GoDuration::from_millis_f64(ms).to_std());
            wait(ctx, state, only, limit)?;
        }
        if let Some((_, fire)) = &timers {
            fire.call::<_, ()>(())?;
        }
    }
}

/// Suspends the VU until a protocol event arrives or `limit` elapses (a timer is due).
fn wait(
    ctx: &Ctx<'_>,
    state: &VuState,
    only: Option<u32>,
    limit: Option<Duration>,
) -> rquickjs::Result<()> {
    state.flush();
    let suspend = if state.io.busy() {
        let hub = state.io.clone();
        Suspend::Io(Box::pin(async move {
            hub.wait(only, limit).await;
            Box::new(()) as Box<dyn std::any::Any>
        }))
    } else {
        match limit {
            Some(d) => Suspend::Sleep(d),
            None => return Ok(()),
        }
    };
    match state.suspender.suspend(suspend) {
        Resume::Cancelled => {
            state.interrupted.set(true);
            Err(throw(ctx, "iteration interrupted"))
        }
        _ => Ok(()),
    }
}

/// Forgets every timer and closes every socket and stream (after an iteration that ended
/// early).
pub fn clear_timers(ctx: &Ctx<'_>, state: &VuState) {
    if let Ok(clear) = ctx.globals().get::<_, Function>("__lgTimerClear") {
        let _ = clear.call::<_, ()>(());
    }
    state.io.reset();
}
