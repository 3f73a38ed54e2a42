//! One runner of a scale-out test: the replica that took a segment. As the run's
//! [`Controller`] it reports ready once its VUs are initialised, waits for the coordinator's
//! start signal and takes `setup()`'s data from it (it never runs setup or teardown itself);
//! [`RunnerLink::ship`] sends the run's metric deltas (every ~2 s and a last one) as numbered
//! requests retried until answered, then reports done. The coordinator's heartbeat carries an
//! abort to this runner; without a heartbeat for the dead-man bound the runner aborts itself.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use futures_util::future::BoxFuture;
use tokio::sync::{Notify, mpsc};
use tokio_util::sync::CancellationToken;

use super::protocol::{
    self, FromRunner, Heartbeat, Reply, RunnerEvent, ToRunner, coordinator_subject,
    heartbeat_subject, runner_subject,
};
use crate::engine::controller::{Barrier, Controller, Once};
use crate::engine::options::plan::TestPlan;
use crate::engine::state::{AbortReason, ExecutionState, TestAbort};
use crate::engine::{RunError, SetupData};
use crate::metrics::delta::MetricsDelta;

/// How long one request waits for its answer before it is sent again.
const REQUEST_WAIT: Duration = Duration::from_secs(2);

#[derive(Default)]
struct State {
    /// The start signal with setup's data, once received.
    go: Option<SetupData>,
    last_heartbeat: Option<Instant>,
    /// Why the coordinator (or its silence) stopped this runner.
    stopped_by_coordinator: Option<String>,
}

struct Inner {
    client: async_nats::Client,
    token: String,
    replica: String,
    epoch: String,
    dead_man: Duration,
    /// When the assignment was taken (the ready report says how long init took).
    taken: Instant,
    state: Mutex<State>,
    changed: Notify,
    abort: OnceLock<TestAbort>,
    exec: OnceLock<Arc<ExecutionState>>,
    /// Set when this runner sent its own abort request (the script's `exec.test.abort()`).
    reported_abort: AtomicBool,
    stop: CancellationToken,
}

/// See the module docs. Cheap to clone.
#[derive(Clone)]
pub struct RunnerLink {
    inner: Arc<Inner>,
}

