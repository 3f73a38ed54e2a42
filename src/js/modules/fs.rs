//! Native half of `k6/experimental/fs`: `open()` reads a file of the test folder (once per test,
//! shared with the global `open()`), resolved against the main script's folder as k6 does. The
//! File object, its offset, `read`, `seek` and `stat` are in the shim.

use std::rc::Rc;

use rquickjs::{Ctx, Function, Object};

use crate::js::convert::array_buffer;
use crate::js::loader::FileError;
use crate::js::state::{Phase, VuState};

/// `__k6.fsOpen(path)`: `{path, data}` or `{error: kind, message}` (k6's fsError kinds); for
/// `k6/experimental/csv` also `csvDecode(bytes)` (text) and `csvInInit()`.
pub fn install<'js>(
    ctx: &Ctx<'js>,
    native: &Object<'js>,
    state: &Rc<VuState>,
) -> rquickjs::Result<()> {
    let st = state.clone();
    native.set(
        "csvInInit",
        Function::new(ctx.clone(), move || st.phase.get() == Phase::Init)?,
    )?;
    native.set(
        "csvDecode",
        Function::new(ctx.clone(), |ctx: Ctx<'js>, bytes: rquickjs::Value<'js>| {
            let data = crate::js::convert::bytes_of(&bytes).unwrap_or_default();
            rquickjs::String::from_str(ctx, &String::from_utf8_lossy(&data))
        })?,
    )?;
    let st = state.clone();
    native.set(
        "fsOpen",
        Function::new(ctx.clone(), move |ctx: Ctx<'js>, path: String| {
            let out = Object::new(ctx.clone())?;
            let fail = |kind: &str, message: String| -> rquickjs::Result<Object<'js>> {
                out.set("error", kind)?;
                out.set("message", message)?;
                Ok(out.clone())
            };
            if st.phase.get() != Phase::Init {
                return fail(
                    "ForbiddenError",
                    "open() failed; reason: opening a file is allowed only in the Init context"
                        .into(),
                );
            }
            let path = path.strip_prefix("file://").unwrap_or(&path);
            let files = &st.shared.modules.files;
            let resolved = files.resolve(&files.main_name(), path);
            let shown = resolved.display().to_string();
            if resolved.is_dir() {
                return fail(
                    "InvalidResourceError",
                    format!("cannot open {shown:?}: opening a directory is not supported"),
                );
            }
            match files.read_path(&resolved) {
                Ok(data) => {
                    out.set("path", shown)?;
                    out.set("data", array_buffer(&ctx, &data)?)?;
                    Ok(out.clone())
                }
                Err(FileError::Unreadable { reason, .. }) if reason == "no such file" => fail(
                    "NotFoundError",
                    format!("no such file or directory {shown:?}"),
                ),
                Err(e) => fail("ForbiddenError", format!("open() failed; reason: {e}")),
            }
        })?,
    )?;
    Ok(())
}
