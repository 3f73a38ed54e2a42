//! Worker threads: one per core, each a current-thread tokio runtime with a `LocalSet`. VUs are
//! `!Send` (a coroutine owning a QuickJS runtime), so each lives as a local task on one worker for
//! its whole life. Jobs sent here run on the worker and usually `spawn_local` a VU driver.

use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread::JoinHandle;

use tokio::sync::mpsc;

type Job = Box<dyn FnOnce() + Send>;

/// The pool of VU worker threads.
pub struct Workers {
    senders: Mutex<Vec<mpsc::UnboundedSender<Job>>>,
    next: AtomicUsize,
    threads: Mutex<Vec<JoinHandle<()>>>,
}

impl Workers {
    /// Starts `n` worker threads (at least one).
    pub fn new(n: usize) -> std::io::Result<Self> {
        let mut senders = Vec::new();
        let mut threads = Vec::new();
        for i in 0..n.max(1) {
            let (tx, mut rx) = mpsc::unbounded_channel::<Job>();
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?;
            let handle = std::thread::Builder::new()
                .name(format!("vu-worker-{i}"))
                .spawn(move || {
                    let local = tokio::task::LocalSet::new();
                    local.block_on(&rt, async move {
                        while let Some(job) = rx.recv().await {
                            job();
                        }
                    });
                    // Let every VU driver finish: they end once their command channels close, and a
                    // suspended coroutine must never be dropped.
                    rt.block_on(local);
                })?;
            senders.push(tx);
            threads.push(handle);
        }
        Ok(Workers {
            senders: Mutex::new(senders),
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

    /// Runs `job` on the next worker (round robin). Returns false if the pool is shut down.
    pub fn spawn(&self, job: impl FnOnce() + Send + 'static) -> bool {
        let senders = self.senders.lock().unwrap_or_else(|e| e.into_inner());
        if senders.is_empty() {
            return false;
        }
        let i = self.next.fetch_add(1, Ordering::Relaxed) % senders.len();
        senders[i].send(Box::new(job)).is_ok()
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