impl RunnerLink {
    /// Subscribes to the coordinator's start signal and heartbeat for `test` (before the
    /// assignment is accepted, so the start signal always finds this runner listening).
    pub async fn listen(
        client: async_nats::Client,
        test: &str,
        replica: &str,
        epoch: &str,
        dead_man: Duration,
    ) -> Result<Self, String> {
        let token = protocol::token(test);
        let ctl = client
            .subscribe(runner_subject(&token, replica))
            .await
            .map_err(|e| format!("cannot subscribe for the coordinator's messages: {e}"))?;
        let hb = client
            .subscribe(heartbeat_subject(&token))
            .await
            .map_err(|e| format!("cannot subscribe to the coordinator's heartbeat: {e}"))?;
        let _ = tokio::time::timeout(Duration::from_secs(5), client.flush()).await;
        let link = RunnerLink {
            inner: Arc::new(Inner {
                client,
                token,
                replica: replica.to_string(),
                epoch: epoch.to_string(),
                dead_man,
                taken: Instant::now(),
                state: Mutex::new(State {
                    last_heartbeat: Some(Instant::now()),
                    ..State::default()
                }),
                changed: Notify::new(),
                abort: OnceLock::new(),
                exec: OnceLock::new(),
                reported_abort: AtomicBool::new(false),
                stop: CancellationToken::new(),
            }),
        };
        tokio::spawn(link.clone().control(ctl));
        tokio::spawn(link.clone().heartbeats(hb));
        tokio::spawn(link.clone().dead_man());
        Ok(link)
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.inner.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Why the coordinator stopped this runner, if it did.
    pub fn stopped_by_coordinator(&self) -> Option<String> {
        self.state().stopped_by_coordinator.clone()
    }

    /// Stops the background tasks (the segment is over).
    pub fn close(&self) {
        self.inner.stop.cancel();
        self.inner.changed.notify_waiters();
    }

    /// Stops this runner's test because of the coordinator (the first reason wins).
    fn stop_test(&self, why: String) {
        {
            let mut s = self.state();
            if s.stopped_by_coordinator.is_none() {
                tracing::warn!("{why}");
                s.stopped_by_coordinator = Some(why);
            }
        }
        if let Some(a) = self.inner.abort.get() {
            a.abort(AbortReason::Signal);
        }
        self.inner.changed.notify_waiters();
    }

    async fn control(self, mut sub: async_nats::Subscriber) {
        loop {
            let msg = tokio::select! {
                m = sub.next() => match m { Some(m) => m, None => break },
                _ = self.inner.stop.cancelled() => break,
            };
            let reply = match protocol::decode::<ToRunner>(&msg.payload) {
                Ok(ToRunner::Go { setup_data }) => {
                    let mut s = self.state();
                    if s.go.is_none() {
                        s.go = Some(setup_data);
                    }
                    s.last_heartbeat = Some(Instant::now());
                    drop(s);
                    self.inner.changed.notify_waiters();
                    Reply::ok()
                }
                Err(e) => Reply::refuse(e.to_string()),
            };
            protocol::answer(&self.inner.client, &msg, &reply).await;
        }
        let _ = sub.unsubscribe().await;
    }

    async fn heartbeats(self, mut sub: async_nats::Subscriber) {
        loop {
            let msg = tokio::select! {
                m = sub.next() => match m { Some(m) => m, None => break },
                _ = self.inner.stop.cancelled() => break,
            };
            let Ok(hb) = protocol::decode::<Heartbeat>(&msg.payload) else {
                continue;
            };
            self.state().last_heartbeat = Some(Instant::now());
            if let Some(why) = hb.abort
                && !self.inner.reported_abort.load(Ordering::SeqCst)
            {
                self.stop_test(format!("the coordinator stopped the test: {why}"));
            }
        }
        let _ = sub.unsubscribe().await;
    }

    async fn dead_man(self) {
        let mut tick = tokio::time::interval(Duration::from_millis(500));
        loop {
            tokio::select! {
                _ = tick.tick() => {}
                _ = self.inner.stop.cancelled() => return,
            }
            let silent = self
                .state()
                .last_heartbeat
                .map(|t| t.elapsed())
                .unwrap_or_default();
            if silent > self.inner.dead_man {
                self.stop_test(format!(
                    "the coordinator was silent for {}s; the segment is aborted",
                    self.inner.dead_man.as_secs()
                ));
                return;
            }
        }
    }

    /// Sends `event` until the coordinator answers (or the segment is given up: the dead man
    /// fired and a bound of retries passed).
    async fn send(&self, event: RunnerEvent) -> Result<Reply, String> {
        let m = FromRunner {
            replica: self.inner.replica.clone(),
            epoch: self.inner.epoch.clone(),
            event,
        };
        let subject = coordinator_subject(&self.inner.token);
        let started = Instant::now();
        loop {
            match protocol::request(&self.inner.client, subject.clone(), &m, REQUEST_WAIT).await {
                Ok(r) => return Ok(r),
                Err(e) => {
                    let given_up = self.state().stopped_by_coordinator.is_some()
                        && started.elapsed() > REQUEST_WAIT * 3;
                    if given_up || started.elapsed() > self.inner.dead_man * 2 {
                        return Err(format!("the coordinator did not answer: {e}"));
                    }
                    tracing::debug!(error = %e, "a message to the coordinator was not answered, retrying");
                    tokio::time::sleep(Duration::from_millis(300)).await;
                }
            }
        }
    }

    /// Tells the coordinator something that needs no answer beyond delivery.
    pub async fn report(&self, event: RunnerEvent) {
        if let Err(e) = self.send(event).await {
            tracing::warn!("{e}");
        }
    }

    /// Ships every delta of `rx` as a numbered request, then reports done; returns the number of
    /// deltas shipped. Deltas that wait (the bus is away) are sent in order once it is back; a
    /// retried delta is merged once (the coordinator keeps the last sequence number).
    pub async fn ship(&self, mut rx: mpsc::UnboundedReceiver<MetricsDelta>) -> u64 {
        let mut seq = 0;
        let mut gave_up = false;
        while let Some(mut delta) = rx.recv().await {
            if gave_up {
                continue;
            }
            // Whatever piled up meanwhile goes in the same message.
            while let Ok(more) = rx.try_recv() {
                delta.absorb(more);
            }
            seq += 1;
            let (vus, vus_max) = self
                .inner
                .exec
                .get()
                .map_or((0, 0), |e| (e.vus_active(), e.vus_initialized()));
            let event = RunnerEvent::Delta {
                seq,
                vus,
                vus_max,
                delta,
            };
            match self.send(event).await {
                Ok(r) if r.ok => {}
                Ok(r) => {
                    tracing::error!(
                        reason = r.reason.unwrap_or_default(),
                        "the coordinator refused this runner's metrics; the segment stops"
                    );
                    self.stop_test("the coordinator refused this runner".into());
                    gave_up = true;
                }
                Err(e) => {
                    tracing::error!("{e}; the segment's metrics are lost");
                    self.stop_test(e);
                    gave_up = true;
                }
            }
        }
        if !gave_up {
            self.report(RunnerEvent::Done { last_seq: seq }).await;
        }
        seq
    }

    async fn wait_go(&self) -> Option<SetupData> {
        loop {
            let notified = self.inner.changed.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            {
                let s = self.state();
                if let Some(d) = &s.go {
                    return Some(d.clone());
                }
                if s.stopped_by_coordinator.is_some() || self.inner.stop.is_cancelled() {
                    return None;
                }
            }
            tokio::select! {
                _ = notified => {}
                _ = tokio::time::sleep(Duration::from_millis(500)) => {}
            }
        }
    }
}

impl Controller for RunnerLink {
    fn prepare(
        &self,
        _plan: &TestPlan,
        state: Arc<ExecutionState>,
        abort: TestAbort,
    ) -> Result<(), String> {
        let _ = self.inner.exec.set(state);
        let _ = self.inner.abort.set(abort.clone());
        if self.state().stopped_by_coordinator.is_some() {
            abort.abort(AbortReason::Signal);
        }
        // The script's exec.test.abort() here stops the whole test: ask the coordinator.
        let me = self.clone();
        tokio::spawn(async move {
            tokio::select! {
                _ = abort.token().cancelled() => {}
                _ = me.inner.stop.cancelled() => return,
            }
            if let Some(AbortReason::Script(reason)) = abort.reason() {
                me.inner.reported_abort.store(true, Ordering::SeqCst);
                me.report(RunnerEvent::AbortRequest { reason }).await;
            }
        });
        Ok(())
    }

