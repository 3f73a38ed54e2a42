//! Parsing and validating `test.triggered`, building `test.started` and `test.finished`.
//!
//! Receives a [`cloudevents::Event`] (structured or binary mode, already parsed); emits a
//! [`Triggered`] (envelope plus the data fields loadgate uses, unknown keys kept) or an
//! [`EventError`] saying why it cannot be answered. Answers are structured CloudEvents as JSON,
//! carrying over `shkeptncontext`, `gitcommitid`, `shkeptnspecversion`, with
//! `triggeredid` = the triggered id and `source: loadgate` (keptn.md §10).

use std::collections::BTreeMap;
use std::time::SystemTime;

use cloudevents::event::SpecVersion;
use cloudevents::{AttributesReader, Data, Event};
use serde::Serialize;
use serde_json::{Map, Value, json};

use crate::timefmt::rfc3339_ms;

/// The `source` of every answer.
pub const SOURCE: &str = "loadgate";
/// The largest answer sent (the distributor and the Keptn API refuse more than 64 KB, and NATS
/// refuses a payload over its server's limit): [`fit`] trims every answer below it.
pub const MAX_ANSWER_BYTES: usize = 60 * 1024;
/// How long a string field of an answer may stay when the answer has to be trimmed.
const TRIMMED_FIELD_BYTES: usize = 1024;

/// Why an event cannot be run.
#[derive(Debug, thiserror::Error, Clone, PartialEq)]
pub enum EventError {
    /// Not a CloudEvent at all (malformed JSON, missing id/source/type, wrong specversion).
    #[error("invalid cloudevent: {0}")]
    Invalid(String),
    /// A type that does not end in `.triggered` or is not subscribed.
    #[error("unsupported event type '{0}'")]
    UnknownType(String),
    /// The event can be answered, but its data is unusable (missing project/stage/service...).
    #[error("invalid test.triggered data: {0}")]
    Data(String),
}

/// A received `<task>.triggered` event: the envelope and the data fields used.
#[derive(Clone, Debug, Serialize)]
pub struct Triggered {
    pub id: String,
    #[serde(rename = "type")]
    pub ty: String,
    pub source: String,
    pub shkeptncontext: String,
    pub gitcommitid: Option<String>,
    pub shkeptnspecversion: Option<String>,
    pub project: String,
    pub stage: String,
    pub service: String,
    pub labels: BTreeMap<String, String>,
    /// `data.test.teststrategy` (a free string; absent when the shipyard gives none).
    pub teststrategy: Option<String>,
    /// `deploymentURIsLocal[0]`, else `deploymentURIsPublic[0]`.
    pub deployment_url: Option<String>,
    /// Why the data is unusable, when it is (the event is still answered, with an error).
    #[serde(skip)]
    pub data_error: Option<String>,
}

/// The answer type for `kind` (`started`, `finished`): the received type with its last segment
/// replaced, so custom task names work.
pub fn answer_type(triggered_type: &str, kind: &str) -> String {
    match triggered_type.rsplit_once('.') {
        Some((prefix, _)) => format!("{prefix}.{kind}"),
        None => format!("{triggered_type}.{kind}"),
    }
}

fn ext(event: &Event, name: &str) -> Option<String> {
    event
        .extension(name)
        .map(|v| v.to_string())
        .filter(|s| !s.is_empty())
}

fn data_json(event: &Event) -> Result<Value, String> {
    match event.data() {
        None => Err("no data".into()),
        Some(Data::Json(v)) => Ok(v.clone()),
        Some(Data::String(s)) => {
            serde_json::from_str(s).map_err(|e| format!("data is not JSON: {e}"))
        }
        Some(Data::Binary(b)) => {
            serde_json::from_slice(b).map_err(|e| format!("data is not JSON: {e}"))
        }
    }
}

fn str_field(data: &Value, key: &str) -> Option<String> {
    data.get(key)
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(String::from)
}

