//! `loadgate serve` over NATS with a real nats-server: started then finished with every
//! attribute checked, two replicas in one queue group run an event once, a duplicate delivery,
//! custom task types, and a NATS restart mid-test after which the `.finished` still arrives.

use std::time::Duration;

use crate::support::*;
use futures_util::StreamExt;
use loadgate::service::ServiceConfig;
use serde_json::Value;

/// Subscribes to started and finished and forwards them to a channel.
async fn answers(
    client: &async_nats::Client,
    task: &str,
) -> tokio::sync::mpsc::UnboundedReceiver<Value> {
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    // One subscription for both answer types: two would be two tasks racing to the channel,
    // and a .finished sent right after its .started could come first.
    {
        let mut sub = client
            .subscribe(format!("sh.keptn.event.{task}.*"))
            .await
            .unwrap();
        let tx = tx.clone();
        tokio::spawn(async move {
            while let Some(m) = sub.next().await {
                if m.subject.ends_with(".started") || m.subject.ends_with(".finished") {
                    let _ = tx.send(serde_json::from_slice::<Value>(&m.payload).unwrap());
                }
            }
        });
    }
    client.flush().await.unwrap();
    rx
}

async fn publish(client: &async_nats::Client, ev: &Value) {
    client
        .publish(
            ev["type"].as_str().unwrap().to_string(),
            ev.to_string().into(),
        )
        .await
        .unwrap();
    client.flush().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn started_then_finished_over_nats_and_duplicates_run_once() {
    let nats = Nats::start();
    let target = target().await;
    let svc = start(ServiceConfig {
        nats_url: Some(nats.url()),
        ..config()
    })
    .await;
    let client = async_nats::connect(nats.url()).await.unwrap();
    let mut rx = answers(&client, "test").await;
    let ev = triggered("quick", Some(&target));
    publish(&client, &ev).await;
    publish(&client, &ev).await; // a duplicate delivery
    let id = ev["id"].as_str().unwrap();
    let (s, f) = started_finished(&mut rx, id).await;
    assert_answer(&s, &ev);
    assert_answer(&f, &ev);
    assert_eq!(s["data"]["status"], "succeeded");
    assert_eq!(f["data"]["status"], "succeeded", "{f}");
    assert_eq!(f["data"]["result"], "pass", "{f}");
    assert_window(&f);
    // No second run of the duplicate: once it is counted as one it was dropped, and no answer
    // follows the one .finished.
    metrics_eventually(
        &svc.local_addr().to_string(),
        "reason=\"duplicate\",transport=\"nats\"} 1",
    )
    .await;
    assert_no_answer(&mut rx, Some(id), QUIET).await;
    let ready = reqwest::get(format!("http://{}/health/ready", svc.local_addr()))
        .await
        .unwrap();
    assert_eq!(ready.status().as_u16(), 200);
    svc.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_replicas_in_one_queue_group_run_each_event_once() {
    let nats = Nats::start();
    let target = target().await;
    let cfg = ServiceConfig {
        nats_url: Some(nats.url()),
        ..config()
    };
    let a = start(cfg.clone()).await;
    let b = start(cfg).await;
    let client = async_nats::connect(nats.url()).await.unwrap();
    let mut rx = answers(&client, "test").await;
    let events: Vec<Value> = (0..4).map(|_| triggered("quick", Some(&target))).collect();
    for ev in &events {
        publish(&client, ev).await;
    }
    let mut seen = std::collections::HashMap::<String, (u32, u32)>::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    while seen.values().filter(|(_, f)| *f > 0).count() < events.len() {
        let v = tokio::time::timeout_at(deadline, rx.recv())
            .await
            .unwrap()
            .unwrap();
        let e = seen
            .entry(v["triggeredid"].as_str().unwrap().into())
            .or_default();
        if v["type"] == "sh.keptn.event.test.started" {
            e.0 += 1;
        } else {
            e.1 += 1;
        }
    }
    // Every event finished; one delivered to both replicas would be a job on each by now.
    assert!(seen.values().all(|c| *c == (1, 1)), "{seen:?}");
    let ran = a.jobs.list().len() + b.jobs.list().len();
    assert_eq!(ran, events.len());
    assert_no_answer(&mut rx, None, QUIET).await;
    a.shutdown().await;
    b.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn custom_task_types_and_unknown_types() {
    let nats = Nats::start();
    let target = target().await;
    let svc = start(ServiceConfig {
        nats_url: Some(nats.url()),
        types: vec!["sh.keptn.event.loadtest.triggered".into()],
        ..config()
    })
    .await;
    let client = async_nats::connect(nats.url()).await.unwrap();
    let mut rx = answers(&client, "loadtest").await;
    let mut ev = triggered("quick", Some(&target));
    ev["type"] = "sh.keptn.event.loadtest.triggered".into();
    publish(&client, &ev).await;
    let id = ev["id"].as_str().unwrap();
    let s = next_for(&mut rx, id, Duration::from_secs(30)).await;
    assert_eq!(s["type"], "sh.keptn.event.loadtest.started");
    let f = next_for(&mut rx, id, Duration::from_secs(60)).await;
    assert_eq!(f["type"], "sh.keptn.event.loadtest.finished");
    // Malformed bodies on a subscribed subject are logged and counted, never answered.
    client
        .publish("sh.keptn.event.loadtest.triggered", "{nope".into())
        .await
        .unwrap();
    client.flush().await.unwrap();
    metrics_eventually(
        &svc.local_addr().to_string(),
        "reason=\"invalid\",transport=\"nats\"} 1",
    )
    .await;
    assert_no_answer(&mut rx, None, QUIET).await;
    svc.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nats_restarted_mid_test_and_the_finished_still_arrives() {
    let mut nats = Nats::start();
    let port = nats.port;
    // The service reaches NATS through a gated proxy so that, after the restart, the test's
    // listener is subscribed before the service reconnects (core NATS delivers only to
    // subscribers present when the buffered .finished goes out).
    let proxy = Proxy::start(port).await;
    let target = target().await;
    let svc = start(ServiceConfig {
        nats_url: Some(proxy.url()),
        max_test_duration: Duration::from_secs(2),
        ..config()
    })
    .await;
    let client = async_nats::connect(nats.url()).await.unwrap();
    let mut rx = answers(&client, "test").await;
    // `slow` runs until the 2 s maximum duration stops it, while NATS is down.
    let ev = triggered("slow", Some(&target));
    publish(&client, &ev).await;
    let id = ev["id"].as_str().unwrap();
    let s = next_for(&mut rx, id, Duration::from_secs(30)).await;
    assert_eq!(s["type"], "sh.keptn.event.test.started");
    proxy.set_open(false);
    nats.stop();
    let ready_url = format!("http://{}/health/ready", svc.local_addr());
    eventually(
        "/health/ready 503 with NATS down",
        Duration::from_secs(10),
        || async {
            let r = reqwest::get(&ready_url).await.ok()?;
            (r.status().as_u16() == 503).then_some(())
        },
    )
    .await;
    // The test ends (maximum duration) while the server is away.
    eventually("the test ends", Duration::from_secs(30), || async {
        (svc.jobs.get(id).map(|j| j.view.state) == Some(loadgate::service::JobState::Finished))
            .then_some(())
    })
    .await;
    let nats2 = Nats::start_on(port);
    let listener = async_nats::connect(nats2.url()).await.unwrap();
    let mut rx = answers(&listener, "test").await;
    proxy.set_open(true);
    let f = next_for(&mut rx, id, Duration::from_secs(60)).await;
    assert_eq!(f["type"], "sh.keptn.event.test.finished", "{f}");
    assert_answer(&f, &ev);
    assert!(
        f["data"]["message"]
            .as_str()
            .unwrap()
            .contains("maximum test duration 2s"),
        "{f}"
    );
    let ready = reqwest::get(format!("http://{}/health/ready", svc.local_addr()))
        .await
        .unwrap();
    assert_eq!(ready.status().as_u16(), 200);
    svc.shutdown().await;
}
