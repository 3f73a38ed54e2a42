//! Worker threads: one per core, each a current-thread tokio runtime with a `LocalSet`. VUs are
//! `!Send` (a coroutine owning a QuickJS runtime), so each lives as a local task on one worker for
//! its whole life. Jobs sent here run on the worker and usually `spawn_local` a VU driver.

use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread::JoinHandle;

use tokio::sync::mpsc;

type Job = Box<dyn FnOnce() + Send>;

/// Stack of a worker thread (reserved, touched pages only). Native walks of script data that
/// recurse (the gjson selector) run here, on the parent stack, not on a VU's small stack.
pub const WORKER_STACK_SIZE: usize = 32 * 1024 * 1024;

/// The pool of VU worker threads.
pub struct Workers {
    senders: Mutex<Vec<mpsc::UnboundedSender<Job>>>,
    /// Each worker's runtime, so tasks that drive a VU can run next to it.
    handles: Vec<tokio::runtime::Handle>,
    next: AtomicUsize,
    threads: Mutex<Vec<JoinHandle<()>>>,
}

impl Workers {
    /// Starts `n` worker threads (at least one).
    pub fn new(n: usize) -> std::io::Result<Self> {
        let mut senders = Vec::new();
        let mut threads = Vec::new();
        let mut handles = Vec::new();
        for i in 0..n.max(1) {
            let (tx, mut rx) = mpsc::unbounded_channel::<Job>();
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?;
            handles.push(rt.handle().clone());
            let handle = std::thread::Builder::new()
                .name(format!("vu-worker-{i}"))
                .stack_size(WORKER_STACK_SIZE)
                .spawn(move || {
                    let local = tokio::task::LocalSet::new();
                    local.block_on(&rt, async move {
                        let mut tick = tokio::time::interval(super::samples::MAX_DELAY);
                        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
                        loop {
                            tokio::select! {
                                job = rx.recv() => match job {
                                    Some(job) => job(),
                                    None => break,
                                },
                                _ = tick.tick() => super::samples::flush(),
                            }
                        }
                    });
                    // Let every VU driver finish: they end once their command channels close, and a
                    // suspended coroutine must never be dropped.
                    rt.block_on(local);
                    super::samples::flush();
                })?;
            senders.push(tx);
            threads.push(handle);
        }
        Ok(Workers {
            senders: Mutex::new(senders),
            handles,
            next: AtomicUsize::new(0),
            threads: Mutex::new(threads),
        })
    }

    /// A pool with one worker per available core.
    pub fn per_core() -> std::io::Result<Self> {
        let n = std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1);
        Self::new(n)
    }

    /// Runs `job` on the next worker (round robin); returns that worker's runtime, or `None` if
    /// the pool is shut down.
    pub fn spawn(&self, job: impl FnOnce() + Send + 'static) -> Option<tokio::runtime::Handle> {
        let senders = self.senders.lock().unwrap_or_else(|e| e.into_inner());
        if senders.is_empty() {
            return None;
        }
        let i = self.next.fetch_add(1, Ordering::Relaxed) % senders.len();
        senders[i].send(Box::new(job)).ok()?;
        self.handles.get(i).cloned()
    }

    /// Sends every worker's buffered samples to the metrics channel and waits until they have.
    pub async fn flush(&self) {
        let acks: Vec<_> = {
            let senders = self.senders.lock().unwrap_or_else(|e| e.into_inner());
            senders
                .iter()
                .filter_map(|s| {
                    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
                    let job: Job = Box::new(move || {
                        super::samples::flush();
                        let _ = tx.send(());
                    });
                    s.send(job).ok().map(|_| rx)
                })
                .collect()
        };
        for ack in acks {
            let _ = ack.await;
        }
    }

    /// [`Workers::flush`] bounded by `limit`; false when a worker did not answer in time (one
    /// busy in native code, or gone).
    pub async fn flush_within(&self, limit: std::time::Duration) -> bool {
        tokio::time::timeout(limit, self.flush()).await.is_ok()
    }

    /// Like [`Workers::shutdown`], but gives up waiting after `limit` (a VU handle that is still
    /// alive somewhere keeps its worker running; the process exit then ends it).
    pub fn shutdown_within(&self, limit: std::time::Duration) {
        self.senders
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clear();
        let deadline = std::time::Instant::now() + limit;
        let threads = std::mem::take(&mut *self.threads.lock().unwrap_or_else(|e| e.into_inner()));
        for t in threads {
            while !t.is_finished() && std::time::Instant::now() < deadline {
                std::thread::sleep(std::time::Duration::from_millis(5));
            }
            if t.is_finished() {
                let _ = t.join();
            }
        }
    }

    /// Stops taking jobs and waits until every VU on every worker has ended. Drop all VU handles
    /// first, or this waits for them.
    pub fn shutdown(&self) {
        self.senders
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clear();
        let threads = std::mem::take(&mut *self.threads.lock().unwrap_or_else(|e| e.into_inner()));
        for t in threads {
            let _ = t.join();
        }
    }
}
