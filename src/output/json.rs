//! The `json` output (`-o json=FILE`), in k6's format: one JSON object per line, a `Metric` line
//! the first time a metric appears, then a `Point` line per sample. Writing happens on a thread of
//! its own, so neither the VUs nor the metrics task wait for the disk.

use std::collections::HashSet;
use std::io::{BufWriter, Write};
use std::path::PathBuf;
use std::sync::Arc;

use futures_util::future::BoxFuture;
use serde_json::{Value, json};

use crate::metrics::{Registry, Sample, SampleBatch};
use crate::output::Output;
use crate::output::file_thread::{FileThread, Msg};
use crate::timefmt::rfc3339_ms;

/// The output's name on the command line.
pub const OUTPUT_NAME: &str = "json";

/// Writes every sample to a file (or stdout for `-`).
pub struct JsonOutput {
    path: PathBuf,
    writer: FileThread,
}

impl JsonOutput {
    /// An output writing to `path` (`-` for stdout).
    pub fn new(path: impl Into<PathBuf>) -> Self {
        JsonOutput {
            path: path.into(),
            writer: FileThread::default(),
        }
    }
}

fn point(
    registry: &Registry,
    seen: &mut HashSet<u32>,
    s: &Sample,
    out: &mut impl Write,
) -> std::io::Result<()> {
    let Some(metric) = registry.get(s.metric) else {
        return Ok(());
    };
    if seen.insert(s.metric.0) {
        let line = json!({
            "type": "Metric",
            "data": {"name": metric.name, "type": metric.kind.as_str(), "contains": metric.contains.as_str(),
                     "thresholds": [], "submetrics": Value::Null},
            "metric": metric.name,
        });
        writeln!(out, "{line}")?;
    }
    let tags: serde_json::Map<String, Value> = s
        .tags
        .iter()
        .map(|(k, v)| (k.to_string(), Value::from(v)))
        .collect();
    let mut line = json!({
        "metric": metric.name,
        "type": "Point",
        "data": {"time": rfc3339_ms(s.time), "value": crate::output::summary::format::json_number(s.value), "tags": tags},
    });
    // k6: `metadata` only when the sample has some (omitempty).
    if let (Some(meta), Some(data)) = (&s.metadata, line.get_mut("data")) {
        let meta: serde_json::Map<String, Value> = meta
            .iter()
            .map(|(k, v)| (k.clone(), Value::from(v.as_str())))
            .collect();
        data["metadata"] = Value::Object(meta);
    }
    writeln!(out, "{line}")
}

impl Output for JsonOutput {
    fn name(&self) -> &str {
        OUTPUT_NAME
    }

    fn start(&mut self, registry: Arc<Registry>) {
        let path = self.path.clone();
        self.writer = FileThread::start(OUTPUT_NAME, move |rx| {
            let sink: Box<dyn Write> = if path.as_os_str() == "-" {
                Box::new(std::io::stdout())
            } else {
                Box::new(std::fs::File::create(&path)?)
            };
            let mut out = BufWriter::new(sink);
            let mut seen = HashSet::new();
            while let Ok(Msg::Samples(batch)) = rx.recv() {
                for s in batch.iter() {
                    point(&registry, &mut seen, s, &mut out)?;
                }
            }
            out.flush()
        });
    }

    fn add_samples(&mut self, samples: &Arc<SampleBatch>) {
        self.writer.send(samples);
    }

    fn stop(self: Box<Self>) -> BoxFuture<'static, ()> {
        let JsonOutput { path, writer } = *self;
        writer.stop(OUTPUT_NAME, path.display().to_string())
    }
}
