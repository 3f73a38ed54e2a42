//! A VU: one QuickJS runtime and context on its own coroutine stack, driven by a local task on a
//! worker thread. [`JsVu`] is the `Send` handle executors hold; [`spawn_vu`] creates one.
//!
//! Life of a VU: the driver resumes the coroutine, which builds the runtime, installs the k6
//! modules, evaluates the script (the init context) and suspends with `Ready`. From then on every
//! command (iteration, setup, teardown, handleSummary) resumes it; host functions suspend it for
//! HTTP and sleep; it suspends with `Done` at the end of each command. On shutdown it returns, which
//! drops the JS runtime on its own stack.

use std::rc::Rc;
use std::sync::Arc;
use std::time::Instant;

use corosensei::stack::{DefaultStack, Stack};
use corosensei::{Coroutine, CoroutineResult, Yielder};
use futures_util::future::BoxFuture;
use rquickjs::context::intrinsic;
use rquickjs::{Context, Ctx, Object, Runtime, Value};
use tokio::sync::{mpsc, oneshot};
use tokio_util::sync::CancellationToken;

use crate::engine::{IterationOutcome, IterationSpec, RunError, SetupData, Vu, VuIds};
use crate::http::{ClientConfig, HttpClient};
use crate::metrics::builtin;

use super::coroutine::{
    Command, InitInfo, Reply, Resume, STACK_HEADROOM, Suspend, Suspender, VU_STACK_SIZE,
    VuCoroutine,
};
use super::lifecycle::{handle_summary, setup, teardown};
use super::loader::{ScriptLoader, ScriptResolver, declare_cached};
use super::log;
use super::modules;
use super::shared::{TestShared, VuSettings};
use super::state::{Phase, VuState};
use super::worker::Workers;

/// Sends commands to a VU.
pub type CommandTx = mpsc::UnboundedSender<(Command, oneshot::Sender<Reply>)>;
type CommandRx = mpsc::UnboundedReceiver<(Command, oneshot::Sender<Reply>)>;

/// The handle of one VU. Dropping it shuts the VU down once it is idle.
pub struct JsVu {
    ids: VuIds,
    tx: CommandTx,
    /// The runtime of the worker this VU lives on.
    runtime: Option<tokio::runtime::Handle>,
}

impl JsVu {
    /// Sends a command and waits for its reply.
    pub async fn call(&self, cmd: Command) -> Result<Reply, RunError> {
        Self::call_on(&self.tx, cmd).await
    }

    /// A clone of the command channel, for futures that must not borrow the VU.
    pub fn sender(&self) -> CommandTx {
        self.tx.clone()
    }

    /// Sends a command on `tx` and waits for its reply.
    pub async fn call_on(tx: &CommandTx, cmd: Command) -> Result<Reply, RunError> {
        let (reply_tx, rx) = oneshot::channel();
        tx.send((cmd, reply_tx))
            .map_err(|_| RunError::Internal("the VU has stopped".to_string()))?;
        rx.await
            .map_err(|_| RunError::Internal("the VU stopped without answering".to_string()))
    }
}

impl Vu for JsVu {
    fn ids(&self) -> VuIds {
        self.ids
    }

    fn runtime(&self) -> Option<tokio::runtime::Handle> {
        self.runtime.clone()
    }

    fn run_iteration(&mut self, spec: IterationSpec) -> BoxFuture<'_, IterationOutcome> {
        Box::pin(async move {
            match self.call(Command::Iterate(Box::new(spec))).await {
                Ok(Reply::Iteration(outcome)) => outcome,
                Ok(_) => IterationOutcome::Lost("internal error: unexpected reply".to_string()),
                Err(e) => IterationOutcome::Lost(format!("VU {}: {e}", self.ids.id_in_test)),
            }
        })
    }
}

