//! The network options typed and validated (k6 `lib/types/hosts.go`, `hostnametrie.go`,
//! `lib/options.go` `IPNet`, `metrics/system_tag.go`): receives the consolidated [`Options`],
//! emits a [`NetworkOptions`] the HTTP client and the sample taggers use, or one error per bad
//! value naming the option (k6 exit 104). No I/O.
//!
//! Matching follows k6's reversed-suffix trie: a pattern is an exact name, or `*` followed by a
//! suffix (`*.example.com` matches `a.example.com` but not `example.com`; `*example.com` matches
//! both); the exact entry wins over wildcards, a longer wildcard over a shorter one.

use std::collections::{BTreeMap, HashMap};
use std::net::IpAddr;

use serde_json::Value;

use super::{DEFAULT_SYSTEM_TAGS, Options};

/// Every system tag k6 knows (`metrics.SystemTagValues`).
pub const ALL_SYSTEM_TAGS: &[&str] = &[
    "proto",
    "subproto",
    "status",
    "method",
    "url",
    "name",
    "group",
    "check",
    "error",
    "error_code",
    "tls_version",
    "scenario",
    "service",
    "expected_response",
    "iter",
    "vu",
    "ocsp_status",
    "ip",
];

/// System tags k6 has that loadgate cannot attach (metadata or OCSP it does not produce).
const UNSUPPORTED_SYSTEM_TAGS: &[&str] = &["iter", "vu", "ocsp_status"];

/// Where a `hosts` entry sends a name: an IP, and a port when the entry has one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HostTarget {
    pub ip: IpAddr,
    pub port: Option<u16>,
}

/// Exact and `*`-prefixed patterns over lower-case names, as k6's trie matches them.
#[derive(Clone, Debug, PartialEq)]
pub struct Patterns<T> {
    exact: HashMap<String, T>,
    /// (suffix after `*`, value, the pattern as written), longest suffix first.
    wildcards: Vec<(String, T, String)>,
}

impl<T> Default for Patterns<T> {
    fn default() -> Self {
        Patterns {
            exact: HashMap::new(),
            wildcards: Vec::new(),
        }
    }
}

impl<T: Clone> Patterns<T> {
    fn insert(&mut self, pattern: &str, value: T) {
        let p = pattern.to_ascii_lowercase();
        match p.strip_prefix('*') {
            Some(suffix) => {
                self.wildcards.push((suffix.to_string(), value, p.clone()));
                self.wildcards.sort_by_key(|w| std::cmp::Reverse(w.0.len()));
            }
            None => {
                self.exact.insert(p, value);
            }
        }
    }

    /// The value and the matching pattern for `name`, if any.
    pub fn get(&self, name: &str) -> Option<(&T, String)> {
        let n = name.to_ascii_lowercase();
        if let Some(v) = self.exact.get(&n) {
            return Some((v, n));
        }
        self.wildcards
            .iter()
            .find(|(suffix, _, _)| n.ends_with(suffix.as_str()))
            .map(|(_, v, p)| (v, p.clone()))
    }

    pub fn is_empty(&self) -> bool {
        self.exact.is_empty() && self.wildcards.is_empty()
    }
}

/// An IP network of `blacklistIPs` (Go's `net.IPNet`, shown as `10.0.0.0/8`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IpNet {
    network: IpAddr,
    prefix: u8,
}

impl IpNet {
    /// Go's `net.ParseCIDR`: `addr/prefix`, the address masked to the network.
    pub fn parse(s: &str) -> Result<IpNet, String> {
        let bad = || format!("failed to parse CIDR '{s}': invalid CIDR address: {s}");
        let (addr, prefix) = s.split_once('/').ok_or_else(bad)?;
        let ip: IpAddr = addr.parse().map_err(|_| bad())?;
        if prefix.is_empty() || !prefix.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad());
        }
        let prefix: u8 = prefix.parse().map_err(|_| bad())?;
        let max = if ip.is_ipv4() { 32 } else { 128 };
        if prefix > max {
            return Err(bad());
        }
        Ok(IpNet {
            network: mask(ip, prefix),
            prefix,
        })
    }

    /// Whether `ip` lies in this network (an IPv4-mapped IPv6 address counts as IPv4, as in Go).
    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
            v4 => v4,
        };
        ip.is_ipv4() == self.network.is_ipv4() && mask(ip, self.prefix) == self.network
    }
}

impl std::fmt::Display for IpNet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.network, self.prefix)
    }
}

fn mask(ip: IpAddr, prefix: u8) -> IpAddr {
    match ip {
        IpAddr::V4(v4) => {
            let bits = u32::from(v4);
            let m = if prefix == 0 {
                0
            } else {
                u32::MAX << (32 - u32::from(prefix))
            };
            IpAddr::V4((bits & m).into())
        }
        IpAddr::V6(v6) => {
            let bits = u128::from(v6);
            let m = if prefix == 0 {
                0
            } else {
                u128::MAX << (128 - u32::from(prefix))
            };
            IpAddr::V6((bits & m).into())
        }
    }
}

