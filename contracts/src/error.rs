//! Errors of the `contracts` crate. One umbrella [`Error`] with a specific enum per concern, each
//! variant carrying the fields a caller needs to say exactly what is wrong.

use alloc::string::String;

use crate::crypto::{Hash32, SigAlgo};

/// Why bytes are not a canonical encoding of the expected object.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CodecError {
    #[error("input ends early: needed {needed} more bytes, {remaining} left")]
    UnexpectedEnd { needed: usize, remaining: usize },
    #[error("{count} trailing bytes after the object")]
    TrailingBytes { count: usize },
    #[error("{field} has length {len}, more than the maximum {max}")]
    TooLong {
        field: &'static str,
        len: usize,
        max: usize,
    },
    #[error("unknown {what} tag {tag}")]
    InvalidTag { what: &'static str, tag: u8 },
    #[error("{field} is not valid UTF-8")]
    InvalidUtf8 { field: &'static str },
    #[error("boolean byte is {value}, not 0 or 1")]
    InvalidBool { value: u8 },
    #[error("invalid {field}: {reason}")]
    InvalidValue {
        field: &'static str,
        reason: &'static str,
    },
    #[error("bad key or signature encoding: {0}")]
    Crypto(#[from] CryptoError),
}

/// Why a key, signature or keystore was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CryptoError {
    #[error("unknown signature algorithm tag {tag}")]
    UnknownAlgorithm { tag: u8 },
    #[error("invalid {algo} public key: {reason}")]
    InvalidPublicKey { algo: SigAlgo, reason: &'static str },
    #[error("invalid {algo} secret key: {reason}")]
    InvalidSecretKey { algo: SigAlgo, reason: &'static str },
    #[error("invalid {algo} signature encoding: {reason}")]
    InvalidSignatureEncoding { algo: SigAlgo, reason: &'static str },
    #[error("{key} key cannot check a {signature} signature")]
    AlgorithmMismatch { key: SigAlgo, signature: SigAlgo },
    #[error("{algo} signature does not verify")]
    BadSignature { algo: SigAlgo },
    #[error("signature {index} of the batch does not verify")]
    BatchItemInvalid { index: usize },
    #[error("keystore file is malformed: {reason}")]
    KeystoreFormat { reason: &'static str },
    #[error("keystore password is wrong or the file was altered (MAC mismatch)")]
    KeystoreAuthentication,
}

/// Why a state proof, certificate or chain of validator-set changes does not check out.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProofError {
    #[error(
        "state proof does not lead to the certified state root (computed {computed}, expected {expected})"
    )]
    RootMismatch { computed: Hash32, expected: Hash32 },
    #[error("state proof has {len} siblings, more than the tree depth 256")]
    TooDeep { len: usize },
    #[error("state proof shows key {key} present, but non-inclusion was claimed")]
    UnexpectedPresence { key: Hash32 },
    #[error("state proof shows key {key} absent, but a value was claimed")]
    UnexpectedAbsence { key: Hash32 },
    #[error("state proof's leaf does not lie on the path of key {key}")]
    LeafOffPath { key: Hash32 },
    #[error("state proof value hash differs from the value presented")]
    ValueMismatch,
    #[error("certificate is for chain '{found}', expected '{expected}'")]
    WrongChain { expected: String, found: String },
    #[error("certificate is for {what} {found}, expected {expected}")]
    CertificateMismatch {
        what: &'static str,
        expected: String,
        found: String,
    },
    #[error("certificate names validator index {index}, but the set has {set_size} validators")]
    UnknownSigner { index: u16, set_size: usize },
    #[error("certificate lists validator index {index} twice")]
    DuplicateSigner { index: u16 },
    #[error("certificate signature of validator index {index} does not verify")]
    BadCertificateSignature { index: u16 },
    #[error(
        "certificate has {signers} valid signers; the quorum of {set_size} validators is {quorum}"
    )]
    NoQuorum {
        signers: usize,
        quorum: usize,
        set_size: usize,
    },
    #[error(
        "header is signed by validator set {found}, but the trusted set at that point is {expected}"
    )]
    ValidatorSetMismatch { expected: Hash32, found: Hash32 },
    #[error("header at height {height} is not after the trust anchor's height {anchor_height}")]
    HeaderBeforeAnchor { height: u64, anchor_height: u64 },
    #[error("validator-set change at height {height} is out of order (after height {previous})")]
    SetChangeOutOfOrder { height: u64, previous: u64 },
    #[error(
        "validator-set change at height {height} carries a set whose hash is not the header's next set"
    )]
    SetChangeHashMismatch { height: u64 },
    #[error(
        "header at height {height} changes the validator set, but the presentation carries no set change for it"
    )]
    MissingSetChange { height: u64 },
    #[error("state entry does not match what the proof is for: {reason}")]
    EntryMismatch { reason: &'static str },
}

/// A failure of the storage behind the state tree (the node's sled, or the in-memory twin).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StorageError {
    #[error("storage backend failed: {reason}")]
    Backend { reason: String },
    #[error("state tree node missing at version {version} (pruned or never written)")]
    MissingNode { version: u64 },
    #[error("stored bytes are corrupt: {0}")]
    Corrupt(#[from] CodecError),
}

/// Anything `contracts` can refuse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Codec(#[from] CodecError),
    #[error(transparent)]
    Crypto(#[from] CryptoError),
    #[error(transparent)]
    Proof(#[from] ProofError),
    #[error(transparent)]
    Storage(#[from] StorageError),
    #[error(transparent)]
    Tx(#[from] crate::ledger::TxError),
}
