//! HTTPS tests of [`HttpClient`] against a rustls server with a self-signed certificate.

use super::*;
use tokio_rustls::rustls::pki_types::CertificateDer;

/// A TLS server with a fresh self-signed certificate that answers every request on a
/// connection with `200 tls`.
async fn tls_server() -> String {
    serve_tls(None).await
}

/// [`tls_server`], requiring a client certificate issued by `client_ca` when given.
async fn serve_tls(client_ca: Option<CertificateDer<'static>>) -> String {
    use std::sync::Arc;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio_rustls::rustls;
    use tokio_rustls::rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};

    let ck = rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).unwrap();
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(ck.signing_key.serialize_der()));
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ServerConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .unwrap();
    let builder = match client_ca {
        None => builder.with_no_client_auth(),
        Some(ca) => {
            let mut roots = rustls::RootCertStore::empty();
            roots.add(ca).unwrap();
            let verifier = rustls::server::WebPkiClientVerifier::builder_with_provider(
                Arc::new(roots),
                provider,
            )
            .build()
            .unwrap();
            builder.with_client_cert_verifier(verifier)
        }
    };
    let mut cfg = builder
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
    // The server offers only http/1.1: the h2 offer falls back to it.
    assert_eq!(r.proto, "HTTP/1.1");
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
        ..Default::default()
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

/// The project's target over TLS (`h2` and `http/1.1` by ALPN) with a fresh self-signed
/// certificate for `localhost`.
async fn h2_target() -> String {
    use std::sync::Arc;
    use tokio_rustls::rustls;
    use tokio_rustls::rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};

    let ck = rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).unwrap();
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(ck.signing_key.serialize_der()));
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let cfg = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(vec![ck.cert.der().clone()], key)
        .unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(crate::target::serve_tls(
        listener,
        cfg,
        std::future::pending(),
    ));
    format!("https://localhost:{}", addr.port())
}

fn localhost_insecure() -> ClientConfig {
    ClientConfig {
        insecure_skip_tls_verify: true,
        net: std::sync::Arc::new(
            crate::engine::options::network::NetworkOptions::with_hosts(&[(
                "localhost",
                "127.0.0.1",
            )])
            .unwrap(),
        ),
        ..Default::default()
    }
}

fn peer(ex: &Exchange) -> String {
    String::from_utf8_lossy(ex.response.body.as_deref().unwrap_or_default()).into_owned()
}

#[tokio::test]
async fn https_negotiates_http2_and_keeps_one_connection() {
    let base = h2_target().await;
    let c = HttpClient::new(localhost_insecure());
    let first = c.execute(Request::new("GET", format!("{base}/conn"))).await;
    let r = &first.response;
    assert_eq!(r.status, 200, "{}", r.error);
    assert_eq!(r.proto, "HTTP/2.0");
    assert_eq!(r.status_text, "200 OK");
    assert_eq!(first.hops[0].proto, "HTTP/2.0");
    assert!(
        r.headers.iter().any(|(k, _)| k == "Content-Type"),
        "{:?}",
        r.headers
    );
    let t = first.hops[0].timings;
    assert!(t.tls_handshaking > 0.0);
    assert!(first.hops[0].bytes_received > 500);
    assert!(first.hops[0].bytes_sent > 100);

    // The next request multiplexes on the same connection: same peer port, no handshake.
    let again = c.execute(Request::new("GET", format!("{base}/conn"))).await;
    assert_eq!(again.response.proto, "HTTP/2.0");
    assert_eq!(peer(&again), peer(&first));
    assert_eq!(again.hops[0].timings.tls_handshaking, 0.0);
    assert_eq!(again.hops[0].timings.connecting, 0.0);
    assert!(again.hops[0].bytes_received < first.hops[0].bytes_received);
    assert!(again.hops[0].bytes_received > 0);

    // Concurrent requests share it too; `waiting` covers the server's delay.
    let (a, b) = tokio::join!(
        c.execute(Request::new("GET", format!("{base}/delay/60"))),
        c.execute(Request::new("GET", format!("{base}/conn"))),
    );
    assert_eq!(a.response.status, 200, "{}", a.response.error);
    assert_eq!(peer(&b), peer(&first));
    let t = a.hops[0].timings;
    assert!(t.waiting >= 50.0, "{t:?}");
    assert!(t.duration >= t.waiting);
    assert!(t.sending < 50.0, "{t:?}");
}

#[tokio::test]
async fn http2_carries_request_bodies_and_headers() {
    let base = h2_target().await;
    let c = HttpClient::new(localhost_insecure());
    let mut req = Request::new("POST", format!("{base}/echo"));
    req.body = bytes::Bytes::from_static(b"hello h2");
    req.headers.push(("X-Test".to_string(), "1".to_string()));
    let ex = c.execute(req).await;
    let r = &ex.response;
    assert_eq!(r.status, 200, "{}", r.error);
    assert_eq!(r.proto, "HTTP/2.0");
    let echo: serde_json::Value = serde_json::from_slice(r.body.as_deref().unwrap()).unwrap();
    assert_eq!(echo["method"], "POST");
    assert_eq!(echo["body"], "hello h2");
    assert_eq!(echo["headers"]["x-test"], "1");
    assert_eq!(
        echo["headers"]["user-agent"],
        crate::http::DEFAULT_USER_AGENT
    );
}

