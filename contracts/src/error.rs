//! Errors of the `contracts` crate. One umbrella [`Error`] with a specific enum per concern, each
//! variant carrying the fields a caller needs to say exactly what is wrong.
//!
//! [`TxError`], the ledger's refusals (also `ledger::TxError`), lives here too, so that this
//! module does not depend on the ledger, which depends on it.

use alloc::string::String;
use alloc::vec::Vec;

use crate::crypto::{Hash32, PublicKey, SigAlgo};

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

/// Why a trust package cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PackageError {
    #[error("not a valid trust package: {0}")]
    Encoding(CodecError),
    #[error(
        "trust package is for chain '{found}' (genesis {found_genesis}), the trust anchor is chain '{expected}' (genesis {expected_genesis})"
    )]
    WrongChain {
        expected: String,
        expected_genesis: Hash32,
        found: String,
        found_genesis: Hash32,
    },
    #[error(
        "trust package's checkpoint at height {height} changes the validator set; a checkpoint may not"
    )]
    CheckpointChangesSet { height: u64 },
    #[error("trust package's checkpoint is not certified from the trust anchor: {0}")]
    Checkpoint(ProofError),
    #[error(
        "trust package delta is for the package of checkpoint {delta_base}, this package's checkpoint is {package}: fetch a delta since {package}, or a full package"
    )]
    WrongBase { delta_base: u64, package: u64 },
    #[error("trust package lists one revocation-region key twice")]
    DuplicateLeaf,
    #[error(
        "trust package's revocation list does not lead to the checkpoint's state root (computed {computed}, expected {expected}): it is incomplete or altered"
    )]
    RegionMismatch { computed: Hash32, expected: Hash32 },
    #[error(
        "trust package's tree levels do not lead to the checkpoint's state root (computed {computed}, expected {expected})"
    )]
    LevelsMismatch { computed: Hash32, expected: Hash32 },
}

/// A failure of the storage behind the state tree (the node's fjall store, or the in-memory twin).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StorageError {
    #[error("storage backend failed: {reason}")]
    Backend { reason: String },
    #[error("state tree node missing at version {version} (pruned or never written)")]
    MissingNode { version: u64 },
    #[error("stored bytes are corrupt: {0}")]
    Corrupt(#[from] CodecError),
}

