//! ECDSA and ECDH on the NIST curves P-256, P-384 and P-521. Private keys travel as PKCS #8 DER,
//! public keys as uncompressed SEC1 points (WebCrypto's `raw` format).

use ecdsa::hazmat::{SignPrimitive, VerifyPrimitive};
use ecdsa::{Signature, SignatureSize};
use elliptic_curve::generic_array::ArrayLength;
use elliptic_curve::ops::Invert;
use elliptic_curve::pkcs8::{
    AssociatedOid, DecodePrivateKey, DecodePublicKey, EncodePrivateKey, EncodePublicKey,
};
use elliptic_curve::sec1::{EncodedPoint, FromEncodedPoint, ModulusSize, ToEncodedPoint};
use elliptic_curve::subtle::CtOption;
use elliptic_curve::{
    AffinePoint, CurveArithmetic, FieldBytes, FieldBytesSize, NonZeroScalar, PrimeCurve, PublicKey,
    Scalar, SecretKey,
};

use super::symmetric::digest;
use super::{CryptoError, Result};

/// The curves WebCrypto names, in the order import tries them.
pub const CURVES: [&str; 3] = ["P-256", "P-384", "P-521"];

/// Runs `$f::<Curve>($args)` for the curve named `$name`.
macro_rules! on_curve {
    ($name:expr, $f:ident ( $($arg:expr),* )) => {
        match $name {
            "P-256" => $f::<p256::NistP256>($($arg),*),
            "P-384" => $f::<p384::NistP384>($($arg),*),
            "P-521" => $f::<p521::NistP521>($($arg),*),
            other => Err(CryptoError::new(
                "NotSupportedError",
                format!("elliptic curve {other} is not supported"),
            )),
        }
    };
}

/// What every curve here offers: arithmetic, SEC1 points, PKCS #8 / SPKI, ECDSA.
pub trait Curve: PrimeCurve + CurveArithmetic + AssociatedOid
where
    AffinePoint<Self>: FromEncodedPoint<Self> + ToEncodedPoint<Self> + VerifyPrimitive<Self>,
    FieldBytesSize<Self>: ModulusSize,
    Scalar<Self>: Invert<Output = CtOption<Scalar<Self>>> + SignPrimitive<Self>,
    SignatureSize<Self>: ArrayLength<u8>,
{
}

impl Curve for p256::NistP256 {}
impl Curve for p384::NistP384 {}
impl Curve for p521::NistP521 {}

fn data_err(what: &str, e: impl std::fmt::Display) -> CryptoError {
    CryptoError::new("DataError", format!("{what}: {e}"))
}

fn raw_of<C: Curve>(public: &PublicKey<C>) -> Vec<u8>
where
    AffinePoint<C>: FromEncodedPoint<C> + ToEncodedPoint<C> + VerifyPrimitive<C>,
    FieldBytesSize<C>: ModulusSize,
    Scalar<C>: Invert<Output = CtOption<Scalar<C>>> + SignPrimitive<C>,
    SignatureSize<C>: ArrayLength<u8>,
{
    public.to_encoded_point(false).as_bytes().to_vec()
}

/// A hash as the field element ECDSA signs (SEC 1's bits2int for byte-sized fields): its
/// leftmost field-size bytes, or the hash left-padded with zeros when it is shorter (P-521 with
/// SHA-256 is valid WebCrypto, but shorter than `ecdsa::hazmat::bits2field` accepts).
fn field_of<C: PrimeCurve>(prehash: &[u8]) -> FieldBytes<C> {
    let mut out = FieldBytes::<C>::default();
    let n = out.len();
    if prehash.len() >= n {
        out.copy_from_slice(&prehash[..n]);
    } else {
        out[n - prehash.len()..].copy_from_slice(prehash);
    }
    out
}

