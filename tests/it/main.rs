//! The integration suite, one test binary (`cargo test --test it`): each module below was a test
//! binary of its own; one binary links the crate once instead of fourteen times, which is most of
//! the suite's build time and disk. Filter by module: `cargo test --test it service_nats::`.
//!
//! Real parts only: a real `nats-server` and `prometheus` started on loopback ports, the real k6 as
//! the conformance reference, the `loadgate` binary itself for the command-line tests.

mod support;

mod cli_bad_input;
mod cli_csv_output;
mod cli_http_debug;
mod cli_jslib;
mod cli_json_output;
mod cli_options;
mod cli_remote_modules;
mod cli_rest_api;
mod cli_segments;
mod cli_terminal;
mod cli_typescript;
mod conformance;
mod faults;
mod fuzz;
mod packaging;
mod prometheus_rw;
mod readme;
mod scale_out;
mod service_cli;
mod service_http;
mod service_nats;
mod service_shutdown;
mod service_wiring;
mod tls_trust;
mod tutorials;
