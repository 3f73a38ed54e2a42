//! Scale-out: one test split across `loadgate serve` replicas over NATS, judged as one.
//!
//! The replica that takes a `test.triggered` (queue group: exactly one) becomes the test's
//! [`coordinator`]: it splits the test into `parallelism` execution segments (k6's sequence),
//! runs segment 0 and hands one segment to each of `parallelism − 1` other replicas found by a
//! [`provision::Provisioner`]. Every replica serves as a [`runner`] when asked. Both sides plug
//! into the run as its [`crate::engine::controller::Controller`] (barriers, setup once, teardown
//! once) and its `MetricsLink` (runners ship deltas, the coordinator merges them), so thresholds,
//! the summary, `handleSummary()` and the one `.finished` come from the merged data. The wire
//! protocol is in [`protocol`], the test folder's transport in [`bundle`].
//!
//! Transport: core NATS request/reply with retries, sequence-numbered deltas (a retried delta is
//! never merged twice), and an epoch per assignment as the fencing token. JetStream is not
//! needed, so it works on any NATS (Keptn's has JetStream; nothing here depends on it).

use std::time::Duration;

pub mod bundle;
pub mod coordinator;
pub mod protocol;
pub mod provision;
pub mod runner;

/// The scale-out setup of one replica.
#[derive(Clone)]
pub struct ScaleOut {
    pub client: async_nats::Client,
    /// This replica's id on the bus (random per process).
    pub replica: String,
    /// Host (pod) name, shown in messages.
    pub host: String,
    /// How long a coordinator waits for enough free replicas.
    pub runner_wait: Duration,
    /// How long a runner may be silent before the coordinator declares it lost.
    pub loss_timeout: Duration,
    /// How long a runner goes on without the coordinator's heartbeat.
    pub dead_man: Duration,
}

impl ScaleOut {
    /// Defaults for everything but the client.
    pub fn new(client: async_nats::Client) -> Self {
        ScaleOut {
            client,
            replica: uuid::Uuid::new_v4().simple().to_string(),
            host: std::env::var("HOSTNAME")
                .ok()
                .filter(|h| !h.is_empty())
                .unwrap_or_else(|| "localhost".into()),
            runner_wait: Duration::from_secs(60),
            loss_timeout: Duration::from_secs(10),
            dead_man: Duration::from_secs(30),
        }
    }
}

/// The execution segments of an `n`-way split, in k6's notation.
#[derive(Clone, Copy, Debug)]
pub struct Segments {
    n: usize,
}

impl Segments {
    pub fn new(n: usize) -> Self {
        Segments { n: n.max(1) }
    }

    fn point(&self, i: usize) -> String {
        if i == 0 {
            "0".into()
        } else if i >= self.n {
            "1".into()
        } else {
            format!("{i}/{}", self.n)
        }
    }

    /// Segment `i` (0-based): `i/n:(i+1)/n`.
    pub fn segment(&self, i: usize) -> String {
        format!("{}:{}", self.point(i), self.point(i + 1))
    }

    /// `0,1/n,…,1`.
    pub fn sequence(&self) -> String {
        (0..=self.n)
            .map(|i| self.point(i))
            .collect::<Vec<_>>()
            .join(",")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segments_in_k6_notation() {
        let s = Segments::new(3);
        assert_eq!(s.sequence(), "0,1/3,2/3,1");
        assert_eq!(s.segment(0), "0:1/3");
        assert_eq!(s.segment(1), "1/3:2/3");
        assert_eq!(s.segment(2), "2/3:1");
    }
}
