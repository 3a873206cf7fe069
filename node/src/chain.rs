//! The ledger service: the committed chain in storage, block building and execution with the
//! `contracts` rules, commits, and the proofs (presentations, evidence receipts) built from it.
//!
//! Time is an argument (`now_ms`) everywhere: the runtime reads the clock, this module does not.

use std::collections::{BTreeMap, HashSet, VecDeque};
use std::sync::{Arc, Mutex};

use foldhash::fast::RandomState;
use lichen_consensus::ExecutionError;
use lichen_contracts::block::{
    Block, BlockError, BlockHeader, CommitCertificate, HEADER_VERSION, Parent, check_executed,
    check_successor, merkle_root,
};
use lichen_contracts::crypto::{Hash32, Suite};
use lichen_contracts::exec::{BlockExecution, BlockExecutor, VersionedState, execute_block_known};
use lichen_contracts::genesis::Genesis;
use lichen_contracts::ledger::{
    BlockContext, TxError, VerifiedTx, check_authority, verify_digested_known,
};
use lichen_contracts::model::{ChainParams, Evidence, Licence, Observer, ValidatorSet};
use lichen_contracts::presentation::{
    Certified, EvidenceReceipt, Presentation, SetChange, TrustAnchor,
};
use lichen_contracts::smt::{SparseMerkleTree, StateProof, TreeUpdateBatch};
use lichen_contracts::state::{StateKey, StateViewExt, decode_entry};
use lichen_contracts::tx::SignedTransaction;
use lichen_storage::{BlockCommit, ChainStore, KvStore, StoredTip};

use crate::error::NodeError;

mod queries;
pub mod reads;
mod snapshot;
mod trust;

pub use snapshot::{SNAPSHOT_PIN_AGE_MAX_MS, SNAPSHOT_PIN_IDLE_MS, SNAPSHOT_PINS_MAX};
pub use trust::{BuiltPackage, TRUST_PACKAGE_REFRESH_MS};

/// How far ahead of the executing node's clock a block time may lie, in milliseconds.
pub use lichen_contracts::block::BLOCK_TIME_DRIFT_MAX_MS;
/// Executed-but-uncommitted blocks kept, at most (a height rarely sees more than a few).
pub const EXECUTED_BLOCKS_MAX: usize = 64;
/// Witness hashes of transactions whose signatures this node checked, remembered at most.
pub const VERIFIED_REMEMBERED_MAX: usize = 200_000;
/// State versions kept by default for proofs at recent heights: ~4 hours of an idle chain (one
/// block a minute), minutes under full load. Each kept version costs the tree nodes its block
/// replaced (~3.5 MB for a block of 5,000 licences at 10^7), so 10,000 versions would hold
/// gigabytes of history (`./scripts/scale.sh`).
pub const STATE_VERSIONS_KEPT_DEFAULT: u64 = 256;
/// The on-disk store's block cache by default, in bytes.
pub use lichen_storage::CACHE_BYTES_DEFAULT as STORAGE_CACHE_BYTES_DEFAULT;

/// The storage the node runs on: fjall on disk, or the in-memory twin in tests.
pub type Store = ChainStore<Arc<dyn KvStore>>;

/// A block that executed: what committing it will write.
#[derive(Debug)]
pub struct Executed {
    pub tree: TreeUpdateBatch,
    pub execution: BlockExecution,
    /// The set that signs the next block.
    pub next_validators: ValidatorSet,
    /// Whether this block changes the validator set.
    pub changes_set: bool,
}

/// What building a block produced.
#[derive(Debug)]
pub struct Built {
    pub block: Block,
    /// Candidates left out because the rules refuse them now, with why.
    pub refused: Vec<(Hash32, TxError)>,
}

