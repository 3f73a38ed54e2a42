//! `loadgate serve` over HTTP: structured and binary CloudEvents, answers POSTed to a loopback
//! distributor, every errored path, bad input, duplicates, /v1/tests, health and /metrics.

use std::time::Duration;

use crate::support::*;
use loadgate::keptn::resource::Secret;
use serde_json::{Value, json};

async fn post(addr: std::net::SocketAddr, body: String, ct: &str) -> (u16, String) {
    let r = reqwest::Client::new()
        .post(format!("http://{addr}/"))
        .header("content-type", ct)
        .body(body)
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

const CE: &str = "application/cloudevents+json";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn structured_and_binary_events_are_answered_at_the_distributor() {
    let target = target().await;
    let (dist, mut rx) = distributor().await;
    let svc = start(ServiceConfig {
        distributor_url: dist,
        ..config()
    })
    .await;
    let addr = svc.local_addr();

    let ev = triggered("quick", Some(&target));
    let (code, _) = post(addr, ev.to_string(), CE).await;
    assert_eq!(code, 202);
    let (s, f) = started_finished(&mut rx, ev["id"].as_str().unwrap()).await;
    assert_answer(&s, &ev);
    assert_answer(&f, &ev);
    assert_eq!(s["data"]["status"], "succeeded");
    assert_eq!(f["data"]["status"], "succeeded", "{f}");
    assert_eq!(f["data"]["result"], "pass", "{f}");
    assert_eq!(f["data"]["test"]["gitCommit"], ev["gitcommitid"]);
    assert!(
        f["data"]["message"]
            .as_str()
            .unwrap()
            .contains("2 requests"),
        "{f}"
    );
    assert_window(&f);

    // Binary mode: attributes in ce-* headers, data as the body.
    let ev2 = triggered("quick", Some(&target));
    let r = reqwest::Client::new()
        .post(format!("http://{addr}/"))
        .header("ce-specversion", "1.0")
        .header("ce-id", ev2["id"].as_str().unwrap())
        .header("ce-source", "knative")
        .header("ce-type", "sh.keptn.event.test.triggered")
        .header("ce-shkeptncontext", ev2["shkeptncontext"].as_str().unwrap())
        .header("ce-gitcommitid", ev2["gitcommitid"].as_str().unwrap())
        .header("ce-shkeptnspecversion", "0.2.4")
        .header("content-type", "application/json")
        .body(ev2["data"].to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 202);
    let (s2, f2) = started_finished(&mut rx, ev2["id"].as_str().unwrap()).await;
    assert_answer(&s2, &ev2);
    assert_eq!(f2["data"]["result"], "pass", "{f2}");

    // The test API and metrics.
    let base = format!("http://{addr}");
    let list: Value = reqwest::get(format!("{base}/v1/tests"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(list["tests"].as_array().unwrap().len(), 2);
    let one: Value = reqwest::get(format!("{base}/v1/tests/{}", ev["id"].as_str().unwrap()))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(one["state"], "finished");
    assert_eq!(one["result"], "pass");
    assert!(one["summary"]["metrics"]["http_reqs"].is_object(), "{one}");
    let missing = reqwest::get(format!("{base}/v1/tests/nope")).await.unwrap();
    assert_eq!(missing.status().as_u16(), 404);
    let live = reqwest::get(format!("{base}/health/live")).await.unwrap();
    assert_eq!(live.status().as_u16(), 200);
    let ready = reqwest::get(format!("{base}/health/ready")).await.unwrap();
    assert_eq!(ready.status().as_u16(), 200);
    let m = metrics_text(base.trim_start_matches("http://")).await;
    assert!(
        m.contains("loadgate_events_received_total{transport=\"http\"} 2"),
        "{m}"
    );
    assert!(
        m.contains("loadgate_tests_finished_total{result=\"pass\",status=\"succeeded\"} 2"),
        "{m}"
    );
    // Build and process metrics for operators.
    assert!(
        m.contains(&format!(
            "loadgate_build_info{{version=\"{}\"}} 1",
            env!("CARGO_PKG_VERSION")
        )),
        "{m}"
    );
    for name in [
        "process_resident_memory_bytes ",
        "process_cpu_seconds_total ",
        "process_open_fds ",
    ] {
        assert!(m.contains(name), "{name} missing: {m}");
    }
    svc.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_errored_path_sends_started_then_one_errored_finished() {
    let target = target().await;
    let (dist, mut rx) = distributor().await;
    let svc = start(ServiceConfig {
        distributor_url: dist,
        max_concurrent_tests: 4,
        max_test_duration: Duration::from_secs(2),
        ..config()
    })
    .await;
    let addr = svc.local_addr();
    // (strategy, target, expected status, result, message part)
    let cases = [
        (
            "failing",
            Some(target.as_str()),
            "succeeded",
            "fail",
            "thresholds failed: http_req_duration max<0 (max=",
        ),
        (
            "warning",
            Some(target.as_str()),
            "succeeded",
            "warning",
            "1 of 1 thresholds failed",
        ),
        (
            "missing",
            Some(target.as_str()),
            "errored",
            "fail",
            "script 'nope.js' not found",
        ),
        (
            "broken",
            Some(target.as_str()),
            "errored",
            "fail",
            "broken on purpose",
        ),
        ("quick", None, "errored", "fail", "no target URL"),
        (
            "nosuch",
            Some(target.as_str()),
            "errored",
            "fail",
            "no workload for teststrategy 'nosuch'",
        ),
        (
            "badoptions",
            Some(target.as_str()),
            "errored",
            "fail",
            "invalid options",
        ),
        (
            "slow",
            Some(target.as_str()),
            "errored",
            "fail",
            "maximum test duration 2s reached",
        ),
    ];
    let mut events = Vec::new();
    for (strategy, t, ..) in &cases {
        let ev = triggered(strategy, *t);
        assert_eq!(post(addr, ev.to_string(), CE).await.0, 202);
        events.push(ev);
    }
    // Missing project/stage/service: accepted, answered with an errored .finished.
    let mut bad = triggered("quick", Some(&target));
    bad["data"].as_object_mut().unwrap().remove("project");
    assert_eq!(post(addr, bad.to_string(), CE).await.0, 202);

    let mut finished = std::collections::HashMap::new();
    let mut started = std::collections::HashSet::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(90);
    while finished.len() < cases.len() + 1 {
        let a = tokio::time::timeout_at(deadline, rx.recv())
            .await
            .expect("all answers within 90s")
            .unwrap();
        let id = a["triggeredid"].as_str().unwrap().to_string();
        if a["type"] == "sh.keptn.event.test.started" {
            assert!(started.insert(id.clone()), "two .started for {id}");
        } else {
            assert!(started.contains(&id), ".finished before .started for {id}");
            assert!(
                finished.insert(id.clone(), a).is_none(),
                "two .finished for {id}"
            );
        }
    }
    for ((strategy, _, status, result, part), ev) in cases.iter().zip(&events) {
        let f = &finished[ev["id"].as_str().unwrap()];
        assert_answer(f, ev);
        assert_window(f);
        assert_eq!(f["data"]["status"], *status, "{strategy}: {f}");
        assert_eq!(f["data"]["result"], *result, "{strategy}: {f}");
        let msg = f["data"]["message"].as_str().unwrap();
        assert!(msg.contains(part), "{strategy}: {msg}");
    }
    let f = &finished[bad["id"].as_str().unwrap()];
    assert_eq!(f["data"]["status"], "errored");
    assert!(
        f["data"]["message"]
            .as_str()
            .unwrap()
            .contains("missing data.project"),
        "{f}"
    );
    svc.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_gets_4xx_and_duplicates_run_once() {
    let target = target().await;
    let (dist, mut rx) = distributor().await;
    let svc = start(ServiceConfig {
        distributor_url: dist,
        max_body_bytes: 64 * 1024,
        ..config()
    })
    .await;
    let addr = svc.local_addr();
    assert_eq!(post(addr, "{not json".into(), CE).await.0, 400);
    let mut no_id = triggered("quick", None);
    no_id.as_object_mut().unwrap().remove("id");
    assert_eq!(post(addr, no_id.to_string(), CE).await.0, 400);
    let mut v03 = triggered("quick", None);
    v03["specversion"] = json!("0.3");
    let (code, body) = post(addr, v03.to_string(), CE).await;
    assert_eq!(code, 400, "{body}");
    assert!(body.contains("specversion"), "{body}");
    let mut other = triggered("quick", None);
    other["type"] = json!("sh.keptn.event.deployment.triggered");
    let (code, body) = post(addr, other.to_string(), CE).await;
    assert_eq!(code, 400);
    assert!(body.contains("unsupported event type"), "{body}");
    let mut big = triggered("quick", None);
    big["data"]["padding"] = json!("x".repeat(100 * 1024));
    assert_eq!(post(addr, big.to_string(), CE).await.0, 413);

    // The same event delivered twice (distributor retry): one .started, one .finished. Plain
    // application/json (no ce- headers) is taken as structured too.
    let ev = triggered("quick", Some(&target));
    assert_eq!(post(addr, ev.to_string(), CE).await.0, 202);
    let (code, body) = post(addr, ev.to_string(), "application/json").await;
    assert_eq!(code, 202);
    assert!(body.contains("duplicate"), "{body}");
    let id = ev["id"].as_str().unwrap();
    started_finished(&mut rx, id).await;
    // The duplicate was answered 202 "duplicate" and counted (below); no answer follows the
    // one .finished.
    assert_no_answer(&mut rx, Some(id), QUIET).await;
    let m = metrics_text(&addr.to_string()).await;
    assert!(
        m.contains("reason=\"duplicate\",transport=\"http\"} 1"),
        "{m}"
    );
    assert!(
        m.contains("reason=\"invalid\",transport=\"http\"} 3"),
        "{m}"
    );
    svc.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keptn_api_answers_carry_the_token_which_is_never_shown() {
    let target = target().await;
    let (dist, mut rx) = distributor().await;
    let api = dist.trim_end_matches("/event").to_string();
    let svc = start(ServiceConfig {
        keptn_api_endpoint: Some(api),
        keptn_api_token: Some(Secret::new("s3cret-token")),
        ..config()
    })
    .await;
    let ev = triggered("quick", Some(&target));
    assert_eq!(post(svc.local_addr(), ev.to_string(), CE).await.0, 202);
    let (_, f) = started_finished(&mut rx, ev["id"].as_str().unwrap()).await;
    assert!(!f.to_string().contains("s3cret"));
    let list = reqwest::get(format!(
        "http://{}/v1/tests/{}",
        svc.local_addr(),
        ev["id"].as_str().unwrap()
    ))
    .await
    .unwrap()
    .text()
    .await
    .unwrap();
    assert!(!list.contains("s3cret"));
    svc.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_loadgate_yaml_is_an_errored_finished() {
    let target = target().await;
    let (dist, mut rx) = distributor().await;
    let dir =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("test-data/service-tests-invalid");
    let svc = start(ServiceConfig {
        distributor_url: dist,
        source: loadgate::workload::WorkloadSource::Dir(dir),
        ..config()
    })
    .await;
    let ev = triggered("quick", Some(&target));
    assert_eq!(post(svc.local_addr(), ev.to_string(), CE).await.0, 202);
    let (_, f) = started_finished(&mut rx, ev["id"].as_str().unwrap()).await;
    assert_eq!(f["data"]["status"], "errored");
    assert!(
        f["data"]["message"]
            .as_str()
            .unwrap()
            .contains("invalid loadgate.yaml"),
        "{f}"
    );
    svc.shutdown().await;
}

use loadgate::service::ServiceConfig;

/// A fake Keptn resource service: `loadgate.yaml` at the project level, the script at the
/// service level under a folder (so its URI has a `/`), both only at the right gitCommitID.
async fn fake_resource_service() -> (String, std::sync::Arc<std::sync::Mutex<Vec<String>>>) {
    use axum::extract::{OriginalUri, State};
    use base64::Engine;
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let yaml =
        "workloads:\n  - teststrategy: quick\n    script: scripts/quick.js\n    iterations: 1\n";
    let script = std::fs::read_to_string(tests_dir().join("quick.js")).unwrap();
    let app = axum::Router::new()
        .fallback(
            move |State(seen): State<std::sync::Arc<std::sync::Mutex<Vec<String>>>>,
                  headers: axum::http::HeaderMap,
                  OriginalUri(uri): OriginalUri| {
                let (yaml, script) = (yaml.to_string(), script.clone());
                async move {
                    let u = uri.to_string();
                    seen.lock().unwrap().push(u.clone());
                    assert_eq!(headers.get("x-token").unwrap(), "tok");
                    let b64 = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
                    let body = if !u.ends_with("?gitCommitID=58d0a99b4fbd95af8b7891f7799c5e636515e244") {
                        None
                    } else if u.starts_with("/v1/project/shop/resource/loadgate.yaml") {
                        Some(b64(&yaml))
                    } else if u.starts_with("/v1/project/shop/stage/staging/service/checkout/resource/scripts%2Fquick.js") {
                        Some(b64(&script))
                    } else {
                        None
                    };
                    match body {
                        Some(c) => axum::Json(json!({"resourceURI": "x", "resourceContent": c})).into_response(),
                        None => axum::http::StatusCode::NOT_FOUND.into_response(),
                    }
                }
            },
        )
        .with_state(seen.clone());
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", l.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(l, app).await });
    (url, seen)
}

use axum::response::IntoResponse;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn workloads_from_the_keptn_resource_service() {
    let target = target().await;
    let (dist, mut rx) = distributor().await;
    let (api, seen) = fake_resource_service().await;
    let svc = start(ServiceConfig {
        distributor_url: dist,
        source: loadgate::workload::WorkloadSource::Resource(loadgate::keptn::ResourceClient::new(
            &api,
            Some(Secret::new("tok")),
        )),
        ..config()
    })
    .await;
    let ev = triggered("quick", Some(&target));
    assert_eq!(post(svc.local_addr(), ev.to_string(), CE).await.0, 202);
    let (_, f) = started_finished(&mut rx, ev["id"].as_str().unwrap()).await;
    assert_eq!(f["data"]["result"], "pass", "{f}");
    let seen = seen.lock().unwrap().clone();
    let paths: Vec<&str> = seen.iter().map(|u| u.split('?').next().unwrap()).collect();
    assert_eq!(
        paths,
        [
            "/v1/project/shop/stage/staging/service/checkout/resource/loadgate.yaml",
            "/v1/project/shop/stage/staging/resource/loadgate.yaml",
            "/v1/project/shop/resource/loadgate.yaml",
            "/v1/project/shop/stage/staging/service/checkout/resource/scripts%2Fquick.js",
        ]
    );
    // Not found anywhere: an errored .finished that says where it looked.
    let mut other = triggered("quick", Some(&target));
    other["data"]["project"] = json!("nowhere");
    assert_eq!(post(svc.local_addr(), other.to_string(), CE).await.0, 202);
    let (_, f) = started_finished(&mut rx, other["id"].as_str().unwrap()).await;
    assert_eq!(f["data"]["status"], "errored");
    let msg = f["data"]["message"].as_str().unwrap();
    assert!(
        msg.contains("resource 'loadgate.yaml' not found for service checkout"),
        "{msg}"
    );
    svc.shutdown().await;
}
