//! Threshold parsing: k6's expression grammar, the string/object forms and sub-metric keys.
//!
//! Receives the raw `options.thresholds` JSON value; emits [`MetricThresholds`] (one per key) or
//! every problem found, with k6's error texts.

use std::time::Duration;

use serde_json::Value;

use crate::engine::duration::GoDuration;
use crate::metrics::sink::{Aggregation, parse_percentile_stat};
use crate::metrics::tags::TagSet;

/// A comparison operator. `===` and `==` are the same.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Operator {
    Le,
    Lt,
    Ge,
    Gt,
    Eq,
    Ne,
}

/// k6's scanning order: longer tokens sharing a prefix come first.
const OPERATORS: [(&str, Operator); 7] = [
    ("<=", Operator::Le),
    ("<", Operator::Lt),
    (">=", Operator::Ge),
    (">", Operator::Gt),
    ("===", Operator::Eq),
    ("==", Operator::Eq),
    ("!=", Operator::Ne),
];

impl Operator {
    /// True when `lhs <op> rhs` holds.
    pub fn holds(self, lhs: f64, rhs: f64) -> bool {
        match self {
            Operator::Le => lhs <= rhs,
            Operator::Lt => lhs < rhs,
            Operator::Ge => lhs >= rhs,
            Operator::Gt => lhs > rhs,
            Operator::Eq => lhs == rhs,
            Operator::Ne => lhs != rhs,
        }
    }
}

/// A parsed `<aggregation> <op> <number>` expression.
#[derive(Clone, Debug, PartialEq)]
pub struct Expression {
    pub aggregation: Aggregation,
    /// The aggregation as written, trimmed (`p(99.90)`), which the summary displays.
    pub aggregation_text: String,
    pub operator: Operator,
    pub value: f64,
}

/// One threshold of a metric.
#[derive(Clone, Debug, PartialEq)]
pub struct Threshold {
    /// The expression source as written (k6 shows it trimmed).
    pub source: String,
    pub expr: Expression,
    pub abort_on_fail: bool,
    pub delay_abort_eval: Option<Duration>,
}

/// All thresholds of one key (`name` or `name{k:v}`).
#[derive(Clone, Debug, PartialEq)]
pub struct MetricThresholds {
    /// The (sub-)metric name as k6 names it: `name` or `name{inner}` with the braces' content
    /// trimmed of surrounding spaces.
    pub key: String,
    /// The parent metric name.
    pub metric: String,
    /// The sub-metric filter; `None` for the metric itself.
    pub filter: Option<TagSet>,
    pub thresholds: Vec<Threshold>,
}

/// A threshold configuration problem (k6 exits 104 on these).
#[derive(Debug, thiserror::Error, PartialEq, Eq, Clone)]
pub enum ThresholdError {
    #[error("thresholds must be an object of metric name to array, got {0}")]
    NotAnObject(String),
    #[error("thresholds of metric {0} must be an array, got {1}")]
    NotAnArray(String, String),
    #[error("invalid threshold definition on {0}: {1}")]
    BadDefinition(String, String),
    #[error("parsing metric name failed, metric \"{0}\" has unmatched opening/close curly brace")]
    UnmatchedBrace(String),
    #[error(
        "parsing metric name failed, metric \"{0}\" closing curly brace appears before opening one"
    )]
    BraceOrder(String),
    #[error(
        "parsing metric name failed, metric \"{0}\" lacks a closing curly brace in its last position"
    )]
    NoClosingBrace(String),
    #[error("parsing metric name failed, metric \"{0}\" tag expression is malformed")]
    MalformedTag(String),
    #[error("failed parsing threshold expression \"{0}\"; reason: malformed threshold expression")]
    Malformed(String),
    #[error("failed parsing threshold expression's \"{0}\" left hand side; reason: {1}")]
    BadMethod(String, String),
    #[error("failed parsing threshold expresion's \"{0}\" right hand side; reason: {1}")]
    BadValue(String, String),
    #[error("invalid threshold defined on {0}; reason: no metric name \"{0}\" found")]
    UnknownMetric(String),
    #[error(
        "invalid threshold \"{threshold}\" applied on metric {metric}; reason: unsupported aggregation method {method} on metric of type {kind}. supported aggregation methods for this metric are: {supported}"
    )]
    UnsupportedAggregation {
        threshold: String,
        metric: String,
        method: String,
        kind: String,
        supported: String,
    },
    #[error("invalid delayAbortEval \"{1}\" on threshold \"{0}\"")]
    BadDelay(String, String),
}

