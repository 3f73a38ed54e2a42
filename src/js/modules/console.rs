//! `console.*`: script logs in k6's log format (`source=console`), or to the `consoleOutput` file.
//! `console.debug` shows with `--verbose` only, as in k6.

use std::rc::Rc;

use rquickjs::prelude::Rest;
use rquickjs::{Ctx, Function, Object, Value};

use crate::js::convert::tag_value;
use crate::js::state::VuState;
use crate::term::log;
use tracing::Level;

fn render<'js>(ctx: &Ctx<'js>, args: &[Value<'js>]) -> String {
    let mut parts = Vec::with_capacity(args.len());
    for a in args {
        if a.is_object() && !a.is_function() {
            if let Some(err) = a.as_exception() {
                parts.push(err.to_string());
                continue;
            }
            match ctx.json_stringify(a.clone()) {
                Ok(Some(s)) => parts.push(s.to_string().unwrap_or_default()),
                _ => parts.push(tag_value(a).unwrap_or_default()),
            }
        } else if a.is_null() {
            parts.push("null".to_string());
        } else if a.is_undefined() {
            parts.push("undefined".to_string());
        } else {
            parts.push(tag_value(a).unwrap_or_default());
        }
    }
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
}