/// `localIPs` (k6 `IPPool`): comma-separated IPs, `a-b` ranges and CIDRs (an IPv4 CIDR of more
/// than two addresses without its network and broadcast address); VU `n` binds to address
/// `(n-1) mod count`, in the order given.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IpPool {
    /// (first address, how many), IPv4 addresses as IPv4-mapped `u128`s.
    blocks: Vec<(IpAddr, u128)>,
    count: u128,
}

fn ip_bits(ip: IpAddr) -> u128 {
    match ip {
        IpAddr::V4(v4) => u128::from(u32::from(v4)),
        IpAddr::V6(v6) => u128::from(v6),
    }
}

fn ip_add(ip: IpAddr, n: u128) -> IpAddr {
    match ip {
        IpAddr::V4(v4) => IpAddr::V4(((u32::from(v4) as u128 + n) as u32).into()),
        IpAddr::V6(v6) => IpAddr::V6((u128::from(v6).wrapping_add(n)).into()),
    }
}

impl IpPool {
    /// Parses k6's `localIPs` text; errors are k6's.
    pub fn parse(s: &str) -> Result<IpPool, String> {
        let mut blocks = Vec::new();
        let mut count: u128 = 0;
        for part in s.split(',') {
            let (first, n) = if let Some((a, b)) = part.split_once('-') {
                let bad = || format!("wrong IP range format: {part}");
                let a: IpAddr = a.parse().map_err(|_| bad())?;
                let b: IpAddr = b.parse().map_err(|_| bad())?;
                if a.is_ipv4() != b.is_ipv4() {
                    return Err(format!("mixed IP range format: {part}"));
                }
                let (x, y) = (ip_bits(a), ip_bits(b));
                if y < x {
                    return Err(format!("negative IP range: {part}"));
                }
                (a, y - x + 1)
            } else if part.contains('/') {
                let net =
                    IpNet::parse(part).map_err(|_| format!("parseCIDR() failed parsing {part}"))?;
                let host_bits =
                    if net.network.is_ipv4() { 32 } else { 128 } - u32::from(net.prefix);
                let n = if host_bits >= 128 {
                    u128::MAX
                } else {
                    1u128 << host_bits
                };
                if net.network.is_ipv4() && n > 2 {
                    (ip_add(net.network, 1), n - 2)
                } else {
                    (net.network, n)
                }
            } else {
                let ip: IpAddr = part
                    .parse()
                    .map_err(|_| format!("{part} is not a valid IP, IP range or CIDR"))?;
                (ip, 1)
            };
            blocks.push((first, n));
            count = count.saturating_add(n);
        }
        Ok(IpPool { blocks, count })
    }

    /// The address of the VU with 1-based id `vu` on this instance.
    pub fn for_vu(&self, vu: u64) -> Option<IpAddr> {
        if self.count == 0 {
            return None;
        }
        let mut index = u128::from(vu.saturating_sub(1)) % self.count;
        for (first, n) in &self.blocks {
            if index < *n {
                return Some(ip_add(*first, index));
            }
            index -= n;
        }
        None
    }
}

/// TLS protocol versions loadgate can speak (rustls: 1.2 and 1.3).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum TlsVersion {
    Tls12,
    Tls13,
}

/// k6's TLS 1.2 cipher suite names that rustls (ring) implements; TLS 1.3 suites are always all
/// enabled, as in Go, where `tlsCipherSuites` cannot restrict them.
pub const TLS12_SUITES: &[&str] = &[
    "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
    "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
    "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305",
    "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
    "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
    "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305",
];

/// Suite names k6 accepts that loadgate cannot offer (RC4, 3DES, CBC, RSA key exchange).
const GO_ONLY_SUITES: &[&str] = &[
    "TLS_RSA_WITH_RC4_128_SHA",
    "TLS_RSA_WITH_3DES_EDE_CBC_SHA",
    "TLS_RSA_WITH_AES_128_CBC_SHA",
    "TLS_RSA_WITH_AES_256_CBC_SHA",
    "TLS_RSA_WITH_AES_128_CBC_SHA256",
    "TLS_RSA_WITH_AES_128_GCM_SHA256",
    "TLS_RSA_WITH_AES_256_GCM_SHA384",
    "TLS_ECDHE_ECDSA_WITH_RC4_128_SHA",
    "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA",
    "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA",
    "TLS_ECDHE_RSA_WITH_RC4_128_SHA",
    "TLS_ECDHE_RSA_WITH_3DES_EDE_CBC_SHA",
    "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA",
    "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA",
    "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256",
    "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256",
];

const TLS13_SUITES: &[&str] = &[
    "TLS_AES_128_GCM_SHA256",
    "TLS_AES_256_GCM_SHA384",
    "TLS_CHACHA20_POLY1305_SHA256",
];

