//! How `loadgate serve` is wired into a Keptn installation, on the real binary: where workloads
//! come from (the tests folder, the resource service behind `--keptn-api-endpoint`, or nothing:
//! refused), and NATS with authentication and TLS (a real nats-server with `--user/--pass`,
//! `--auth` and `--tls`, a CA made at test time).

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::{OriginalUri, State};
use axum::response::IntoResponse;
use base64::Engine;
use futures_util::StreamExt;
use serde_json::{Value, json};

use crate::support::*;

struct Guard(Child);

impl Drop for Guard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn serve(args: &[&str], env: &[(&str, &str)]) -> Guard {
    let child = Command::new(env!("CARGO_BIN_EXE_loadgate"))
        .arg("serve")
        .args(args)
        .env_remove("NATS_URL")
        .env_remove("KEPTN_API_ENDPOINT")
        .env_remove("LOADGATE_TESTS_DIR")
        .env_remove("LOADGATE_RESOURCE_SERVICE_URL")
        .env_remove("LOADGATE_DEMO_WORKLOADS")
        .envs(env.iter().copied())
        .env("K6_NO_USAGE_REPORT", "true")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start loadgate serve");
    Guard(child)
}

async fn status(url: &str) -> Option<u16> {
    loadgate::tls::install_default_provider();
    reqwest::get(url).await.ok().map(|r| r.status().as_u16())
}

#[test]
fn serve_without_a_workload_source_refuses_to_start() {
    let port = free_port().to_string();
    let addr = format!("127.0.0.1:{port}");
    let out = Command::new(env!("CARGO_BIN_EXE_loadgate"))
        .args(["serve", "--http-addr", &addr])
        .env_remove("NATS_URL")
        .env_remove("KEPTN_API_ENDPOINT")
        .env_remove("LOADGATE_TESTS_DIR")
        .env_remove("LOADGATE_RESOURCE_SERVICE_URL")
        .env_remove("LOADGATE_DEMO_WORKLOADS")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(104), "{text}");
    assert!(
        text.contains("no workload source: give --tests-dir") && text.contains("--demo-workloads"),
        "{text}"
    );
    // A tests folder that is not there: refused at start, not at the first event.
    let out = loadgate_bounded(
        &[
            "serve",
            "--http-addr",
            &addr,
            "--tests-dir",
            "/nonexistent/loadgate-tests",
        ],
        &[],
        Duration::from_secs(20),
    );
    let text = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(104), "{text}");
    assert!(
        text.contains("--tests-dir /nonexistent/loadgate-tests: no such folder"),
        "{text}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_workloads_only_when_asked_and_loudly() {
    let port = free_port();
    let mut guard = serve(
        &[
            "--http-addr",
            &format!("127.0.0.1:{port}"),
            "--demo-workloads",
        ],
        &[],
    );
    let base = format!("http://127.0.0.1:{port}");
    eventually(
        "serve with --demo-workloads is up",
        Duration::from_secs(20),
        || {
            let url = format!("{base}/health/live");
            async move { (status(&url).await == Some(200)).then_some(()) }
        },
    )
    .await;
    // SIGTERM: a graceful stop flushes the log.
    let pid = guard.0.id().to_string();
    let _ = Command::new("kill").args(["-TERM", &pid]).status();
    let out = guard.0.wait_with_output_ref();
    assert!(
        out.contains("level=warning") && out.contains("EMBEDDED DEMO workloads"),
        "{out}"
    );
    assert!(out.contains("workloads=\"embedded default\""), "{out}");
}

trait StderrOf {
    fn wait_with_output_ref(&mut self) -> String;
}

impl StderrOf for Child {
    fn wait_with_output_ref(&mut self) -> String {
        let _ = self.wait();
        let mut s = String::new();
        if let Some(mut e) = self.stderr.take() {
            use std::io::Read;
            let _ = e.read_to_string(&mut s);
        }
        s
    }
}