/// Why a transaction was refused. Each refusal has its own variant.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TxError {
    #[error("transaction is for chain '{found}', this chain is '{expected}'")]
    WrongChain { expected: String, found: String },
    #[error("transaction expired at height {expires_at_height}; the block is at height {height}")]
    Expired { expires_at_height: u64, height: u64 },
    #[error(
        "transaction expiry height {expires_at_height} is too far ahead: at most {max_height} at height {height}"
    )]
    ExpiryTooFar {
        expires_at_height: u64,
        max_height: u64,
        height: u64,
    },
    #[error("transaction {tx_id} was already executed (replay)")]
    Duplicate { tx_id: Hash32 },
    #[error("transaction carries no signature")]
    Unsigned,
    #[error("transaction carries {count} signatures, at most {max} allowed")]
    TooManySignatures { count: usize, max: usize },
    #[error("key {key} signed the transaction twice")]
    DuplicateSigner { key: PublicKey },
    #[error("signature {index} does not verify over the transaction id")]
    BadSignature { index: usize },
    #[error("key {key} is {found}, but this chain's suite uses {expected}")]
    WrongAlgorithm {
        key: PublicKey,
        expected: SigAlgo,
        found: SigAlgo,
    },
    #[error("invalid transaction field: {0}")]
    InvalidField(#[from] CodecError),
    #[error("key {key} is not a council member")]
    NotCouncilMember { key: PublicKey },
    #[error("{signers} council signatures, the threshold is {threshold}")]
    CouncilThresholdNotMet { signers: usize, threshold: u16 },
    #[error("agency '{id}' is not registered")]
    UnknownAgency { id: String },
    #[error("agency '{id}' is already registered")]
    AgencyExists { id: String },
    #[error("agency '{id}' is suspended")]
    AgencySuspended { id: String },
    #[error("key {key} is not a key of agency '{agency}'")]
    NotAgencyKey { agency: String, key: PublicKey },
    #[error("licence type '{code}' is not defined")]
    UnknownLicenceType { code: String },
    #[error("licence type '{code}' is already defined")]
    LicenceTypeExists { code: String },
    #[error("agency '{agency}' is not authorised to issue licence type '{licence_type}'")]
    NotAuthorisedForType {
        agency: String,
        licence_type: String,
    },
    #[error("licence '{id}' already exists")]
    LicenceExists { id: String },
    #[error("licence '{id}' does not exist")]
    UnknownLicence { id: String },
    #[error(
        "licence '{id}' was issued by agency '{issuer}'; only that agency or the council may change it"
    )]
    NotIssuer { id: String, issuer: String },
    #[error("licence '{id}' is {status}, which is final")]
    LicenceFinal { id: String, status: &'static str },
    #[error("licence '{id}' is already suspended")]
    AlreadySuspended { id: String },
    #[error("licence '{id}' is not suspended")]
    NotSuspended { id: String },
    #[error("a superseding licence must be issued by the old licence's agency '{issuer}'")]
    SupersedeByOtherAgency { issuer: String },
    #[error("evidence submitter '{id}' is not registered")]
    UnknownSubmitter { id: String },
    #[error("evidence submitter '{id}' is already registered")]
    SubmitterExists { id: String },
    #[error("evidence submitter '{id}' is suspended")]
    SubmitterSuspended { id: String },
    #[error("key {key} is not a key of submitter '{submitter}'")]
    NotSubmitterKey { submitter: String, key: PublicKey },
    #[error("evidence hash {hash} was already anchored")]
    EvidenceExists { hash: Hash32 },
    #[error("validator {key} is already in the set")]
    ValidatorExists { key: PublicKey },
    #[error("peer id is already used by validator '{name}'")]
    PeerIdInUse { name: String },
    #[error("peer id is already used by observer '{name}'")]
    PeerIdUsedByObserver { name: String },
    #[error("peer id {} is already an observer", crate::hex::encode(.peer_id))]
    ObserverExists { peer_id: Vec<u8> },
    #[error("peer id {} is not an observer", crate::hex::encode(.peer_id))]
    UnknownObserver { peer_id: Vec<u8> },
    #[error("validator {key} is not in the set")]
    UnknownValidator { key: PublicKey },
    #[error("the validator set would have {size} validators; allowed 1..={max}")]
    ValidatorSetSize { size: usize, max: usize },
    #[error("nothing to change: {what} already has that value")]
    Unchanged { what: &'static str },
    #[error("state is not readable: {0}")]
    State(#[from] StorageError),
}

impl TxError {
    /// A refusal caused by the state or the node, not by the transaction: the node must stop
    /// rather than treat the transaction as invalid.
    pub fn is_internal(&self) -> bool {
        matches!(self, TxError::State(_))
    }

    /// The refusal is about who signed: a key that is not the council's, the named agency's or
    /// submitter's, an entity that is not registered or is suspended, too few council
    /// signatures. A node refuses such a transaction at admission (checked against committed
    /// state), so that transactions nobody may send cannot fill its pool; other refusals may
    /// depend on transactions still pending, and are left to the block.
    pub fn is_unauthorised(&self) -> bool {
        matches!(
            self,
            TxError::NotCouncilMember { .. }
                | TxError::CouncilThresholdNotMet { .. }
                | TxError::UnknownAgency { .. }
                | TxError::AgencySuspended { .. }
                | TxError::NotAgencyKey { .. }
                | TxError::UnknownSubmitter { .. }
                | TxError::SubmitterSuspended { .. }
                | TxError::NotSubmitterKey { .. }
        )
    }
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
    Tx(#[from] TxError),
}

/// Why leaves handed over for state sync cannot rebuild the certified state (a lying or broken
/// peer: nothing it sent is kept).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RestoreError {
    #[error("state chunk {chunk} of {chunks}: key {key} is not after the one before it")]
    NotIncreasing {
        chunk: usize,
        chunks: usize,
        key: Hash32,
    },
    #[error("state chunk {chunk}: key {key} does not start with the chunk's {depth}-bit prefix")]
    OutsideChunk {
        chunk: usize,
        depth: u8,
        key: Hash32,
    },
    #[error("state chunk {chunk}: a value of {len} bytes is over the limit of {max}")]
    ValueTooLong {
        chunk: usize,
        len: usize,
        max: usize,
    },
    #[error(
        "state chunk {chunk} does not match the certified tree levels (computed {computed}, expected {expected}): it is incomplete or altered"
    )]
    ChunkMismatch {
        chunk: usize,
        computed: Hash32,
        expected: Hash32,
    },
    #[error(
        "the rebuilt state root {computed} is not the certified one ({expected}): the chunks are incomplete"
    )]
    RootMismatch { computed: Hash32, expected: Hash32 },
}