/// `tlsVersion`, `tlsCipherSuites` and `tlsAuth` as the client applies them; `None` = rustls'
/// defaults.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TlsChoice {
    /// (min, max), inclusive.
    pub versions: Option<(TlsVersion, TlsVersion)>,
    /// The TLS 1.2 suites allowed, by k6 name.
    pub tls12_suites: Option<Vec<&'static str>>,
    /// `tlsAuth`: client certificates, in the script's order (the PEM is parsed and checked by
    /// `http::tls::build_with` before the test starts).
    pub client_certs: Vec<ClientCert>,
}

/// One `tlsAuth` entry.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ClientCert {
    /// The certificate chain, PEM.
    pub cert: String,
    /// The private key, PEM.
    pub key: String,
    /// `domains`: k6 hands them to Go's `NameToCertificate`, which a TLS client never reads
    /// (and warns that they are deprecated); the certificate goes wherever the server accepts it.
    pub domains: Vec<String>,
}

impl TlsChoice {
    pub fn is_default(&self) -> bool {
        self.versions.is_none() && self.tls12_suites.is_none() && self.client_certs.is_empty()
    }
}

/// `tlsAuth`: a list of `{cert, key, domains, password}` with no other field (k6 unmarshals it
/// strictly).
fn tls_auth(v: &Value, errors: &mut Vec<String>) -> Vec<ClientCert> {
    let Value::Array(list) = v else {
        if let Value::String(_) = v {
            // Only K6_TLSAUTH gives a string; k6 fails on every value of it ("failed to find any
            // PEM data"), so no script relies on it.
            errors.push(
                "K6_TLSAUTH cannot carry client certificates (k6 itself fails on any value of it): \
                 set tlsAuth in the script's options or in the --config file"
                    .to_string(),
            );
        } else if !v.is_null() {
            errors.push(format!(
                "invalid tlsAuth {v}: use a list of {{cert, key, domains}} objects"
            ));
        }
        return Vec::new();
    };
    let mut out = Vec::new();
    for (i, item) in list.iter().enumerate() {
        let Value::Object(m) = item else {
            errors.push(format!(
                "invalid tlsAuth[{i}] {item}: use a {{cert, key, domains}} object"
            ));
            continue;
        };
        if let Some(k) = m
            .keys()
            .find(|k| !matches!(k.as_str(), "cert" | "key" | "domains" | "password"))
        {
            errors.push(format!("invalid tlsAuth[{i}]: json: unknown field \"{k}\""));
            continue;
        }
        let text = |field: &str, errors: &mut Vec<String>| match m.get(field) {
            None | Some(Value::Null) => String::new(),
            Some(Value::String(s)) => s.clone(),
            Some(other) => {
                errors.push(format!(
                    "invalid tlsAuth[{i}].{field} {other}: a PEM string is expected"
                ));
                String::new()
            }
        };
        let cert = text("cert", errors);
        let key = text("key", errors);
        if let Some(p) = m.get("password").filter(|p| !p.is_null()) {
            errors.push(format!(
                "invalid tlsAuth[{i}].password {p}: password-protected keys are not supported by \
                 loadgate; decrypt the key first (openssl pkey -in key.pem -out plain.pem)"
            ));
        }
        let mut domains = Vec::new();
        match m.get("domains") {
            None | Some(Value::Null) => {}
            Some(Value::Array(ds)) => {
                for d in ds {
                    match d.as_str() {
                        Some(d) => domains.push(d.to_string()),
                        None => errors
                            .push(format!("invalid tlsAuth[{i}].domains: {d} is not a string")),
                    }
                }
            }
            Some(other) => errors.push(format!(
                "invalid tlsAuth[{i}].domains {other}: use a list of domain names"
            )),
        }
        out.push(ClientCert { cert, key, domains });
    }
    out
}

fn tls_version(v: &Value, field: &str) -> Result<Option<TlsVersion>, String> {
    match v {
        Value::Null => Ok(None),
        Value::String(s) => match s.as_str() {
            "" => Ok(None),
            "tls1.2" => Ok(Some(TlsVersion::Tls12)),
            "tls1.3" => Ok(Some(TlsVersion::Tls13)),
            "tls1.0" | "tls1.1" => Err(format!(
                "invalid tlsVersion{field}: '{s}' is not supported by loadgate (it speaks tls1.2 and tls1.3)"
            )),
            _ => Err(format!(
                "invalid tlsVersion{field}: unknown TLS version '{s}'"
            )),
        },
        other => Err(format!(
            "invalid tlsVersion{field} {other}: use \"tls1.2\", \"tls1.3\" or {{min, max}}"
        )),
    }
}

