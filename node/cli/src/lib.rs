//! The `lichen` command line as a library: one module per command group under [`commands`],
//! shared arguments, output, time parsing and QR codes beside them. `src/main.rs` only parses,
//! sets up logging and turns the result into an exit status.
//!
//! This crate is the binary edge: it alone (with `lichen-client`) uses clap, anyhow,
//! rpassword, tracing-subscriber and an HTTP client; the node library returns `thiserror` enums.

pub mod output;

pub mod args;
pub mod commands;
pub mod export;
pub mod ops;
pub mod qr;
pub mod report;
pub mod time;

use std::path::PathBuf;

use anyhow::Result;
use clap::{Parser, Subcommand};

use commands::keys::PasswordSource;
use commands::{
    dev, evidence, genesis, gov, import, keys, licence, node, p2p, presentation, query, status,
    trust_package, verify,
};

#[derive(Parser, Debug)]
#[command(
    name = "lichen",
    version,
    about = "Lichen: electronic licences and evidence on a permissioned chain"
)]
pub struct Cli {
    /// Print machine-readable JSON instead of text.
    #[arg(long, global = true)]
    pub json: bool,
    /// Read key-file passwords from this file (else $LICHEN_PASSWORD, else a prompt).
    #[arg(long, global = true, value_name = "FILE")]
    pub password_file: Option<PathBuf>,
    /// Log lines (on standard error) as text, coloured only on a terminal (and without
    /// $NO_COLOR), or as one JSON object per line.
    #[arg(
        long,
        global = true,
        value_enum,
        env = "LICHEN_LOG_FORMAT",
        default_value = "text"
    )]
    pub log_format: LogFormat,
    #[command(subcommand)]
    pub command: Command,
}

/// `--log-format`.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Json,
}

/// The exit statuses scripts can tell apart (README, "Exit codes").
pub mod exit {
    /// Done.
    pub const OK: u8 = 0;
    /// `lichen verify`: the verdict is not VALID / ANCHORED.
    pub const VERIFICATION_FAILED: u8 = 1;
    /// Bad arguments (clap's own status for them).
    pub const USAGE: u8 = 2;
    /// The node could not be reached (connection refused, a timeout, a bad address).
    pub const UNREACHABLE: u8 = 3;
    /// The node refused the request (4xx): a transaction refused, a record not found, bad input.
    pub const REFUSED: u8 = 4;
    /// The node failed or is overloaded (5xx): retry later.
    pub const NODE_FAILED: u8 = 5;
    /// Anything else: a file that cannot be read or written, a wrong password, input that does
    /// not parse, a bad answer.
    pub const OTHER: u8 = 6;
}

