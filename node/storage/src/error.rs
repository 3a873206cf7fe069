use lichen_contracts::error::{CodecError, StorageError};

/// Why the store could not do what was asked.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("storage backend failed during {operation}: {reason}")]
    Backend {
        operation: &'static str,
        reason: String,
    },
    #[error("stored {what} is corrupt: {source}")]
    Corrupt {
        what: &'static str,
        source: CodecError,
    },
    #[error("the data directory holds chain {found}, not the genesis given ({expected})")]
    WrongGenesis { expected: String, found: String },
    #[error("the genesis is invalid: {reason}")]
    InvalidGenesis { reason: String },
    #[error("the store is not initialised with a genesis")]
    NotInitialised,
    #[error("the data directory already holds a chain: a state sync writes only into an empty one")]
    NotEmpty,
    #[error("state sync cannot finish: {reason}")]
    Restore { reason: String },
    #[error(
        "the data directory is written in store layout {found}, newer than this version's \
         {supported}: run the version that wrote it"
    )]
    NewerLayout { found: u32, supported: u32 },
    #[error("block {height} does not follow the stored tip {tip}")]
    NotNext { height: u64, tip: u64 },
}

impl StoreError {
    pub(crate) fn backend(operation: &'static str, e: impl std::fmt::Display) -> Self {
        StoreError::Backend {
            operation,
            reason: e.to_string(),
        }
    }
}

impl From<StoreError> for StorageError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Corrupt { source, .. } => StorageError::Corrupt(source),
            other => StorageError::Backend {
                reason: other.to_string(),
            },
        }
    }
}
