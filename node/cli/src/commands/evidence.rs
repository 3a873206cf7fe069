//! Evidence: `lichen evidence anchor` hashes a file locally and anchors the hash;
//! `lichen evidence receipt` fetches the offline-verifiable receipt (file and/or QR code).

use std::path::PathBuf;

use anyhow::{Result, anyhow, bail};
use clap::{ArgGroup, Subcommand};
use lichen_contracts::crypto::Hash32;
use lichen_contracts::tx::Payload;
use lichen_views as views;
use serde_json::json;

use super::keys::{self, PasswordSource};
use crate::args::{NodeArg, SignerArgs};
use crate::export;
use crate::ops;
use crate::output::print_receipt;

#[derive(Subcommand, Debug)]
pub enum EvidenceCommand {
    /// Hash FILE locally and anchor the hash (the file never leaves this machine).
    Anchor {
        /// The file to anchor: hashed here with the chain's suite (SM3 or SHA-256).
        file: PathBuf,
        #[command(flatten)]
        signer: SignerArgs,
        /// Submitter id (a court, a notary).
        #[arg(long)]
        submitter: String,
        /// A label stored with the hash (no personal data).
        #[arg(long, default_value = "")]
        label: String,
    },
    /// Fetch the evidence receipt for HASH (or for FILE with --file) into a file and/or a QR
    /// code image (`--qr out.png` or `out.svg`: a link to the scanner page carrying it).
    #[command(group(ArgGroup::new("dest").args(["out", "qr"]).required(true).multiple(true)))]
    Receipt {
        /// The anchored hash (64 hex digits); or give --file instead.
        hash: Option<String>,
        /// The anchored file, hashed here with the chain's suite, instead of HASH.
        #[arg(long)]
        file: Option<PathBuf>,
        #[command(flatten)]
        node: NodeArg,
        /// Where to write the receipt (binary).
        #[arg(short, long)]
        out: Option<PathBuf>,
        #[command(flatten)]
        qr: export::QrArgs,
    },
}

/// `lichen evidence ...`.
pub fn run(command: EvidenceCommand, as_json: bool, pw: &PasswordSource) -> Result<()> {
    match command {
        EvidenceCommand::Anchor {
            file,
            signer,
            submitter,
            label,
        } => {
            let client = signer.node.client();
            let info = ops::chain_info(&client)?;
            let hash = ops::hash_file(info.suite, &file)?;
            let key = keys::load_secret_key(&signer.key, pw)?;
            let tx = ops::sign(
                &info,
                Payload::AnchorEvidence {
                    hash,
                    submitter,
                    label,
                },
                &[&key],
            )?;
            let receipt = ops::submit(&client, &tx)?;
            let extra = [("evidence_hash", hash.to_hex())];
            let what = format!("evidence {hash} anchored");
            print_receipt(&receipt, &extra, as_json, &what);
        }
        EvidenceCommand::Receipt {
            hash,
            file,
            node,
            out,
            qr,
        } => {
            let qr = qr.request(&node.node)?;
            let client = node.client();
            let hash: Hash32 = match (hash, file) {
                (Some(h), None) => views::parse_hash(&h).map_err(|e| anyhow!("hash: {e}"))?,
                (None, Some(f)) => ops::hash_file(ops::chain_info(&client)?.suite, &f)?,
                _ => bail!("give either the evidence hash or --file, not both"),
            };
            let bytes = client.receipt(&hash.to_hex())?;
            let report = json!({ "hash": hash.to_hex() });
            export::export(&bytes, out.as_deref(), qr.as_ref(), as_json, report)?;
        }
    }
    Ok(())
}