/// Creates a VU on one of the workers and waits for its init context to finish.
/// `read_options` asks for the exported options as JSON (the options VU, `__VU` = 0).
pub async fn spawn_vu(
    workers: &Workers,
    shared: Arc<TestShared>,
    ids: VuIds,
    read_options: bool,
) -> Result<(JsVu, InitInfo), RunError> {
    let (tx, rx) = mpsc::unbounded_channel();
    let (init_tx, init_rx) = oneshot::channel();
    let spawned = workers.spawn(move || {
        tokio::task::spawn_local(async move {
            let stack = match DefaultStack::new(VU_STACK_SIZE) {
                Ok(s) => s,
                Err(e) => {
                    let _ = init_tx.send(Err(RunError::Internal(format!(
                        "cannot allocate a VU stack: {e} (too many VUs for this process?)"
                    ))));
                    return;
                }
            };
            let settings = shared.settings();
            let http = Rc::new(HttpClient::new(client_config(&settings, ids)));
            let vu_http = http.clone();
            let body_shared = shared.clone();
            let stack_range = (stack.limit().get(), stack.base().get());
            let co: VuCoroutine =
                Coroutine::with_stack(stack, move |y: &Yielder<Resume, Suspend>, _first| {
                    vu_body(y, body_shared, ids, read_options, vu_http, stack_range)
                });
            drive(co, rx, init_tx, http, settings).await;
        });
    });
    let Some(runtime) = spawned else {
        return Err(RunError::Internal(
            "the VU workers have stopped".to_string(),
        ));
    };
    let info = init_rx
        .await
        .map_err(|_| RunError::Internal("the VU stopped during init".to_string()))??;
    Ok((
        JsVu {
            ids,
            tx,
            runtime: Some(runtime),
        },
        info,
    ))
}

/// The VU's HTTP client settings from the test's.
pub(crate) fn client_config(settings: &VuSettings, ids: VuIds) -> ClientConfig {
    let net = &settings.network;
    let local_ip = net
        .local_ips
        .as_ref()
        .and_then(|p| p.for_vu(ids.id_in_instance));
    ClientConfig {
        user_agent: Some(settings.user_agent.clone()),
        insecure_skip_tls_verify: settings.insecure_skip_tls_verify,
        tls: settings.tls.clone(),
        net: net.clone(),
        no_connection_reuse: net.no_connection_reuse,
        rps: settings.rps.clone(),
        resolver: settings.resolver.clone(),
        local_ip,
        discard_response_bodies: settings.discard_response_bodies,
        // Go's MaxIdleConnsPerHost is batchPerHost; 0 means Go's default of 2.
        max_idle_per_host: if net.batch_per_host == 0 {
            2
        } else {
            net.batch_per_host
        },
        http2: crate::http::http2_enabled(),
    }
}

/// The driver: resumes the coroutine and serves what it suspends for, until it returns.
async fn drive(
    mut co: VuCoroutine,
    mut rx: CommandRx,
    init_tx: oneshot::Sender<Result<InitInfo, RunError>>,
    http: Rc<HttpClient>,
    settings: Arc<VuSettings>,
) {
    let mut init_tx = Some(init_tx);
    let mut reply_to: Option<oneshot::Sender<Reply>> = None;
    let mut interrupt: Option<CancellationToken> = None;
    let mut input = Resume::Slept;
    loop {
        let out = match co.resume(input) {
            CoroutineResult::Return(()) => break,
            CoroutineResult::Yield(out) => out,
        };
        input = match out {
            Suspend::Ready(result) => {
                let ok = result.is_ok();
                if let Some(tx) = init_tx.take() {
                    let _ = tx.send(result);
                }
                if !ok {
                    Resume::Command(Command::Shutdown)
                } else {
                    next_command(&mut rx, &mut reply_to, &mut interrupt, &http, &settings).await
                }
            }
            Suspend::Done(reply) => {
                if let Some(tx) = reply_to.take() {
                    let _ = tx.send(reply);
                }
                next_command(&mut rx, &mut reply_to, &mut interrupt, &http, &settings).await
            }
            Suspend::Http(requests) => {
                // `http.batch` runs at most `batch` requests at once, answers in request order.
                let net = &settings.network;
                let all = http.execute_batch(requests, net.batch, net.batch_per_host);
                match &interrupt {
                    Some(token) => tokio::select! {
                        out = all => Resume::Http(out),
                        _ = token.cancelled() => Resume::Cancelled,
                    },
                    None => Resume::Http(all.await),
                }
            }
            Suspend::Io(fut) => match &interrupt {
                Some(token) => tokio::select! {
                    out = fut => Resume::Io(out),
                    _ = token.cancelled() => Resume::Cancelled,
                },
                None => Resume::Io(fut.await),
            },
            Suspend::Sleep(d) => match &interrupt {
                Some(token) => tokio::select! {
                    _ = tokio::time::sleep(d) => Resume::Slept,
                    _ = token.cancelled() => Resume::Cancelled,
                },
                None => {
                    tokio::time::sleep(d).await;
                    Resume::Slept
                }
            },
        };
    }
}

