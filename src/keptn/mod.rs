//! Keptn's side of the test task: the CloudEvent types (`sh.keptn.event.<task>.triggered` in,
//! `.started`/`.finished` out) and the resource-service client.
//!
//! Receives CloudEvents parsed by cloudevents-sdk (from HTTP or NATS bodies); emits validated
//! [`event::Triggered`] values and answer events as structured-mode JSON ([`serde_json::Value`]),
//! ready to publish on NATS or POST to the distributor / Keptn API. [`resource`] fetches files
//! from the Keptn resource service.

pub mod event;
pub mod resource;

pub use event::{EventError, Finished, Triggered, answer_type, build_finished, build_started};
pub use resource::{ResourceClient, ResourceError};
