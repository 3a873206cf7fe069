//! `lichen query licence|tx|block|evidence`: read one record from a node.

use anyhow::Result;
use clap::Subcommand;

use crate::args::NodeArg;
use crate::output::print_value;

#[derive(Subcommand, Debug)]
pub enum QueryCommand {
    /// A licence: its record, its status history and the height it was read at.
    Licence {
        /// Licence id.
        id: String,
        #[command(flatten)]
        node: NodeArg,
    },
    /// A transaction: committed (with its block and position), pending, or refused (with the
    /// reason).
    Tx {
        /// Transaction id (64 hex digits, as printed when it was submitted).
        id: String,
        #[command(flatten)]
        node: NodeArg,
    },
    /// A committed block and its commit certificate.
    Block {
        /// Block height.
        height: u64,
        #[command(flatten)]
        node: NodeArg,
    },
    /// An anchored evidence entry: its submitter, label, block and time.
    Evidence {
        /// The anchored hash (64 hex digits).
        hash: String,
        #[command(flatten)]
        node: NodeArg,
    },
}

/// `lichen query ...`: one GET, printed.
pub fn run(command: QueryCommand, as_json: bool) -> Result<()> {
    let (node, path) = match command {
        QueryCommand::Licence { id, node } => (
            node,
            format!("/v1/licences/{}", lichen_client::percent_encode(&id)),
        ),
        QueryCommand::Tx { id, node } => (node, format!("/v1/transactions/{id}")),
        QueryCommand::Block { height, node } => (node, format!("/v1/blocks/{height}")),
        QueryCommand::Evidence { hash, node } => (node, format!("/v1/evidence/{hash}")),
    };
    let client = node.client();
    print_value(&client.get_json(&path)?, as_json);
    Ok(())
}
