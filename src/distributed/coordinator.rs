//! The coordinator of one scale-out test: the replica that took the `test.triggered`. It runs
//! segment 0 itself and, as the test's [`Controller`], finds `parallelism − 1` runners
//! ([`super::provision`]), hands each a segment, waits until all are initialised, runs `setup()`
//! and sends its data with the start signal (measuring the start skew), merges the runners'
//! deltas into its engine (through the run's `MetricsLink::Merge`), publishes a heartbeat that
//! carries an abort to every runner, watches for lost runners, and waits for every runner's last
//! delta before `teardown()`. A lost, failed or leaving runner stops the test and is named in
//! the [`CoordinatorReport`].

use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use futures_util::future::BoxFuture;
use tokio::sync::{Notify, mpsc};
use tokio_util::sync::CancellationToken;

use super::protocol::{
    self, FromRunner, Heartbeat, Prepare, Reply, RunnerEvent, ToRunner, coordinator_subject,
    heartbeat_subject, runner_subject,
};
use super::provision::{Provisioner, RunnerSpec};
use super::{ScaleOut, Segments};
use crate::engine::controller::{Barrier, Controller, Once};
use crate::engine::options::plan::TestPlan;
use crate::engine::state::{AbortReason, ExecutionState, TestAbort};
use crate::engine::{RunError, SetupData};
use crate::metrics::delta::MetricsDelta;

/// What the coordinator needs besides the run's own config.
pub struct TestSpec {
    /// The triggered event id.
    pub test: String,
    pub parallelism: usize,
    /// Everything of the assignment but the per-runner fields.
    pub template: Prepare,
}

/// One runner of the test.
#[derive(Debug)]
struct Slot {
    spec: RunnerSpec,
    index: usize,
    epoch: String,
    ready: bool,
    done: bool,
    last_seen: Instant,
    last_seq: u64,
    vus: u64,
    vus_max: u64,
    go_received_ns: Option<u64>,
}

impl Slot {
    fn name(&self, parallelism: usize) -> String {
        format!(
            "runner {}/{} ({} on {})",
            self.index,
            parallelism - 1,
            self.spec.replica,
            self.spec.host
        )
    }
}

#[derive(Debug, Default)]
struct State {
    slots: Vec<Slot>,
    assigned: bool,
    /// Why the test cannot go on (assignment, lost runner, failure); the first one counts.
    failure: Option<String>,
    abort_broadcast: Option<String>,
    skew: Option<Duration>,
}

/// The scale-out facts `.finished` reports.
#[derive(Clone, Debug, Default)]
pub struct CoordinatorReport {
    /// Runners that took part (besides the coordinator).
    pub runners: usize,
    /// Spread of the start times of all instances.
    pub start_skew: Option<Duration>,
    /// Why the test failed as a distributed test (names the runner).
    pub failure: Option<String>,
}

struct Inner {
    scale: ScaleOut,
    provisioner: Arc<dyn Provisioner>,
    spec: TestSpec,
    token: String,
    state: Mutex<State>,
    changed: Notify,
    merge_tx: mpsc::UnboundedSender<MetricsDelta>,
    abort: OnceLock<TestAbort>,
    exec: OnceLock<Arc<ExecutionState>>,
    stop: CancellationToken,
}

/// See the module docs. Cheap to clone.
#[derive(Clone)]
pub struct Coordinator {
    inner: Arc<Inner>,
}

