//! The output end to end against an in-process endpoint: what goes over the wire (headers, body),
//! queue limits and the stop path.

use std::sync::Mutex as StdMutex;
use std::time::UNIX_EPOCH;

use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode};
use prost::Message;

use super::*;
use crate::metrics::{TagSet, builtin};

#[derive(Clone, Default)]
struct Seen(Arc<StdMutex<Vec<(HeaderMap, proto::WriteRequest)>>>);

async fn endpoint(status: StatusCode) -> (url::Url, Seen) {
    let seen = Seen::default();
    let s = seen.clone();
    let app = axum::Router::new().route(
        "/api/v1/write",
        axum::routing::post(move |headers: HeaderMap, body: Bytes| {
            let s = s.clone();
            async move {
                let raw = snap::raw::Decoder::new().decompress_vec(&body).unwrap();
                let req = proto::WriteRequest::decode(raw.as_slice()).unwrap();
                s.0.lock().unwrap().push((headers, req));
                status
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/api/v1/write", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url::Url::parse(&url).unwrap(), seen)
}

use crate::metrics::Sample;

fn sample(metric: crate::metrics::MetricId, value: f64) -> Sample {
    Sample {
        metric,
        tags: Arc::new(TagSet::new()),
        value,
        time: UNIX_EPOCH + Duration::from_millis(1_000),
        metadata: None,
    }
}

fn config(url: url::Url) -> RwConfig {
    RwConfig {
        server_url: url,
        push_interval: Duration::from_secs(3600),
        username: Some("user".into()),
        password: Some("pw".into()),
        headers: [("X-Scope-OrgID".to_string(), "tenant".to_string())].into(),
        stop_timeout: Duration::from_secs(2),
        ..RwConfig::default()
    }
}

#[tokio::test]
async fn final_push_on_stop_with_k6_headers() {
    let (url, seen) = endpoint(StatusCode::NO_CONTENT).await;
    let mut out = PrometheusRw::new(config(url), ExtraLabels::default()).unwrap();
    let stats = out.stats();
    out.start(Arc::new(Registry::new()));
    out.add_samples(&Arc::new(vec![
        sample(builtin::ITERATIONS, 1.0),
        sample(builtin::ITERATIONS, 2.0),
    ]));
    Box::new(out).stop().await;
    let seen = seen.0.lock().unwrap();
    assert_eq!(seen.len(), 1);
    let (headers, req) = &seen[0];
    let h = |n: &str| headers.get(n).and_then(|v| v.to_str().ok()).unwrap_or("");
    assert_eq!(h("content-encoding"), "snappy");
    assert_eq!(h("content-type"), "application/x-protobuf");
    assert_eq!(h("x-prometheus-remote-write-version"), "0.1.0");
    assert_eq!(h("user-agent"), "k6-prometheus-rw-output");
    assert_eq!(h("x-scope-orgid"), "tenant");
    assert_eq!(h("authorization"), "Basic dXNlcjpwdw==");
    assert_eq!(req.timeseries.len(), 1);
    assert_eq!(req.timeseries[0].samples[0].value, 3.0);
    assert_eq!(req.timeseries[0].samples[0].timestamp, 1_000);
    assert_eq!(stats.delivered_samples.load(Ordering::Relaxed), 1);
    assert_eq!(stats.dropped_samples.load(Ordering::Relaxed), 0);
}

#[tokio::test]
async fn pushes_every_interval_and_stale_markers_at_the_end() {
    let (url, seen) = endpoint(StatusCode::NO_CONTENT).await;
    let mut cfg = config(url);
    cfg.push_interval = Duration::from_millis(50);
    cfg.stale_markers = true;
    cfg.bearer_token = Some("tok".into());
    let mut out = PrometheusRw::new(cfg, ExtraLabels::default()).unwrap();
    out.start(Arc::new(Registry::new()));
    out.add_samples(&Arc::new(vec![sample(builtin::VUS, 4.0)]));
    // Wait (bounded) for the periodic push to arrive.
    for _ in 0..200 {
        if !seen.0.lock().unwrap().is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    Box::new(out).stop().await;
    let seen = seen.0.lock().unwrap();
    assert_eq!(seen.len(), 2, "one periodic push, then the stale markers");
    assert_eq!(seen[0].1.timeseries[0].samples[0].value, 4.0);
    let marker = &seen[1].1.timeseries[0].samples[0];
    assert!(stale::is_stale(marker.value));
    assert!(marker.timestamp > 1_000);
    assert_eq!(
        seen[0].0.get("authorization").and_then(|v| v.to_str().ok()),
        Some("Bearer tok")
    );
}

#[test]
fn queue_drops_the_oldest_first() {
    let stats = Arc::new(RwStats::default());
    let q = Queue {
        state: StdMutex::new(QueueState::default()),
        notify: Notify::new(),
        max: 2,
        stats: stats.clone(),
        written: AtomicU64::new(0),
        dropped: AtomicU64::new(0),
    };
    for n in 1..=4u64 {
        q.push(Batch {
            body: bytes::Bytes::from(vec![n as u8]),
            samples: n,
        });
    }
    let st = q.lock();
    let left: Vec<u64> = st.items.iter().map(|b| b.samples).collect();
    assert_eq!(left, vec![3, 4]);
    assert_eq!(stats.dropped_samples.load(Ordering::Relaxed), 3);
    assert_eq!(q.written.load(Ordering::Relaxed), 10);
}

#[test]
fn backoff_doubles_up_to_five_seconds() {
    assert_eq!(backoff(1), Duration::from_millis(250));
    assert_eq!(backoff(2), Duration::from_millis(500));
    assert_eq!(backoff(5), Duration::from_secs(4));
    assert_eq!(backoff(9), Duration::from_secs(5));
    let msg = undelivered_message(7, 9, 3, "http://x/api/v1/write", "refused");
    assert_eq!(
        msg,
        "prometheus remote write: 7 of 9 samples (3 series) were not delivered to http://x/api/v1/write; last error: refused"
    );
}
