//! RSASSA-PKCS1-v1_5, RSA-PSS and RSA-OAEP. Private keys travel as PKCS #8 DER, public keys as
//! SPKI DER.

use rsa::pkcs8::{DecodePrivateKey, DecodePublicKey, EncodePrivateKey, EncodePublicKey};
use rsa::traits::{PrivateKeyParts, PublicKeyParts};
use rsa::{BigUint, Oaep, Pkcs1v15Sign, Pss, RsaPrivateKey, RsaPublicKey};

use super::symmetric::{digest, with_hash};
use super::{CryptoError, Result};

/// What an imported or generated key tells about itself.
#[derive(Debug)]
pub struct KeyInfo {
    pub modulus_bits: usize,
    pub public_exponent: Vec<u8>,
}

fn info(public: &RsaPublicKey) -> KeyInfo {
    KeyInfo {
        modulus_bits: public.n().bits(),
        public_exponent: public.e().to_bytes_be(),
    }
}

fn op_err(what: &str, e: impl std::fmt::Display) -> CryptoError {
    CryptoError::new("OperationError", format!("{what}: {e}"))
}

fn private_key(pkcs8: &[u8]) -> Result<RsaPrivateKey> {
    RsaPrivateKey::from_pkcs8_der(pkcs8).map_err(|e| {
        CryptoError::new(
            "InvalidAccessError",
            format!("given CryptoKey is not a private RSA key: {e}"),
        )
    })
}

fn public_key(spki: &[u8]) -> Result<RsaPublicKey> {
    RsaPublicKey::from_public_key_der(spki).map_err(|e| {
        CryptoError::new(
            "InvalidAccessError",
            format!("given CryptoKey is not a public RSA key: {e}"),
        )
    })
}

fn pkcs8_of(key: &RsaPrivateKey) -> Result<Vec<u8>> {
    Ok(key
        .to_pkcs8_der()
        .map_err(|e| op_err("unable to marshal key to PKCS8 format", e))?
        .as_bytes()
        .to_vec())
}

fn spki_of(key: &RsaPublicKey) -> Result<Vec<u8>> {
    Ok(key
        .to_public_key_der()
        .map_err(|e| op_err("unable to marshal key to SPKI format", e))?
        .as_bytes()
        .to_vec())
}

/// A new key pair: (PKCS #8, SPKI, info).
pub fn generate(bits: usize, exponent: &[u8]) -> Result<(Vec<u8>, Vec<u8>, KeyInfo)> {
    let significant: Vec<u8> = exponent.iter().copied().skip_while(|b| *b == 0).collect();
    let small = significant.iter().fold(0u64, |acc, b| {
        acc.saturating_mul(256).saturating_add(u64::from(*b))
    });
    if significant.len() > 4 || small > (1 << 31) - 1 {
        return Err(CryptoError::new(
            "OperationError",
            "invalid public exponent: public exponent too large",
        ));
    }
    if small.is_multiple_of(2) {
        return Err(CryptoError::new(
            "OperationError",
            "invalid public exponent: public exponent is even",
        ));
    }
    if small < 3 {
        return Err(CryptoError::new(
            "OperationError",
            "invalid public exponent: public exponent too small",
        ));
    }
    if !(512..=16384).contains(&bits) || !bits.is_multiple_of(8) {
        return Err(CryptoError::new(
            "OperationError",
            format!("could not generate RSA key pair: unsupported modulus length {bits}"),
        ));
    }
    let e = BigUint::from(small);
    let key = RsaPrivateKey::new_with_exp(&mut rand::thread_rng(), bits, &e)
        .map_err(|_| CryptoError::new("OperationError", "could not generate RSA key pair"))?;
    let public = key.to_public_key();
    Ok((pkcs8_of(&key)?, spki_of(&public)?, info(&public)))
}

