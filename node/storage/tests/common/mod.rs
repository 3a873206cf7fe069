//! Shared helpers for the storage tests: a `TestChain` (the in-memory reference) driven in step
//! with a `ChainStore`, and the transactions the tests put in blocks.
#![allow(dead_code)]

use lichen_contracts::block::{Block, CommitCertificate};
use lichen_contracts::crypto::{Hash32, Suite};
use lichen_contracts::ledger::Event;
use lichen_contracts::model::{LicenceDraft, Validator, ValidatorSet, holder_commitment};
use lichen_contracts::smt::{SparseMerkleTree, TreeUpdateBatch};
use lichen_contracts::state::StateKey;
use lichen_contracts::testkit::{GENESIS_TIME_MS, TestChain, test_key};
use lichen_contracts::tx::{Payload, SignedTransaction};
use lichen_storage::{BlockCommit, ChainStore, KvStore, StoredTip};

/// Block times advance one second per height from genesis.
pub fn next_time(chain: &TestChain) -> u64 {
    GENESIS_TIME_MS + (chain.height() + 1) * 1_000
}

/// Everything a committed block hands to [`ChainStore::commit_block`].
#[derive(Debug)]
pub struct Committed {
    pub block: Block,
    pub certificate: CommitCertificate,
    pub tree: TreeUpdateBatch,
    pub events: Vec<Vec<Event>>,
    pub tx_ids: Vec<Hash32>,
    pub new_validators: Option<ValidatorSet>,
}

impl Committed {
    pub fn height(&self) -> u64 {
        self.block.header.height
    }

    pub fn as_commit(&self, keep_versions_from: u64) -> BlockCommit<'_> {
        BlockCommit {
            block: &self.block,
            certificate: &self.certificate,
            tree: &self.tree,
            events: &self.events,
            tx_ids: &self.tx_ids,
            new_validators: self.new_validators.as_ref(),
            keep_versions_from,
        }
    }
}

/// Executes `txs` as the next block of `chain` (which must accept them) and computes the
/// state-tree update against `store` (which must hold the previous version), checking that it
/// reproduces the header's state root. Commits nothing to `store`.
pub fn prepare_next<K: KvStore>(
    chain: &mut TestChain,
    store: &ChainStore<K>,
    txs: Vec<SignedTransaction>,
) -> Committed {
    let suite = chain.suite;
    let time = next_time(chain);
    let committed = match chain.commit(txs, time) {
        Ok(b) => b.clone(),
        Err(e) => panic!("test chain refused the block: {e}"),
    };
    let height = committed.header.height;
    let tree = SparseMerkleTree::new(store, suite)
        .put_batch(Some(height - 1), height, &committed.execution.writes)
        .unwrap_or_else(|e| panic!("state update at {height} against the store: {e}"));
    assert_eq!(
        tree.root_hash, committed.header.state_root,
        "the tree update computed against the store gives the header's state root at {height}"
    );
    let new_validators = committed
        .header
        .changes_validator_set()
        .then(|| next_set(chain));
    Committed {
        block: Block {
            header: committed.header,
            txs: committed.txs,
        },
        certificate: committed.certificate.expect("certificate"),
        tree,
        events: committed.execution.events,
        tx_ids: committed.execution.tx_ids,
        new_validators,
    }
}

/// [`prepare_next`], then commits the block to `store` keeping versions from
/// `keep_versions_from`, and checks the returned tip.
pub fn commit_next<K: KvStore>(
    chain: &mut TestChain,
    store: &ChainStore<K>,
    txs: Vec<SignedTransaction>,
    keep_versions_from: u64,
) -> Committed {
    let committed = prepare_next(chain, store, txs);
    let height = committed.height();
    let tip = store
        .commit_block(committed.as_commit(keep_versions_from))
        .unwrap_or_else(|e| panic!("commit_block {height}: {e}"));
    assert_eq!(
        tip,
        StoredTip {
            height,
            hash: committed.block.header.hash(chain.suite)
        }
    );
    committed
}

/// The validator set in the chain's latest state (the one that signs the next block).
pub fn next_set(chain: &TestChain) -> ValidatorSet {
    chain
        .entry::<ValidatorSet>(&StateKey::Validators)
        .expect("validators in state")
}

pub fn draft(chain: &TestChain, id: &str, licence_type: &str, issuer: &str) -> LicenceDraft {
    LicenceDraft {
        id: id.to_string(),
        licence_type: licence_type.to_string(),
        issuer: issuer.to_string(),
        document_hash: chain.suite.digest(format!("licence file {id}").as_bytes()),
        holder_commitment: holder_commitment(chain.suite, &[7; 32], "91440300MA5F000000"),
        valid_from_ms: GENESIS_TIME_MS,
        valid_until_ms: Some(GENESIS_TIME_MS + 365 * 24 * 3_600_000),
    }
}

