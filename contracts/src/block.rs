//! Blocks, votes and commit certificates, and what makes a block a valid next block.
//!
//! A block is final when a quorum of the validator set that signs its height has signed a
//! `Commit` vote over (chain id, height, view, block hash). That commit certificate is stored with
//! the block and is what offline verifiers check.

use alloc::string::{String, ToString};
use alloc::vec::Vec;

use crate::codec::{Decode, Encode, Reader, Writer};
use crate::crypto::{Hash32, Signature, Suite, domain};
use crate::error::{CodecError, ProofError};
use crate::exec::BlockTxError;
use crate::model::{CHAIN_ID_LEN_MAX, VALIDATORS_MAX, ValidatorSet};
use crate::tx::SignedTransaction;

/// The header format version this code writes and accepts.
pub const HEADER_VERSION: u16 = 1;
/// Maximum transactions a decoded block may hold (a chain's `block_txs_max` is at most this).
pub const BLOCK_TXS_LIMIT: usize = 100_000;
/// A chain's `block_bytes_max` is at most this, in bytes: a block of this size with its header,
/// length prefixes and a certificate (or a view change's prepared certificate, or a proposal's
/// justification of up to 128 view changes without blocks) stays well inside a consensus
/// message (16 MiB) and a catch-up push.
pub const BLOCK_BYTES_LIMIT: u32 = 8 * 1024 * 1024;

/// What the validators sign (through its hash).
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct BlockHeader {
    pub version: u16,
    pub chain_id: String,
    pub height: u64,
    /// Block time, milliseconds since the Unix epoch (UTC).
    pub time_ms: u64,
    /// The view in which this block was first proposed.
    pub view: u64,
    pub previous_hash: Hash32,
    pub tx_count: u32,
    /// [`tx_root`] of the block's signed transactions.
    pub tx_root: Hash32,
    /// The state root after executing this block.
    pub state_root: Hash32,
    /// Hash of the validator set that signs this block.
    pub validator_set_hash: Hash32,
    /// Hash of the validator set that signs the next block (differs when this block changes it).
    pub next_validator_set_hash: Hash32,
    /// Index of the proposer in the set that signs this block.
    pub proposer: u16,
}

impl BlockHeader {
    /// `H("lichen/header/v1", encode(header))`: the block hash.
    pub fn hash(&self, suite: Suite) -> Hash32 {
        suite.hash(domain::HEADER, &[&self.to_bytes()])
    }

    pub fn changes_validator_set(&self) -> bool {
        self.validator_set_hash != self.next_validator_set_hash
    }
}

impl Encode for BlockHeader {
    fn encode_to(&self, w: &mut Writer) {
        w.u16(self.version);
        w.str(&self.chain_id);
        w.u64(self.height);
        w.u64(self.time_ms);
        w.u64(self.view);
        self.previous_hash.encode_to(w);
        w.u32(self.tx_count);
        self.tx_root.encode_to(w);
        self.state_root.encode_to(w);
        self.validator_set_hash.encode_to(w);
        self.next_validator_set_hash.encode_to(w);
        w.u16(self.proposer);
    }
}

impl Decode for BlockHeader {
    fn decode_from(r: &mut Reader<'_>) -> Result<Self, CodecError> {
        let version = r.u16()?;
        if version != HEADER_VERSION {
            return Err(CodecError::InvalidValue {
                field: "header version",
                reason: "unsupported header version",
            });
        }
        Ok(BlockHeader {
            version,
            chain_id: crate::ids::read_identifier(r, "chain id", CHAIN_ID_LEN_MAX)?,
            height: r.u64()?,
            time_ms: r.u64()?,
            view: r.u64()?,
            previous_hash: Hash32::decode_from(r)?,
            tx_count: r.u32()?,
            tx_root: Hash32::decode_from(r)?,
            state_root: Hash32::decode_from(r)?,
            validator_set_hash: Hash32::decode_from(r)?,
            next_validator_set_hash: Hash32::decode_from(r)?,
            proposer: r.u16()?,
        })
    }
}

/// A header and its transactions.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Block {
    pub header: BlockHeader,
    pub txs: Vec<SignedTransaction>,
}

impl Block {
    /// Checks that the header's count and tx root match the transactions.
    pub fn check_tx_root(&self, suite: Suite) -> bool {
        self.header.tx_count as usize == self.txs.len()
            && tx_root(suite, &self.txs) == self.header.tx_root
    }
}