/// The committed chain and the rules to extend it.
pub struct Chain {
    store: Store,
    genesis: Genesis,
    suite: Suite,
    anchor: TrustAnchor,
    state_versions_kept: u64,
    executed: Mutex<BTreeMap<Hash32, Arc<Executed>>>,
    /// Witness hashes whose signatures verified here (at admission): not checked again. Only
    /// asked whether it holds a hash (never iterated), so hashed: a look-up per transaction at
    /// admission and at execution, ~200,000 entries.
    verified: Mutex<(HashSet<Hash32, RandomState>, VecDeque<Hash32>)>,
    /// The latest trust package.
    packages: trust::PackageCache,
    /// State versions held back from pruning for nodes joining by state sync.
    snapshot_pins: snapshot::Pins,
    /// Where the data lives, for [`Chain::disk_bytes`] (`None` in memory).
    data_dir: Option<std::path::PathBuf>,
    /// Entries read at the newest state version (its configuration, agencies, licence types).
    reads: reads::VersionReads,
}

impl std::fmt::Debug for Chain {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Chain")
            .field("chain_id", &self.genesis.config.chain_id)
            .finish_non_exhaustive()
    }
}

fn lock_poisoned() -> NodeError {
    NodeError::Internal {
        reason: "a lock was poisoned by a panic".into(),
    }
}

impl Chain {
    /// Opens the chain in `kv`, writing genesis if the store is new (and refusing a store that
    /// holds another chain).
    pub fn open(
        kv: Arc<dyn KvStore>,
        genesis: Genesis,
        state_versions_kept: u64,
    ) -> Result<Self, NodeError> {
        Self::open_with(ChainStore::new(kv), genesis, state_versions_kept)
    }

    /// [`Chain::open`] on a data directory: fjall in `dir` with a block cache of `cache_bytes`,
    /// the consensus state in its own fsynced file there.
    pub fn open_dir(
        dir: &std::path::Path,
        genesis: Genesis,
        state_versions_kept: u64,
        cache_bytes: u64,
    ) -> Result<Self, NodeError> {
        let kv: Arc<dyn KvStore> = Arc::new(lichen_storage::FjallKv::open(dir, cache_bytes)?);
        let store = ChainStore::new(kv).with_state_file(lichen_storage::StateFile::new(dir));
        let mut chain = Self::open_with(store, genesis, state_versions_kept)?;
        chain.data_dir = Some(dir.to_path_buf());
        Ok(chain)
    }

    /// Bytes of the data directory (every file under it), `None` for a chain in memory. Read
    /// on demand (`GET /metrics`): a few hundred files even at 10^7 licences.
    pub fn disk_bytes(&self) -> Option<u64> {
        fn size(dir: &std::path::Path) -> u64 {
            let Ok(entries) = std::fs::read_dir(dir) else {
                return 0;
            };
            entries
                .flatten()
                .map(|e| match e.file_type() {
                    Ok(t) if t.is_dir() => size(&e.path()),
                    Ok(_) => e.metadata().map_or(0, |m| m.len()),
                    Err(_) => 0,
                })
                .sum()
        }
        self.data_dir.as_deref().map(size)
    }

    /// The storage engine's memory and background work (`GET /metrics`); `None` in memory.
    pub fn engine_stats(&self) -> Option<lichen_storage::EngineStats> {
        self.store.kv().engine_stats()
    }

    fn open_with(
        store: ChainStore<Arc<dyn KvStore>>,
        genesis: Genesis,
        state_versions_kept: u64,
    ) -> Result<Self, NodeError> {
        store.init_genesis(&genesis)?;
        let layout = store.layout()?;
        if layout < lichen_storage::layout::LAYOUT_VERSION {
            tracing::info!(
                from = layout,
                to = lichen_storage::layout::LAYOUT_VERSION,
                "upgrading the store's layout (once; a minute or more for millions of licences)"
            );
        }
        let upgraded = store.upgrade_legacy_keys()?;
        if upgraded > 0 {
            tracing::info!(
                keys = upgraded,
                "upgraded an earlier version's store layout"
            );
        }
        let suite = genesis.suite();
        Ok(Chain {
            anchor: genesis.trust_anchor(),
            store,
            suite,
            genesis,
            state_versions_kept: state_versions_kept.max(1),
            executed: Mutex::new(BTreeMap::new()),
            verified: Mutex::new((HashSet::default(), VecDeque::new())),
            packages: trust::PackageCache::default(),
            snapshot_pins: snapshot::Pins::default(),
            data_dir: None,
            reads: reads::VersionReads::default(),
        })
    }

