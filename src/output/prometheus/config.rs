//! Remote-write configuration, read from k6's `K6_PROMETHEUS_RW_*` environment variables with k6's
//! names, defaults and parsing (k6.md §7.1), except the trend stats default, which is loadgate's
//! `p(95),p(99),min,max,avg,med`. Receives an environment map; emits a validated [`RwConfig`].
//! Secrets (password, token, header values) never appear in `Debug` output.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::time::Duration;

use crate::engine::duration::GoDuration;

/// The environment prefix of every option.
pub const ENV_PREFIX: &str = "K6_PROMETHEUS_RW_";

/// k6's default server URL.
pub const DEFAULT_URL: &str = "http://localhost:9090/api/v1/write";

/// loadgate's default trend stats (k6's own default is `p(99)` alone).
pub const DEFAULT_TREND_STATS: &[&str] = &["p(95)", "p(99)", "min", "max", "avg", "med"];

/// Why the configuration is invalid.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ConfigError {
    #[error("invalid {var} `{value}`: {reason}")]
    Invalid {
        var: String,
        value: String,
        reason: String,
    },
    #[error("{0} is not supported by loadgate")]
    Unsupported(String),
}

/// The remote-write output's settings.
#[derive(Clone, PartialEq)]
pub struct RwConfig {
    /// Where to POST (`K6_PROMETHEUS_RW_SERVER_URL`).
    pub server_url: url::Url,
    /// How often to push (`_PUSH_INTERVAL`, default 5s).
    pub push_interval: Duration,
    /// Trend statistics written as gauges (`_TREND_STATS`).
    pub trend_stats: Vec<String>,
    /// Trends as native histograms instead of stat gauges (`_TREND_AS_NATIVE_HISTOGRAM`).
    pub trend_as_native_histogram: bool,
    /// Write stale markers for every series at the end (`_STALE_MARKERS`).
    pub stale_markers: bool,
    /// Basic auth (`_USERNAME`, `_PASSWORD`), used when the username is set.
    pub username: Option<String>,
    pub password: Option<String>,
    /// `Authorization: Bearer` (`_BEARER_TOKEN`).
    pub bearer_token: Option<String>,
    /// Extra request headers (`_HEADERS_<Name>`, `_HTTP_HEADERS`).
    pub headers: BTreeMap<String, String>,
    /// Skip TLS certificate verification (`_INSECURE_SKIP_TLS_VERIFY`).
    pub insecure_skip_tls_verify: bool,
    /// Timeout of one push request (k6: 5s).
    pub request_timeout: Duration,
    /// Pushes waiting to be sent; beyond this the oldest is dropped (loadgate).
    pub max_pending_pushes: usize,
    /// Retries of one push on 5xx or network errors while the test runs (loadgate).
    pub max_retries: u32,
    /// How long `stop()` may take to deliver what is left (loadgate).
    pub stop_timeout: Duration,
}

impl Default for RwConfig {
    fn default() -> Self {
        RwConfig {
            server_url: url::Url::parse(DEFAULT_URL).unwrap_or_else(|_| unreachable!()),
            push_interval: Duration::from_secs(5),
            trend_stats: DEFAULT_TREND_STATS.iter().map(|s| s.to_string()).collect(),
            trend_as_native_histogram: false,
            stale_markers: false,
            username: None,
            password: None,
            bearer_token: None,
            headers: BTreeMap::new(),
            insecure_skip_tls_verify: false,
            request_timeout: Duration::from_secs(5),
            max_pending_pushes: 64,
            max_retries: 5,
            stop_timeout: Duration::from_secs(10),
        }
    }
}

impl fmt::Debug for RwConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let redacted = |o: &Option<String>| o.as_ref().map(|_| "<redacted>");
        f.debug_struct("RwConfig")
            .field("server_url", &crate::redact::url(self.server_url.as_str()))
            .field("push_interval", &self.push_interval)
            .field("trend_stats", &self.trend_stats)
            .field("trend_as_native_histogram", &self.trend_as_native_histogram)
            .field("stale_markers", &self.stale_markers)
            .field("username", &self.username)
            .field("password", &redacted(&self.password))
            .field("bearer_token", &redacted(&self.bearer_token))
            .field("headers", &self.headers.keys().collect::<Vec<_>>())
            .field("insecure_skip_tls_verify", &self.insecure_skip_tls_verify)
            .finish_non_exhaustive()
    }
}

