//! The `csv` output (`-o csv=FILE`), in k6's format: a header `metric_name,timestamp,metric_value`,
//! one column per system tag (sorted), then `extra_tags` (the other tags, `k=v&k2=v2`) and
//! `metadata`; one row per sample, written on a thread of its own and flushed every
//! `save_interval`. `FILE` ending in `.gz` is gzipped. Settings as k6 reads them: the argument
//! (`csv=FILE` or `csv=file_name=F,save_interval=2s,time_format=rfc3339`) over `K6_CSV_FILENAME`,
//! `K6_CSV_SAVE_INTERVAL`, `K6_CSV_TIME_FORMAT`, over the defaults (`file.csv`, `1s`, `unix`).
//!
//! The tag columns are the system tags of `--system-tags` / `K6_SYSTEM_TAGS` (default k6's list):
//! the output is created before the script's own `systemTags` option is read, so a script that
//! narrows them leaves those columns empty (the tags it keeps still appear).

use std::collections::HashMap;
use std::io::{BufWriter, Write};
use std::sync::Arc;
use std::sync::mpsc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use futures_util::future::BoxFuture;

use crate::engine::duration::GoDuration;
use crate::metrics::{Registry, Sample, SampleBatch};
use crate::output::Output;
use crate::output::file_thread::{FileThread, Msg};

/// The output's name on the command line.
pub const OUTPUT_NAME: &str = "csv";

/// `time_format`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TimeFormat {
    Unix,
    UnixMilli,
    UnixMicro,
    UnixNano,
    Rfc3339,
    Rfc3339Nano,
}

impl TimeFormat {
    fn parse(s: &str) -> Result<TimeFormat, String> {
        Ok(match s {
            "unix" => TimeFormat::Unix,
            "unix_milli" => TimeFormat::UnixMilli,
            "unix_micro" => TimeFormat::UnixMicro,
            "unix_nano" => TimeFormat::UnixNano,
            "rfc3339" => TimeFormat::Rfc3339,
            "rfc3339_nano" => TimeFormat::Rfc3339Nano,
            other => {
                return Err(format!(
                    "{other} is not a valid TimeFormat; use unix, unix_milli, unix_micro, unix_nano, rfc3339 or rfc3339_nano"
                ));
            }
        })
    }

    fn format(self, t: SystemTime) -> String {
        let d = t.duration_since(UNIX_EPOCH).unwrap_or_default();
        match self {
            TimeFormat::Unix => d.as_secs().to_string(),
            TimeFormat::UnixMilli => d.as_millis().to_string(),
            TimeFormat::UnixMicro => d.as_micros().to_string(),
            TimeFormat::UnixNano => d.as_nanos().to_string(),
            TimeFormat::Rfc3339 => crate::timefmt::rfc3339(t, false),
            TimeFormat::Rfc3339Nano => {
                // Go's RFC3339Nano: the fraction without trailing zeros (none when zero).
                let base = crate::timefmt::rfc3339(t, false);
                let frac = format!("{:09}", d.subsec_nanos());
                let frac = frac.trim_end_matches('0');
                match base.strip_suffix('Z') {
                    Some(b) if !frac.is_empty() => format!("{b}.{frac}Z"),
                    _ => base,
                }
            }
        }
    }
}

/// The output's settings.
#[derive(Clone, Debug, PartialEq)]
pub struct CsvConfig {
    pub file_name: String,
    pub save_interval: Duration,
    pub time_format: TimeFormat,
}

