//! Digests, HMAC and the AES modes of WebCrypto, on bytes.

use aes::cipher::{
    BlockDecryptMut, BlockEncryptMut, KeyIvInit, StreamCipher, block_padding::Pkcs7,
};
use aes_gcm::aead::{AeadInPlace, KeyInit};
use aes_gcm::{AesGcm, aead::consts::U12};
use hmac::{Hmac, Mac};
use sha1::Sha1;
use sha2::{Digest, Sha256, Sha384, Sha512};

use super::{CryptoError, Result};

/// Runs `$body` with `$H` bound to the digest type named by `$name` (`SHA-1` ... `SHA-512`).
macro_rules! with_hash {
    ($name:expr, $H:ident => $body:expr) => {
        match $name {
            "SHA-1" => {
                type $H = sha1::Sha1;
                $body
            }
            "SHA-256" => {
                type $H = sha2::Sha256;
                $body
            }
            "SHA-384" => {
                type $H = sha2::Sha384;
                $body
            }
            "SHA-512" => {
                type $H = sha2::Sha512;
                $body
            }
            other => {
                return Err($crate::js::modules::webcrypto::CryptoError::new(
                    "NotSupportedError",
                    format!("unsupported hash algorithm {other:?}"),
                ))
            }
        }
    };
}
pub(crate) use with_hash;

/// The digest of `data` with hash `name`.
pub fn digest(name: &str, data: &[u8]) -> Result<Vec<u8>> {
    Ok(match name {
        "SHA-1" => Sha1::digest(data).to_vec(),
        "SHA-256" => Sha256::digest(data).to_vec(),
        "SHA-384" => Sha384::digest(data).to_vec(),
        "SHA-512" => Sha512::digest(data).to_vec(),
        other => {
            return Err(CryptoError::new(
                "NotSupportedError",
                format!(
                    "algorithm {other:?} doesn't support (in implementation) operation \"digest\""
                ),
            ));
        }
    })
}

/// The output length of hash `name` in bytes (HMAC's default key length is its block size).
pub fn hmac_block_bits(name: &str) -> Result<u32> {
    Ok(match name {
        "SHA-1" | "SHA-256" => 512,
        "SHA-384" | "SHA-512" => 1024,
        other => {
            return Err(CryptoError::new(
                "ImplementationError",
                format!("invalid hash algorithm: {other}"),
            ));
        }
    })
}

/// HMAC of `data` under `key` with hash `name`.
pub fn hmac_sign(name: &str, key: &[u8], data: &[u8]) -> Result<Vec<u8>> {
    with_hash!(name, H => {
        let mut mac = <Hmac<H> as Mac>::new_from_slice(key)
            .map_err(|e| CryptoError::new("OperationError", e.to_string()))?;
        mac.update(data);
        Ok(mac.finalize().into_bytes().to_vec())
    })
}

/// Whether `signature` is the HMAC of `data` under `key` (compared in constant time).
pub fn hmac_verify(name: &str, key: &[u8], signature: &[u8], data: &[u8]) -> Result<bool> {
    with_hash!(name, H => {
        let mut mac = <Hmac<H> as Mac>::new_from_slice(key)
            .map_err(|e| CryptoError::new("OperationError", e.to_string()))?;
        mac.update(data);
        Ok(mac.verify_slice(signature).is_ok())
    })
}

/// The parameters of one AES operation, as the algorithm object gives them.
pub struct AesParams<'a> {
    /// `AES-CBC`, `AES-CTR` or `AES-GCM`.
    pub mode: &'a str,
    /// CBC and GCM: the iv; CTR: the counter block.
    pub iv: &'a [u8],
    /// CTR: the counter's bit length; GCM: the tag length in bits.
    pub length: u32,
    /// GCM's additional authenticated data.
    pub additional_data: &'a [u8],
}

fn op(msg: &str) -> CryptoError {
    CryptoError::new("OperationError", msg)
}

