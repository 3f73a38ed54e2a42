//! `loadgate serve` (the Keptn service until SIGTERM) and `loadgate demo` (the whole loop in one
//! process: the service, a loopback target, a loopback distributor, one test.triggered, the
//! summary and the `.finished` event printed; no NATS, no Prometheus).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value, json};
use tokio::net::TcpListener;

use super::{DemoArgs, ServeArgs};
use crate::engine::duration::GoDuration;
use crate::keptn::resource::{ResourceClient, Secret};
use crate::output::Output;
use crate::output::prometheus::{ExtraLabels, PrometheusRw, RwConfig, RwStats};
use crate::service::nats::NatsSettings;
use crate::service::{self, JobLabels, ServiceConfig};
use crate::workload::WorkloadSource;

fn duration(flag: &str, s: &str) -> Result<Duration, String> {
    GoDuration::parse(s)
        .map(GoDuration::to_std)
        .map_err(|e| format!("invalid {flag} \"{s}\": {e}"))
}

/// Where `loadgate serve` takes workloads from: the tests folder, else the resource service
/// (its own URL, else `{keptn api}/resource-service` as go-utils builds it). With none of them
/// it refuses to start, unless `--demo-workloads` asks for the embedded demo workloads (then it
/// warns): running demo workloads against real deployments by accident is worse than not
/// starting.
fn serve_source(args: &ServeArgs, token: Option<Secret>) -> Result<WorkloadSource, String> {
    if let Some(d) = &args.tests_dir {
        if !d.is_dir() {
            return Err(format!(
                "--tests-dir {}: no such folder (LOADGATE_TESTS_DIR)",
                d.display()
            ));
        }
        return Ok(WorkloadSource::Dir(d.clone()));
    }
    let resource = match (&args.resource_service_url, &args.keptn_api_endpoint) {
        (Some(url), _) => Some(url.trim_end_matches('/').to_string()),
        (None, Some(api)) => Some(format!("{}/resource-service", api.trim_end_matches('/'))),
        (None, None) => None,
    };
    if let Some(url) = resource {
        url::Url::parse(&url)
            .map_err(|e| format!("invalid resource service URL \"{url}\": {e}"))?;
        return Ok(WorkloadSource::Resource(ResourceClient::new(&url, token)));
    }
    if args.demo_workloads {
        tracing::warn!(
            "no workload source: running the EMBEDDED DEMO workloads for every event (--demo-workloads); give --tests-dir, --resource-service-url or --keptn-api-endpoint for real tests"
        );
        return Ok(WorkloadSource::Embedded);
    }
    Err("no workload source: give --tests-dir (LOADGATE_TESTS_DIR), --resource-service-url (LOADGATE_RESOURCE_SERVICE_URL) or --keptn-api-endpoint (KEPTN_API_ENDPOINT, workloads from {endpoint}/resource-service); --demo-workloads runs the embedded demo workloads instead".into())
}

fn nats_settings(args: &ServeArgs) -> Result<NatsSettings, String> {
    let settings = NatsSettings {
        creds: args.nats_creds.clone(),
        user: args.nats_user.clone(),
        password: args.nats_password.clone().map(Secret::new),
        token: args.nats_token.clone().map(Secret::new),
        ca: args.nats_ca.clone(),
        cert: args.nats_cert.clone(),
        key: args.nats_key.clone(),
    };
    settings.validate().map_err(|e| e.to_string())?;
    Ok(settings)
}