fn tls_choice(o: &Options, errors: &mut Vec<String>) -> TlsChoice {
    let mut choice = TlsChoice::default();
    match &o.tls_version {
        None => {}
        Some(Value::Object(m)) => {
            if let Some(k) = m.keys().find(|k| *k != "min" && *k != "max") {
                errors.push(format!("invalid tlsVersion: unknown field \"{k}\""));
            }
            let min = tls_version(m.get("min").unwrap_or(&Value::Null), ".min");
            let max = tls_version(m.get("max").unwrap_or(&Value::Null), ".max");
            match (min, max) {
                (Ok(a), Ok(b)) => {
                    let a = a.unwrap_or(TlsVersion::Tls12);
                    let b = b.unwrap_or(TlsVersion::Tls13);
                    if a > b {
                        errors.push("invalid tlsVersion: min is above max".to_string());
                    } else {
                        choice.versions = Some((a, b));
                    }
                }
                (Err(e), _) | (_, Err(e)) => errors.push(e),
            }
        }
        Some(v) => match tls_version(v, "") {
            Ok(Some(ver)) => choice.versions = Some((ver, ver)),
            Ok(None) => {}
            Err(e) => errors.push(e),
        },
    }
    match &o.tls_cipher_suites {
        None => {}
        Some(Value::Array(list)) => {
            let mut suites = Vec::new();
            for item in list {
                let name = item.as_str().unwrap_or("");
                if let Some(s) = TLS12_SUITES.iter().find(|s| **s == name) {
                    suites.push(*s);
                } else if TLS13_SUITES.contains(&name) {
                    // Go cannot restrict TLS 1.3 suites; they stay enabled.
                } else if GO_ONLY_SUITES.contains(&name) {
                    errors.push(format!(
                        "invalid tlsCipherSuites: '{name}' is not supported by loadgate (it offers: {})",
                        TLS12_SUITES.join(", ")
                    ));
                } else {
                    let shown = item
                        .as_str()
                        .map_or_else(|| item.to_string(), str::to_string);
                    errors.push(format!(
                        "invalid tlsCipherSuites: unknown cipher suite '{shown}'"
                    ));
                }
            }
            choice.tls12_suites = Some(suites);
        }
        Some(Value::String(s)) if !s.is_empty() => {
            let items = s
                .split(',')
                .map(|x| Value::String(x.trim().to_string()))
                .collect();
            let again = Options {
                tls_cipher_suites: Some(Value::Array(items)),
                ..Options::default()
            };
            choice.tls12_suites = tls_choice(&again, errors).tls12_suites;
        }
        Some(Value::String(_)) => {}
        Some(other) => errors.push(format!(
            "invalid tlsCipherSuites {other}: use a list of cipher suite names"
        )),
    }
    choice
}

/// `dns.select`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DnsSelect {
    First,
    Random,
    RoundRobin,
}

/// `dns.policy`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DnsPolicy {
    PreferIpv4,
    PreferIpv6,
    OnlyIpv4,
    OnlyIpv6,
    Any,
}

/// The `dns` option; k6's default is `ttl=5m,select=random,policy=preferIPv4`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DnsConfig {
    /// How long an answer is kept; `None`: not cached (`ttl: "0"`).
    pub ttl: Option<std::time::Duration>,
    pub select: DnsSelect,
    pub policy: DnsPolicy,
}

impl Default for DnsConfig {
    fn default() -> Self {
        DnsConfig {
            ttl: Some(std::time::Duration::from_secs(300)),
            select: DnsSelect::Random,
            policy: DnsPolicy::PreferIpv4,
        }
    }
}

fn dns_field(c: &mut DnsConfig, key: &str, v: &str) -> Result<(), String> {
    match key {
        "ttl" => {
            c.ttl = match v {
                "0" => None,
                "inf" => Some(std::time::Duration::from_secs(365 * 24 * 3600)),
                "" => Some(std::time::Duration::from_secs(300)),
                other => match crate::engine::duration::GoDuration::parse(other) {
                    Ok(d) if d.as_nanos() > 0 => Some(d.to_std()),
                    Ok(d) if d.as_nanos() == 0 => None,
                    _ => return Err(format!("invalid DNS TTL: {other}")),
                },
            }
        }
        "select" => {
            c.select = match v {
                "first" => DnsSelect::First,
                "random" => DnsSelect::Random,
                "roundRobin" => DnsSelect::RoundRobin,
                other => return Err(format!("{other} does not belong to DNSSelect values")),
            }
        }
        "policy" => {
            c.policy = match v {
                "preferIPv4" => DnsPolicy::PreferIpv4,
                "preferIPv6" => DnsPolicy::PreferIpv6,
                "onlyIPv4" => DnsPolicy::OnlyIpv4,
                "onlyIPv6" => DnsPolicy::OnlyIpv6,
                "any" => DnsPolicy::Any,
                other => return Err(format!("{other} does not belong to DNSPolicy values")),
            }
        }
        other => return Err(format!("unknown DNS configuration field: {other}")),
    }
    Ok(())
}