/// Validates a received event against the subscribed `types`. Envelope problems (wrong type)
/// are errors; data problems are kept in [`Triggered::data_error`] so the event is still answered.
pub fn parse_triggered(event: &Event, types: &[String]) -> Result<Triggered, EventError> {
    if event.specversion() != SpecVersion::V10 {
        return Err(EventError::Invalid(format!(
            "specversion '{}' is not 1.0",
            event.specversion()
        )));
    }
    let ty = event.ty().to_string();
    if !ty.ends_with(".triggered") || !types.iter().any(|t| t == &ty) {
        return Err(EventError::UnknownType(ty));
    }
    let id = event.id().to_string();
    if id.trim().is_empty() {
        return Err(EventError::Invalid("empty id".into()));
    }
    let mut problems = Vec::new();
    let shkeptncontext = ext(event, "shkeptncontext").unwrap_or_else(|| {
        problems.push("missing shkeptncontext".to_string());
        String::new()
    });
    let data = data_json(event).unwrap_or_else(|e| {
        problems.push(e);
        Value::Null
    });
    let mut field = |k: &str| {
        str_field(&data, k).unwrap_or_else(|| {
            problems.push(format!("missing data.{k}"));
            String::new()
        })
    };
    let project = field("project");
    let stage = field("stage");
    let service = field("service");
    let labels = data
        .get("labels")
        .and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .map(|(k, v)| {
                    let v = v.as_str().map_or_else(|| v.to_string(), String::from);
                    (k.clone(), v)
                })
                .collect()
        })
        .unwrap_or_default();
    let teststrategy = data.get("test").and_then(|t| str_field(t, "teststrategy"));
    let first = |key: &str| {
        data.get("deployment")
            .and_then(|d| d.get(key))
            .and_then(Value::as_array)
            .and_then(|a| a.first())
            .and_then(Value::as_str)
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(String::from)
    };
    let deployment_url = first("deploymentURIsLocal").or_else(|| first("deploymentURIsPublic"));
    Ok(Triggered {
        id,
        ty,
        source: event.source().to_string(),
        shkeptncontext,
        gitcommitid: ext(event, "gitcommitid"),
        shkeptnspecversion: ext(event, "shkeptnspecversion"),
        project,
        stage,
        service,
        labels,
        teststrategy,
        deployment_url,
        data_error: (!problems.is_empty()).then(|| problems.join("; ")),
    })
}

/// Parses a structured-mode JSON CloudEvent (NATS bodies, HTTP without `ce-` headers).
pub fn decode_structured(body: &[u8]) -> Result<Event, EventError> {
    serde_json::from_slice::<Event>(body).map_err(|e| EventError::Invalid(e.to_string()))
}

fn envelope(t: &Triggered, kind: &str, data: Value) -> Value {
    let mut e = Map::new();
    e.insert("specversion".into(), json!("1.0"));
    e.insert("id".into(), json!(uuid::Uuid::new_v4().to_string()));
    e.insert("source".into(), json!(SOURCE));
    e.insert("type".into(), json!(answer_type(&t.ty, kind)));
    e.insert("datacontenttype".into(), json!("application/json"));
    e.insert("time".into(), json!(rfc3339_ms(SystemTime::now())));
    e.insert("shkeptncontext".into(), json!(t.shkeptncontext));
    e.insert("triggeredid".into(), json!(t.id));
    if let Some(v) = &t.shkeptnspecversion {
        e.insert("shkeptnspecversion".into(), json!(v));
    }
    if let Some(v) = &t.gitcommitid {
        e.insert("gitcommitid".into(), json!(v));
    }
    e.insert("data".into(), data);
    Value::Object(e)
}

fn base_data(t: &Triggered) -> Map<String, Value> {
    let mut d = Map::new();
    d.insert("project".into(), json!(t.project));
    d.insert("stage".into(), json!(t.stage));
    d.insert("service".into(), json!(t.service));
    d.insert("labels".into(), json!(t.labels));
    d
}

/// The `.started` answer.
pub fn build_started(t: &Triggered, message: &str) -> Value {
    let mut d = base_data(t);
    d.insert("status".into(), json!("succeeded"));
    d.insert("message".into(), json!(truncate(message, 4096)));
    let mut event = envelope(t, "started", Value::Object(d));
    fit(&mut event);
    event
}

/// What a `.finished` answer says.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Finished {
    /// `succeeded` or `errored`.
    pub status: String,
    /// `pass`, `warning` or `fail`.
    pub result: String,
    pub message: String,
    pub start: SystemTime,
    pub end: SystemTime,
}

