//! The service's own health metrics on `GET /metrics` (prometheus text format): events received
//! and refused, tests running, tests finished by status and result. One registry per service,
//! so several services in one process (tests) do not collide.

use prometheus::{Encoder, IntCounterVec, IntGauge, Opts, Registry, TextEncoder};

/// The counters and gauges of one service.
#[derive(Clone)]
pub struct ServiceMetrics {
    registry: Registry,
    /// By transport (`http`, `nats`).
    pub events_received: IntCounterVec,
    /// By transport and reason (`invalid`, `unknown_type`, `duplicate`, `shutting_down`, `too_large`).
    pub events_refused: IntCounterVec,
    pub tests_running: IntGauge,
    /// By status and result.
    pub tests_finished: IntCounterVec,
}

impl ServiceMetrics {
    /// Registers the metrics in a fresh registry.
    pub fn new() -> Result<Self, prometheus::Error> {
        let registry = Registry::new();
        let events_received = IntCounterVec::new(
            Opts::new("loadgate_events_received_total", "CloudEvents received"),
            &["transport"],
        )?;
        let events_refused = IntCounterVec::new(
            Opts::new(
                "loadgate_events_refused_total",
                "CloudEvents refused or ignored",
            ),
            &["transport", "reason"],
        )?;
        let tests_running = IntGauge::new("loadgate_tests_running", "Tests running now")?;
        let tests_finished = IntCounterVec::new(
            Opts::new("loadgate_tests_finished_total", "Tests finished"),
            &["status", "result"],
        )?;
        registry.register(Box::new(events_received.clone()))?;
        registry.register(Box::new(events_refused.clone()))?;
        registry.register(Box::new(tests_running.clone()))?;
        registry.register(Box::new(tests_finished.clone()))?;
        Ok(ServiceMetrics {
            registry,
            events_received,
            events_refused,
            tests_running,
            tests_finished,
        })
    }

    /// The text exposition.
    pub fn render(&self) -> String {
        let mut buf = Vec::new();
        let _ = TextEncoder::new().encode(&self.registry.gather(), &mut buf);
        String::from_utf8(buf).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_counters() {
        let m = ServiceMetrics::new().unwrap();
        m.events_received.with_label_values(&["http"]).inc();
        assert!(
            m.render()
                .contains("loadgate_events_received_total{transport=\"http\"} 1")
        );
    }
}
