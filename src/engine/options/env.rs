//! The `K6_*` environment layer (k6 `envconfig` tags in `lib/options.go`). Receives the environment
//! as a map (not read from the process, so it is testable); emits an [`Options`] with only the
//! variables that are set. `scenarios` and the execution segment have no variable, as in k6.

use std::collections::{BTreeMap, HashMap};

use super::{Options, OptionsError, Stage};
use crate::engine::duration::GoDuration;

fn err(var: &str, value: &str, reason: impl ToString) -> OptionsError {
    OptionsError::Env {
        var: var.to_string(),
        value: value.to_string(),
        reason: reason.to_string(),
    }
}

/// Go's `strconv.ParseBool`.
pub fn parse_bool(s: &str) -> Option<bool> {
    match s {
        "1" | "t" | "T" | "TRUE" | "true" | "True" => Some(true),
        "0" | "f" | "F" | "FALSE" | "false" | "False" => Some(false),
        _ => None,
    }
}

/// Parses `"1s:2,1s:0"` (also the CLI's `--stage dur:target`, one item).
pub fn parse_stages(s: &str) -> Result<Vec<Stage>, String> {
    s.split(',')
        .filter(|p| !p.trim().is_empty())
        .map(|p| {
            let (d, t) = p.trim().split_once(':').unwrap_or((p.trim(), ""));
            let duration = GoDuration::parse(d).map_err(|e| e.to_string())?;
            let target = if t.is_empty() {
                None
            } else {
                Some(
                    t.parse::<i64>()
                        .map_err(|e| format!("invalid stage target \"{t}\": {e}"))?,
                )
            };
            Ok(Stage {
                duration: Some(duration),
                target,
            })
        })
        .collect()
}

/// Parses `"k=v,k2=v2"` (`K6_TAGS`, `--tag`).
pub fn parse_tags(s: &str) -> Result<BTreeMap<String, String>, String> {
    s.split(',')
        .filter(|p| !p.trim().is_empty())
        .map(|p| {
            p.split_once('=')
                .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
                .ok_or_else(|| format!("tag \"{p}\" is not of the form key=value"))
        })
        .collect()
}

fn list(s: &str) -> Vec<String> {
    s.split(',')
        .map(|p| p.trim().to_string())
        .filter(|p| !p.is_empty())
        .collect()
}

impl Options {
    /// The `K6_*` layer from an environment map. Empty values count as unset.
    pub fn from_env(env: &HashMap<String, String>) -> Result<Options, OptionsError> {
        let mut o = Options::default();
        let get = |k: &str| env.get(k).map(|v| v.as_str()).filter(|v| !v.is_empty());
        let int = |k: &str| -> Result<Option<i64>, OptionsError> {
            get(k)
                .map(|v| v.trim().parse::<i64>().map_err(|e| err(k, v, e)))
                .transpose()
        };
        let boolean = |k: &str| -> Result<Option<bool>, OptionsError> {
            get(k)
                .map(|v| parse_bool(v.trim()).ok_or_else(|| err(k, v, "not a boolean")))
                .transpose()
        };
        let dur = |k: &str| -> Result<Option<GoDuration>, OptionsError> {
            get(k)
                .map(|v| GoDuration::parse(v).map_err(|e| err(k, v, e)))
                .transpose()
        };
        let string = |k: &str| get(k).map(str::to_string);

        o.vus = int("K6_VUS")?;
        o.duration = dur("K6_DURATION")?;
        o.iterations = int("K6_ITERATIONS")?;
        if let Some(v) = get("K6_STAGES") {
            o.stages = Some(parse_stages(v).map_err(|e| err("K6_STAGES", v, e))?);
        }
        if let Some(v) = get("K6_THRESHOLDS") {
            o.thresholds = Some(serde_json::from_str(v).map_err(|e| err("K6_THRESHOLDS", v, e))?);
        }
        if let Some(v) = get("K6_TAGS") {
            o.tags = Some(parse_tags(v).map_err(|e| err("K6_TAGS", v, e))?);
        }
        if let Some(v) = get("K6_HOSTS") {
            o.hosts = Some(serde_json::from_str(v).map_err(|e| err("K6_HOSTS", v, e))?);
        }
        o.setup_timeout = dur("K6_SETUP_TIMEOUT")?;
        o.teardown_timeout = dur("K6_TEARDOWN_TIMEOUT")?;
        o.handle_summary_timeout = dur("K6_HANDLE_SUMMARY_TIMEOUT")?;
        o.no_setup = boolean("K6_NO_SETUP")?;
        o.no_teardown = boolean("K6_NO_TEARDOWN")?;
        o.max_redirects = int("K6_MAX_REDIRECTS")?;
        o.user_agent = string("K6_USER_AGENT");
        o.batch = int("K6_BATCH")?;
        o.batch_per_host = int("K6_BATCH_PER_HOST")?;
        o.rps = int("K6_RPS")?;
        o.http_debug = string("K6_HTTP_DEBUG");
        o.insecure_skip_tls_verify = boolean("K6_INSECURE_SKIP_TLS_VERIFY")?;
        o.throw = boolean("K6_THROW")?;
        o.system_tags = get("K6_SYSTEM_TAGS").map(list);
        o.summary_trend_stats = get("K6_SUMMARY_TREND_STATS").map(list);
        o.summary_time_unit = string("K6_SUMMARY_TIME_UNIT");
        o.discard_response_bodies = boolean("K6_DISCARD_RESPONSE_BODIES")?;
        o.no_connection_reuse = boolean("K6_NO_CONNECTION_REUSE")?;
        o.no_vu_connection_reuse = boolean("K6_NO_VU_CONNECTION_REUSE")?;
        o.no_cookies_reset = boolean("K6_NO_COOKIES_RESET")?;
        o.min_iteration_duration = dur("K6_MIN_ITERATION_DURATION")?;
        o.blacklist_ips = get("K6_BLACKLIST_IPS").map(list);
        o.block_hostnames = get("K6_BLOCK_HOSTNAMES").map(list);
        o.paused = boolean("K6_PAUSED")?;
        o.console_output = string("K6_CONSOLE_OUTPUT");
        // Read so that they are refused loudly (support::refusals), never silently dropped.
        let raw = |k: &str| get(k).map(|v| serde_json::Value::String(v.to_string()));
        o.dns = raw("K6_DNS");
        o.local_ips = raw("K6_LOCAL_IPS");
        o.tls_cipher_suites = raw("K6_TLS_CIPHER_SUITES");
        o.tls_auth = raw("K6_TLSAUTH");
        Ok(o)
    }
}
