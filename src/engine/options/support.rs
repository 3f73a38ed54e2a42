//! The rule "every option loadgate parses is implemented with k6's meaning, or refused at start":
//! [`CONSUMERS`] says where each field of [`Options`] is read, [`refusals`] turns a set option that
//! loadgate does not implement into one clear line naming it (k6 exit 104). The test below walks
//! every serialised field of [`Options`], so a new field cannot be parsed and silently dropped.

use serde_json::Value;

use super::Options;

/// How loadgate treats one option.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Treatment {
    /// Implemented; the text says where it is read.
    Consumed(&'static str),
    /// Refused at start with exit 104 when set (see [`refusals`]).
    Refused,
    /// Implemented by another part of the project (named), tracked there.
    OwnedElsewhere(&'static str),
}

use Treatment::{Consumed, OwnedElsewhere, Refused};

/// Every k6 option field and its treatment, by its JSON name.
pub const CONSUMERS: &[(&str, Treatment)] = &[
    ("vus", Consumed("plan::derive_scenarios")),
    ("duration", Consumed("plan::derive_scenarios")),
    ("iterations", Consumed("plan::derive_scenarios")),
    ("stages", Consumed("plan::derive_scenarios")),
    ("scenarios", Consumed("scenarios::ScenarioConfig")),
    (
        "paused",
        Consumed("engine::scheduler (waits for a resume from api::)"),
    ),
    ("executionSegment", Consumed("plan::TestPlan (segment)")),
    (
        "executionSegmentSequence",
        Consumed("plan::TestPlan (segment)"),
    ),
    ("noSetup", Consumed("engine::scheduler")),
    (
        "setupTimeout",
        Consumed("engine::scheduler (interrupts setup, exit 100)"),
    ),
    ("noTeardown", Consumed("engine::scheduler")),
    (
        "teardownTimeout",
        Consumed("engine::scheduler (interrupts teardown, exit 101)"),
    ),
    (
        "handleSummaryTimeout",
        Consumed("run::summarize (interrupts handleSummary)"),
    ),
    (
        "rps",
        Consumed("network::NetworkOptions -> http::RateLimiter"),
    ),
    ("dns", Consumed("network::DnsConfig -> http::dns::Resolver")),
    ("maxRedirects", Consumed("run::settings_from -> k6/http")),
    (
        "userAgent",
        Consumed("run::settings_from -> http::ClientConfig"),
    ),
    (
        "batch",
        Consumed("network::NetworkOptions -> HttpClient::execute_batch"),
    ),
    (
        "batchPerHost",
        Consumed("network::NetworkOptions -> HttpClient::execute_batch, idle pool size"),
    ),
    (
        "httpDebug",
        Consumed("run::settings_from -> js::log::http_debug"),
    ),
    (
        "insecureSkipTLSVerify",
        Consumed("run::settings_from -> http::tls"),
    ),
    (
        "tlsCipherSuites",
        Consumed("network::TlsChoice -> http::tls::build_with"),
    ),
    (
        "tlsVersion",
        Consumed("network::TlsChoice -> http::tls::build_with"),
    ),
    (
        "tlsAuth",
        Consumed("network::TlsChoice -> http::tls::build_with"),
    ),
    ("throw", Consumed("run::settings_from -> k6/http")),
    ("thresholds", Consumed("metrics::engine")),
    (
        "blacklistIPs",
        Consumed("network::NetworkOptions -> http::conn::resolve"),
    ),
    (
        "blockHostnames",
        Consumed("network::NetworkOptions -> http::conn::resolve"),
    ),
    (
        "hosts",
        Consumed("network::NetworkOptions -> http::conn::resolve"),
    ),
    (
        "noConnectionReuse",
        Consumed("network::NetworkOptions -> http::ClientConfig"),
    ),
    (
        "noVUConnectionReuse",
        Consumed("network::NetworkOptions -> js::vu (between iterations)"),
    ),
    (
        "minIterationDuration",
        Consumed("run::settings_from -> js::vu"),
    ),
    (
        "ext",
        Consumed("k6 run ignores it locally (cloud settings); so does loadgate"),
    ),
    ("summaryTrendStats", Consumed("output::summary")),
    ("summaryTimeUnit", Consumed("output::summary")),
    (
        "systemTags",
        Consumed("network::SystemTags -> k6/http, check, group, scenario"),
    ),
    ("tags", Consumed("Options::run_tags -> every sample")),
    (
        "metricSamplesBufferSize",
        Consumed("validated; k6's internal channel size, no observable effect in k6 or loadgate"),
    ),
    ("noCookiesReset", Consumed("run::settings_from -> js::vu")),
    (
        "discardResponseBodies",
        Consumed("run::settings_from -> k6/http"),
    ),
    (
        "consoleOutput",
        OwnedElsewhere("issue 12: --console-output"),
    ),
    (
        "localIPs",
        Consumed("network::IpPool -> js::vu -> http::conn (source address)"),
    ),
    (
        "cloud",
        Consumed("k6 run ignores it locally (cloud settings); so does loadgate"),
    ),
];

/// The treatment of option `key`, if it is a k6 option.
pub fn treatment(key: &str) -> Option<Treatment> {
    CONSUMERS.iter().find(|(k, _)| *k == key).map(|(_, t)| *t)
}

fn shown(v: &Value) -> String {
    let s = v.to_string();
    if s.len() > 80 {
        format!("{}...", &s[..77])
    } else {
        s
    }
}

/// One line per set option that loadgate does not implement.
pub fn refusals(o: &Options) -> Vec<String> {
    let mut out = Vec::new();
    let Ok(Value::Object(fields)) = serde_json::to_value(o) else {
        return out;
    };
    for (key, value) in &fields {
        if value.is_null() || treatment(key) != Some(Refused) {
            continue;
        }
        out.push(format!(
            "option `{key}` is not supported by loadgate (got {})",
            shown(value)
        ));
    }
    if let Some(n) = o.metric_samples_buffer_size
        && n < 0
    {
        out.push(format!(
            "invalid metricSamplesBufferSize {n}: must be 0 or positive"
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Walks every field of [`Options`] (as serialised, so as a script spells it): each one must
    /// have a consumer, a refusal or an owner, and the table may not name fields that do not exist.
    #[test]
    fn every_option_field_has_a_consumer_or_a_refusal() {
        let Value::Object(fields) = serde_json::to_value(Options::default()).unwrap() else {
            panic!("Options must serialise to an object");
        };
        let missing: Vec<&String> = fields.keys().filter(|k| treatment(k).is_none()).collect();
        assert!(
            missing.is_empty(),
            "options parsed with no consumer and no refusal (add them to CONSUMERS): {missing:?}"
        );
        let stale: Vec<&str> = CONSUMERS
            .iter()
            .map(|(k, _)| *k)
            .filter(|k| !fields.contains_key(*k))
            .collect();
        assert!(
            stale.is_empty(),
            "CONSUMERS names unknown fields: {stale:?}"
        );
        assert_eq!(CONSUMERS.len(), fields.len(), "a field is listed twice");
    }

    /// Every refused option, when set, gives its own line naming it.
    #[test]
    fn refused_options_are_named() {
        for (key, t) in CONSUMERS {
            if *t != Refused {
                continue;
            }
            let mut obj = serde_json::Map::new();
            obj.insert(key.to_string(), serde_json::json!({"x": 1}));
            let o: Options = match serde_json::from_value(Value::Object(obj)) {
                Ok(o) => o,
                Err(e) => panic!("{key}: {e}"),
            };
            let lines = refusals(&o);
            assert_eq!(lines.len(), 1, "{key}: {lines:?}");
            assert!(lines[0].contains(&format!("`{key}`")), "{lines:?}");
        }
        assert!(refusals(&Options::default()).is_empty());
    }
}
