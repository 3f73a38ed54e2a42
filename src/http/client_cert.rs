//! `tlsAuth`: client certificates, loaded and checked like Go's `tls.X509KeyPair` (k6's
//! `TLSAuth.Certificate`), and picked per handshake as Go's TLS client does: the first configured
//! certificate whose key can sign with a scheme the server accepts and whose chain is issued by
//! one of the server's acceptable CAs (any, when the server names none); no certificate when none
//! fits. k6's `domains` do not take part: k6 puts them in Go's `NameToCertificate`, which only a
//! TLS server reads.

use std::sync::Arc;

use tokio_rustls::rustls::client::ResolvesClientCert;
use tokio_rustls::rustls::crypto::CryptoProvider;
use tokio_rustls::rustls::pki_types::pem::{self, SectionKind};
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio_rustls::rustls::sign::CertifiedKey;
use tokio_rustls::rustls::{Error, SignatureScheme};

use crate::engine::options::network::ClientCert;

/// The certificate chain and key of one `tlsAuth` entry, with Go's error texts.
pub(crate) fn load(entry: &ClientCert, provider: &CryptoProvider) -> Result<CertifiedKey, String> {
    let chain = chain(entry.cert.as_bytes())?;
    let key = key(entry.key.as_bytes())?;
    let key = provider
        .key_provider
        .load_private_key(key)
        .map_err(|_| "tls: failed to parse private key".to_string())?;
    let certified = CertifiedKey::new(chain, key);
    match certified.keys_match() {
        Ok(()) => Ok(certified),
        Err(Error::InconsistentKeys(tokio_rustls::rustls::InconsistentKeys::Unknown)) => {
            Ok(certified)
        }
        Err(Error::InconsistentKeys(_)) => {
            Err("tls: private key does not match public key".to_string())
        }
        Err(e) => Err(format!("x509: {e}")),
    }
}

/// The PEM sections of `input` as (kind, DER); unreadable PEM counts as none.
fn sections(input: &[u8]) -> Vec<(SectionKind, Vec<u8>)> {
    let mut out = Vec::new();
    let mut rest = input;
    while let Ok(Some((kind, der))) = pem::from_buf(&mut rest) {
        out.push((kind, der));
    }
    out
}

fn is_key(kind: SectionKind) -> bool {
    matches!(
        kind,
        SectionKind::PrivateKey | SectionKind::RsaPrivateKey | SectionKind::EcPrivateKey
    )
}

fn chain(input: &[u8]) -> Result<Vec<CertificateDer<'static>>, String> {
    let found = sections(input);
    let certs: Vec<CertificateDer<'static>> = found
        .iter()
        .filter(|(k, _)| *k == SectionKind::Certificate)
        .map(|(_, der)| CertificateDer::from(der.clone()))
        .collect();
    if !certs.is_empty() {
        return Ok(certs);
    }
    if found.iter().any(|(k, _)| is_key(*k)) {
        return Err(
            "tls: failed to find certificate PEM data in certificate input, but did find \
                    a private key; PEM inputs may have been switched"
                .to_string(),
        );
    }
    Err("tls: failed to find any PEM data in certificate input".to_string())
}

fn key(input: &[u8]) -> Result<PrivateKeyDer<'static>, String> {
    let found = sections(input);
    for (kind, der) in &found {
        match kind {
            SectionKind::PrivateKey => return Ok(PrivateKeyDer::Pkcs8(der.clone().into())),
            SectionKind::RsaPrivateKey => return Ok(PrivateKeyDer::Pkcs1(der.clone().into())),
            SectionKind::EcPrivateKey => return Ok(PrivateKeyDer::Sec1(der.clone().into())),
            _ => {}
        }
    }
    if found.is_empty() {
        return Err("tls: failed to find any PEM data in key input".to_string());
    }
    if found.iter().any(|(k, _)| *k == SectionKind::Certificate) {
        return Err(
            "tls: found a certificate rather than a key in the PEM for the private key".to_string(),
        );
    }
    Err(
        "tls: failed to find PEM block with type ending in \"PRIVATE KEY\" in key input"
            .to_string(),
    )
}

/// Picks the client certificate for a handshake; see the module docs.
#[derive(Debug)]
pub(crate) struct Resolver {
    keys: Vec<Arc<CertifiedKey>>,
}

impl Resolver {
    pub(crate) fn new(keys: Vec<CertifiedKey>) -> Self {
        Resolver {
            keys: keys.into_iter().map(Arc::new).collect(),
        }
    }
}

