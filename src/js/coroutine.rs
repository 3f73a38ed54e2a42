//! The VU coroutine and the only unsafe code of the VU model: the handle host functions use to
//! suspend the coroutine they run on.
//!
//! A VU's JavaScript runs on its own stack (a corosensei coroutine). A synchronous host function such
//! as `http.get()` calls [`Suspender::suspend`] with what it needs ([`Suspend`]); the VU's driver task
//! on the worker thread does the I/O asynchronously and resumes the coroutine with the answer
//! ([`Resume`]). JavaScript never sees a Promise, so k6 scripts keep their synchronous semantics.

use std::any::Any;
use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use corosensei::stack::DefaultStack;
use corosensei::{Coroutine, Yielder};
use tokio_util::sync::CancellationToken;

use crate::engine::{IterationOutcome, IterationSpec, RunError, SetupData};
use crate::http::{Exchange, Request};

/// Stack size of one VU. QuickJS's own stack limit is set below it (see `vu_body`), so deep recursion
/// throws a JS `InternalError` instead of overflowing. Only touched pages cost memory.
pub const VU_STACK_SIZE: usize = 512 * 1024;

/// Headroom between QuickJS's stack limit and the end of the coroutine stack, for the Rust and C
/// frames of host functions that run on top of the deepest JS frame.
pub const STACK_HEADROOM: usize = 128 * 1024;

/// A future the VU's driver awaits for a host function (its output is downcast by
/// [`super::io::block_on`]).
pub type IoFuture = Pin<Box<dyn Future<Output = Box<dyn Any>>>>;

/// What a coroutine hands to its driver.
pub enum Suspend {
    /// Init finished: exports and (for the options VU) the exported options as JSON.
    Ready(Result<InitInfo, RunError>),
    /// Run these requests (one for `http.request`, several for `http.batch`).
    Http(Vec<Request>),
    /// Sleep this long.
    Sleep(Duration),
    /// Await this protocol future (WebSocket, gRPC: see [`super::io`]) and resume with its output.
    Io(IoFuture),
    /// A command finished.
    Done(Reply),
}

/// What the driver resumes a coroutine with.
pub enum Resume {
    /// The next command (also the first resume, with the init command ignored).
    Command(Command),
    /// Results of [`Suspend::Http`], in request order.
    Http(Vec<Exchange>),
    /// A [`Suspend::Sleep`] ended.
    Slept,
    /// The output of a [`Suspend::Io`] future.
    Io(Box<dyn std::any::Any>),
    /// The iteration was interrupted while suspended: the host function must throw.
    Cancelled,
}

/// Work for a VU.
pub enum Command {
    /// Run one iteration.
    Iterate(Box<IterationSpec>),
    /// Run `setup()`; the token interrupts it (setupTimeout, the test's abort).
    Setup(CancellationToken),
    /// Run `teardown(data)`; the token interrupts it (teardownTimeout, a second signal).
    Teardown(SetupData, CancellationToken),
    /// Run `handleSummary(data)` with the summary data as JSON, and the text summary (plain and
    /// coloured) for jslib's `textSummary`; `interrupt` stops it (handleSummaryTimeout).
    HandleSummary {
        data: String,
        text: String,
        text_color: String,
        interrupt: CancellationToken,
    },
    /// Leave the coroutine (drops the JS runtime on the coroutine's own stack).
    Shutdown,
}

impl Command {
    /// The token that interrupts this command's JavaScript, its sleeps and its requests.
    pub fn interrupt(&self) -> Option<&CancellationToken> {
        match self {
            Command::Iterate(spec) => Some(&spec.interrupt),
            Command::Setup(t) | Command::Teardown(_, t) => Some(t),
            Command::HandleSummary { interrupt, .. } => Some(interrupt),
            Command::Shutdown => None,
        }
    }
}

/// The answer to a [`Command`].
#[derive(Debug)]
pub enum Reply {
    Iteration(IterationOutcome),
    Setup(Result<SetupData, RunError>),
    Teardown(Result<(), RunError>),
    /// `Ok(None)`: the script has no `handleSummary`; `Ok(Some(outputs))`: what it returned.
    Summary(Result<Option<Vec<SummaryOutput>>, RunError>),
}

/// One entry of what `handleSummary` returned: `stdout`, `stderr` or a file path, and its content.
#[derive(Debug, Clone, PartialEq)]
pub struct SummaryOutput {
    pub target: String,
    pub content: Vec<u8>,
}

/// What init tells the driver.
#[derive(Debug, Clone, Default)]
pub struct InitInfo {
    /// Names of the module's exports.
    pub exports: Vec<String>,
    /// `JSON.stringify(options)` when requested and exported.
    pub options_json: Option<String>,
}

/// A VU coroutine: resumed with [`Resume`], suspends with [`Suspend`], returns when shut down.
pub type VuCoroutine = Coroutine<Resume, Suspend, (), DefaultStack>;

/// Lets host functions suspend the coroutine they run on.
#[derive(Clone, Copy)]
pub struct Suspender(*const Yielder<Resume, Suspend>);

impl Suspender {
    /// Wraps the coroutine's yielder.
    ///
    /// # Safety
    /// The returned value must only be used on the coroutine's own stack while the coroutine body
    /// that received `yielder` is running. `vu_body` guarantees this: the JS runtime (which owns
    /// every host function holding a `Suspender`) is created and dropped inside the body.
    pub unsafe fn new(yielder: &Yielder<Resume, Suspend>) -> Self {
        Suspender(yielder as *const _)
    }

    /// Runs `f` on the worker thread's stack ([`super::worker::WORKER_STACK_SIZE`]) instead of
    /// the VU's: for native code whose recursion grows with script data.
    pub fn on_parent_stack<R>(&self, f: impl FnOnce() -> R + Send) -> R {
        // SAFETY: as in `suspend`; `on_parent_stack` only switches stacks for the call.
        unsafe { (*self.0).on_parent_stack(f) }
    }

    /// Suspends the coroutine with `value` and returns what the driver resumes it with.
    pub fn suspend(&self, value: Suspend) -> Resume {
        // SAFETY: see `Suspender::new`: the pointer is valid for as long as any host function can
        // call this, and host functions only run on the coroutine's stack.
        unsafe { (*self.0).suspend(value) }
    }
}
