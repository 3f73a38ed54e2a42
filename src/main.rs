//! The `loadgate` binary: parses the command line, sets up logging and runtimes, and hands over
//! to [`loadgate::cli`].

use clap::Parser;

use loadgate::cli::{Cli, Command};

fn main() {
    // Any reqwest client built without our TLS configuration needs a process-wide provider.
    loadgate::tls::install_default_provider();
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let usage = e.use_stderr();
            let _ = e.print();
            // k6 exits -1 (255) on a bad flag; help and version are not errors.
            std::process::exit(if usage { 255 } else { 0 });
        }
    };
    if let Err(e) = loadgate::cli::init_tracing(&cli) {
        loadgate::term::log::error(&e);
        std::process::exit(255);
    }
    if let Some(size) = &cli.global.max_vu_memory {
        match loadgate::js::limits::parse_size(size) {
            Ok(bytes) => loadgate::js::limits::set_max_vu_memory(bytes),
            Err(e) => {
                loadgate::term::log::error(&format!("invalid --max-vu-memory: {e}"));
                std::process::exit(255);
            }
        }
    }
    let code = match cli.command {
        Command::Version => {
            println!("loadgate {}", env!("CARGO_PKG_VERSION"));
            0
        }
        command => match tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("control")
            .enable_all()
            .build()
        {
            Ok(rt) => rt.block_on(loadgate::cli::dispatch(command)),
            Err(e) => {
                loadgate::term::log::error(&format!("cannot start the runtime: {e}"));
                1
            }
        },
    };
    std::process::exit(code);
}
