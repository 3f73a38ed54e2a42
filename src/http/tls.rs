//! TLS for `https://` URLs of `k6/http` and `k6/ws`: rustls (ring provider) trusting the process's
//! roots ([`crate::tls::roots`]: the system store, `SSL_CERT_FILE`/`SSL_CERT_DIR` as Go reads
//! them), or with no verification at all for `insecureSkipTLSVerify`. Both configurations are built once
//! per process.
//! Also maps rustls errors to k6 codes and names the negotiated version/suite like k6 (`tls1.3`).
//! ALPN: `k6/http` offers `h2` then `http/1.1` (Go's Transport with `ForceAttemptHTTP2`, as k6
//! sets it); WebSockets and everything else offer `http/1.1` only.

use std::sync::{Arc, OnceLock};

use tokio_rustls::rustls::crypto::ring;
use tokio_rustls::rustls::pki_types::ServerName;
use tokio_rustls::rustls::{self, CertificateError, ClientConfig, Error, ProtocolVersion};

use super::error_code::HttpError;
use crate::engine::options::network::{TlsChoice, TlsVersion};

/// The ALPN protocol id of HTTP/2 over TLS.
pub(crate) const ALPN_H2: &[u8] = b"h2";

/// The shared client configuration for the given verification choice (ALPN `http/1.1`).
pub(crate) fn config(insecure: bool) -> Result<Arc<ClientConfig>, HttpError> {
    static VERIFIED: OnceLock<Result<Arc<ClientConfig>, String>> = OnceLock::new();
    static INSECURE: OnceLock<Result<Arc<ClientConfig>, String>> = OnceLock::new();
    let cell = if insecure { &INSECURE } else { &VERIFIED };
    cell.get_or_init(|| build(insecure).map_err(|e| format!("tls: {e}")))
        .clone()
        .map_err(HttpError::Tls)
}

/// [`config`] offering HTTP/2 first (`k6/http`'s default).
pub(crate) fn config_h2(insecure: bool) -> Result<Arc<ClientConfig>, HttpError> {
    static VERIFIED: OnceLock<Result<Arc<ClientConfig>, HttpError>> = OnceLock::new();
    static INSECURE: OnceLock<Result<Arc<ClientConfig>, HttpError>> = OnceLock::new();
    let cell = if insecure { &INSECURE } else { &VERIFIED };
    cell.get_or_init(|| config(insecure).map(|c| offering_h2(&c)))
        .clone()
}

/// A copy of `cfg` that offers `h2` before `http/1.1` in ALPN.
pub(crate) fn offering_h2(cfg: &ClientConfig) -> Arc<ClientConfig> {
    let mut c = cfg.clone();
    c.alpn_protocols = vec![ALPN_H2.to_vec(), b"http/1.1".to_vec()];
    Arc::new(c)
}

fn build(insecure: bool) -> Result<Arc<ClientConfig>, Error> {
    build_tls(insecure, &TlsChoice::default(), Vec::new())
}

/// A client configuration for `tlsVersion`/`tlsCipherSuites`/`tlsAuth` (built once per test;
/// the default choice is [`config`]'s shared one). TLS 1.3 suites stay enabled, as in Go. Errors
/// name the option (a `tlsAuth` certificate that does not load gets Go's text).
pub(crate) fn build_with(insecure: bool, choice: &TlsChoice) -> Result<Arc<ClientConfig>, String> {
    let provider = ring::default_provider();
    let mut keys = Vec::with_capacity(choice.client_certs.len());
    for entry in &choice.client_certs {
        keys.push(super::client_cert::load(entry, &provider)?);
    }
    build_tls(insecure, choice, keys)
        .map_err(|e| format!("invalid tlsVersion/tlsCipherSuites: {e}"))
}

fn build_tls(
    insecure: bool,
    choice: &TlsChoice,
    client_keys: Vec<rustls::sign::CertifiedKey>,
) -> Result<Arc<ClientConfig>, Error> {
    let mut provider = ring::default_provider();
    if let Some(allowed) = &choice.tls12_suites {
        provider.cipher_suites.retain(|s| match s {
            rustls::SupportedCipherSuite::Tls13(_) => true,
            rustls::SupportedCipherSuite::Tls12(_) => {
                let name = go_suite_name(&suite_name(Some(*s)));
                allowed.iter().any(|a| *a == name)
            }
        });
    }
    let provider = Arc::new(provider);
    let versions: Vec<&'static rustls::SupportedProtocolVersion> = match choice.versions {
        None => vec![&rustls::version::TLS13, &rustls::version::TLS12],
        Some((min, max)) => [
            (TlsVersion::Tls13, &rustls::version::TLS13),
            (TlsVersion::Tls12, &rustls::version::TLS12),
        ]
        .into_iter()
        .filter(|(v, _)| *v >= min && *v <= max)
        .map(|(_, p)| p)
        .collect(),
    };
    let builder =
        ClientConfig::builder_with_provider(provider.clone()).with_protocol_versions(&versions)?;
    let verified = if insecure {
        builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(crate::tls::NoVerify(provider)))
    } else {
        builder.with_root_certificates(crate::tls::roots())
    };
    let mut cfg = if client_keys.is_empty() {
        verified.with_no_client_auth()
    } else {
        verified.with_client_cert_resolver(Arc::new(super::client_cert::Resolver::new(client_keys)))
    };
    cfg.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(cfg))
}