/// `agency` issues a `business` licence `id`.
pub fn issue(chain: &mut TestChain, id: &str, agency: &str) -> SignedTransaction {
    let d = draft(chain, id, "business", agency);
    chain.signed(Payload::IssueLicence(d), agency)
}

pub fn suspend(chain: &mut TestChain, id: &str, agency: &str) -> SignedTransaction {
    let payload = Payload::SuspendLicence {
        id: id.into(),
        reason: "inspection pending".into(),
    };
    chain.signed(payload, agency)
}

pub fn reinstate(chain: &mut TestChain, id: &str, agency: &str) -> SignedTransaction {
    let payload = Payload::ReinstateLicence {
        id: id.into(),
        reason: "inspection passed".into(),
    };
    chain.signed(payload, agency)
}

pub fn revoke(chain: &mut TestChain, id: &str, agency: &str) -> SignedTransaction {
    let payload = Payload::RevokeLicence {
        id: id.into(),
        reason: "found in breach of art. 12".into(),
    };
    chain.signed(payload, agency)
}

pub fn supersede(chain: &mut TestChain, old: &str, new: &str, agency: &str) -> SignedTransaction {
    let payload = Payload::SupersedeLicence {
        old_id: old.into(),
        reason: "renewed".into(),
        new: draft(chain, new, "business", agency),
    };
    chain.signed(payload, agency)
}

/// The evidence hash anchored for `label`.
pub fn evidence_hash(suite: Suite, label: &str) -> Hash32 {
    suite.digest(format!("evidence document {label}").as_bytes())
}

/// `court-1` anchors the evidence hash of `label`.
pub fn anchor(chain: &mut TestChain, label: &str) -> SignedTransaction {
    let payload = Payload::AnchorEvidence {
        hash: evidence_hash(chain.suite, label),
        submitter: "court-1".into(),
        label: label.into(),
    };
    chain.signed(payload, "court-1")
}

/// A council transaction adding validator `name` (whose key the chain learns, so that it signs
/// certificates from the next block on).
pub fn add_validator(chain: &mut TestChain, name: &str) -> SignedTransaction {
    let key = test_key(chain.suite, name);
    let validator = Validator {
        name: name.into(),
        key: key.public_key(),
        peer_id: format!("peer-{name}").into_bytes(),
    };
    chain.add_validator_key(name, key);
    chain.council_signed(Payload::AddValidator(validator))
}

/// Every entry of `kv`: the chain store's keys all start with a letter, below 0xff.
pub fn dump<K: KvStore>(kv: &K) -> Vec<(Vec<u8>, Vec<u8>)> {
    kv.scan(&[], &[0xff], usize::MAX, false).expect("scan")
}

/// The entries of `kv` whose key starts with `prefix` (one byte).
pub fn count_prefix<K: KvStore>(kv: &K, prefix: u8) -> usize {
    kv.scan(&[prefix], &[prefix + 1], usize::MAX, false)
        .expect("scan")
        .len()
}

/// The stale-node index of `kv`: each version's list of node keys (an `s` entry each).
pub fn stale_lists<K: KvStore>(
    kv: &K,
) -> std::collections::BTreeMap<u64, Vec<lichen_contracts::smt::NodeKey>> {
    use lichen_contracts::codec::{Decode, Reader};
    let rows = kv
        .scan(
            &[lichen_storage::layout::STALE],
            &[lichen_storage::layout::STALE + 1],
            usize::MAX,
            false,
        )
        .expect("scan");
    rows.into_iter()
        .map(|(k, v)| {
            assert_eq!(
                k.len(),
                lichen_storage::layout::AFTER_HEIGHT,
                "an `s` key is a version"
            );
            let version = u64::from_be_bytes(
                k[lichen_storage::layout::PREFIX_BYTES..]
                    .try_into()
                    .unwrap(),
            );
            let mut r = Reader::new(&v);
            let mut keys = Vec::new();
            while r.remaining() > 0 {
                keys.push(lichen_contracts::smt::NodeKey::decode_from(&mut r).expect("node key"));
            }
            (version, keys)
        })
        .collect()
}

/// Opens the on-disk store in `dir` (`FjallKv::open` itself waits, bounded, for a directory lock
/// that a store this process just dropped still holds).
pub fn open_disk(dir: &std::path::Path) -> lichen_storage::FjallKv {
    lichen_storage::FjallKv::open(dir, lichen_storage::CACHE_BYTES_DEFAULT)
        .unwrap_or_else(|e| panic!("open {}: {e}", dir.display()))
}