/// The service configuration from the flags.
pub fn config(args: &ServeArgs) -> Result<ServiceConfig, String> {
    let token = args.keptn_api_token.clone().map(Secret::new);
    let types = if args.event_types.is_empty() {
        vec![service::DEFAULT_TYPE.to_string()]
    } else {
        args.event_types.clone()
    };
    if let Some(t) = types.iter().find(|t| !t.ends_with(".triggered")) {
        return Err(format!(
            "invalid --event-type \"{t}\": it must end in .triggered"
        ));
    }
    let (outputs, remote_write_stats) = match &args.prometheus_rw_url {
        Some(url) => {
            let (factory, stats) = remote_write(url)?;
            (factory, Some(stats))
        }
        None => (ServiceConfig::default().outputs, None),
    };
    Ok(ServiceConfig {
        outputs,
        remote_write_stats,
        nats_url: args.nats_url.clone(),
        nats_settings: nats_settings(args)?,
        types,
        queue_group: args.queue_group.clone(),
        source: serve_source(args, token.clone())?,
        distributor_url: args.distributor_url.clone(),
        keptn_api_endpoint: args.keptn_api_endpoint.clone(),
        keptn_api_token: token,
        max_concurrent_tests: args.max_concurrent_tests,
        max_test_duration: duration("--max-test-duration", &args.max_test_duration)?,
        shutdown_grace: duration("--shutdown-grace", &args.shutdown_grace)?,
        runner_wait: duration("--runner-wait", &args.runner_wait)?,
        max_body_bytes: args.max_body_bytes,
        workers: args.workers,
    })
}

/// The outputs factory for `--prometheus-rw-url`: one remote-write output per test, labelled
/// with the test's Keptn identity, sharing one set of delivery counters.
fn remote_write(url: &str) -> Result<(service::OutputsFactory, Arc<RwStats>), String> {
    let env: HashMap<String, String> = std::env::vars().collect();
    let mut config = RwConfig::from_env(&env).map_err(|e| e.to_string())?;
    config.server_url = url::Url::parse(url).map_err(|e| {
        format!(
            "invalid --prometheus-rw-url \"{}\": {e}",
            crate::redact::url(url)
        )
    })?;
    let stats = Arc::new(RwStats::default());
    let shared = stats.clone();
    let factory: service::OutputsFactory = Arc::new(move |job: &JobLabels| {
        let mut extra = ExtraLabels::default();
        for (k, v) in [
            ("project", &job.project),
            ("stage", &job.stage),
            ("service", &job.service),
            ("keptn_context", &job.keptn_context),
        ] {
            extra.overrides.insert(k.to_string(), v.clone());
        }
        extra.overrides.insert(
            "job".to_string(),
            format!("{}-{}-{}", job.service, job.project, job.stage),
        );
        extra
            .defaults
            .insert("testid".to_string(), job.testid.clone());
        match PrometheusRw::new(config.clone(), extra) {
            Ok(out) => vec![Box::new(out.with_stats(shared.clone())) as Box<dyn Output>],
            Err(e) => {
                tracing::error!(error = %e, "cannot start the remote-write output; the test runs without it");
                Vec::new()
            }
        }
    });
    Ok((factory, stats))
}

/// SIGTERM or SIGINT, listened for from the moment this is called: the handlers are installed
/// before the service answers anything, so a signal that comes as soon as `/health` answers is a
/// graceful stop (every `.finished` sent), not the default action's silent kill.
fn termination() -> impl std::future::Future<Output = ()> {
    #[cfg(unix)]
    let signals = {
        use tokio::signal::unix::{SignalKind, signal};
        signal(SignalKind::terminate())
            .and_then(|t| Ok((t, signal(SignalKind::interrupt())?)))
            .ok()
    };
    async move {
        #[cfg(unix)]
        if let Some((mut term, mut int)) = signals {
            tokio::select! {
                _ = term.recv() => {},
                _ = int.recv() => {},
            }
            return;
        }
        let _ = tokio::signal::ctrl_c().await;
    }
}

/// `loadgate serve`: runs until SIGTERM or Ctrl-C, then shuts down gracefully.
pub async fn serve(args: ServeArgs) -> i32 {
    let terminated = termination();
    let config = match config(&args) {
        Ok(c) => c,
        Err(e) => {
            tracing::error!("{e}");
            return 104;
        }
    };
    let listener = match TcpListener::bind(&args.http_addr).await {
        Ok(l) => l,
        Err(e) => {
            tracing::error!("cannot listen on {}: {e}", args.http_addr);
            return 1;
        }
    };
    let running = match service::start(config, listener).await {
        Ok(r) => r,
        Err(e) => {
            tracing::error!("{e}");
            return 1;
        }
    };
    terminated.await;
    running.shutdown().await;
    0
}

