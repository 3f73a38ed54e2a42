//! Metric definitions: the built-in set (fixed ids) and custom metrics created by scripts.
//!
//! A [`Registry`] is shared by every VU of a test: scripts create custom metrics in the init context
//! of each VU, so registration is idempotent by name and type.

use std::collections::HashMap;
use std::sync::RwLock;

use serde::{Deserialize, Serialize};

/// k6's four metric types.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MetricType {
    Counter,
    Gauge,
    Rate,
    Trend,
}

impl MetricType {
    /// The lowercase name k6 uses (`counter`, `gauge`, `rate`, `trend`).
    pub fn as_str(self) -> &'static str {
        match self {
            MetricType::Counter => "counter",
            MetricType::Gauge => "gauge",
            MetricType::Rate => "rate",
            MetricType::Trend => "trend",
        }
    }
}

/// What a metric's values are, which decides formatting and unit conversion.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ValueType {
    /// Plain numbers.
    Default,
    /// Milliseconds.
    Time,
    /// Bytes.
    Data,
}

impl ValueType {
    /// The name k6 uses in `contains` (`default`, `time`, `data`).
    pub fn as_str(self) -> &'static str {
        match self {
            ValueType::Default => "default",
            ValueType::Time => "time",
            ValueType::Data => "data",
        }
    }
}

/// Index of a metric in its [`Registry`]; cheap to copy into every sample.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct MetricId(pub u32);

/// One metric's definition.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Metric {
    pub name: String,
    pub kind: MetricType,
    pub contains: ValueType,
}

/// Why a metric could not be registered.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum RegistryError {
    // k6's texts (metrics/registry.go).
    #[error(
        "Invalid metric name: '{0}'. Metric names must only include up to 128 ASCII letters, numbers, or underscores and start with a letter or an underscore."
    )]
    InvalidName(String),
    #[error("metric '{name}' already exists but with type {existing}, instead of {requested}")]
    TypeMismatch {
        name: String,
        existing: &'static str,
        requested: &'static str,
    },
    #[error(
        "metric '{name}' already exists but with a value type {existing}, instead of {requested}"
    )]
    ValueTypeMismatch {
        name: String,
        existing: &'static str,
        requested: &'static str,
    },
}

/// The built-in metrics, registered first in this order, so their ids are constants.
pub mod builtin {
    use super::{MetricId, MetricType, ValueType};

    macro_rules! builtins {
        ($( $konst:ident = $idx:expr, $name:literal, $kind:ident, $contains:ident; )*) => {
            $( pub const $konst: MetricId = MetricId($idx); )*
            /// (name, type, contains) of every built-in metric, indexed by id.
            pub const ALL: &[(&str, MetricType, ValueType)] = &[
                $( ($name, MetricType::$kind, ValueType::$contains), )*
            ];
        };
    }

    builtins! {
        VUS = 0, "vus", Gauge, Default;
        VUS_MAX = 1, "vus_max", Gauge, Default;
        ITERATIONS = 2, "iterations", Counter, Default;
        ITERATION_DURATION = 3, "iteration_duration", Trend, Time;
        DROPPED_ITERATIONS = 4, "dropped_iterations", Counter, Default;
        DATA_RECEIVED = 5, "data_received", Counter, Data;
        DATA_SENT = 6, "data_sent", Counter, Data;
        CHECKS = 7, "checks", Rate, Default;
        GROUP_DURATION = 8, "group_duration", Trend, Time;
        HTTP_REQS = 9, "http_reqs", Counter, Default;
        HTTP_REQ_FAILED = 10, "http_req_failed", Rate, Default;
        HTTP_REQ_DURATION = 11, "http_req_duration", Trend, Time;
        HTTP_REQ_BLOCKED = 12, "http_req_blocked", Trend, Time;
        HTTP_REQ_CONNECTING = 13, "http_req_connecting", Trend, Time;
        HTTP_REQ_TLS_HANDSHAKING = 14, "http_req_tls_handshaking", Trend, Time;
        HTTP_REQ_SENDING = 15, "http_req_sending", Trend, Time;
        HTTP_REQ_WAITING = 16, "http_req_waiting", Trend, Time;
        HTTP_REQ_RECEIVING = 17, "http_req_receiving", Trend, Time;
        WS_SESSIONS = 18, "ws_sessions", Counter, Default;
        WS_MSGS_SENT = 19, "ws_msgs_sent", Counter, Default;
        WS_MSGS_RECEIVED = 20, "ws_msgs_received", Counter, Default;
        WS_PING = 21, "ws_ping", Trend, Time;
        WS_SESSION_DURATION = 22, "ws_session_duration", Trend, Time;
        WS_CONNECTING = 23, "ws_connecting", Trend, Time;
        GRPC_REQ_DURATION = 24, "grpc_req_duration", Trend, Time;
        GRPC_STREAMS = 25, "grpc_streams", Counter, Default;
        GRPC_STREAMS_MSGS_SENT = 26, "grpc_streams_msgs_sent", Counter, Default;
        GRPC_STREAMS_MSGS_RECEIVED = 27, "grpc_streams_msgs_received", Counter, Default;
    }
}