    pub fn genesis(&self) -> &Genesis {
        &self.genesis
    }

    pub fn suite(&self) -> Suite {
        self.suite
    }

    pub fn chain_id(&self) -> &str {
        &self.genesis.config.chain_id
    }

    pub fn params(&self) -> &ChainParams {
        &self.genesis.config.params
    }

    /// The genesis trust anchor offline verifiers hold.
    pub fn trust_anchor(&self) -> &TrustAnchor {
        &self.anchor
    }

    pub fn tip(&self) -> Result<StoredTip, NodeError> {
        Ok(self.store.tip()?)
    }

    pub fn tip_header(&self) -> Result<BlockHeader, NodeError> {
        let tip = self.tip()?;
        self.store
            .header(tip.height)?
            .ok_or_else(|| NodeError::Internal {
                reason: format!("tip block {} missing from storage", tip.height),
            })
    }

    /// The state as of block `height`.
    pub fn state_at(&self, height: u64) -> VersionedState<'_, Store> {
        VersionedState::new(&self.store, self.suite, height)
    }

    /// The state as of block `height` for the ledger's rules (admission, building, execution),
    /// through the values kept for that version. Only the rules read through it: reads that
    /// clients choose (licences, evidence) would fill it with what no transaction reads again.
    fn ledger_state_at(&self, height: u64) -> reads::KeptReads<'_, VersionedState<'_, Store>> {
        reads::KeptReads::new(self.state_at(height), height, &self.reads)
    }

    /// Reads a typed entry at the tip.
    pub fn entry<T: lichen_contracts::codec::Decode>(
        &self,
        key: &StateKey,
    ) -> Result<Option<T>, NodeError> {
        let tip = self.tip()?;
        Ok(self.state_at(tip.height).get_entry(self.suite, key)?)
    }

    /// The validator set that signs the next block.
    pub fn next_validators(&self) -> Result<ValidatorSet, NodeError> {
        self.entry(&StateKey::Validators)?
            .ok_or_else(|| NodeError::Internal {
                reason: "validator set missing from state".into(),
            })
    }

    /// The current observers (from state at the tip), in peer-id byte order: the non-voting
    /// nodes the network admits beside the validators.
    pub fn observers(&self) -> Result<Vec<Observer>, NodeError> {
        let tip = self.tip()?;
        let state = self.state_at(tip.height);
        let mut out = Vec::new();
        for peer_id in self.store.observer_peer_ids()? {
            // An index entry without a state entry at this tip belongs to a block committed
            // since the tip was read: skip it.
            if let Some(observer) = state.get_entry(self.suite, &StateKey::Observer(peer_id))? {
                out.push(observer);
            }
        }
        Ok(out)
    }

    /// Records that the signatures of the signed transaction with this witness hash verified.
    pub fn note_verified(&self, witness: Hash32) {
        if let Ok(mut v) = self.verified.lock() {
            let (set, order) = &mut *v;
            if set.insert(witness) {
                order.push_back(witness);
            }
            while order.len() > VERIFIED_REMEMBERED_MAX {
                if let Some(old) = order.pop_front() {
                    set.remove(&old);
                }
            }
        }
    }

    /// Whether the signatures of the signed transaction with this witness hash verified here
    /// (recently: the last [`VERIFIED_REMEMBERED_MAX`] checked).
    pub fn was_verified(&self, witness: &Hash32) -> bool {
        self.verified
            .lock()
            .map(|v| v.0.contains(witness))
            .unwrap_or(false)
    }

    /// What the rules would refuse `tx` for as to who signed it ([`TxError::is_unauthorised`]),
    /// checked against the committed state as the next block would (`check_authority`: the
    /// rules up to their checks of who signed; nothing is written); `None` if nothing. Other
    /// refusals pass here: they may depend on transactions still pending (a revocation of a
    /// licence issued a moment ago), and the block builder leaves such transactions out.
    pub fn authority_refusal(&self, tx: VerifiedTx<'_>) -> Result<Option<TxError>, NodeError> {
        let suite = self.suite;
        let tip = self.tip()?;
        let previous = self.tip_header()?;
        let ctx = BlockContext {
            height: tip.height + 1,
            time_ms: previous.time_ms + 1,
        };
        let base = self.ledger_state_at(tip.height);
        match check_authority(suite, &base, tx, &ctx) {
            Err(e) if e.is_internal() => Err(NodeError::from(e)),
            Err(e) if e.is_unauthorised() => Ok(Some(e)),
            _ => Ok(None),
        }
    }

    /// Builds the next block from `candidates` (in order), leaving out any transaction the rules
    /// refuse now, within the chain's `block_txs_max` and `block_bytes_max`, and taking no more
    /// once `budget` has passed (one at least): every validator executes the block at about the
    /// cost it took to build, so under a load above capacity a block still commits inside the
    /// view timeout, and the rest waits in the pool, whose limits answer clients with 429/503.
    pub fn build(
        &self,
        view: u64,
        proposer: u16,
        now_ms: u64,
        candidates: &[SignedTransaction],
        budget: std::time::Duration,
    ) -> Result<Built, NodeError> {
        let started = std::time::Instant::now();
        let suite = self.suite;
        let tip = self.tip()?;
        let previous = self.tip_header()?;
        let height = tip.height + 1;
        let time_ms = now_ms.max(previous.time_ms + 1);
        let ctx = BlockContext { height, time_ms };
        let base = self.ledger_state_at(tip.height);
        let signing_set = self.next_validators()?;
        let params = self.params();
        let mut executor = BlockExecutor::new(suite, &base, &self.store, ctx);
        let mut txs = Vec::new();
        // Their witness hashes, for the tx root: each was computed once, with the id.
        let mut witnesses = Vec::new();
        let mut refused = Vec::new();
        let mut bytes = 0usize;
        for tx in candidates {
            if txs.len() >= params.block_txs_max as usize
                || (!txs.is_empty() && started.elapsed() >= budget)
            {
                break;
            }
            let digested = tx.digested(suite);
            let size = digested.encoded_len();
            if bytes + size > params.block_bytes_max as usize {
                break;
            }
            let verified = match verify_digested_known(suite, digested, &|w| self.was_verified(w)) {
                Ok(v) => v,
                Err(e) => {
                    refused.push((digested.id(), e));
                    continue;
                }
            };
            if executor.contains(&verified.id()) {
                continue;
            }
            match executor.apply(verified) {
                Ok(()) => {
                    txs.push(tx.clone());
                    witnesses.push(digested.witness());
                    bytes += size;
                }
                Err(e) if e.is_internal() => return Err(e.into()),
                Err(e) => refused.push((verified.id(), e)),
            }
        }
        let execution = executor.finish();
        let executed = self.finish_execution(tip.height, height, execution, &signing_set)?;
        let block = Block {
            header: BlockHeader {
                version: HEADER_VERSION,
                chain_id: self.chain_id().to_string(),
                height,
                time_ms,
                view,
                previous_hash: tip.hash,
                tx_count: txs.len() as u32,
                tx_root: merkle_root(suite, &witnesses),
                state_root: executed.tree.root_hash,
                validator_set_hash: signing_set.hash(suite),
                next_validator_set_hash: executed.next_validators.hash(suite),
                proposer,
            },
            txs,
        };
        // Our own proposal needs no second execution when consensus asks for one.
        self.remember(block.header.hash(suite), Arc::new(executed));
        Ok(Built { block, refused })
    }

    /// What committing the block at `height` (on top of the tip at `tip_height`, signed by
    /// `signing_set`) that executed as `execution` will write: the tree update, and the set that
    /// signs the block after it.
    fn finish_execution(
        &self,
        tip_height: u64,
        height: u64,
        execution: BlockExecution,
        signing_set: &ValidatorSet,
    ) -> Result<Executed, NodeError> {
        let tree = SparseMerkleTree::new(&self.store, self.suite).put_batch(
            Some(tip_height),
            height,
            &execution.writes,
        )?;
        let new_validators = execution.new_validators(self.suite, signing_set)?;
        Ok(Executed {
            tree,
            changes_set: new_validators.is_some(),
            next_validators: new_validators.unwrap_or_else(|| signing_set.clone()),
            execution,
        })
    }

    /// Checks `block` as the next block and executes it; keeps the result for the commit. The
    /// error says why the block is invalid, or that this node could not execute it.
    pub fn execute(&self, block: &Block, now_ms: u64) -> Result<Arc<Executed>, ExecutionError> {
        let suite = self.suite;
        let hash = block.header.hash(suite);
        if let Some(done) = self
            .executed
            .lock()
            .ok()
            .and_then(|m| m.get(&hash).cloned())
        {
            return Ok(done);
        }
        let executed = Arc::new(self.execute_uncached(block, now_ms)?);
        self.remember(hash, executed.clone());
        Ok(executed)
    }

    fn remember(&self, hash: Hash32, executed: Arc<Executed>) {
        if let Ok(mut cache) = self.executed.lock() {
            if cache.len() >= EXECUTED_BLOCKS_MAX {
                cache.pop_first();
            }
            cache.insert(hash, executed);
        }
    }

    fn execute_uncached(&self, block: &Block, now_ms: u64) -> Result<Executed, ExecutionError> {
        let suite = self.suite;
        let h = &block.header;
        let failed = |e: NodeError| ExecutionError::Failed {
            reason: e.to_string(),
        };
        let tip = self.tip().map_err(failed)?;
        let previous = self.tip_header().map_err(failed)?;
        let signing_set = self.next_validators().map_err(failed)?;
        let parent = Parent {
            header: &previous,
            hash: tip.hash,
            next_validators: &signing_set,
        };
        check_successor(
            suite,
            self.chain_id(),
            &parent,
            block,
            self.params().into(),
            Some(now_ms),
        )?;
        let base = self.ledger_state_at(tip.height);
        let ctx = BlockContext {
            height: h.height,
            time_ms: h.time_ms,
        };
        let execution = {
            execute_block_known(suite, &base, &self.store, &block.txs, &ctx, &|w| {
                self.was_verified(w)
            })
            .map_err(|e| {
                if e.error.is_internal() {
                    ExecutionError::Failed {
                        reason: e.to_string(),
                    }
                } else {
                    BlockError::from(e).into()
                }
            })?
        };
        let executed = self
            .finish_execution(tip.height, h.height, execution, &signing_set)
            .map_err(failed)?;
        check_executed(
            suite,
            h,
            &executed.tree.root_hash,
            &executed.next_validators,
        )?;
        Ok(executed)
    }

    /// Stores a final block with its certificate (one atomic batch, flushed). The block is executed
    /// first if it was not (a synced block).
    pub fn commit(
        &self,
        block: &Block,
        certificate: &CommitCertificate,
        now_ms: u64,
    ) -> Result<Arc<Executed>, NodeError> {
        let executed = self
            .execute(block, now_ms.max(block.header.time_ms))
            .map_err(|e| NodeError::InvalidFinalBlock {
                height: block.header.height,
                reason: e.to_string(),
            })?;
        let height = block.header.height;
        let mut keep_versions_from = height.saturating_sub(self.state_versions_kept);
        if let Some(pinned) = self.snapshot_pins.oldest(now_ms)? {
            keep_versions_from = keep_versions_from.min(pinned);
        }
        self.store.commit_block(BlockCommit {
            block,
            certificate,
            tree: &executed.tree,
            events: &executed.execution.events,
            tx_ids: &executed.execution.tx_ids,
            new_validators: executed.changes_set.then_some(&executed.next_validators),
            keep_versions_from,
        })?;
        if let Ok(mut cache) = self.executed.lock() {
            cache.clear();
        }
        let changes_trust = executed.changes_set
            || executed
                .execution
                .events
                .iter()
                .flatten()
                .any(|e| matches!(e, lichen_contracts::ledger::Event::LicenceChanged { .. }));
        if changes_trust {
            self.packages.mark_stale();
        }
        Ok(executed)
    }

    /// The certified context of block `height`: header, a quorum of its certificate and the
    /// validator-set changes since genesis.
    pub fn certified(&self, height: u64) -> Result<Certified, NodeError> {
        if height == 0 {
            return Err(NodeError::NoCertifiedBlock);
        }
        let missing = |what: &str, h: u64| NodeError::Internal {
            reason: format!("{what} of block {h} missing from storage"),
        };
        let header = self
            .store
            .header(height)?
            .ok_or_else(|| missing("header", height))?;
        let mut certificate = self
            .store
            .certificate(height)?
            .ok_or_else(|| missing("certificate", height))?;
        // Verifiers need a quorum; more signatures only make the proof longer.
        let quorum = self.store.signing_set(height)?.quorum();
        certificate.signatures.truncate(quorum);
        let mut set_changes = Vec::new();
        for (h, next_validators) in self.store.set_changes(height)? {
            let mut cert = self
                .store
                .certificate(h)?
                .ok_or_else(|| missing("certificate", h))?;
            cert.signatures
                .truncate(self.store.signing_set(h)?.quorum());
            set_changes.push(SetChange {
                header: self.store.header(h)?.ok_or_else(|| missing("header", h))?,
                certificate: cert,
                next_validators,
            });
        }
        Ok(Certified {
            header,
            certificate,
            set_changes,
        })
    }

    /// The value of `key` and its proof at `height` (default: the tip). Heights whose state was
    /// pruned are refused with the oldest one still kept.
    fn proved(
        &self,
        key: &StateKey,
        height: Option<u64>,
    ) -> Result<(u64, Option<Vec<u8>>, StateProof), NodeError> {
        let tip = self.tip()?;
        let height = height.unwrap_or(tip.height);
        if height == 0 {
            return Err(NodeError::NoCertifiedBlock);
        }
        if height > tip.height {
            return Err(NodeError::NotFound {
                what: "block",
                id: height.to_string(),
            });
        }
        let oldest = self.store.pruned_below()?.max(1);
        if height < oldest {
            return Err(NodeError::Pruned { height, oldest });
        }
        let (value, proof) = SparseMerkleTree::new(&self.store, self.suite)
            .get_with_proof(&key.hash(self.suite), height)?;
        Ok((height, value, proof))
    }

    /// A presentation of licence `id` at `height` (default: the tip).
    pub fn presentation(&self, id: &str, height: Option<u64>) -> Result<Presentation, NodeError> {
        let (height, value, proof) = self.proved(&StateKey::Licence(id.to_string()), height)?;
        let value = value.ok_or_else(|| NodeError::NotFound {
            what: "licence",
            id: id.to_string(),
        })?;
        let licence: Licence = decode_entry(&value)?;
        Ok(Presentation {
            licence,
            proof,
            certified: self.certified(height)?,
        })
    }

    /// An evidence receipt for `hash` at `height` (default: the tip).
    pub fn receipt(
        &self,
        hash: &Hash32,
        height: Option<u64>,
    ) -> Result<EvidenceReceipt, NodeError> {
        let (height, value, proof) = self.proved(&StateKey::Evidence(*hash), height)?;
        let value = value.ok_or_else(|| NodeError::NotFound {
            what: "evidence",
            id: hash.to_hex(),
        })?;
        let evidence: Evidence = decode_entry(&value)?;
        Ok(EvidenceReceipt {
            evidence,
            proof,
            certified: self.certified(height)?,
        })
    }

    /// A committed transaction with where it is and the events it caused.
    pub fn transaction(
        &self,
        id: &Hash32,
    ) -> Result<Option<(lichen_storage::TxLocation, SignedTransaction)>, NodeError> {
        let Some(loc) = self.store.tx_location(id)? else {
            return Ok(None);
        };
        let block = self
            .store
            .block(loc.height)?
            .ok_or_else(|| NodeError::Internal {
                reason: format!("block {} of an indexed transaction is missing", loc.height),
            })?;
        let tx = block
            .txs
            .into_iter()
            .nth(loc.index as usize)
            .ok_or_else(|| NodeError::Internal {
                reason: format!("transaction index {} beyond its block", loc.index),
            })?;
        Ok(Some((loc, tx)))
    }
}