fn invalid(var: &str, value: &str, reason: impl Into<String>) -> ConfigError {
    ConfigError::Invalid {
        var: var.to_string(),
        value: value.to_string(),
        reason: reason.into(),
    }
}

/// Go's `strconv.ParseBool`.
fn parse_bool(var: &str, v: &str) -> Result<bool, ConfigError> {
    match v {
        "1" | "t" | "T" | "TRUE" | "true" | "True" => Ok(true),
        "0" | "f" | "F" | "FALSE" | "false" | "False" => Ok(false),
        _ => Err(invalid(var, v, "not a boolean")),
    }
}

/// Validates one trend stat (`count`, `sum`, `min`, `max`, `avg`, `med`, `p(N)` with 0 ≤ N ≤ 100).
pub fn valid_trend_stat(s: &str) -> bool {
    match s {
        "count" | "sum" | "min" | "max" | "avg" | "med" => true,
        _ => crate::metrics::sink::parse_percentile_stat(s)
            .is_some_and(|p| (0.0..=100.0).contains(&p)),
    }
}

impl RwConfig {
    /// Reads every `K6_PROMETHEUS_RW_*` variable of `env` over the defaults.
    pub fn from_env(env: &HashMap<String, String>) -> Result<Self, ConfigError> {
        let mut c = RwConfig::default();
        let get = |name: &str| env.get(&format!("{ENV_PREFIX}{name}")).map(String::as_str);
        let var = |name: &str| format!("{ENV_PREFIX}{name}");
        if let Some(v) = get("SERVER_URL") {
            c.server_url = parse_url(&var("SERVER_URL"), v)?;
        }
        if let Some(v) = get("PUSH_INTERVAL") {
            let d = GoDuration::parse(v)
                .map_err(|e| invalid(&var("PUSH_INTERVAL"), v, e.to_string()))?;
            if d.0 <= 0 {
                return Err(invalid(&var("PUSH_INTERVAL"), v, "must be positive"));
            }
            c.push_interval = d.to_std();
        }
        if let Some(v) = get("TREND_STATS") {
            c.trend_stats = parse_trend_stats(&var("TREND_STATS"), v)?;
        }
        if let Some(v) = get("TREND_AS_NATIVE_HISTOGRAM") {
            c.trend_as_native_histogram = parse_bool(&var("TREND_AS_NATIVE_HISTOGRAM"), v)?;
        }
        if let Some(v) = get("STALE_MARKERS") {
            c.stale_markers = parse_bool(&var("STALE_MARKERS"), v)?;
        }
        if let Some(v) = get("INSECURE_SKIP_TLS_VERIFY") {
            c.insecure_skip_tls_verify = parse_bool(&var("INSECURE_SKIP_TLS_VERIFY"), v)?;
        }
        c.username = get("USERNAME")
            .filter(|s| !s.is_empty())
            .map(str::to_string);
        c.password = get("PASSWORD").map(str::to_string);
        c.bearer_token = get("BEARER_TOKEN")
            .filter(|s| !s.is_empty())
            .map(str::to_string);
        if let Some(v) = get("HTTP_HEADERS") {
            for pair in v.split(',').filter(|p| !p.trim().is_empty()) {
                let parts: Vec<&str> = pair.split(':').collect();
                if parts.len() != 2 {
                    // The value is not echoed: headers carry secrets.
                    return Err(invalid(
                        &var("HTTP_HEADERS"),
                        "...",
                        "use name:value pairs separated by commas",
                    ));
                }
                c.headers
                    .insert(parts[0].trim().to_string(), parts[1].trim().to_string());
            }
        }
        let header_prefix = var("HEADERS_");
        for (k, v) in env {
            if let Some(name) = k.strip_prefix(&header_prefix).filter(|n| !n.is_empty()) {
                c.headers.insert(name.to_string(), v.clone());
            }
        }
        for name in [
            "CLIENT_CERTIFICATE",
            "CLIENT_CERTIFICATE_KEY",
            "SIGV4_REGION",
            "SIGV4_ACCESS_KEY",
            "SIGV4_SECRET_KEY",
        ] {
            if get(name).is_some_and(|v| !v.is_empty()) {
                return Err(ConfigError::Unsupported(var(name)));
            }
        }
        Ok(c)
    }
}

/// An `http(s)://` URL.
pub fn parse_url(var: &str, v: &str) -> Result<url::Url, ConfigError> {
    let u = url::Url::parse(v).map_err(|e| invalid(var, v, e.to_string()))?;
    if !matches!(u.scheme(), "http" | "https") {
        return Err(invalid(var, v, "the scheme must be http or https"));
    }
    Ok(u)
}

