//! `lichen`: the command line for every role — keys, genesis, running a node, issuing and
//! revoking licences, anchoring evidence, queries, exports, offline verification, governance.
//!
//! Everything but the process edge (logging, exit status) is in the `lichen_cli` library.

use std::io::IsTerminal;
use std::process::ExitCode;

use clap::Parser;
use lichen_cli::{Cli, LogFormat};

// mimalloc rather than the system allocator: a node allocates and frees small buffers for every
// message, transaction and tree node, and glibc's malloc took ~17% of a loaded cluster's CPU
// (BENCHMARKS.md, "Four validators: decoded keys remembered"; intl 1,050 -> 1,208 tx/s). It runs
// with transparent huge pages off (`lichen_node::memory`).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging(cli.log_format);
    if let Err(e) = lichen_node::memory::disable_transparent_huge_pages() {
        tracing::warn!(
            "could not turn transparent huge pages off ({e}): a node runs, slower under load"
        );
    }
    match lichen_cli::run(cli) {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(lichen_cli::exit_code(&e))
        }
    }
}

/// Logs on standard error, filtered by $LICHEN_LOG (default `info`): text, with colour codes
/// only on a terminal (and without $NO_COLOR), or JSON lines.
fn init_logging(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_env("LICHEN_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Json => builder.json().init(),
        LogFormat::Text => {
            let colour = std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none();
            builder.with_ansi(colour).init()
        }
    }
}
