//! Native half of `k6/encoding`: base64 in k6's four variants.

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
use rquickjs::{Ctx, Function, Object, Value};

use crate::js::convert::{array_buffer, bytes_of, throw};

fn engine(name: &str) -> Option<&'static base64::engine::GeneralPurpose> {
    match name {
        "" | "std" => Some(&STANDARD),
        "rawstd" => Some(&STANDARD_NO_PAD),
        "url" => Some(&URL_SAFE),
        "rawurl" => Some(&URL_SAFE_NO_PAD),
        _ => None,
    }
}

pub fn install<'js>(ctx: &Ctx<'js>, native: &Object<'js>) -> rquickjs::Result<()> {
    native.set(
        "b64encode",
        Function::new(
            ctx.clone(),
            |ctx: Ctx<'js>, input: Value<'js>, enc: String| {
                let e = engine(&enc)
                    .ok_or_else(|| throw(&ctx, &format!("unknown base64 encoding `{enc}`")))?;
                let bytes = bytes_of(&input)
                    .ok_or_else(|| throw(&ctx, "b64encode takes a string or an ArrayBuffer"))?;
                Ok::<_, rquickjs::Error>(e.encode(bytes))
            },
        )?,
    )?;
    native.set(
        "b64decode",
        Function::new(
            ctx.clone(),
            |ctx: Ctx<'js>, input: String, enc: String, format: String| {
                let e = engine(&enc)
                    .ok_or_else(|| throw(&ctx, &format!("unknown base64 encoding `{enc}`")))?;
                let bytes = e
                    .decode(input.trim_end_matches(|c| c == '=' && enc.starts_with("raw")))
                    .map_err(|err| throw(&ctx, &format!("b64decode: {err}")))?;
                if format == "s" {
                    Ok(
                        rquickjs::String::from_str(ctx.clone(), &String::from_utf8_lossy(&bytes))?
                            .into_value(),
                    )
                } else {
                    array_buffer(&ctx, &bytes)
                }
            },
        )?,
    )?;
    Ok(())
}
