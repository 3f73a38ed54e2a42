//! A small GraphQL-over-HTTP endpoint (`POST /graphql`) shaped like the part of GitHub's API that
//! k6's `examples/graphql.js` uses: the query `repository { issues(first:N) { edges { node { id
//! number title } } } }` and the mutation `addReaction(input:{subjectId, content})`. It is not a
//! GraphQL engine: the operation is recognised by its root field, arguments are read from the
//! query text or from `variables`. Requests need `Authorization: Bearer TOKEN` (401 otherwise, as
//! GitHub answers); unknown operations get a GraphQL `errors` document with status 200.

use axum::body::{Body, to_bytes};
use axum::http::header::{AUTHORIZATION, CONTENT_TYPE};
use axum::http::{HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

/// Largest request body read.
const MAX_BODY: usize = 1024 * 1024;

/// The issues the endpoint knows, newest first.
const ISSUES: [(&str, u64, &str); 3] = [
    ("I_kwDOA4esbc5xBQwA", 5012, "gRPC streaming support"),
    ("I_kwDOA4esbc5w9ZrB", 5011, "HTTP/2 timings"),
    ("I_kwDOA4esbc5w8aTk", 5010, "WebSocket ping metric"),
];

const REACTIONS: [&str; 8] = [
    "THUMBS_UP",
    "THUMBS_DOWN",
    "LAUGH",
    "HOORAY",
    "CONFUSED",
    "HEART",
    "ROCKET",
    "EYES",
];

pub(super) async fn handle(req: axum::extract::Request) -> Response {
    let (parts, body) = req.into_parts();
    if parts.method != Method::POST {
        return answer(
            StatusCode::METHOD_NOT_ALLOWED,
            &json!({ "message": "GraphQL requests are POSTed" }),
        );
    }
    let authorised = parts
        .headers
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .is_some_and(|t| !t.trim().is_empty());
    if !authorised {
        return answer(
            StatusCode::UNAUTHORIZED,
            &json!({ "message": "This endpoint requires you to be authenticated." }),
        );
    }
    let Ok(bytes) = to_bytes(body, MAX_BODY).await else {
        return answer(
            StatusCode::PAYLOAD_TOO_LARGE,
            &json!({ "message": "body too large" }),
        );
    };
    let Ok(doc) = serde_json::from_slice::<Value>(&bytes) else {
        return answer(
            StatusCode::BAD_REQUEST,
            &json!({ "message": "Problems parsing JSON" }),
        );
    };
    let Some(query) = doc.get("query").and_then(Value::as_str) else {
        return errors("A query attribute must be specified and must be a string.");
    };
    let vars = doc.get("variables").cloned().unwrap_or(Value::Null);
    answer(StatusCode::OK, &execute(query, &vars))
}

/// Runs one operation of the known shapes.
fn execute(query: &str, vars: &Value) -> Value {
    let op = query.trim_start();
    if op.starts_with("mutation") {
        if !query.contains("addReaction") {
            return errors_doc("unknown mutation");
        }
        let subject = argument(query, "subjectId", vars);
        let content = argument(query, "content", vars);
        let Some(subject) = subject.filter(|s| ISSUES.iter().any(|i| i.0 == s)) else {
            return errors_doc("Could not resolve to a node with the global id given");
        };
        let Some(content) = content.filter(|c| REACTIONS.contains(&c.as_str())) else {
            return errors_doc("Argument 'content' has an invalid value");
        };
        return json!({ "data": { "addReaction": {
            "reaction": { "content": content },
            "subject": { "id": subject },
        } } });
    }
    if op.starts_with('{') || op.starts_with("query") {
        if !query.contains("repository") || !query.contains("issues") {
            return errors_doc("unknown query");
        }
        let first = argument(query, "first", vars)
            .and_then(|n| n.parse::<usize>().ok())
            .unwrap_or(ISSUES.len());
        let edges: Vec<Value> = ISSUES
            .iter()
            .take(first)
            .map(|(id, number, title)| {
                json!({ "node": { "id": id, "number": number, "title": title } })
            })
            .collect();
        return json!({ "data": { "repository": { "issues": { "edges": edges } } } });
    }
    errors_doc("Parse error: expected a query or a mutation")
}

/// The value of argument `name` in the query text (`name:"v"`, `name: V`, or `name: $var` taken
/// from `variables`).
fn argument(query: &str, name: &str, vars: &Value) -> Option<String> {
    let at = query.find(&format!("{name}:"))? + name.len() + 1;
    let rest = query[at..].trim_start();
    if let Some(var) = rest.strip_prefix('$') {
        let var: String = var
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect();
        return match vars.get(&var)? {
            Value::String(s) => Some(s.clone()),
            other => Some(other.to_string()),
        };
    }
    if let Some(quoted) = rest.strip_prefix('"') {
        return quoted.split('"').next().map(str::to_owned);
    }
    let word: String = rest
        .chars()
        .take_while(|c| c.is_alphanumeric() || *c == '_')
        .collect();
    (!word.is_empty()).then_some(word)
}

fn errors_doc(message: &str) -> Value {
    json!({ "errors": [{ "message": message }] })
}

fn errors(message: &str) -> Response {
    answer(StatusCode::OK, &errors_doc(message))
}

fn answer(code: StatusCode, doc: &Value) -> Response {
    (
        code,
        [(CONTENT_TYPE, HeaderValue::from_static("application/json"))],
        Body::from(doc.to_string()),
    )
        .into_response()
}