/// The exit status of a failed command, from the first client error in its chain of causes.
pub fn exit_code(error: &anyhow::Error) -> u8 {
    use lichen_client::ClientError;
    for cause in error.chain() {
        match cause.downcast_ref::<ClientError>() {
            Some(ClientError::Unreachable { .. }) => return exit::UNREACHABLE,
            Some(ClientError::Api { status, .. }) if *status >= 500 => return exit::NODE_FAILED,
            Some(ClientError::Api { .. }) => return exit::REFUSED,
            Some(ClientError::BadResponse { .. }) => return exit::OTHER,
            None => {}
        }
        if cause.downcast_ref::<clap::Error>().is_some() {
            return exit::USAGE;
        }
    }
    exit::OTHER
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Make a new key, sealed with a password (SM4 + HMAC-SM3), and its .pub file.
    Keygen(keys::KeygenArgs),
    /// Key file operations.
    Key {
        #[command(subcommand)]
        command: keys::KeyCommand,
    },
    /// Build a genesis file.
    Genesis {
        #[command(subcommand)]
        command: genesis::GenesisCommand,
    },
    /// Start (or resume) a four-validator development chain in a local folder, with demo keys
    /// and entities.
    Dev(dev::DevArgs),
    /// Network identities (libp2p keys) of nodes.
    P2pKey {
        #[command(subcommand)]
        command: p2p::P2pKeyCommand,
    },
    /// Run a node.
    Node {
        #[command(subcommand)]
        command: node::NodeCommand,
    },
    /// Issue a licence (signed with the agency's key).
    Issue(licence::IssueArgs),
    /// Suspend a licence.
    Suspend(licence::StatusArgs),
    /// Reinstate a suspended licence.
    Reinstate(licence::StatusArgs),
    /// Revoke a licence (final).
    Revoke(licence::StatusArgs),
    /// Replace a licence with a new one (final for the old one).
    Supersede(licence::SupersedeArgs),
    /// Issue many licences from a CSV file: signed here, sent in batches with a progress bar,
    /// refused rows written with their reasons; a rerun resumes and issues nothing twice.
    Import(import::ImportArgs),
    /// Anchor document hashes and fetch receipts.
    Evidence {
        #[command(subcommand)]
        command: evidence::EvidenceCommand,
    },
    /// Read from a node.
    Query {
        #[command(subcommand)]
        command: query::QueryCommand,
    },
    /// Export presentations.
    Presentation {
        #[command(subcommand)]
        command: presentation::PresentationCommand,
    },
    /// Verify a presentation or evidence receipt offline, against a trust anchor only (and a
    /// trust package, if given).
    Verify(verify::VerifyArgs),
    /// Trust packages: a checkpoint and every licence not active at it, for offline verifiers.
    TrustPackage {
        #[command(subcommand)]
        command: trust_package::TrustPackageCommand,
    },
    /// Council operations: propose, collect approvals, submit.
    Gov {
        #[command(subcommand)]
        command: gov::GovCommand,
    },
    /// The node's status.
    Status(args::NodeArg),
    /// Print a shell completion script: `lichen completions bash > /etc/bash_completion.d/lichen`
    /// (zsh: into a folder on $fpath as `_lichen`; fish: ~/.config/fish/completions/lichen.fish).
    Completions {
        /// The shell.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
}

/// Runs one command; the process exit status (0, or 1 for a verdict other than VALID /
/// ANCHORED). `main` turns an error into its status with [`exit_code`].
pub fn run(cli: Cli) -> Result<u8> {
    let pw = PasswordSource {
        file: cli.password_file,
    };
    let as_json = cli.json;
    match cli.command {
        Command::Keygen(a) => keys::keygen(a, as_json, &pw)?,
        Command::Key { command } => keys::run(command, as_json, &pw)?,
        Command::Genesis { command } => genesis::run(command, as_json)?,
        Command::Dev(a) => dev::run(a)?,
        Command::P2pKey { command } => p2p::run(command, as_json)?,
        Command::Node { command } => node::run(command, &pw)?,
        Command::Issue(a) => licence::issue(a, as_json, &pw)?,
        Command::Suspend(a) => licence::change_status(a, licence::Change::Suspend, as_json, &pw)?,
        Command::Reinstate(a) => {
            licence::change_status(a, licence::Change::Reinstate, as_json, &pw)?
        }
        Command::Revoke(a) => licence::change_status(a, licence::Change::Revoke, as_json, &pw)?,
        Command::Supersede(a) => licence::supersede(a, as_json, &pw)?,
        Command::Import(a) => return import::run(a, as_json, &pw),
        Command::Evidence { command } => evidence::run(command, as_json, &pw)?,
        Command::Query { command } => query::run(command, as_json)?,
        Command::Presentation { command } => presentation::run(command, as_json)?,
        Command::Verify(a) => return verify::run(a, as_json),
        Command::TrustPackage { command } => trust_package::run(command, as_json)?,
        Command::Gov { command } => gov::run(command, as_json, &pw)?,
        Command::Status(node) => status::run(&node, as_json)?,
        Command::Completions { shell } => {
            use clap::CommandFactory;
            clap_complete::generate(shell, &mut Cli::command(), "lichen", &mut std::io::stdout());
        }
    }
    Ok(exit::OK)
}
