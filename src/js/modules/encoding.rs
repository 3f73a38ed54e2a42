//! Native half of `k6/encoding`: base64 in k6's four variants, decoding as Go's `encoding/base64`
//! does (padding required by `std`/`url`, refused by `rawstd`/`rawurl`, line breaks ignored,
//! errors as `illegal base64 data at input byte N`).

use base64::Engine;
use base64::alphabet::{STANDARD, URL_SAFE};
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use rquickjs::{Ctx, Object, Value};

use super::natives::Natives;
use crate::js::convert::{array_buffer, bytes_of, throw};

const fn config(padded: bool) -> GeneralPurposeConfig {
    GeneralPurposeConfig::new()
        .with_encode_padding(padded)
        // Go's decoders are not strict about the unused bits of the last symbol.
        .with_decode_allow_trailing_bits(true)
        .with_decode_padding_mode(if padded {
            DecodePaddingMode::RequireCanonical
        } else {
            DecodePaddingMode::RequireNone
        })
}

const STD: GeneralPurpose = GeneralPurpose::new(&STANDARD, config(true));
const RAW_STD: GeneralPurpose = GeneralPurpose::new(&STANDARD, config(false));
const URL: GeneralPurpose = GeneralPurpose::new(&URL_SAFE, config(true));
const RAW_URL: GeneralPurpose = GeneralPurpose::new(&URL_SAFE, config(false));

fn engine(name: &str) -> Option<&'static GeneralPurpose> {
    match name {
        "" | "std" => Some(&STD),
        "rawstd" => Some(&RAW_STD),
        "url" => Some(&URL),
        "rawurl" => Some(&RAW_URL),
        _ => None,
    }
}

/// Decodes `input` as k6 does; the error text is Go's.
fn decode(input: &str, encoding: &str) -> Result<Vec<u8>, String> {
    // k6 decodes an unknown encoding name as `std`.
    let e = engine(encoding).unwrap_or(&STD);
    // Go skips line breaks anywhere in the input.
    let clean: String = input
        .chars()
        .filter(|c| !matches!(c, '\r' | '\n'))
        .collect();
    e.decode(&clean).map_err(|err| {
        use base64::DecodeError::*;
        let at = match err {
            InvalidByte(at, _) | InvalidLastSymbol(at, _) => at,
            InvalidLength(_) | InvalidPadding => clean.find('=').unwrap_or(clean.len()),
        };
        format!("illegal base64 data at input byte {at}")
    })
}

pub fn install<'js>(ctx: &Ctx<'js>, native: &Object<'js>) -> rquickjs::Result<()> {
    let n = Natives::stateless(ctx, native);
    n.add(
        "b64encode",
        |ctx: Ctx<'js>, input: Value<'js>, enc: String| {
            let e = engine(&enc)
                .ok_or_else(|| throw(&ctx, &format!("unknown base64 encoding `{enc}`")))?;
            let bytes = bytes_of(&input)
                .ok_or_else(|| throw(&ctx, "b64encode takes a string or an ArrayBuffer"))?;
            Ok::<_, rquickjs::Error>(e.encode(bytes))
        },
    )?;
    n.add(
        "b64decode",
        |ctx: Ctx<'js>, input: String, enc: String, format: String| {
            let bytes = decode(&input, &enc).map_err(|e| throw(&ctx, &e))?;
            if format == "s" {
                Ok(
                    rquickjs::String::from_str(ctx.clone(), &String::from_utf8_lossy(&bytes))?
                        .into_value(),
                )
            } else {
                array_buffer(&ctx, &bytes)
            }
        },
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_as_go_does() {
        assert_eq!(decode("aGk/Pw==", "std").unwrap(), b"hi??");
        assert_eq!(decode("aGk/Pw", "rawstd").unwrap(), b"hi??");
        assert_eq!(decode("aGk_Pw==", "url").unwrap(), b"hi??");
        assert_eq!(decode("aGk_\nPw", "rawurl").unwrap(), b"hi??");
        assert_eq!(decode("aGk/Pw==", "nonsense").unwrap(), b"hi??");
        // k6 v1.1: `b64decode('aGk/Pw==', 'rawstd')` throws this.
        assert_eq!(
            decode("aGk/Pw==", "rawstd").unwrap_err(),
            "illegal base64 data at input byte 6"
        );
        assert!(decode("aGk/Pw", "std").is_err());
        // Non-zero unused bits in the last symbol are accepted, as Go's non-strict decoder does.
        assert_eq!(decode("aGl=", "std").unwrap(), b"hi");
    }
}