/// k6's name of a TLS version (`tls1.2`, `tls1.3`).
pub(crate) fn version_name(v: Option<ProtocolVersion>) -> &'static str {
    match v {
        Some(ProtocolVersion::TLSv1_3) => "tls1.3",
        Some(ProtocolVersion::TLSv1_2) => "tls1.2",
        Some(ProtocolVersion::TLSv1_1) => "tls1.1",
        Some(ProtocolVersion::TLSv1_0) => "tls1.0",
        _ => "",
    }
}

/// Go's name of a cipher suite (`TLS_AES_128_GCM_SHA256`, `TLS_ECDHE_RSA_WITH_...`).
pub(crate) fn suite_name(s: Option<rustls::SupportedCipherSuite>) -> String {
    match s {
        Some(s) => {
            let name = format!("{:?}", s.suite());
            match name.strip_prefix("TLS13_") {
                Some(rest) => format!("TLS_{rest}"),
                None => name,
            }
        }
        None => String::new(),
    }
}

/// rustls' `..._CHACHA20_POLY1305_SHA256` TLS 1.2 names as Go (and k6) spell them.
fn go_suite_name(rustls_name: &str) -> String {
    match rustls_name.strip_suffix("_CHACHA20_POLY1305_SHA256") {
        Some(head) if head.starts_with("TLS_ECDHE_") => format!("{head}_CHACHA20_POLY1305"),
        _ => rustls_name.to_string(),
    }
}

/// Maps a rustls failure to k6's code and message.
pub(crate) fn classify(err: &Error) -> HttpError {
    match err {
        Error::InvalidCertificate(CertificateError::UnknownIssuer) => HttpError::UnknownAuthority,
        Error::InvalidCertificate(
            CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
        ) => HttpError::HostnameMismatch,
        other => HttpError::Tls(format!("tls: {other}")),
    }
}

/// The `ServerName` for SNI and verification: a DNS name or an IP literal.
pub(crate) fn server_name(host: &str) -> Result<ServerName<'static>, HttpError> {
    crate::tls::server_name(host)
        .ok_or_else(|| HttpError::InvalidUrl(format!("invalid tls server name {host:?}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::options::network::TLS12_SUITES;

    #[test]
    fn every_tls12_suite_k6_names_exists_in_rustls() {
        let names: Vec<String> = ring::default_provider()
            .cipher_suites
            .iter()
            .map(|s| go_suite_name(&suite_name(Some(*s))))
            .collect();
        for s in TLS12_SUITES {
            assert!(names.iter().any(|n| n == s), "{s} not in {names:?}");
        }
        let only = TlsChoice {
            versions: Some((TlsVersion::Tls12, TlsVersion::Tls12)),
            tls12_suites: Some(vec!["TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"]),
            ..Default::default()
        };
        assert!(build_with(false, &only).is_ok());
    }

    #[test]
    fn configs_build_and_errors_map() {
        assert!(config(false).is_ok());
        assert!(config(true).is_ok());
        let h2 = config_h2(true).unwrap();
        assert_eq!(h2.alpn_protocols[0], ALPN_H2);
        assert_eq!(
            config(true).unwrap().alpn_protocols,
            vec![b"http/1.1".to_vec()]
        );
        let e = classify(&Error::InvalidCertificate(CertificateError::UnknownIssuer));
        assert_eq!(e.code(), 1310);
        assert_eq!(e.to_string(), "x509: unknown authority");
        let e = classify(&Error::InvalidCertificate(
            CertificateError::NotValidForName,
        ));
        assert_eq!(e.code(), 1311);
        assert_eq!(version_name(Some(ProtocolVersion::TLSv1_3)), "tls1.3");
        assert!(server_name("127.0.0.1").is_ok());
        assert!(server_name("example.com").is_ok());
    }
}
