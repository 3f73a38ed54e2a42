//! Native half of `k6/http`'s cookie jars: the VU's own (`http.cookieJar()`, id 0) and jars made
//! with `new http.CookieJar()` (ids 1, 2, ...), owned by the VU's state.

use std::rc::Rc;

use rquickjs::prelude::Opt;
use rquickjs::{Array, Ctx, Object, Value};

use super::natives::Natives;
use crate::http::{CookieJar, CookieOptions};
use crate::js::convert::throw;
use crate::js::state::VuState;

/// Adds `jarNew`, `jarCookiesForUrl`, `jarSet`, `jarClear` and `jarDelete` to `__k6`.
pub fn install<'js>(
    ctx: &Ctx<'js>,
    native: &Object<'js>,
    state: &Rc<VuState>,
) -> rquickjs::Result<()> {
    let n = Natives::new(ctx, native, state);
    n.with_state("jarCookiesForUrl", |st| {
        move |ctx: Ctx<'js>, id: u32, url: String| {
            let cookies = jar_of(&ctx, &st, id)?
                .cookies_for_url(&url)
                .map_err(|e| throw(&ctx, &e.to_string()))?;
            let o = Object::new(ctx.clone())?;
            for (k, v) in cookies {
                let list: Option<Array> = o.get(k.as_str())?;
                let list = match list {
                    Some(l) => l,
                    None => {
                        let l = Array::new(ctx.clone())?;
                        o.set(k.as_str(), l.clone())?;
                        l
                    }
                };
                list.set(list.len(), v)?;
            }
            Ok::<_, rquickjs::Error>(o)
        }
    })?;
    n.with_state("jarSet", |st| {
        move |ctx: Ctx<'js>,
              id: u32,
              url: String,
              name: String,
              value: String,
              opts: Opt<Value<'js>>| {
            let mut options = CookieOptions::default();
            if let Some(o) = opts.0.as_ref().and_then(Value::as_object) {
                options.domain = o.get::<_, Option<String>>("domain").ok().flatten();
                options.path = o.get::<_, Option<String>>("path").ok().flatten();
                options.secure = o
                    .get::<_, Option<bool>>("secure")
                    .ok()
                    .flatten()
                    .unwrap_or(false);
                options.http_only = o
                    .get::<_, Option<bool>>("http_only")
                    .ok()
                    .flatten()
                    .unwrap_or(false);
                options.max_age = o
                    .get::<_, Option<f64>>("max_age")
                    .ok()
                    .flatten()
                    .map(|n| n as i64);
            }
            jar_of(&ctx, &st, id)?
                .set(&url, &name, &value, &options)
                .map_err(|e| throw(&ctx, &e.to_string()))
        }
    })?;
    n.with_state("jarClear", |st| {
        move |ctx: Ctx<'js>, id: u32, url: String| {
            jar_of(&ctx, &st, id)?
                .clear(&url)
                .map_err(|e| throw(&ctx, &e.to_string()))
        }
    })?;
    n.with_state("jarDelete", |st| {
        move |ctx: Ctx<'js>, id: u32, url: String, name: String| {
            jar_of(&ctx, &st, id)?
                .delete(&url, &name)
                .map_err(|e| throw(&ctx, &e.to_string()))
        }
    })?;
    n.with_state("jarNew", |st| {
        move || {
            let mut jars = st.custom_jars.borrow_mut();
            jars.push(Rc::new(CookieJar::new()));
            jars.len() as u32
        }
    })?;
    Ok(())
}

/// The jar a script-visible id names.
pub fn jar_of(ctx: &Ctx<'_>, state: &VuState, id: u32) -> rquickjs::Result<Rc<CookieJar>> {
    state
        .jar_by_id(id)
        .ok_or_else(|| throw(ctx, &format!("unknown cookie jar {id}")))
}
