//! Native half of `k6/crypto`: hashes, HMAC, random bytes, in hex, base64 or binary output.

use base64::Engine;
use hmac::{Hmac, Mac};
use md4::Md4;
use md5::Md5;
use rand::RngCore;
use ripemd::Ripemd160;
use rquickjs::{Ctx, Object, Value};
use sha1::Sha1;
use sha2::{Digest, Sha256, Sha384, Sha512, Sha512_224, Sha512_256};

use super::natives::Natives;
use crate::js::convert::{array_buffer, bytes_of, throw};

fn digest(algo: &str, data: &[u8]) -> Option<Vec<u8>> {
    Some(match algo {
        "md4" => Md4::digest(data).to_vec(),
        "md5" => Md5::digest(data).to_vec(),
        "sha1" => Sha1::digest(data).to_vec(),
        "sha256" => Sha256::digest(data).to_vec(),
        "sha384" => Sha384::digest(data).to_vec(),
        "sha512" => Sha512::digest(data).to_vec(),
        "sha512_224" => Sha512_224::digest(data).to_vec(),
        "sha512_256" => Sha512_256::digest(data).to_vec(),
        "ripemd160" => Ripemd160::digest(data).to_vec(),
        _ => return None,
    })
}

fn mac(algo: &str, key: &[u8], data: &[u8]) -> Option<Vec<u8>> {
    macro_rules! run {
        ($t:ty) => {{
            let mut m = <Hmac<$t> as Mac>::new_from_slice(key).ok()?;
            m.update(data);
            m.finalize().into_bytes().to_vec()
        }};
    }
    Some(match algo {
        "md4" => run!(Md4),
        "md5" => run!(Md5),
        "sha1" => run!(Sha1),
        "sha256" => run!(Sha256),
        "sha384" => run!(Sha384),
        "sha512" => run!(Sha512),
        "sha512_224" => run!(Sha512_224),
        "sha512_256" => run!(Sha512_256),
        "ripemd160" => run!(Ripemd160),
        _ => return None,
    })
}

/// Lowercase hex of `bytes`.
pub fn hex(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push_str(&format!("{b:02x}"));
    }
    s
}

/// The bytes of a hash input: a string (UTF-8), an ArrayBuffer or Uint8Array (its raw bytes), or
/// an array of those (the `update()` calls of `createHash`/`createHMAC`, concatenated).
fn input_bytes(value: &Value<'_>) -> Option<Vec<u8>> {
    let Some(parts) = value.as_array() else {
        return bytes_of(value);
    };
    let mut out = Vec::new();
    for part in parts.iter::<Value>() {
        out.extend(bytes_of(&part.ok()?)?);
    }
    Some(out)
}

fn encode<'js>(ctx: &Ctx<'js>, bytes: &[u8], enc: &str) -> rquickjs::Result<Value<'js>> {
    use base64::engine::general_purpose::{STANDARD, URL_SAFE, URL_SAFE_NO_PAD};
    let s = match enc {
        "hex" => hex(bytes),
        "base64" => STANDARD.encode(bytes),
        "base64url" => URL_SAFE.encode(bytes),
        "base64rawurl" => URL_SAFE_NO_PAD.encode(bytes),
        "binary" | "" => return array_buffer(ctx, bytes),
        other => return Err(throw(ctx, &format!("unknown output encoding `{other}`"))),
    };
    Ok(rquickjs::String::from_str(ctx.clone(), &s)?.into_value())
}

pub fn install<'js>(ctx: &Ctx<'js>, native: &Object<'js>) -> rquickjs::Result<()> {
    let n = Natives::stateless(ctx, native);
    n.add(
        "hash",
        |ctx: Ctx<'js>, algo: String, input: Value<'js>, enc: String| {
            let data = input_bytes(&input)
                .ok_or_else(|| throw(&ctx, "hash input must be a string or an ArrayBuffer"))?;
            let out = digest(&algo, &data)
                .ok_or_else(|| throw(&ctx, &format!("unsupported hash algorithm `{algo}`")))?;
            encode(&ctx, &out, &enc)
        },
    )?;
    n.add(
        "hmac",
        |ctx: Ctx<'js>, algo: String, secret: Value<'js>, input: Value<'js>, enc: String| {
            let key = bytes_of(&secret)
                .ok_or_else(|| throw(&ctx, "hmac secret must be a string or an ArrayBuffer"))?;
            let data = input_bytes(&input)
                .ok_or_else(|| throw(&ctx, "hmac data must be a string or an ArrayBuffer"))?;
            let out = mac(&algo, &key, &data)
                .ok_or_else(|| throw(&ctx, &format!("unsupported hmac algorithm `{algo}`")))?;
            encode(&ctx, &out, &enc)
        },
    )?;
    n.add("randomBytes", |ctx: Ctx<'js>, n: f64| {
        if !(0.0..=(1 << 24) as f64).contains(&n) {
            return Err(throw(&ctx, &format!("randomBytes: invalid size {n}")));
        }
        let mut buf = vec![0u8; n as usize];
        rand::thread_rng().fill_bytes(&mut buf);
        array_buffer(&ctx, &buf)
    })?;
    n.add("hexEncode", |ctx: Ctx<'js>, input: Value<'js>| {
        bytes_of(&input)
            .map(|b| hex(&b))
            .ok_or_else(|| throw(&ctx, "hexEncode takes a string or an ArrayBuffer"))
    })?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_digests() {
        assert_eq!(
            hex(&digest("md5", b"hello").unwrap()),
            "5d41402abc4b2a76b9719d911017c592"
        );
        assert_eq!(
            hex(&digest("sha256", b"hello").unwrap()),
            "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"
        );
        assert_eq!(
            hex(&mac(
                "sha256",
                b"key",
                b"The quick brown fox jumps over the lazy dog"
            )
            .unwrap()),
            "f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8"
        );
        // k6 v1.1 gives these for "hello" (golang.org/x/crypto md4 and ripemd160).
        assert_eq!(
            hex(&digest("md4", b"hello").unwrap()),
            "866437cb7a794bce2b727acc0362ee27"
        );
        assert_eq!(
            hex(&digest("ripemd160", b"hello").unwrap()),
            "108f07b8382412612c048d07d13f814118445acd"
        );
        assert_eq!(
            hex(&mac("ripemd160", b"k", b"hello").unwrap()),
            "dee050825fae5df17d769f2eb7e3cab64decbb74"
        );
        assert!(digest("nope", b"").is_none());
    }
}
