//! The simulated application: a chain of committed blocks per node and a deterministic rule for
//! what a valid block is. It is not the contracts ledger: a block's state root is
//! `H("lichen-sim/state", previous root || tx ids...)`, and the only transactions are evidence
//! anchors (signed by the submitter `court-1`) and validator-set changes (signed by 2 of the 3
//! council keys), all real `SignedTransaction`s whose signatures are checked with
//! `lichen_contracts::ledger::verify_signatures`.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::OnceLock;

use lichen_consensus::Tip;
use lichen_contracts::block::{
    BLOCK_TXS_LIMIT, Block, BlockError, BlockHeader, BlockLimits, CommitCertificate,
    HEADER_VERSION, Parent, check_executed, check_successor, tx_root,
};
use lichen_contracts::codec::Encode;
use lichen_contracts::crypto::{Hash32, PublicKey, SecretKey, Suite};
use lichen_contracts::error::CodecError;
use lichen_contracts::exec::BlockTxError;
use lichen_contracts::ledger::{TxError, verify_signatures};
use lichen_contracts::model::{Validator, ValidatorSet};
use lichen_contracts::replay::expiry_window;
use lichen_contracts::testkit::{GENESIS_TIME_MS, test_key};
use lichen_contracts::tx::{Payload, SignedTransaction, Transaction};

pub const CHAIN_ID: &str = "lichen-sim";
/// The simulated chain's genesis hash, which every vote binds (the simulator's genesis is built
/// in memory, so any fixed value serves).
pub const GENESIS_HASH: Hash32 = Hash32([0x6c; 32]);
/// Evidence anchors in the pre-signed pool, per suite.
pub const POOL_SIZE: usize = 400;
/// A pool transaction may be included up to this height.
pub const POOL_EXPIRY: u64 = 1_000_000;
const COUNCIL_THRESHOLD: usize = 2;
const STATE_TAG: &str = "lichen-sim/state";

/// Name of simulated node `i` (its key is `test_key(suite, name)`).
pub fn node_name(i: usize) -> String {
    format!("validator-{i}")
}

pub fn validator(suite: Suite, i: usize) -> Validator {
    Validator {
        name: node_name(i),
        key: test_key(suite, &node_name(i)).public_key(),
        peer_id: format!("peer-{i}").into_bytes(),
    }
}

/// Pre-signed transactions, built once per suite and process.
#[derive(Debug)]
pub struct Pool {
    pub evidence: Vec<SignedTransaction>,
    pub court: PublicKey,
    pub council: BTreeSet<PublicKey>,
}

pub fn pool(suite: Suite) -> &'static Pool {
    static INTL: OnceLock<Pool> = OnceLock::new();
    static SM: OnceLock<Pool> = OnceLock::new();
    let cell = match suite {
        Suite::Intl => &INTL,
        Suite::Sm => &SM,
    };
    cell.get_or_init(|| {
        let court = test_key(suite, "court-1");
        let evidence = (0..POOL_SIZE)
            .map(|i| {
                let tx = Transaction {
                    chain_id: CHAIN_ID.into(),
                    nonce: i as u64,
                    expires_at_height: POOL_EXPIRY,
                    payload: Payload::AnchorEvidence {
                        hash: suite.hash("lichen-sim/document", &[&(i as u64).to_be_bytes()]),
                        submitter: "court-1".into(),
                        label: format!("document {i}"),
                    },
                };
                sign(suite, tx, &[&court])
            })
            .collect();
        Pool {
            evidence,
            court: court.public_key(),
            council: (0..3)
                .map(|i| test_key(suite, &format!("council-{i}")).public_key())
                .collect(),
        }
    })
}

pub fn sign(suite: Suite, tx: Transaction, keys: &[&SecretKey]) -> SignedTransaction {
    let signatures = keys.iter().map(|k| tx.sign(suite, k)).collect();
    SignedTransaction { tx, signatures }
}

/// A council transaction (signed by council-0 and council-1) adding or removing a validator.
pub fn set_change(suite: Suite, nonce: u64, payload: Payload) -> SignedTransaction {
    let tx = Transaction {
        chain_id: CHAIN_ID.into(),
        nonce: 1_000_000 + nonce,
        expires_at_height: POOL_EXPIRY,
        payload,
    };
    let c0 = test_key(suite, "council-0");
    let c1 = test_key(suite, "council-1");
    sign(suite, tx, &[&c0, &c1])
}

/// Memoised signature checks (a pure function of the transaction bytes; saves re-verifying a
/// transaction on every node that executes the block).
#[derive(Debug, Default)]
pub struct SigCache {
    verdicts: BTreeMap<Hash32, Result<(), TxError>>,
    pub verified: u64,
}