/// Splits `input` at the first operator (k6's order) that has a non-empty right side.
fn scan(input: &str) -> Option<(&str, Operator, &str)> {
    for (tok, op) in OPERATORS {
        if let Some(pos) = input.find(tok) {
            let rhs = &input[pos + tok.len()..];
            if !rhs.is_empty() {
                return Some((input[..pos].trim(), op, rhs.trim()));
            }
        }
    }
    None
}

/// Parses a threshold expression such as `p(95) < 300`.
pub fn parse_expression(input: &str) -> Result<Expression, ThresholdError> {
    let Some((lhs, operator, rhs)) = scan(input) else {
        return Err(ThresholdError::Malformed(input.to_string()));
    };
    let aggregation = match lhs {
        "count" => Aggregation::Count,
        "rate" => Aggregation::Rate,
        "value" => Aggregation::Value,
        "avg" => Aggregation::Avg,
        "min" => Aggregation::Min,
        "max" => Aggregation::Max,
        "med" => Aggregation::Med,
        _ if lhs.starts_with("p(") && lhs.ends_with(')') => match parse_percentile_stat(lhs) {
            Some(p) => Aggregation::Percentile(p),
            None => {
                let inner = &lhs[2..lhs.len() - 1];
                return Err(ThresholdError::BadMethod(
                    input.to_string(),
                    format!(
                        "malformed percentile value; reason: strconv.ParseFloat: parsing \"{inner}\": invalid syntax"
                    ),
                ));
            }
        },
        _ => {
            return Err(ThresholdError::BadMethod(
                input.to_string(),
                "failed parsing method from expression".to_string(),
            ));
        }
    };
    let value = parse_go_float(rhs).ok_or_else(|| {
        ThresholdError::BadValue(
            input.to_string(),
            format!("strconv.ParseFloat: parsing \"{rhs}\": invalid syntax"),
        )
    })?;
    Ok(Expression {
        aggregation,
        aggregation_text: lhs.to_string(),
        operator,
        value,
    })
}

/// Go's ParseFloat accepts what Rust's does plus a few spellings; reject empty and `inf` words
/// Rust accepts only where Go also does.
fn parse_go_float(s: &str) -> Option<f64> {
    if s.is_empty() || s.starts_with('_') {
        return None;
    }
    s.parse::<f64>().ok()
}

/// Parses a threshold key `name` or `name{k:v,k2:v2}` into (parent name, filter, normalised key).
/// As k6's `ParseMetricName`, the tags run from the first `{` to the last `}`, so a value may
/// itself hold braces (`http_reqs{name:${}/echo?id=${}}`, the name `http.url` gives).
pub fn parse_metric_key(key: &str) -> Result<(String, Option<TagSet>, String), ThresholdError> {
    let (open, close) = match (key.find('{'), key.rfind('}')) {
        (None, None) => return Ok((key.to_string(), None, key.to_string())),
        (Some(open), Some(close)) if close > open => (open, close),
        (Some(_), Some(_)) => return Err(ThresholdError::BraceOrder(key.to_string())),
        _ => return Err(ThresholdError::UnmatchedBrace(key.to_string())),
    };
    if close != key.len() - 1 {
        return Err(ThresholdError::NoClosingBrace(key.to_string()));
    }
    let name = &key[..open];
    let inner = key[open + 1..close].trim();
    let mut tags = TagSet::new();
    for part in inner.split(',') {
        let Some((k, v)) = part.split_once(':') else {
            return Err(ThresholdError::MalformedTag(part.to_string()));
        };
        let k = trim_tag(k);
        let v = trim_tag(v);
        if k.is_empty() || v.is_empty() {
            return Err(ThresholdError::MalformedTag(part.to_string()));
        }
        tags.insert(k, v);
    }
    Ok((name.to_string(), Some(tags), format!("{name}{{{inner}}}")))
}

fn trim_tag(s: &str) -> &str {
    s.trim_matches(|c: char| c == ' ' || c == '"' || c == '\'')
}

/// `delayAbortEval` as k6 reads it (a `types.NullDuration`): a Go duration string or a number of
/// milliseconds, through the engine's one Go-duration parser ([`GoDuration`]). A negative result
/// (k6 turns `"inf"` and out-of-range numbers into one) means no delay, as in k6.
pub fn parse_duration(v: &Value) -> Option<Duration> {
    match v {
        Value::Number(_) | Value::String(_) => {
            GoDuration::from_json(v).ok().map(GoDuration::to_std)
        }
        _ => None,
    }
}

