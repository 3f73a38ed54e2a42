//! The lifecycle functions of a script, run on the options VU (`__VU` = 0): `setup()` (its result
//! JSON round-tripped as k6 does), `teardown(data)` and `handleSummary(data)`.

use rquickjs::{Ctx, Function, Object, Value};

use crate::engine::{RunError, SetupData};

use super::convert::describe;
use super::coroutine::SummaryOutput;
use super::state::{Phase, VuState};

/// Calls an optional export with `args`; `Ok(None)` when it is not exported.
fn call_export<'js>(
    ctx: &Ctx<'js>,
    state: &VuState,
    exports: &Object<'js>,
    name: &str,
    arg: Option<Value<'js>>,
) -> Result<Option<Value<'js>>, RunError> {
    let f: Value = exports
        .get(name)
        .map_err(|e| RunError::Script(describe(ctx, e)))?;
    let Some(f) = f.as_function().cloned() else {
        return Ok(None);
    };
    let f: Function = f;
    let result = match arg {
        Some(a) => f.call::<_, Value>((a,)),
        None => f.call::<_, Value>(()),
    };
    result
        .and_then(|v| super::event_loop::settle(ctx, state, v))
        .map(Some)
        .map_err(|e| RunError::Script(describe(ctx, e)))
}

fn lifecycle_end(state: &VuState) {
    while state.group.borrow().matches("::").count() > 1 {
        state.exit_group();
    }
    let tags = state.tags();
    state.emit_data(&tags);
    state.flush();
}

pub(super) fn setup<'js>(
    ctx: &Ctx<'js>,
    state: &VuState,
    exports: &Object<'js>,
) -> Result<SetupData, RunError> {
    state.phase.set(Phase::Setup);
    state.interrupted.set(false);
    state.reset_group("::setup");
    let result = call_export(ctx, state, exports, "setup", None);
    lifecycle_end(state);
    if let Some(msg) = state.aborted.borrow().clone() {
        return Err(RunError::Aborted(msg));
    }
    let Some(value) = result? else {
        return Ok(None);
    };
    if value.is_undefined() {
        return Ok(None);
    }
    // k6 round-trips setup data through Go's JSON: `undefined` inside it becomes `null`.
    let replacer = Function::new(ctx.clone(), |_k: Value<'js>, v: Value<'js>| {
        if v.is_undefined() {
            Value::new_null(v.ctx().clone())
        } else {
            v
        }
    })
    .map_err(|e| RunError::Script(describe(ctx, e)))?;
    let json = ctx
        .json_stringify_replacer(value, replacer)
        .map_err(|e| RunError::Script(describe(ctx, e)))?
        .and_then(|s| s.to_string().ok());
    Ok(json)
}

pub(super) fn teardown<'js>(
    ctx: &Ctx<'js>,
    state: &VuState,
    exports: &Object<'js>,
    data: SetupData,
) -> Result<(), RunError> {
    state.phase.set(Phase::Teardown);
    state.interrupted.set(false);
    state.reset_group("::teardown");
    let arg = match data.as_deref() {
        Some(json) => ctx.json_parse(json).ok(),
        None => Some(Value::new_undefined(ctx.clone())),
    };
    let result = call_export(ctx, state, exports, "teardown", arg);
    lifecycle_end(state);
    if let Some(msg) = state.aborted.borrow().clone() {
        return Err(RunError::Aborted(msg));
    }
    result.map(|_| ())
}

pub(super) fn handle_summary<'js>(
    ctx: &Ctx<'js>,
    state: &VuState,
    exports: &Object<'js>,
    json: &str,
    texts: [&str; 2],
) -> Result<Option<Vec<SummaryOutput>>, RunError> {
    state.phase.set(Phase::Summary);
    let f: Value = exports
        .get("handleSummary")
        .map_err(|e| RunError::Script(describe(ctx, e)))?;
    if !f.is_function() {
        return Ok(None);
    }
    let data = ctx
        .json_parse(json)
        .map_err(|e| RunError::Script(describe(ctx, e)))?;
    // For jslib's textSummary (built in): the text, as hidden (non-enumerable) properties, so
    // JSON.stringify(data) stays what k6 gives.
    if let Some(obj) = data.as_object() {
        let define = |key: &str, text: &str| -> rquickjs::Result<()> {
            let define: Function = ctx.eval(
                "(o, k, v) => Object.defineProperty(o, k, { value: v, enumerable: false })",
            )?;
            define.call::<_, Value>((obj.clone(), key, text))?;
            Ok(())
        };
        define("__lgTextSummary", texts[0]).map_err(|e| RunError::Script(describe(ctx, e)))?;
        define("__lgTextSummaryColor", texts[1]).map_err(|e| RunError::Script(describe(ctx, e)))?;
    }
    let Some(value) = call_export(ctx, state, exports, "handleSummary", Some(data))? else {
        return Ok(None);
    };
    let Some(obj) = value.as_object() else {
        return Err(RunError::Script(
            "handleSummary must return an object like {stdout: '...'}".to_string(),
        ));
    };
    let mut out = Vec::new();
    for prop in obj.props::<String, Value>() {
        let (k, v) = prop.map_err(|e| RunError::Script(describe(ctx, e)))?;
        let content = match super::convert::bytes_of(&v) {
            Some(b) => b,
            None => super::convert::tag_value(&v)
                .map_err(|e| RunError::Script(describe(ctx, e)))?
                .into_bytes(),
        };
        out.push(SummaryOutput { target: k, content });
    }
    Ok(Some(out))
}
