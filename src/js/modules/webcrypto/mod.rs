//! Native half of WebCrypto, the global `crypto` of k6 v1 (`getRandomValues`, `randomUUID`,
//! `subtle`). The shim (`shims/webcrypto.js`) owns the API shape: algorithm normalisation, key
//! usages, `CryptoKey` objects and their hidden key material, Promises and k6's error names. The
//! natives here are stateless operations on bytes (ArrayBuffers in, ArrayBuffers out); a failure
//! is thrown as `"<ErrorName>: <message>"`, which the shim turns into k6's error object.

mod ec;
mod rsa;
mod symmetric;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore;
use rquickjs::{Array, Ctx, Object, Value};

use super::natives::Natives;
use crate::js::convert::{array_buffer, bytes_of, throw};

/// A WebCrypto failure: the error name k6 uses (`OperationError`, `DataError`, ...) and a message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{name}: {message}")]
pub struct CryptoError {
    pub name: &'static str,
    pub message: String,
}

impl CryptoError {
    pub fn new(name: &'static str, message: impl Into<String>) -> Self {
        CryptoError {
            name,
            message: message.into(),
        }
    }
}

pub type Result<T> = std::result::Result<T, CryptoError>;

fn js_err(ctx: &Ctx<'_>, e: CryptoError) -> rquickjs::Error {
    throw(ctx, &e.to_string())
}

/// The bytes of an ArrayBuffer argument (the shim passes copies of the caller's views).
fn bin(ctx: &Ctx<'_>, v: &Value<'_>, what: &str) -> rquickjs::Result<Vec<u8>> {
    if v.is_undefined() || v.is_null() {
        return Ok(Vec::new());
    }
    bytes_of(v).ok_or_else(|| throw(ctx, &format!("TypeError: {what} must be an ArrayBuffer")))
}

fn b64u_decode(ctx: &Ctx<'_>, s: &str, what: &str) -> rquickjs::Result<Vec<u8>> {
    URL_SAFE_NO_PAD
        .decode(s.trim_end_matches('='))
        .map_err(|e| throw(ctx, &format!("DataError: invalid base64url in {what}: {e}")))
}

fn b64u(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

fn pair<'js>(ctx: &Ctx<'js>, items: Vec<Value<'js>>) -> rquickjs::Result<Value<'js>> {
    let arr = Array::new(ctx.clone())?;
    for (i, v) in items.into_iter().enumerate() {
        arr.set(i, v)?;
    }
    Ok(arr.into_value())
}

fn opt_ab<'js>(ctx: &Ctx<'js>, bytes: Option<Vec<u8>>) -> rquickjs::Result<Value<'js>> {
    match bytes {
        Some(b) => array_buffer(ctx, &b),
        None => Ok(Value::new_null(ctx.clone())),
    }
}

/// Adds the WebCrypto natives to `native` (the hidden `__k6` object).
pub fn install<'js>(ctx: &Ctx<'js>, native: &Object<'js>) -> rquickjs::Result<()> {
    install_basics(ctx, native)?;
    install_rsa(ctx, native)?;
    install_ec(ctx, native)?;
    Ok(())
}