macro_rules! curve_fns {
    ($(fn $name:ident <C> ( $($arg:ident : $ty:ty),* ) -> $ret:ty $body:block)*) => {
        $(
            fn $name<C: Curve>($($arg: $ty),*) -> $ret
            where
                AffinePoint<C>: FromEncodedPoint<C> + ToEncodedPoint<C> + VerifyPrimitive<C>,
                FieldBytesSize<C>: ModulusSize,
                Scalar<C>: Invert<Output = CtOption<Scalar<C>>> + SignPrimitive<C>,
                SignatureSize<C>: ArrayLength<u8>,
            $body
        )*
    };
}

curve_fns! {
    fn generate_on<C>() -> Result<(Vec<u8>, Vec<u8>)> {
        let secret = SecretKey::<C>::random(&mut rand::thread_rng());
        let pkcs8 = secret
            .to_pkcs8_der()
            .map_err(|e| CryptoError::new("OperationError", e.to_string()))?;
        Ok((pkcs8.as_bytes().to_vec(), raw_of(&secret.public_key())))
    }

    fn public_from_raw<C>(raw: &[u8]) -> Result<Vec<u8>> {
        let public = PublicKey::<C>::from_sec1_bytes(raw)
            .map_err(|e| data_err("unable to import public key data", e))?;
        Ok(raw_of(&public))
    }

    fn public_from_spki<C>(der: &[u8]) -> Result<Vec<u8>> {
        let public = PublicKey::<C>::from_public_key_der(der)
            .map_err(|e| data_err("unable to import public key data", e))?;
        Ok(raw_of(&public))
    }

    fn private_from_pkcs8<C>(der: &[u8]) -> Result<(Vec<u8>, Vec<u8>)> {
        let secret = SecretKey::<C>::from_pkcs8_der(der)
            .map_err(|e| data_err("unable to import private key data", e))?;
        let pkcs8 = secret
            .to_pkcs8_der()
            .map_err(|e| CryptoError::new("OperationError", e.to_string()))?;
        Ok((pkcs8.as_bytes().to_vec(), raw_of(&secret.public_key())))
    }

    fn spki_on<C>(raw: &[u8]) -> Result<Vec<u8>> {
        let public = PublicKey::<C>::from_sec1_bytes(raw)
            .map_err(|e| data_err("key data isn't a valid elliptic curve public key", e))?;
        let der = public.to_public_key_der().map_err(|e| {
            CryptoError::new("OperationError", format!("unable to marshal key to SPKI format: {e}"))
        })?;
        Ok(der.as_bytes().to_vec())
    }

    fn jwk_import_on<C>(x: &[u8], y: &[u8], d: Option<&[u8]>) -> Result<(Option<Vec<u8>>, Vec<u8>)> {
        let size = <FieldBytesSize<C> as elliptic_curve::generic_array::typenum::Unsigned>::USIZE;
        if x.len() != size || y.len() != size {
            return Err(CryptoError::new("DataError", "invalid x or y coordinate length for the curve"));
        }
        let point = EncodedPoint::<C>::from_affine_coordinates(x.into(), y.into(), false);
        let public = Option::<PublicKey<C>>::from(PublicKey::<C>::from_encoded_point(&point))
            .ok_or_else(|| CryptoError::new("DataError", "the point is not on the curve"))?;
        let Some(d) = d else {
            return Ok((None, raw_of(&public)));
        };
        let secret = SecretKey::<C>::from_slice(d).map_err(|e| data_err("invalid private key", e))?;
        if secret.public_key() != public {
            return Err(CryptoError::new("DataError", "the private key does not match the public key"));
        }
        let pkcs8 = secret
            .to_pkcs8_der()
            .map_err(|e| CryptoError::new("OperationError", e.to_string()))?;
        Ok((Some(pkcs8.as_bytes().to_vec()), raw_of(&public)))
    }

    fn jwk_export_on<C>(pkcs8: Option<&[u8]>, raw: &[u8]) -> Result<JwkParts> {
        let public = PublicKey::<C>::from_sec1_bytes(raw)
            .map_err(|e| CryptoError::new("OperationError", e.to_string()))?;
        let point = public.to_encoded_point(false);
        let (Some(x), Some(y)) = (point.x(), point.y()) else {
            return Err(CryptoError::new("OperationError", "the public key is the identity point"));
        };
        let d = match pkcs8 {
            Some(der) => Some(
                SecretKey::<C>::from_pkcs8_der(der)
                    .map_err(|e| CryptoError::new("OperationError", e.to_string()))?
                    .to_bytes()
                    .to_vec(),
            ),
            None => None,
        };
        Ok(JwkParts { x: x.to_vec(), y: y.to_vec(), d })
    }

    fn sign_on<C>(hash: &str, pkcs8: &[u8], data: &[u8]) -> Result<Vec<u8>> {
        let secret = SecretKey::<C>::from_pkcs8_der(pkcs8)
            .map_err(|_| CryptoError::new("InvalidAccessError", "key is not a valid ECDSA private key"))?;
        let z = field_of::<C>(&digest(hash, data)?);
        let k: Scalar<C> = *NonZeroScalar::<C>::random(&mut rand::thread_rng()).as_ref();
        let (sig, _) = secret
            .to_nonzero_scalar()
            .as_ref()
            .try_sign_prehashed(k, &z)
            .map_err(|e| CryptoError::new("OperationError", format!("unable to sign data: {e}")))?;
        Ok(sig.to_bytes().to_vec())
    }

    fn verify_on<C>(hash: &str, raw: &[u8], signature: &[u8], data: &[u8]) -> Result<bool> {
        let public = PublicKey::<C>::from_sec1_bytes(raw)
            .map_err(|_| CryptoError::new("InvalidAccessError", "key is not a valid ECDSA public key"))?;
        let z = field_of::<C>(&digest(hash, data)?);
        let Ok(sig) = Signature::<C>::from_slice(signature) else {
            return Ok(false);
        };
        Ok(public.as_affine().verify_prehashed(&z, &sig).is_ok())
    }

    fn ecdh_on<C>(pkcs8: &[u8], raw: &[u8]) -> Result<Vec<u8>> {
        let secret = SecretKey::<C>::from_pkcs8_der(pkcs8)
            .map_err(|_| CryptoError::new("InvalidAccessError", "key is not a valid ECDH private key"))?;
        let public = PublicKey::<C>::from_sec1_bytes(raw)
            .map_err(|_| CryptoError::new("InvalidAccessError", "key is not a valid ECDH public key"))?;
        let shared = elliptic_curve::ecdh::diffie_hellman(secret.to_nonzero_scalar(), public.as_affine());
        Ok(shared.raw_secret_bytes().to_vec())
    }
}