fn kind_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// Parses one entry of a metric's threshold array.
fn parse_threshold(key: &str, item: &Value) -> Result<Threshold, ThresholdError> {
    let (source, abort_on_fail, delay) = match item {
        Value::String(s) => (s.clone(), false, None),
        Value::Object(o) => {
            let Some(Value::String(src)) = o.get("threshold") else {
                return Err(ThresholdError::BadDefinition(
                    key.to_string(),
                    "`threshold` must be a string".to_string(),
                ));
            };
            let abort = match o.get("abortOnFail") {
                None | Some(Value::Null) => false,
                Some(Value::Bool(b)) => *b,
                Some(other) => {
                    return Err(ThresholdError::BadDefinition(
                        key.to_string(),
                        format!("`abortOnFail` must be a boolean, got {}", kind_name(other)),
                    ));
                }
            };
            let delay = match o.get("delayAbortEval") {
                None | Some(Value::Null) => None,
                Some(d) => match parse_duration(d) {
                    Some(d) => Some(d),
                    None => {
                        return Err(ThresholdError::BadDelay(src.clone(), d.to_string()));
                    }
                },
            };
            (src.clone(), abort, delay)
        }
        other => {
            return Err(ThresholdError::BadDefinition(
                key.to_string(),
                format!(
                    "a threshold must be a string or an object, got {}",
                    kind_name(other)
                ),
            ));
        }
    };
    let expr = parse_expression(&source)?;
    Ok(Threshold {
        source,
        expr,
        abort_on_fail,
        delay_abort_eval: delay,
    })
}

/// Parses the whole `options.thresholds` value. Collects every problem rather than stopping at
/// the first. Metric existence and aggregation support are checked by [`super::validate`].
pub fn parse_thresholds(value: &Value) -> Result<Vec<MetricThresholds>, Vec<ThresholdError>> {
    let (out, errors) = parse_thresholds_partial(value);
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(errors)
    }
}

