//! Log lines in k6's terminal format: `WARN[0003] Request Failed error="..."`, on stderr, so
//! loadgate's own logs read like the k6 output users know. `LOADGATE_LOG` (or `RUST_LOG`) sets the
//! filter; the default shows warnings and errors.

use std::fmt;
use std::sync::OnceLock;
use std::time::Instant;

use tracing::{Event, Level, Subscriber};
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields};
use tracing_subscriber::registry::LookupSpan;

static STARTED: OnceLock<Instant> = OnceLock::new();

/// Seconds since the process started, as k6 prints them in `INFO[0003]`.
pub fn elapsed_secs() -> u64 {
    STARTED.get_or_init(Instant::now).elapsed().as_secs()
}

/// k6's four-letter level names.
pub fn level_name(level: &Level) -> &'static str {
    match *level {
        Level::ERROR => "ERRO",
        Level::WARN => "WARN",
        Level::INFO => "INFO",
        Level::DEBUG => "DEBU",
        Level::TRACE => "TRAC",
    }
}

struct K6Format;

impl<S, N> FormatEvent<S, N> for K6Format
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        write!(
            writer,
            "{}[{:04}] ",
            level_name(event.metadata().level()),
            elapsed_secs()
        )?;
        ctx.field_format().format_fields(writer.by_ref(), event)?;
        if let Some(scope) = ctx.event_scope() {
            for span in scope.from_root() {
                if let Some(fields) = span
                    .extensions()
                    .get::<tracing_subscriber::fmt::FormattedFields<N>>()
                    && !fields.is_empty()
                {
                    write!(writer, " {fields}")?;
                }
            }
        }
        writeln!(writer)
    }
}

/// Installs the subscriber (once).
pub fn init() {
    STARTED.get_or_init(Instant::now);
    let filter = std::env::var("LOADGATE_LOG")
        .or_else(|_| std::env::var("RUST_LOG"))
        .unwrap_or_else(|_| "warn".to_string());
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new(filter))
        .with_writer(std::io::stderr)
        .with_ansi(false)
        .event_format(K6Format)
        .try_init();
}
