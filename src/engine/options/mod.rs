//! The k6 `Options` model and how its layers combine (k6 reference §1.1). Receives the script's
//! exported `options` (as JSON), the `K6_*` environment ([`env`]) and CLI overrides (another
//! `Options`, built by the CLI); emits the consolidated [`Options`], which [`plan`] turns into
//! validated scenarios. Every field is optional: `None` means "not set on this layer".

pub mod env;
pub mod network;
pub mod plan;
pub mod scenarios;
pub mod support;

use std::collections::BTreeMap;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::duration::GoDuration;

/// An option value that could not be read.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum OptionsError {
    /// The script's `options` is not an object or a field has the wrong type.
    #[error("invalid options: {0}")]
    Json(String),
    /// A `K6_*` variable with a value that does not parse.
    #[error("invalid value \"{value}\" for {var}: {reason}")]
    Env {
        var: String,
        value: String,
        reason: String,
    },
}

/// One stage of `stages` (ramping executors and the `stages` shortcut).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Stage {
    pub duration: Option<GoDuration>,
    pub target: Option<i64>,
}

/// The k6 options. Field names serialise as k6's JSON keys.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Options {
    pub vus: Option<i64>,
    pub duration: Option<GoDuration>,
    pub iterations: Option<i64>,
    pub stages: Option<Vec<Stage>>,
    /// Raw scenario objects in declaration order; typed and validated by [`scenarios`].
    pub scenarios: Option<Map<String, Value>>,
    pub paused: Option<bool>,
    pub execution_segment: Option<String>,
    pub execution_segment_sequence: Option<String>,
    pub no_setup: Option<bool>,
    pub setup_timeout: Option<GoDuration>,
    pub no_teardown: Option<bool>,
    pub teardown_timeout: Option<GoDuration>,
    pub handle_summary_timeout: Option<GoDuration>,
    pub rps: Option<i64>,
    pub dns: Option<Value>,
    pub max_redirects: Option<i64>,
    pub user_agent: Option<String>,
    pub batch: Option<i64>,
    pub batch_per_host: Option<i64>,
    pub http_debug: Option<String>,
    #[serde(rename = "insecureSkipTLSVerify")]
    pub insecure_skip_tls_verify: Option<bool>,
    pub tls_cipher_suites: Option<Value>,
    pub tls_version: Option<Value>,
    pub tls_auth: Option<Value>,
    pub throw: Option<bool>,
    /// Kept raw; the thresholds module parses it.
    pub thresholds: Option<Value>,
    #[serde(rename = "blacklistIPs")]
    pub blacklist_ips: Option<Vec<String>>,
    pub block_hostnames: Option<Vec<String>>,
    pub hosts: Option<BTreeMap<String, Value>>,
    pub no_connection_reuse: Option<bool>,
    #[serde(rename = "noVUConnectionReuse")]
    pub no_vu_connection_reuse: Option<bool>,
    pub min_iteration_duration: Option<GoDuration>,
    pub ext: Option<Value>,
    pub summary_trend_stats: Option<Vec<String>>,
    pub summary_time_unit: Option<String>,
    pub system_tags: Option<Vec<String>>,
    pub tags: Option<BTreeMap<String, String>>,
    pub metric_samples_buffer_size: Option<i64>,
    pub no_cookies_reset: Option<bool>,
    pub discard_response_bodies: Option<bool>,
    pub console_output: Option<String>,
    #[serde(rename = "localIPs")]
    pub local_ips: Option<Value>,
    pub cloud: Option<Value>,
}

/// Keys k6 knows in `options` (anything else is warned about and ignored). `localIPs` is not one:
/// k6 reads it only from `K6_LOCAL_IPS`/`--local-ips` (`json:"-"`).
const KNOWN_KEYS: &[&str] = &[
    "vus",
    "duration",
    "iterations",
    "stages",
    "scenarios",
    "paused",
    "executionSegment",
    "executionSegmentSequence",
    "noSetup",
    "setupTimeout",
    "noTeardown",
    "teardownTimeout",
    "handleSummaryTimeout",
    "rps",
    "dns",
    "maxRedirects",
    "userAgent",
    "batch",
    "batchPerHost",
    "httpDebug",
    "insecureSkipTLSVerify",
    "tlsCipherSuites",
    "tlsVersion",
    "tlsAuth",
    "throw",
    "thresholds",
    "blacklistIPs",
    "blockHostnames",
    "hosts",
    "noConnectionReuse",
    "noVUConnectionReuse",
    "minIterationDuration",
    "ext",
    "summaryTrendStats",
    "summaryTimeUnit",
    "systemTags",
    "tags",
    "metricSamplesBufferSize",
    "noCookiesReset",
    "discardResponseBodies",
    "consoleOutput",
    "cloud",
];