fn install_basics<'js>(ctx: &Ctx<'js>, native: &Object<'js>) -> rquickjs::Result<()> {
    let n = Natives::stateless(ctx, native);
    n.add("wcRandom", |ctx: Ctx<'js>, n: usize| {
        let mut buf = vec![0u8; n];
        rand::thread_rng().fill_bytes(&mut buf);
        array_buffer(&ctx, &buf)
    })?;
    n.add(
        "wcDigest",
        |ctx: Ctx<'js>, hash: String, data: Value<'js>| {
            let data = bin(&ctx, &data, "data")?;
            let out = symmetric::digest(&hash, &data).map_err(|e| js_err(&ctx, e))?;
            array_buffer(&ctx, &out)
        },
    )?;
    n.add("wcHmacBlockBits", |ctx: Ctx<'js>, hash: String| {
        symmetric::hmac_block_bits(&hash).map_err(|e| js_err(&ctx, e))
    })?;
    n.add(
        "wcHmacSign",
        |ctx: Ctx<'js>, hash: String, key: Value<'js>, data: Value<'js>| {
            let key = bin(&ctx, &key, "key")?;
            let data = bin(&ctx, &data, "data")?;
            let out = symmetric::hmac_sign(&hash, &key, &data).map_err(|e| js_err(&ctx, e))?;
            array_buffer(&ctx, &out)
        },
    )?;
    n.add(
        "wcHmacVerify",
        |ctx: Ctx<'js>, hash: String, key: Value<'js>, sig: Value<'js>, data: Value<'js>| {
            let key = bin(&ctx, &key, "key")?;
            let sig = bin(&ctx, &sig, "signature")?;
            let data = bin(&ctx, &data, "data")?;
            symmetric::hmac_verify(&hash, &key, &sig, &data).map_err(|e| js_err(&ctx, e))
        },
    )?;
    // wcAes(decrypt, mode, key, {iv, length, additionalData}, data)
    n.add(
        "wcAes",
        |ctx: Ctx<'js>,
         decrypt: bool,
         mode: String,
         key: Value<'js>,
         params: Object<'js>,
         data: Value<'js>| {
            let key = bin(&ctx, &key, "key")?;
            let iv = bin(&ctx, &params.get("iv")?, "iv")?;
            let aad = bin(&ctx, &params.get("additionalData")?, "additionalData")?;
            let length: f64 = params.get("length")?;
            let data = bin(&ctx, &data, "data")?;
            let p = symmetric::AesParams {
                mode: &mode,
                iv: &iv,
                length: if length.is_finite() && length >= 0.0 {
                    length as u32
                } else {
                    0
                },
                additional_data: &aad,
            };
            let out = symmetric::aes(decrypt, &key, &p, &data).map_err(|e| js_err(&ctx, e))?;
            array_buffer(&ctx, &out)
        },
    )?;
    n.add("wcB64u", |ctx: Ctx<'js>, data: Value<'js>| {
        Ok::<_, rquickjs::Error>(b64u(&bin(&ctx, &data, "data")?))
    })?;
    n.add("wcUnB64u", |ctx: Ctx<'js>, s: String, what: String| {
        let out = b64u_decode(&ctx, &s, &what)?;
        array_buffer(&ctx, &out)
    })?;
    Ok(())
}

fn rsa_info<'js>(ctx: &Ctx<'js>, info: &rsa::KeyInfo) -> rquickjs::Result<[Value<'js>; 2]> {
    Ok([
        Value::new_number(ctx.clone(), info.modulus_bits as f64),
        array_buffer(ctx, &info.public_exponent)?,
    ])
}

