//! One VU's mutable state, shared by its host functions (all on the VU's coroutine, so `Rc` and
//! `Cell`): ids, the running iteration and scenario, the current group and tags, and the buffer of
//! samples that is flushed to the metrics channel at every suspension and iteration end.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::rc::Rc;
use std::sync::Arc;
use std::time::Instant;

use tokio_util::sync::CancellationToken;

use crate::engine::{ScenarioInfo, VuIds};
use crate::http::{CookieJar, HttpClient};
use crate::metrics::{Metadata, MetricId, Sample, TagSet, builtin};

use super::coroutine::Suspender;
use super::shared::{TestShared, VuSettings};

/// Which part of the script is running; some APIs are allowed only in some phases.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Phase {
    Init,
    Setup,
    Iteration,
    Teardown,
    Summary,
}

/// Which responses count as expected (`http.expectedStatuses`); `None` in [`VuState`] disables
/// `http_req_failed` and the `expected_response` tag.
#[derive(Clone, Debug, PartialEq)]
pub struct ExpectedStatuses {
    pub ranges: Vec<(u16, u16)>,
}

impl ExpectedStatuses {
    /// k6's default: 200-399.
    pub fn default_range() -> Self {
        ExpectedStatuses {
            ranges: vec![(200, 399)],
        }
    }

    /// Whether `status` is expected.
    pub fn matches(&self, status: u16) -> bool {
        self.ranges
            .iter()
            .any(|(lo, hi)| (*lo..=*hi).contains(&status))
    }
}

/// State of one VU.
pub struct VuState {
    pub shared: Arc<TestShared>,
    pub suspender: Suspender,
    pub ids: VuIds,
    pub phase: Cell<Phase>,
    /// Set when the running iteration must stop: host functions throw and the interrupt handler
    /// stops pure-JS loops.
    pub interrupted: Cell<bool>,
    /// The running iteration's interrupt token, checked by the interrupt handler.
    pub interrupt: RefCell<Option<CancellationToken>>,
    /// `exec.test.abort(msg)` was called.
    pub aborted: RefCell<Option<String>>,
    /// `__ITER`: iterations this VU started (-1 before the first).
    pub iter: Cell<i64>,
    pub scenario: RefCell<Option<Arc<ScenarioInfo>>>,
    pub iteration_in_instance: Cell<u64>,
    pub iteration_in_test: Cell<u64>,
    /// `exec.vu.iterationInScenario` per scenario name.
    pub scenario_iterations: RefCell<HashMap<String, u64>>,
    /// Current group path (`::a::b`, empty at the root).
    pub group: RefCell<String>,
    group_stack: RefCell<Vec<(String, Instant)>>,
    /// `exec.vu.tags` set by the script.
    pub vu_tags: RefCell<TagSet>,
    /// `exec.vu.metrics.metadata` set by the script (change it with [`VuState::set_metadata`]).
    pub vu_metadata: RefCell<std::collections::BTreeMap<String, String>>,
    /// `vu_metadata` as every sample carries it; `None` when empty.
    sample_metadata: RefCell<Option<Arc<Metadata>>>,
    tags: RefCell<Option<Arc<TagSet>>>,
    samples: RefCell<Vec<Sample>>,
    pub response_callback: RefCell<Option<ExpectedStatuses>>,
    pub settings: RefCell<Arc<VuSettings>>,
    pub bytes_sent: Cell<u64>,
    pub bytes_received: Cell<u64>,
    /// The VU's HTTP client (shared with its driver): `http.asyncRequest` runs requests on it
    /// from tasks of the worker's runtime.
    pub http: Rc<HttpClient>,
    /// The VU's cookie jar (owned by its HTTP client, shared with `http.cookieJar()`).
    pub jar: Rc<CookieJar>,
    /// Jars made with `new http.CookieJar()`; id n is index n-1 (0 is the VU's jar).
    pub custom_jars: RefCell<Vec<Rc<CookieJar>>>,
    /// Protocol events (WebSockets, gRPC) waiting for the VU's event loop.
    pub io: Rc<super::io::IoHub>,
}

impl VuState {
    pub fn new(
        shared: Arc<TestShared>,
        suspender: Suspender,
        ids: VuIds,
        http: Rc<HttpClient>,
    ) -> Self {
        let settings = shared.settings();
        let jar = http.jar().clone();
        VuState {
            shared,
            suspender,
            ids,
            phase: Cell::new(Phase::Init),
            interrupted: Cell::new(false),
            interrupt: RefCell::new(None),
            aborted: RefCell::new(None),
            iter: Cell::new(-1),
            scenario: RefCell::new(None),
            iteration_in_instance: Cell::new(0),
            iteration_in_test: Cell::new(0),
            scenario_iterations: RefCell::new(HashMap::new()),
            group: RefCell::new(String::new()),
            group_stack: RefCell::new(Vec::new()),
            vu_tags: RefCell::new(TagSet::new()),
            vu_metadata: RefCell::new(std::collections::BTreeMap::new()),
            sample_metadata: RefCell::new(None),
            tags: RefCell::new(None),
            samples: RefCell::new(Vec::new()),
            response_callback: RefCell::new(Some(ExpectedStatuses::default_range())),
            settings: RefCell::new(settings),
            bytes_sent: Cell::new(0),
            bytes_received: Cell::new(0),
            http,
            jar,
            custom_jars: RefCell::new(Vec::new()),
            io: Rc::default(),
        }
    }