/// Encrypts (`decrypt == false`) or decrypts `data` with AES `key`.
pub fn aes(decrypt: bool, key: &[u8], p: &AesParams<'_>, data: &[u8]) -> Result<Vec<u8>> {
    macro_rules! by_key_size {
        ($f:ident) => {
            match key.len() {
                16 => $f::<aes::Aes128>(decrypt, key, p, data),
                24 => $f::<aes::Aes192>(decrypt, key, p, data),
                32 => $f::<aes::Aes256>(decrypt, key, p, data),
                _ => Err(op("invalid key length")),
            }
        };
    }
    match p.mode {
        "AES-CBC" => by_key_size!(cbc_mode),
        "AES-CTR" => by_key_size!(ctr_mode),
        "AES-GCM" => by_key_size!(gcm_mode),
        other => Err(CryptoError::new(
            "NotSupportedError",
            format!("unsupported algorithm {other}"),
        )),
    }
}

type Block<C> = aes::cipher::Block<C>;

fn cbc_mode<C>(decrypt: bool, key: &[u8], p: &AesParams<'_>, data: &[u8]) -> Result<Vec<u8>>
where
    C: aes::cipher::BlockCipher
        + aes::cipher::BlockEncryptMut
        + aes::cipher::BlockDecryptMut
        + aes::cipher::KeyInit
        + aes::cipher::BlockSizeUser<BlockSize = aes::cipher::consts::U16>,
{
    if p.iv.len() != 16 {
        return Err(op(if decrypt {
            "iv length is invalid, should be 16 bytes"
        } else {
            "iv length is not 16 bytes"
        }));
    }
    if decrypt {
        let dec = cbc::Decryptor::<C>::new_from_slices(key, p.iv)
            .map_err(|_| op("could not create AES cipher"))?;
        dec.decrypt_padded_vec_mut::<Pkcs7>(data)
            .map_err(|_| op("invalid padding"))
    } else {
        let enc = cbc::Encryptor::<C>::new_from_slices(key, p.iv)
            .map_err(|_| op("could not create cipher"))?;
        Ok(enc.encrypt_padded_vec_mut::<Pkcs7>(data))
    }
}

fn ctr_mode<C>(decrypt: bool, key: &[u8], p: &AesParams<'_>, data: &[u8]) -> Result<Vec<u8>>
where
    C: aes::cipher::BlockCipher
        + aes::cipher::BlockEncrypt
        + aes::cipher::KeyInit
        + aes::cipher::BlockSizeUser<BlockSize = aes::cipher::consts::U16>,
{
    if p.iv.len() != 16 {
        return Err(op(if decrypt {
            "counter length is invalid, should be 16 bytes"
        } else {
            "counter length is not 16 bytes"
        }));
    }
    if p.length == 0 || p.length > 128 {
        return Err(op(if decrypt {
            "invalid length, should be within 1 <= length <= 128 bounds"
        } else {
            "invalid counter length, out of the 0 < x < 128 bounds"
        }));
    }
    let mut out = data.to_vec();
    // WebCrypto increments only the rightmost `length` bits of the counter block and wraps them;
    // a 64-bit (or longer) counter cannot wrap within one call, so the 128-bit big-endian counter
    // of `ctr` gives the same stream for the usual lengths (64 and 128).
    let blocks = data.len().div_ceil(16) as u128;
    if p.length < 128 {
        let counter = u128::from_be_bytes(p.iv.try_into().map_err(|_| op("bad counter"))?);
        let mask = (1u128 << p.length) - 1;
        if (counter & mask)
            .checked_add(blocks.saturating_sub(1))
            .is_none_or(|end| end > mask)
        {
            return ctr_wrapping::<C>(key, p.iv, p.length, &mut out).map(|()| out);
        }
    }
    let mut cipher = ctr::Ctr128BE::<C>::new_from_slices(key, p.iv)
        .map_err(|_| op("could not create cipher"))?;
    cipher.apply_keystream(&mut out);
    Ok(out)
}

/// CTR with a counter of `length` bits that wraps within the call: block by block.
fn ctr_wrapping<C>(key: &[u8], iv: &[u8], length: u32, data: &mut [u8]) -> Result<()>
where
    C: aes::cipher::BlockEncrypt
        + aes::cipher::KeyInit
        + aes::cipher::BlockSizeUser<BlockSize = aes::cipher::consts::U16>,
{
    let cipher = C::new_from_slice(key).map_err(|_| op("could not create cipher"))?;
    let start = u128::from_be_bytes(iv.try_into().map_err(|_| op("bad counter"))?);
    let mask = (1u128 << length) - 1;
    let fixed = start & !mask;
    let mut counter = start & mask;
    for chunk in data.chunks_mut(16) {
        let mut block = Block::<C>::from((fixed | counter).to_be_bytes());
        cipher.encrypt_block(&mut block);
        for (b, k) in chunk.iter_mut().zip(block.iter()) {
            *b ^= k;
        }
        counter = (counter + 1) & mask;
    }
    Ok(())
}

fn gcm_mode<C>(decrypt: bool, key: &[u8], p: &AesParams<'_>, data: &[u8]) -> Result<Vec<u8>>
where
    C: aes::cipher::BlockCipher
        + aes::cipher::BlockEncrypt
        + aes::cipher::KeyInit
        + aes::cipher::BlockSizeUser<BlockSize = aes::cipher::consts::U16>,
{
    match p.length {
        96 | 104 | 112 | 120 | 128 => {}
        32 | 64 if decrypt => {
            return Err(op(
                "invalid tag length, should be within 96 <= length <= 128 bounds",
            ));
        }
        32 | 64 => {
            return Err(CryptoError::new(
                "NotSupportedError",
                "tag length 32 and 64 are not supported",
            ));
        }
        _ if decrypt => {
            return Err(op(
                "invalid tag length, accepted values are 96, 104, 112, 120, 128",
            ));
        }
        _ => {
            return Err(op(
                "invalid tag length, should be one of 96, 104, 112, 120, 128",
            ));
        }
    }
    if p.iv.len() != 12 {
        return Err(CryptoError::new(
            "NotSupportedError",
            "only 12 bytes long iv are supported",
        ));
    }
    use aes_gcm::aead::consts::{U12 as T12, U13, U14, U15, U16};
    match p.length / 8 {
        12 => gcm_with_tag::<C, T12>(decrypt, key, p, data),
        13 => gcm_with_tag::<C, U13>(decrypt, key, p, data),
        14 => gcm_with_tag::<C, U14>(decrypt, key, p, data),
        15 => gcm_with_tag::<C, U15>(decrypt, key, p, data),
        _ => gcm_with_tag::<C, U16>(decrypt, key, p, data),
    }
}

fn gcm_with_tag<C, T>(decrypt: bool, key: &[u8], p: &AesParams<'_>, data: &[u8]) -> Result<Vec<u8>>
where
    C: aes::cipher::BlockCipher
        + aes::cipher::BlockEncrypt
        + aes::cipher::KeyInit
        + aes::cipher::BlockSizeUser<BlockSize = aes::cipher::consts::U16>,
    T: aes_gcm::TagSize,
{
    let cipher =
        AesGcm::<C, U12, T>::new_from_slice(key).map_err(|_| op("could not create cipher"))?;
    let nonce = aes_gcm::Nonce::<U12>::from_slice(p.iv);
    let tag_len = T::USIZE;
    if decrypt {
        if data.len() < tag_len {
            return Err(op("ciphertext is too short"));
        }
        let (body, tag) = data.split_at(data.len() - tag_len);
        let mut buf = body.to_vec();
        cipher
            .decrypt_in_place_detached(nonce, p.additional_data, &mut buf, tag.into())
            .map_err(|_| op("could not decrypt ciphertext"))?;
        Ok(buf)
    } else {
        let mut buf = data.to_vec();
        let tag = cipher
            .encrypt_in_place_detached(nonce, p.additional_data, &mut buf)
            .map_err(|_| op("could not create cipher"))?;
        buf.extend_from_slice(&tag);
        Ok(buf)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(b: &[u8]) -> String {
        b.iter().map(|x| format!("{x:02x}")).collect()
    }

    #[test]
    fn digests_and_hmac_known_answers() {
        assert_eq!(
            hex(&digest("SHA-1", b"abc").unwrap()),
            "a9993e364706816aba3e25717850c26c9cd0d89d"
        );
        assert_eq!(digest("SHA-7", b"").unwrap_err().name, "NotSupportedError");
        // RFC 4231, test case 2.
        let mac = hmac_sign("SHA-256", b"Jefe", b"what do ya want for nothing?").unwrap();
        assert_eq!(
            hex(&mac),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        assert!(hmac_verify("SHA-256", b"Jefe", &mac, b"what do ya want for nothing?").unwrap());
        assert!(!hmac_verify("SHA-256", b"Jefe", &mac, b"what do ya want").unwrap());
    }

    fn params<'a>(mode: &'a str, iv: &'a [u8], length: u32) -> AesParams<'a> {
        AesParams {
            mode,
            iv,
            length,
            additional_data: b"",
        }
    }

    #[test]
    fn aes_cbc_and_ctr_match_known_answers() {
        // The same answers as Python's `cryptography` and k6 1.1.
        let key: Vec<u8> = (0u8..16).collect();
        let iv: Vec<u8> = (0u8..16).rev().collect();
        let cbc = aes(false, &key, &params("AES-CBC", &iv, 0), b"hello webcrypto").unwrap();
        assert_eq!(hex(&cbc), "daee7f11c6a8cb772da2e16d5630dcc2");
        let back = aes(true, &key, &params("AES-CBC", &iv, 0), &cbc).unwrap();
        assert_eq!(back, b"hello webcrypto");
        let ctr = aes(false, &key, &params("AES-CTR", &iv, 64), b"hello webcrypto").unwrap();
        assert_eq!(hex(&ctr), "48cc95fedb6c2c8d667c8ea51cdaf6");
        let err = aes(false, &key, &params("AES-CBC", &iv[..3], 0), b"x").unwrap_err();
        assert_eq!(err.name, "OperationError");
    }

    #[test]
    fn aes_ctr_short_counter_wraps_within_its_bits() {
        let key = [7u8; 16];
        let mut iv = [0u8; 16];
        iv[15] = 0xff; // the 8-bit counter wraps after the first block
        let data = [0u8; 48];
        let out = aes(false, &key, &params("AES-CTR", &iv, 8), &data).unwrap();
        // Block 2 uses counter 0x00 in the last byte, not a carry into byte 14.
        let mut iv2 = iv;
        iv2[15] = 0x00;
        let second = aes(false, &key, &params("AES-CTR", &iv2, 128), &data[..16]).unwrap();
        assert_eq!(&out[16..32], &second[..]);
        let back = aes(true, &key, &params("AES-CTR", &iv, 8), &out).unwrap();
        assert_eq!(back, data);
    }

    #[test]
    fn aes_gcm_tag_lengths_and_tampering() {
        let key = [1u8; 32];
        let iv = [2u8; 12];
        for bits in [96, 104, 112, 120, 128] {
            let p = AesParams {
                mode: "AES-GCM",
                iv: &iv,
                length: bits,
                additional_data: b"aad",
            };
            let ct = aes(false, &key, &p, b"payload").unwrap();
            assert_eq!(ct.len(), 7 + bits as usize / 8);
            assert_eq!(aes(true, &key, &p, &ct).unwrap(), b"payload");
            let mut bad = ct.clone();
            bad[0] ^= 1;
            assert_eq!(
                aes(true, &key, &p, &bad).unwrap_err().name,
                "OperationError"
            );
        }
        let p = params("AES-GCM", &iv, 64);
        assert_eq!(
            aes(false, &key, &p, b"x").unwrap_err().name,
            "NotSupportedError"
        );
    }
}
