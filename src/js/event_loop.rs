//! A VU's event loop, run after each call into the script (iteration, setup, teardown,
//! handleSummary): QuickJS's job queue (Promise continuations) and timers (`setTimeout`,
//! `setInterval`), until the returned Promise has settled and no timer is left, as k6 v1 does.
//! Waiting for a timer suspends the VU like `sleep()`; an interrupted iteration drops its timers.

use std::time::Duration;

use rquickjs::{Ctx, Function, Value};

use super::convert::throw;
use super::coroutine::{Resume, Suspend};
use super::state::VuState;

/// `value` itself or, when it is a Promise (what an `async function` returns), what it settles to,
/// after running the job queue and timers.
pub fn settle<'js>(
    ctx: &Ctx<'js>,
    state: &VuState,
    value: Value<'js>,
) -> rquickjs::Result<Value<'js>> {
    let promise = value.as_promise().cloned();
    let globals = ctx.globals();
    // Timers are installed on first use; without them only Promise jobs can run.
    let (Some(wait), Some(fire)) = (
        globals.get::<_, Option<Function>>("__lgTimerWait")?,
        globals.get::<_, Option<Function>>("__lgTimerFire")?,
    ) else {
        let Some(p) = promise else {
            return Ok(value);
        };
        return match p.finish::<Value>() {
            Err(rquickjs::Error::WouldBlock) => Err(throw(
                ctx,
                "the async function waits for something that never happens (an API loadgate \
                 does not provide yet?)",
            )),
            other => other,
        };
    };
    loop {
        while ctx.execute_pending_job() {}
        if let Some(p) = &promise
            && let Some(result) = p.result::<Value>()
        {
            let settled = result?;
            // k6 lets the timers an iteration started run out before it ends.
            drain_timers(ctx, state, &wait, &fire)?;
            return Ok(settled);
        }
        let ms: f64 = wait.call(())?;
        if ms < 0.0 {
            return match promise {
                Some(_) => Err(throw(
                    ctx,
                    "the async function waits for something that never happens (an API loadgate \
                     does not provide yet?)",
                )),
                None => Ok(value),
            };
        }
        sleep(ctx, state, ms)?;
        fire.call::<_, ()>(())?;
    }
}

fn drain_timers<'js>(
    ctx: &Ctx<'js>,
    state: &VuState,
    wait: &Function<'js>,
    fire: &Function<'js>,
) -> rquickjs::Result<()> {
    loop {
        while ctx.execute_pending_job() {}
        let ms: f64 = wait.call(())?;
        if ms < 0.0 {
            return Ok(());
        }
        sleep(ctx, state, ms)?;
        fire.call::<_, ()>(())?;
    }
}

fn sleep(ctx: &Ctx<'_>, state: &VuState, ms: f64) -> rquickjs::Result<()> {
    if state.interrupted.get() {
        return Err(throw(ctx, "iteration interrupted"));
    }
    if ms <= 0.0 {
        return Ok(());
    }
    state.flush();
    match state
        .suspender
        .suspend(Suspend::Sleep(Duration::from_secs_f64(ms / 1000.0)))
    {
        Resume::Cancelled => {
            state.interrupted.set(true);
            Err(throw(ctx, "iteration interrupted"))
        }
        _ => Ok(()),
    }
}

/// Forgets every timer (after an iteration that ended early).
pub fn clear_timers(ctx: &Ctx<'_>) {
    if let Ok(clear) = ctx.globals().get::<_, Function>("__lgTimerClear") {
        let _ = clear.call::<_, ()>(());
    }
}