async fn next_command(
    rx: &mut CommandRx,
    reply_to: &mut Option<oneshot::Sender<Reply>>,
    interrupt: &mut Option<CancellationToken>,
    http: &HttpClient,
    settings: &VuSettings,
) -> Resume {
    match rx.recv().await {
        Some((cmd, tx)) => {
            *reply_to = Some(tx);
            if matches!(cmd, Command::Iterate(_)) {
                if !settings.no_cookies_reset {
                    http.jar().reset();
                }
                if settings.network.no_vu_connection_reuse {
                    // k6 closes them when an iteration ends; the next one starts afresh.
                    http.close_idle_connections();
                }
            }
            *interrupt = cmd.interrupt().cloned();
            Resume::Command(cmd)
        }
        None => Resume::Command(Command::Shutdown),
    }
}

/// The parts of the JS standard library a VU gets: everything k6 scripts use (Date, RegExp, JSON,
/// Proxy, Map/Set, typed arrays, Promise, eval for modules). Left out, to save memory per VU:
/// `performance`, WeakRef/FinalizationRegistry and DOMException.
type Intrinsics = (
    intrinsic::Date,
    intrinsic::Eval,
    intrinsic::RegExpCompiler,
    intrinsic::RegExp,
    intrinsic::Json,
    intrinsic::Proxy,
    intrinsic::MapSet,
    intrinsic::TypedArrays,
    intrinsic::Promise,
);

/// The coroutine body: everything JS happens in here, on the VU's own stack.
fn vu_body(
    y: &Yielder<Resume, Suspend>,
    shared: Arc<TestShared>,
    ids: VuIds,
    read_options: bool,
    http: Rc<HttpClient>,
    stack_range: (usize, usize),
) {
    // SAFETY: the suspender is only used by host functions of the runtime created below, which is
    // dropped before this function returns.
    let suspender = unsafe { Suspender::new(y) };
    // Dropped last (locals drop in reverse order): the runtime never outlives the test's state.
    let _keep = shared.clone();
    let rt = match Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            suspender.suspend(Suspend::Ready(Err(RunError::Internal(format!(
                "cannot create a JS runtime: {e}"
            )))));
            return;
        }
    };
    rt.set_max_stack_size(VU_STACK_SIZE - STACK_HEADROOM);
    let memory_limit = super::limits::max_vu_memory();
    if memory_limit > 0 {
        rt.set_memory_limit(memory_limit);
    }
    let ctx = match Context::custom::<Intrinsics>(&rt) {
        Ok(c) => c,
        Err(e) => {
            suspender.suspend(Suspend::Ready(Err(RunError::Internal(format!(
                "cannot create a JS context: {e}"
            )))));
            return;
        }
    };
    let state = Rc::new(VuState::new(shared.clone(), suspender, ids, http));
    rt.set_loader(
        ScriptResolver {
            files: shared.clone(),
        },
        ScriptLoader {
            files: shared,
            state: state.clone(),
        },
    );
    let handler_state = state.clone();
    rt.set_interrupt_handler(Some(Box::new(move || handler_state.should_interrupt())));
    let report = (ids.id_in_instance == 1 && super::memory::wanted()).then_some(stack_range);
    ctx.with(|ctx| serve(&ctx, &state, read_options, report));
    rt.set_interrupt_handler(None);
    drop(ctx);
    drop(state);
    drop(rt);
}