impl Encode for Block {
    fn encode_to(&self, w: &mut Writer) {
        self.header.encode_to(w);
        w.seq(&self.txs);
    }
}

impl Decode for Block {
    fn decode_from(r: &mut Reader<'_>) -> Result<Self, CodecError> {
        Ok(Block {
            header: BlockHeader::decode_from(r)?,
            txs: r.seq("block transactions", BLOCK_TXS_LIMIT)?,
        })
    }
}

/// The tx root of a block: [`merkle_root`] over the transactions' witness hashes
/// (`SignedTransaction::witness_hash`, which covers the signatures), in block order.
pub fn tx_root(suite: Suite, txs: &[SignedTransaction]) -> Hash32 {
    let witnesses: Vec<Hash32> = txs.iter().map(|t| t.witness_hash(suite)).collect();
    merkle_root(suite, &witnesses)
}

/// A Merkle root in RFC 6962 shape: empty = 32 zero bytes; one item = `H(tx-root/leaf, item)`;
/// n > 1 = `H(tx-root/node, root(first k) || root(rest))` where k is the largest power of two
/// smaller than n.
pub fn merkle_root(suite: Suite, items: &[Hash32]) -> Hash32 {
    match items.len() {
        0 => Hash32::ZERO,
        1 => suite.hash(domain::TX_ROOT_LEAF, &[items[0].as_bytes()]),
        n => {
            let k = n.next_power_of_two() / 2;
            let left = merkle_root(suite, &items[..k]);
            let right = merkle_root(suite, &items[k..]);
            suite.hash(domain::TX_ROOT_NODE, &[left.as_bytes(), right.as_bytes()])
        }
    }
}

/// How far ahead of the checking node's clock a block's time may lie, in milliseconds.
pub const BLOCK_TIME_DRIFT_MAX_MS: u64 = 5_000;

/// Why a block is not a valid next block: its header does not follow the committed chain, a
/// transaction is refused, or the header's claims about executing it are wrong.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum BlockError {
    #[error("header version {found} is not {expected}")]
    Version { expected: u16, found: u16 },
    #[error("block is for chain '{found}', not '{expected}'")]
    WrongChain { expected: String, found: String },
    #[error("block height {height} does not follow the tip {tip}")]
    Height { height: u64, tip: u64 },
    #[error("block does not extend the committed tip")]
    Parent { expected: Hash32, found: Hash32 },
    #[error("block time {time_ms} does not advance past the previous block's {previous_ms}")]
    TimeNotAdvancing { time_ms: u64, previous_ms: u64 },
    #[error(
        "block time {time_ms} lies more than {drift_max_ms} ms ahead of this node's clock {now_ms}"
    )]
    TimeAhead {
        time_ms: u64,
        now_ms: u64,
        drift_max_ms: u64,
    },
    #[error("block has {count} transactions; the chain allows {max}")]
    TooManyTxs { count: u32, max: u32 },
    #[error("block's transactions take {bytes} bytes; the chain allows {max}")]
    TooLarge { bytes: usize, max: u32 },
    #[error("transaction count or tx root does not match the transactions")]
    TxRoot,
    #[error("block names a validator set other than the one in force")]
    ValidatorSet { expected: Hash32, found: Hash32 },
    #[error("proposer index {proposer} out of range")]
    ProposerOutOfRange { proposer: u16, validators: usize },
    #[error(transparent)]
    Tx(#[from] BlockTxError),
    #[error("state root {header} differs from the executed state's {executed}")]
    StateRoot { header: Hash32, executed: Hash32 },
    #[error("next validator set hash does not match the executed state")]
    NextValidatorSet { header: Hash32, executed: Hash32 },
}

/// The committed block a new block must follow.
#[derive(Clone, Copy, Debug)]
pub struct Parent<'a> {
    pub header: &'a BlockHeader,
    /// `header.hash(suite)`.
    pub hash: Hash32,
    /// The validator set that signs the block after it.
    pub next_validators: &'a ValidatorSet,
}

/// A chain's bounds on one block (its `block_txs_max` and `block_bytes_max`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BlockLimits {
    pub txs_max: u32,
    /// The sum of the encoded sizes of the block's transactions, at most.
    pub bytes_max: u32,
}

