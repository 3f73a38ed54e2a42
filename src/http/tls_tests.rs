//! HTTPS tests of [`HttpClient`] against a rustls server with a self-signed certificate.

use super::*;

/// A TLS server with a fresh self-signed certificate that answers every request on a
/// connection with `200 tls`.
async fn tls_server() -> String {
    use std::sync::Arc;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio_rustls::rustls;
    use tokio_rustls::rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};

    let ck = rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).unwrap();
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(ck.signing_key.serialize_der()));
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut cfg = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(vec![ck.cert.der().clone()], key)
        .unwrap();
    cfg.alpn_protocols = vec![b"http/1.1".to_vec()];
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(cfg));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let Ok((tcp, _)) = listener.accept().await else {
                return;
            };
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                let Ok(mut s) = acceptor.accept(tcp).await else {
                    return;
                };
                let mut buf = Vec::new();
                let mut chunk = [0u8; 1024];
                loop {
                    while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
                        match s.read(&mut chunk).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => buf.extend_from_slice(&chunk[..n]),
                        }
                    }
                    buf.clear();
                    let resp = b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\ntls";
                    if s.write_all(resp).await.is_err() {
                        return;
                    }
                }
            });
        }
    });
    format!("https://localhost:{}", addr.port())
}

#[tokio::test]
async fn https_with_insecure_skip_verify() {
    let base = tls_server().await;
    let mut cfg = ClientConfig {
        insecure_skip_tls_verify: true,
        ..Default::default()
    };
    cfg.net = std::sync::Arc::new(
        crate::engine::options::network::NetworkOptions::with_hosts(&[("localhost", "127.0.0.1")])
            .unwrap(),
    );
    let c = HttpClient::new(cfg);
    let ex = c.execute(Request::new("GET", format!("{base}/"))).await;
    let r = &ex.response;
    assert_eq!(r.status, 200, "{}", r.error);
    assert_eq!(r.body.as_deref(), Some(&b"tls"[..]));
    assert_eq!(r.tls_version, "tls1.3");
    assert!(
        r.tls_cipher_suite.starts_with("TLS_"),
        "{}",
        r.tls_cipher_suite
    );
    assert_eq!(ex.hops[0].tls_version, "tls1.3");
    let t = ex.hops[0].timings;
    assert!(t.tls_handshaking > 0.0);
    assert!(t.blocked >= t.connecting + t.tls_handshaking);
    // Handshake bytes count towards the first request.
    assert!(ex.hops[0].bytes_received > 500);
    let again = c.execute(Request::new("GET", format!("{base}/"))).await;
    assert_eq!(again.response.status, 200);
    assert_eq!(again.hops[0].timings.tls_handshaking, 0.0);
    assert!(again.hops[0].bytes_received < ex.hops[0].bytes_received);
}

#[tokio::test]
async fn https_unknown_authority_gives_1310() {
    let base = tls_server().await;
    let cfg = ClientConfig {
        net: std::sync::Arc::new(
            crate::engine::options::network::NetworkOptions::with_hosts(&[(
                "localhost",
                "127.0.0.1",
            )])
            .unwrap(),
        ),
        ..Default::default()
    };
    let ex = HttpClient::new(cfg)
        .execute(Request::new("GET", format!("{base}/")))
        .await;
    assert_eq!(ex.response.status, 0);
    assert_eq!(ex.response.error_code, 1310, "{}", ex.response.error);
    assert_eq!(ex.response.error, "x509: unknown authority");
}

/// `tlsVersion` caps the negotiated version; `tlsCipherSuites` picks the TLS 1.2 suite.
#[tokio::test]
async fn tls_version_and_cipher_suites_are_applied() {
    use crate::engine::options::network::{TlsChoice, TlsVersion};
    let base = tls_server().await;
    let choice = TlsChoice {
        versions: Some((TlsVersion::Tls12, TlsVersion::Tls12)),
        tls12_suites: Some(vec!["TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305"]),
    };
    let cfg = ClientConfig {
        insecure_skip_tls_verify: true,
        tls: Some(super::tls::build_with(true, &choice).unwrap()),
        net: std::sync::Arc::new(
            crate::engine::options::network::NetworkOptions::with_hosts(&[(
                "localhost",
                "127.0.0.1",
            )])
            .unwrap(),
        ),
        ..Default::default()
    };
    let ex = HttpClient::new(cfg)
        .execute(Request::new("GET", format!("{base}/")))
        .await;
    let r = &ex.response;
    assert_eq!(r.status, 200, "{}", r.error);
    assert_eq!(r.tls_version, "tls1.2");
    assert_eq!(
        r.tls_cipher_suite,
        "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256"
    );
}
