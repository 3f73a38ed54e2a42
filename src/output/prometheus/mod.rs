//! Prometheus remote write (`-o experimental-prometheus-rw`), k6-compatible: k6's environment
//! variables, metric names, labels and wire format (k6.md §7), so k6's Grafana dashboards and
//! Keptn's prometheus-service SLI queries work on loadgate's series.
//!
//! Receives the test's samples through [`crate::output::Output`]; emits snappy-compressed protobuf
//! `WriteRequest`s to the configured URL. Layout:
//! - [`config`]: `K6_PROMETHEUS_RW_*` parsing.
//! - [`encode`]: samples -> per-series aggregates -> time series (names, labels, units).
//! - [`histogram`]: native histograms for trends.
//! - [`stale`]: stale markers at the end.
//! - [`client`]: the HTTP push and its error classes.
//! - [`proto`]: the protobuf messages.
//!
//! Data flow: `add_samples` (or, on a scale-out coordinator, `add_delta`) only sends the batch to the aggregator task (never blocks); every push
//! interval the aggregator turns the series that changed into one write request and appends it to
//! a bounded queue (the oldest is dropped when full); a sender task delivers the queue in order,
//! retrying 5xx and network errors with backoff, never 4xx. `stop()` makes a final push (and stale
//! markers), delivers what it can within `stop_timeout` and warns with the count of samples that
//! never reached Prometheus.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use futures_util::FutureExt;
use futures_util::future::BoxFuture;
use tokio::sync::{Notify, mpsc};
use tokio::task::JoinHandle;
use tokio::time::Instant;
use tracing::Instrument;

use crate::metrics::delta::MetricsDelta;
use crate::metrics::{Registry, SampleBatch};
use crate::output::Output;

pub mod client;
pub mod config;
pub mod encode;
pub mod histogram;
pub mod proto;
pub mod stale;

pub use client::{ClientError, PushError, RwClient};
pub use config::{ConfigError, RwConfig};
pub use encode::ExtraLabels;

/// The output's name on the command line.
pub const OUTPUT_NAME: &str = "experimental-prometheus-rw";

/// Counters of the output, shareable with the service's `/metrics` (pass one `Arc` to several
/// outputs with [`PrometheusRw::with_stats`]).
#[derive(Debug, Default)]
pub struct RwStats {
    /// Samples (points) Prometheus accepted.
    pub delivered_samples: AtomicU64,
    /// Samples that never reached Prometheus: dropped from the full queue, refused (4xx),
    /// retries exhausted, or still pending when `stop()` ran out of time.
    pub dropped_samples: AtomicU64,
    /// Push attempts that failed (each retry counts).
    pub failed_pushes: AtomicU64,
}

/// One encoded write request waiting to be sent.
struct Batch {
    body: bytes::Bytes,
    samples: u64,
}

#[derive(Default)]
struct QueueState {
    items: VecDeque<Batch>,
    closed: bool,
    deadline: Option<Instant>,
    in_flight: u64,
    last_error: Option<String>,
}

/// The pending pushes plus this output's own counts (the shared [`RwStats`] may span runs).
struct Queue {
    state: Mutex<QueueState>,
    notify: Notify,
    max: usize,
    stats: Arc<RwStats>,
    written: AtomicU64,
    dropped: AtomicU64,
}

impl Queue {
    fn lock(&self) -> std::sync::MutexGuard<'_, QueueState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn drop_samples(&self, n: u64) {
        self.dropped.fetch_add(n, Ordering::Relaxed);
        self.stats.dropped_samples.fetch_add(n, Ordering::Relaxed);
    }

    fn push(&self, batch: Batch) {
        self.written.fetch_add(batch.samples, Ordering::Relaxed);
        let dropped = {
            let mut st = self.lock();
            st.items.push_back(batch);
            let mut dropped = 0;
            while st.items.len() > self.max {
                if let Some(old) = st.items.pop_front() {
                    dropped += old.samples;
                }
            }
            dropped
        };
        if dropped > 0 {
            self.drop_samples(dropped);
            tracing::warn!(
                dropped,
                "prometheus remote write: queue full, dropped the oldest push"
            );
        }
        self.notify.notify_one();
    }

    fn close(&self, deadline: Instant) {
        let mut st = self.lock();
        st.closed = true;
        st.deadline = Some(deadline);
        drop(st);
        self.notify.notify_one();
    }
}

