//! The node library's errors. The HTTP layer maps each to a status and a stable code.

use lichen_contracts::error::{CodecError, StorageError};
use lichen_contracts::ledger::TxError;
use lichen_storage::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum NodeError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("state tree: {0}")]
    State(#[from] StorageError),
    #[error("malformed {what}: {source}")]
    Malformed {
        what: &'static str,
        source: CodecError,
    },
    #[error("{what} '{id}' not found")]
    NotFound { what: &'static str, id: String },
    #[error("the state at height {height} is no longer kept; the oldest kept is {oldest}")]
    Pruned { height: u64, oldest: u64 },
    #[error("no block has been certified yet: proofs need block 1 or later")]
    NoCertifiedBlock,
    #[error(
        "licence '{id}' was recorded after the trust package's checkpoint (height {checkpoint}): a compact presentation needs a newer package; export the full presentation"
    )]
    NotInCheckpoint { id: String, checkpoint: u64 },
    #[error(
        "height {height} is not a trust-package checkpoint (the latest is {latest}; a checkpoint is a block that does not change the validator set)"
    )]
    NotACheckpoint { height: u64, latest: u64 },
    #[error("{reason}")]
    BadRequest { code: &'static str, reason: String },
    #[error("transaction refused: {0}")]
    Refused(TxError),
    #[error("a final block could not be applied at height {height}: {reason}")]
    InvalidFinalBlock { height: u64, reason: String },
    #[error("cannot listen on {addr}: {reason}")]
    Bind { addr: String, reason: String },
    #[error("network: {reason}")]
    Network { reason: String },
    #[error("backup {}: {reason}", path.display())]
    Backup {
        path: std::path::PathBuf,
        reason: String,
    },
    #[error("internal error: {reason}")]
    Internal { reason: String },
}

impl From<TxError> for NodeError {
    fn from(e: TxError) -> Self {
        match e {
            TxError::State(s) => NodeError::State(s),
            other => NodeError::Refused(other),
        }
    }
}

impl From<CodecError> for NodeError {
    fn from(source: CodecError) -> Self {
        NodeError::Malformed {
            what: "bytes",
            source,
        }
    }
}