/// A fake Keptn API under `/api`: the resource service at `/api/resource-service` (go-utils'
/// path) with `loadgate.yaml` at the stage level and the script at the service level, and
/// `/api/v1/event` taking the answers. Returns the API URL, the requested paths and the answers.
async fn fake_keptn_api() -> (
    String,
    Arc<Mutex<Vec<String>>>,
    tokio::sync::mpsc::UnboundedReceiver<Value>,
) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    let yaml = "workloads:\n  - teststrategy: quick\n    script: quick.js\n    iterations: 2\n    thresholds:\n      http_req_failed: [\"rate<0.01\"]\n";
    let script = std::fs::read_to_string(tests_dir().join("quick.js")).unwrap();
    let state = (seen.clone(), tx);
    type St = (
        Arc<Mutex<Vec<String>>>,
        tokio::sync::mpsc::UnboundedSender<Value>,
    );
    let app = axum::Router::new()
        .route(
            "/api/v1/event",
            axum::routing::post(
                |State((_, tx)): State<St>, headers: axum::http::HeaderMap, body: String| async move {
                    assert_eq!(headers.get("x-token").unwrap(), "tok");
                    let v: Value = serde_json::from_str(&body).unwrap();
                    let _ = tx.send(v);
                    axum::Json(json!({"keptnContext": "x"}))
                },
            ),
        )
        .fallback(
            move |State((seen, _)): State<St>,
                  headers: axum::http::HeaderMap,
                  OriginalUri(uri): OriginalUri| {
                let (yaml, script) = (yaml.to_string(), script.clone());
                async move {
                    let path = uri.path().to_string();
                    seen.lock().unwrap().push(path.clone());
                    assert_eq!(headers.get("x-token").unwrap(), "tok");
                    let b64 = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
                    let body = match path.as_str() {
                        "/api/resource-service/v1/project/shop/stage/staging/resource/loadgate.yaml" => Some(b64(&yaml)),
                        "/api/resource-service/v1/project/shop/stage/staging/service/checkout/resource/quick.js" => Some(b64(&script)),
                        _ => None,
                    };
                    match body {
                        Some(c) => axum::Json(json!({"resourceURI": "x", "resourceContent": c})).into_response(),
                        None => axum::http::StatusCode::NOT_FOUND.into_response(),
                    }
                }
            },
        )
        .with_state(state);
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/api", l.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(l, app).await });
    (url, seen, rx)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keptn_api_endpoint_alone_reads_workloads_from_its_resource_service() {
    let target = target().await;
    let (api, seen, mut answers) = fake_keptn_api().await;
    let port = free_port();
    let _guard = serve(
        &[
            "--http-addr",
            &format!("127.0.0.1:{port}"),
            "--workers",
            "1",
        ],
        &[("KEPTN_API_ENDPOINT", &api), ("KEPTN_API_TOKEN", "tok")],
    );
    let base = format!("http://127.0.0.1:{port}");
    eventually("loadgate serve is up", Duration::from_secs(20), || {
        let url = format!("{base}/health/ready");
        async move { (status(&url).await == Some(200)).then_some(()) }
    })
    .await;
    let ev = triggered("quick", Some(&target));
    let resp = reqwest::Client::new()
        .post(format!("{base}/"))
        .header("content-type", "application/cloudevents+json")
        .body(ev.to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 202);
    let (_, f) = started_finished(&mut answers, ev["id"].as_str().unwrap()).await;
    assert_eq!(f["data"]["status"], "succeeded", "{f}");
    assert_eq!(f["data"]["result"], "pass", "{f}");
    let seen = seen.lock().unwrap().clone();
    assert_eq!(
        seen,
        [
            "/api/resource-service/v1/project/shop/stage/staging/service/checkout/resource/loadgate.yaml",
            "/api/resource-service/v1/project/shop/stage/staging/resource/loadgate.yaml",
            "/api/resource-service/v1/project/shop/stage/staging/service/checkout/resource/quick.js",
        ]
    );
}

/// A CA and a server certificate for 127.0.0.1 in PEM files.
struct Pem {
    _dir: tempfile::TempDir,
    ca: String,
    cert: String,
    key: String,
}

fn pem() -> Pem {
    let ca_key = rcgen::KeyPair::generate().unwrap();
    let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "loadgate nats test CA");
    let ca = rcgen::CertifiedIssuer::self_signed(ca_params, ca_key).unwrap();
    let leaf_key = rcgen::KeyPair::generate().unwrap();
    let leaf = rcgen::CertificateParams::new(vec!["127.0.0.1".to_string()])
        .unwrap()
        .signed_by(&leaf_key, &ca)
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, text: String| {
        let p = dir.path().join(name);
        std::fs::write(&p, text).unwrap();
        p.to_string_lossy().into_owned()
    };
    Pem {
        ca: write("ca.pem", ca.pem()),
        cert: write("server.pem", leaf.pem()),
        key: write("server-key.pem", leaf_key.serialize_pem()),
        _dir: dir,
    }
}

