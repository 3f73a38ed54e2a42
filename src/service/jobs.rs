//! The job manager: de-duplicates events by id, answers `.started` at once, admits tests under a
//! concurrency cap (the rest wait their turn, none dropped), tracks state for `/v1/tests`, and
//! shuts down gracefully (stop taking events, let tests end within a grace period, abort the
//! rest, and still send every `.finished`).
//!
//! Receives validated [`Triggered`] events with their [`Responder`]; emits answers through it,
//! and job views for the HTTP API.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, SystemTime};

use serde::Serialize;
use serde_json::Value;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

use super::answer::Responder;
use super::job::{JobContext, execute};
use super::metrics::ServiceMetrics;
use crate::keptn::{Finished, Triggered, build_finished, build_started};
use crate::timefmt::rfc3339_ms;

/// Event ids remembered for de-duplication.
const SEEN_CAPACITY: usize = 10_000;
/// Finished jobs kept for `/v1/tests`.
const KEPT_FINISHED: usize = 200;

/// What [`JobManager::submit`] did with an event.
#[derive(Debug, PartialEq, Eq)]
pub enum Submitted {
    Accepted,
    /// The id was seen before; nothing was run.
    Duplicate,
    /// The service is shutting down and takes no events.
    ShuttingDown,
}

/// The state of a job.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum JobState {
    Queued,
    Running,
    Finished,
}

/// A job as `/v1/tests` shows it (no tokens, no summary).
#[derive(Clone, Debug, Serialize)]
pub struct JobView {
    pub id: String,
    #[serde(rename = "type")]
    pub ty: String,
    pub keptn_context: String,
    pub project: String,
    pub stage: String,
    pub service: String,
    pub teststrategy: Option<String>,
    pub state: JobState,
    pub received: String,
    pub status: Option<String>,
    pub result: Option<String>,
    pub message: Option<String>,
    pub start: Option<String>,
    pub end: Option<String>,
    /// In a scale-out test: `coordinator` or `runner` (a runner's entry is its segment).
    pub role: Option<&'static str>,
}

/// A job with its summary and `.finished` event (`/v1/tests/{id}`).
#[derive(Clone, Debug, Serialize)]
pub struct JobDetail {
    #[serde(flatten)]
    pub view: JobView,
    pub summary: Option<Value>,
    pub summary_text: Option<String>,
    pub finished_event: Option<Value>,
    /// A running test's counters, read live: start, elapsed, VUs, iterations.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub progress: Option<Value>,
}

#[derive(Default)]
struct Book {
    seen: HashSet<String>,
    seen_order: VecDeque<String>,
    jobs: HashMap<String, JobDetail>,
    finished_order: VecDeque<String>,
    handles: Vec<JoinHandle<()>>,
    /// Live state of running tests, by event id.
    live: HashMap<String, Arc<crate::js::shared::TestShared>>,
}

struct Inner {
    ctx: JobContext,
    slots: Arc<Semaphore>,
    book: Mutex<Book>,
    closing: CancellationToken,
    metrics: ServiceMetrics,
}

/// The job manager; cheap to clone.
#[derive(Clone)]
pub struct JobManager {
    inner: Arc<Inner>,
}

/// Marks a test as running for as long as it lives: the running gauge and the live state are
/// released on drop, so a job that panics or is dropped cannot leave `loadgate_tests_running` up.
struct RunningMark {
    manager: JobManager,
    id: String,
}

impl RunningMark {
    fn new(manager: JobManager, id: &str) -> Self {
        manager.inner.metrics.tests_running.inc();
        RunningMark {
            manager,
            id: id.to_string(),
        }
    }
}

impl Drop for RunningMark {
    fn drop(&mut self) {
        self.manager.book().live.remove(&self.id);
        self.manager.inner.metrics.tests_running.dec();
    }
}