/// k6's default `summaryTrendStats`.
pub const DEFAULT_TREND_STATS: &[&str] = &["avg", "min", "med", "max", "p(90)", "p(95)"];

/// k6's default `systemTags`.
pub const DEFAULT_SYSTEM_TAGS: &[&str] = &[
    "check",
    "error",
    "error_code",
    "expected_response",
    "group",
    "method",
    "name",
    "proto",
    "scenario",
    "service",
    "status",
    "subproto",
    "tls_version",
    "url",
];

/// k6's default user agent.
pub const DEFAULT_USER_AGENT: &str = "Grafana k6/1.1.0";

/// The serde error of a whole `options` object, told as "the option `key` has value `v`": each
/// key is tried alone to find the one that does not parse.
fn name_bad_field(known: &Map<String, Value>, whole: &serde_json::Error) -> String {
    for (k, v) in known {
        let one: Map<String, Value> = [(k.clone(), v.clone())].into_iter().collect();
        if let Err(e) = serde_json::from_value::<Options>(Value::Object(one)) {
            let mut shown = v.to_string();
            if shown.len() > 80 {
                shown = format!("{}...", &shown[..77]);
            }
            return format!("option `{k}` has an invalid value {shown}: {e}");
        }
    }
    whole.to_string()
}

impl Options {
    /// Reads the script's exported `options`. `null`/absent means no options. Unknown keys are
    /// returned (k6 warns about them and goes on); [`Options::from_script`] logs them.
    pub fn from_json(v: &Value) -> Result<(Options, Vec<String>), OptionsError> {
        let obj = match v {
            Value::Null => return Ok((Options::default(), Vec::new())),
            Value::Object(o) => o,
            other => {
                return Err(OptionsError::Json(format!(
                    "options must be an object, got {other}"
                )));
            }
        };
        let unknown: Vec<String> = obj
            .keys()
            .filter(|k| !KNOWN_KEYS.contains(&k.as_str()))
            .cloned()
            .collect();
        let known: Map<String, Value> = obj
            .iter()
            .filter(|(k, _)| KNOWN_KEYS.contains(&k.as_str()))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        let opts: Options = match serde_json::from_value(Value::Object(known.clone())) {
            Ok(o) => o,
            Err(e) => return Err(OptionsError::Json(name_bad_field(&known, &e))),
        };
        Ok((opts, unknown))
    }

    /// [`Options::from_json`] plus k6's warning for unknown keys.
    pub fn from_script(v: &Value) -> Result<Options, OptionsError> {
        let (opts, unknown) = Self::from_json(v)?;
        if !unknown.is_empty() {
            tracing::warn!(
                unknown = %unknown.join(", "),
                "There were unknown fields in the options exported in the script"
            );
        }
        Ok(opts)
    }

    /// True when this layer sets any execution option (duration, iterations, stages, scenarios).
    pub fn sets_execution(&self) -> bool {
        self.duration.is_some()
            || self.iterations.is_some()
            || self.stages.is_some()
            || self.scenarios.is_some()
    }