impl CsvConfig {
    /// From the `-o csv=ARG` argument over the `K6_CSV_*` variables over the defaults.
    pub fn new(arg: &str, env: &HashMap<String, String>) -> Result<CsvConfig, String> {
        let mut c = CsvConfig {
            file_name: "file.csv".into(),
            save_interval: Duration::from_secs(1),
            time_format: TimeFormat::Unix,
        };
        let set = |key: &str, value: &str, c: &mut CsvConfig| -> Result<(), String> {
            match key {
                "file_name" | "fileName" => c.file_name = value.to_string(),
                "save_interval" | "saveInterval" => {
                    c.save_interval = GoDuration::parse(value)
                        .map_err(|e| format!("invalid csv save_interval `{value}`: {e}"))?
                        .to_std();
                }
                "time_format" | "timeFormat" => c.time_format = TimeFormat::parse(value)?,
                other => {
                    return Err(format!(
                        "unknown key {other:?} in the csv output's argument"
                    ));
                }
            }
            Ok(())
        };
        for (var, key) in [
            ("K6_CSV_FILENAME", "file_name"),
            ("K6_CSV_SAVE_INTERVAL", "save_interval"),
            ("K6_CSV_TIME_FORMAT", "time_format"),
        ] {
            if let Some(v) = env.get(var) {
                set(key, v, &mut c)?;
            }
        }
        if !arg.is_empty() {
            if arg.contains('=') {
                for pair in arg.split(',') {
                    let (k, v) = pair.split_once('=').ok_or_else(|| {
                        format!("invalid csv output argument `{pair}`: use key=value")
                    })?;
                    set(k, v, &mut c)?;
                }
            } else {
                c.file_name = arg.to_string();
            }
        }
        if c.save_interval.is_zero() {
            return Err("the csv save_interval must be greater than 0".into());
        }
        Ok(c)
    }
}

/// Go `encoding/csv`: quote fields with `,`, `"`, CR/LF or a leading space.
fn push_field(line: &mut String, f: &str) {
    let needs = f == r"\."
        || f.contains([',', '"', '\r', '\n'])
        || f.chars().next().is_some_and(char::is_whitespace);
    if needs {
        line.push('"');
        line.push_str(&f.replace('"', "\"\""));
        line.push('"');
    } else {
        line.push_str(f);
    }
}

fn row(fields: &[&str]) -> String {
    let mut line = String::new();
    for (i, f) in fields.iter().enumerate() {
        if i > 0 {
            line.push(',');
        }
        push_field(&mut line, f);
    }
    line.push('\n');
    line
}

/// The header for `columns` (sorted system tags).
pub fn header(columns: &[String]) -> String {
    let mut h: Vec<&str> = vec!["metric_name", "timestamp", "metric_value"];
    h.extend(columns.iter().map(String::as_str));
    h.push("extra_tags");
    h.push("metadata");
    row(&h)
}

fn sample_row(
    registry: &Registry,
    columns: &[String],
    tf: TimeFormat,
    s: &Sample,
) -> Option<String> {
    let metric = registry.get(s.metric)?;
    let time = tf.format(s.time);
    let value = format!("{:.6}", s.value);
    let mut fields: Vec<&str> = vec![&metric.name, &time, &value];
    let tags: Vec<(&str, &str)> = s.tags.iter().collect();
    for c in columns {
        fields.push(tags.iter().find(|(k, _)| k == c).map_or("", |(_, v)| *v));
    }
    let mut extra: Vec<(&str, &str)> = tags
        .iter()
        .filter(|(k, _)| !columns.iter().any(|c| c == k))
        .copied()
        .collect();
    extra.sort();
    let extra = extra
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&");
    fields.push(&extra);
    fields.push("");
    Some(row(&fields))
}

/// Writes every sample as a CSV row.
pub struct CsvOutput {
    config: CsvConfig,
    columns: Vec<String>,
    /// The file, opened when the output is built (a bad path fails before the test).
    sink: Option<Box<dyn Write + Send>>,
    writer: FileThread,
}

impl CsvOutput {
    /// Opens the file (`-` for stdout); `system_tags` are the tag columns. Errors are k6's text.
    pub fn new(config: CsvConfig, system_tags: &[String]) -> Result<CsvOutput, String> {
        let mut columns: Vec<String> = system_tags
            .iter()
            .filter(|t| *t != "vu" && *t != "iter")
            .cloned()
            .collect();
        columns.sort();
        columns.dedup();
        let sink: Box<dyn Write + Send> = if config.file_name == "-" {
            Box::new(std::io::stdout())
        } else {
            let f = std::fs::File::create(&config.file_name)
                .map_err(|e| format!("open {}: {e}", config.file_name))?;
            if config.file_name.ends_with(".gz") {
                Box::new(flate2::write::GzEncoder::new(
                    f,
                    flate2::Compression::default(),
                ))
            } else {
                Box::new(f)
            }
        };
        Ok(CsvOutput {
            config,
            columns,
            sink: Some(sink),
            writer: FileThread::default(),
        })
    }

