//! `lichen trust-package`: fetch a node's latest trust package (a certified checkpoint and every
//! licence not active at it), and check one offline from the genesis file alone.

use std::path::PathBuf;

use anyhow::{Context, Result, anyhow};
use clap::Subcommand;
use lichen_contracts::PackageError;
use lichen_contracts::codec::{Decode, Encode};
use lichen_contracts::presentation::{
    TrustPackage, TrustState, decode_delta_bytes, verify_package_bytes,
};
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
    /// Bring a trust package up to date with a small delta from the node (only what changed since
    /// its checkpoint), check the result from the genesis file, and write it.
    Update {
        /// The package to update.
        package: PathBuf,
        /// Where to write the updated package (may be the same file).
        #[arg(short, long)]
        out: PathBuf,
        /// The genesis file, or a trust-anchor file.
        #[arg(long)]
        trust: PathBuf,
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
        TrustPackageCommand::Update {
            package,
            out,
            trust,
            node,
        } => {
            let anchor = ops::load_trust(&trust)?;
            // The base need not be checked first: what the delta leads to is checked from the
            // anchor whole, and nothing is written unless it verifies.
            let bytes = std::fs::read(&package)
                .with_context(|| format!("cannot read {}", package.display()))?;
            let base = TrustPackage::from_bytes(&bytes).map_err(|e| {
                anyhow!(
                    "{} cannot be used: {}",
                    package.display(),
                    PackageError::Encoding(e)
                )
            })?;
            let since = base.checkpoint.header.height;
            let delta_bytes = node
                .client()
                .get_bytes(&format!("/v1/trust-package?since={since}"))?;
            let delta = decode_delta_bytes(&delta_bytes)
                .map_err(|e| anyhow!("the node's answer is not a usable delta: {e}"))?;
            let updated = delta
                .apply(&base)
                .map_err(|e| anyhow!("the delta cannot be applied: {e}"))?;
            let state = updated.verify(&anchor).map_err(|e| {
                anyhow!("the updated package does not verify, nothing written: {e}")
            })?;
            let updated_bytes = updated.to_bytes();
            ops::write_file(&out, &updated_bytes)?;
            print_value(
                &json!({
                    "written": out.display().to_string(),
                    "from_checkpoint": since,
                    "checkpoint": state.checkpoint_height,
                    "delta_size": delta_bytes.len(),
                    "size": updated_bytes.len(),
                    "revocations": state.marks.len(),
                }),
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