/// Checks and normalises a PKCS #8 private key.
pub fn import_pkcs8(der: &[u8]) -> Result<(Vec<u8>, KeyInfo)> {
    let key = RsaPrivateKey::from_pkcs8_der(der).map_err(|e| {
        CryptoError::new(
            "DataError",
            format!("unable to import RSA private key data: {e}"),
        )
    })?;
    Ok((pkcs8_of(&key)?, info(&key.to_public_key())))
}

/// Checks and normalises an SPKI public key.
pub fn import_spki(der: &[u8]) -> Result<(Vec<u8>, KeyInfo)> {
    let key = RsaPublicKey::from_public_key_der(der).map_err(|e| {
        CryptoError::new(
            "DataError",
            format!("unable to import RSA public key data: {e}"),
        )
    })?;
    Ok((spki_of(&key)?, info(&key)))
}

/// The SPKI of the public half of a private key.
pub fn public_of(pkcs8: &[u8]) -> Result<Vec<u8>> {
    spki_of(&private_key(pkcs8)?.to_public_key())
}

/// A JWK's big-endian members (`n`, `e`, and for a private key `d`, `p`, `q`, `dp`, `dq`, `qi`).
#[derive(Default)]
pub struct Jwk {
    pub n: Vec<u8>,
    pub e: Vec<u8>,
    pub private: Option<JwkPrivate>,
}

/// The private members of an RSA JWK.
pub struct JwkPrivate {
    pub d: Vec<u8>,
    pub p: Vec<u8>,
    pub q: Vec<u8>,
    pub dp: Vec<u8>,
    pub dq: Vec<u8>,
    pub qi: Vec<u8>,
}

/// A key from a JWK: (DER, whether private, info).
pub fn jwk_import(jwk: &Jwk) -> Result<(Vec<u8>, bool, KeyInfo)> {
    let n = BigUint::from_bytes_be(&jwk.n);
    let e = BigUint::from_bytes_be(&jwk.e);
    match &jwk.private {
        None => {
            let key = RsaPublicKey::new(n, e).map_err(|e| {
                CryptoError::new("DataError", format!("invalid RSA public key: {e}"))
            })?;
            Ok((spki_of(&key)?, false, info(&key)))
        }
        Some(p) => {
            let primes = vec![BigUint::from_bytes_be(&p.p), BigUint::from_bytes_be(&p.q)];
            let mut key =
                RsaPrivateKey::from_components(n, e, BigUint::from_bytes_be(&p.d), primes)
                    .map_err(|e| {
                        CryptoError::new("DataError", format!("invalid RSA private key: {e}"))
                    })?;
            key.validate().map_err(|e| {
                CryptoError::new("DataError", format!("invalid RSA private key: {e}"))
            })?;
            key.precompute().map_err(|e| {
                CryptoError::new("DataError", format!("invalid RSA private key: {e}"))
            })?;
            Ok((pkcs8_of(&key)?, true, info(&key.to_public_key())))
        }
    }
}

/// The JWK members of a key given as PKCS #8 (`private`) or SPKI.
pub fn jwk_export(der: &[u8], private: bool) -> Result<Jwk> {
    if !private {
        let key = public_key(der)?;
        return Ok(Jwk {
            n: key.n().to_bytes_be(),
            e: key.e().to_bytes_be(),
            private: None,
        });
    }
    let mut key = private_key(der)?;
    key.precompute()
        .map_err(|e| op_err("invalid RSA private key", e))?;
    let primes = key.primes();
    let (Some(p), Some(q)) = (primes.first(), primes.get(1)) else {
        return Err(CryptoError::new(
            "OperationError",
            "RSA key without two primes",
        ));
    };
    let (Some(dp), Some(dq), Some(qi)) = (key.dp(), key.dq(), key.qinv()) else {
        return Err(CryptoError::new(
            "OperationError",
            "RSA key without CRT values",
        ));
    };
    let qi = qi
        .to_biguint()
        .ok_or_else(|| CryptoError::new("OperationError", "negative CRT coefficient"))?;
    Ok(Jwk {
        n: key.n().to_bytes_be(),
        e: key.e().to_bytes_be(),
        private: Some(JwkPrivate {
            d: key.d().to_bytes_be(),
            p: p.to_bytes_be(),
            q: q.to_bytes_be(),
            dp: dp.to_bytes_be(),
            dq: dq.to_bytes_be(),
            qi: qi.to_bytes_be(),
        }),
    })
}

