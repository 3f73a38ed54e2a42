//! Everything that knows QuickJS: scripts, the k6 modules and the VU model.
//!
//! # The VU model
//! Thousands of VUs must not mean thousands of OS threads, and k6 scripts call `http.get()`
//! synchronously. So:
//! - one worker thread per core ([`worker`]), each a current-thread tokio runtime with a `LocalSet`;
//! - each VU is a stackful coroutine ([`coroutine`], corosensei, 512 KiB of reserved stack of which
//!   only touched pages cost memory) that owns its own QuickJS runtime and context, created on the
//!   coroutine's stack (QuickJS records the stack top at creation);
//! - synchronous host functions (`http.*`, `sleep`) suspend the coroutine with a request; the VU's
//!   local driver task awaits the HTTP client or a timer and resumes it with the answer
//!   ([`vu`]: the handle, the driver and the coroutine body, one file each);
//! - a VU is stopped by resuming it with `Cancelled` (the host function throws) and by the QuickJS
//!   interrupt handler, never by dropping a suspended coroutine;
//! - QuickJS's stack limit sits below the coroutine's stack size, so runaway recursion throws.
//!
//! The engine reaches VUs through [`runner::JsRunner`] (`engine::Runner`) and [`vu::JsVu`]
//! (`engine::Vu`), which are `Send` handles that forward commands to the worker owning the VU.

pub mod convert;
pub mod coroutine;
mod event_loop;
pub mod io;
pub mod json_select;
mod lifecycle;
pub mod limits;
pub mod loader;
pub mod log;
pub mod memory;
pub mod modules;
pub mod names;
pub mod remote;
pub mod runner;
pub mod samples;
pub mod shared;
pub mod state;
pub mod typescript;
pub mod vu;
pub mod worker;