/// `dns` as a script object `{ttl, select, policy}` or k6's text `ttl=1m,select=first,...`.
fn dns_config(v: &Value) -> Result<DnsConfig, String> {
    let mut c = DnsConfig::default();
    match v {
        Value::Object(m) => {
            for (k, v) in m {
                match v {
                    Value::Null => {}
                    Value::String(s) => dns_field(&mut c, k, s)?,
                    other => return Err(format!("{k} must be a string, got {other}")),
                }
            }
        }
        Value::String(s) => {
            for part in s.split(',').filter(|p| !p.trim().is_empty()) {
                let (k, v) = part
                    .split_once('=')
                    .ok_or_else(|| format!("no value for key {part}"))?;
                dns_field(&mut c, k.trim(), v.trim())?;
            }
        }
        other => return Err(format!("use {{ttl, select, policy}}, got {other}")),
    }
    Ok(c)
}

/// The enabled system tags (`systemTags`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SystemTags(Vec<&'static str>);

impl Default for SystemTags {
    fn default() -> Self {
        SystemTags(DEFAULT_SYSTEM_TAGS.to_vec())
    }
}

impl SystemTags {
    /// Whether tag `name` is attached.
    pub fn has(&self, name: &str) -> bool {
        self.0.contains(&name)
    }

    /// Every tag enabled.
    pub fn all() -> Self {
        SystemTags(ALL_SYSTEM_TAGS.to_vec())
    }
}

/// The network and tagging options in the form the client and the taggers use.
#[derive(Clone, Debug)]
pub struct NetworkOptions {
    /// `hosts`: name or `name:port` pattern -> address.
    pub hosts: Patterns<HostTarget>,
    /// `blacklistIPs`.
    pub blacklist: Vec<IpNet>,
    /// `blockHostnames`.
    pub blocked: Patterns<()>,
    /// `rps`: requests per second over the whole test; `None` = no limit (k6: 0 or unset).
    pub rps: Option<u32>,
    pub no_connection_reuse: bool,
    pub no_vu_connection_reuse: bool,
    /// `batch`, at least 1.
    pub batch: usize,
    /// `batchPerHost`; `0` = no per-host limit (k6's `MultiSlotLimiter(0)`).
    pub batch_per_host: usize,
    pub system_tags: SystemTags,
    /// `localIPs` (`K6_LOCAL_IPS`, `--local-ips`): the source addresses of the VUs.
    pub local_ips: Option<IpPool>,
    /// `tlsVersion`, `tlsCipherSuites`.
    pub tls: TlsChoice,
    /// `dns`.
    pub dns: DnsConfig,
}

impl Default for NetworkOptions {
    /// k6's defaults: no mapping, no guards, no rate limit, reuse on, batch 20, 6 per host.
    fn default() -> Self {
        NetworkOptions {
            hosts: Patterns::default(),
            blacklist: Vec::new(),
            blocked: Patterns::default(),
            rps: None,
            no_connection_reuse: false,
            no_vu_connection_reuse: false,
            batch: 20,
            batch_per_host: 6,
            system_tags: SystemTags::default(),
            local_ips: None,
            tls: TlsChoice::default(),
            dns: DnsConfig::default(),
        }
    }
}

/// Host names as k6's `validHostPattern` accepts them (optionally `*`-prefixed).
fn valid_hostname_pattern(s: &str) -> bool {
    let rest = s
        .strip_prefix("*.")
        .or_else(|| s.strip_prefix('*'))
        .unwrap_or(s);
    if rest.is_empty() {
        return true;
    }
    rest.split('.').all(|label| {
        !label.is_empty()
            && label
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-')
            && !label.starts_with('-')
            && !label.ends_with('-')
    })
}

/// `name` or `name:port` (k6 `validHostPattern`).
fn valid_host_pattern(s: &str) -> bool {
    match s.rsplit_once(':') {
        Some((name, port)) => {
            !port.is_empty()
                && port.len() <= 5
                && port.bytes().all(|b| b.is_ascii_digit())
                && valid_hostname_pattern(name)
        }
        None => valid_hostname_pattern(s),
    }
}

/// Parses one `hosts` value: `IP` or `IP:port` (`[v6]:port`).
fn host_target(key: &str, v: &Value) -> Result<HostTarget, String> {
    let s = v.as_str().ok_or_else(|| {
        format!("invalid hosts entry \"{key}\": {v} is not a string (use \"IP\" or \"IP:port\")")
    })?;
    if let Ok(ip) = s.parse::<IpAddr>() {
        return Ok(HostTarget { ip, port: None });
    }
    if let Ok(sa) = s.parse::<std::net::SocketAddr>() {
        return Ok(HostTarget {
            ip: sa.ip(),
            port: Some(sa.port()),
        });
    }
    Err(format!(
        "invalid hosts entry \"{key}\": \"{s}\" is not an IP address or IP:port"
    ))
}

