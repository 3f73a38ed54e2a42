//! `loadgate event send FILE (--nats URL | --http URL)`: fires one CloudEvent by hand and prints
//! the answers (there is no NATS CLI in the tutorials' setup). Over NATS it subscribes to the
//! answer types first, publishes on the subject named by the event's type, and prints every
//! answer for the event until `.finished`. Over HTTP it POSTs a structured CloudEvent and prints
//! the response; with `--listen ADDR` it also receives answers (point the service's
//! `--distributor-url` at `http://ADDR/event`).

use std::time::Duration;

use futures_util::StreamExt;
use serde_json::Value;

use super::EventSendArgs;
use crate::engine::duration::GoDuration;
use crate::keptn::answer_type;

/// Runs `event send`: 0 when the `.finished` arrived (or, over HTTP without `--listen`, when the
/// service accepted the event), 1 otherwise.
pub async fn send(args: EventSendArgs) -> i32 {
    match send_inner(args).await {
        Ok(code) => code,
        Err(e) => {
            tracing::error!("{e}");
            1
        }
    }
}

fn print(v: &Value) {
    println!("{}", serde_json::to_string_pretty(v).unwrap_or_default());
}

async fn send_inner(args: EventSendArgs) -> Result<i32, String> {
    let text = std::fs::read_to_string(&args.file)
        .map_err(|e| format!("cannot read {}: {e}", args.file.display()))?;
    let mut event: Value = serde_json::from_str(&text)
        .map_err(|e| format!("{} is not JSON: {e}", args.file.display()))?;
    let text = if args.new_id && event.is_object() {
        event["id"] = Value::String(uuid::Uuid::new_v4().to_string());
        event.to_string()
    } else {
        text
    };
    let ty = event["type"].as_str().unwrap_or_default().to_string();
    let id = event["id"].as_str().unwrap_or_default().to_string();
    if ty.is_empty() || id.is_empty() {
        return Err(format!(
            "{}: the event needs a type and an id",
            args.file.display()
        ));
    }
    let wait = GoDuration::parse(&args.timeout)
        .map(GoDuration::to_std)
        .map_err(|e| format!("invalid --timeout \"{}\": {e}", args.timeout))?;
    let matches = |a: &Value| a["triggeredid"] == id.as_str();
    if let Some(url) = &args.nats {
        let client = async_nats::connect(url.as_str())
            .await
            .map_err(|e| crate::redact::url(&format!("cannot connect to nats at {url}: {e}")))?;
        let mut started = client
            .subscribe(answer_type(&ty, "started"))
            .await
            .map_err(|e| e.to_string())?;
        let mut finished = client
            .subscribe(answer_type(&ty, "finished"))
            .await
            .map_err(|e| e.to_string())?;
        client
            .publish(ty.clone(), text.into_bytes().into())
            .await
            .map_err(|e| format!("cannot publish: {e}"))?;
        client.flush().await.map_err(|e| e.to_string())?;
        eprintln!("published {ty} {id} on {url}");
        let done = tokio::time::timeout(wait, async {
            loop {
                let (msg, last) = tokio::select! {
                    Some(m) = started.next() => (m, false),
                    Some(m) = finished.next() => (m, true),
                    else => return false,
                };
                if let Ok(v) = serde_json::from_slice::<Value>(&msg.payload)
                    && matches(&v)
                {
                    print(&v);
                    if last {
                        return true;
                    }
                }
            }
        })
        .await;
        return Ok(if matches!(done, Ok(true)) { 0 } else { 1 });
    }
    let Some(url) = &args.http else {
        return Err("give --nats URL or --http URL".into());
    };
    let mut answers = match &args.listen {
        Some(addr) => {
            let l = tokio::net::TcpListener::bind(addr)
                .await
                .map_err(|e| format!("cannot listen on {addr}: {e}"))?;
            Some(crate::service::capture::serve(l))
        }
        None => None,
    };
    let resp = crate::tls::reqwest_builder()
        .timeout(Duration::from_secs(10))
        .build()
        .map_err(|e| e.to_string())?
        .post(url)
        .header("content-type", "application/cloudevents+json")
        .body(text)
        .send()
        .await
        .map_err(|e| crate::redact::url(&format!("cannot post to {url}: {e}")))?;
    let status = resp.status();
    let body = resp.text().await.unwrap_or_default();
    eprintln!("POST {} -> {status} {body}", crate::redact::url(url));
    if serde_json::from_str::<Value>(&body).is_ok_and(|b| b.get("duplicate").is_some()) {
        return Err(format!(
            "the service already took an event with id {id} and ignores this one; send it with --new-id to run it again"
        ));
    }
    let Some(rx) = answers.as_mut() else {
        return Ok(if status.is_success() { 0 } else { 1 });
    };
    let done = tokio::time::timeout(wait, async {
        while let Some(v) = rx.recv().await {
            if matches(&v) {
                print(&v);
                if v["type"].as_str().is_some_and(|t| t.ends_with(".finished")) {
                    return true;
                }
            }
        }
        false
    })
    .await;
    Ok(if matches!(done, Ok(true)) { 0 } else { 1 })
}