impl Finished {
    /// A tool error: `errored`/`fail`.
    pub fn errored(message: impl Into<String>, start: SystemTime) -> Self {
        Finished {
            status: "errored".into(),
            result: "fail".into(),
            message: message.into(),
            start,
            end: SystemTime::now(),
        }
    }
}

/// Cuts `s` to at most `max` bytes on a char boundary, marking the cut.
pub fn truncate(s: &str, max: usize) -> String {
    if s.len() <= max {
        return s.to_string();
    }
    let mut end = max.saturating_sub(3);
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}...", &s[..end])
}

/// The `.finished` answer, always under [`MAX_ANSWER_BYTES`] (the message is cut if needed).
pub fn build_finished(t: &Triggered, f: &Finished) -> Value {
    let mut d = base_data(t);
    d.insert("status".into(), json!(f.status));
    d.insert("result".into(), json!(f.result));
    d.insert("message".into(), json!(truncate(&f.message, 8192)));
    let mut test = Map::new();
    test.insert("start".into(), json!(rfc3339_ms(f.start)));
    test.insert("end".into(), json!(rfc3339_ms(f.end)));
    if let Some(g) = &t.gitcommitid {
        test.insert("gitCommit".into(), json!(g));
    }
    d.insert("test".into(), Value::Object(test));
    let mut event = envelope(t, "finished", Value::Object(d));
    fit(&mut event);
    event
}

/// Trims an answer that would exceed [`MAX_ANSWER_BYTES`] (labels, `gitcommitid` and the other
/// fields come from the event, i.e. from users): first the labels are dropped, then every string
/// longer than 1 KB (the message included) is cut, and the message says so. An answer that fits is
/// left as it is.
pub fn fit(event: &mut Value) {
    if event.to_string().len() <= MAX_ANSWER_BYTES {
        return;
    }
    let mut trimmed = Vec::new();
    if let Some(data) = event.get_mut("data").and_then(Value::as_object_mut)
        && data
            .get("labels")
            .is_some_and(|l| l.as_object().is_some_and(|o| !o.is_empty()))
    {
        data.insert("labels".into(), json!({}));
        trimmed.push("labels dropped");
    }
    if event.to_string().len() > MAX_ANSWER_BYTES {
        cut_strings(event, TRIMMED_FIELD_BYTES);
        trimmed.push("fields longer than 1 KB cut");
    }
    if let Some(data) = event.get_mut("data").and_then(Value::as_object_mut) {
        let message = data
            .get("message")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let note = format!(
            "(answer trimmed to fit {} KB: {})",
            MAX_ANSWER_BYTES / 1024,
            trimmed.join(", ")
        );
        let message = if message.is_empty() {
            note
        } else {
            format!("{message} {note}")
        };
        data.insert("message".into(), json!(message));
    }
}

