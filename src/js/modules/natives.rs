//! The one way a module file adds its native functions to `__k6`: [`Natives`] names each
//! function once and hands a closure its own handle on the VU's state, so a module file holds
//! only its module's logic.
//!
//! Invariant: natives are plain functions on the hidden `__k6` object; a module's shim (or its
//! getter) wraps them into k6's API, and nothing else reads `__k6`.

use std::rc::Rc;

use rquickjs::function::IntoJsFunc;
use rquickjs::{Ctx, Function, Object};

use crate::js::state::VuState;

/// Adds native functions to one object (`__k6`, or an object a module builds).
pub struct Natives<'a, 'js> {
    ctx: &'a Ctx<'js>,
    target: &'a Object<'js>,
    state: Option<&'a Rc<VuState>>,
}

impl<'a, 'js> Natives<'a, 'js> {
    /// Natives of a module that needs the VU's state.
    pub fn new(ctx: &'a Ctx<'js>, target: &'a Object<'js>, state: &'a Rc<VuState>) -> Self {
        Natives {
            ctx,
            target,
            state: Some(state),
        }
    }

    /// Natives of a module that needs nothing from the VU.
    pub fn stateless(ctx: &'a Ctx<'js>, target: &'a Object<'js>) -> Self {
        Natives {
            ctx,
            target,
            state: None,
        }
    }

    /// Adds `name`, a function that needs nothing from the VU.
    pub fn add<P, F>(&self, name: &str, f: F) -> rquickjs::Result<&Self>
    where
        F: IntoJsFunc<'js, P> + 'js,
    {
        self.target.set(name, Function::new(self.ctx.clone(), f)?)?;
        Ok(self)
    }

    /// Adds `name`, made by `make` from its own handle on the VU's state.
    pub fn with_state<P, F>(
        &self,
        name: &str,
        make: impl FnOnce(Rc<VuState>) -> F,
    ) -> rquickjs::Result<&Self>
    where
        F: IntoJsFunc<'js, P> + 'js,
    {
        let state = self.state.ok_or_else(|| {
            rquickjs::Error::new_from_js_message("native", "function", "no VU state")
        })?;
        self.add(name, make(state.clone()))
    }
}