impl NetworkOptions {
    /// Types and checks the network options; every problem is one line naming the option.
    pub fn from_options(o: &Options) -> Result<NetworkOptions, Vec<String>> {
        let mut errors = Vec::new();
        let mut n = NetworkOptions::default();
        if let Some(hosts) = &o.hosts {
            for (k, v) in hosts {
                if !valid_host_pattern(&k.to_ascii_lowercase()) {
                    errors.push(format!("invalid hosts entry: invalid host pattern '{k}'"));
                    continue;
                }
                match host_target(k, v) {
                    Ok(t) => n.hosts.insert(k, t),
                    Err(e) => errors.push(e),
                }
            }
        }
        for cidr in o.blacklist_ips.iter().flatten() {
            match IpNet::parse(cidr) {
                Ok(net) => n.blacklist.push(net),
                Err(e) => errors.push(format!("invalid blacklistIPs: {e}")),
            }
        }
        for p in o.block_hostnames.iter().flatten() {
            if valid_hostname_pattern(&p.to_ascii_lowercase()) {
                n.blocked.insert(p, ());
            } else {
                errors.push(format!(
                    "invalid blockHostnames: invalid hostname pattern '{p}'"
                ));
            }
        }
        match o.rps {
            None | Some(0) => {}
            Some(r) if r < 0 => errors.push(format!(
                "invalid rps {r}: the request rate limit must be 0 (no limit) or positive"
            )),
            Some(r) => n.rps = Some(u32::try_from(r).unwrap_or(u32::MAX)),
        }
        n.no_connection_reuse = o.no_connection_reuse.unwrap_or(false);
        n.no_vu_connection_reuse = o.no_vu_connection_reuse.unwrap_or(false);
        match o.batch {
            None => {}
            Some(b) if b < 1 => errors.push(format!(
                "invalid batch {b}: the http.batch parallelism must be at least 1"
            )),
            Some(b) => n.batch = b as usize,
        }
        match o.batch_per_host {
            None => {}
            Some(b) if b < 0 => errors.push(format!(
                "invalid batchPerHost {b}: must be 0 (no per-host limit) or positive"
            )),
            Some(b) => n.batch_per_host = b as usize,
        }
        if let Some(tags) = &o.system_tags {
            let mut set = Vec::new();
            for t in tags {
                let t = t.trim().to_ascii_lowercase();
                match ALL_SYSTEM_TAGS.iter().find(|k| **k == t) {
                    Some(k) if UNSUPPORTED_SYSTEM_TAGS.contains(k) => errors.push(format!(
                        "invalid systemTags: `{k}` is not supported by loadgate (it attaches: {})",
                        supported_tags()
                    )),
                    Some(k) => set.push(*k),
                    None => errors.push(format!(
                        "invalid systemTags: unknown system tag `{t}` (known: {})",
                        supported_tags()
                    )),
                }
            }
            n.system_tags = SystemTags(set);
        }
        n.tls = tls_choice(o, &mut errors);
        if let Some(v) = &o.tls_auth {
            n.tls.client_certs = tls_auth(v, &mut errors);
        }
        if let Some(v) = &o.dns {
            match dns_config(v) {
                Ok(c) => n.dns = c,
                Err(e) => errors.push(format!("invalid dns: {e}")),
            }
        }
        match &o.local_ips {
            None => {}
            Some(Value::String(text)) if text.is_empty() => {}
            Some(Value::String(text)) => match IpPool::parse(text) {
                Ok(pool) => n.local_ips = Some(pool),
                Err(e) => errors.push(format!("invalid localIPs \"{text}\": {e}")),
            },
            Some(other) => errors.push(format!(
                "invalid localIPs {other}: use a string of IPs, ranges and CIDRs"
            )),
        }
        if errors.is_empty() {
            Ok(n)
        } else {
            Err(errors)
        }
    }

    /// Options with only these `hosts` entries (`name` -> `IP` or `IP:port`).
    pub fn with_hosts(entries: &[(&str, &str)]) -> Result<NetworkOptions, Vec<String>> {
        let hosts = entries
            .iter()
            .map(|(k, v)| (k.to_string(), Value::String(v.to_string())))
            .collect();
        NetworkOptions::from_options(&Options {
            hosts: Some(hosts),
            ..Options::default()
        })
    }

    /// The `hosts` entries as a plain map, for logs and tests.
    pub fn hosts_map(&self) -> BTreeMap<String, HostTarget> {
        let mut m: BTreeMap<String, HostTarget> = self
            .hosts
            .exact
            .iter()
            .map(|(k, v)| (k.clone(), *v))
            .collect();
        for (_, v, p) in &self.hosts.wildcards {
            m.insert(p.clone(), *v);
        }
        m
    }
}