    /// Lays `higher` over `self` (k6 `Options.Apply`): set fields of `higher` win; if `higher` sets
    /// any execution option, all four are wiped from `self` first (VUs are kept). `layer` names the
    /// higher layer for k6's warning (`script`, `env`, `cli`).
    pub fn apply(mut self, higher: Options, layer: &str) -> Options {
        if higher.sets_execution() {
            if self.scenarios.is_some() {
                tracing::warn!(
                    "\"{layer}\" level configuration overrode scenarios configuration entirely"
                );
            }
            self.duration = None;
            self.iterations = None;
            self.stages = None;
            self.scenarios = None;
        }
        macro_rules! take {
            ($($f:ident),*) => { $( if higher.$f.is_some() { self.$f = higher.$f; } )* };
        }
        take!(
            vus,
            duration,
            iterations,
            stages,
            scenarios,
            paused,
            execution_segment,
            execution_segment_sequence,
            no_setup,
            setup_timeout,
            no_teardown,
            teardown_timeout,
            handle_summary_timeout,
            rps,
            dns,
            max_redirects,
            user_agent,
            batch,
            batch_per_host,
            http_debug,
            insecure_skip_tls_verify,
            tls_cipher_suites,
            tls_version,
            tls_auth,
            throw,
            thresholds,
            blacklist_ips,
            block_hostnames,
            hosts,
            no_connection_reuse,
            no_vu_connection_reuse,
            min_iteration_duration,
            ext,
            summary_trend_stats,
            summary_time_unit,
            system_tags,
            tags,
            metric_samples_buffer_size,
            no_cookies_reset,
            discard_response_bodies,
            console_output,
            local_ips,
            cloud
        );
        self
    }

    /// script < environment < CLI, as k6's `getConsolidatedConfig` (the config file layer, if any,
    /// goes below `script` via [`Options::apply`]).
    pub fn consolidate(script: Options, env: Options, cli: Options) -> Options {
        Options::default()
            .apply(script, "script")
            .apply(env, "env")
            .apply(cli, "cli")
    }

    /// `setupTimeout`, default 60 s.
    pub fn setup_timeout(&self) -> Duration {
        self.setup_timeout
            .map_or(Duration::from_secs(60), GoDuration::to_std)
    }

    /// `teardownTimeout`, default 60 s.
    pub fn teardown_timeout(&self) -> Duration {
        self.teardown_timeout
            .map_or(Duration::from_secs(60), GoDuration::to_std)
    }

    /// `handleSummaryTimeout`, default 120 s (k6's default).
    pub fn handle_summary_timeout(&self) -> Duration {
        self.handle_summary_timeout
            .map_or(Duration::from_secs(120), GoDuration::to_std)
    }

    /// `maxRedirects`, default 10.
    pub fn max_redirects(&self) -> i64 {
        self.max_redirects.unwrap_or(10)
    }

    /// `batch`, default 20.
    pub fn batch(&self) -> i64 {
        self.batch.unwrap_or(20)
    }

    /// `batchPerHost`, default 6.
    pub fn batch_per_host(&self) -> i64 {
        self.batch_per_host.unwrap_or(6)
    }

    /// `userAgent`, default `Grafana k6/1.1.0`.
    pub fn user_agent(&self) -> &str {
        self.user_agent.as_deref().unwrap_or(DEFAULT_USER_AGENT)
    }

    /// `summaryTrendStats`, default `avg,min,med,max,p(90),p(95)`.
    pub fn summary_trend_stats(&self) -> Vec<String> {
        self.summary_trend_stats
            .clone()
            .unwrap_or_else(|| DEFAULT_TREND_STATS.iter().map(|s| s.to_string()).collect())
    }

    /// `systemTags`, default k6's list.
    pub fn system_tags(&self) -> Vec<String> {
        self.system_tags
            .clone()
            .unwrap_or_else(|| DEFAULT_SYSTEM_TAGS.iter().map(|s| s.to_string()).collect())
    }

    /// The test-wide tags (`tags`), as a tag set.
    pub fn run_tags(&self) -> crate::metrics::TagSet {
        self.tags
            .iter()
            .flatten()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect()
    }

    /// The JSON k6 exposes as `exec.test.options`: every key (unset ones `null`), the defaults k6
    /// fills in for summaryTrendStats and systemTags.
    pub fn to_json(&self) -> Value {
        let mut o = self.clone();
        if o.summary_trend_stats.is_none() {
            o.summary_trend_stats = Some(self.summary_trend_stats());
        }
        if o.system_tags.is_none() {
            o.system_tags = Some(self.system_tags());
        }
        serde_json::to_value(&o).unwrap_or(Value::Null)
    }
}

#[cfg(test)]
#[path = "tests.rs"]
mod tests;