enum Msg {
    Samples(Arc<SampleBatch>),
    Delta(Arc<MetricsDelta>),
    Stop,
}

/// The remote-write output.
pub struct PrometheusRw {
    config: RwConfig,
    client: RwClient,
    extra: ExtraLabels,
    stats: Arc<RwStats>,
    running: Option<Running>,
    /// A scale-out coordinator's output: samples go into the whole-test series too.
    whole_test: bool,
}

struct Running {
    tx: mpsc::UnboundedSender<Msg>,
    aggregator: JoinHandle<usize>,
    sender: JoinHandle<()>,
    queue: Arc<Queue>,
}

impl PrometheusRw {
    /// An output for `config`, adding `extra` labels to every series.
    pub fn new(config: RwConfig, extra: ExtraLabels) -> Result<Self, ClientError> {
        let client = RwClient::new(&config)?;
        Ok(PrometheusRw {
            config,
            client,
            extra,
            stats: Arc::new(RwStats::default()),
            running: None,
            whole_test: false,
        })
    }

    /// Uses `stats` (e.g. the service's, shared by all runs) instead of a private set.
    pub fn with_stats(mut self, stats: Arc<RwStats>) -> Self {
        self.stats = stats;
        self
    }

    /// The counters this output updates.
    pub fn stats(&self) -> Arc<RwStats> {
        self.stats.clone()
    }

    /// The configuration.
    pub fn config(&self) -> &RwConfig {
        &self.config
    }
}

impl Output for PrometheusRw {
    fn name(&self) -> &str {
        OUTPUT_NAME
    }

    fn start(&mut self, registry: Arc<Registry>) {
        if self.running.is_some() {
            return;
        }
        let queue = Arc::new(Queue {
            state: Mutex::new(QueueState::default()),
            notify: Notify::new(),
            max: self.config.max_pending_pushes.max(1),
            stats: self.stats.clone(),
            written: AtomicU64::new(0),
            dropped: AtomicU64::new(0),
        });
        let (tx, rx) = mpsc::unbounded_channel();
        let agg = encode::Aggregator::new(
            registry,
            &self.config.trend_stats,
            self.config.trend_as_native_histogram,
            self.extra.clone(),
        )
        .whole_test(self.whole_test);
        let span = tracing::Span::current();
        let aggregator = tokio::spawn(
            aggregate(agg, rx, queue.clone(), self.config.clone()).instrument(span.clone()),
        );
        let sender = tokio::spawn(
            send(self.client.clone(), queue.clone(), self.config.max_retries).instrument(span),
        );
        tracing::debug!(url = %crate::redact::url(self.config.server_url.as_str()), "prometheus remote write started");
        self.running = Some(Running {
            tx,
            aggregator,
            sender,
            queue,
        });
    }

    fn add_samples(&mut self, samples: &Arc<SampleBatch>) {
        if let Some(r) = &self.running {
            let _ = r.tx.send(Msg::Samples(samples.clone()));
        }
    }

    fn accepts_deltas(&self) -> bool {
        true
    }

    fn whole_test(&mut self) {
        self.whole_test = true;
    }

    fn add_delta(&mut self, delta: &Arc<MetricsDelta>) {
        if let Some(r) = &self.running {
            let _ = r.tx.send(Msg::Delta(delta.clone()));
        }
    }

    fn stop(self: Box<Self>) -> BoxFuture<'static, ()> {
        let Some(r) = self.running else {
            return futures_util::future::ready(()).boxed();
        };
        let url = crate::redact::url(self.config.server_url.as_str());
        let budget =
            self.config.stop_timeout + self.config.request_timeout + Duration::from_secs(1);
        async move {
            let _ = r.tx.send(Msg::Stop);
            let series = r.aggregator.await.unwrap_or(0);
            let mut sender = r.sender;
            if tokio::time::timeout(budget, &mut sender).await.is_err() {
                sender.abort();
                let st = r.queue.lock();
                let left = st.items.iter().map(|b| b.samples).sum::<u64>() + st.in_flight;
                drop(st);
                r.queue.drop_samples(left);
            }
            let dropped = r.queue.dropped.load(Ordering::Relaxed);
            if dropped > 0 {
                let written = r.queue.written.load(Ordering::Relaxed);
                let last = r.queue.lock().last_error.clone().unwrap_or_default();
                tracing::warn!(
                    "{}",
                    undelivered_message(dropped, written, series, &url, &last)
                );
            }
        }
        .boxed()
    }
}