/// Like [`parse_thresholds`] but returns what parsed alongside the errors.
pub fn parse_thresholds_partial(value: &Value) -> (Vec<MetricThresholds>, Vec<ThresholdError>) {
    let Value::Object(map) = value else {
        if value.is_null() {
            return (Vec::new(), Vec::new());
        }
        return (
            Vec::new(),
            vec![ThresholdError::NotAnObject(kind_name(value).to_string())],
        );
    };
    let mut out = Vec::with_capacity(map.len());
    let mut errors = Vec::new();
    for (raw_key, list) in map {
        let (metric, filter, key) = match parse_metric_key(raw_key) {
            Ok(parsed) => parsed,
            Err(e) => {
                errors.push(e);
                continue;
            }
        };
        let items: &[Value] = match list {
            Value::Array(a) => a,
            other => {
                errors.push(ThresholdError::NotAnArray(
                    raw_key.clone(),
                    kind_name(other).to_string(),
                ));
                continue;
            }
        };
        let mut thresholds = Vec::with_capacity(items.len());
        for item in items {
            match parse_threshold(raw_key, item) {
                Ok(t) => thresholds.push(t),
                Err(e) => errors.push(e),
            }
        }
        out.push(MetricThresholds {
            key,
            metric,
            filter,
            thresholds,
        });
    }
    (out, errors)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn expressions() {
        let e = parse_expression("  p(99.90) <  1e3 ").unwrap();
        assert_eq!(e.aggregation, Aggregation::Percentile(99.9));
        assert_eq!(e.aggregation_text, "p(99.90)");
        assert_eq!((e.operator, e.value), (Operator::Lt, 1000.0));
        assert_eq!(parse_expression("med===0").unwrap().operator, Operator::Eq);
        assert_eq!(parse_expression("med==0").unwrap().operator, Operator::Eq);
        assert_eq!(parse_expression("min!=0").unwrap().operator, Operator::Ne);
        assert_eq!(parse_expression("p(95)>=5").unwrap().operator, Operator::Ge);
        assert_eq!(parse_expression("rate>0.9").unwrap().operator, Operator::Gt);
        assert_eq!(
            parse_expression("count<=10").unwrap().operator,
            Operator::Le
        );
        assert_eq!(
            parse_expression("value>0").unwrap().aggregation,
            Aggregation::Value
        );
    }

    #[test]
    fn expression_errors_match_k6() {
        let msg = |s: &str| parse_expression(s).unwrap_err().to_string();
        assert_eq!(
            msg("avg 1"),
            "failed parsing threshold expression \"avg 1\"; reason: malformed threshold expression"
        );
        assert_eq!(
            msg("foo<1"),
            "failed parsing threshold expression's \"foo<1\" left hand side; reason: failed parsing method from expression"
        );
        assert_eq!(
            msg("avg<x"),
            "failed parsing threshold expresion's \"avg<x\" right hand side; reason: strconv.ParseFloat: parsing \"x\": invalid syntax"
        );
        // `<=` has an empty right side, so k6 splits at `<` and reads "=".
        assert!(msg("avg<=").contains("parsing \"=\""));
        assert!(msg("p(abc)<1").contains("malformed percentile value"));
    }

    #[test]
    fn metric_keys() {
        let (n, f, k) = parse_metric_key("http_req_duration").unwrap();
        assert_eq!(
            (n.as_str(), f, k.as_str()),
            ("http_req_duration", None, "http_req_duration")
        );
        let (n, f, k) = parse_metric_key("http_req_duration{ 'a' : \"b\" , c:d:e}").unwrap();
        assert_eq!(n, "http_req_duration");
        assert_eq!(k, "http_req_duration{'a' : \"b\" , c:d:e}");
        let f = f.unwrap();
        assert_eq!(f.get("a"), Some("b"));
        assert_eq!(f.get("c"), Some("d:e"));
        let (_, f, _) = parse_metric_key("http_reqs{group:::api}").unwrap();
        assert_eq!(f.unwrap().get("group"), Some("::api"));
        let err = |s: &str| parse_metric_key(s).unwrap_err().to_string();
        assert!(err("a{b:c").contains("unmatched opening/close curly brace"));
        assert!(err("a{b:c}d").contains("lacks a closing curly brace"));
        assert!(err("a{x:}").contains("metric \"x:\" tag expression is malformed"));
        assert!(err("a{x}").contains("metric \"x\" tag expression is malformed"));
        assert!(err("a{}").contains("metric \"\" tag expression is malformed"));
        assert!(err("a{b:c,}").contains("metric \"\" tag expression is malformed"));
        assert!(err("a}b{").contains("closing curly brace appears before opening one"));
        // The tags run from the first `{` to the last `}`: a value may hold braces (what
        // `http.url` names a request), as in k6.
        let (n, f, k) = parse_metric_key("http_reqs{name:${}/echo?id=${}}").unwrap();
        assert_eq!(
            (n.as_str(), k.as_str()),
            ("http_reqs", "http_reqs{name:${}/echo?id=${}}")
        );
        assert_eq!(f.unwrap().get("name"), Some("${}/echo?id=${}"));
    }

    #[test]
    fn object_form_and_all_errors() {
        let v = json!({
            "http_req_failed": [{"threshold": "rate<0.01", "abortOnFail": true, "delayAbortEval": "1m30s"}],
            "checks": ["rate>0.9"],
        });
        let parsed = parse_thresholds(&v).unwrap();
        assert_eq!(parsed.len(), 2);
        let t = &parsed[0].thresholds[0];
        assert!(t.abort_on_fail);
        assert_eq!(t.delay_abort_eval, Some(Duration::from_secs(90)));
        assert!(!parsed[1].thresholds[0].abort_on_fail);

        let bad = json!({
            "a": ["avg 1", "foo<1"],
            "b{x}": ["avg<1"],
            "c": "avg<1",
            "d": [{"threshold": 5}],
            "e": [{"threshold": "avg<1", "delayAbortEval": "bad"}],
        });
        let errs = parse_thresholds(&bad).unwrap_err();
        assert_eq!(errs.len(), 6, "{errs:?}");
        assert_eq!(parse_thresholds(&Value::Null).unwrap(), vec![]);
    }

    #[test]
    fn durations() {
        assert_eq!(
            parse_duration(&json!("500ms")),
            Some(Duration::from_millis(500))
        );
        assert_eq!(
            parse_duration(&json!(1500)),
            Some(Duration::from_millis(1500))
        );
        assert_eq!(
            parse_duration(&json!("1h2m")),
            Some(Duration::from_secs(3720))
        );
        assert_eq!(parse_duration(&json!("x")), None);
        assert_eq!(
            parse_duration(&json!("inf")),
            Some(Duration::ZERO),
            "k6: no delay"
        );
        assert_eq!(parse_duration(&json!(1e30)), Some(Duration::ZERO));
        assert_eq!(parse_duration(&json!(true)), None);
    }
}
