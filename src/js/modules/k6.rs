//! Native half of the `k6` module: checks, groups and sleep.

use rquickjs::prelude::Opt;
use rquickjs::{Ctx, Object, Value};
use std::rc::Rc;

use super::natives::Natives;
use crate::engine::duration::GoDuration;
use crate::js::convert::{throw, user_tag_pairs};
use crate::js::coroutine::{Resume, Suspend};
use crate::js::state::{Phase, VuState};
use crate::metrics::builtin;

pub fn install<'js>(
    ctx: &Ctx<'js>,
    native: &Object<'js>,
    state: &Rc<VuState>,
) -> rquickjs::Result<()> {
    let n = Natives::new(ctx, native, state);
    n.with_state("check", |st| {
        move |ctx: Ctx<'js>, name: String, ok: bool, tags: Opt<Value<'js>>| {
            check(&ctx, &st, &name, ok, tags.0)
        }
    })?;
    n.with_state("groupEnter", |st| {
        move |ctx: Ctx<'js>, name: String| {
            if st.phase.get() == Phase::Init {
                return Err(throw(&ctx, "group() can't be used in the init context"));
            }
            st.enter_group(&name).map_err(|e| throw(&ctx, &e))
        }
    })?;
    n.with_state("groupExit", |st| move || st.exit_group())?;
    n.with_state("sleep", |st| move |secs: f64| sleep(&st, secs))?;
    Ok(())
}

fn check<'js>(
    ctx: &Ctx<'js>,
    state: &VuState,
    name: &str,
    ok: bool,
    tags: Option<Value<'js>>,
) -> rquickjs::Result<()> {
    if state.phase.get() == Phase::Init {
        return Err(throw(ctx, "check() can't be used in the init context"));
    }
    if name.contains("::") {
        return Err(throw(
            ctx,
            &format!("check names may not contain '::': {name}"),
        ));
    }
    let base = state.tags();
    let mut set = (*base).clone();
    if let Some(obj) = tags.as_ref().and_then(Value::as_object) {
        // User tags first, then `check` (k6's order); `group` and `scenario` stay the VU's.
        for (k, v) in user_tag_pairs(obj)? {
            set.insert(k, v);
        }
    }
    if state.settings.borrow().network.system_tags.has("check") {
        set.insert("check", name);
    }
    state.emit(
        builtin::CHECKS,
        if ok { 1.0 } else { 0.0 },
        std::sync::Arc::new(set),
    );
    Ok(())
}

/// k6's `sleep(secs)`: the seconds become a Go duration, so negative, NaN and out-of-range values
/// (`sleep(1e20)`) return at once, as they do in k6, instead of panicking.
fn sleep(state: &VuState, secs: f64) -> rquickjs::Result<()> {
    let wait = GoDuration::from_secs_f64(secs).to_std();
    if state.interrupted.get() || wait.is_zero() {
        return Ok(());
    }
    state.flush();
    let resumed = state.suspender.suspend(Suspend::Sleep(wait));
    if let Resume::Cancelled = resumed {
        state.interrupted.set(true);
    }
    Ok(())
}