impl Coordinator {
    /// A coordinator; the receiver goes into the run's `MetricsLink::Merge`.
    pub fn new(
        scale: ScaleOut,
        provisioner: Arc<dyn Provisioner>,
        spec: TestSpec,
    ) -> (Self, mpsc::UnboundedReceiver<MetricsDelta>) {
        let (merge_tx, rx) = mpsc::unbounded_channel();
        let token = protocol::token(&spec.test);
        let c = Coordinator {
            inner: Arc::new(Inner {
                scale,
                provisioner,
                spec,
                token,
                state: Mutex::new(State::default()),
                changed: Notify::new(),
                merge_tx,
                abort: OnceLock::new(),
                exec: OnceLock::new(),
                stop: CancellationToken::new(),
            }),
        };
        (c, rx)
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.inner.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Records why the test fails (the first reason wins) and stops it everywhere.
    fn fail(&self, why: String) {
        tracing::error!("{why}");
        {
            let mut s = self.state();
            if s.failure.is_none() {
                s.failure = Some(why);
            }
        }
        if let Some(a) = self.inner.abort.get() {
            a.abort(AbortReason::Signal);
        }
        self.inner.changed.notify_waiters();
    }

    /// The facts for `.finished`; stops the background tasks.
    pub fn finish(&self) -> CoordinatorReport {
        self.inner.stop.cancel();
        let s = self.state();
        CoordinatorReport {
            runners: s.slots.len(),
            start_skew: s.skew,
            failure: s.failure.clone(),
        }
    }

    fn update_remote_vus(&self, s: &State) {
        if let Some(e) = self.inner.exec.get() {
            let vus = s.slots.iter().map(|x| x.vus).sum();
            let max = s.slots.iter().map(|x| x.vus_max).sum();
            e.set_remote_vus(vus, max);
        }
    }

    /// Handles one message from a runner.
    fn on_runner(&self, m: FromRunner) -> Reply {
        let parallelism = self.inner.spec.parallelism;
        let mut s = self.state();
        let Some(i) = s
            .slots
            .iter()
            .position(|x| x.spec.replica == m.replica && x.epoch == m.epoch)
        else {
            return Reply::refuse("fenced: not a runner of this test");
        };
        s.slots[i].last_seen = Instant::now();
        let mut failure = None;
        let mut abort = None;
        match m.event {
            RunnerEvent::Ready { init_ms } => {
                tracing::info!(runner = %s.slots[i].name(parallelism), init_ms, "runner ready");
                s.slots[i].ready = true;
            }
            RunnerEvent::Delta {
                seq,
                vus,
                vus_max,
                delta,
            } => {
                let slot = &mut s.slots[i];
                if seq <= slot.last_seq {
                    // A retry whose answer was lost: merged already.
                    return Reply::ok();
                }
                if seq != slot.last_seq + 1 {
                    tracing::error!(seq, last = slot.last_seq, "a runner skipped deltas");
                }
                slot.last_seq = seq;
                slot.vus = vus;
                slot.vus_max = vus_max;
                if !delta.is_empty() {
                    let _ = self.inner.merge_tx.send(delta);
                }
                self.update_remote_vus(&s);
            }
            RunnerEvent::Done { last_seq } => {
                let slot = &mut s.slots[i];
                if last_seq != slot.last_seq {
                    return Reply::refuse(format!(
                        "done at delta {last_seq} but {} were merged",
                        slot.last_seq
                    ));
                }
                slot.done = true;
                slot.vus = 0;
                self.update_remote_vus(&s);
            }
            RunnerEvent::Failed { error } => {
                s.slots[i].done = true;
                failure = Some(format!("{} failed: {error}", s.slots[i].name(parallelism)));
            }
            RunnerEvent::AbortRequest { reason } => {
                tracing::info!(runner = %s.slots[i].name(parallelism), %reason, "a runner's script aborted the test");
                abort = Some(reason);
            }
            RunnerEvent::Leaving { reason } => {
                s.slots[i].done = true;
                failure = Some(format!(
                    "{} is leaving ({reason}); the test cannot complete",
                    s.slots[i].name(parallelism)
                ));
            }
        }
        drop(s);
        if let Some(f) = failure {
            self.fail(f);
        }
        if let (Some(reason), Some(a)) = (abort, self.inner.abort.get()) {
            a.abort(AbortReason::Script(reason));
        }
        self.inner.changed.notify_waiters();
        Reply::ok()
    }

    /// Waits until `done` says so, re-checking whenever the state changes.
    async fn wait_for(&self, done: impl Fn(&State) -> bool) {
        loop {
            let notified = self.inner.changed.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if done(&self.state()) || self.inner.stop.is_cancelled() {
                return;
            }
            tokio::select! {
                _ = notified => {}
                _ = tokio::time::sleep(Duration::from_millis(500)) => {}
            }
        }
    }

    async fn listen(self, mut sub: async_nats::Subscriber) {
        let client = self.inner.scale.client.clone();
        loop {
            let msg = tokio::select! {
                m = sub.next() => match m { Some(m) => m, None => break },
                _ = self.inner.stop.cancelled() => break,
            };
            let reply = match protocol::decode::<FromRunner>(&msg.payload) {
                Ok(m) => self.on_runner(m),
                Err(e) => Reply::refuse(e.to_string()),
            };
            protocol::answer(&client, &msg, &reply).await;
        }
        let _ = sub.unsubscribe().await;
    }

    async fn assign(self) {
        let inner = &self.inner;
        let wanted = inner.spec.parallelism - 1;
        let found = inner
            .provisioner
            .acquire(&inner.spec.test, wanted, inner.scale.runner_wait)
            .await;
        let parallelism = inner.spec.parallelism;
        let mut slots = Vec::new();
        for (k, spec) in found.runners.into_iter().enumerate() {
            let index = k + 1;
            let epoch = uuid::Uuid::new_v4().simple().to_string();
            let mut p = inner.spec.template.clone();
            p.epoch = epoch.clone();
            p.index = index;
            let seg = Segments::new(parallelism);
            p.segment = seg.segment(index);
            p.sequence = seg.sequence();
            slots.push((spec, index, epoch, p));
        }
        let mut failure = found.shortfall;
        for (spec, index, epoch, p) in slots {
            if failure.is_some() {
                break;
            }
            // Listed before it is asked: its first message may come before its answer does.
            self.state().slots.push(Slot {
                spec: spec.clone(),
                index,
                epoch: epoch.clone(),
                ready: false,
                done: false,
                last_seen: Instant::now(),
                last_seq: 0,
                vus: 0,
                vus_max: 0,
                go_received_ns: None,
            });
            let subject = protocol::prepare_subject(&spec.replica);
            let refused =
                match protocol::request(&inner.scale.client, subject, &p, Duration::from_secs(10))
                    .await
                {
                    Ok(r) if r.ok => None,
                    Ok(r) => Some(format!(
                        "replica {} on {} refused segment {index}: {}",
                        spec.replica,
                        spec.host,
                        r.reason.unwrap_or_default()
                    )),
                    Err(e) => Some(format!(
                        "replica {} on {} did not take segment {index}: {e}",
                        spec.replica, spec.host
                    )),
                };
            if let Some(why) = refused {
                self.state().slots.retain(|x| x.epoch != epoch);
                failure = Some(why);
            }
        }
        self.state().assigned = true;
        match failure {
            Some(f) => self.fail(f),
            None => {
                tracing::info!(runners = wanted, "every segment handed out");
                self.inner.changed.notify_waiters();
            }
        }
    }

    async fn heartbeat(self) {
        let client = self.inner.scale.client.clone();
        let subject = heartbeat_subject(&self.inner.token);
        let Some(abort) = self.inner.abort.get().cloned() else {
            return;
        };
        let mut tick = tokio::time::interval(Duration::from_secs(1));
        let mut aborted = false;
        loop {
            tokio::select! {
                _ = tick.tick() => {}
                _ = abort.token().cancelled(), if !aborted => {
                    aborted = true;
                    let why = match abort.reason() {
                        Some(AbortReason::Threshold) => "a threshold with abortOnFail failed".to_string(),
                        Some(AbortReason::Script(m)) => format!("the script aborted the test: {m}"),
                        _ => "the test was stopped".to_string(),
                    };
                    self.state().abort_broadcast = Some(why);
                }
                _ = self.inner.stop.cancelled() => break,
            }
            let hb = Heartbeat {
                abort: self.state().abort_broadcast.clone(),
            };
            let _ = client.publish(subject.clone(), protocol::encode(&hb)).await;
        }
    }

    async fn watch_losses(self) {
        let mut tick = tokio::time::interval(Duration::from_secs(1));
        let loss = self.inner.scale.loss_timeout;
        let parallelism = self.inner.spec.parallelism;
        loop {
            tokio::select! {
                _ = tick.tick() => {}
                _ = self.inner.stop.cancelled() => break,
            }
            let connected = matches!(
                self.inner.scale.client.connection_state(),
                async_nats::connection::State::Connected
            );
            let mut lost = None;
            {
                let mut s = self.state();
                for slot in s.slots.iter_mut().filter(|x| !x.done) {
                    if !connected {
                        // Our own connection is down: nobody can be judged lost.
                        slot.last_seen = Instant::now();
                    } else if slot.last_seen.elapsed() > loss && lost.is_none() {
                        slot.done = true;
                        lost = Some(format!(
                            "{} lost: no message for {}s",
                            slot.name(parallelism),
                            loss.as_secs()
                        ));
                    }
                }
            }
            if let Some(l) = lost {
                self.fail(l);
            }
        }
    }

    async fn send_go(&self, data: &SetupData) {
        let targets: Vec<(String, String)> = self
            .state()
            .slots
            .iter()
            .map(|s| (s.spec.replica.clone(), s.epoch.clone()))
            .collect();
        let client = self.inner.scale.client.clone();
        let go = ToRunner::Go {
            setup_data: data.clone(),
        };
        let sends = targets.into_iter().map(|(replica, _)| {
            let (client, go, me) = (client.clone(), go.clone(), self.clone());
            async move {
                let subject = runner_subject(&me.inner.token, &replica);
                loop {
                    if me.state().failure.is_some() || me.inner.stop.is_cancelled() {
                        return;
                    }
                    match protocol::request(&client, subject.clone(), &go, Duration::from_secs(2))
                        .await
                    {
                        Ok(r) if r.ok => {
                            let mut s = me.state();
                            if let Some(slot) = s.slots.iter_mut().find(|x| x.spec.replica == replica) {
                                slot.go_received_ns = Some(r.received_ns);
                            }
                            return;
                        }
                        Ok(r) => {
                            me.fail(format!(
                                "runner {replica} refused to start: {}",
                                r.reason.unwrap_or_default()
                            ));
                            return;
                        }
                        Err(e) => tracing::warn!(%replica, error = %e, "start signal not answered, retrying"),
                    }
                }
            }
        });
        futures_util::future::join_all(sends).await;
        let mine = protocol::now_ns();
        let mut s = self.state();
        let mut times: Vec<u64> = s.slots.iter().filter_map(|x| x.go_received_ns).collect();
        times.push(mine);
        if let (Some(lo), Some(hi)) = (times.iter().min(), times.iter().max()) {
            s.skew = Some(Duration::from_nanos(hi - lo));
        }
    }
}

impl Controller for Coordinator {
    fn prepare(
        &self,
        plan: &TestPlan,
        state: Arc<ExecutionState>,
        abort: TestAbort,
    ) -> Result<(), String> {
        let n = self.inner.spec.parallelism;
        let mut whole = plan.options.clone();
        whole.execution_segment = None;
        whole.execution_segment_sequence = None;
        let vus = TestPlan::new(whole)
            .map_err(|e| format!("the test cannot be split into segments: {e}"))?
            .vus_max();
        if n as u64 > vus {
            return Err(format!(
                "parallelism {n} is larger than the test's {vus} VUs: every instance needs at least one VU"
            ));
        }
        let _ = self.inner.abort.set(abort);
        let _ = self.inner.exec.set(state);
        let me = self.clone();
        tokio::spawn(async move {
            let subject = coordinator_subject(&me.inner.token);
            match me.inner.scale.client.subscribe(subject).await {
                Ok(sub) => {
                    let _ = me.inner.scale.client.flush().await;
                    tokio::spawn(me.clone().listen(sub));
                    tokio::spawn(me.clone().heartbeat());
                    tokio::spawn(me.clone().watch_losses());
                    me.assign().await;
                }
                Err(e) => me.fail(format!("cannot subscribe for the runners' messages: {e}")),
            }
        });
        Ok(())
    }

