//! `lichen status`: the node's view of the chain.

use anyhow::Result;

use crate::args::NodeArg;
use crate::output::print_value;

/// `lichen status`.
pub fn run(node: &NodeArg, as_json: bool) -> Result<()> {
    print_value(&node.client().get_json("/v1/status")?, as_json);
    Ok(())
}
