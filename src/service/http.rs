//! The service's HTTP face (axum): `POST /` takes test.triggered CloudEvents in structured mode
//! (as Keptn's distributor sends them, or plain JSON) and binary mode (`ce-*` headers) and answers
//! 202 at once; the test runs in the background and its answers go to the distributor or the
//! Keptn API. Also `GET /v1/tests`, `GET /v1/tests/{id}`, `/health/live`, `/health/ready` and
//! `/metrics`.
//!
//! Receives HTTP requests; emits [`Triggered`] events to the [`JobManager`] and JSON responses.

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::json;

use super::answer::Responder;
use super::jobs::{JobManager, Submitted};
use crate::keptn::event::{EventError, decode_structured, parse_triggered};

/// What the HTTP handlers share.
#[derive(Clone)]
pub struct AppState {
    pub jobs: JobManager,
    /// The subscribed `...triggered` types.
    pub types: Arc<Vec<String>>,
    /// Where answers to HTTP events go.
    pub responder: Responder,
    /// The NATS client, when NATS is configured (for readiness).
    pub nats: Option<async_nats::Client>,
}

/// The router; `max_body` caps `POST /` bodies (413 beyond).
pub fn app(state: AppState, max_body: usize) -> Router {
    Router::new()
        .route("/", post(post_event))
        .route("/v1/tests", get(list_tests))
        .route("/v1/tests/{id}", get(get_test))
        .route("/health/live", get(|| async { "ok\n" }))
        .route("/health/ready", get(ready))
        .route("/metrics", get(metrics))
        .layer(DefaultBodyLimit::max(max_body))
        .with_state(state)
}

fn refuse(state: &AppState, code: StatusCode, reason: &str, error: &str) -> Response {
    state
        .jobs
        .metrics()
        .events_refused
        .with_label_values(&["http", reason])
        .inc();
    tracing::warn!(transport = "http", reason, error, "event refused");
    (code, axum::Json(json!({ "error": error }))).into_response()
}

fn decode(headers: &HeaderMap, body: Bytes) -> Result<cloudevents::Event, EventError> {
    let binary = headers.keys().any(|k| k.as_str().starts_with("ce-"));
    if binary {
        cloudevents::binding::http::to_event(headers, body.to_vec())
            .map_err(|e| EventError::Invalid(e.to_string()))
    } else {
        decode_structured(&body)
    }
}

async fn post_event(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    state
        .jobs
        .metrics()
        .events_received
        .with_label_values(&["http"])
        .inc();
    if state.jobs.is_closing() {
        return refuse(
            &state,
            StatusCode::SERVICE_UNAVAILABLE,
            "shutting_down",
            "shutting down",
        );
    }
    let event = match decode(&headers, body) {
        Ok(e) => e,
        Err(e) => return refuse(&state, StatusCode::BAD_REQUEST, "invalid", &e.to_string()),
    };
    let t = match parse_triggered(&event, &state.types) {
        Ok(t) => t,
        Err(e @ EventError::UnknownType(_)) => {
            return refuse(
                &state,
                StatusCode::BAD_REQUEST,
                "unknown_type",
                &e.to_string(),
            );
        }
        Err(e) => return refuse(&state, StatusCode::BAD_REQUEST, "invalid", &e.to_string()),
    };
    if let Some(e) = &t.data_error {
        tracing::warn!(transport = "http", id = %t.id, error = %e, "invalid event data; answering with an errored .finished");
    }
    let id = t.id.clone();
    match state.jobs.submit(t, state.responder.clone()) {
        Submitted::Accepted => {
            (StatusCode::ACCEPTED, axum::Json(json!({ "accepted": id }))).into_response()
        }
        Submitted::Duplicate => {
            state
                .jobs
                .metrics()
                .events_refused
                .with_label_values(&["http", "duplicate"])
                .inc();
            tracing::info!(id, "duplicate delivery ignored");
            (StatusCode::ACCEPTED, axum::Json(json!({ "duplicate": id }))).into_response()
        }
        Submitted::ShuttingDown => refuse(
            &state,
            StatusCode::SERVICE_UNAVAILABLE,
            "shutting_down",
            "shutting down",
        ),
    }
}

async fn list_tests(State(state): State<AppState>) -> Response {
    axum::Json(json!({ "tests": state.jobs.list() })).into_response()
}

async fn get_test(State(state): State<AppState>, Path(id): Path<String>) -> Response {
    match state.jobs.get(&id) {
        Some(j) => axum::Json(j).into_response(),
        None => (
            StatusCode::NOT_FOUND,
            axum::Json(json!({ "error": format!("no test with id '{id}'") })),
        )
            .into_response(),
    }
}

async fn ready(State(state): State<AppState>) -> Response {
    if state.jobs.is_closing() {
        return (StatusCode::SERVICE_UNAVAILABLE, "shutting down\n").into_response();
    }
    match &state.nats {
        Some(c) if c.connection_state() != async_nats::connection::State::Connected => {
            (StatusCode::SERVICE_UNAVAILABLE, "nats not connected\n").into_response()
        }
        _ => (StatusCode::OK, "ok\n").into_response(),
    }
}

async fn metrics(State(state): State<AppState>) -> Response {
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        state.jobs.metrics().render(),
    )
        .into_response()
}
