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
    dev, evidence, genesis, gov, keys, licence, node, p2p, presentation, query, status,
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
    #[command(subcommand)]
    pub command: Command,
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
}

/// Runs one command; the process exit status (0, or 1 for a verdict other than VALID /
/// ANCHORED). Errors become status 2 in `main`.
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
        Command::Evidence { command } => evidence::run(command, as_json, &pw)?,
        Command::Query { command } => query::run(command, as_json)?,
        Command::Presentation { command } => presentation::run(command, as_json)?,
        Command::Verify(a) => return verify::run(a, as_json),
        Command::TrustPackage { command } => trust_package::run(command, as_json)?,
        Command::Gov { command } => gov::run(command, as_json, &pw)?,
        Command::Status(node) => status::run(&node, as_json)?,
    }
    Ok(0)
}