/// A JWK's coordinates (and private scalar), unencoded.
pub struct JwkParts {
    pub x: Vec<u8>,
    pub y: Vec<u8>,
    pub d: Option<Vec<u8>>,
}

/// A new key pair on `curve`: (PKCS #8 private key, raw public key).
pub fn generate(curve: &str) -> Result<(Vec<u8>, Vec<u8>)> {
    on_curve!(curve, generate_on())
}

/// Checks a raw public key on `curve` and returns it uncompressed.
pub fn import_raw(curve: &str, raw: &[u8]) -> Result<Vec<u8>> {
    on_curve!(curve, public_from_raw(raw))
}

/// The curve and raw public key of an SPKI document.
pub fn import_spki(der: &[u8]) -> Result<(&'static str, Vec<u8>)> {
    let mut last = None;
    for curve in CURVES {
        match on_curve!(curve, public_from_spki(der)) {
            Ok(raw) => return Ok((curve, raw)),
            Err(e) => last = Some(e),
        }
    }
    Err(last.unwrap_or_else(|| CryptoError::new("DataError", "unable to import key data")))
}

/// The curve, normalised PKCS #8 and raw public key of a PKCS #8 private key.
pub fn import_pkcs8(der: &[u8]) -> Result<(&'static str, Vec<u8>, Vec<u8>)> {
    let mut last = None;
    for curve in CURVES {
        match on_curve!(curve, private_from_pkcs8(der)) {
            Ok((pkcs8, raw)) => return Ok((curve, pkcs8, raw)),
            Err(e) => last = Some(e),
        }
    }
    Err(last.unwrap_or_else(|| CryptoError::new("DataError", "unable to import key data")))
}

