//! Log lines as k6 (logrus) writes them, for loadgate's own logs (`tracing`) and the script's
//! (`console.*`, exceptions, `--http-debug`):
//! - on a colored terminal: `INFO[0003] message<padded to 44>  key=value` (seconds since start);
//! - otherwise (a pipe, a file, `--no-color`): logfmt, `time="..." level=info msg=... key=value`;
//! - `--log-format json`: one JSON object per line, keys sorted (`level`, `msg`, `time`, fields);
//! - `--log-format raw`: the message alone.
//!
//! `--log-output` picks the destination: `stderr` (default), `stdout`, `none`, or
//! `file=PATH[,level=LEVEL]` (appended). The level is `info`, `debug` with `--verbose`. The
//! service logs with wall-clock times always ([`LogConfig::timestamps`]).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::fs::File;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};
use std::time::{Instant, SystemTime};

use tracing::field::{Field, Visit};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::layer::Context;
use tracing_subscriber::registry::LookupSpan;

use super::Stream;

/// `--log-format`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum LogFormat {
    /// k6's default: colored short lines on a terminal, logfmt elsewhere.
    #[default]
    Text,
    Json,
    Raw,
}

impl LogFormat {
    /// k6 accepts any value and falls back to text for unknown ones; so do we.
    pub fn parse(s: &str) -> LogFormat {
        match s {
            "json" => LogFormat::Json,
            "raw" => LogFormat::Raw,
            _ => LogFormat::Text,
        }
    }
}

/// `--log-output`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum LogOutput {
    #[default]
    Stderr,
    Stdout,
    None,
    /// `file=PATH[,level=LEVEL]`.
    File {
        path: PathBuf,
        level: Option<Level>,
    },
}

/// A bad `--log-output` value (k6 exits -1 on these).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LogConfigError {
    #[error("unsupported log output '{0}'")]
    Unsupported(String),
    #[error(
        "log output '{0}' is not supported by loadgate (use stderr, stdout, none or file=PATH)"
    )]
    Loki(String),
    #[error("invalid log output '{line}': {why}")]
    Invalid { line: String, why: String },
    #[error("cannot open the log file {path}: {why}")]
    File { path: String, why: String },
}

fn parse_level(s: &str) -> Option<Level> {
    match s {
        "trace" => Some(Level::TRACE),
        "debug" => Some(Level::DEBUG),
        "info" => Some(Level::INFO),
        "warning" | "warn" => Some(Level::WARN),
        "error" | "fatal" | "panic" => Some(Level::ERROR),
        _ => None,
    }
}

impl LogOutput {
    /// Parses k6's `--log-output` / `K6_LOG_OUTPUT` values.
    pub fn parse(line: &str) -> Result<LogOutput, LogConfigError> {
        match line {
            "stderr" => return Ok(LogOutput::Stderr),
            "stdout" => return Ok(LogOutput::Stdout),
            "none" => return Ok(LogOutput::None),
            _ => {}
        }
        if line.starts_with("loki") {
            return Err(LogConfigError::Loki(line.to_string()));
        }
        let Some(rest) = line.strip_prefix("file") else {
            return Err(LogConfigError::Unsupported(line.to_string()));
        };
        let invalid = |why: &str| LogConfigError::Invalid {
            line: line.to_string(),
            why: why.to_string(),
        };
        let rest = rest
            .strip_prefix('=')
            .ok_or_else(|| invalid("use file=PATH[,level=LEVEL]"))?;
        let mut parts = rest.split(',');
        let path = parts.next().unwrap_or_default();
        if path.is_empty() {
            return Err(invalid("filepath must not be empty"));
        }
        let mut level = None;
        for p in parts {
            match p.split_once('=') {
                Some(("level", v)) => {
                    level = Some(
                        parse_level(v).ok_or_else(|| invalid(&format!("unknown log level {v}")))?,
                    )
                }
                _ => return Err(invalid(&format!("unknown key {p}"))),
            }
        }
        Ok(LogOutput::File {
            path: PathBuf::from(path),
            level,
        })
    }
}

