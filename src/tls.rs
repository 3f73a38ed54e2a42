//! TLS trust shared by every client of the process: `k6/http` and `k6/ws` (see `http::tls` for
//! their k6-specific settings), the remote-write client, and the service's Keptn API, distributor
//! and resource-service client (reqwest).
//!
//! Roots are found as Go's `crypto/x509` finds them on Linux, which is what k6 trusts:
//! `SSL_CERT_FILE` replaces the system bundle file (else the first readable of Go's list), and
//! `SSL_CERT_DIR` (colon-separated) replaces the system certificate folders. When that finds no
//! certificate at all, the webpki (Mozilla) roots are used instead, so a minimal container without
//! a CA bundle still reaches public endpoints. Loaded once per process; rustls with ring.

use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use tokio_rustls::rustls::client::danger::{
    HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier,
};
use tokio_rustls::rustls::crypto::{CryptoProvider, ring};
use tokio_rustls::rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use tokio_rustls::rustls::{
    self, ClientConfig, DigitallySignedStruct, Error, RootCertStore, SignatureScheme,
};

/// Go's system bundle files on Linux (`crypto/x509/root_linux.go`), first readable one wins.
const CERT_FILES: &[&str] = &[
    "/etc/ssl/certs/ca-certificates.crt",
    "/etc/pki/tls/certs/ca-bundle.crt",
    "/etc/ssl/ca-bundle.pem",
    "/etc/pki/tls/cacert.pem",
    "/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem",
    "/etc/ssl/cert.pem",
];

/// Go's system certificate folders on Linux.
const CERT_DIRS: &[&str] = &["/etc/ssl/certs", "/etc/pki/tls/certs"];

/// Where the roots came from (logged once).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RootSource {
    /// Certificates from these files and folders.
    System { certs: usize },
    /// None found: the compiled-in webpki roots.
    Webpki,
}

/// The process's trust roots.
pub fn roots() -> Arc<RootCertStore> {
    static ROOTS: OnceLock<Arc<RootCertStore>> = OnceLock::new();
    ROOTS
        .get_or_init(|| {
            let file = std::env::var_os("SSL_CERT_FILE").map(PathBuf::from);
            let dirs = std::env::var_os("SSL_CERT_DIR")
                .map(|d| std::env::split_paths(&d).collect::<Vec<_>>());
            let (store, source) = load_roots(file.as_deref(), dirs.as_deref());
            tracing::debug!(?source, "TLS trust roots loaded");
            Arc::new(store)
        })
        .clone()
}

/// Roots as Go loads them: `file` (else Go's list) and `dirs` (else Go's folders); webpki when
/// nothing is found.
pub fn load_roots(file: Option<&Path>, dirs: Option<&[PathBuf]>) -> (RootCertStore, RootSource) {
    let mut store = RootCertStore::empty();
    let files: Vec<PathBuf> = match file {
        Some(f) if !f.as_os_str().is_empty() => vec![f.to_path_buf()],
        _ => CERT_FILES.iter().map(PathBuf::from).collect(),
    };
    for f in &files {
        if let Ok(pem) = std::fs::read(f) {
            add_pem(&mut store, &pem);
            break;
        }
    }
    let dirs: Vec<PathBuf> = match dirs {
        Some(d) if !d.is_empty() => d.to_vec(),
        _ => CERT_DIRS.iter().map(PathBuf::from).collect(),
    };
    for d in &dirs {
        let Ok(entries) = std::fs::read_dir(d) else {
            continue;
        };
        for e in entries.flatten() {
            if let Ok(pem) = std::fs::read(e.path()) {
                add_pem(&mut store, &pem);
            }
        }
    }
    if store.is_empty() {
        store.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
        return (store, RootSource::Webpki);
    }
    let certs = store.len();
    (store, RootSource::System { certs })
}

/// Adds every certificate of a PEM text (others and broken ones are skipped, as Go does).
fn add_pem(store: &mut RootCertStore, pem: &[u8]) {
    use rustls::pki_types::pem::PemObject;
    for cert in CertificateDer::pem_slice_iter(pem).flatten() {
        let _ = store.add(cert);
    }
}

/// The crypto provider of every client (ring).
pub fn provider() -> Arc<CryptoProvider> {
    static PROVIDER: OnceLock<Arc<CryptoProvider>> = OnceLock::new();
    PROVIDER
        .get_or_init(|| Arc::new(ring::default_provider()))
        .clone()
}