/// The demo's test.triggered event.
pub fn demo_event(strategy: &str, target: &str) -> Value {
    json!({
        "specversion": "1.0",
        "id": uuid::Uuid::new_v4().to_string(),
        "source": "loadgate-demo",
        "type": service::DEFAULT_TYPE,
        "datacontenttype": "application/json",
        "shkeptncontext": uuid::Uuid::new_v4().to_string(),
        "shkeptnspecversion": "0.2.4",
        "data": {
            "project": "demo", "stage": "dev", "service": "target",
            "labels": { "origin": "loadgate demo" },
            "test": { "teststrategy": strategy },
            "deployment": { "deploymentURIsLocal": [target] }
        }
    })
}

async fn bind_loopback() -> Result<TcpListener, String> {
    TcpListener::bind("127.0.0.1:0")
        .await
        .map_err(|e| format!("cannot listen on 127.0.0.1: {e}"))
}

/// `loadgate demo`: exit 0 when the test passes, 1 otherwise.
pub async fn demo(args: DemoArgs) -> i32 {
    match demo_inner(args).await {
        Ok(code) => code,
        Err(e) => {
            tracing::error!("{e}");
            1
        }
    }
}

async fn demo_inner(args: DemoArgs) -> Result<i32, String> {
    let target_l = bind_loopback().await?;
    let target = format!(
        "http://{}",
        target_l.local_addr().map_err(|e| e.to_string())?
    );
    tokio::spawn(crate::target::serve(target_l, std::future::pending()));
    let capture_l = bind_loopback().await?;
    let distributor = format!(
        "http://{}/event",
        capture_l.local_addr().map_err(|e| e.to_string())?
    );
    let mut answers = service::capture::serve(capture_l);
    let config = ServiceConfig {
        source: args
            .tests_dir
            .clone()
            .map_or(WorkloadSource::Embedded, WorkloadSource::Dir),
        distributor_url: distributor,
        ..ServiceConfig::default()
    };
    let running = service::start(config, bind_loopback().await?)
        .await
        .map_err(|e| e.to_string())?;
    let event = demo_event(&args.strategy, &target);
    let id = event["id"].as_str().unwrap_or_default().to_string();
    eprintln!(
        "loadgate demo: service on http://{}, target {target}, sending {} (teststrategy={})",
        running.local_addr(),
        service::DEFAULT_TYPE,
        args.strategy
    );
    let resp = crate::tls::reqwest_builder()
        .build()
        .map_err(|e| format!("cannot build an HTTP client: {e}"))?
        .post(format!("http://{}/", running.local_addr()))
        .header("content-type", "application/cloudevents+json")
        .body(event.to_string())
        .send()
        .await
        .map_err(|e| format!("cannot post the event: {e}"))?;
    eprintln!("POST / -> {}", resp.status());
    let wait = duration("--timeout", &args.timeout)?;
    let finished = tokio::time::timeout(wait, async {
        while let Some(a) = answers.recv().await {
            let ty = a["type"].as_str().unwrap_or_default().to_string();
            eprintln!("received {ty}");
            if ty.ends_with(".finished") && a["triggeredid"] == id.as_str() {
                return Some(a);
            }
        }
        None
    })
    .await
    .ok()
    .flatten()
    .ok_or_else(|| format!("no .finished within {}", args.timeout))?;
    if let Some(text) = running.jobs.get(&id).and_then(|j| j.summary_text) {
        println!("{text}");
    }
    println!(
        "{}",
        serde_json::to_string_pretty(&finished).unwrap_or_default()
    );
    running.shutdown().await;
    Ok(if finished["data"]["result"] == "pass" {
        0
    } else {
        1
    })
}