impl SigCache {
    pub fn check(&mut self, suite: Suite, tx: &SignedTransaction) -> Result<(), TxError> {
        let key = suite.hash("lichen-sim/signed-tx", &[&tx.to_bytes()]);
        if let Some(v) = self.verdicts.get(&key) {
            return v.clone();
        }
        self.verified += 1;
        let verdict = verify_signatures(suite, tx).map(|_| ());
        self.verdicts.insert(key, verdict.clone());
        verdict
    }
}

/// One committed block as a node stores it, with what executing it produced.
#[derive(Clone, Debug)]
pub struct Entry {
    pub block: Block,
    /// None for genesis.
    pub certificate: Option<CommitCertificate>,
    pub hash: Hash32,
    /// The set that signs the next block.
    pub next_set: ValidatorSet,
}

/// A node's committed chain (its "disk": it survives crashes).
#[derive(Clone, Debug)]
pub struct Chain {
    pub suite: Suite,
    /// `entries[h]` is height h; 0 is genesis.
    pub entries: Vec<Entry>,
    pub committed_txs: BTreeSet<Hash32>,
}

/// Why a block is not a valid next block: the contracts' header and execution-result checks,
/// and the sim app's own transaction rules as the ledger's refusals.
pub type Invalid = BlockError;

impl Chain {
    pub fn genesis(suite: Suite, set: &ValidatorSet) -> Self {
        let set_hash = set.hash(suite);
        let header = BlockHeader {
            version: HEADER_VERSION,
            chain_id: CHAIN_ID.into(),
            height: 0,
            time_ms: GENESIS_TIME_MS,
            view: 0,
            previous_hash: Hash32::ZERO,
            tx_count: 0,
            tx_root: Hash32::ZERO,
            state_root: suite.hash(STATE_TAG, &[b"genesis"]),
            validator_set_hash: set_hash,
            next_validator_set_hash: set_hash,
            proposer: 0,
        };
        let hash = header.hash(suite);
        Chain {
            suite,
            entries: vec![Entry {
                block: Block {
                    header,
                    txs: Vec::new(),
                },
                certificate: None,
                hash,
                next_set: set.clone(),
            }],
            committed_txs: BTreeSet::new(),
        }
    }

    pub fn height(&self) -> u64 {
        (self.entries.len() - 1) as u64
    }

    pub fn last(&self) -> &Entry {
        &self.entries[self.entries.len() - 1]
    }

    pub fn tip(&self) -> Tip {
        let last = self.last();
        Tip {
            height: self.height(),
            hash: last.hash,
            next_validators: last.next_set.clone(),
        }
    }

    /// The set that signs block `height` (>= 1).
    pub fn signing_set(&self, height: u64) -> &ValidatorSet {
        &self.entries[height as usize - 1].next_set
    }

    /// Applies `txs` on top of the tip without checking signatures: the next validator set and
    /// state root, or why a transaction cannot be included.
    pub fn apply(
        &self,
        height: u64,
        txs: &[SignedTransaction],
    ) -> Result<(ValidatorSet, Hash32), Invalid> {
        let pool = pool(self.suite);
        let mut set = self.last().next_set.clone();
        let mut ids = Vec::with_capacity(txs.len());
        let mut seen = BTreeSet::new();
        for (index, tx) in txs.iter().enumerate() {
            let id = tx.id(self.suite);
            let refused = |error| BlockError::Tx(BlockTxError { index, error });
            if !seen.insert(id) || self.committed_txs.contains(&id) {
                return Err(refused(TxError::Duplicate { tx_id: id }));
            }
            if tx.tx.chain_id != CHAIN_ID {
                return Err(refused(TxError::WrongChain {
                    expected: CHAIN_ID.into(),
                    found: tx.tx.chain_id.clone(),
                }));
            }
            // The simulator sets no limit on how far ahead a transaction may expire.
            if !expiry_window(height, u64::MAX).contains(&tx.tx.expires_at_height) {
                return Err(refused(TxError::Expired {
                    expires_at_height: tx.tx.expires_at_height,
                    height,
                }));
            }
            let signers: BTreeSet<&PublicKey> = tx.signatures.iter().map(|s| &s.key).collect();
            let council = signers.iter().filter(|k| pool.council.contains(k)).count();
            let lacks_council = || {
                refused(TxError::CouncilThresholdNotMet {
                    signers: council,
                    threshold: COUNCIL_THRESHOLD as u16,
                })
            };
            match &tx.tx.payload {
                Payload::AnchorEvidence { .. } => {
                    if signers.len() != 1 || !signers.contains(&pool.court) {
                        // Not the submitter alone: unsigned, or some other key signed.
                        return Err(refused(match signers.iter().find(|k| ***k != pool.court) {
                            Some(key) => TxError::NotSubmitterKey {
                                submitter: "court-1".into(),
                                key: (*key).clone(),
                            },
                            None => TxError::Unsigned,
                        }));
                    }
                }
                Payload::AddValidator(v) => {
                    if council < COUNCIL_THRESHOLD {
                        return Err(lacks_council());
                    }
                    if set.index_of(&v.key).is_some() {
                        return Err(refused(TxError::ValidatorExists { key: v.key.clone() }));
                    }
                    let mut vs = set.validators.clone();
                    vs.push(v.clone());
                    set = ValidatorSet::new(vs).map_err(|e| refused(e.into()))?;
                }
                Payload::RemoveValidator { key } => {
                    if council < COUNCIL_THRESHOLD {
                        return Err(lacks_council());
                    }
                    let Some(i) = set.index_of(key) else {
                        return Err(refused(TxError::UnknownValidator { key: key.clone() }));
                    };
                    let mut vs = set.validators.clone();
                    vs.remove(i);
                    set = ValidatorSet::new(vs).map_err(|e| refused(e.into()))?;
                }
                // The sim's transactions are evidence anchors and validator changes only.
                _ => {
                    return Err(refused(TxError::InvalidField(CodecError::InvalidValue {
                        field: "payload",
                        reason: "the sim app has no rule for this kind",
                    })));
                }
            }
            ids.push(id);
        }
        let previous = self.last().block.header.state_root;
        let mut parts: Vec<&[u8]> = vec![previous.as_bytes()];
        parts.extend(ids.iter().map(|id| id.as_bytes().as_slice()));
        Ok((set, self.suite.hash(STATE_TAG, &parts)))
    }