impl From<&crate::model::ChainParams> for BlockLimits {
    fn from(p: &crate::model::ChainParams) -> Self {
        BlockLimits {
            txs_max: p.block_txs_max,
            bytes_max: p.block_bytes_max,
        }
    }
}

/// Checks that `block` can follow `parent` on chain `chain_id`, short of executing it: the
/// header version, chain, height and parent hash; a time past the parent's and, if `now_ms` is
/// given (the checking node's clock), at most [`BLOCK_TIME_DRIFT_MAX_MS`] ahead of it; at most
/// `limits.txs_max` transactions, matching the header's count and tx root, of at most
/// `limits.bytes_max` bytes together; the parent's next validator set as the signing set, and a
/// proposer index inside it. The first failure is reported.
pub fn check_successor(
    suite: Suite,
    chain_id: &str,
    parent: &Parent<'_>,
    block: &Block,
    limits: BlockLimits,
    now_ms: Option<u64>,
) -> Result<(), BlockError> {
    let h = &block.header;
    if h.version != HEADER_VERSION {
        return Err(BlockError::Version {
            expected: HEADER_VERSION,
            found: h.version,
        });
    }
    if h.chain_id != chain_id {
        return Err(BlockError::WrongChain {
            expected: chain_id.to_string(),
            found: h.chain_id.clone(),
        });
    }
    if h.height != parent.header.height + 1 {
        return Err(BlockError::Height {
            height: h.height,
            tip: parent.header.height,
        });
    }
    if h.previous_hash != parent.hash {
        return Err(BlockError::Parent {
            expected: parent.hash,
            found: h.previous_hash,
        });
    }
    if h.time_ms <= parent.header.time_ms {
        return Err(BlockError::TimeNotAdvancing {
            time_ms: h.time_ms,
            previous_ms: parent.header.time_ms,
        });
    }
    if let Some(now_ms) = now_ms
        && h.time_ms > now_ms.saturating_add(BLOCK_TIME_DRIFT_MAX_MS)
    {
        return Err(BlockError::TimeAhead {
            time_ms: h.time_ms,
            now_ms,
            drift_max_ms: BLOCK_TIME_DRIFT_MAX_MS,
        });
    }
    if h.tx_count > limits.txs_max {
        return Err(BlockError::TooManyTxs {
            count: h.tx_count,
            max: limits.txs_max,
        });
    }
    // One encoding per transaction serves both its size and its witness hash.
    let mut bytes = 0usize;
    let witnesses: Vec<Hash32> = block
        .txs
        .iter()
        .map(|tx| {
            let (witness, len) = tx.witness_hash_and_len(suite);
            bytes += len;
            witness
        })
        .collect();
    if bytes > limits.bytes_max as usize {
        return Err(BlockError::TooLarge {
            bytes,
            max: limits.bytes_max,
        });
    }
    if h.tx_count as usize != block.txs.len() || merkle_root(suite, &witnesses) != h.tx_root {
        return Err(BlockError::TxRoot);
    }
    let set_hash = parent.next_validators.hash(suite);
    if h.validator_set_hash != set_hash {
        return Err(BlockError::ValidatorSet {
            expected: set_hash,
            found: h.validator_set_hash,
        });
    }
    if usize::from(h.proposer) >= parent.next_validators.len() {
        return Err(BlockError::ProposerOutOfRange {
            proposer: h.proposer,
            validators: parent.next_validators.len(),
        });
    }
    Ok(())
}

/// Checks the header's claims about executing its block against what executing it gave: the
/// state root, then the validator set that signs the next block.
pub fn check_executed(
    suite: Suite,
    header: &BlockHeader,
    state_root: &Hash32,
    next_validators: &ValidatorSet,
) -> Result<(), BlockError> {
    if header.state_root != *state_root {
        return Err(BlockError::StateRoot {
            header: header.state_root,
            executed: *state_root,
        });
    }
    let next_hash = next_validators.hash(suite);
    if header.next_validator_set_hash != next_hash {
        return Err(BlockError::NextValidatorSet {
            header: header.next_validator_set_hash,
            executed: next_hash,
        });
    }
    Ok(())
}

/// The two voting phases.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
pub enum VoteKind {
    Prepare,
    Commit,
}

impl VoteKind {
    pub fn tag(self) -> u8 {
        match self {
            VoteKind::Prepare => 1,
            VoteKind::Commit => 2,
        }
    }
}

