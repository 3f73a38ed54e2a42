//! Conversions between JS values and the Rust types of the engine: bytes, tags, durations, errors.

use std::time::Duration;

use rquickjs::{ArrayBuffer, Ctx, Exception, Object, TypedArray, Value};

/// A JS exception with `message`, as an `Err` for host functions.
pub fn throw(ctx: &Ctx<'_>, message: &str) -> rquickjs::Error {
    Exception::throw_message(ctx, message)
}

/// The bytes of a string, ArrayBuffer or Uint8Array (the view's own range); `None` for other
/// values.
pub fn bytes_of(value: &Value<'_>) -> Option<Vec<u8>> {
    if let Some(s) = value.as_string() {
        return s.to_string().ok().map(String::into_bytes);
    }
    let obj = value.as_object()?;
    if let Some(ab) = ArrayBuffer::from_object(obj.clone()) {
        // SAFETY: no JS runs while the slice is alive; it is copied at once.
        return unsafe { ab.as_bytes() }.map(<[u8]>::to_vec);
    }
    if let Ok(ta) = TypedArray::<u8>::from_object(obj.clone()) {
        // Only the view's bytes (`new Uint8Array(buf, 1, 2)` is two bytes), as k6 takes them.
        // SAFETY: as above.
        return unsafe { ta.as_bytes() }.map(<[u8]>::to_vec);
    }
    None
}

/// A JS value as a tag value: strings as they are, other values via `String(v)`. An exception
/// thrown by a `toString` (or the interrupt that stops a runaway one) is passed on, never
/// swallowed: a script cannot hide from the test's end in a conversion.
pub fn tag_value(value: &Value<'_>) -> rquickjs::Result<String> {
    if let Some(s) = value.as_string() {
        return s.to_string();
    }
    if let Some(b) = value.as_bool() {
        return Ok(b.to_string());
    }
    if let Some(n) = value.as_number() {
        return Ok(format_number(n));
    }
    if value.is_null() || value.is_undefined() {
        return Ok(String::new());
    }
    value.get::<rquickjs::Coerced<String>>().map(|c| c.0)
}

/// What a thrown value was, for an error message: `null`, `undefined`, `Symbol(x)`, or its
/// string form (never an empty message for a `throw null`).
pub fn thrown_text(value: &Value<'_>) -> String {
    if value.is_null() {
        return "null".to_string();
    }
    if value.is_undefined() {
        return "undefined".to_string();
    }
    if let Some(sym) = value.as_symbol() {
        let desc = sym
            .description()
            .ok()
            .and_then(|d| d.as_string().and_then(|s| s.to_string().ok()))
            .unwrap_or_default();
        return format!("Symbol({desc})");
    }
    match tag_value(value) {
        Ok(s) if !s.is_empty() => s,
        Ok(_) => "\"\" (an empty string)".to_string(),
        Err(_) => "a value whose toString() throws".to_string(),
    }
}

/// Tags that describe where a sample comes from; user tags cannot replace them.
pub const PROTECTED_TAGS: &[&str] = &["group", "scenario"];

/// Formats a number as JS's `String(n)` does for the common cases.
pub fn format_number(n: f64) -> String {
    if n.fract() == 0.0 && n.abs() < 1e15 {
        format!("{}", n as i64)
    } else {
        format!("{n}")
    }
}

/// The own enumerable `key: value` pairs of a tags (or headers) object. Exceptions (a throwing
/// getter or `toString`, the interrupt) are passed on.
pub fn tag_pairs(obj: &Object<'_>) -> rquickjs::Result<Vec<(String, String)>> {
    let mut out = Vec::new();
    for prop in obj.props::<String, Value>() {
        let (k, v) = prop?;
        let v = tag_value(&v)?;
        out.push((k, v));
    }
    Ok(out)
}

/// [`tag_pairs`] without the [`PROTECTED_TAGS`] (user tags of checks, requests and metrics).
pub fn user_tag_pairs(obj: &Object<'_>) -> rquickjs::Result<Vec<(String, String)>> {
    let mut pairs = tag_pairs(obj)?;
    pairs.retain(|(k, _)| !PROTECTED_TAGS.contains(&k.as_str()));
    Ok(pairs)
}

/// A timeout or duration given as milliseconds (number) or a Go duration string, converted as
/// k6's `types.GetDurationValue` does: negative, NaN and out-of-range numbers become a zero
/// duration (in k6 a negative one, which times out at once), never a panic.
pub fn duration_of(value: &Value<'_>) -> Result<Duration, String> {
    if let Some(n) = value.as_number() {
        return Ok(crate::engine::duration::GoDuration::from_millis_f64(n).to_std());
    }
    if let Some(s) = value.as_string() {
        let s = s.to_string().unwrap_or_default();
        return crate::engine::duration::GoDuration::parse(&s)
            .map(|d| d.to_std())
            .map_err(|e| e.to_string());
    }
    Err("a duration must be a number of milliseconds or a string like \"10s\"".to_string())
}

/// Creates an ArrayBuffer holding `bytes`.
pub fn array_buffer<'js>(ctx: &Ctx<'js>, bytes: &[u8]) -> rquickjs::Result<Value<'js>> {
    Ok(ArrayBuffer::new_copy(ctx.clone(), bytes)?.into_value())
}

/// A JS error as k6 shows it: `Name: message at file:line:column`, further frames on the lines
/// below.
pub fn describe(ctx: &Ctx<'_>, e: rquickjs::Error) -> String {
    if matches!(e, rquickjs::Error::Allocation) {
        return format!("{e}: {}", super::limits::out_of_memory_note());
    }
    if !matches!(e, rquickjs::Error::Exception) {
        return e.to_string();
    }
    let v = ctx.catch();
    if let Some(exc) = v.as_exception() {
        let name: String = exc.get("name").unwrap_or_else(|_| "Error".to_string());
        let message = exc.message().unwrap_or_default();
        let mut out = format!("{name}: {message}");
        if message == "out of memory" {
            out.push_str(": ");
            out.push_str(&super::limits::out_of_memory_note());
        }
        let stack = exc.stack().unwrap_or_default();
        let mut frames = stack.lines().map(str::trim).filter(|l| !l.is_empty());
        if let Some(first) = frames.next() {
            out.push(' ');
            out.push_str(first);
        }
        for frame in frames {
            out.push_str("\n\t");
            out.push_str(frame);
        }
        return super::typescript::remap(&out);
    }
    format!("uncaught exception: {}", thrown_text(&v))
}
