//! An in-memory, single-process chain: genesis, block execution, certificates signed by every
//! validator, presentations and receipts. Used by tests, golden vectors, benchmarks and the
//! simulator — not by the node, which runs real consensus and storage. Compiled only with the
//! `testkit` feature, which dev-dependencies (and the simulator) enable.
//!
//! Keys are derived deterministically from names (`H("lichen/testkit/key", name)`), so the same
//! test chain has the same bytes everywhere. Never use these keys for anything real.

use alloc::collections::BTreeMap;
use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;

use crate::block::{
    BlockHeader, CommitCertificate, HEADER_VERSION, IndexedSignature, Vote, VoteKind, tx_root,
};
use crate::codec::Encode;
use crate::crypto::{Hash32, SecretKey, Suite};
use crate::exec::{BlockExecution, BlockTxError, VersionedState, execute_block};
use crate::genesis::Genesis;
use crate::ledger::BlockContext;
use crate::model::{
    Agency, ChainConfig, ChainParams, Council, EntityStatus, LicenceType, Submitter, Validator,
    ValidatorSet,
};
use crate::presentation::{Certified, EvidenceReceipt, Presentation, SetChange, TrustAnchor};
use crate::smt::{MemoryTreeStore, SparseMerkleTree};
use crate::state::{ReplayWindow, StateKey, StateViewExt};
use crate::tx::{Payload, SignedTransaction, Transaction};

/// A deterministic secret key for `name` (test use only).
pub fn test_key(suite: Suite, name: &str) -> SecretKey {
    let mut counter = 0u32;
    loop {
        let seed = suite.hash(
            "lichen/testkit/key",
            &[name.as_bytes(), &counter.to_be_bytes()],
        );
        if let Ok(key) = SecretKey::from_bytes(suite.sig_algo(), &seed.0) {
            return key;
        }
        counter += 1;
    }
}

/// The chain's genesis time in the test chain: 2026-01-01T00:00:00Z.
pub const GENESIS_TIME_MS: u64 = 1_767_225_600_000;

/// A committed block as the test chain keeps it.
#[derive(Clone, Debug)]
pub struct CommittedBlock {
    pub header: BlockHeader,
    pub certificate: Option<CommitCertificate>,
    pub txs: Vec<SignedTransaction>,
    pub execution: BlockExecution,
}

/// An in-memory chain with `validators` validators, a 2-of-3 council, agencies `agency-a` and
/// `agency-b`, licence types `business` (both agencies) and `food` (agency-a only), and the
/// evidence submitter `court-1`.
#[derive(Debug)]
pub struct TestChain {
    pub suite: Suite,
    pub genesis: Genesis,
    pub store: MemoryTreeStore,
    pub replay: ReplayWindow,
    /// Block 0 is genesis; `blocks[h]` is height h.
    pub blocks: Vec<CommittedBlock>,
    /// Secret keys by name: `validator-i`, `council-i`, `agency-a`, `agency-b`, `court-1`...
    pub keys: BTreeMap<String, SecretKey>,
    /// The validator set that signs each height (index = height; 0 is unused).
    pub signing_sets: Vec<ValidatorSet>,
    /// Validator name by public key, to find secret keys when signing certificates.
    validator_names: BTreeMap<Vec<u8>, String>,
    next_nonce: u64,
}