/// All metrics of one test: built-ins plus the custom ones scripts declare.
#[derive(Debug)]
pub struct Registry {
    inner: RwLock<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    metrics: Vec<Metric>,
    by_name: HashMap<String, MetricId>,
}

impl Default for Registry {
    fn default() -> Self {
        Self::new()
    }
}

impl Registry {
    /// A registry holding the built-in metrics.
    pub fn new() -> Self {
        let mut inner = Inner::default();
        for (name, kind, contains) in builtin::ALL {
            let id = MetricId(inner.metrics.len() as u32);
            inner.metrics.push(Metric {
                name: (*name).to_string(),
                kind: *kind,
                contains: *contains,
            });
            inner.by_name.insert((*name).to_string(), id);
        }
        Registry {
            inner: RwLock::new(inner),
        }
    }

    /// Returns the id of `name`, registering it if new. Declaring an existing name again with the
    /// same type is fine (every VU runs the init context); another type is an error, as in k6.
    pub fn register(
        &self,
        name: &str,
        kind: MetricType,
        contains: ValueType,
    ) -> Result<MetricId, RegistryError> {
        if let Some(id) = self.lookup(name) {
            return self.check_same(id, name, kind, contains);
        }
        if !valid_name(name) {
            return Err(RegistryError::InvalidName(name.to_string()));
        }
        let mut inner = self.inner.write().unwrap_or_else(|e| e.into_inner());
        if let Some(&id) = inner.by_name.get(name) {
            drop(inner);
            return self.check_same(id, name, kind, contains);
        }
        let id = MetricId(inner.metrics.len() as u32);
        inner.metrics.push(Metric {
            name: name.to_string(),
            kind,
            contains,
        });
        inner.by_name.insert(name.to_string(), id);
        Ok(id)
    }

    fn check_same(
        &self,
        id: MetricId,
        name: &str,
        kind: MetricType,
        contains: ValueType,
    ) -> Result<MetricId, RegistryError> {
        let Some(existing) = self.get(id) else {
            return Ok(id);
        };
        if existing.kind != kind {
            return Err(RegistryError::TypeMismatch {
                name: name.to_string(),
                existing: existing.kind.as_str(),
                requested: kind.as_str(),
            });
        }
        if existing.contains != contains {
            return Err(RegistryError::ValueTypeMismatch {
                name: name.to_string(),
                existing: existing.contains.as_str(),
                requested: contains.as_str(),
            });
        }
        Ok(id)
    }

    /// The id of a metric by name, if it exists.
    pub fn lookup(&self, name: &str) -> Option<MetricId> {
        let inner = self.inner.read().unwrap_or_else(|e| e.into_inner());
        inner.by_name.get(name).copied()
    }

    /// A copy of a metric's definition.
    pub fn get(&self, id: MetricId) -> Option<Metric> {
        let inner = self.inner.read().unwrap_or_else(|e| e.into_inner());
        inner.metrics.get(id.0 as usize).cloned()
    }

    /// Copies of all definitions, indexed by id.
    pub fn all(&self) -> Vec<Metric> {
        let inner = self.inner.read().unwrap_or_else(|e| e.into_inner());
        inner.metrics.clone()
    }
}

/// k6's rule for custom metric names: `^[a-zA-Z_][a-zA-Z0-9_]{1,128}$`.
pub fn valid_name(name: &str) -> bool {
    let bytes = name.as_bytes();
    if bytes.len() < 2 || bytes.len() > 129 {
        return false;
    }
    (bytes[0].is_ascii_alphabetic() || bytes[0] == b'_')
        && bytes[1..]
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || *b == b'_')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtins_have_fixed_ids() {
        let r = Registry::new();
        assert_eq!(
            r.lookup("http_req_duration"),
            Some(builtin::HTTP_REQ_DURATION)
        );
        assert_eq!(
            r.get(builtin::CHECKS).map(|m| m.kind),
            Some(MetricType::Rate)
        );
    }

    #[test]
    fn register_is_idempotent_and_typed() {
        let r = Registry::new();
        let a = r.register("my_counter", MetricType::Counter, ValueType::Default);
        let b = r.register("my_counter", MetricType::Counter, ValueType::Default);
        assert_eq!(a, b);
        assert!(matches!(
            r.register("my_counter", MetricType::Trend, ValueType::Default),
            Err(RegistryError::TypeMismatch { .. })
        ));
        assert!(matches!(
            r.register("1bad", MetricType::Counter, ValueType::Default),
            Err(RegistryError::InvalidName(_))
        ));
        // k6's texts, and a value-type change is refused as in k6.
        let t = r.register("my_t", MetricType::Trend, ValueType::Time);
        assert!(t.is_ok());
        assert_eq!(
            r.register("my_t", MetricType::Trend, ValueType::Default)
                .unwrap_err()
                .to_string(),
            "metric 'my_t' already exists but with a value type time, instead of default"
        );
        assert_eq!(
            r.register("my_counter", MetricType::Trend, ValueType::Default)
                .unwrap_err()
                .to_string(),
            "metric 'my_counter' already exists but with type counter, instead of trend"
        );
        assert!(!valid_name("a"));
    }
}
