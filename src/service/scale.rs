//! The runner side of scale-out on every replica: answers the coordinators' discovery with this
//! replica's free slots, takes a segment (request/reply on `loadgate.r.<replica>.prepare`) when
//! it has a slot, the same loadgate version and no part of that test yet (a segment is never run
//! twice on one replica; a restarted replica is a new id the coordinator does not know), and
//! runs it: the test folder unpacked in a temporary folder, the segment with the
//! [`RunnerLink`] as its controller, deltas shipped instead of judged, no outputs (the
//! coordinator writes the merged series). SIGTERM makes a running segment report "leaving".
//!
//! Receives [`Discover`] and [`Prepare`] over NATS; emits segments tracked by the
//! [`JobManager`] (role `runner` in `/v1/tests`).

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use futures_util::StreamExt;
use tokio::sync::{OwnedSemaphorePermit, mpsc};

use super::jobs::{JobManager, JobState, JobView};
use crate::distributed::ScaleOut;
use crate::distributed::bundle;
use crate::distributed::protocol::{
    self, DISCOVER, Discover, Offer, Prepare, Reply, RunnerEvent, prepare_subject,
};
use crate::distributed::runner::RunnerLink;
use crate::engine::state::{AbortReason, TestAbort};
use crate::run::{MetricsLink, RunConfig, RunFailure};
use crate::timefmt::rfc3339_ms;

/// Answers discovery and assignments until the manager closes (shutdown).
pub async fn serve(
    scale: ScaleOut,
    jobs: JobManager,
) -> Result<tokio::task::JoinHandle<()>, String> {
    let client = scale.client.clone();
    let mut discover = client
        .subscribe(DISCOVER)
        .await
        .map_err(|e| format!("cannot subscribe to {DISCOVER}: {e}"))?;
    let subject = prepare_subject(&scale.replica);
    let mut prepare = client
        .subscribe(subject.clone())
        .await
        .map_err(|e| format!("cannot subscribe to {subject}: {e}"))?;
    let closing = jobs.closing();
    Ok(tokio::spawn(async move {
        loop {
            tokio::select! {
                m = discover.next() => match m {
                    Some(m) => offer(&scale, &jobs, &m).await,
                    None => break,
                },
                m = prepare.next() => match m {
                    Some(m) => {
                        let reply = match protocol::decode::<Prepare>(&m.payload) {
                            Ok(p) => take(&scale, &jobs, p).await,
                            Err(e) => Reply::refuse(e.to_string()),
                        };
                        protocol::answer(&scale.client, &m, &reply).await;
                    }
                    None => break,
                },
                _ = closing.cancelled() => break,
            }
        }
        let _ = discover.unsubscribe().await;
        let _ = prepare.unsubscribe().await;
    }))
}

async fn offer(scale: &ScaleOut, jobs: &JobManager, m: &async_nats::Message) {
    let Ok(d) = protocol::decode::<Discover>(&m.payload) else {
        return;
    };
    if d.coordinator == scale.replica {
        return;
    }
    let free_slots = if jobs.knows(&d.test) {
        0
    } else {
        jobs.free_slots()
    };
    let o = Offer {
        replica: scale.replica.clone(),
        version: protocol::version().to_string(),
        free_slots,
        host: scale.host.clone(),
    };
    if let Some(to) = &m.reply {
        let _ = scale.client.publish(to.clone(), protocol::encode(&o)).await;
    }
}

/// Takes a segment or says why not.
async fn take(scale: &ScaleOut, jobs: &JobManager, p: Prepare) -> Reply {
    if p.version != protocol::version() {
        return Reply::refuse(format!(
            "this replica runs loadgate {}, the coordinator {}",
            protocol::version(),
            p.version
        ));
    }
    if jobs.knows(&p.test) {
        return Reply::refuse(format!(
            "this replica already took part in test {}; a segment is never run twice",
            p.test
        ));
    }
    let Some(permit) = jobs.try_slot() else {
        return Reply::refuse("no free test slot");
    };
    let dead_man = Duration::from_millis(p.dead_man_ms.max(1000));
    let link = match RunnerLink::listen(
        scale.client.clone(),
        &p.test,
        &scale.replica,
        &p.epoch,
        dead_man,
    )
    .await
    {
        Ok(l) => l,
        Err(e) => return Reply::refuse(e),
    };
    let view = JobView {
        id: p.test.clone(),
        ty: "segment".into(),
        keptn_context: p.keptn_context.clone(),
        project: p.project.clone(),
        stage: p.stage.clone(),
        service: p.service.clone(),
        teststrategy: Some(p.workload.teststrategy.clone()),
        state: JobState::Running,
        received: rfc3339_ms(SystemTime::now()),
        status: None,
        result: None,
        message: Some(format!(
            "segment {} of {} ({} of {}), coordinator {}",
            p.segment, p.sequence, p.index, p.parallelism, p.coordinator
        )),
        start: Some(rfc3339_ms(SystemTime::now())),
        end: None,
        role: Some("runner"),
    };
    tracing::info!(test = %p.test, segment = %p.segment, "segment taken");
    let handle = tokio::spawn(segment(p, link, jobs.clone(), permit));
    jobs.track_segment(view, handle);
    Reply::ok()
}