impl TestChain {
    pub fn new(suite: Suite, validators: usize) -> Self {
        let mut keys = BTreeMap::new();
        let mut validator_names = BTreeMap::new();
        let mut vals = Vec::new();
        for i in 0..validators {
            let name = format!("validator-{i}");
            let key = test_key(suite, &name);
            validator_names.insert(key.public_key().as_bytes().to_vec(), name.clone());
            vals.push(Validator {
                name: name.clone(),
                key: key.public_key(),
                peer_id: format!("peer-{i}").into_bytes(),
            });
            keys.insert(name, key);
        }
        let mut council_members = Vec::new();
        for i in 0..3 {
            let name = format!("council-{i}");
            let key = test_key(suite, &name);
            council_members.push(key.public_key());
            keys.insert(name, key);
        }
        council_members.sort();
        let mut entity = |name: &str| {
            let key = test_key(suite, name);
            let public = key.public_key();
            keys.insert(name.to_string(), key);
            alloc::vec![public]
        };
        let agencies = alloc::vec![
            Agency {
                id: "agency-a".into(),
                name: "Market Regulation Bureau A".into(),
                keys: entity("agency-a"),
                status: EntityStatus::Active,
            },
            Agency {
                id: "agency-b".into(),
                name: "Health Commission B".into(),
                keys: entity("agency-b"),
                status: EntityStatus::Active,
            },
        ];
        let submitters = alloc::vec![Submitter {
            id: "court-1".into(),
            name: "Internet Court 1".into(),
            keys: entity("court-1"),
            status: EntityStatus::Active,
        }];
        let genesis = Genesis {
            config: ChainConfig {
                chain_id: "lichen-test".into(),
                suite,
                council: Council {
                    members: council_members,
                    threshold: 2,
                },
                params: ChainParams::DEFAULT,
            },
            time_ms: GENESIS_TIME_MS,
            validators: ValidatorSet::new(vals)
                .unwrap_or_else(|e| panic!("test validator set: {e}")),
            agencies,
            licence_types: alloc::vec![
                LicenceType {
                    code: "business".into(),
                    name: "Business licence".into(),
                    authorised: alloc::vec!["agency-a".into(), "agency-b".into()],
                },
                LicenceType {
                    code: "food".into(),
                    name: "Food operation permit".into(),
                    authorised: alloc::vec!["agency-a".into()],
                },
            ],
            submitters,
            observers: Vec::new(),
        };
        Self::from_genesis(genesis, keys, validator_names)
    }

    /// Starts a chain from any genesis; `keys` must hold the validators' secret keys under the
    /// validator names for certificates to be signed.
    pub fn from_genesis(
        genesis: Genesis,
        keys: BTreeMap<String, SecretKey>,
        validator_names: BTreeMap<Vec<u8>, String>,
    ) -> Self {
        let suite = genesis.config.suite;
        let writes = genesis
            .state_writes()
            .unwrap_or_else(|e| panic!("test genesis refused: {e}"));
        let mut store = MemoryTreeStore::new();
        let batch = SparseMerkleTree::new(&store, suite)
            .put_batch(None, 0, &writes)
            .unwrap_or_else(|e| panic!("genesis state: {e}"));
        store.write_batch(&batch);
        let header = genesis.header(batch.root_hash);
        let signing_sets = alloc::vec![genesis.validators.clone()];
        TestChain {
            suite,
            genesis,
            store,
            replay: ReplayWindow::default(),
            blocks: alloc::vec![CommittedBlock {
                header,
                certificate: None,
                txs: Vec::new(),
                execution: BlockExecution::default(),
            }],
            keys,
            signing_sets,
            validator_names,
            next_nonce: 1,
        }
    }

    pub fn chain_id(&self) -> &str {
        &self.genesis.config.chain_id
    }

    pub fn height(&self) -> u64 {
        (self.blocks.len() - 1) as u64
    }

    pub fn key(&self, name: &str) -> &SecretKey {
        self.keys
            .get(name)
            .unwrap_or_else(|| panic!("test chain has no key named '{name}'"))
    }

    /// A copy of key `name`, for a node to own (a `SecretKey` is deliberately not `Clone`).
    pub fn owned_key(&self, name: &str) -> SecretKey {
        let k = self.key(name);
        SecretKey::from_bytes(k.algo(), k.expose_bytes())
            .unwrap_or_else(|e| panic!("test key '{name}' does not copy: {e}"))
    }

    pub fn trust_anchor(&self) -> TrustAnchor {
        self.genesis.trust_anchor()
    }

    /// An unsigned transaction for this chain, with a fresh nonce and an expiry 100 blocks ahead.
    pub fn tx(&mut self, payload: Payload) -> Transaction {
        self.next_nonce += 1;
        Transaction {
            chain_id: self.chain_id().to_string(),
            nonce: self.next_nonce,
            expires_at_height: self.height() + 100,
            payload,
        }
    }

    /// Signs `tx` with the named keys.
    pub fn sign(&self, tx: Transaction, signers: &[&str]) -> SignedTransaction {
        let signatures = signers
            .iter()
            .map(|name| tx.sign(self.suite, self.key(name)))
            .collect();
        SignedTransaction { tx, signatures }
    }