fn supported_tags() -> String {
    ALL_SYSTEM_TAGS
        .iter()
        .filter(|t| !UNSUPPORTED_SYSTEM_TAGS.contains(t))
        .copied()
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn opts(v: Value) -> Options {
        Options::from_json(&v).unwrap().0
    }

    #[test]
    fn hosts_exact_port_and_wildcards() {
        let n = NetworkOptions::from_options(&opts(json!({"hosts": {
            "a.test": "127.0.0.1",
            "B.test:8080": "127.0.0.2:9090",
            "*.wild.test": "127.0.0.3",
            "*.deeper.wild.test": "127.0.0.4:81",
        }})))
        .unwrap();
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        assert_eq!(n.hosts.get("A.TEST").unwrap().0.ip, ip("127.0.0.1"));
        let (t, p) = n.hosts.get("b.test:8080").unwrap();
        assert_eq!(
            (t.ip, t.port, p.as_str()),
            (ip("127.0.0.2"), Some(9090), "b.test:8080")
        );
        assert!(n.hosts.get("b.test").is_none());
        assert_eq!(n.hosts.get("x.wild.test").unwrap().0.ip, ip("127.0.0.3"));
        assert_eq!(
            n.hosts.get("x.deeper.wild.test").unwrap().0.ip,
            ip("127.0.0.4")
        );
        assert!(
            n.hosts.get("wild.test").is_none(),
            "*.x does not match x itself"
        );
    }

    #[test]
    fn blacklist_cidrs() {
        let net = IpNet::parse("10.1.2.3/8").unwrap();
        assert_eq!(net.to_string(), "10.0.0.0/8");
        assert!(net.contains("10.200.0.1".parse().unwrap()));
        assert!(!net.contains("11.0.0.1".parse().unwrap()));
        assert!(net.contains("::ffff:10.0.0.1".parse().unwrap()));
        assert!(
            IpNet::parse("::1/128")
                .unwrap()
                .contains("::1".parse().unwrap())
        );
        for bad in ["10.0.0.0/33", "10.0.0.0", "x/8", "10.0.0.0/", "10.0.0.0/-1"] {
            assert_eq!(
                IpNet::parse(bad).unwrap_err(),
                format!("failed to parse CIDR '{bad}': invalid CIDR address: {bad}")
            );
        }
    }

    #[test]
    fn blocked_patterns_as_k6() {
        let n = NetworkOptions::from_options(&opts(
            json!({"blockHostnames": ["*.blocked.test", "exact.test", "*suffix.test"]}),
        ))
        .unwrap();
        assert_eq!(n.blocked.get("a.blocked.test").unwrap().1, "*.blocked.test");
        assert!(n.blocked.get("blocked.test").is_none());
        assert!(n.blocked.get("EXACT.test").is_some());
        assert!(n.blocked.get("a.exact.test").is_none());
        assert!(n.blocked.get("suffix.test").is_some());
        assert!(n.blocked.get("mysuffix.test").is_some());
    }

    #[test]
    fn bad_values_name_the_option() {
        let e = NetworkOptions::from_options(&opts(json!({
            "hosts": {"a.test": "nope", "b c": "1.2.3.4"},
            "blacklistIPs": ["10.0.0.0/33"],
            "blockHostnames": ["*.exa mple.com"],
            "rps": -1,
            "batch": 0,
            "batchPerHost": -2,
            "systemTags": ["bogus", "vu"],
        })))
        .unwrap_err();
        let all = e.join("\n");
        for needle in [
            "invalid hosts entry \"a.test\": \"nope\"",
            "invalid host pattern 'b c'",
            "invalid blacklistIPs: failed to parse CIDR '10.0.0.0/33'",
            "invalid blockHostnames: invalid hostname pattern '*.exa mple.com'",
            "invalid rps -1",
            "invalid batch 0",
            "invalid batchPerHost -2",
            "unknown system tag `bogus`",
            "`vu` is not supported",
        ] {
            assert!(all.contains(needle), "{needle:?} not in {all}");
        }
        assert_eq!(e.len(), 9, "{all}");
    }

    #[test]
    fn local_ip_pools_as_k6() {
        let p = IpPool::parse("127.0.0.5-127.0.0.6,10.0.0.0/30,::1").unwrap();
        let ip = |s: &str| Some(s.parse::<IpAddr>().unwrap());
        assert_eq!(p.for_vu(1), ip("127.0.0.5"));
        assert_eq!(p.for_vu(2), ip("127.0.0.6"));
        assert_eq!(p.for_vu(3), ip("10.0.0.1"), "network address skipped");
        assert_eq!(p.for_vu(4), ip("10.0.0.2"));
        assert_eq!(p.for_vu(5), ip("::1"));
        assert_eq!(p.for_vu(6), ip("127.0.0.5"), "wraps around");
        assert_eq!(
            IpPool::parse("1.2.3.4/32").unwrap().for_vu(1),
            ip("1.2.3.4")
        );
        for (bad, msg) in [
            ("x", "x is not a valid IP, IP range or CIDR"),
            ("1.2.3.4-::1", "mixed IP range format: 1.2.3.4-::1"),
            ("1.2.3.9-1.2.3.4", "negative IP range: 1.2.3.9-1.2.3.4"),
        ] {
            assert_eq!(IpPool::parse(bad).unwrap_err(), msg);
        }
    }

    #[test]
    fn tls_versions_and_suites() {
        let n = NetworkOptions::from_options(&opts(json!({"tlsVersion": "tls1.2"}))).unwrap();
        assert_eq!(n.tls.versions, Some((TlsVersion::Tls12, TlsVersion::Tls12)));
        let n =
            NetworkOptions::from_options(&opts(json!({"tlsVersion": {"max": "tls1.2"}}))).unwrap();
        assert_eq!(n.tls.versions, Some((TlsVersion::Tls12, TlsVersion::Tls12)));
        let n = NetworkOptions::from_options(&opts(json!({"tlsCipherSuites": ["TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", "TLS_AES_128_GCM_SHA256"]}))).unwrap();
        assert_eq!(
            n.tls.tls12_suites,
            Some(vec!["TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"])
        );
        for (v, msg) in [
            (
                json!({"tlsVersion": "tls1.9"}),
                "unknown TLS version 'tls1.9'",
            ),
            (
                json!({"tlsVersion": {"min": "tls1.0"}}),
                "'tls1.0' is not supported",
            ),
            (
                json!({"tlsVersion": {"min": "tls1.3", "max": "tls1.2"}}),
                "min is above max",
            ),
            (
                json!({"tlsCipherSuites": ["NOPE"]}),
                "unknown cipher suite 'NOPE'",
            ),
            (
                json!({"tlsCipherSuites": ["TLS_RSA_WITH_RC4_128_SHA"]}),
                "'TLS_RSA_WITH_RC4_128_SHA' is not supported",
            ),
        ] {
            let e = NetworkOptions::from_options(&opts(v))
                .unwrap_err()
                .join("\n");
            assert!(e.contains(msg), "{msg:?} not in {e}");
        }
    }

    #[test]
    fn tls_auth_entries_and_bad_shapes() {
        let n = NetworkOptions::from_options(&opts(json!({"tlsAuth": [
            {"cert": "C", "key": "K", "domains": ["a.test"]},
            {"cert": "C2", "key": "K2"},
        ]})))
        .unwrap();
        assert_eq!(n.tls.client_certs.len(), 2);
        assert_eq!(n.tls.client_certs[0].domains, vec!["a.test".to_string()]);
        assert_eq!(n.tls.client_certs[1].key, "K2");
        assert!(!n.tls.is_default());
        for (v, msg) in [
            (json!({"tlsAuth": {}}), "use a list of {cert, key, domains}"),
            (json!({"tlsAuth": [5]}), "invalid tlsAuth[0] 5"),
            (
                json!({"tlsAuth": [{"cert": "C", "key": "K", "extra": 1}]}),
                "json: unknown field \"extra\"",
            ),
            (
                json!({"tlsAuth": [{"cert": 1, "key": "K"}]}),
                "invalid tlsAuth[0].cert 1",
            ),
            (
                json!({"tlsAuth": [{"cert": "C", "key": "K", "password": "p"}]}),
                "password-protected keys are not supported",
            ),
            (
                json!({"tlsAuth": [{"cert": "C", "key": "K", "domains": "a"}]}),
                "invalid tlsAuth[0].domains \"a\"",
            ),
            (json!({"tlsAuth": "[]"}), "K6_TLSAUTH cannot carry"),
        ] {
            let e = NetworkOptions::from_options(&opts(v))
                .unwrap_err()
                .join("\n");
            assert!(e.contains(msg), "{msg:?} not in {e}");
        }
    }

    #[test]
    fn dns_as_k6() {
        let n = NetworkOptions::from_options(&opts(
            json!({"dns": {"ttl": "1m", "select": "first", "policy": "onlyIPv6"}}),
        ))
        .unwrap();
        assert_eq!(
            n.dns,
            DnsConfig {
                ttl: Some(std::time::Duration::from_secs(60)),
                select: DnsSelect::First,
                policy: DnsPolicy::OnlyIpv6
            }
        );
        assert_eq!(
            dns_config(&json!("ttl=0,select=roundRobin")).unwrap().ttl,
            None
        );
        for (v, msg) in [
            (
                json!({"select": "bogus"}),
                "bogus does not belong to DNSSelect values",
            ),
            (json!("ttl=1m,x=y"), "unknown DNS configuration field: x"),
            (json!({"ttl": "-1s"}), "invalid DNS TTL: -1s"),
        ] {
            assert_eq!(dns_config(&v).unwrap_err(), msg);
        }
    }

    #[test]
    fn system_tags_default_and_subset() {
        let n = NetworkOptions::from_options(&Options::default()).unwrap();
        assert!(n.system_tags.has("url") && !n.system_tags.has("ip"));
        assert_eq!((n.batch, n.batch_per_host, n.rps), (20, 6, None));
        let n =
            NetworkOptions::from_options(&opts(json!({"systemTags": ["status", "ip"], "rps": 5})))
                .unwrap();
        assert!(
            n.system_tags.has("status") && n.system_tags.has("ip") && !n.system_tags.has("url")
        );
        assert_eq!(n.rps, Some(5));
    }
}
