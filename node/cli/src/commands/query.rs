//! `lichen query licence|tx|block|evidence`: read one record from a node.

use anyhow::Result;
use clap::Subcommand;

use crate::args::NodeArg;
use crate::output::print_value;

#[derive(Subcommand, Debug)]
pub enum QueryCommand {
    Licence {
        id: String,
        #[command(flatten)]
        node: NodeArg,
    },
    Tx {
        id: String,
        #[command(flatten)]
        node: NodeArg,
    },
    Block {
        height: u64,
        #[command(flatten)]
        node: NodeArg,
    },
    Evidence {
        hash: String,
        #[command(flatten)]
        node: NodeArg,
    },
}

/// `lichen query ...`: one GET, printed.
pub fn run(command: QueryCommand, as_json: bool) -> Result<()> {
    let (node, path) = match command {
        QueryCommand::Licence { id, node } => (node, format!("/v1/licences/{id}")),
        QueryCommand::Tx { id, node } => (node, format!("/v1/transactions/{id}")),
        QueryCommand::Block { height, node } => (node, format!("/v1/blocks/{height}")),
        QueryCommand::Evidence { hash, node } => (node, format!("/v1/evidence/{hash}")),
    };
    let client = node.client();
    print_value(&client.get_json(&path)?, as_json);
    Ok(())
}
