//! Live progress on a terminal: one line, refreshed a few times per second, like k6's
//! `running (0m05.0s), 05/10 VUs, 120 complete and 0 interrupted iterations`.

use std::io::{IsTerminal, Write};
use std::sync::Arc;
use std::time::Duration;

use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::js::shared::TestShared;

/// A running progress line; [`Progress::finish`] clears it.
pub struct Progress {
    stop: CancellationToken,
    task: Option<JoinHandle<()>>,
}

impl Progress {
    /// Starts the progress line if stderr is a terminal and `enabled`.
    pub fn start(shared: Arc<TestShared>, vus_max: u64, planned: Duration, enabled: bool) -> Self {
        let stop = CancellationToken::new();
        let task = (enabled && std::io::stderr().is_terminal()).then(|| {
            let stop = stop.clone();
            tokio::spawn(async move {
                let mut tick = tokio::time::interval(Duration::from_millis(250));
                loop {
                    tokio::select! {
                        _ = stop.cancelled() => break,
                        _ = tick.tick() => draw(&shared, vus_max, planned),
                    }
                }
                let _ = write!(std::io::stderr(), "\r\x1b[K");
            })
        });
        Progress { stop, task }
    }

    /// Clears the line and stops refreshing.
    pub async fn finish(mut self) {
        self.stop.cancel();
        if let Some(t) = self.task.take() {
            let _ = t.await;
        }
    }
}

/// `1m05.3s` style elapsed time, as k6 prints it.
pub fn clock(d: Duration) -> String {
    let secs = d.as_secs_f64();
    let m = (secs / 60.0).floor() as u64;
    format!("{m}m{:04.1}s", secs - (m * 60) as f64)
}

fn draw(shared: &TestShared, vus_max: u64, planned: Duration) {
    let c = &shared.execution;
    let elapsed = shared.elapsed();
    let pct = if planned.is_zero() {
        0.0
    } else {
        (elapsed.as_secs_f64() / planned.as_secs_f64() * 100.0).min(100.0)
    };
    let line = format!(
        "running ({}), {:02}/{:02} VUs, {} complete and {} interrupted iterations [{:3.0}%]",
        clock(elapsed),
        c.vus_active(),
        vus_max,
        c.iterations_completed(),
        c.iterations_interrupted(),
        pct
    );
    let _ = write!(std::io::stderr(), "\r\x1b[K{line}");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clock_format() {
        assert_eq!(clock(Duration::from_millis(5_000)), "0m05.0s");
        assert_eq!(clock(Duration::from_millis(65_300)), "1m05.3s");
    }
}