/// How and where log lines are written.
#[derive(Clone, Debug)]
pub struct LogConfig {
    pub format: LogFormat,
    pub output: LogOutput,
    /// Lines below this level are dropped (`info`; `debug` with `--verbose`).
    pub level: Level,
    /// Wall-clock `time=` with milliseconds on every text line, even on a terminal (the service).
    pub timestamps: bool,
    /// `--no-color`, `NO_COLOR` or `K6_NO_COLOR`.
    pub no_color: bool,
}

impl Default for LogConfig {
    fn default() -> Self {
        LogConfig {
            format: LogFormat::Text,
            output: LogOutput::Stderr,
            level: Level::INFO,
            timestamps: false,
            no_color: false,
        }
    }
}

struct Sink {
    config: LogConfig,
    /// Colored short lines (text format on a colored terminal).
    colored: bool,
    file: Option<Mutex<File>>,
}

static SINK: OnceLock<Sink> = OnceLock::new();
static STARTED: OnceLock<Instant> = OnceLock::new();

/// Seconds since the process started, as logrus prints them in `INFO[0003]`.
pub fn elapsed_secs() -> u64 {
    STARTED.get_or_init(Instant::now).elapsed().as_secs()
}

fn open_append(path: &Path) -> std::io::Result<File> {
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
}

/// Sets where and how logs go (first call wins). Opens the log file, if any.
pub fn configure(config: LogConfig) -> Result<(), LogConfigError> {
    STARTED.get_or_init(Instant::now);
    let streams = super::streams();
    let file = match &config.output {
        LogOutput::File { path, .. } => Some(Mutex::new(open_append(path).map_err(|e| {
            LogConfigError::File {
                path: path.display().to_string(),
                why: e.to_string(),
            }
        })?)),
        _ => None,
    };
    let tty = match config.output {
        LogOutput::Stderr => streams.stderr_tty,
        LogOutput::Stdout => streams.stdout_tty,
        _ => false,
    };
    let colored = config.format == LogFormat::Text && tty && !config.no_color && !config.timestamps;
    let _ = SINK.set(Sink {
        config,
        colored,
        file,
    });
    Ok(())
}

fn sink() -> &'static Sink {
    SINK.get_or_init(|| Sink {
        config: LogConfig::default(),
        colored: false,
        file: None,
    })
}

/// The configured minimum level.
pub fn max_level() -> Level {
    sink().config.level
}

/// True when `level` would be written.
pub fn enabled(level: Level) -> bool {
    // tracing orders levels by verbosity: TRACE > DEBUG > INFO > WARN > ERROR.
    let s = sink();
    let file_level = match &s.config.output {
        LogOutput::File { level: Some(l), .. } => *l,
        _ => s.config.level,
    };
    level <= file_level
}

/// logrus' level names.
fn level_word(level: Level) -> &'static str {
    match level {
        Level::ERROR => "error",
        Level::WARN => "warning",
        Level::INFO => "info",
        Level::DEBUG => "debug",
        Level::TRACE => "trace",
    }
}

/// logrus' four-letter upper-case names (`ERRO`, `WARN`, ...).
pub fn level_short(level: Level) -> &'static str {
    match level {
        Level::ERROR => "ERRO",
        Level::WARN => "WARN",
        Level::INFO => "INFO",
        Level::DEBUG => "DEBU",
        Level::TRACE => "TRAC",
    }
}

fn level_color(level: Level) -> u8 {
    match level {
        Level::ERROR => 31,
        Level::WARN => 33,
        Level::INFO => 36,
        Level::DEBUG | Level::TRACE => 37,
    }
}

/// logrus' `needsQuoting`: anything beyond `[A-Za-z0-9-._/@^+]` is quoted (Go `%q`).
fn logfmt_value(out: &mut String, v: &str) {
    let plain = !v.is_empty()
        && v.chars().all(|c| {
            c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_' | '/' | '@' | '^' | '+')
        });
    if plain {
        out.push_str(v);
    } else {
        go_quote(out, v);
    }
}