/// Signs `data`: `pss == false` is RSASSA-PKCS1-v1_5, else RSA-PSS with `salt_len`.
pub fn sign(pss: bool, hash: &str, pkcs8: &[u8], salt_len: usize, data: &[u8]) -> Result<Vec<u8>> {
    let key = private_key(pkcs8)?;
    let hashed = digest(hash, data)?;
    with_hash!(hash, H => {
        let out = if pss {
            key.sign_with_rng(&mut rand::thread_rng(), Pss::new_with_salt::<H>(salt_len), &hashed)
        } else {
            key.sign(Pkcs1v15Sign::new::<H>(), &hashed)
        };
        out.map_err(|e| op_err("could not sign data", e))
    })
}

/// Whether `signature` is a valid signature of `data` (see [`sign`]).
pub fn verify(
    pss: bool,
    hash: &str,
    spki: &[u8],
    salt_len: usize,
    signature: &[u8],
    data: &[u8],
) -> Result<bool> {
    let key = public_key(spki)?;
    let hashed = digest(hash, data)?;
    with_hash!(hash, H => {
        let out = if pss {
            key.verify(Pss::new_with_salt::<H>(salt_len), &hashed, signature)
        } else {
            key.verify(Pkcs1v15Sign::new::<H>(), &hashed, signature)
        };
        Ok(out.is_ok())
    })
}

/// RSA-OAEP: encrypts with the SPKI key, or decrypts with the PKCS #8 key.
pub fn oaep(decrypt: bool, hash: &str, der: &[u8], label: &[u8], data: &[u8]) -> Result<Vec<u8>> {
    let label = if label.is_empty() {
        None
    } else {
        Some(String::from_utf8(label.to_vec()).map_err(|_| {
            CryptoError::new(
                "NotSupportedError",
                "an RSA-OAEP label must be UTF-8 text here",
            )
        })?)
    };
    with_hash!(hash, H => {
        let padding = match label {
            Some(l) => Oaep::new_with_label::<H, _>(l),
            None => Oaep::new::<H>(),
        };
        if decrypt {
            private_key(der)?
                .decrypt(padding, data)
                .map_err(|e| op_err("could not decrypt data", e))
        } else {
            public_key(der)?
                .encrypt(&mut rand::thread_rng(), padding, data)
                .map_err(|e| op_err("could not encrypt data", e))
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rsa_signs_encrypts_and_round_trips_jwk() {
        let (pkcs8, spki, info) = generate(1024, &[1, 0, 1]).unwrap();
        assert_eq!(info.modulus_bits, 1024);
        assert_eq!(info.public_exponent, vec![1, 0, 1]);
        for pss in [false, true] {
            let sig = sign(pss, "SHA-256", &pkcs8, 32, b"data").unwrap();
            assert_eq!(sig.len(), 128);
            assert!(verify(pss, "SHA-256", &spki, 32, &sig, b"data").unwrap());
            assert!(!verify(pss, "SHA-256", &spki, 32, &sig, b"other").unwrap());
        }
        let ct = oaep(false, "SHA-1", &spki, b"", b"secret").unwrap();
        assert_eq!(oaep(true, "SHA-1", &pkcs8, b"", &ct).unwrap(), b"secret");
        let jwk = jwk_export(&pkcs8, true).unwrap();
        let (der, private, _) = jwk_import(&jwk).unwrap();
        assert!(private);
        assert_eq!(
            sign(false, "SHA-256", &der, 0, b"x").unwrap(),
            sign(false, "SHA-256", &pkcs8, 0, b"x").unwrap()
        );
        assert_eq!(generate(1024, &[2]).unwrap_err().name, "OperationError");
        assert_eq!(import_spki(b"junk").unwrap_err().name, "DataError");
    }
}