/// Runs one test over NATS through `loadgate serve` started with `env`; the test's own client
/// connects with `client`. Returns the `.finished` event.
async fn one_test_over_nats(
    nats_url: &str,
    env: &[(&str, &str)],
    client: async_nats::ConnectOptions,
) -> Value {
    let target = target().await;
    let port = free_port();
    let tests = tests_dir();
    let mut all: Vec<(&str, &str)> = vec![
        ("NATS_URL", nats_url),
        ("LOADGATE_TESTS_DIR", tests.to_str().unwrap()),
    ];
    all.extend_from_slice(env);
    let _guard = serve(
        &[
            "--http-addr",
            &format!("127.0.0.1:{port}"),
            "--workers",
            "1",
        ],
        &all,
    );
    let base = format!("http://127.0.0.1:{port}");
    // Ready means connected to NATS: the credentials and the CA were accepted.
    eventually(
        "loadgate serve connected to NATS",
        Duration::from_secs(30),
        || {
            let url = format!("{base}/health/ready");
            async move { (status(&url).await == Some(200)).then_some(()) }
        },
    )
    .await;
    let nc = client
        .connect(nats_url)
        .await
        .expect("test client connects");
    let mut finished = nc.subscribe("sh.keptn.event.test.finished").await.unwrap();
    nc.flush().await.unwrap();
    let ev = triggered("quick", Some(&target));
    nc.publish("sh.keptn.event.test.triggered", ev.to_string().into())
        .await
        .unwrap();
    nc.flush().await.unwrap();
    tokio::time::timeout(Duration::from_secs(60), async {
        loop {
            let m = finished.next().await.expect("subscription open");
            let v: Value = serde_json::from_slice(&m.payload).unwrap();
            if v["triggeredid"] == ev["id"] {
                return v;
            }
        }
    })
    .await
    .expect("a .finished over NATS within 60 s")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nats_with_user_password_over_tls() {
    let pem = pem();
    let port = free_port();
    let _nats = Nats::start_with(
        port,
        &[
            "--tls",
            "--tlscert",
            &pem.cert,
            "--tlskey",
            &pem.key,
            "--user",
            "loadgate",
            "--pass",
            "s3cret",
        ],
    );
    let url = format!("tls://127.0.0.1:{port}");
    let client = async_nats::ConnectOptions::new()
        .user_and_password("loadgate".into(), "s3cret".into())
        .add_root_certificates(Path::new(&pem.ca).to_path_buf())
        .require_tls(true);
    let f = one_test_over_nats(
        &url,
        &[
            ("NATS_USER", "loadgate"),
            ("NATS_PASSWORD", "s3cret"),
            ("NATS_CA", &pem.ca),
        ],
        client,
    )
    .await;
    assert_eq!(f["data"]["result"], "pass", "{f}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nats_with_a_token() {
    let port = free_port();
    let _nats = Nats::start_with(port, &["--auth", "t0ken"]);
    let url = format!("nats://127.0.0.1:{port}");
    let client = async_nats::ConnectOptions::new().token("t0ken".into());
    let f = one_test_over_nats(&url, &[("NATS_TOKEN", "t0ken")], client).await;
    assert_eq!(f["data"]["result"], "pass", "{f}");
}

#[test]
fn bad_nats_settings_are_refused_at_start() {
    let tests = tests_dir();
    for (env, needle) in [
        (
            vec![("NATS_USER", "u")],
            "--nats-user and --nats-password go together",
        ),
        (
            vec![
                ("NATS_TOKEN", "t"),
                ("NATS_USER", "u"),
                ("NATS_PASSWORD", "p"),
            ],
            "give one of --nats-creds, --nats-user/--nats-password or --nats-token",
        ),
        (
            vec![("NATS_CA", "/nonexistent/ca.pem")],
            "--nats-ca /nonexistent/ca.pem: no such file",
        ),
        (
            vec![("NATS_CERT", "/x.pem")],
            "--nats-cert and --nats-key go together",
        ),
    ] {
        let mut all = env.clone();
        all.push(("NATS_URL", "nats://127.0.0.1:1"));
        all.push(("LOADGATE_TESTS_DIR", tests.to_str().unwrap()));
        let port = free_port().to_string();
        let out = loadgate_bounded(
            &["serve", "--http-addr", &format!("127.0.0.1:{port}")],
            &all,
            Duration::from_secs(20),
        );
        let text = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(104), "{env:?}: {text}");
        assert!(text.contains(needle), "{env:?}: {text}");
        assert!(!text.contains("s3cret"), "{text}");
    }
}