    fn signal_and_wait(&self, at: Barrier) -> BoxFuture<'_, Result<(), RunError>> {
        Box::pin(async move {
            match at {
                Barrier::VusInitialized => {
                    let init_ms = self.inner.taken.elapsed().as_millis() as u64;
                    match self.send(RunnerEvent::Ready { init_ms }).await {
                        Ok(r) if r.ok => {}
                        Ok(r) => self.stop_test(format!(
                            "the coordinator refused this runner: {}",
                            r.reason.unwrap_or_default()
                        )),
                        Err(e) => self.stop_test(e),
                    }
                    if self.wait_go().await.is_none()
                        && let Some(a) = self.inner.abort.get()
                    {
                        a.abort(AbortReason::Signal);
                    }
                }
                // The last delta is shipped after the run; the coordinator waits for it.
                Barrier::TestDone => {}
            }
            Ok(())
        })
    }

    fn run_once(
        &self,
        what: Once,
        _work: BoxFuture<'static, Result<SetupData, RunError>>,
    ) -> BoxFuture<'_, Result<SetupData, RunError>> {
        Box::pin(async move {
            match what {
                // Setup ran on the coordinator; its data came with the start signal.
                Once::Setup => Ok(self.state().go.clone().flatten()),
                Once::Teardown => Ok(None),
            }
        })
    }
}