    /// A transaction signed by `signer` (an agency or submitter name).
    pub fn signed(&mut self, payload: Payload, signer: &str) -> SignedTransaction {
        let tx = self.tx(payload);
        self.sign(tx, &[signer])
    }

    /// A transaction signed by council members 0 and 1 (the threshold).
    pub fn council_signed(&mut self, payload: Payload) -> SignedTransaction {
        let tx = self.tx(payload);
        self.sign(tx, &["council-0", "council-1"])
    }

    /// Executes `txs` as the next block at `time_ms`, certifies it with every validator of the
    /// signing set, and commits it. On a refused transaction nothing changes.
    pub fn commit(
        &mut self,
        txs: Vec<SignedTransaction>,
        time_ms: u64,
    ) -> Result<&CommittedBlock, BlockTxError> {
        let suite = self.suite;
        let height = self.height() + 1;
        let ctx = BlockContext { height, time_ms };
        let base = VersionedState::new(&self.store, suite, height - 1);
        let execution = execute_block(suite, &base, &self.replay, &txs, &ctx)?;
        let batch = SparseMerkleTree::new(&self.store, suite)
            .put_batch(Some(height - 1), height, &execution.writes)
            .unwrap_or_else(|e| panic!("state update: {e}"));
        self.store.write_batch(&batch);
        let signing_set = self.next_signing_set(height - 1);
        let next_set: ValidatorSet = VersionedState::new(&self.store, suite, height)
            .get_entry(suite, &StateKey::Validators)
            .unwrap_or_else(|e| panic!("read validators: {e}"))
            .unwrap_or_else(|| panic!("validators missing from state"));
        let previous = &self.blocks[height as usize - 1].header;
        let header = BlockHeader {
            version: HEADER_VERSION,
            chain_id: self.chain_id().to_string(),
            height,
            time_ms,
            view: 0,
            previous_hash: previous.hash(suite),
            tx_count: txs.len() as u32,
            tx_root: tx_root(suite, &txs),
            state_root: batch.root_hash,
            validator_set_hash: signing_set.hash(suite),
            next_validator_set_hash: next_set.hash(suite),
            proposer: (height % signing_set.len() as u64) as u16,
        };
        let certificate = self.certify(&header, &signing_set, signing_set.len());
        self.replay.commit_block(
            height,
            execution
                .tx_ids
                .iter()
                .copied()
                .zip(execution.tx_expiries.iter().copied()),
        );
        self.signing_sets.push(signing_set);
        self.blocks.push(CommittedBlock {
            header,
            certificate: Some(certificate),
            txs,
            execution,
        });
        Ok(&self.blocks[height as usize])
    }

    /// The set that signs the block after `height`: the validators in state at `height`.
    fn next_signing_set(&self, height: u64) -> ValidatorSet {
        VersionedState::new(&self.store, self.suite, height)
            .get_entry(self.suite, &StateKey::Validators)
            .unwrap_or_else(|e| panic!("read validators: {e}"))
            .unwrap_or_else(|| panic!("validators missing from state"))
    }

    /// A commit certificate over `header` signed by the first `signers` validators of `set`
    /// (those whose keys this chain holds).
    pub fn certify(
        &self,
        header: &BlockHeader,
        set: &ValidatorSet,
        signers: usize,
    ) -> CommitCertificate {
        let block_hash = header.hash(self.suite);
        let vote = Vote {
            kind: VoteKind::Commit,
            chain_id: header.chain_id.clone(),
            genesis_hash: self.genesis.hash(),
            height: header.height,
            view: header.view,
            block_hash,
        };
        let message = vote.signing_hash(self.suite);
        let signatures = set
            .validators
            .iter()
            .enumerate()
            .filter_map(|(i, v)| {
                let name = self.validator_names.get(v.key.as_bytes())?;
                Some(IndexedSignature {
                    index: i as u16,
                    signature: self.key(name).sign(message.as_bytes()),
                })
            })
            .take(signers)
            .collect();
        CommitCertificate {
            height: header.height,
            view: header.view,
            block_hash,
            signatures,
        }
    }

    /// Registers the secret key of a validator added later (so certificates can include it).
    pub fn add_validator_key(&mut self, name: &str, key: SecretKey) {
        self.validator_names
            .insert(key.public_key().as_bytes().to_vec(), name.to_string());
        self.keys.insert(name.to_string(), key);
    }

