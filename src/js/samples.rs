//! Per-worker sample buffer. VUs hand their samples to the buffer of the worker thread they run
//! on; it goes to the metrics channel when it is 50 ms old or large, on the worker's tick, and on
//! [`super::worker::Workers::flush`] at the end of a test. One channel send per worker every 50 ms,
//! instead of one per request, keeps the metrics task from being woken (a cross-thread wake-up,
//! syscalls included) thousands of times a second.

use std::cell::RefCell;
use std::time::{Duration, Instant};

use crate::metrics::{Sample, SampleSender};

/// How long samples may wait in a worker's buffer.
pub const MAX_DELAY: Duration = Duration::from_millis(50);
/// A buffer this large is sent at once.
const MAX_SAMPLES: usize = 8192;

#[derive(Default)]
struct Pending {
    batch: Vec<Sample>,
    sender: Option<SampleSender>,
    since: Option<Instant>,
}

thread_local! {
    static PENDING: RefCell<Pending> = RefCell::new(Pending::default());
}

/// Moves `samples` into this thread's buffer (sending it when due).
pub fn queue(sender: &SampleSender, samples: &mut Vec<Sample>) {
    if samples.is_empty() {
        return;
    }
    PENDING.with(|p| {
        let mut p = p.borrow_mut();
        if p.sender.as_ref().is_some_and(|s| !s.same_channel(sender)) {
            send(&mut p);
        }
        if p.sender.is_none() {
            p.sender = Some(sender.clone());
        }
        if p.batch.is_empty() {
            std::mem::swap(&mut p.batch, samples);
            p.since = Some(Instant::now());
        } else {
            p.batch.append(samples);
        }
        let due = p.batch.len() >= MAX_SAMPLES || p.since.is_some_and(|t| t.elapsed() >= MAX_DELAY);
        if due {
            send(&mut p);
        }
    });
}

/// Sends whatever this thread's buffer holds.
pub fn flush() {
    PENDING.with(|p| send(&mut p.borrow_mut()));
}

fn send(p: &mut Pending) {
    p.since = None;
    if p.batch.is_empty() {
        return;
    }
    let batch = std::mem::take(&mut p.batch);
    if let Some(s) = &p.sender {
        // A closed channel means the test is over; its samples have nowhere to go.
        let _ = s.send(batch);
    }
}