/// What a validator signs when it votes: `H("lichen/vote/v1", encode(vote))` is the signed
/// message.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Vote {
    pub kind: VoteKind,
    pub chain_id: String,
    /// The chain's genesis hash: a vote of another genesis with the same chain id and keys (a
    /// relaunch, a staging chain) does not verify here.
    pub genesis_hash: Hash32,
    pub height: u64,
    pub view: u64,
    pub block_hash: Hash32,
}

impl Vote {
    pub fn signing_hash(&self, suite: Suite) -> Hash32 {
        suite.hash(domain::VOTE, &[&self.to_bytes()])
    }
}

impl Encode for VoteKind {
    fn encode_to(&self, w: &mut Writer) {
        w.u8(self.tag());
    }
}

impl Decode for VoteKind {
    fn decode_from(r: &mut Reader<'_>) -> Result<Self, CodecError> {
        match r.u8()? {
            1 => Ok(VoteKind::Prepare),
            2 => Ok(VoteKind::Commit),
            tag => Err(CodecError::InvalidTag {
                what: "vote kind",
                tag,
            }),
        }
    }
}

impl Encode for Vote {
    fn encode_to(&self, w: &mut Writer) {
        self.kind.encode_to(w);
        w.str(&self.chain_id);
        self.genesis_hash.encode_to(w);
        w.u64(self.height);
        w.u64(self.view);
        self.block_hash.encode_to(w);
    }
}

impl Decode for Vote {
    fn decode_from(r: &mut Reader<'_>) -> Result<Self, CodecError> {
        Ok(Vote {
            kind: VoteKind::decode_from(r)?,
            chain_id: crate::ids::read_identifier(r, "chain id", CHAIN_ID_LEN_MAX)?,
            genesis_hash: Hash32::decode_from(r)?,
            height: r.u64()?,
            view: r.u64()?,
            block_hash: Hash32::decode_from(r)?,
        })
    }
}

/// One validator's signature in a certificate, naming the validator by its index in the set.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct IndexedSignature {
    pub index: u16,
    pub signature: Signature,
}

impl Encode for IndexedSignature {
    fn encode_to(&self, w: &mut Writer) {
        w.u16(self.index);
        self.signature.encode_to(w);
    }
}

impl Decode for IndexedSignature {
    fn decode_from(r: &mut Reader<'_>) -> Result<Self, CodecError> {
        Ok(IndexedSignature {
            index: r.u16()?,
            signature: Signature::decode_from(r)?,
        })
    }
}

/// A quorum of `Commit` votes for one block: proof that it is final.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct CommitCertificate {
    pub height: u64,
    /// The view of the commit votes (may be later than the header's proposal view).
    pub view: u64,
    pub block_hash: Hash32,
    /// Sorted by index, each index at most once.
    pub signatures: Vec<IndexedSignature>,
}

impl CommitCertificate {
    /// The vote every signature in this certificate signs.
    pub fn vote(&self, chain_id: &str, genesis_hash: &Hash32) -> Vote {
        Vote {
            kind: VoteKind::Commit,
            chain_id: chain_id.to_string(),
            genesis_hash: *genesis_hash,
            height: self.height,
            view: self.view,
            block_hash: self.block_hash,
        }
    }

    /// Checks this certificate finalises `header` on the chain (`chain_id`, `genesis_hash`) under
    /// `validators`: the height and
    /// block hash match, the header names `validators` as its signing set, and at least a quorum
    /// of distinct validators of that set signed. Unknown or repeated indices are refused, not
    /// skipped: a well-formed certificate has neither.
    pub fn verify(
        &self,
        suite: Suite,
        chain_id: &str,
        genesis_hash: &Hash32,
        header: &BlockHeader,
        validators: &ValidatorSet,
    ) -> Result<(), ProofError> {
        if header.chain_id != chain_id {
            return Err(ProofError::WrongChain {
                expected: chain_id.to_string(),
                found: header.chain_id.clone(),
            });
        }
        if self.height != header.height {
            return Err(ProofError::CertificateMismatch {
                what: "height",
                expected: header.height.to_string(),
                found: self.height.to_string(),
            });
        }
        let block_hash = header.hash(suite);
        if self.block_hash != block_hash {
            return Err(ProofError::CertificateMismatch {
                what: "block hash",
                expected: block_hash.to_hex(),
                found: self.block_hash.to_hex(),
            });
        }
        let set_hash = validators.hash(suite);
        if header.validator_set_hash != set_hash {
            return Err(ProofError::ValidatorSetMismatch {
                expected: set_hash,
                found: header.validator_set_hash,
            });
        }
        self.check_signatures(suite, chain_id, genesis_hash, validators, Some(set_hash))
    }