/// Runs a job's future; a panic in it becomes an errored `.finished` naming the panic instead of
/// a job that never answers.
async fn guarded(
    job: impl std::future::Future<Output = super::job::JobResult>,
    start: SystemTime,
) -> super::job::JobResult {
    use futures_util::FutureExt;
    match std::panic::AssertUnwindSafe(job).catch_unwind().await {
        Ok(r) => r,
        Err(payload) => {
            let what = panic_text(payload.as_ref());
            tracing::error!(panic = %what, "the test job panicked");
            super::job::JobResult {
                finished: Finished::errored(
                    format!("internal error: the test job panicked: {what}"),
                    start,
                ),
                summary: None,
                summary_text: None,
            }
        }
    }
}

/// The message of a panic payload (`panic!` with a literal or a formatted string).
fn panic_text(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "a panic without a message".to_string()
    }
}

impl JobManager {
    /// A manager running at most `max_concurrent` tests at once.
    pub fn new(ctx: JobContext, max_concurrent: usize, metrics: ServiceMetrics) -> Self {
        JobManager {
            inner: Arc::new(Inner {
                ctx,
                slots: Arc::new(Semaphore::new(max_concurrent.max(1))),
                book: Mutex::new(Book::default()),
                closing: CancellationToken::new(),
                metrics,
            }),
        }
    }

    fn book(&self) -> MutexGuard<'_, Book> {
        self.inner.book.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The service metrics.
    pub fn metrics(&self) -> &ServiceMetrics {
        &self.inner.metrics
    }

    /// True once shutdown began.
    pub fn is_closing(&self) -> bool {
        self.inner.closing.is_cancelled()
    }

    /// A token cancelled when shutdown begins (transports stop taking events).
    pub fn closing(&self) -> CancellationToken {
        self.inner.closing.clone()
    }

    /// Takes an event: runs it in the background unless it is a duplicate or we are closing.
    pub fn submit(&self, t: Triggered, responder: Responder) -> Submitted {
        if self.is_closing() {
            return Submitted::ShuttingDown;
        }
        let mut book = self.book();
        if !book.seen.insert(t.id.clone()) {
            return Submitted::Duplicate;
        }
        book.seen_order.push_back(t.id.clone());
        if book.seen_order.len() > SEEN_CAPACITY
            && let Some(old) = book.seen_order.pop_front()
        {
            book.seen.remove(&old);
        }
        book.jobs.insert(
            t.id.clone(),
            JobDetail {
                view: JobView {
                    id: t.id.clone(),
                    ty: t.ty.clone(),
                    keptn_context: t.shkeptncontext.clone(),
                    project: t.project.clone(),
                    stage: t.stage.clone(),
                    service: t.service.clone(),
                    teststrategy: t.teststrategy.clone(),
                    state: JobState::Queued,
                    received: rfc3339_ms(SystemTime::now()),
                    status: None,
                    result: None,
                    message: None,
                    start: None,
                    end: None,
                    role: None,
                },
                summary: None,
                summary_text: None,
                finished_event: None,
                progress: None,
            },
        );
        let span =
            tracing::info_span!("job", keptn_context = %t.shkeptncontext, triggered_id = %t.id);
        let me = self.clone();
        let handle = tokio::spawn(async move { me.run_job(t, responder).await }.instrument(span));
        book.handles.retain(|h| !h.is_finished());
        book.handles.push(handle);
        Submitted::Accepted
    }

