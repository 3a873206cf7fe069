//! `lichen trust-package`: fetch a node's latest trust package (a certified checkpoint and every
//! licence not active at it), and check one offline from the genesis file alone.

use std::path::PathBuf;

use anyhow::{Context, Result, anyhow};
use clap::Subcommand;
use lichen_contracts::presentation::{TrustState, verify_package_bytes};
use lichen_views as views;
use serde_json::json;

use crate::args::NodeArg;
use crate::ops;
use crate::output::print_value;

#[derive(Subcommand, Debug)]
pub enum TrustPackageCommand {
    /// Fetch the node's latest trust package into a file. Give it to verifiers with
    /// `lichen verify --trust-package`; it needs no trust in the node (it is checked from the
    /// genesis file).
    Export {
        /// Where to write the package (binary).
        #[arg(short, long)]
        out: PathBuf,
        #[command(flatten)]
        node: NodeArg,
    },
    /// Check a trust package from the genesis (or trust-anchor) file and show its checkpoint,
    /// the validator set it trusts and how many licences are not active.
    Show {
        /// The package file.
        package: PathBuf,
        /// The genesis file, or a trust-anchor file.
        #[arg(long)]
        trust: PathBuf,
    },
}

/// Reads and verifies a package file against the trust file's anchor.
pub fn load(
    path: &std::path::Path,
    anchor: &lichen_contracts::presentation::TrustAnchor,
) -> Result<TrustState> {
    let bytes = std::fs::read(path)
        .with_context(|| format!("cannot read the trust package {}", path.display()))?;
    verify_package_bytes(anchor, &bytes)
        .map_err(|e| anyhow!("{} cannot be used: {e}", path.display()))
}

/// `lichen trust-package ...`.
pub fn run(command: TrustPackageCommand, as_json: bool) -> Result<()> {
    match command {
        TrustPackageCommand::Export { out, node } => {
            let bytes = node.client().get_bytes("/v1/trust-package")?;
            ops::write_file(&out, &bytes)?;
            print_value(
                &json!({ "written": out.display().to_string(), "size": bytes.len() }),
                as_json,
            );
        }
        TrustPackageCommand::Show { package, trust } => {
            let anchor = ops::load_trust(&trust)?;
            let state = load(&package, &anchor)?;
            let mut v = views::trust_state_to_json(&state);
            v["verified"] = json!(true);
            print_value(&v, as_json);
        }
    }
    Ok(())
}
