//! `console.*`: script logs in k6's log format (`source=console`), or to the `consoleOutput` file.
//! `console.debug` shows with `--verbose` only, as in k6.

use std::rc::Rc;

use rquickjs::convert::Coerced;
use rquickjs::prelude::Rest;
use rquickjs::{Ctx, Function, Object, Value};

use crate::js::convert::tag_value;
use crate::js::state::VuState;
use crate::term::log;
use tracing::Level;

/// One argument as k6 prints it (`valueString` in k6's console.go): objects (functions and errors
/// included) as `JSON.stringify` gives them, `null` when that gives nothing (a function), the JS
/// string conversion when it throws (a cycle); other values by the JS string conversion
/// (`Infinity`, `1e+21`), a symbol by its description.
fn render_one<'js>(ctx: &Ctx<'js>, a: &Value<'js>) -> String {
    if a.is_object() {
        match ctx.json_stringify(a.clone()) {
            Ok(Some(s)) => return s.to_string().unwrap_or_default(),
            Ok(None) => return "null".to_string(),
            Err(_) => {}
        }
    } else if let Some(sym) = a.as_symbol() {
        return sym
            .description()
            .ok()
            .and_then(|d| d.get::<Option<String>>().ok().flatten())
            .unwrap_or_default();
    }
    match a.get::<Coerced<String>>() {
        Ok(Coerced(s)) => s,
        Err(_) => tag_value(a).unwrap_or_default(),
    }
}

fn render<'js>(ctx: &Ctx<'js>, args: &[Value<'js>]) -> String {
    let parts: Vec<String> = args.iter().map(|a| render_one(ctx, a)).collect();
    parts.join(" ")
}

pub fn install<'js>(
    ctx: &Ctx<'js>,
    _native: &Object<'js>,
    state: &Rc<VuState>,
) -> rquickjs::Result<()> {
    let console = Object::new(ctx.clone())?;
    for (name, level) in [
        ("log", Level::INFO),
        ("info", Level::INFO),
        ("warn", Level::WARN),
        ("error", Level::ERROR),
        ("debug", Level::DEBUG),
    ] {
        let st = state.clone();
        console.set(
            name,
            Function::new(ctx.clone(), move |ctx: Ctx<'js>, args: Rest<Value<'js>>| {
                if !log::enabled(level) {
                    return;
                }
                let text = render(&ctx, &args.0);
                match st.shared.console_output() {
                    Some(file) => file.write(level, &text),
                    None => log::emit(level, &text, &[("source", "console".into())]),
                }
            })?,
        )?;
    }
    ctx.globals().set("console", console)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// k6 prints `console.log(null, undefined)` as `null undefined` (not two empty strings).
    #[test]
    fn renders_null_and_undefined_as_k6() {
        let rt = rquickjs::Runtime::new().unwrap();
        let ctx = rquickjs::Context::full(&rt).unwrap();
        ctx.with(|ctx| {
            let args: Vec<Value> = ctx
                .eval("['x', null, undefined, 1, true, [1, null], {a: undefined, b: 'c'}]")
                .map(|a: rquickjs::Array| a.iter().map(Result::unwrap).collect())
                .unwrap();
            assert_eq!(
                render(&ctx, &args),
                r#"x null undefined 1 true [1,null] {"b":"c"}"#
            );
        });
    }

    /// What k6 v1.1 printed for these values (`--log-format raw --console-output`).
    #[test]
    fn renders_numbers_symbols_functions_errors_and_cycles_as_k6() {
        let rt = rquickjs::Runtime::new().unwrap();
        let ctx = rquickjs::Context::full(&rt).unwrap();
        ctx.with(|ctx| {
            let args: Vec<Value> = ctx
                .eval(
                    "const c = {}; c.c = c; [NaN, -0, Infinity, -Infinity, 1e21, 123456789012, 0.1,                      Symbol('s'), Symbol(), function f() {}, new Error('boom'), c, 10n]",
                )
                .map(|a: rquickjs::Array| a.iter().map(Result::unwrap).collect())
                .unwrap();
            assert_eq!(
                render(&ctx, &args),
                "NaN 0 Infinity -Infinity 1e+21 123456789012 0.1 s  null {} [object Object] 10"
            );
        });
    }
}
