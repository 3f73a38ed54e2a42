//! The `dns` option (k6 `lib/netext/resolver.go`): one resolver for the whole test, shared by
//! every VU. It asks the system resolver, keeps the answer for `ttl` (k6 default 5 minutes; `0`
//! no cache), applies the `policy` (`preferIPv4` by default, `preferIPv6`, `onlyIPv4`,
//! `onlyIPv6`, `any`) and picks one address by `select` (`random` by default, `first`,
//! `roundRobin`). Receives host names, emits one IP or k6's lookup errors.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::Instant;

use super::error_code::HttpError;
use crate::engine::options::network::{DnsConfig, DnsPolicy, DnsSelect};

/// A caching resolver with k6's policy and selection.
#[derive(Debug)]
pub struct Resolver {
    config: DnsConfig,
    cache: Mutex<HashMap<String, (Vec<IpAddr>, Instant)>>,
    round_robin: Mutex<HashMap<String, usize>>,
}

impl Resolver {
    pub fn new(config: DnsConfig) -> Self {
        Resolver {
            config,
            cache: Mutex::new(HashMap::new()),
            round_robin: Mutex::new(HashMap::new()),
        }
    }

    /// One address for `host`.
    pub async fn lookup(&self, host: &str) -> Result<IpAddr, HttpError> {
        let ips = match self.cached(host) {
            Some(ips) => ips,
            None => {
                let ips = apply_policy(self.config.policy, system_lookup(host).await?);
                if let Some(ttl) = self.config.ttl {
                    self.cache
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .insert(host.to_string(), (ips.clone(), Instant::now() + ttl));
                }
                ips
            }
        };
        // k6's resolver returns a plain error here, so its code is the generic 1000.
        self.select(host, &ips)
            .ok_or_else(|| HttpError::Other(format!("lookup {host}: no such host")))
    }

    fn cached(&self, host: &str) -> Option<Vec<IpAddr>> {
        let cache = self.cache.lock().unwrap_or_else(|e| e.into_inner());
        cache
            .get(host)
            .filter(|(_, until)| Instant::now() < *until)
            .map(|(ips, _)| ips.clone())
    }

    fn select(&self, host: &str, ips: &[IpAddr]) -> Option<IpAddr> {
        if ips.is_empty() {
            return None;
        }
        let i = match self.config.select {
            DnsSelect::First => 0,
            DnsSelect::Random => rand::random::<u32>() as usize % ips.len(),
            DnsSelect::RoundRobin => {
                let mut rr = self.round_robin.lock().unwrap_or_else(|e| e.into_inner());
                let n = rr.entry(host.to_string()).or_insert(0);
                let i = *n % ips.len();
                *n = n.wrapping_add(1);
                i
            }
        };
        Some(ips[i])
    }
}

fn apply_policy(policy: DnsPolicy, ips: Vec<IpAddr>) -> Vec<IpAddr> {
    let (v4, v6): (Vec<IpAddr>, Vec<IpAddr>) = ips.iter().partition(|ip| ip.is_ipv4());
    match policy {
        DnsPolicy::Any => ips,
        DnsPolicy::PreferIpv4 if v4.is_empty() => v6,
        DnsPolicy::PreferIpv4 | DnsPolicy::OnlyIpv4 => v4,
        DnsPolicy::PreferIpv6 if v6.is_empty() => v4,
        DnsPolicy::PreferIpv6 | DnsPolicy::OnlyIpv6 => v6,
    }
}

/// Every address the system resolver gives, in its order, without duplicates.
async fn system_lookup(host: &str) -> Result<Vec<IpAddr>, HttpError> {
    match tokio::net::lookup_host((host, 0)).await {
        Ok(addrs) => {
            let mut ips: Vec<IpAddr> = Vec::new();
            for a in addrs {
                if !ips.contains(&a.ip()) {
                    ips.push(a.ip());
                }
            }
            Ok(ips)
        }
        Err(e) => Err(lookup_error(host, &e)),
    }
}

/// The error a failed system lookup of `host` stands for: k6's "no such host" when the name does
/// not exist, else the resolver's own message.
pub(super) fn lookup_error(host: &str, e: &std::io::Error) -> HttpError {
    let msg = e.to_string();
    let lower = msg.to_ascii_lowercase();
    if lower.contains("not known")
        || lower.contains("no address")
        || lower.contains("nodename nor servname")
        || lower.contains("no such host")
    {
        HttpError::NoSuchHost {
            host: host.to_string(),
        }
    } else {
        HttpError::Dns {
            host: host.to_string(),
            message: msg,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn policies_as_k6() {
        let both = vec![ip("::1"), ip("127.0.0.1"), ip("127.0.0.2")];
        assert_eq!(
            apply_policy(DnsPolicy::PreferIpv4, both.clone()),
            vec![ip("127.0.0.1"), ip("127.0.0.2")]
        );
        assert_eq!(
            apply_policy(DnsPolicy::OnlyIpv6, both.clone()),
            vec![ip("::1")]
        );
        assert_eq!(apply_policy(DnsPolicy::Any, both.clone()), both);
        assert_eq!(
            apply_policy(DnsPolicy::PreferIpv6, vec![ip("127.0.0.1")]),
            vec![ip("127.0.0.1")]
        );
        assert!(apply_policy(DnsPolicy::OnlyIpv6, vec![ip("127.0.0.1")]).is_empty());
    }

    #[test]
    fn round_robin_and_first() {
        let ips = [ip("10.0.0.1"), ip("10.0.0.2")];
        let rr = Resolver::new(DnsConfig {
            select: DnsSelect::RoundRobin,
            ..DnsConfig::default()
        });
        let picks: Vec<_> = (0..3).map(|_| rr.select("h", &ips).unwrap()).collect();
        assert_eq!(picks, vec![ips[0], ips[1], ips[0]]);
        let first = Resolver::new(DnsConfig {
            select: DnsSelect::First,
            ..DnsConfig::default()
        });
        assert_eq!(first.select("h", &ips), Some(ips[0]));
        assert_eq!(first.select("h", &[]), None);
    }

    #[tokio::test]
    async fn localhost_only_ipv6_or_ipv4() {
        let v6 = Resolver::new(DnsConfig {
            policy: DnsPolicy::OnlyIpv6,
            ..DnsConfig::default()
        });
        let v4 = Resolver::new(DnsConfig::default());
        assert_eq!(v4.lookup("localhost").await.unwrap(), ip("127.0.0.1"));
        if let Ok(a) = v6.lookup("localhost").await {
            assert!(a.is_ipv6());
        }
    }
}
