//! Network identities: `lichen p2p-key new|show`. A node's libp2p key (Ed25519, libp2p's protobuf
//! encoding) names it to its peers; genesis or chain state lists its peer id. It only
//! authenticates connections (votes are signed with the consensus key), so it is kept unsealed,
//! readable by its owner only.

use std::path::Path;

use anyhow::{Context, Result, bail};
use libp2p::{PeerId, identity};

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