/// Init, then commands until shutdown.
fn serve<'js>(
    ctx: &Ctx<'js>,
    state: &Rc<VuState>,
    read_options: bool,
    report: Option<(usize, usize)>,
) {
    let suspender = state.suspender;
    let (exports, info) = match init(ctx, state, read_options) {
        Ok(v) => v,
        Err(e) => {
            suspender.suspend(Suspend::Ready(Err(e)));
            return;
        }
    };
    // Init leaves garbage (compiler temporaries, cycles): collect it before the VU idles, so its
    // arenas go back to the allocator for the next VU.
    super::memory::collect_garbage(ctx);
    if let Some(stack) = report {
        super::memory::report("after init", ctx, stack);
    }
    let mut data_cache: Option<(Arc<SetupData>, Value<'js>)> = None;
    let mut reported = report.is_none();
    let mut input = suspender.suspend(Suspend::Ready(Ok(info)));
    loop {
        let cmd = match input {
            Resume::Command(c) => c,
            _ => Command::Shutdown,
        };
        // Setup, teardown and handleSummary stop when their token is cancelled (their timeout
        // or the test's abort), like iterations; `iterate` installs its own token.
        if !matches!(cmd, Command::Iterate(_)) {
            state.interrupted.set(false);
            *state.interrupt.borrow_mut() = cmd.interrupt().cloned();
        }
        let reply = match cmd {
            Command::Shutdown => break,
            Command::Iterate(spec) => {
                let data = setup_value(ctx, &mut data_cache, &spec.setup_data);
                let outcome = iterate(ctx, state, &exports, *spec, data);
                if let (false, Some(stack)) = (reported, report) {
                    super::memory::report("after the first iteration", ctx, stack);
                    reported = true;
                }
                Reply::Iteration(outcome)
            }
            Command::Setup(_) => Reply::Setup(setup(ctx, state, &exports)),
            Command::Teardown(data, _) => Reply::Teardown(teardown(ctx, state, &exports, data)),
            Command::HandleSummary {
                data,
                text,
                text_color,
                ..
            } => Reply::Summary(handle_summary(
                ctx,
                state,
                &exports,
                &data,
                [&text, &text_color],
            )),
        };
        *state.interrupt.borrow_mut() = None;
        input = suspender.suspend(Suspend::Done(reply));
    }
}

/// The parsed setup data, parsed once per distinct value.
fn setup_value<'js>(
    ctx: &Ctx<'js>,
    cache: &mut Option<(Arc<SetupData>, Value<'js>)>,
    data: &Arc<SetupData>,
) -> Value<'js> {
    if let Some((arc, v)) = cache.as_ref()
        && Arc::ptr_eq(arc, data)
    {
        return v.clone();
    }
    let v = match data.as_deref() {
        Some(json) => ctx
            .json_parse(json)
            .unwrap_or_else(|_| Value::new_undefined(ctx.clone())),
        None => Value::new_undefined(ctx.clone()),
    };
    *cache = Some((data.clone(), v.clone()));
    v
}

fn init<'js>(
    ctx: &Ctx<'js>,
    state: &Rc<VuState>,
    read_options: bool,
) -> Result<(Object<'js>, InitInfo), RunError> {
    // The init context stops when the test is aborted (a signal, the service's shutdown).
    *state.interrupt.borrow_mut() = Some(state.shared.abort.clone());
    let result = init_script(ctx, state, read_options);
    *state.interrupt.borrow_mut() = None;
    if state.interrupted.get() {
        state.interrupted.set(false);
        return Err(RunError::Interrupted(
            "the init context was interrupted (the test was stopped)".to_string(),
        ));
    }
    result
}

fn init_script<'js>(
    ctx: &Ctx<'js>,
    state: &Rc<VuState>,
    read_options: bool,
) -> Result<(Object<'js>, InitInfo), RunError> {
    let err = |e: rquickjs::Error| RunError::Script(describe(ctx, e));
    modules::install(ctx, state).map_err(err)?;
    let globals = ctx.globals();
    let env = Object::new(ctx.clone()).map_err(err)?;
    for (k, v) in &state.shared.env {
        env.set(k.as_str(), v.as_str()).map_err(err)?;
    }
    globals.set("__ENV", env).map_err(err)?;
    globals
        .set("__VU", state.ids.id_in_instance as f64)
        .map_err(err)?;
    let files = &state.shared.files;
    let name = files.main_name();
    let source = files
        .read_path(files.main())
        .map_err(|e| RunError::Script(e.to_string()))?;
    let module = declare_cached(ctx, &state.shared, &name, || Ok(source.to_vec())).map_err(err)?;
    let (module, promise) = module.eval().map_err(err)?;
    promise.finish::<()>().map_err(err)?;
    let exports = module.namespace().map_err(err)?;
    let names: Vec<String> = exports.keys::<String>().filter_map(Result::ok).collect();
    let mut info = InitInfo {
        exports: names,
        options_json: None,
    };
    if read_options {
        let options: Value = exports.get("options").map_err(err)?;
        if !options.is_undefined() {
            info.options_json = ctx
                .json_stringify(options)
                .map_err(err)?
                .and_then(|s| s.to_string().ok());
        }
    }
    Ok((exports, info))
}

