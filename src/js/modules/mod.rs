//! The k6 modules. Each `k6/*` module is a small JS shim (`../shims/*.js`) over native functions
//! installed on the hidden global `__k6`; the native halves live in one file per module here.
//! Shims keep API-shape code (argument forms, classes) in JS; everything that measures, emits
//! samples or suspends the VU is native.

use std::rc::Rc;

use rquickjs::{Ctx, Object};

use super::state::VuState;

mod console;
mod crypto;
mod data;
mod encoding;
mod execution;
mod http;
mod k6;
mod metrics;

/// Source of each built-in module.
const BUILTINS: &[(&str, &str)] = &[
    ("k6", include_str!("../shims/k6.js")),
    ("k6/http", include_str!("../shims/http.js")),
    ("k6/metrics", include_str!("../shims/metrics.js")),
    ("k6/execution", include_str!("../shims/execution.js")),
    ("k6/data", include_str!("../shims/data.js")),
    ("k6/encoding", include_str!("../shims/encoding.js")),
    ("k6/crypto", include_str!("../shims/crypto.js")),
];

/// Whether `name` is a built-in module.
pub fn is_builtin(name: &str) -> bool {
    BUILTINS.iter().any(|(n, _)| *n == name)
}

/// The shim source of a built-in module.
pub fn builtin_source(name: &str) -> Option<&'static str> {
    BUILTINS.iter().find(|(n, _)| *n == name).map(|(_, s)| *s)
}

/// Installs `__k6`, `open`, `console` and the `__ENV`/`__VU` globals into a fresh context.
pub fn install<'js>(ctx: &Ctx<'js>, state: &Rc<VuState>) -> rquickjs::Result<()> {
    let native = Object::new(ctx.clone())?;
    k6::install(ctx, &native, state)?;
    http::install(ctx, &native, state)?;
    metrics::install(ctx, &native, state)?;
    execution::install(ctx, &native, state)?;
    data::install(ctx, &native, state)?;
    encoding::install(ctx, &native)?;
    crypto::install(ctx, &native)?;
    console::install(ctx, &native, state)?;
    let globals = ctx.globals();
    globals.set("__k6", native)?;
    Ok(())
}