    async fn run_job(self, t: Triggered, responder: Responder) {
        let message = match &t.data_error {
            Some(_) => "loadgate received an invalid test.triggered event".to_string(),
            None => format!(
                "loadgate accepted {}: teststrategy={}",
                t.ty,
                t.teststrategy.as_deref().unwrap_or("default")
            ),
        };
        let started = build_started(&t, &message);
        tracing::info!(
            r#type = %t.ty,
            project = %t.project,
            stage = %t.stage,
            service = %t.service,
            teststrategy = t.teststrategy.as_deref().unwrap_or("default"),
            "test accepted"
        );
        // Sent while the test runs (its retries may last minutes); .finished waits for it, so the
        // answers keep their order.
        let started_sent = {
            let (responder, closing) = (responder.clone(), self.inner.closing.clone());
            let lost = self.inner.metrics.answers_lost.clone();
            tokio::spawn(
                async move {
                    if let Err(e) = responder.send(&started, &closing).await {
                        lost.inc();
                        tracing::error!(error = %e, "the .started answer was not delivered");
                    }
                }
                .in_current_span(),
            )
        };
        let received = SystemTime::now();
        let result = match t.data_error {
            Some(_) => guarded(execute(&t, &self.inner.ctx), received).await,
            None => {
                // Tests still waiting for a slot when shutdown begins do not start.
                let permit = tokio::select! {
                    biased;
                    _ = self.inner.closing.cancelled() => None,
                    p = self.inner.slots.clone().acquire_owned() => p.ok(),
                }
                .filter(|_| !self.is_closing());
                match permit {
                    None => super::job::JobResult {
                        finished: Finished::errored(
                            "service shutting down before the test started",
                            received,
                        ),
                        summary: None,
                        summary_text: None,
                    },
                    Some(_permit) => {
                        self.set_state(&t.id, JobState::Running);
                        let _running = RunningMark::new(self.clone(), &t.id);
                        let (me, id) = (self.clone(), t.id.clone());
                        let on_start: crate::run::OnStart = Box::new(move |shared, _plan| {
                            me.book().live.insert(id, shared);
                        });
                        let job = super::job::execute_watched(&t, &self.inner.ctx, Some(on_start));
                        guarded(job, received).await
                    }
                }
            }
        };
        let f = &result.finished;
        let event = build_finished(&t, f);
        // A tool error is the operator's business: logged as a warning with its cause.
        if f.status == "errored" {
            tracing::warn!(status = %f.status, result = %f.result, detail = %f.message, "test finished");
        } else {
            tracing::info!(status = %f.status, result = %f.result, detail = %f.message, "test finished");
        }
        self.inner
            .metrics
            .tests_finished
            .with_label_values(&[f.status.as_str(), f.result.as_str()])
            .inc();
        self.record(&t.id, &result, &event);
        let _ = started_sent.await;
        if let Err(e) = responder.send(&event, &self.inner.closing).await {
            self.inner.metrics.answers_lost.inc();
            tracing::error!(error = %e, "the .finished answer was not delivered");
        }
    }

    fn set_state(&self, id: &str, state: JobState) {
        if let Some(j) = self.book().jobs.get_mut(id) {
            j.view.state = state;
        }
    }

    fn record(&self, id: &str, r: &super::job::JobResult, event: &Value) {
        let f = &r.finished;
        // A finished scale-out test keeps its role in its entry.
        let role = self
            .inner
            .ctx
            .roles
            .lock()
            .ok()
            .and_then(|mut r| r.remove(id));
        let mut book = self.book();
        if let Some(j) = book.jobs.get_mut(id) {
            j.view.role = j.view.role.or(role);
            j.view.state = JobState::Finished;
            j.view.status = Some(f.status.clone());
            j.view.result = Some(f.result.clone());
            j.view.message = Some(f.message.clone());
            j.view.start = Some(rfc3339_ms(f.start));
            j.view.end = Some(rfc3339_ms(f.end));
            j.summary = r.summary.clone();
            j.summary_text = r.summary_text.clone();
            j.finished_event = Some(event.clone());
        }
        book.finished_order.push_back(id.to_string());
        if book.finished_order.len() > KEPT_FINISHED
            && let Some(old) = book.finished_order.pop_front()
        {
            book.jobs.remove(&old);
        }
    }

    /// Slots free for tests and scale-out segments.
    pub fn free_slots(&self) -> usize {
        if self.is_closing() {
            0
        } else {
            self.inner.slots.available_permits()
        }
    }

    /// A slot for a scale-out segment, if one is free now (runners never queue).
    pub fn try_slot(&self) -> Option<OwnedSemaphorePermit> {
        if self.is_closing() {
            return None;
        }
        self.inner.slots.clone().try_acquire_owned().ok()
    }

