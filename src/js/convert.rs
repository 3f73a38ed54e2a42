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

/// A JS value as a tag value: strings as they are, other values via `String(v)`.
pub fn tag_value(value: &Value<'_>) -> String {
    if let Some(s) = value.as_string() {
        return s.to_string().unwrap_or_default();
    }
    if let Some(b) = value.as_bool() {
        return b.to_string();
    }
    if let Some(n) = value.as_number() {
        return format_number(n);
    }
    if value.is_null() || value.is_undefined() {
        return String::new();
    }
    value
        .get::<rquickjs::Coerced<String>>()
        .map(|c| c.0)
        .unwrap_or_default()
}

/// Formats a number as JS's `String(n)` does for the common cases.
pub fn format_number(n: f64) -> String {
    if n.fract() == 0.0 && n.abs() < 1e15 {
        format!("{}", n as i64)
    } else {
        format!("{n}")
    }
}

/// The own enumerable `key: value` pairs of a tags object.
pub fn tag_pairs(obj: &Object<'_>) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for (k, v) in obj.props::<String, Value>().flatten() {
        out.push((k, tag_value(&v)));
    }
    out
}

/// A timeout or duration given as milliseconds (number) or a Go duration string.
pub fn duration_of(value: &Value<'_>) -> Result<Duration, String> {
    if let Some(n) = value.as_number() {
        if n < 0.0 || !n.is_finite() {
            return Err(format!("invalid duration {n}"));
        }
        return Ok(Duration::from_secs_f64(n / 1000.0));
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