    /// The certified context for `height`: its header, certificate and the set changes since
    /// genesis that lead to its signing set.
    pub fn certified(&self, height: u64) -> Certified {
        let block = &self.blocks[height as usize];
        let set_changes = self.blocks[1..height as usize]
            .iter()
            .filter(|b| b.header.changes_validator_set())
            .map(|b| SetChange {
                header: b.header.clone(),
                certificate: b
                    .certificate
                    .clone()
                    .unwrap_or_else(|| panic!("block {} has no certificate", b.header.height)),
                next_validators: self.signing_sets[b.header.height as usize + 1].clone(),
            })
            .collect();
        let mut certificate = block
            .certificate
            .clone()
            .unwrap_or_else(|| panic!("block {height} has no certificate"));
        // A presentation needs only a quorum of signatures: carry no more (67 bytes each).
        certificate
            .signatures
            .truncate(self.signing_sets[height as usize].quorum());
        Certified {
            header: block.header.clone(),
            certificate,
            set_changes,
        }
    }

    /// A presentation of licence `id` at the latest height.
    pub fn presentation(&self, id: &str) -> Presentation {
        self.presentation_at(id, self.height())
    }

    pub fn presentation_at(&self, id: &str, height: u64) -> Presentation {
        let key = StateKey::Licence(id.to_string()).hash(self.suite);
        let (value, proof) = SparseMerkleTree::new(&self.store, self.suite)
            .get_with_proof(&key, height)
            .unwrap_or_else(|e| panic!("proof: {e}"));
        let value = value.unwrap_or_else(|| panic!("licence '{id}' not in state at {height}"));
        Presentation {
            licence: crate::state::decode_entry(&value).unwrap_or_else(|e| panic!("licence: {e}")),
            proof,
            certified: self.certified(height),
        }
    }

    /// The trust package of the checkpoint at `height` (a block that does not change the set),
    /// with the tree's top `levels` levels.
    pub fn trust_package(&self, height: u64, levels: u8) -> crate::presentation::TrustPackage {
        let tree = SparseMerkleTree::new(&self.store, self.suite);
        let region = tree
            .region(height)
            .unwrap_or_else(|e| panic!("region: {e}"));
        let cut = tree
            .levels(height, levels)
            .unwrap_or_else(|e| panic!("levels: {e}"));
        crate::presentation::TrustPackage::from_region(
            &self.trust_anchor(),
            self.certified(height),
            region,
            cut,
        )
        .unwrap_or_else(|e| panic!("package: {e}"))
    }

    /// A compact presentation of licence `id` at the checkpoint `height`, for a package with
    /// `levels` levels.
    pub fn compact_presentation(
        &self,
        id: &str,
        height: u64,
        levels: u8,
    ) -> crate::presentation::CompactPresentation {
        let p = self.presentation_at(id, height);
        crate::presentation::CompactPresentation {
            checkpoint_height: height,
            licence: p.licence,
            proof: crate::presentation::CompactProof::from_state_proof(&p.proof, levels)
                .unwrap_or_else(|| panic!("licence '{id}' is in state")),
        }
    }

    /// An evidence receipt for `hash` at the latest height.
    pub fn receipt(&self, hash: &Hash32) -> EvidenceReceipt {
        let height = self.height();
        let key = StateKey::Evidence(*hash).hash(self.suite);
        let (value, proof) = SparseMerkleTree::new(&self.store, self.suite)
            .get_with_proof(&key, height)
            .unwrap_or_else(|e| panic!("proof: {e}"));
        let value = value.unwrap_or_else(|| panic!("evidence {hash} not in state"));
        EvidenceReceipt {
            evidence: crate::state::decode_entry(&value)
                .unwrap_or_else(|e| panic!("evidence: {e}")),
            proof,
            certified: self.certified(height),
        }
    }

    /// Reads a typed entry at the latest height.
    pub fn entry<T: crate::codec::Decode>(&self, key: &StateKey) -> Option<T> {
        VersionedState::new(&self.store, self.suite, self.height())
            .get_entry(self.suite, key)
            .unwrap_or_else(|e| panic!("read: {e}"))
    }

    /// The encoded size of a value, for size reports.
    pub fn size_of<T: Encode>(value: &T) -> usize {
        value.to_bytes().len()
    }
}
