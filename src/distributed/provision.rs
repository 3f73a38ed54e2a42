//! Obtaining runners: a [`Provisioner`] finds `n` replicas that will each run one segment.
//! [`NatsDiscovery`] asks the `loadgate serve` replicas already on the NATS bus; a Kubernetes
//! Indexed-Job provisioner can implement the same trait later without touching the protocol
//! (its pods would answer discovery like any replica).

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use futures_util::future::BoxFuture;

use super::protocol::{self, DISCOVER, Discover, Offer};

/// One replica that will run a segment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RunnerSpec {
    pub replica: String,
    pub host: String,
}

/// What [`Provisioner::acquire`] found.
#[derive(Clone, Debug, Default)]
pub struct Acquired {
    pub runners: Vec<RunnerSpec>,
    /// Set when fewer than wanted were found in time: says how many and why.
    pub shortfall: Option<String>,
}

/// See the module docs.
pub trait Provisioner: Send + Sync {
    /// Finds `n` runners for `test` within `wait`.
    fn acquire<'a>(&'a self, test: &'a str, n: usize, wait: Duration) -> BoxFuture<'a, Acquired>;
}

/// Runners among the replicas listening on NATS.
pub struct NatsDiscovery {
    pub client: async_nats::Client,
    /// This replica (never its own runner).
    pub me: String,
}

impl NatsDiscovery {
    async fn round(&self, test: &str) -> Vec<Offer> {
        let inbox = self.client.new_inbox();
        let Ok(mut sub) = self.client.subscribe(inbox.clone()).await else {
            return Vec::new();
        };
        let ask = Discover {
            test: test.to_string(),
            coordinator: self.me.clone(),
        };
        if self
            .client
            .publish_with_reply(DISCOVER, inbox, protocol::encode(&ask))
            .await
            .is_err()
        {
            return Vec::new();
        }
        let mut offers = Vec::new();
        let until = tokio::time::sleep(Duration::from_millis(400));
        tokio::pin!(until);
        loop {
            tokio::select! {
                _ = &mut until => break,
                m = sub.next() => match m {
                    Some(m) => if let Ok(o) = protocol::decode::<Offer>(&m.payload) { offers.push(o) },
                    None => break,
                },
            }
        }
        let _ = sub.unsubscribe().await;
        offers
    }
}

impl Provisioner for NatsDiscovery {
    fn acquire<'a>(&'a self, test: &'a str, n: usize, wait: Duration) -> BoxFuture<'a, Acquired> {
        Box::pin(async move {
            let start = Instant::now();
            loop {
                let offers = self.round(test).await;
                let mut free: Vec<&Offer> = offers
                    .iter()
                    .filter(|o| o.replica != self.me && o.version == protocol::version())
                    .filter(|o| o.free_slots > 0)
                    .collect();
                free.sort_by(|a, b| {
                    b.free_slots
                        .cmp(&a.free_slots)
                        .then_with(|| a.replica.cmp(&b.replica))
                });
                if free.len() >= n {
                    return Acquired {
                        runners: free
                            .into_iter()
                            .take(n)
                            .map(|o| RunnerSpec {
                                replica: o.replica.clone(),
                                host: o.host.clone(),
                            })
                            .collect(),
                        shortfall: None,
                    };
                }
                if start.elapsed() >= wait {
                    let others: Vec<&Offer> =
                        offers.iter().filter(|o| o.replica != self.me).collect();
                    let busy = others
                        .iter()
                        .filter(|o| o.version == protocol::version() && o.free_slots == 0)
                        .count();
                    let mut versions: BTreeMap<&str, usize> = BTreeMap::new();
                    for o in others.iter().filter(|o| o.version != protocol::version()) {
                        *versions.entry(o.version.as_str()).or_default() += 1;
                    }
                    let mut why = format!(
                        "scale-out needs {n} runner(s) besides this replica; found {} free replica(s) of loadgate {} within {}s",
                        free.len(),
                        protocol::version(),
                        wait.as_secs()
                    );
                    if busy > 0 {
                        why.push_str(&format!(", {busy} without a free slot"));
                    }
                    for (v, k) in versions {
                        why.push_str(&format!(", {k} of version {v} (refused)"));
                    }
                    return Acquired {
                        runners: Vec::new(),
                        shortfall: Some(why),
                    };
                }
                tokio::time::sleep(Duration::from_millis(600)).await;
            }
        })
    }
}
