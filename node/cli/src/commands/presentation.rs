//! `lichen presentation export`: a licence's presentation from a node, into a file and/or a QR
//! code image; `lichen verify` checks it offline.

use std::path::PathBuf;

use anyhow::Result;
use clap::{ArgGroup, Subcommand};
use serde_json::json;

use crate::args::NodeArg;
use crate::export;

#[derive(Subcommand, Debug)]
pub enum PresentationCommand {
    /// Fetch the presentation of licence ID into a file (verify it with `lichen verify`) and/or
    /// a QR code image (`--qr out.png` or `out.svg`: a link to the scanner page carrying it).
    #[command(group(ArgGroup::new("dest").args(["out", "qr"]).required(true).multiple(true)))]
    Export {
        /// Licence id.
        id: String,
        /// Where to write the presentation (binary).
        #[arg(short, long)]
        out: Option<PathBuf>,
        #[command(flatten)]
        qr: export::QrArgs,
        /// A compact presentation at the node's latest trust-package checkpoint: a few hundred
        /// bytes, verifiable only with that package (`lichen verify --trust-package`).
        #[arg(long)]
        compact: bool,
        #[command(flatten)]
        node: NodeArg,
    },
}

/// `lichen presentation ...`.
pub fn run(command: PresentationCommand, as_json: bool) -> Result<()> {
    let PresentationCommand::Export {
        id,
        out,
        qr,
        compact,
        node,
    } = command;
    let qr = qr.request(&node.node)?;
    let bytes = node.client().get_bytes(&format!(
        "/v1/licences/{}/presentation{}",
        lichen_client::percent_encode(&id),
        if compact { "?compact=true" } else { "" }
    ))?;
    export::export(&bytes, out.as_deref(), qr.as_ref(), as_json, json!({}))
}