/// Go's `%q` for strings (escapes `"`, `\`, control characters).
fn go_quote(out: &mut String, v: &str) {
    out.push('"');
    for c in v.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 || c == '\u{7f}' => {
                let _ = write!(out, "\\x{:02x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// One log line in `format`. `fields` in any order (they are sorted, as logrus does).
pub fn render(
    format: LogFormat,
    colored: bool,
    millis: bool,
    level: Level,
    msg: &str,
    fields: &[(&str, String)],
) -> String {
    let mut sorted: Vec<&(&str, String)> = fields.iter().collect();
    sorted.sort_by(|a, b| a.0.cmp(b.0));
    // logrus trims one trailing newline on colored lines only.
    let msg = if colored && format == LogFormat::Text {
        msg.strip_suffix('\n').unwrap_or(msg)
    } else {
        msg
    };
    let mut out = String::with_capacity(64 + msg.len());
    match format {
        LogFormat::Raw => {
            out.push_str(msg);
        }
        LogFormat::Json => {
            let mut m: BTreeMap<&str, serde_json::Value> = BTreeMap::new();
            for (k, v) in &sorted {
                m.insert(k, serde_json::Value::String(v.clone()));
            }
            m.insert("level", level_word(level).into());
            m.insert("msg", msg.into());
            m.insert(
                "time",
                crate::timefmt::rfc3339(SystemTime::now(), millis).into(),
            );
            out = serde_json::to_string(&m).unwrap_or_default();
        }
        LogFormat::Text if colored => {
            let c = level_color(level);
            let _ = write!(
                out,
                "\x1b[{c}m{}\x1b[0m[{:04}] {msg:<44} ",
                level_short(level),
                elapsed_secs()
            );
            for (k, v) in &sorted {
                let _ = write!(out, " \x1b[{c}m{k}\x1b[0m=");
                logfmt_value(&mut out, v);
            }
        }
        LogFormat::Text => {
            out.push_str("time=");
            go_quote(
                &mut out,
                &crate::timefmt::rfc3339(SystemTime::now(), millis),
            );
            let _ = write!(out, " level={} msg=", level_word(level));
            logfmt_value(&mut out, msg);
            for (k, v) in &sorted {
                let _ = write!(out, " {k}=");
                logfmt_value(&mut out, v);
            }
        }
    }
    out.push('\n');
    out
}

/// Writes one log line where the configuration says (if its level is enabled).
pub fn emit(level: Level, msg: &str, fields: &[(&str, String)]) {
    if !enabled(level) {
        return;
    }
    let s = sink();
    let millis = s.config.timestamps;
    let line = render(s.config.format, s.colored, millis, level, msg, fields);
    match &s.config.output {
        LogOutput::Stderr => super::write(Stream::Stderr, &line),
        LogOutput::Stdout => super::write(Stream::Stdout, &line),
        LogOutput::None => {}
        LogOutput::File { .. } => {
            if let Some(f) = &s.file {
                let mut f = f.lock().unwrap_or_else(|e| e.into_inner());
                let _ = f.write_all(line.as_bytes());
            }
        }
    }
}

/// `error!`-level line with no fields (the CLI's own messages).
pub fn error(msg: &str) {
    emit(Level::ERROR, msg, &[]);
}

/// A file that receives a test's `console.*` lines (`consoleOutput` / `--console-output`):
/// appended, in the log format without colors and without `source=console`, as k6 writes it.
#[derive(Debug)]
pub struct ConsoleFile {
    file: Mutex<File>,
}

impl ConsoleFile {
    /// Opens (creates, appends to) `path`.
    pub fn open(path: &Path) -> std::io::Result<ConsoleFile> {
        Ok(ConsoleFile {
            file: Mutex::new(open_append(path)?),
        })
    }

    /// Writes one console line.
    pub fn write(&self, level: Level, msg: &str) {
        if !enabled(level) {
            return;
        }
        let s = sink();
        let line = render(s.config.format, false, s.config.timestamps, level, msg, &[]);
        let mut f = self.file.lock().unwrap_or_else(|e| e.into_inner());
        let _ = f.write_all(line.as_bytes());
    }
}

/// Collects an event's or a span's fields; `message` becomes the message.
#[derive(Default)]
struct Fields {
    message: String,
    fields: Vec<(&'static str, String)>,
}

impl Visit for Fields {
    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            self.message = value.to_string();
        } else {
            self.fields.push((field.name(), value.to_string()));
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        if field.name() == "message" {
            self.message = format!("{value:?}");
        } else {
            self.fields.push((field.name(), format!("{value:?}")));
        }
    }
}

/// Span fields kept in the span's extensions, appended to every event inside it.
struct SpanFields(Vec<(&'static str, String)>);

/// The `tracing` layer that writes loadgate's own logs in the configured format.
pub struct LogLayer;

impl<S> tracing_subscriber::Layer<S> for LogLayer
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    fn on_new_span(
        &self,
        attrs: &tracing::span::Attributes<'_>,
        id: &tracing::span::Id,
        ctx: Context<'_, S>,
    ) {
        let mut f = Fields::default();
        attrs.record(&mut f);
        if let Some(span) = ctx.span(id) {
            span.extensions_mut().insert(SpanFields(f.fields));
        }
    }

    fn on_record(
        &self,
        id: &tracing::span::Id,
        values: &tracing::span::Record<'_>,
        ctx: Context<'_, S>,
    ) {
        let mut f = Fields::default();
        values.record(&mut f);
        if let Some(span) = ctx.span(id) {
            let mut ext = span.extensions_mut();
            match ext.get_mut::<SpanFields>() {
                Some(existing) => existing.0.extend(f.fields),
                None => ext.insert(SpanFields(f.fields)),
            }
        }
    }

    fn on_event(&self, event: &Event<'_>, ctx: Context<'_, S>) {
        let mut f = Fields::default();
        event.record(&mut f);
        if let Some(scope) = ctx.event_scope(event) {
            for span in scope.from_root() {
                if let Some(sf) = span.extensions().get::<SpanFields>() {
                    f.fields.extend(sf.0.iter().cloned());
                }
            }
        }
        emit(*event.metadata().level(), &f.message, &f.fields);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strip_time(s: &str) -> String {
        // time="2026-...Z" -> time=T
        match (s.find("time=\""), s[6..].find('"')) {
            (Some(0), Some(end)) => format!("time=T{}", &s[end + 7..]),
            _ => s.to_string(),
        }
    }

    #[test]
    fn logfmt_as_logrus() {
        let line = render(
            LogFormat::Text,
            false,
            false,
            Level::INFO,
            "hello \"q\" 1",
            &[("source", "console".into())],
        );
        assert_eq!(
            strip_time(&line),
            "time=T level=info msg=\"hello \\\"q\\\" 1\" source=console\n"
        );
        let line = render(LogFormat::Text, false, false, Level::WARN, "w", &[]);
        assert_eq!(strip_time(&line), "time=T level=warning msg=w\n");
    }

    #[test]
    fn colored_short_lines() {
        let line = render(
            LogFormat::Text,
            true,
            false,
            Level::INFO,
            "hello",
            &[("source", "console".into())],
        );
        assert!(line.starts_with("\x1b[36mINFO\x1b[0m["), "{line:?}");
        assert!(
            line.ends_with(&format!(
                "] hello{}  \x1b[36msource\x1b[0m=console\n",
                " ".repeat(39)
            )),
            "{line:?}"
        );
    }

    #[test]
    fn json_keys_sorted_and_raw() {
        let line = render(
            LogFormat::Json,
            false,
            false,
            Level::ERROR,
            "e",
            &[("source", "console".into())],
        );
        let v: serde_json::Value = serde_json::from_str(&line).unwrap();
        assert_eq!(v["level"], "error");
        assert_eq!(v["msg"], "e");
        assert_eq!(v["source"], "console");
        assert!(
            line.starts_with(
                "{\"level\":\"error\",\"msg\":\"e\",\"source\":\"console\",\"time\":\""
            )
        );
        assert_eq!(
            render(
                LogFormat::Raw,
                false,
                false,
                Level::INFO,
                "m",
                &[("a", "b".into())]
            ),
            "m\n"
        );
    }

    #[test]
    fn log_output_values() {
        assert_eq!(LogOutput::parse("stderr"), Ok(LogOutput::Stderr));
        assert_eq!(LogOutput::parse("none"), Ok(LogOutput::None));
        assert_eq!(
            LogOutput::parse("file=./x.log,level=debug"),
            Ok(LogOutput::File {
                path: "./x.log".into(),
                level: Some(Level::DEBUG)
            })
        );
        assert_eq!(
            LogOutput::parse("foo"),
            Err(LogConfigError::Unsupported("foo".into()))
        );
        assert!(matches!(
            LogOutput::parse("loki=http://x"),
            Err(LogConfigError::Loki(_))
        ));
        assert!(LogOutput::parse("file=").is_err());
        assert!(LogOutput::parse("file=x,level=loud").is_err());
    }
}