    /// The jar with script-visible id `id` (0: the VU's own).
    pub fn jar_by_id(&self, id: u32) -> Option<Rc<CookieJar>> {
        if id == 0 {
            return Some(self.jar.clone());
        }
        self.custom_jars.borrow().get(id as usize - 1).cloned()
    }

    /// Whether the interrupt handler should stop the JS now.
    pub fn should_interrupt(&self) -> bool {
        if self.interrupted.get() {
            return true;
        }
        let cancelled = self
            .interrupt
            .borrow()
            .as_ref()
            .is_some_and(CancellationToken::is_cancelled);
        if cancelled {
            self.interrupted.set(true);
        }
        cancelled
    }

    /// The tags every sample of the current context carries: test tags, scenario tags, VU tags
    /// and the group. Cached until one of them changes.
    pub fn tags(&self) -> Arc<TagSet> {
        if let Some(t) = self.tags.borrow().as_ref() {
            return t.clone();
        }
        let settings = self.settings.borrow().clone();
        let mut set = settings.test_tags.clone();
        if let Some(s) = self.scenario.borrow().as_ref() {
            set.extend_from(&s.tags);
        }
        set.extend_from(&self.vu_tags.borrow());
        let group = self.group.borrow();
        if !group.is_empty() && settings.network.system_tags.has("group") {
            set.insert("group", group.as_str());
        }
        let arc = Arc::new(set);
        *self.tags.borrow_mut() = Some(arc.clone());
        arc
    }

    /// Forgets the cached tags after the group, scenario or VU tags changed.
    pub fn invalidate_tags(&self) {
        *self.tags.borrow_mut() = None;
    }

    /// Buffers a sample, with the VU's metadata (as k6 attaches it to every sample of the VU).
    pub fn emit(&self, metric: MetricId, value: f64, tags: Arc<TagSet>) {
        let mut sample = Sample::now(metric, tags, value);
        sample.metadata = self.sample_metadata.borrow().clone();
        self.samples.borrow_mut().push(sample);
    }

    /// Sets (`Some`) or deletes (`None`) an `exec.vu.metrics.metadata` entry.
    pub fn set_metadata(&self, key: String, value: Option<String>) {
        let mut map = self.vu_metadata.borrow_mut();
        match value {
            Some(v) => map.insert(key, v),
            None => map.remove(&key),
        };
        let shared = (!map.is_empty()).then(|| {
            Arc::new(
                map.iter()
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect::<Metadata>(),
            )
        });
        *self.sample_metadata.borrow_mut() = shared;
    }

    /// Hands buffered samples to the worker's buffer (see [`super::samples`]).
    pub fn flush(&self) {
        super::samples::queue(&self.shared.samples, &mut self.samples.borrow_mut());
    }

    /// Emits `data_sent`/`data_received` for what was transferred since the last call.
    pub fn emit_data(&self, tags: &Arc<TagSet>) {
        let sent = self.bytes_sent.replace(0);
        let received = self.bytes_received.replace(0);
        // k6 emits both after every iteration, zero included.
        self.emit(builtin::DATA_SENT, sent as f64, tags.clone());
        self.emit(builtin::DATA_RECEIVED, received as f64, tags.clone());
    }

    /// Enters group `name`; returns an error text if the name is invalid.
    pub fn enter_group(&self, name: &str) -> Result<(), String> {
        if name.contains("::") {
            return Err(format!(
                "group and check names may not contain '::': {name}"
            ));
        }
        let prev = self.group.borrow().clone();
        let path = format!("{prev}::{name}");
        self.group_stack.borrow_mut().push((prev, Instant::now()));
        *self.group.borrow_mut() = path;
        self.invalidate_tags();
        Ok(())
    }

    /// Leaves the innermost group and emits its `group_duration`.
    pub fn exit_group(&self) {
        let Some((prev, started)) = self.group_stack.borrow_mut().pop() else {
            return;
        };
        let tags = self.tags();
        self.emit(
            builtin::GROUP_DURATION,
            started.elapsed().as_secs_f64() * 1000.0,
            tags,
        );
        *self.group.borrow_mut() = prev;
        self.invalidate_tags();
    }

    /// Resets the group to `base` (the root, or `::setup`/`::teardown`).
    pub fn reset_group(&self, base: &str) {
        self.group_stack.borrow_mut().clear();
        // Every iteration starts here: keep the cached tags when the group does not change.
        if *self.group.borrow() != base {
            *self.group.borrow_mut() = base.to_string();
            self.invalidate_tags();
        }
    }
}