    fn signal_and_wait(&self, at: Barrier) -> BoxFuture<'_, Result<(), RunError>> {
        Box::pin(async move {
            match at {
                Barrier::VusInitialized => {
                    let t0 = Instant::now();
                    // Finding runners takes up to runner_wait; their VUs get as long again.
                    let bound = self.inner.scale.runner_wait * 2 + Duration::from_secs(10);
                    let ready = self.wait_for(|s| {
                        s.failure.is_some() || (s.assigned && s.slots.iter().all(|x| x.ready))
                    });
                    if tokio::time::timeout(bound, ready).await.is_err() {
                        let parallelism = self.inner.spec.parallelism;
                        let late: Vec<String> = self
                            .state()
                            .slots
                            .iter()
                            .filter(|x| !x.ready)
                            .map(|x| x.name(parallelism))
                            .collect();
                        self.fail(format!(
                            "not ready within {}s: {}",
                            bound.as_secs(),
                            late.join(", ")
                        ));
                    }
                    tracing::info!(
                        waited_ms = t0.elapsed().as_millis() as u64,
                        "every runner ready"
                    );
                }
                Barrier::TestDone => {
                    self.wait_for(|s| s.assigned && s.slots.iter().all(|x| x.done))
                        .await;
                }
            }
            Ok(())
        })
    }

    fn run_once(
        &self,
        what: Once,
        work: BoxFuture<'static, Result<SetupData, RunError>>,
    ) -> BoxFuture<'_, Result<SetupData, RunError>> {
        Box::pin(async move {
            let data = work.await?;
            if what == Once::Setup && self.state().failure.is_none() {
                self.send_go(&data).await;
            }
            Ok(data)
        })
    }
}