/// The SPKI document of a raw public key.
pub fn export_spki(curve: &str, raw: &[u8]) -> Result<Vec<u8>> {
    on_curve!(curve, spki_on(raw))
}

/// A key from JWK coordinates: (PKCS #8 when `d` is given, raw public key).
pub fn jwk_import(
    curve: &str,
    x: &[u8],
    y: &[u8],
    d: Option<&[u8]>,
) -> Result<(Option<Vec<u8>>, Vec<u8>)> {
    on_curve!(curve, jwk_import_on(x, y, d))
}

/// The JWK coordinates of a key.
pub fn jwk_export(curve: &str, pkcs8: Option<&[u8]>, raw: &[u8]) -> Result<JwkParts> {
    on_curve!(curve, jwk_export_on(pkcs8, raw))
}

/// ECDSA signature (r || s, as WebCrypto has it) of `data` hashed with `hash`.
pub fn sign(curve: &str, hash: &str, pkcs8: &[u8], data: &[u8]) -> Result<Vec<u8>> {
    on_curve!(curve, sign_on(hash, pkcs8, data))
}

/// Whether `signature` (r || s) is a valid ECDSA signature of `data`.
pub fn verify(curve: &str, hash: &str, raw: &[u8], signature: &[u8], data: &[u8]) -> Result<bool> {
    on_curve!(curve, verify_on(hash, raw, signature, data))
}

/// The ECDH shared secret (the x coordinate) of a private and a public key.
pub fn ecdh(curve: &str, pkcs8: &[u8], raw: &[u8]) -> Result<Vec<u8>> {
    on_curve!(curve, ecdh_on(pkcs8, raw))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ecdsa_signs_and_verifies_on_every_curve_with_every_hash() {
        for curve in CURVES {
            let (pkcs8, raw) = generate(curve).unwrap();
            for hash in ["SHA-1", "SHA-256", "SHA-384", "SHA-512"] {
                let sig = sign(curve, hash, &pkcs8, b"data").unwrap();
                assert!(
                    verify(curve, hash, &raw, &sig, b"data").unwrap(),
                    "{curve} {hash}"
                );
                assert!(!verify(curve, hash, &raw, &sig, b"datb").unwrap());
            }
            assert!(!verify(curve, "SHA-256", &raw, b"short", b"data").unwrap());
        }
    }

    #[test]
    fn ecdh_agrees_and_keys_round_trip() {
        let (a_priv, a_pub) = generate("P-384").unwrap();
        let (b_priv, b_pub) = generate("P-384").unwrap();
        assert_eq!(
            ecdh("P-384", &a_priv, &b_pub).unwrap(),
            ecdh("P-384", &b_priv, &a_pub).unwrap()
        );
        let spki = export_spki("P-384", &a_pub).unwrap();
        assert_eq!(import_spki(&spki).unwrap(), ("P-384", a_pub.clone()));
        let (curve, pkcs8, raw) = import_pkcs8(&a_priv).unwrap();
        assert_eq!((curve, &raw), ("P-384", &a_pub));
        let parts = jwk_export("P-384", Some(&pkcs8), &raw).unwrap();
        let (again, raw2) = jwk_import("P-384", &parts.x, &parts.y, parts.d.as_deref()).unwrap();
        assert_eq!(raw2, a_pub);
        assert_eq!(again.as_deref(), Some(&pkcs8[..]));
        assert_eq!(import_spki(b"\x01\x02").unwrap_err().name, "DataError");
        assert_eq!(generate("P-999").unwrap_err().name, "NotSupportedError");
    }
}
