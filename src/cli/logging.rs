//! Sets up logging from the global flags (`--log-format`, `--log-output`, `--verbose`, with k6's
//! `K6_LOG_FORMAT` / `K6_LOG_OUTPUT` variables) and installs the `tracing` subscriber that writes
//! through [`crate::term::log`]. `LOADGATE_LOG` (or `RUST_LOG`) overrides the filter of loadgate's
//! own logs; by default `run` shows warnings and errors (`--verbose`: debug), `serve` shows every
//! test's lifecycle at info with wall-clock times.

use tracing::Level;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

use super::{Cli, Command};
use crate::term::log::{LogConfig, LogFormat, LogLayer, LogOutput};
use crate::term::{self, Streams};

pub use crate::term::log::{elapsed_secs, level_short as level_name};

fn env(k: &str) -> Option<String> {
    std::env::var_os(k).map(|v| v.to_string_lossy().into_owned())
}

/// Fixes the terminal facts and the log configuration, and installs the subscriber. An invalid
/// `--log-output` is an error (k6 exits -1).
pub fn init(cli: &Cli) -> Result<(), String> {
    let no_color_flag = match &cli.command {
        Command::Run(args) => args.no_color,
        _ => false,
    };
    let streams = Streams::detect(no_color_flag, &env);
    term::init(streams);
    let service = matches!(cli.command, Command::Serve(_) | Command::Demo(_));
    let g = &cli.global;
    let format = LogFormat::parse(g.log_format.as_deref().unwrap_or(""));
    let output = LogOutput::parse(&g.log_output).map_err(|e| e.to_string())?;
    let config = LogConfig {
        format,
        output,
        level: if g.verbose { Level::DEBUG } else { Level::INFO },
        timestamps: service,
        no_color: streams.no_color,
    };
    term::log::configure(config).map_err(|e| e.to_string())?;
    let default_filter = match (g.verbose, service) {
        (true, _) => "loadgate=debug,warn",
        (false, true) => "loadgate=info,warn",
        (false, false) => "warn",
    };
    let filter = env("LOADGATE_LOG")
        .or_else(|| env("RUST_LOG"))
        .unwrap_or_else(|| default_filter.to_string());
    let _ = tracing_subscriber::registry()
        .with(tracing_subscriber::EnvFilter::new(filter))
        .with(LogLayer)
        .try_init();
    Ok(())
}
