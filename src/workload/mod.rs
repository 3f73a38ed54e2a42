//! Workloads: `loadgate.yaml` maps a Keptn `teststrategy` to a k6 script and option overrides.
//!
//! Receives the YAML text (from a folder, the embedded default or the Keptn resource service,
//! see [`source`]); emits the [`Workload`] for a strategy and its [`Options`] layer, which the run
//! lays between the script's options and the `K6_*` environment.
//!
//! ```yaml
//! workloads:
//!   - teststrategy: performance
//!     script: performance.js
//!     vus: 5
//!     duration: 10s
//!     thresholds: { http_req_duration: ["p(95)<300"] }
//!     onThresholdFail: warning   # default fail
//!     env: { PATH_PREFIX: /api }
//!     target: http://fallback:8080
//!     parallelism: 1
//! ```

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::engine::options::Options;

pub mod source;

pub use source::{Resolved, WorkloadSource};

/// The file name looked up in every source.
pub const FILE_NAME: &str = "loadgate.yaml";

/// Why no workload could be used.
#[derive(Debug, thiserror::Error)]
pub enum WorkloadError {
    /// The YAML does not parse or a field has a wrong type.
    #[error("invalid {FILE_NAME}: {0}")]
    Invalid(String),
    /// No workload for the strategy.
    #[error("no workload for teststrategy '{strategy}' in {FILE_NAME} (known: {known})")]
    NoStrategy { strategy: String, known: String },
    /// The file or the script could not be read or fetched.
    #[error("{0}")]
    Missing(String),
}

/// What a threshold failure becomes in `.finished`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OnThresholdFail {
    #[default]
    Fail,
    Warning,
}

impl OnThresholdFail {
    /// The Keptn `result` value.
    pub fn result(self) -> &'static str {
        match self {
            OnThresholdFail::Fail => "fail",
            OnThresholdFail::Warning => "warning",
        }
    }
}

/// One entry of `workloads`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Workload {
    /// The Keptn strategy this entry answers (`default` also answers events without one).
    pub teststrategy: String,
    /// The k6 script, relative to the workload folder.
    pub script: String,
    pub vus: Option<i64>,
    pub duration: Option<String>,
    pub iterations: Option<i64>,
    pub stages: Option<Vec<Value>>,
    pub thresholds: Option<Value>,
    /// Extra `__ENV` for the script.
    #[serde(default)]
    pub env: BTreeMap<String, String>,
    #[serde(default)]
    pub on_threshold_fail: OnThresholdFail,
    /// The target URL used when the event names no deployment URL.
    pub target: Option<String>,
    /// Instances to split the test between (scale-out; runs on one instance for now).
    pub parallelism: Option<u32>,
}

/// The whole `loadgate.yaml`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WorkloadFile {
    pub workloads: Vec<Workload>,
}

impl WorkloadFile {
    /// Parses and checks the file (every entry's options must be valid k6 options).
    pub fn parse(text: &str) -> Result<Self, WorkloadError> {
        let file: WorkloadFile =
            serde_norway::from_str(text).map_err(|e| WorkloadError::Invalid(e.to_string()))?;
        for w in &file.workloads {
            if w.script.trim().is_empty() {
                return Err(WorkloadError::Invalid(format!(
                    "workload '{}' has no script",
                    w.teststrategy
                )));
            }
            w.options().map_err(|e| {
                WorkloadError::Invalid(format!("workload '{}': {e}", w.teststrategy))
            })?;
        }
        Ok(file)
    }

    /// The entry for `strategy` (absent: the `default` entry).
    pub fn select(&self, strategy: Option<&str>) -> Result<&Workload, WorkloadError> {
        let wanted = strategy.unwrap_or("default");
        self.workloads
            .iter()
            .find(|w| w.teststrategy == wanted)
            .ok_or_else(|| WorkloadError::NoStrategy {
                strategy: wanted.to_string(),
                known: self
                    .workloads
                    .iter()
                    .map(|w| w.teststrategy.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
            })
    }
}

impl Workload {
    /// The option overrides of this entry as a k6 options layer.
    pub fn options(&self) -> Result<Options, String> {
        let mut m = Map::new();
        if let Some(v) = self.vus {
            m.insert("vus".into(), v.into());
        }
        if let Some(v) = &self.duration {
            m.insert("duration".into(), v.clone().into());
        }
        if let Some(v) = self.iterations {
            m.insert("iterations".into(), v.into());
        }
        if let Some(v) = &self.stages {
            m.insert("stages".into(), Value::Array(v.clone()));
        }
        if let Some(v) = &self.thresholds {
            m.insert("thresholds".into(), v.clone());
        }
        Options::from_json(&Value::Object(m))
            .map(|(o, _)| o)
            .map_err(|e| e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_embedded_default() {
        let f = WorkloadFile::parse(source::EMBEDDED_YAML).unwrap();
        let w = f.select(Some("performance")).unwrap();
        assert!(w.options().unwrap().thresholds.is_some());
        assert!(f.select(Some("functional")).is_ok());
    }

    #[test]
    fn overrides_and_mapping() {
        let f = WorkloadFile::parse(
            "workloads:\n  - teststrategy: p\n    script: a.js\n    vus: 2\n    duration: 3s\n    onThresholdFail: warning\n    thresholds: { http_req_duration: [\"p(95)<300\"] }\n",
        )
        .unwrap();
        let w = f.select(Some("p")).unwrap();
        assert_eq!(w.on_threshold_fail.result(), "warning");
        let o = w.options().unwrap();
        assert_eq!(o.vus, Some(2));
        assert!(o.duration.is_some());
    }

    #[test]
    fn errors_name_the_problem() {
        let e = WorkloadFile::parse("workloads: [{teststrategy: p, script: a.js, duration: soon}]")
            .unwrap_err();
        assert!(e.to_string().contains("workload 'p'"), "{e}");
        let e = WorkloadFile::parse("nope: 1").unwrap_err();
        assert!(e.to_string().starts_with("invalid loadgate.yaml"), "{e}");
        let f = WorkloadFile::parse("workloads: [{teststrategy: p, script: a.js}]").unwrap();
        let e = f.select(Some("q")).unwrap_err();
        assert!(e.to_string().contains("'q'") && e.to_string().contains("known: p"));
        assert!(f.select(None).is_err());
    }
}