    /// The signature part of [`Self::verify`]: a quorum of distinct, valid signers.
    pub fn verify_signatures(
        &self,
        suite: Suite,
        chain_id: &str,
        genesis_hash: &Hash32,
        validators: &ValidatorSet,
    ) -> Result<(), ProofError> {
        self.check_signatures(suite, chain_id, genesis_hash, validators, None)
    }

    /// `set_hash`: `validators.hash(suite)` if the caller has it (only the memo needs it).
    fn check_signatures(
        &self,
        suite: Suite,
        chain_id: &str,
        genesis_hash: &Hash32,
        validators: &ValidatorSet,
        set_hash: Option<Hash32>,
    ) -> Result<(), ProofError> {
        let message = self.vote(chain_id, genesis_hash).signing_hash(suite);
        #[cfg(not(feature = "memo"))]
        let _ = set_hash;
        #[cfg(feature = "memo")]
        let memo = {
            let set_hash = set_hash.unwrap_or_else(|| validators.hash(suite));
            let signatures = self.encoded_signatures();
            if crate::memo::certificate_verified(&message, &set_hash, &signatures) {
                return Ok(());
            }
            (set_hash, signatures)
        };
        let mut previous: Option<u16> = None;
        let mut items = Vec::with_capacity(self.signatures.len());
        for s in &self.signatures {
            if previous.is_some_and(|p| s.index <= p) {
                return Err(ProofError::DuplicateSigner { index: s.index });
            }
            previous = Some(s.index);
            let validator = validators.validators.get(usize::from(s.index)).ok_or(
                ProofError::UnknownSigner {
                    index: s.index,
                    set_size: validators.len(),
                },
            )?;
            items.push((&validator.key, message.as_bytes().as_slice(), &s.signature));
        }
        let quorum = validators.quorum();
        if self.signatures.len() < quorum {
            return Err(ProofError::NoQuorum {
                signers: self.signatures.len(),
                quorum,
                set_size: validators.len(),
            });
        }
        crate::crypto::verify_batch(&items).map_err(|e| match e {
            crate::error::CryptoError::BatchItemInvalid { index } => {
                ProofError::BadCertificateSignature {
                    index: self.signatures[index].index,
                }
            }
            _ => ProofError::BadCertificateSignature {
                index: self.signatures.first().map_or(0, |s| s.index),
            },
        })?;
        #[cfg(feature = "memo")]
        crate::memo::remember_certificate(message, memo.0, memo.1);
        Ok(())
    }
}

#[cfg(feature = "memo")]
impl CommitCertificate {
    /// Whether these signatures verified before, in this process, for this certificate's vote
    /// and `validators` (the memo): checking them again would cost no signature verification.
    pub fn verified_before(
        &self,
        suite: Suite,
        chain_id: &str,
        genesis_hash: &Hash32,
        validators: &ValidatorSet,
    ) -> bool {
        let message = self.vote(chain_id, genesis_hash).signing_hash(suite);
        crate::memo::certificate_verified(
            &message,
            &validators.hash(suite),
            &self.encoded_signatures(),
        )
    }

    /// The signatures as the memo keys them.
    fn encoded_signatures(&self) -> Vec<u8> {
        let mut w = Writer::new();
        w.seq(&self.signatures);
        w.into_bytes()
    }
}

impl Encode for CommitCertificate {
    fn encode_to(&self, w: &mut Writer) {
        w.u64(self.height);
        w.u64(self.view);
        self.block_hash.encode_to(w);
        w.seq(&self.signatures);
    }
}

impl Decode for CommitCertificate {
    fn decode_from(r: &mut Reader<'_>) -> Result<Self, CodecError> {
        Ok(CommitCertificate {
            height: r.u64()?,
            view: r.u64()?,
            block_hash: Hash32::decode_from(r)?,
            signatures: r.seq("certificate signatures", VALIDATORS_MAX)?,
        })
    }
}