/// The warning `stop()` logs when samples were lost.
pub fn undelivered_message(
    dropped: u64,
    written: u64,
    series: usize,
    url: &str,
    last: &str,
) -> String {
    let mut msg = format!(
        "prometheus remote write: {dropped} of {written} samples ({series} series) were not delivered to {url}"
    );
    if !last.is_empty() {
        msg.push_str(&format!("; last error: {last}"));
    }
    msg
}

fn enqueue(queue: &Queue, series: Vec<proto::TimeSeries>) {
    if series.is_empty() {
        return;
    }
    let samples = series
        .iter()
        .map(|s| (s.samples.len() + s.histograms.len()) as u64)
        .sum();
    match client::encode(&proto::WriteRequest { timeseries: series }) {
        Ok(body) => queue.push(Batch {
            body: body.into(),
            samples,
        }),
        Err(e) => {
            queue.drop_samples(samples);
            tracing::error!("prometheus remote write: cannot compress a push: {e}");
        }
    }
}

/// The aggregator task: ingests batches, pushes every interval, makes the final push on `Stop`
/// (or when the output is dropped). Returns the number of series seen.
async fn aggregate(
    mut agg: encode::Aggregator,
    mut rx: mpsc::UnboundedReceiver<Msg>,
    queue: Arc<Queue>,
    config: RwConfig,
) -> usize {
    let mut tick = tokio::time::interval(config.push_interval);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    tick.tick().await;
    loop {
        tokio::select! {
            msg = rx.recv() => match msg {
                Some(Msg::Samples(batch)) => agg.add(&batch),
                Some(Msg::Delta(delta)) => agg.merge(&delta, SystemTime::now()),
                Some(Msg::Stop) | None => break,
            },
            _ = tick.tick() => enqueue(&queue, agg.collect()),
        }
    }
    let mut last = agg.collect();
    if config.stale_markers {
        last.extend(agg.stale_markers(stale::marker_time(SystemTime::now())));
    }
    enqueue(&queue, last);
    queue.close(Instant::now() + config.stop_timeout);
    agg.series_count()
}

/// Backoff before retry `attempt` (1-based): 250 ms doubling, at most 5 s.
pub fn backoff(attempt: u32) -> Duration {
    Duration::from_millis(250u64.saturating_mul(1 << attempt.saturating_sub(1).min(5)))
        .min(Duration::from_secs(5))
}

/// The sender task: delivers the queue in order until it is closed and empty (or the stop
/// deadline passes).
async fn send(client: RwClient, queue: Arc<Queue>, max_retries: u32) {
    let mut logged: Option<String> = None;
    loop {
        let next = {
            let mut st = queue.lock();
            match st.items.pop_front() {
                Some(b) => {
                    st.in_flight = b.samples;
                    Some(b)
                }
                None if st.closed => return,
                None => None,
            }
        };
        let Some(batch) = next else {
            queue.notify.notified().await;
            continue;
        };
        let mut attempt = 0u32;
        loop {
            let result = client.push(batch.body.clone()).await;
            let err = match result {
                Ok(()) => {
                    queue
                        .stats
                        .delivered_samples
                        .fetch_add(batch.samples, Ordering::Relaxed);
                    if logged.take().is_some() {
                        tracing::info!("prometheus remote write: pushes succeed again");
                    }
                    break;
                }
                Err(e) => e,
            };
            queue.stats.failed_pushes.fetch_add(1, Ordering::Relaxed);
            attempt += 1;
            let (closed, deadline) = {
                let mut st = queue.lock();
                st.last_error = Some(err.to_string());
                (st.closed, st.deadline)
            };
            let wait = backoff(attempt);
            let give_up = !err.is_retryable()
                || (!closed && attempt > max_retries)
                || deadline.is_some_and(|d| Instant::now() + wait >= d);
            if logged.as_deref() != Some(&err.to_string()) {
                if err.is_retryable() {
                    tracing::warn!("prometheus remote write: push failed, retrying: {err}");
                } else {
                    tracing::error!("prometheus remote write: push refused, not retrying: {err}");
                }
                logged = Some(err.to_string());
            }
            if give_up {
                queue.drop_samples(batch.samples);
                break;
            }
            tokio::time::sleep(wait).await;
        }
        queue.lock().in_flight = 0;
    }
}

#[cfg(test)]
mod tests;
