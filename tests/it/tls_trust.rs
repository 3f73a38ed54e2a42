//! Trust stores: a private CA made at test time signs a certificate for 127.0.0.1; `k6/http`,
//! the remote-write client and the service's Keptn API client reach https servers with it only
//! when `SSL_CERT_FILE` names the CA (as k6, through Go, honours it). Real rustls servers on
//! loopback; the binary runs as a child process so each case has its own environment.

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use crate::support::*;
use tokio_rustls::rustls;
use tokio_rustls::rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};

/// A CA (its PEM in `ca_file`) and a server configuration for 127.0.0.1/localhost signed by it.
pub(crate) struct Pki {
    _dir: tempfile::TempDir,
    pub ca_file: PathBuf,
    pub server: rustls::ServerConfig,
}

impl Pki {
    /// The folder holding `ca_file` (removed when dropped).
    pub fn into_dir(self) -> tempfile::TempDir {
        self._dir
    }
}

pub(crate) fn pki() -> Pki {
    let ca_key = rcgen::KeyPair::generate().unwrap();
    let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "loadgate test CA");
    let ca = rcgen::CertifiedIssuer::self_signed(ca_params, ca_key).unwrap();
    let leaf_key = rcgen::KeyPair::generate().unwrap();
    let leaf =
        rcgen::CertificateParams::new(vec!["localhost".to_string(), "127.0.0.1".to_string()])
            .unwrap()
            .signed_by(&leaf_key, &ca)
            .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let ca_file = dir.path().join("ca.pem");
    std::fs::write(&ca_file, ca.pem()).unwrap();
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(leaf_key.serialize_der()));
    let server = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_no_client_auth()
    .with_single_cert(vec![leaf.der().clone(), ca.der().clone()], key)
    .unwrap();
    Pki {
        _dir: dir,
        ca_file,
        server,
    }
}

/// Serves `router` over TLS on a loopback port of `rt`; returns `https://127.0.0.1:PORT`.
pub(crate) fn serve_tls(
    rt: &tokio::runtime::Runtime,
    server: rustls::ServerConfig,
    router: axum::Router,
) -> String {
    rt.block_on(async {
        let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("https://{}", l.local_addr().unwrap());
        tokio::spawn(loadgate::target::serve_router_tls(
            l,
            server,
            router,
            std::future::pending(),
        ));
        url
    })
}

/// An SSL_CERT_FILE with no certificate in it and no folders: only the test's CA, when given,
/// is trusted (the machine's store cannot make a case pass by accident).
fn trust(ca: Option<&PathBuf>, empty: &tempfile::TempDir) -> Vec<(String, String)> {
    let file = match ca {
        Some(f) => f.display().to_string(),
        None => empty.path().join("none.pem").display().to_string(),
    };
    vec![
        ("SSL_CERT_FILE".into(), file),
        ("SSL_CERT_DIR".into(), empty.path().display().to_string()),
    ]
}

fn env_refs(env: &[(String, String)]) -> Vec<(&str, &str)> {
    env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect()
}

#[test]
fn k6_http_trusts_the_ca_named_by_ssl_cert_file() {
    let pki = pki();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let url = serve_tls(&rt, pki.server.clone(), loadgate::target::app());
    let empty = tempfile::tempdir().unwrap();
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("test-data/tls/https_get.js");
    let target = format!("TARGET={url}/");
    for (ca, want) in [
        (Some(&pki.ca_file), "status=200 error_code=0"),
        (None, "status=0 error_code=1310"),
    ] {
        let env = trust(ca, &empty);
        let out = loadgate_bounded(
            &[
                "run",
                "-q",
                "--no-summary",
                "-e",
                &target,
                script.to_str().unwrap(),
            ],
            &env_refs(&env),
            Duration::from_secs(60),
        );
        let text = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(0), "{text}");
        assert!(text.contains(want), "{ca:?}: expected {want:?} in:\n{text}");
    }
}

#[test]
fn remote_write_trusts_the_ca_named_by_ssl_cert_file() {
    let pki = pki();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let writes = Arc::new(AtomicUsize::new(0));
    let counter = writes.clone();
    let router = axum::Router::new().route(
        "/api/v1/write",
        axum::routing::post(move || {
            let c = counter.clone();
            async move {
                c.fetch_add(1, Ordering::SeqCst);
                axum::http::StatusCode::NO_CONTENT
            }
        }),
    );
    let url = serve_tls(&rt, pki.server.clone(), router);
    let (_target_rt, target) = target_on_runtime();
    let empty = tempfile::tempdir().unwrap();
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("test-data/tls/https_get.js");
    let target = format!("TARGET={target}/");
    for (ca, delivered) in [(Some(&pki.ca_file), true), (None, false)] {
        writes.store(0, Ordering::SeqCst);
        let mut env = trust(ca, &empty);
        env.push((
            "K6_PROMETHEUS_RW_SERVER_URL".into(),
            format!("{url}/api/v1/write"),
        ));
        let out = loadgate_bounded(
            &[
                "run",
                "-q",
                "--no-summary",
                "-o",
                "experimental-prometheus-rw",
                "-e",
                &target,
                script.to_str().unwrap(),
            ],
            &env_refs(&env),
            Duration::from_secs(90),
        );
        let text = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(0), "{text}");
        let n = writes.load(Ordering::SeqCst);
        assert_eq!(n > 0, delivered, "{ca:?}: {n} writes; stderr:\n{text}");
    }
}

#[test]
fn keptn_api_over_https_gets_started_and_finished() {
    let pki = pki();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let (app, mut rx) = rt.block_on(async { loadgate::service::capture::app() });
    let api = serve_tls(&rt, pki.server.clone(), app);
    let target = rt.block_on(target());
    let empty = tempfile::tempdir().unwrap();
    let env = trust(Some(&pki.ca_file), &empty);
    let port = free_port();
    let tests = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("test-data/faults/service");
    let mut child = Command::new(env!("CARGO_BIN_EXE_loadgate"))
        .args(["serve", "--http-addr", &format!("127.0.0.1:{port}")])
        .arg("--tests-dir")
        .arg(&tests)
        .args(["--keptn-api-endpoint", &api, "--keptn-api-token", "t0ken"])
        .envs(env_refs(&env))
        .env("K6_NO_USAGE_REPORT", "true")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let ev = triggered("quick", Some(&target));
    let id = ev["id"].as_str().unwrap().to_string();
    let result = rt.block_on(async {
        let client = reqwest::Client::new();
        let base = format!("http://127.0.0.1:{port}");
        let ready = async {
            while client
                .get(format!("{base}/health/ready"))
                .send()
                .await
                .map(|r| !r.status().is_success())
                .unwrap_or(true)
            {
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        };
        tokio::time::timeout(Duration::from_secs(30), ready)
            .await
            .expect("the service gets ready");
        let r = client
            .post(format!("{base}/"))
            .header("content-type", "application/cloudevents+json")
            .body(ev.to_string())
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 202);
        started_finished(&mut rx, &id).await
    });
    let _ = child.kill();
    let out = child.wait_with_output().unwrap();
    let (s, f) = result;
    assert_eq!(s["type"], "sh.keptn.event.test.started");
    assert_eq!(
        f["data"]["status"],
        "succeeded",
        "{f}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(f["data"]["result"], "pass", "{f}");
}