/// A JS error as k6 shows it: `Name: message at file:line:column`, further frames on the lines
/// below.
pub fn describe(ctx: &Ctx<'_>, e: rquickjs::Error) -> String {
    if matches!(e, rquickjs::Error::Allocation) {
        return format!("{e}: {}", super::limits::out_of_memory_note());
    }
    if !matches!(e, rquickjs::Error::Exception) {
        return e.to_string();
    }
    let v = ctx.catch();
    if let Some(exc) = v.as_exception() {
        let name: String = exc.get("name").unwrap_or_else(|_| "Error".to_string());
        let message = exc.message().unwrap_or_default();
        let mut out = format!("{name}: {message}");
        if message == "out of memory" {
            out.push_str(": ");
            out.push_str(&super::limits::out_of_memory_note());
        }
        let stack = exc.stack().unwrap_or_default();
        let mut frames = stack.lines().map(str::trim).filter(|l| !l.is_empty());
        if let Some(first) = frames.next() {
            out.push(' ');
            out.push_str(first);
        }
        for frame in frames {
            out.push_str("\n\t");
            out.push_str(frame);
        }
        return out;
    }
    format!("uncaught exception: {}", super::convert::thrown_text(&v))
}

fn iterate<'js>(
    ctx: &Ctx<'js>,
    state: &VuState,
    exports: &Object<'js>,
    spec: IterationSpec,
    data: Value<'js>,
) -> IterationOutcome {
    let shared = state.shared.clone();
    state.phase.set(Phase::Iteration);
    state.interrupted.set(false);
    *state.aborted.borrow_mut() = None;
    *state.interrupt.borrow_mut() = Some(spec.interrupt.clone());
    let settings = shared.settings();
    if !Arc::ptr_eq(&settings, &state.settings.borrow()) {
        *state.settings.borrow_mut() = settings.clone();
        state.invalidate_tags();
    }
    let same_scenario = state
        .scenario
        .borrow()
        .as_ref()
        .is_some_and(|s| Arc::ptr_eq(s, &spec.scenario));
    if !same_scenario {
        *state.scenario.borrow_mut() = Some(spec.scenario.clone());
        state.invalidate_tags();
        let _ = set_env(ctx, state, &spec);
    }
    let iter = state.iter.get() + 1;
    state.iter.set(iter);
    let _ = ctx.globals().set("__ITER", iter as f64);
    *state
        .scenario_iterations
        .borrow_mut()
        .entry(spec.scenario.name.clone())
        .or_insert(0) += 1;
    state.iteration_in_instance.set(spec.iteration_in_instance);
    state.iteration_in_test.set(spec.iteration_in_test);
    state.reset_group("");

    let started = Instant::now();
    let result = match exports.get::<_, Value>(spec.scenario.exec.as_str()) {
        Ok(f) => match f.as_function() {
            Some(f) => f
                .call::<_, Value>((data,))
                .and_then(|v| super::event_loop::settle(ctx, state, v))
                .map(|_| ()),
            None => Err(rquickjs::Exception::throw_message(
                ctx,
                &format!("function '{}' not found in exports", spec.scenario.exec),
            )),
        },
        Err(e) => Err(e),
    };
    let outcome = match result {
        Ok(()) => IterationOutcome::Completed,
        Err(e) => {
            let text = describe(ctx, e);
            super::event_loop::clear_timers(ctx, state);
            if let Some(msg) = state.aborted.borrow().clone() {
                IterationOutcome::Aborted(msg)
            } else if state.interrupted.get() {
                IterationOutcome::Interrupted
            } else {
                log::script_error(&shared, &text, &spec.scenario);
                IterationOutcome::Failed(text)
            }
        }
    };
    while !state.group.borrow().is_empty() {
        state.exit_group();
    }
    state.reset_group("");
    let tags = state.tags();
    // k6 counts an iteration that threw, and the one that called `exec.test.abort()`.
    if !matches!(outcome, IterationOutcome::Interrupted) {
        state.emit(builtin::ITERATIONS, 1.0, tags.clone());
        state.emit(
            builtin::ITERATION_DURATION,
            started.elapsed().as_secs_f64() * 1000.0,
            tags.clone(),
        );
    }
    state.emit_data(&tags);
    state.flush();
    let min = state.settings.borrow().min_iteration_duration;
    let spent = started.elapsed();
    if outcome == IterationOutcome::Completed && spent < min && !state.interrupted.get() {
        let _ = state.suspender.suspend(Suspend::Sleep(min - spent));
    }
    *state.interrupt.borrow_mut() = None;
    outcome
}

fn set_env<'js>(ctx: &Ctx<'js>, state: &VuState, spec: &IterationSpec) -> rquickjs::Result<()> {
    let env = Object::new(ctx.clone())?;
    for (k, v) in &state.shared.env {
        env.set(k.as_str(), v.as_str())?;
    }
    for (k, v) in &spec.scenario.env {
        env.set(k.as_str(), v.as_str())?;
    }
    ctx.globals().set("__ENV", env)
}