#[tokio::test]
async fn http2_off_speaks_http1_to_an_h2_server() {
    let base = h2_target().await;
    let cfg = ClientConfig {
        http2: false,
        ..localhost_insecure()
    };
    let ex = HttpClient::new(cfg)
        .execute(Request::new("GET", format!("{base}/")))
        .await;
    assert_eq!(ex.response.status, 200, "{}", ex.response.error);
    assert_eq!(ex.response.proto, "HTTP/1.1");
}

#[tokio::test]
async fn http2_with_the_tests_own_tls_config() {
    use crate::engine::options::network::{TlsChoice, TlsVersion};
    let base = h2_target().await;
    let choice = TlsChoice {
        versions: Some((TlsVersion::Tls12, TlsVersion::Tls12)),
        tls12_suites: None,
        ..Default::default()
    };
    let cfg = ClientConfig {
        tls: Some(super::tls::build_with(true, &choice).unwrap()),
        ..localhost_insecure()
    };
    let ex = HttpClient::new(cfg)
        .execute(Request::new("GET", format!("{base}/")))
        .await;
    assert_eq!(ex.response.status, 200, "{}", ex.response.error);
    assert_eq!(ex.response.proto, "HTTP/2.0");
    assert_eq!(ex.response.tls_version, "tls1.2");
}

/// A CA and a client certificate (PEM chain and key) it issued.
fn client_pki(
    name: &str,
) -> (
    CertificateDer<'static>,
    crate::engine::options::network::ClientCert,
) {
    let ca_key = rcgen::KeyPair::generate().unwrap();
    let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params
        .distinguished_name
        .push(rcgen::DnType::CommonName, format!("{name} CA"));
    ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    let ca = ca_params.self_signed(&ca_key).unwrap();
    let key = rcgen::KeyPair::generate().unwrap();
    let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, name);
    params.extended_key_usages = vec![rcgen::ExtendedKeyUsagePurpose::ClientAuth];
    let cert = params
        .signed_by(&key, &rcgen::Issuer::from_params(&ca_params, &ca_key))
        .unwrap();
    (
        ca.der().clone(),
        crate::engine::options::network::ClientCert {
            cert: cert.pem(),
            key: key.serialize_pem(),
            domains: Vec::new(),
        },
    )
}

async fn get_with_certs(
    base: &str,
    certs: Vec<crate::engine::options::network::ClientCert>,
) -> Response {
    use crate::engine::options::network::TlsChoice;
    let choice = TlsChoice {
        client_certs: certs,
        ..Default::default()
    };
    let cfg = ClientConfig {
        insecure_skip_tls_verify: true,
        tls: (!choice.is_default()).then(|| super::tls::build_with(true, &choice).unwrap()),
        net: std::sync::Arc::new(
            crate::engine::options::network::NetworkOptions::with_hosts(&[(
                "localhost",
                "127.0.0.1",
            )])
            .unwrap(),
        ),
        ..Default::default()
    };
    HttpClient::new(cfg)
        .execute(Request::new("GET", format!("{base}/")))
        .await
        .response
}

/// `tlsAuth`: the client presents the first certificate the server's CA list accepts, whatever
/// its `domains` (Go's client never reads NameToCertificate); none fits or none given: the server
/// refuses the handshake.
#[tokio::test]
async fn tls_auth_presents_the_certificate_the_server_accepts() {
    let (ca, good) = client_pki("good");
    let (_, stranger) = client_pki("stranger");
    let base = serve_tls(Some(ca)).await;

    let none = get_with_certs(&base, Vec::new()).await;
    assert_eq!(none.status, 0, "no certificate: {}", none.error);
    let wrong = get_with_certs(&base, vec![stranger.clone()]).await;
    assert_eq!(
        wrong.status, 0,
        "a certificate of another CA: {}",
        wrong.error
    );

    let mut elsewhere = good.clone();
    elsewhere.domains = vec!["not-this-host.test".to_string()];
    let picked = get_with_certs(&base, vec![stranger, elsewhere]).await;
    assert_eq!(picked.status, 200, "{}", picked.error);
    assert_eq!(picked.body.as_deref(), Some(&b"tls"[..]));
}

/// A `tlsAuth` entry that does not load is an error naming Go's reason, before any request.
#[test]
fn tls_auth_with_a_bad_key_does_not_build() {
    use crate::engine::options::network::TlsChoice;
    let (_, good) = client_pki("good");
    let (_, other) = client_pki("other");
    let mut mixed = good;
    mixed.key = other.key;
    let choice = TlsChoice {
        client_certs: vec![mixed],
        ..Default::default()
    };
    let err = super::tls::build_with(true, &choice)
        .err()
        .unwrap_or_default();
    assert_eq!(err, "tls: private key does not match public key");
}
