//! The `rps` option: one limiter for the whole test, shared by every VU on every worker thread.
//! k6 uses `rate.NewLimiter(rps, 1)` and waits on it once per `http.request()` (redirect hops
//! are not counted separately): the first request goes at once, each later one at least `1/rps`
//! after the slot before it. Receives `acquire()` calls, emits the wait.

use std::sync::Mutex;
use std::time::Duration;

use tokio::time::Instant;

/// A token bucket of size 1 refilled `per_second` times a second (Go's `rate.Limiter`, burst 1).
#[derive(Debug)]
pub struct RateLimiter {
    interval: Duration,
    /// The earliest time the next request may start.
    next: Mutex<Option<Instant>>,
}

impl RateLimiter {
    /// A limiter for `per_second` requests a second (at least 1).
    pub fn new(per_second: u32) -> Self {
        RateLimiter {
            interval: Duration::from_secs(1) / per_second.max(1),
            next: Mutex::new(None),
        }
    }

    /// Reserves the next slot and returns when it has come. Dropping the future gives no slot
    /// back (as Go's `Wait` on a cancelled context keeps the reservation only if it got it).
    pub async fn acquire(&self) {
        let at = self.reserve(Instant::now());
        tokio::time::sleep_until(at).await;
    }

    fn reserve(&self, now: Instant) -> Instant {
        let mut next = self.next.lock().unwrap_or_else(|e| e.into_inner());
        let at = match *next {
            Some(n) if n > now => n,
            _ => now,
        };
        *next = Some(at + self.interval);
        at
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_are_one_interval_apart_and_idle_time_is_not_saved_up() {
        let l = RateLimiter::new(10);
        let t0 = Instant::now();
        assert_eq!(l.reserve(t0), t0);
        assert_eq!(l.reserve(t0), t0 + Duration::from_millis(100));
        assert_eq!(l.reserve(t0), t0 + Duration::from_millis(200));
        // After a long pause only one request goes at once (burst 1).
        let later = t0 + Duration::from_secs(5);
        assert_eq!(l.reserve(later), later);
        assert_eq!(l.reserve(later), later + Duration::from_millis(100));
    }

    #[tokio::test(start_paused = true)]
    async fn acquire_waits_for_the_slot() {
        let l = RateLimiter::new(4);
        let t0 = Instant::now();
        for _ in 0..5 {
            l.acquire().await;
        }
        assert_eq!(Instant::now() - t0, Duration::from_secs(1));
    }
}
