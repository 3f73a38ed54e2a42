//! The coroutine body of a VU: everything JS happens here, on the VU's own stack. It builds the
//! QuickJS runtime and context, runs the init context, then serves commands (iterations, setup,
//! teardown, handleSummary) until `Shutdown`.
//!
//! Invariants: the runtime, the context and every JS value are created and dropped on this
//! stack, the runtime last but for the test's shared state (kept alive past it); the
//! [`Suspender`] is used only by host functions of this runtime; each command installs its
//! interrupt token before JS runs and removes it after; an iteration always emits its
//! `iterations`/`iteration_duration` samples (unless interrupted) and leaves no group open.

use std::rc::Rc;
use std::sync::Arc;
use std::time::Instant;

use corosensei::Yielder;
use rquickjs::context::intrinsic;
use rquickjs::{Context, Ctx, Object, Runtime, Value};

use crate::engine::{IterationOutcome, IterationSpec, RunError, SetupData, VuIds};
use crate::http::HttpClient;
use crate::js::convert::describe;
use crate::js::coroutine::{
    Command, InitInfo, Reply, Resume, STACK_HEADROOM, Suspend, Suspender, VU_STACK_SIZE,
};
use crate::js::lifecycle::{handle_summary, setup, teardown};
use crate::js::loader::{ScriptLoader, ScriptResolver, declare_cached};
use crate::js::shared::TestShared;
use crate::js::state::{Phase, VuState};
use crate::js::{event_loop, limits, log, memory, modules};
use crate::metrics::builtin;

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
pub(super) fn vu_body(
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
    let memory_limit = limits::max_vu_memory();
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
            sources: shared.modules.clone(),
        },
        ScriptLoader {
            sources: shared.modules.clone(),
            state: state.clone(),
        },
    );
    let handler_state = state.clone();
    rt.set_interrupt_handler(Some(Box::new(move || handler_state.should_interrupt())));
    let report = (ids.id_in_instance == 1 && memory::wanted()).then_some(stack_range);
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
    memory::collect_garbage(ctx);
    if let Some(stack) = report {
        memory::report("after init", ctx, stack);
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
                    memory::report("after the first iteration", ctx, stack);
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
    let files = &state.shared.modules.files;
    let name = files.main_name();
    let source = files
        .read_path(files.main())
        .map_err(|e| RunError::Script(e.to_string()))?;
    let module = match crate::js::typescript::source_for(&name, source.to_vec()) {
        Ok(js) => declare_cached(ctx, &state.shared.modules, &name, || Ok(js)).map_err(err)?,
        Err(e) => return Err(RunError::Script(e)),
    };
    let (module, promise) = module.eval().map_err(err)?;
    // Top-level await: the module's Promise settles through the event loop (timers, I/O), as
    // k6 runs it, not just the job queue.
    event_loop::settle(ctx, state, promise.into_value()).map_err(err)?;
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
                .and_then(|v| event_loop::settle(ctx, state, v))
                .map(|_| ()),
            None => Err(rquickjs::Exception::throw_message(
                ctx,
                &format!("function '{}' not found in exports", spec.scenario.exec),
            )),
        },
        Err(e) => Err(e),
    };
    let outcome = match result {
        // A sleep or wait cut short by the stop returns normally, so the function may finish;
        // k6 still counts the iteration as interrupted (no `iterations`/`iteration_duration`),
        // as it does for every iteration whose context was cancelled.
        Ok(()) if state.interrupted.get() => IterationOutcome::Interrupted,
        Ok(()) => IterationOutcome::Completed,
        Err(e) => {
            let text = describe(ctx, e);
            event_loop::clear_timers(ctx, state);
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