fn install_rsa<'js>(ctx: &Ctx<'js>, native: &Object<'js>) -> rquickjs::Result<()> {
    let n = Natives::stateless(ctx, native);
    n.add(
        "wcRsaGenerate",
        |ctx: Ctx<'js>, bits: usize, exp: Value<'js>| {
            let exp = bin(&ctx, &exp, "publicExponent")?;
            let (pkcs8, spki, info) = rsa::generate(bits, &exp).map_err(|e| js_err(&ctx, e))?;
            let [b, e] = rsa_info(&ctx, &info)?;
            pair(
                &ctx,
                vec![
                    array_buffer(&ctx, &pkcs8)?,
                    array_buffer(&ctx, &spki)?,
                    b,
                    e,
                ],
            )
        },
    )?;
    n.add(
        "wcRsaImport",
        |ctx: Ctx<'js>, format: String, der: Value<'js>| {
            let der = bin(&ctx, &der, "keyData")?;
            let (der, info) = match format.as_str() {
                "pkcs8" => rsa::import_pkcs8(&der),
                _ => rsa::import_spki(&der),
            }
            .map_err(|e| js_err(&ctx, e))?;
            let [b, e] = rsa_info(&ctx, &info)?;
            pair(&ctx, vec![array_buffer(&ctx, &der)?, b, e])
        },
    )?;
    n.add("wcRsaPublicOf", |ctx: Ctx<'js>, der: Value<'js>| {
        let der = bin(&ctx, &der, "key")?;
        let spki = rsa::public_of(&der).map_err(|e| js_err(&ctx, e))?;
        array_buffer(&ctx, &spki)
    })?;
    n.add("wcRsaJwkImport", |ctx: Ctx<'js>, jwk: Object<'js>| {
        let member = |name: &str| -> rquickjs::Result<Option<Vec<u8>>> {
            match jwk.get::<_, Option<String>>(name)? {
                Some(s) => b64u_decode(&ctx, &s, name).map(Some),
                None => Ok(None),
            }
        };
        let need = |name: &str, v: Option<Vec<u8>>| {
            v.ok_or_else(|| throw(&ctx, &format!("DataError: the JWK has no `{name}` member")))
        };
        let n = need("n", member("n")?)?;
        let e = need("e", member("e")?)?;
        let private = match member("d")? {
            None => None,
            Some(d) => Some(rsa::JwkPrivate {
                d,
                p: need("p", member("p")?)?,
                q: need("q", member("q")?)?,
                dp: member("dp")?.unwrap_or_default(),
                dq: member("dq")?.unwrap_or_default(),
                qi: member("qi")?.unwrap_or_default(),
            }),
        };
        let (der, is_private, info) =
            rsa::jwk_import(&rsa::Jwk { n, e, private }).map_err(|e| js_err(&ctx, e))?;
        let [b, e] = rsa_info(&ctx, &info)?;
        pair(
            &ctx,
            vec![
                array_buffer(&ctx, &der)?,
                Value::new_bool(ctx.clone(), is_private),
                b,
                e,
            ],
        )
    })?;
    n.add(
        "wcRsaJwkExport",
        |ctx: Ctx<'js>, der: Value<'js>, private: bool| {
            let der = bin(&ctx, &der, "key")?;
            let jwk = rsa::jwk_export(&der, private).map_err(|e| js_err(&ctx, e))?;
            let out = Object::new(ctx.clone())?;
            out.set("n", b64u(&jwk.n))?;
            out.set("e", b64u(&jwk.e))?;
            if let Some(p) = jwk.private {
                out.set("d", b64u(&p.d))?;
                out.set("p", b64u(&p.p))?;
                out.set("q", b64u(&p.q))?;
                out.set("dp", b64u(&p.dp))?;
                out.set("dq", b64u(&p.dq))?;
                out.set("qi", b64u(&p.qi))?;
            }
            Ok::<_, rquickjs::Error>(out)
        },
    )?;
    n.add(
        "wcRsaSign",
        |ctx: Ctx<'js>, pss: bool, hash: String, key: Value<'js>, salt: usize, data: Value<'js>| {
            let key = bin(&ctx, &key, "key")?;
            let data = bin(&ctx, &data, "data")?;
            let out = rsa::sign(pss, &hash, &key, salt, &data).map_err(|e| js_err(&ctx, e))?;
            array_buffer(&ctx, &out)
        },
    )?;
    n.add(
        "wcRsaVerify",
        |ctx: Ctx<'js>,
         pss: bool,
         hash: String,
         key: Value<'js>,
         salt: usize,
         sig: Value<'js>,
         data: Value<'js>| {
            let key = bin(&ctx, &key, "key")?;
            let sig = bin(&ctx, &sig, "signature")?;
            let data = bin(&ctx, &data, "data")?;
            rsa::verify(pss, &hash, &key, salt, &sig, &data).map_err(|e| js_err(&ctx, e))
        },
    )?;
    n.add(
        "wcRsaOaep",
        |ctx: Ctx<'js>,
         decrypt: bool,
         hash: String,
         key: Value<'js>,
         label: Value<'js>,
         data: Value<'js>| {
            let key = bin(&ctx, &key, "key")?;
            let label = bin(&ctx, &label, "label")?;
            let data = bin(&ctx, &data, "data")?;
            let out =
                rsa::oaep(decrypt, &hash, &key, &label, &data).map_err(|e| js_err(&ctx, e))?;
            array_buffer(&ctx, &out)
        },
    )?;
    Ok(())
}

