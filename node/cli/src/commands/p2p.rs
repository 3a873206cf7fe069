//! Network identities: `lichen p2p-key new|show`. A node's libp2p key (Ed25519, libp2p's protobuf
//! encoding) names it to its peers; genesis or chain state lists its peer id. It only
//! authenticates connections (votes are signed with the consensus key), so it is kept unsealed,
//! readable by its owner only.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use clap::Subcommand;
use libp2p::{PeerId, identity};
use serde_json::json;

use crate::output::out;

#[derive(Subcommand, Debug)]
pub enum P2pKeyCommand {
    /// Make a new network key file and print its peer id (for genesis or `gov add-observer`).
    New {
        /// Where to write the network key (never overwritten; readable by its owner only).
        file: PathBuf,
    },
    /// Print the peer id of a network key file.
    Show {
        /// The network key file (`lichen p2p-key new`).
        file: PathBuf,
    },
}

/// `lichen p2p-key ...`.
pub fn run(command: P2pKeyCommand, as_json: bool) -> Result<()> {
    match command {
        P2pKeyCommand::New { file } => {
            let peer = new_key_file(&file)?;
            if as_json {
                out!("{}", json!({ "peer_id": peer.to_base58(), "file": file }));
            } else {
                out!("{peer}");
            }
        }
        P2pKeyCommand::Show { file } => {
            let peer = load_key_file(&file)?.public().to_peer_id();
            if as_json {
                out!("{}", json!({ "peer_id": peer.to_base58() }));
            } else {
                out!("{peer}");
            }
        }
    }
    Ok(())
}

/// Writes a new network key to `path` (refusing to overwrite) and returns its peer id.
pub fn new_key_file(path: &Path) -> Result<PeerId> {
    if path.exists() {
        bail!(
            "{} exists; refusing to overwrite a network key",
            path.display()
        );
    }
    let keypair = identity::Keypair::generate_ed25519();
    let bytes = keypair
        .to_protobuf_encoding()
        .context("cannot encode the network key")?;
    super::keys::write_private(path, &bytes)?;
    Ok(keypair.public().to_peer_id())
}

/// Reads a network key file.
pub fn load_key_file(path: &Path) -> Result<identity::Keypair> {
    let bytes = std::fs::read(path)
        .with_context(|| format!("cannot read the network key {}", path.display()))?;
    identity::Keypair::from_protobuf_encoding(&bytes).with_context(|| {
        format!(
            "{} is not a network key (make one with `lichen p2p-key new FILE`)",
            path.display()
        )
    })
}