impl ResolvesClientCert for Resolver {
    fn resolve(
        &self,
        root_hint_subjects: &[&[u8]],
        sigschemes: &[SignatureScheme],
    ) -> Option<Arc<CertifiedKey>> {
        self.keys
            .iter()
            .find(|k| {
                k.key.choose_scheme(sigschemes).is_some()
                    && (root_hint_subjects.is_empty()
                        || k.cert.iter().any(|c| {
                            issuer(c.as_ref()).is_some_and(|(whole, inner)| {
                                root_hint_subjects
                                    .iter()
                                    .any(|h| *h == whole || *h == inner)
                            })
                        }))
            })
            .cloned()
    }

    fn has_certs(&self) -> bool {
        !self.keys.is_empty()
    }
}

/// One DER element at the start of some input.
struct Element<'a> {
    tag: u8,
    /// Tag, length and contents.
    whole: &'a [u8],
    contents: &'a [u8],
    /// What follows the element.
    rest: &'a [u8],
}

fn element(input: &[u8]) -> Option<Element<'_>> {
    let (&tag, after_tag) = input.split_first()?;
    let (&first, after_len) = after_tag.split_first()?;
    let (len, header) = if first < 0x80 {
        (usize::from(first), 2)
    } else {
        let n = usize::from(first & 0x7f);
        if n == 0 || n > 4 || after_len.len() < n {
            return None;
        }
        let len = after_len[..n]
            .iter()
            .fold(0usize, |acc, b| (acc << 8) | usize::from(*b));
        (len, 2 + n)
    };
    let end = header.checked_add(len)?;
    if input.len() < end {
        return None;
    }
    Some(Element {
        tag,
        whole: &input[..end],
        contents: &input[header..end],
        rest: &input[end..],
    })
}

/// The issuer Name of a DER certificate: the whole element (Go's `RawIssuer`, what a TLS server
/// sends as an acceptable CA) and its contents.
fn issuer(cert: &[u8]) -> Option<(&[u8], &[u8])> {
    let certificate = element(cert)?.contents;
    let mut tbs = element(certificate)?.contents;
    // version [0] EXPLICIT, optional
    if tbs.first() == Some(&0xa0) {
        tbs = element(tbs)?.rest;
    }
    let after_serial = element(tbs)?.rest;
    let after_alg = element(after_serial)?.rest;
    let name = element(after_alg)?;
    (name.tag == 0x30).then_some((name.whole, name.contents))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(cert: &str, key: &str) -> ClientCert {
        ClientCert {
            cert: cert.to_string(),
            key: key.to_string(),
            domains: Vec::new(),
        }
    }

    #[test]
    fn go_texts_for_bad_pem() {
        let p = tokio_rustls::rustls::crypto::ring::default_provider();
        let ck = rcgen::generate_simple_self_signed(vec!["c".to_string()]).unwrap();
        let cert = ck.cert.pem();
        let key = ck.signing_key.serialize_pem();
        assert!(load(&entry(&cert, &key), &p).is_ok());
        let err = |c: &str, k: &str| load(&entry(c, k), &p).err().unwrap_or_default();
        assert_eq!(
            err("nope", &key),
            "tls: failed to find any PEM data in certificate input"
        );
        assert!(err(&key, &key).contains("PEM inputs may have been switched"));
        assert_eq!(
            err(&cert, "nope"),
            "tls: failed to find any PEM data in key input"
        );
        assert_eq!(
            err(&cert, &cert),
            "tls: found a certificate rather than a key in the PEM for the private key"
        );
        let other = rcgen::generate_simple_self_signed(vec!["o".to_string()]).unwrap();
        assert_eq!(
            err(&cert, &other.signing_key.serialize_pem()),
            "tls: private key does not match public key"
        );
    }

    #[test]
    fn issuer_is_the_signers_subject() {
        let ca_key = rcgen::KeyPair::generate().unwrap();
        let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
        ca_params
            .distinguished_name
            .push(rcgen::DnType::CommonName, "issuer test CA");
        ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        let ca = ca_params.self_signed(&ca_key).unwrap();
        let leaf_key = rcgen::KeyPair::generate().unwrap();
        let leaf = rcgen::CertificateParams::new(vec!["leaf".to_string()])
            .unwrap()
            .signed_by(&leaf_key, &rcgen::Issuer::from_params(&ca_params, &ca_key))
            .unwrap();
        let (whole, inner) = issuer(leaf.der()).unwrap();
        assert_eq!(whole[0], 0x30);
        assert!(whole.ends_with(inner));
        // The CA's own (self-signed) issuer is its subject: the same Name.
        assert_eq!(issuer(ca.der()).unwrap().0, whole);
        assert!(issuer(b"\x30\x03\x02\x01").is_none());
    }
}
