//! A VU: one QuickJS runtime and context on its own coroutine stack, driven by a local task on a
//! worker thread. Three parts, one file each:
//! - [`handle`]: [`JsVu`], the `Send` handle executors hold, and [`spawn_vu`], which places a new
//!   VU on a worker and waits for its init context;
//! - [`driver`]: the local task on the worker that resumes the coroutine and serves what it
//!   suspends for (commands, HTTP, protocol I/O, sleeps);
//! - [`body`]: the coroutine body, where everything JS happens (runtime, init context, the
//!   commands: iterations, setup, teardown, handleSummary).
//!
//! Life of a VU: the driver resumes the coroutine, which builds the runtime, installs the k6
//! modules, evaluates the script (the init context) and suspends with `Ready`. From then on every
//! command resumes it; host functions suspend it for HTTP and sleep; it suspends with `Done` at
//! the end of each command. On shutdown it returns, which drops the JS runtime on its own stack.
//!
//! Invariants across the parts: a VU's JS objects never leave its coroutine (only `Send`
//! commands and replies cross [`handle`]'s channel); a suspended coroutine is never dropped, it
//! is resumed with `Cancelled` or `Shutdown` until it returns; exactly one reply is sent per
//! command.

mod body;
mod driver;
mod handle;

pub(crate) use handle::client_config;
pub use handle::{CommandTx, JsVu, spawn_vu};
