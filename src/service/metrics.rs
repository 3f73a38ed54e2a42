//! The service's own health metrics on `GET /metrics` (prometheus text format): events received
//! and refused, tests running, tests finished by status and result; `loadgate_build_info` and the
//! standard `process_*` metrics (CPU, resident memory, open fds, start time). One registry per service,
//! so several services in one process (tests) do not collide.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use prometheus::core::{Collector, Desc};
use prometheus::proto::MetricFamily;
use prometheus::{Encoder, IntCounter, IntCounterVec, IntGauge, Opts, Registry, TextEncoder};

use crate::output::prometheus::RwStats;

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
    /// Answers (`.started`, `.finished`) never delivered after every retry.
    pub answers_lost: IntCounter,
}

impl ServiceMetrics {
    /// Registers the metrics in a fresh registry; with remote write, its delivery counters too.
    pub fn new(remote_write: Option<Arc<RwStats>>) -> Result<Self, prometheus::Error> {
        let registry = Registry::new();
        if let Some(stats) = remote_write {
            registry.register(Box::new(RemoteWriteCollector::new(stats)?))?;
        }
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
        let answers_lost = IntCounter::new(
            "loadgate_answers_lost_total",
            "Answers (.started, .finished) not delivered after every retry",
        )?;
        // Build and process facts, for operators: which version runs, its CPU, memory and fds.
        let build_info = IntGauge::with_opts(
            Opts::new(
                "loadgate_build_info",
                "The running loadgate build (always 1)",
            )
            .const_label("version", env!("CARGO_PKG_VERSION")),
        )?;
        build_info.set(1);
        registry.register(Box::new(build_info))?;
        #[cfg(target_os = "linux")]
        registry.register(Box::new(
            prometheus::process_collector::ProcessCollector::for_self(),
        ))?;
        registry.register(Box::new(events_received.clone()))?;
        registry.register(Box::new(events_refused.clone()))?;
        registry.register(Box::new(tests_running.clone()))?;
        registry.register(Box::new(tests_finished.clone()))?;
        registry.register(Box::new(answers_lost.clone()))?;
        Ok(ServiceMetrics {
            registry,
            events_received,
            events_refused,
            tests_running,
            tests_finished,
            answers_lost,
        })
    }

    /// The text exposition.
    pub fn render(&self) -> String {
        let mut buf = Vec::new();
        let _ = TextEncoder::new().encode(&self.registry.gather(), &mut buf);
        String::from_utf8(buf).unwrap_or_default()
    }
}

/// Reads the remote-write outputs' atomic counters at scrape time.
struct RemoteWriteCollector {
    stats: Arc<RwStats>,
    delivered: IntCounter,
    dropped: IntCounter,
    failed: IntCounter,
}

impl RemoteWriteCollector {
    fn new(stats: Arc<RwStats>) -> Result<Self, prometheus::Error> {
        Ok(RemoteWriteCollector {
            stats,
            delivered: IntCounter::new(
                "loadgate_remote_write_samples_delivered_total",
                "Samples Prometheus accepted",
            )?,
            dropped: IntCounter::new(
                "loadgate_remote_write_samples_dropped_total",
                "Samples never delivered (queue full, refused, retries exhausted, left at stop)",
            )?,
            failed: IntCounter::new(
                "loadgate_remote_write_failed_pushes_total",
                "Push attempts that failed (each retry counts)",
            )?,
        })
    }
}

impl Collector for RemoteWriteCollector {
    fn desc(&self) -> Vec<&Desc> {
        [&self.delivered, &self.dropped, &self.failed]
            .into_iter()
            .flat_map(|c| c.desc())
            .collect()
    }

    fn collect(&self) -> Vec<MetricFamily> {
        for (counter, value) in [
            (&self.delivered, &self.stats.delivered_samples),
            (&self.dropped, &self.stats.dropped_samples),
            (&self.failed, &self.stats.failed_pushes),
        ] {
            let now = value.load(Ordering::Relaxed);
            let shown = counter.get();
            if now > shown {
                counter.inc_by(now - shown);
            }
        }
        [&self.delivered, &self.dropped, &self.failed]
            .into_iter()
            .flat_map(|c| c.collect())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_counters() {
        let m = ServiceMetrics::new(None).unwrap();
        m.events_received.with_label_values(&["http"]).inc();
        assert!(
            m.render()
                .contains("loadgate_events_received_total{transport=\"http\"} 1")
        );
    }

    #[test]
    fn renders_remote_write_drops() {
        let stats = Arc::new(RwStats::default());
        let m = ServiceMetrics::new(Some(stats.clone())).unwrap();
        stats.dropped_samples.fetch_add(7, Ordering::Relaxed);
        assert!(
            m.render()
                .contains("loadgate_remote_write_samples_dropped_total 7")
        );
    }
}