/// Runs one segment to its end and records how it ended.
async fn segment(p: Prepare, link: RunnerLink, jobs: JobManager, _permit: OwnedSemaphorePermit) {
    let test = p.test.clone();
    let (status, message) = match run_segment(&p, &link, &jobs).await {
        Ok(m) => ("succeeded", m),
        Err(e) => {
            tracing::error!(%test, "segment failed: {e}");
            link.report(RunnerEvent::Failed { error: e.clone() }).await;
            ("errored", e)
        }
    };
    link.close();
    tracing::info!(%test, status, %message, "segment finished");
    jobs.finish_segment(&test, status, message);
}

async fn run_segment(p: &Prepare, link: &RunnerLink, jobs: &JobManager) -> Result<String, String> {
    let ctx = jobs.context();
    let dir = tempfile::Builder::new()
        .prefix("loadgate-segment-")
        .tempdir()
        .map_err(|e| format!("cannot create a temporary folder: {e}"))?;
    let script = bundle::unpack(&p.files, &p.script, dir.path())?;
    let options = p
        .workload
        .options()
        .map_err(|e| format!("invalid workload: {e}"))?;
    let abort = TestAbort::new();
    let (tx, rx) = mpsc::unbounded_channel();
    let mut config = RunConfig::new(script);
    config.root = Some(dir.path().to_path_buf());
    config.env = p.env.clone();
    config.options_env = p.options_env.clone();
    config.workload = Some(options);
    config.overrides.execution_segment = Some(p.segment.clone());
    config.overrides.execution_segment_sequence = Some(p.sequence.clone());
    config.summary = None;
    config.workers = ctx.workers;
    config.abort = abort.clone();
    config.controller = Some(Arc::new(link.clone()));
    config.metrics_link = MetricsLink::Ship(tx);
    let shipper = {
        let link = link.clone();
        tokio::spawn(async move { link.ship(rx).await })
    };
    // SIGTERM (shutdown) and the service's maximum duration stop the segment; SIGTERM is
    // reported to the coordinator as leaving.
    let watchdog = {
        let (abort, link, closing, all) = (
            abort.clone(),
            link.clone(),
            jobs.closing(),
            ctx.abort_all.clone(),
        );
        let max = ctx.max_test_duration;
        tokio::spawn(async move {
            tokio::select! {
                _ = closing.cancelled() => {
                    link.report(RunnerEvent::Leaving {
                        reason: "its replica is shutting down (SIGTERM)".into(),
                    })
                    .await;
                }
                _ = all.cancelled() => {}
                _ = tokio::time::sleep(max) => {}
                _ = abort.token().cancelled() => return,
            }
            abort.abort(AbortReason::Signal);
        })
    };
    let hard = ctx.max_test_duration + Duration::from_secs(120);
    let result = tokio::time::timeout(hard, crate::run::run(config)).await;
    watchdog.abort();
    let shipped = shipper.await.unwrap_or_default();
    match result {
        Err(_) => Err("the segment did not stop after the maximum test duration".into()),
        Ok(Err(RunFailure::Config(m))) => {
            Err(format!("invalid options: {}", m.replace('\n', "; ")))
        }
        Ok(Err(e)) => Err(e.to_string()),
        Ok(Ok(o)) => Ok(match link.stopped_by_coordinator() {
            Some(why) => format!("{why}; {shipped} deltas shipped"),
            None => format!(
                "segment {} done: {} iterations, {shipped} deltas shipped",
                p.segment, o.report.iterations_completed
            ),
        }),
    }
}
