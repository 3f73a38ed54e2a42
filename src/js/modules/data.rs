//! Native half of `k6/data` (SharedArray, one copy per test) and the global `open()`.

use std::rc::Rc;

use rquickjs::prelude::Opt;
use rquickjs::{Array, Ctx, Function, Object, Value};

use super::natives::Natives;
use crate::js::convert::{array_buffer, throw};
use crate::js::state::{Phase, VuState};

pub fn install<'js>(
    ctx: &Ctx<'js>,
    native: &Object<'js>,
    state: &Rc<VuState>,
) -> rquickjs::Result<()> {
    let n = Natives::new(ctx, native, state);
    n.with_state("sharedArray", |st| {
        move |ctx: Ctx<'js>, name: String, make: Function<'js>| {
            if st.phase.get() != Phase::Init {
                return Err(throw(
                    &ctx,
                    "SharedArray can only be created in the init context",
                ));
            }
            let arr = st.shared.shared_array(&name, || {
                let items: Array = make.call(())?;
                items
                    .iter::<String>()
                    .collect::<rquickjs::Result<Vec<String>>>()
            })?;
            Ok(arr.len() as f64)
        }
    })?;
    n.with_state("sharedGet", |st| {
        move |ctx: Ctx<'js>, name: String, i: f64| {
            let arr = st
                .shared
                .shared_array::<()>(&name, || Ok(Vec::new()))
                .map_err(|_| throw(&ctx, "SharedArray missing"))?;
            arr.get(i as usize).cloned().ok_or_else(|| {
                throw(
                    &ctx,
                    &format!("SharedArray `{name}`: index {i} out of range"),
                )
            })
        }
    })?;
    Ok(())
}

/// The global `open(path, mode)` (init context only, paths inside the test folder).
pub fn install_open<'js>(ctx: &Ctx<'js>, state: &Rc<VuState>) -> rquickjs::Result<()> {
    let st = state.clone();
    let open = Function::new(
        ctx.clone(),
        move |ctx: Ctx<'js>, path: String, mode: Opt<String>| {
            if st.phase.get() != Phase::Init {
                return Err(throw(
                    &ctx,
                    "open() can't be used outside of the init context",
                ));
            }
            let files = &st.shared.modules.files;
            let main = files.main_name();
            let resolved = files.resolve(&main, &path);
            let data = files
                .read_path(&resolved)
                .map_err(|e| throw(&ctx, &format!("open: {e}")))?;
            if mode.0.as_deref() == Some("b") {
                array_buffer(&ctx, &data)
            } else {
                Ok::<Value, _>(
                    rquickjs::String::from_str(ctx.clone(), &String::from_utf8_lossy(&data))?
                        .into_value(),
                )
            }
        },
    )?;
    ctx.globals().set("open", open)?;
    Ok(())
}
