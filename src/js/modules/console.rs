//! `console.*`: script logs go to stderr in k6's log format (`INFO[0001] text  source=console`).

use std::io::Write;
use std::rc::Rc;

use rquickjs::prelude::Rest;
use rquickjs::{Ctx, Function, Object, Value};

use crate::js::convert::tag_value;
use crate::js::state::VuState;

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
                _ => parts.push(tag_value(a)),
            }
        } else if a.is_null() {
            parts.push("null".to_string());
        } else if a.is_undefined() {
            parts.push("undefined".to_string());
        } else {
            parts.push(tag_value(a));
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
        ("log", "INFO"),
        ("info", "INFO"),
        ("warn", "WARN"),
        ("error", "ERRO"),
        ("debug", "DEBU"),
    ] {
        let st = state.clone();
        console.set(
            name,
            Function::new(ctx.clone(), move |ctx: Ctx<'js>, args: Rest<Value<'js>>| {
                if level == "DEBU" {
                    return;
                }
                let text = render(&ctx, &args.0);
                let secs = st.shared.elapsed().as_secs();
                let mut err = std::io::stderr().lock();
                let _ = writeln!(err, "{level}[{secs:04}] {text}  source=console");
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
