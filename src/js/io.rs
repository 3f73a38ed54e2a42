//! Protocol I/O of a VU (WebSockets, gRPC): the bridge between tasks on the worker's runtime and
//! the VU's JavaScript.
//!
//! - [`block_on`] lets a synchronous host function await a future (a dial, a unary call): the
//!   coroutine suspends with [`Suspend::Io`] and the driver awaits the future, as for HTTP.
//! - [`IoHub`] is where protocol tasks (one `spawn_local` task per socket or stream) queue
//!   [`IoTask`]s, closures that run on the VU with its JS context (to call `onmessage`, resolve a
//!   Promise, emit samples). A source [`IoHub::hold`]s the hub while it can still produce
//!   events, so the event loop ([`super::event_loop`]) keeps the iteration alive until every
//!   socket and stream has ended, as k6's event loop does.
//! - [`IoHub::reset`] (an iteration that threw or was interrupted) cancels every source of the
//!   VU and forgets their queued events.

use std::any::Any;
use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::future::Future;
use std::rc::Rc;
use std::time::Duration;

use rquickjs::Ctx;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use super::convert::throw;
pub use super::coroutine::IoFuture;
use super::coroutine::{Resume, Suspend};
use super::state::VuState;

/// Work queued by a protocol task, run on the VU with its JS context.
pub type IoTask = Box<dyn for<'js> FnOnce(&Ctx<'js>, &VuState) -> rquickjs::Result<()>>;

/// Suspends the VU until `fut` completes and returns its output. Throws (and marks the
/// iteration interrupted) if the VU is stopped meanwhile.
pub fn block_on<T: 'static>(
    ctx: &Ctx<'_>,
    state: &VuState,
    fut: impl Future<Output = T> + 'static,
) -> rquickjs::Result<T> {
    if state.interrupted.get() {
        return Err(throw(ctx, "iteration interrupted"));
    }
    state.flush();
    let boxed: IoFuture = Box::pin(async move { Box::new(fut.await) as Box<dyn Any> });
    match state.suspender.suspend(Suspend::Io(boxed)) {
        Resume::Io(out) => out
            .downcast::<T>()
            .map(|b| *b)
            .map_err(|_| throw(ctx, "internal error: unexpected I/O result")),
        Resume::Cancelled => {
            state.interrupted.set(true);
            Err(throw(ctx, "iteration interrupted"))
        }
        _ => Err(throw(ctx, "internal error: unexpected resume")),
    }
}

/// The VU's queue of protocol events and the count of sources that may still produce some.
pub struct IoHub {
    queue: RefCell<VecDeque<(u32, IoTask)>>,
    notify: Notify,
    live: Cell<usize>,
    /// Bumped by [`IoHub::reset`]: holds of an older generation no longer count.
    generation: Cell<u64>,
    scope: RefCell<CancellationToken>,
    next_id: Cell<u32>,
}

impl Default for IoHub {
    fn default() -> Self {
        IoHub {
            queue: RefCell::new(VecDeque::new()),
            notify: Notify::new(),
            live: Cell::new(0),
            generation: Cell::new(0),
            scope: RefCell::new(CancellationToken::new()),
            next_id: Cell::new(1),
        }
    }
}

/// Keeps the VU's event loop waiting for a source; dropped when the source has ended.
pub struct Hold {
    hub: Rc<IoHub>,
    generation: u64,
}

impl Drop for Hold {
    fn drop(&mut self) {
        if self.generation == self.hub.generation.get() {
            self.hub.live.set(self.hub.live.get().saturating_sub(1));
            self.hub.notify.notify_one();
        }
    }
}

impl Hold {
    /// Queues work for the VU unless the VU abandoned this source's generation meanwhile
    /// ([`IoHub::reset`]).
    pub fn push(&self, source: u32, task: IoTask) {
        if self.generation == self.hub.generation.get() {
            self.hub.push(source, task);
        }
    }
}

impl IoHub {
    /// A fresh id for a JS-visible source (socket, stream).
    pub fn next_id(&self) -> u32 {
        let id = self.next_id.get();
        self.next_id.set(id.wrapping_add(1).max(1));
        id
    }

    /// Registers a live source.
    pub fn hold(self: &Rc<Self>) -> Hold {
        self.live.set(self.live.get() + 1);
        Hold {
            hub: self.clone(),
            generation: self.generation.get(),
        }
    }

    /// Cancelled when the VU's current work is abandoned ([`IoHub::reset`]).
    pub fn scope(&self) -> CancellationToken {
        self.scope.borrow().clone()
    }

    /// Queues work of source `source` for the VU and wakes its event loop.
    pub fn push(&self, source: u32, task: IoTask) {
        self.queue.borrow_mut().push_back((source, task));
        self.notify.notify_one();
    }

    /// The next queued task (of source `only`, when given).
    pub fn pop(&self, only: Option<u32>) -> Option<IoTask> {
        let mut queue = self.queue.borrow_mut();
        let at = queue
            .iter()
            .position(|(s, _)| only.is_none_or(|o| o == *s))?;
        queue.remove(at).map(|(_, t)| t)
    }

    fn has_work(&self, only: Option<u32>) -> bool {
        self.queue
            .borrow()
            .iter()
            .any(|(s, _)| only.is_none_or(|o| o == *s))
    }

    /// Whether a source is live or work is queued.
    pub fn busy(&self) -> bool {
        self.live.get() > 0 || !self.queue.borrow().is_empty()
    }

    /// Cancels every source and forgets queued work.
    pub fn reset(&self) {
        self.scope.replace(CancellationToken::new()).cancel();
        self.queue.borrow_mut().clear();
        self.live.set(0);
        self.generation.set(self.generation.get() + 1);
    }

    /// Waits until work (of source `only`, when given) is queued or a source ends, at most
    /// `limit` when given.
    pub async fn wait(self: Rc<Self>, only: Option<u32>, limit: Option<Duration>) {
        if self.has_work(only) {
            return;
        }
        match limit {
            Some(d) => {
                let _ = tokio::time::timeout(d, self.notify.notified()).await;
            }
            None => self.notify.notified().await,
        }
    }
}