    /// Is `block` a valid next block? On success, the set that signs the block after it. The
    /// header checks are the node's (`check_successor`), but with no clock (simulated time is not
    /// a wall clock) and no transaction cap of the app's own.
    pub fn check(&self, block: &Block, sigs: &mut SigCache) -> Result<ValidatorSet, Invalid> {
        let suite = self.suite;
        let h = &block.header;
        let last = self.last();
        let parent = Parent {
            header: &last.block.header,
            hash: last.hash,
            next_validators: &last.next_set,
        };
        check_successor(
            suite,
            CHAIN_ID,
            &parent,
            block,
            BlockLimits {
                txs_max: BLOCK_TXS_LIMIT as u32,
                bytes_max: u32::MAX,
            },
            None,
        )?;
        for (index, tx) in block.txs.iter().enumerate() {
            sigs.check(suite, tx)
                .map_err(|error| BlockTxError { index, error })?;
        }
        let (next, root) = self.apply(h.height, &block.txs)?;
        check_executed(suite, h, &root, &next)?;
        Ok(next)
    }

    /// Builds a valid block at the next height from `candidates` (in order, skipping any that
    /// cannot be included), at most `max_txs` of them.
    pub fn build(
        &self,
        view: u64,
        proposer: u16,
        now_ms: u64,
        candidates: &[SignedTransaction],
        max_txs: usize,
    ) -> Block {
        let height = self.height() + 1;
        let mut txs: Vec<SignedTransaction> = Vec::new();
        for tx in candidates {
            if txs.len() >= max_txs {
                break;
            }
            txs.push(tx.clone());
            if self.apply(height, &txs).is_err() {
                txs.pop();
            }
        }
        let (next, state_root) = self
            .apply(height, &txs)
            .unwrap_or_else(|e| panic!("builder kept an invalid transaction: {e}"));
        self.block_with(view, proposer, now_ms, txs, state_root, &next)
    }

    /// A block at the next height with the given contents (valid or not).
    pub fn block_with(
        &self,
        view: u64,
        proposer: u16,
        now_ms: u64,
        txs: Vec<SignedTransaction>,
        state_root: Hash32,
        next: &ValidatorSet,
    ) -> Block {
        let suite = self.suite;
        let last = self.last();
        Block {
            header: BlockHeader {
                version: HEADER_VERSION,
                chain_id: CHAIN_ID.into(),
                height: self.height() + 1,
                time_ms: (GENESIS_TIME_MS + now_ms).max(last.block.header.time_ms + 1),
                view,
                previous_hash: last.hash,
                tx_count: txs.len() as u32,
                tx_root: tx_root(suite, &txs),
                state_root,
                validator_set_hash: last.next_set.hash(suite),
                next_validator_set_hash: next.hash(suite),
                proposer,
            },
            txs,
        }
    }

    /// Appends a block the caller checked (`next` is what `check` returned).
    pub fn append(&mut self, block: Block, certificate: CommitCertificate, next: ValidatorSet) {
        let hash = block.header.hash(self.suite);
        for tx in &block.txs {
            self.committed_txs.insert(tx.id(self.suite));
        }
        self.entries.push(Entry {
            block,
            certificate: Some(certificate),
            hash,
            next_set: next,
        });
    }

    /// Committed blocks from `from` on, at most `max`.
    pub fn range(&self, from: u64, max: usize) -> Vec<(Block, CommitCertificate)> {
        self.entries
            .iter()
            .skip(from.max(1) as usize)
            .take(max)
            .filter_map(|e| Some((e.block.clone(), e.certificate.clone()?)))
            .collect()
    }
}
