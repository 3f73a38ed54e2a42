//! The k6 modules. Each `k6/*` module is a small JS shim (`../shims/*.js`) over native functions
//! installed on the hidden global `__k6`; the native halves live in one file per module here.
//! Shims keep API-shape code (argument forms, classes) in JS; everything that measures, emits
//! samples or suspends the VU is native.

use std::rc::Rc;

use rquickjs::{Ctx, Object};

use super::state::VuState;

mod console;
mod cookies;
mod crypto;
mod data;
mod encoding;
mod execution;
mod fs;
mod grpc;
mod html;
mod http;
mod k6;
mod metrics;
mod natives;
mod webcrypto;
mod ws;

/// Source of each built-in module.
const BUILTINS: &[(&str, &str)] = &[
    ("k6", include_str!("../shims/k6.js")),
    ("k6/http", include_str!("../shims/http.js")),
    ("k6/metrics", include_str!("../shims/metrics.js")),
    ("k6/execution", include_str!("../shims/execution.js")),
    ("k6/data", include_str!("../shims/data.js")),
    ("k6/encoding", include_str!("../shims/encoding.js")),
    ("k6/crypto", include_str!("../shims/crypto.js")),
    (
        "k6/html",
        "const api = globalThis.__k6.htmlApi();\nexport const parseHTML = api.parseHTML;\nexport default { parseHTML };\n",
    ),
    ("k6/timers", include_str!("../shims/k6_timers.js")),
    ("k6/experimental/fs", include_str!("../shims/fs.js")),
    ("k6/experimental/csv", include_str!("../shims/csv.js")),
    ("k6/ws", include_str!("../shims/ws.js")),
    ("k6/net/grpc", include_str!("../shims/grpc.js")),
    ("k6/websockets", include_str!("../shims/websockets.js")),
    (
        "k6/experimental/websockets",
        include_str!("../shims/websockets.js"),
    ),
    (
        "jslib:k6-summary",
        include_str!("../shims/jslib_summary.js"),
    ),
    ("jslib:k6-utils", include_str!("../shims/jslib_utils.js")),
];

/// The built-in stand-in for a remote jslib module URL, if loadgate has one
/// (`https://jslib.k6.io/k6-summary/0.0.2/index.js` -> `jslib:k6-summary`).
pub fn jslib_builtin(url: &str) -> Option<&'static str> {
    let rest = url
        .strip_prefix("https://jslib.k6.io/")
        .or_else(|| url.strip_prefix("http://jslib.k6.io/"))?;
    let package = rest.split('/').next()?;
    match package {
        "k6-summary" => Some("jslib:k6-summary"),
        "k6-utils" => Some("jslib:k6-utils"),
        _ => None,
    }
}

/// k6's message for a module it removed or graduated (importing one fails the test at init).
pub fn removed_module(name: &str) -> Option<&'static str> {
    Some(match name {
        "k6/experimental/browser" => {
            "k6/experimental/browser has been graduated, please use k6/browser instead."
        }
        "k6/experimental/grpc" => {
            "k6/experimental/grpc has been graduated, please use k6/net/grpc instead."
        }
        "k6/experimental/timers" => {
            "k6/experimental/timers has been graduated, and it's now globally available as defined by standard WebAPIs. You just need to remove the import."
        }
        "k6/experimental/tracing" => {
            "k6/experimental/tracing has been removed. All of it functionality is available as pure JavaScript module."
        }
        "k6/experimental/webcrypto" => {
            "k6/experimental/webcrypto has been graduated and it's now globally available as defined by standard WebAPIs. You just need to remove the import."
        }
        _ => return None,
    })
}

/// Whether `name` is a built-in module.
pub fn is_builtin(name: &str) -> bool {
    BUILTINS.iter().any(|(n, _)| *n == name)
}

/// The shim source of a built-in module.
pub fn builtin_source(name: &str) -> Option<&'static str> {
    BUILTINS.iter().find(|(n, _)| *n == name).map(|(_, s)| *s)
}

/// Installs the globals every VU has: `console`, `open()` and the (empty) native object `__k6`.
/// The natives of each k6 module are added by [`install_module`] when a script imports it, so a
/// VU pays only for the modules it uses.
pub fn install<'js>(ctx: &Ctx<'js>, state: &Rc<VuState>) -> rquickjs::Result<()> {
    let native = Object::new(ctx.clone())?;
    data::install_open(ctx, state)?;
    console::install(ctx, &native, state)?;
    ctx.globals().set("__k6", native)?;
    // Timers are installed on first use: until then the four globals are native getters that
    // evaluate the timers shim (which replaces them with the real functions).
    for name in ["setTimeout", "setInterval", "clearTimeout", "clearInterval"] {
        let getter = move |ctx: Ctx<'js>| {
            ctx.eval::<(), _>(include_str!("../shims/timers.js"))?;
            ctx.globals().get::<_, rquickjs::Value>(name)
        };
        ctx.globals().prop(
            name,
            rquickjs::object::Accessor::new_get(getter).configurable(),
        )?;
    }
    webcrypto_global(ctx)?;
    Ok(())
}

/// The global `crypto` (WebCrypto, as in k6 v1): a getter until first use, which installs the
/// natives and evaluates the shim (that replaces the getter with the object). Assigning to
/// `crypto` before that replaces it as an ordinary property would.
fn webcrypto_global<'js>(ctx: &Ctx<'js>) -> rquickjs::Result<()> {
    let getter = |ctx: Ctx<'js>| {
        let native: Object = ctx.globals().get("__k6")?;
        webcrypto::install(&ctx, &native)?;
        ctx.eval::<(), _>(include_str!("../shims/webcrypto.js"))?;
        ctx.globals().get::<_, rquickjs::Value>("crypto")
    };
    let setter = |ctx: Ctx<'js>, value: rquickjs::Value<'js>| {
        let descriptor = Object::new(ctx.clone())?;
        descriptor.set("value", value)?;
        descriptor.set("writable", true)?;
        descriptor.set("configurable", true)?;
        let define: rquickjs::Function = ctx
            .globals()
            .get::<_, Object>("Object")?
            .get("defineProperty")?;
        define.call::<_, ()>((ctx.globals(), "crypto", descriptor))
    };
    ctx.globals().prop(
        "crypto",
        rquickjs::object::Accessor::new(getter, setter).configurable(),
    )
}

/// Adds the natives of built-in module `name` to `__k6` (before its shim is evaluated).
pub fn install_module<'js>(
    ctx: &Ctx<'js>,
    name: &str,
    state: &Rc<VuState>,
) -> rquickjs::Result<()> {
    let native: Object = ctx.globals().get("__k6")?;
    match name {
        "k6" => k6::install(ctx, &native, state),
        "k6/http" => {
            http::install(ctx, &native, state)?;
            html::install_hook(ctx, &native, state)
        }
        "k6/html" => html::install_hook(ctx, &native, state),
        "k6/metrics" => metrics::install(ctx, &native, state),
        "k6/execution" => execution::install(ctx, &native, state),
        "k6/data" => data::install(ctx, &native, state),
        "k6/encoding" => encoding::install(ctx, &native),
        "k6/ws" | "k6/websockets" | "k6/experimental/websockets" => {
            ws::install(ctx, &native, state)
        }
        "k6/crypto" => crypto::install(ctx, &native),
        "k6/experimental/fs" | "k6/experimental/csv" => fs::install(ctx, &native, state),
        "k6/net/grpc" => grpc::install(ctx, &native, state),
        _ => Ok(()),
    }
}
