//! The end-of-test summary: the text k6 prints, the `--summary-export` JSON and the
//! `handleSummary(data)` object.
//!
//! Receives the [`MetricsEngine`] after the final threshold evaluation plus [`SummaryOptions`];
//! emits strings and JSON values. Compact mode only (k6 v1's default).

pub mod data;
pub mod export;
pub mod format;
pub mod text;

pub use data::{SummaryMetric, SummaryOptions, build_data, collect_metrics};
pub use export::build_export;

use crate::metrics::engine::MetricsEngine;

/// The compact text summary, as jslib `textSummary(data)` returns it.
pub fn text_summary(engine: &mut MetricsEngine, opts: &SummaryOptions) -> String {
    let metrics = collect_metrics(engine, opts);
    text::render(&metrics, engine.flat_checks(), opts)
}

/// What k6 writes to stdout by default: `"\n" + textSummary + "\n\n"`.
pub fn stdout_text(engine: &mut MetricsEngine, opts: &SummaryOptions) -> String {
    format!("\n{}\n\n", text_summary(engine, opts))
}

#[cfg(test)]
mod golden_tests;
