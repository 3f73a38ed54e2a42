//! Property names of the objects the natives build (Responses, their timings, cookies and
//! request), as QuickJS atoms made once per runtime.
//!
//! `Object::set("status", ..)` turns the `&str` into an atom on every call, hashing it into the
//! runtime's atom table: with the ~40 names of one Response that was 12% of all CPU of a plain
//! GET test (`__JS_FindAtom` in `perf record`). [`Names`] holds the atoms and defines properties
//! with them directly.
//!
//! The atoms are interned strings of the VU's runtime: they are made when the module is
//! installed and live as long as the runtime, which frees its whole atom table when it goes.

use rquickjs::{Ctx, IntoJs, Object, Value, qjs};

macro_rules! names {
    ($($name:ident),* $(,)?) => {
        /// A property name known to [`Names`].
        #[allow(non_camel_case_types)]
        #[derive(Clone, Copy, Debug)]
        pub enum Name { $($name),* }
        const TEXTS: &[&str] = &[$(stringify!($name)),*];
        #[cfg(test)]
        const ALL: &[Name] = &[$(Name::$name),*];
    };
}

names!(
    status,
    status_text,
    proto,
    url,
    headers,
    body,
    timings,
    duration,
    blocked,
    looking_up,
    connecting,
    tls_handshaking,
    sending,
    waiting,
    receiving,
    error,
    error_code,
    remote_ip,
    remote_port,
    tls_version,
    tls_cipher_suite,
    cookies,
    request,
    method,
    name,
    value,
    domain,
    path,
    http_only,
    secure,
    max_age,
    expires,
    replace,
);

/// The atoms of every [`Name`] in one runtime.
pub struct Names {
    atoms: Vec<qjs::JSAtom>,
}

impl Names {
    pub fn new(ctx: &Ctx<'_>) -> rquickjs::Result<Self> {
        let mut atoms = Vec::with_capacity(TEXTS.len());
        for text in TEXTS {
            // SAFETY: a valid context and a UTF-8 buffer of the given length; the atom's
            // reference is kept for the runtime's lifetime (see the module docs).
            let atom = unsafe {
                qjs::JS_NewAtomLen(ctx.as_raw().as_ptr(), text.as_ptr().cast(), text.len() as _)
            };
            if atom == qjs::JS_ATOM_NULL {
                return Err(rquickjs::Error::Exception);
            }
            atoms.push(atom);
        }
        Ok(Names { atoms })
    }

    /// `obj[key] = value` as a fresh own data property (writable, enumerable, configurable),
    /// what `Object::set` gives on the plain objects the natives build, without the atom lookup.
    pub fn put<'js, V: IntoJs<'js>>(
        &self,
        ctx: &Ctx<'js>,
        obj: &Object<'js>,
        key: Name,
        value: V,
    ) -> rquickjs::Result<()> {
        let value: Value<'js> = value.into_js(ctx)?;
        let raw = ctx.as_raw().as_ptr();
        // SAFETY: the atom belongs to this context's runtime (made in `new` with this context:
        // Names is kept by the natives of one VU); JS_DefinePropertyValue takes its own
        // reference to the value, so `value` is dropped as usual.
        let ok = unsafe {
            qjs::JS_DefinePropertyValue(
                raw,
                obj.as_raw(),
                self.atoms[key as usize],
                qjs::JS_DupValue(raw, value.as_raw()),
                qjs::JS_PROP_C_W_E as _,
            )
        };
        if ok < 0 {
            return Err(rquickjs::Error::Exception);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rquickjs::{Context, Runtime};

    #[test]
    fn put_defines_plain_properties_as_set_does() {
        let rt = Runtime::new().unwrap();
        let ctx = Context::full(&rt).unwrap();
        ctx.with(|ctx| {
            let names = Names::new(&ctx).unwrap();
            let o = Object::new(ctx.clone()).unwrap();
            names.put(&ctx, &o, Name::status, 200).unwrap();
            names.put(&ctx, &o, Name::status_text, "200 OK").unwrap();
            names.put(&ctx, &o, Name::tls_cipher_suite, "").unwrap();
            names.put(&ctx, &o, Name::status, 204).unwrap(); // redefining replaces
            ctx.globals().set("o", o).unwrap();
            let seen: String = ctx
                .eval(
                    "const d = Object.getOwnPropertyDescriptor(o, 'status');\
                     JSON.stringify([o, Object.keys(o), d.writable, d.enumerable, d.configurable])",
                )
                .unwrap();
            assert_eq!(
                seen,
                r#"[{"status":204,"status_text":"200 OK","tls_cipher_suite":""},["status","status_text","tls_cipher_suite"],true,true,true]"#
            );
        });
    }

    #[test]
    fn every_name_is_its_text() {
        let rt = Runtime::new().unwrap();
        let ctx = Context::full(&rt).unwrap();
        ctx.with(|ctx| {
            let names = Names::new(&ctx).unwrap();
            let o = Object::new(ctx.clone()).unwrap();
            for (i, key) in ALL.iter().enumerate() {
                names.put(&ctx, &o, *key, i).unwrap();
            }
            let keys: Vec<String> = o.keys::<String>().map(|k| k.unwrap()).collect();
            assert_eq!(keys, TEXTS);
            for (i, text) in TEXTS.iter().enumerate() {
                assert_eq!(o.get::<_, usize>(*text).unwrap(), i);
            }
        });
    }
}