/// Cuts every string in `v` (except the answer's `type`) to `max` bytes.
fn cut_strings(v: &mut Value, max: usize) {
    match v {
        Value::String(s) if s.len() > max => *s = truncate(s, max),
        Value::Array(a) => a.iter_mut().for_each(|x| cut_strings(x, max)),
        Value::Object(o) => {
            for (k, x) in o.iter_mut() {
                if k != "type" {
                    cut_strings(x, max);
                }
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(v: Value) -> Event {
        serde_json::from_value(v).unwrap()
    }

    fn types() -> Vec<String> {
        vec!["sh.keptn.event.test.triggered".into()]
    }

    const FIXTURE: &str = include_str!("../../test-data/events/test.triggered.json");

    #[test]
    fn parses_the_shipyard_event() {
        let e: Event = serde_json::from_str(FIXTURE).unwrap();
        let t = parse_triggered(&e, &types()).unwrap();
        assert_eq!(t.project, "shop");
        assert_eq!(t.teststrategy.as_deref(), Some("performance"));
        assert_eq!(
            t.deployment_url.as_deref(),
            Some("http://checkout.shop-staging:8080")
        );
        assert_eq!(
            t.gitcommitid.as_deref(),
            Some("58d0a99b4fbd95af8b7891f7799c5e636515e244")
        );
        assert!(t.data_error.is_none());
        assert_eq!(t.labels["buildId"], "build-418");
    }

    #[test]
    fn missing_fields_are_answerable_data_errors() {
        let e = event(json!({"specversion":"1.0","id":"x","source":"s",
            "type":"sh.keptn.event.test.triggered","data":{"project":"p"}}));
        let t = parse_triggered(&e, &types()).unwrap();
        let err = t.data_error.unwrap();
        assert!(
            err.contains("shkeptncontext") && err.contains("data.stage"),
            "{err}"
        );
    }

    #[test]
    fn unknown_types_are_refused() {
        let e = event(json!({"specversion":"1.0","id":"x","source":"s",
            "type":"sh.keptn.event.deployment.triggered","data":{}}));
        assert!(matches!(
            parse_triggered(&e, &types()),
            Err(EventError::UnknownType(_))
        ));
    }

    #[test]
    fn answers_carry_the_context() {
        let e: Event = serde_json::from_str(FIXTURE).unwrap();
        let t = parse_triggered(&e, &types()).unwrap();
        let s = build_started(&t, "ok");
        assert_eq!(s["type"], "sh.keptn.event.test.started");
        assert_eq!(s["triggeredid"], t.id.as_str());
        assert_eq!(s["source"], "loadgate");
        let f = build_finished(
            &t,
            &Finished::errored("x".repeat(100_000), SystemTime::now()),
        );
        assert!(f.to_string().len() < MAX_ANSWER_BYTES);
        assert_eq!(f["data"]["status"], "errored");
        assert_eq!(f["shkeptnspecversion"], "0.2.4");
    }

    #[test]
    fn every_answer_fits_below_the_cap() {
        // Users' labels and fields are carried over; huge ones would make the distributor, the
        // Keptn API or NATS refuse the answer, which is then lost. They are trimmed instead.
        let e: Event = serde_json::from_str(FIXTURE).unwrap();
        let mut t = parse_triggered(&e, &types()).unwrap();
        t.labels = (0..300)
            .map(|i| (format!("label{i}"), "v".repeat(1000)))
            .collect();
        t.gitcommitid = Some("c".repeat(200_000));
        t.project = "p".repeat(100_000);
        let s = build_started(&t, "ok");
        let f = build_finished(
            &t,
            &Finished::errored("x".repeat(100_000), SystemTime::now()),
        );
        for a in [&s, &f] {
            assert!(
                a.to_string().len() < MAX_ANSWER_BYTES,
                "{}",
                a.to_string().len()
            );
            assert_eq!(a["triggeredid"], t.id.as_str());
            assert_eq!(a["shkeptncontext"], t.shkeptncontext.as_str());
            assert_eq!(a["data"]["labels"], json!({}));
            let message = a["data"]["message"].as_str().unwrap();
            assert!(
                message.ends_with(
                    "(answer trimmed to fit 60 KB: labels dropped, fields longer than 1 KB cut)"
                ),
                "{message}"
            );
        }
        assert_eq!(s["type"], "sh.keptn.event.test.started");
        assert_eq!(f["data"]["status"], "errored");
        assert!(f["gitcommitid"].as_str().unwrap().ends_with("..."));

        // Labels alone: only they go.
        t.gitcommitid = None;
        t.project = "shop".into();
        let s = build_started(&t, "ok");
        assert!(s.to_string().len() < MAX_ANSWER_BYTES);
        assert_eq!(s["data"]["project"], "shop");
        assert_eq!(
            s["data"]["message"],
            "ok (answer trimmed to fit 60 KB: labels dropped)"
        );

        // An answer that fits is untouched.
        let e: Event = serde_json::from_str(FIXTURE).unwrap();
        let t = parse_triggered(&e, &types()).unwrap();
        let s = build_started(&t, "ok");
        assert_eq!(s["data"]["message"], "ok");
        assert_eq!(s["data"]["labels"], json!(t.labels));
    }

    #[test]
    fn custom_task_types() {
        assert_eq!(
            answer_type("sh.keptn.event.loadtest.triggered", "finished"),
            "sh.keptn.event.loadtest.finished"
        );
    }
}