/// A comma list of trend stats.
pub fn parse_trend_stats(var: &str, v: &str) -> Result<Vec<String>, ConfigError> {
    let stats: Vec<String> = v
        .split(',')
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect();
    if stats.is_empty() {
        return Err(invalid(var, v, "no trend stat given"));
    }
    if let Some(bad) = stats.iter().find(|s| !valid_trend_stat(s)) {
        return Err(invalid(
            var,
            v,
            format!("unknown stat `{bad}` (use count, sum, min, max, avg, med, p(N))"),
        ));
    }
    Ok(stats)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn defaults() {
        let c = RwConfig::from_env(&HashMap::new()).unwrap();
        assert_eq!(c.server_url.as_str(), DEFAULT_URL);
        assert_eq!(c.push_interval, Duration::from_secs(5));
        assert_eq!(
            c.trend_stats,
            ["p(95)", "p(99)", "min", "max", "avg", "med"]
        );
        assert!(!c.trend_as_native_histogram && !c.stale_markers && !c.insecure_skip_tls_verify);
    }

    #[test]
    fn every_k6_variable() {
        let c = RwConfig::from_env(&env(&[
            (
                "K6_PROMETHEUS_RW_SERVER_URL",
                "http://127.0.0.1:9/api/v1/write",
            ),
            ("K6_PROMETHEUS_RW_PUSH_INTERVAL", "1s500ms"),
            ("K6_PROMETHEUS_RW_TREND_STATS", "p(99.9), count,sum"),
            ("K6_PROMETHEUS_RW_TREND_AS_NATIVE_HISTOGRAM", "true"),
            ("K6_PROMETHEUS_RW_STALE_MARKERS", "1"),
            ("K6_PROMETHEUS_RW_INSECURE_SKIP_TLS_VERIFY", "T"),
            ("K6_PROMETHEUS_RW_USERNAME", "u"),
            ("K6_PROMETHEUS_RW_PASSWORD", "secret-pw"),
            ("K6_PROMETHEUS_RW_BEARER_TOKEN", "secret-token"),
            ("K6_PROMETHEUS_RW_HEADERS_X-Scope-OrgID", "tenant1"),
            ("K6_PROMETHEUS_RW_HTTP_HEADERS", "a:1, b:2"),
        ]))
        .unwrap();
        assert_eq!(c.server_url.as_str(), "http://127.0.0.1:9/api/v1/write");
        assert_eq!(c.push_interval, Duration::from_millis(1500));
        assert_eq!(c.trend_stats, ["p(99.9)", "count", "sum"]);
        assert!(c.trend_as_native_histogram && c.stale_markers && c.insecure_skip_tls_verify);
        assert_eq!(c.username.as_deref(), Some("u"));
        assert_eq!(
            c.headers.get("X-Scope-OrgID").map(String::as_str),
            Some("tenant1")
        );
        assert_eq!(c.headers.get("a").map(String::as_str), Some("1"));
        assert_eq!(c.headers.get("b").map(String::as_str), Some("2"));
        let debug = format!("{c:?}");
        assert!(
            !debug.contains("secret") && !debug.contains("tenant1"),
            "{debug}"
        );
    }

    #[test]
    fn errors_name_the_value() {
        let e = RwConfig::from_env(&env(&[("K6_PROMETHEUS_RW_TREND_STATS", "p95")])).unwrap_err();
        assert!(e.to_string().contains("`p95`"), "{e}");
        let e = RwConfig::from_env(&env(&[("K6_PROMETHEUS_RW_STALE_MARKERS", "yes")])).unwrap_err();
        assert!(
            e.to_string()
                .contains("K6_PROMETHEUS_RW_STALE_MARKERS `yes`"),
            "{e}"
        );
        assert!(RwConfig::from_env(&env(&[("K6_PROMETHEUS_RW_SERVER_URL", "ftp://x")])).is_err());
        assert!(RwConfig::from_env(&env(&[("K6_PROMETHEUS_RW_PUSH_INTERVAL", "0s")])).is_err());
        let e =
            RwConfig::from_env(&env(&[("K6_PROMETHEUS_RW_HTTP_HEADERS", "a:b:c")])).unwrap_err();
        assert!(!e.to_string().contains("a:b:c"));
        assert!(matches!(
            RwConfig::from_env(&env(&[("K6_PROMETHEUS_RW_SIGV4_REGION", "eu")])),
            Err(ConfigError::Unsupported(_))
        ));
    }
}