fn install_ec<'js>(ctx: &Ctx<'js>, native: &Object<'js>) -> rquickjs::Result<()> {
    let n = Natives::stateless(ctx, native);
    n.add("wcEcGenerate", |ctx: Ctx<'js>, curve: String| {
        let (pkcs8, raw) = ec::generate(&curve).map_err(|e| js_err(&ctx, e))?;
        pair(
            &ctx,
            vec![array_buffer(&ctx, &pkcs8)?, array_buffer(&ctx, &raw)?],
        )
    })?;
    // wcEcImport(format, curve, data) -> [curve, pkcs8 | null, raw]
    n.add(
        "wcEcImport",
        |ctx: Ctx<'js>, format: String, curve: String, data: Value<'js>| {
            let data = bin(&ctx, &data, "keyData")?;
            let (curve, pkcs8, raw) = match format.as_str() {
                "raw" => ec::import_raw(&curve, &data).map(|raw| (curve, None, raw)),
                "spki" => ec::import_spki(&data).map(|(c, raw)| (c.to_string(), None, raw)),
                _ => ec::import_pkcs8(&data).map(|(c, p, raw)| (c.to_string(), Some(p), raw)),
            }
            .map_err(|e| js_err(&ctx, e))?;
            pair(
                &ctx,
                vec![
                    rquickjs::String::from_str(ctx.clone(), &curve)?.into_value(),
                    opt_ab(&ctx, pkcs8)?,
                    array_buffer(&ctx, &raw)?,
                ],
            )
        },
    )?;
    n.add(
        "wcEcSpki",
        |ctx: Ctx<'js>, curve: String, raw: Value<'js>| {
            let raw = bin(&ctx, &raw, "key")?;
            let der = ec::export_spki(&curve, &raw).map_err(|e| js_err(&ctx, e))?;
            array_buffer(&ctx, &der)
        },
    )?;
    n.add(
        "wcEcJwkImport",
        |ctx: Ctx<'js>, curve: String, x: String, y: String, d: Option<String>| {
            let x = b64u_decode(&ctx, &x, "x")?;
            let y = b64u_decode(&ctx, &y, "y")?;
            let d = match d {
                Some(d) => Some(b64u_decode(&ctx, &d, "d")?),
                None => None,
            };
            let (pkcs8, raw) =
                ec::jwk_import(&curve, &x, &y, d.as_deref()).map_err(|e| js_err(&ctx, e))?;
            pair(&ctx, vec![opt_ab(&ctx, pkcs8)?, array_buffer(&ctx, &raw)?])
        },
    )?;
    n.add(
        "wcEcJwkExport",
        |ctx: Ctx<'js>, curve: String, pkcs8: Value<'js>, raw: Value<'js>| {
            let pkcs8 = if pkcs8.is_null() || pkcs8.is_undefined() {
                None
            } else {
                Some(bin(&ctx, &pkcs8, "key")?)
            };
            let raw = bin(&ctx, &raw, "key")?;
            let parts =
                ec::jwk_export(&curve, pkcs8.as_deref(), &raw).map_err(|e| js_err(&ctx, e))?;
            let out = Object::new(ctx.clone())?;
            out.set("x", b64u(&parts.x))?;
            out.set("y", b64u(&parts.y))?;
            if let Some(d) = parts.d {
                out.set("d", b64u(&d))?;
            }
            Ok::<_, rquickjs::Error>(out)
        },
    )?;
    n.add(
        "wcEcSign",
        |ctx: Ctx<'js>, curve: String, hash: String, key: Value<'js>, data: Value<'js>| {
            let key = bin(&ctx, &key, "key")?;
            let data = bin(&ctx, &data, "data")?;
            let out = ec::sign(&curve, &hash, &key, &data).map_err(|e| js_err(&ctx, e))?;
            array_buffer(&ctx, &out)
        },
    )?;
    n.add(
        "wcEcVerify",
        |ctx: Ctx<'js>,
         curve: String,
         hash: String,
         key: Value<'js>,
         sig: Value<'js>,
         data: Value<'js>| {
            let key = bin(&ctx, &key, "key")?;
            let sig = bin(&ctx, &sig, "signature")?;
            let data = bin(&ctx, &data, "data")?;
            ec::verify(&curve, &hash, &key, &sig, &data).map_err(|e| js_err(&ctx, e))
        },
    )?;
    n.add(
        "wcEcdh",
        |ctx: Ctx<'js>, curve: String, private: Value<'js>, public: Value<'js>| {
            let private = bin(&ctx, &private, "key")?;
            let public = bin(&ctx, &public, "public key")?;
            let out = ec::ecdh(&curve, &private, &public).map_err(|e| js_err(&ctx, e))?;
            array_buffer(&ctx, &out)
        },
    )?;
    Ok(())
}