    /// True when this replica has run or runs anything of test `id` (a segment is never run
    /// twice on one replica).
    pub fn knows(&self, id: &str) -> bool {
        let book = self.book();
        book.seen.contains(id) || book.jobs.contains_key(id)
    }

    /// What the job's context holds (for scale-out runners).
    pub fn context(&self) -> &JobContext {
        &self.inner.ctx
    }

    /// Lists a scale-out segment this replica runs and lets shutdown wait for it.
    pub fn track_segment(&self, view: JobView, handle: JoinHandle<()>) {
        let mut book = self.book();
        book.seen.insert(view.id.clone());
        book.seen_order.push_back(view.id.clone());
        book.jobs.insert(
            view.id.clone(),
            JobDetail {
                view,
                summary: None,
                summary_text: None,
                finished_event: None,
                progress: None,
            },
        );
        book.handles.retain(|h| !h.is_finished());
        book.handles.push(handle);
    }

    /// Marks a segment finished (`status` as in `.finished`).
    pub fn finish_segment(&self, id: &str, status: &str, message: String) {
        let mut book = self.book();
        if let Some(j) = book.jobs.get_mut(id) {
            j.view.state = JobState::Finished;
            j.view.status = Some(status.to_string());
            j.view.message = Some(message);
            j.view.end = Some(rfc3339_ms(SystemTime::now()));
        }
        book.finished_order.push_back(id.to_string());
        if book.finished_order.len() > KEPT_FINISHED
            && let Some(old) = book.finished_order.pop_front()
        {
            book.jobs.remove(&old);
        }
    }

    fn with_role(&self, mut v: JobView) -> JobView {
        if v.role.is_none()
            && let Ok(r) = self.inner.ctx.roles.lock()
        {
            v.role = r.get(&v.id).copied();
        }
        v
    }

    /// Every known job, newest first.
    pub fn list(&self) -> Vec<JobView> {
        let views: Vec<JobView> = self.book().jobs.values().map(|j| j.view.clone()).collect();
        let mut v: Vec<JobView> = views.into_iter().map(|j| self.with_role(j)).collect();
        v.sort_by(|a, b| b.received.cmp(&a.received));
        v
    }

    /// One job with its summary (a running one with its live counters).
    pub fn get(&self, id: &str) -> Option<JobDetail> {
        let book = self.book();
        let mut d = book.jobs.get(id).cloned()?;
        if let Some(shared) = book.live.get(id) {
            let e = &shared.execution;
            if let Some(start) = e.start_time() {
                d.view.start = Some(rfc3339_ms(start));
            }
            d.progress = Some(serde_json::json!({
                "elapsed_seconds": e.current_test_run_duration().as_secs_f64(),
                "vus": e.vus_active(),
                "vus_max": e.vus_initialized(),
                "iterations_completed": e.iterations_completed(),
                "iterations_interrupted": e.iterations_interrupted(),
                "dropped_iterations": e.dropped_iterations(),
            }));
        }
        drop(book);
        d.view = self.with_role(d.view);
        Some(d)
    }

    /// Jobs not finished yet.
    pub fn active(&self) -> usize {
        self.book()
            .handles
            .iter()
            .filter(|h| !h.is_finished())
            .count()
    }

    /// Stops taking events, waits up to `grace` for running tests, then aborts the rest and
    /// waits (bounded) until every `.finished` has been sent.
    pub async fn shutdown(&self, grace: Duration) {
        self.inner.closing.cancel();
        let handles = std::mem::take(&mut self.book().handles);
        let all = futures_util::future::join_all(handles);
        tokio::pin!(all);
        if tokio::time::timeout(grace, &mut all).await.is_ok() {
            return;
        }
        tracing::warn!(grace = ?grace, "grace period over, aborting running tests");
        self.inner.ctx.abort_all.cancel();
        if tokio::time::timeout(Duration::from_secs(180), &mut all)
            .await
            .is_err()
        {
            tracing::error!("jobs did not finish after the abort; exiting anyway");
        }
    }
}