    /// k6's description for the execution header.
    pub fn description(&self) -> String {
        if self.config.file_name == "-" {
            "csv (stdout)".into()
        } else {
            format!("csv ({})", self.config.file_name)
        }
    }
}

impl Output for CsvOutput {
    fn name(&self) -> &str {
        OUTPUT_NAME
    }

    fn start(&mut self, registry: Arc<Registry>) {
        let Some(sink) = self.sink.take() else { return };
        let columns = self.columns.clone();
        let (tf, every) = (self.config.time_format, self.config.save_interval);
        self.writer = FileThread::start(OUTPUT_NAME, move |rx| {
            let mut out = BufWriter::new(sink);
            out.write_all(header(&columns).as_bytes())?;
            out.flush()?;
            let mut next_flush = std::time::Instant::now() + every;
            loop {
                let wait = next_flush.saturating_duration_since(std::time::Instant::now());
                match rx.recv_timeout(wait) {
                    Ok(Msg::Samples(batch)) => {
                        for s in batch.iter() {
                            if let Some(line) = sample_row(&registry, &columns, tf, s) {
                                out.write_all(line.as_bytes())?;
                            }
                        }
                    }
                    Ok(Msg::Stop) | Err(mpsc::RecvTimeoutError::Disconnected) => break,
                    Err(mpsc::RecvTimeoutError::Timeout) => {}
                }
                if std::time::Instant::now() >= next_flush {
                    out.flush()?;
                    next_flush = std::time::Instant::now() + every;
                }
            }
            out.flush()?;
            // Finishes the gzip stream, if any.
            drop(out.into_inner().map_err(|e| e.into_error())?);
            Ok(())
        });
    }

    fn add_samples(&mut self, samples: &Arc<SampleBatch>) {
        self.writer.send(samples);
    }

    fn stop(self: Box<Self>) -> BoxFuture<'static, ()> {
        let CsvOutput { config, writer, .. } = *self;
        writer.stop(OUTPUT_NAME, config.file_name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_precedence_and_errors() {
        let mut env = HashMap::new();
        let c = CsvConfig::new("", &env).unwrap();
        assert_eq!(c.file_name, "file.csv");
        assert_eq!(c.time_format, TimeFormat::Unix);
        env.insert("K6_CSV_FILENAME".to_string(), "env.csv".to_string());
        env.insert("K6_CSV_TIME_FORMAT".to_string(), "rfc3339".to_string());
        let c = CsvConfig::new("", &env).unwrap();
        assert_eq!(
            (c.file_name.as_str(), c.time_format),
            ("env.csv", TimeFormat::Rfc3339)
        );
        let c = CsvConfig::new("arg.csv", &env).unwrap();
        assert_eq!(c.file_name, "arg.csv");
        let c = CsvConfig::new(
            "file_name=x.csv,save_interval=2s,time_format=unix_milli",
            &env,
        )
        .unwrap();
        assert_eq!(c.save_interval, Duration::from_secs(2));
        assert_eq!(c.time_format, TimeFormat::UnixMilli);
        assert!(CsvConfig::new("time_format=weird", &env).is_err());
        assert!(CsvConfig::new("colour=red", &env).is_err());
    }

    #[test]
    fn fields_quoted_as_go_csv() {
        assert_eq!(
            row(&["a", "b,c", "say \"hi\"", " x", ""]),
            "a,\"b,c\",\"say \"\"hi\"\"\",\" x\",\n"
        );
        assert_eq!(
            header(&["check".into(), "url".into()]),
            "metric_name,timestamp,metric_value,check,url,extra_tags,metadata\n"
        );
    }

    #[test]
    fn time_formats() {
        let t = UNIX_EPOCH + Duration::from_nanos(1_764_701_141_120_000_000);
        assert_eq!(TimeFormat::Unix.format(t), "1764701141");
        assert_eq!(TimeFormat::UnixMilli.format(t), "1764701141120");
        assert_eq!(TimeFormat::Rfc3339.format(t), "2025-12-02T18:45:41Z");
        assert_eq!(TimeFormat::Rfc3339Nano.format(t), "2025-12-02T18:45:41.12Z");
    }
}