/// Makes ring the process's default rustls provider, for clients built without a configuration
/// of ours (reqwest refuses to build one otherwise). Idempotent.
pub fn install_default_provider() {
    let _ = ring::default_provider().install_default();
}

/// A client configuration trusting [`roots`] (or nothing when `insecure`), TLS 1.2 and 1.3,
/// ALPN `http/1.1`.
pub fn client_config(insecure: bool) -> Result<ClientConfig, Error> {
    let builder =
        ClientConfig::builder_with_provider(provider()).with_safe_default_protocol_versions()?;
    let mut cfg = if insecure {
        builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(NoVerify(provider())))
            .with_no_client_auth()
    } else {
        builder
            .with_root_certificates(roots())
            .with_no_client_auth()
    };
    cfg.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(cfg)
}

/// The shared verified (or insecure) configuration, built once.
pub fn shared_config(insecure: bool) -> Result<Arc<ClientConfig>, String> {
    static VERIFIED: OnceLock<Result<Arc<ClientConfig>, String>> = OnceLock::new();
    static INSECURE: OnceLock<Result<Arc<ClientConfig>, String>> = OnceLock::new();
    let cell = if insecure { &INSECURE } else { &VERIFIED };
    cell.get_or_init(|| {
        client_config(insecure)
            .map(Arc::new)
            .map_err(|e| format!("tls: {e}"))
    })
    .clone()
}

/// A reqwest client builder using [`roots`] for https (the service's Keptn API, distributor and
/// resource-service calls).
pub fn reqwest_builder() -> reqwest::ClientBuilder {
    install_default_provider();
    let builder = reqwest::Client::builder();
    match client_config(false) {
        Ok(mut cfg) => {
            cfg.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
            builder.tls_backend_preconfigured(cfg)
        }
        Err(e) => {
            tracing::warn!(error = %e, "TLS configuration failed; https endpoints will not work");
            builder
        }
    }
}

/// The `ServerName` for SNI and verification: a DNS name or an IP literal (brackets removed).
pub fn server_name(host: &str) -> Option<ServerName<'static>> {
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    ServerName::try_from(bare.to_string()).ok()
}

/// Accepts every certificate but still checks handshake signatures (`insecureSkipTLSVerify`).
#[derive(Debug)]
pub struct NoVerify(pub Arc<CryptoProvider>);

impl ServerCertVerifier for NoVerify {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ca_pem() -> String {
        let key = rcgen::KeyPair::generate().unwrap();
        let mut p = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
        p.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        p.self_signed(&key).unwrap().pem()
    }

    #[test]
    fn ssl_cert_file_and_dir_replace_the_system_store() {
        let tmp = tempfile::tempdir().unwrap();
        let file = tmp.path().join("ca.pem");
        std::fs::write(&file, format!("junk\n{}{}", ca_pem(), ca_pem())).unwrap();
        let (store, source) = load_roots(Some(&file), Some(&[tmp.path().join("none")]));
        assert_eq!(source, RootSource::System { certs: 2 });
        assert_eq!(store.len(), 2);

        let dir = tmp.path().join("certs");
        std::fs::create_dir(&dir).unwrap();
        std::fs::write(dir.join("a.pem"), ca_pem()).unwrap();
        std::fs::write(dir.join("b.crt"), ca_pem()).unwrap();
        std::fs::write(dir.join("readme"), "not a certificate").unwrap();
        let (_, source) = load_roots(Some(&tmp.path().join("missing.pem")), Some(&[dir]));
        assert_eq!(source, RootSource::System { certs: 2 });
    }

    #[test]
    fn no_certificate_anywhere_falls_back_to_webpki() {
        let tmp = tempfile::tempdir().unwrap();
        let (store, source) = load_roots(
            Some(&tmp.path().join("missing.pem")),
            Some(&[tmp.path().to_path_buf()]),
        );
        assert_eq!(source, RootSource::Webpki);
        assert_eq!(store.len(), webpki_roots::TLS_SERVER_ROOTS.len());
    }

    #[test]
    fn configs_and_clients_build() {
        assert!(shared_config(false).is_ok());
        assert!(shared_config(true).is_ok());
        assert!(reqwest_builder().build().is_ok());
        assert!(server_name("[::1]").is_some());
        assert!(server_name("example.com").is_some());
    }
}
