//! The chain store: blocks, certificates, state-tree nodes, indexes and metadata in one ordered
//! key space, over any [`KvStore`].
//!
//! The key layout (one-byte prefixes, byte widths) is in [`crate::layout`].

use std::sync::Arc;

use lichen_contracts::block::{Block, BlockHeader, CommitCertificate};
use lichen_contracts::codec::{Decode, Encode, Reader, Writer};
use lichen_contracts::crypto::{Hash32, Suite};
use lichen_contracts::error::{CodecError, StorageError};
use lichen_contracts::genesis::Genesis;
use lichen_contracts::ledger::Event;
use lichen_contracts::model::{LicenceStatus, ValidatorSet};
use lichen_contracts::smt::{Node, NodeKey, SparseMerkleTree, TreeReader, TreeUpdateBatch};
use lichen_contracts::state::StateKey;
use lichen_contracts::tx::Payload;

use crate::error::StoreError;
use crate::kv::{KvStore, WriteBatch};
use crate::layout::{
    self, AFTER_HEIGHT, HASH_BYTES, HEIGHT_BYTES, INDEX_BYTES, LOCATION_BYTES, PREFIX_BYTES,
    TIP_BYTES,
};
use crate::recent_ids::RecentIds;

/// Stale state-tree nodes deleted per committed block, at most (or one version's, if more):
/// pruning catches up over several blocks rather than making one batch huge.
pub const PRUNE_NODES_PER_BLOCK_MAX: usize = 50_000;
/// Stale-node index entries (a version's list each) read per committed block, at most.
pub const PRUNE_ENTRIES_PER_BLOCK_MAX: usize = 64;
/// Entries returned by one history or index listing, at most.
pub const LISTING_MAX: usize = 1_000;

/// The last committed block.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StoredTip {
    pub height: u64,
    pub hash: Hash32,
}

/// Where a transaction was committed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TxLocation {
    pub height: u64,
    pub index: u32,
}

/// One change of a licence's status.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LicenceHistoryEntry {
    pub location: TxLocation,
    pub tx_id: Hash32,
    pub status: LicenceStatus,
}

/// Everything one committed block writes.
#[derive(Debug)]
pub struct BlockCommit<'a> {
    pub block: &'a Block,
    pub certificate: &'a CommitCertificate,
    /// The state-tree update that produced `block.header.state_root`.
    pub tree: &'a TreeUpdateBatch,
    /// The events of each transaction, in block order.
    pub events: &'a [Vec<Event>],
    /// The id of each transaction, in block order (the execution computed them: not hashed
    /// again here).
    pub tx_ids: &'a [Hash32],
    /// The set that signs the next block, when this block changes it.
    pub new_validators: Option<&'a ValidatorSet>,
    /// Keep state versions from this height on; older stale nodes may go.
    pub keep_versions_from: u64,
}

/// Typed access to the chain data in a [`KvStore`].
#[derive(Debug)]
pub struct ChainStore<K: KvStore> {
    kv: K,
    /// Where the consensus state is kept durably; in the key-value store without one (memory).
    state_file: Option<crate::StateFile>,
    /// The chain's suite, read from the stored genesis once (commits need it for hashes).
    suite: std::sync::OnceLock<Suite>,
    /// State-tree nodes read before, decoded. A node is written once, under a key naming the
    /// version that wrote it, and never changed (pruning only deletes it), so a cached node is
    /// never out of date. Every state read walks from the root, so the few nodes near it are
    /// read for every transaction admitted, built and executed.
    nodes: quick_cache::sync::Cache<NodeKey, Arc<Node>, NodeWeighter>,
    /// Headers of committed blocks read or written before. A committed block never changes; a
    /// header is read from the whole stored block (a quarter megabyte under load), and the
    /// tip's is read for every transaction admitted.
    headers: quick_cache::sync::Cache<u64, BlockHeader>,
    /// The tip as last written by this store (genesis, a commit, a restore), so that reading it,
    /// once or more per admitted transaction, is no store read. Only the writers set it, after
    /// their batch is in: a reader never fills it, so it cannot put back an older tip.
    tip: std::sync::RwLock<Option<StoredTip>>,
    /// Ids committed since the store opened, in front of the transaction index (`t`) for the
    /// replay and duplicate checks, which nearly always ask about new ids.
    pub(crate) recent: std::sync::RwLock<RecentIds>,
    /// The chain's `tx_expiry_blocks_max`, read from the stored genesis once (it cannot change).
    expiry_blocks_max: std::sync::OnceLock<u64>,
}

/// Block headers a store keeps in memory, at most (~200 bytes each).
pub const HEADER_CACHE_MAX: usize = 1_024;

/// The decoded state-tree nodes a store keeps in memory, at most, in bytes (their in-memory
/// size: ~40,000 internal nodes, the top four levels of a tree of 10^7 keys several times).
pub const NODE_CACHE_BYTES: u64 = 32 * 1024 * 1024;

/// A cached node's weight: its in-memory size.
#[derive(Clone)]
struct NodeWeighter;

impl quick_cache::Weighter<NodeKey, Arc<Node>> for NodeWeighter {
    fn weight(&self, _key: &NodeKey, node: &Arc<Node>) -> u64 {
        let heap = match &**node {
            Node::Leaf { value, .. } => value.len(),
            Node::Null | Node::Internal { .. } => 0,
        };
        (std::mem::size_of::<NodeKey>() + std::mem::size_of::<Node>() + heap) as u64
    }
}

fn node_cache() -> quick_cache::sync::Cache<NodeKey, Arc<Node>, NodeWeighter> {
    let per_node = (std::mem::size_of::<NodeKey>() + std::mem::size_of::<Node>()) as u64;
    quick_cache::sync::Cache::with_weighter(
        (NODE_CACHE_BYTES / per_node) as usize,
        NODE_CACHE_BYTES,
        NodeWeighter,
    )
}

pub(crate) fn key(prefix: u8, parts: &[&[u8]]) -> Vec<u8> {
    let mut k = Vec::with_capacity(1 + parts.iter().map(|p| p.len()).sum::<usize>());
    k.push(prefix);
    for p in parts {
        k.extend_from_slice(p);
    }
    k
}

pub(crate) fn height_key(prefix: u8, height: u64) -> Vec<u8> {
    key(prefix, &[&height.to_be_bytes()])
}

pub(crate) fn location_bytes(loc: TxLocation) -> [u8; LOCATION_BYTES] {
    let mut b = [0u8; LOCATION_BYTES];
    b[..HEIGHT_BYTES].copy_from_slice(&loc.height.to_be_bytes());
    b[HEIGHT_BYTES..].copy_from_slice(&loc.index.to_be_bytes());
    b
}

pub(crate) fn corrupt(what: &'static str, reason: &'static str) -> StoreError {
    StoreError::Corrupt {
        what,
        source: CodecError::InvalidValue {
            field: what,
            reason,
        },
    }
}

pub(crate) fn decode<T: Decode>(what: &'static str, bytes: &[u8]) -> Result<T, StoreError> {
    T::from_bytes(bytes).map_err(|source| StoreError::Corrupt { what, source })
}

pub(crate) fn read_u64(what: &'static str, bytes: &[u8]) -> Result<u64, StoreError> {
    let arr: [u8; HEIGHT_BYTES] = bytes
        .get(..HEIGHT_BYTES)
        .and_then(|b| b.try_into().ok())
        .ok_or_else(|| corrupt(what, "shorter than 8 bytes"))?;
    Ok(u64::from_be_bytes(arr))
}

pub(crate) fn read_u32(what: &'static str, bytes: &[u8]) -> Result<u32, StoreError> {
    let arr: [u8; 4] = bytes.try_into().map_err(|_| corrupt(what, "not 4 bytes"))?;
    Ok(u32::from_be_bytes(arr))
}

pub(crate) fn read_location(what: &'static str, bytes: &[u8]) -> Result<TxLocation, StoreError> {
    if bytes.len() != LOCATION_BYTES {
        return Err(corrupt(what, "a location is 12 bytes"));
    }
    let height = read_u64(what, bytes)?;
    let mut index = [0u8; INDEX_BYTES];
    index.copy_from_slice(&bytes[HEIGHT_BYTES..]);
    let index = u32::from_be_bytes(index);
    Ok(TxLocation { height, index })
}

pub(crate) fn read_hash(what: &'static str, bytes: &[u8]) -> Result<Hash32, StoreError> {
    let arr: [u8; HASH_BYTES] = bytes
        .get(..HASH_BYTES)
        .and_then(|b| b.try_into().ok())
        .ok_or_else(|| corrupt(what, "shorter than 32 bytes"))?;
    Ok(Hash32(arr))
}

/// The end (exclusive) of the key range that starts with `prefix`.
pub(crate) fn prefix_end(prefix: &[u8]) -> Vec<u8> {
    let mut end = prefix.to_vec();
    while let Some(last) = end.pop() {
        if last < 0xff {
            end.push(last + 1);
            return end;
        }
    }
    vec![0xff; prefix.len() + 1]
}

impl<K: KvStore> ChainStore<K> {
    pub fn new(kv: K) -> Self {
        ChainStore {
            kv,
            state_file: None,
            suite: std::sync::OnceLock::new(),
            nodes: node_cache(),
            headers: quick_cache::sync::Cache::new(HEADER_CACHE_MAX),
            tip: std::sync::RwLock::new(None),
            recent: std::sync::RwLock::new(RecentIds::default()),
            expiry_blocks_max: std::sync::OnceLock::new(),
        }
    }

    /// Forgets the ids committed since opening: blocks were written another way (a restore).
    pub(crate) fn forget_recent_ids(&self) {
        if let Ok(mut recent) = self.recent.write() {
            recent.reset();
        }
    }

    /// Remembers `tip` as the one just written.
    pub(crate) fn set_tip(&self, tip: StoredTip) {
        if let Ok(mut cached) = self.tip.write() {
            *cached = Some(tip);
        }
    }

    /// Keeps the consensus state in `file` (fsynced) instead of the key-value store.
    pub fn with_state_file(mut self, file: crate::StateFile) -> Self {
        self.state_file = Some(file);
        self
    }

    pub fn kv(&self) -> &K {
        &self.kv
    }

    /// Writes block 0 and the genesis state if the store is empty; otherwise checks that the store
    /// holds this very genesis. Returns the tip.
    pub fn init_genesis(&self, genesis: &Genesis) -> Result<StoredTip, StoreError> {
        let suite = genesis.suite();
        let bytes = genesis.to_bytes();
        if let Some(stored) = self.kv.get(&key(layout::META, &[layout::META_GENESIS]))? {
            if stored != bytes {
                // A stored genesis this version cannot decode (one written before a field was
                // added, e.g. `observers`) is still another genesis, not a corrupt store.
                let found = match Genesis::from_bytes(&stored) {
                    Ok(found) => {
                        format!("{} (genesis hash {})", found.config.chain_id, found.hash())
                    }
                    Err(e) => format!("a genesis this version cannot read ({e})"),
                };
                return Err(StoreError::WrongGenesis {
                    expected: format!(
                        "{} (genesis hash {})",
                        genesis.config.chain_id,
                        genesis.hash()
                    ),
                    found,
                });
            }
            return self.tip();
        }
        let writes = genesis
            .state_writes()
            .map_err(|e| StoreError::InvalidGenesis {
                reason: e.to_string(),
            })?;
        let tree = SparseMerkleTree::new(self, suite)
            .put_batch(None, 0, &writes)
            .map_err(|e| StoreError::backend("genesis state", e))?;
        let header = genesis.header(tree.root_hash);
        let hash = header.hash(suite);
        let block = Block {
            header,
            txs: Vec::new(),
        };
        let mut batch = WriteBatch::new();
        batch.put(key(layout::META, &[layout::META_GENESIS]), bytes);
        batch.put(
            key(layout::META, &[layout::META_LAYOUT]),
            layout::LAYOUT_VERSION.to_be_bytes(),
        );
        batch.put(height_key(layout::BLOCK, 0), block.to_bytes());
        batch.put(
            height_key(layout::VALIDATORS, 0),
            genesis.validators.to_bytes(),
        );
        write_tree(&mut batch, &tree, 0);
        for a in &genesis.agencies {
            batch.put(entity_key(&StateKey::Agency(a.id.clone())), []);
        }
        for t in &genesis.licence_types {
            batch.put(entity_key(&StateKey::LicenceType(t.code.clone())), []);
        }
        for s in &genesis.submitters {
            batch.put(entity_key(&StateKey::Submitter(s.id.clone())), []);
        }
        for o in &genesis.observers {
            batch.put(entity_key(&StateKey::Observer(o.peer_id.clone())), []);
        }
        batch.put(key(layout::META, &[layout::META_TIP]), tip_bytes(0, &hash));
        self.kv.apply(batch)?;
        self.kv.flush()?;
        let tip = StoredTip { height: 0, hash };
        self.set_tip(tip);
        Ok(tip)
    }

    /// The chain's suite (from the stored genesis, decoded once).
    pub fn suite(&self) -> Result<Suite, StoreError> {
        if let Some(suite) = self.suite.get() {
            return Ok(*suite);
        }
        let suite = self.genesis()?.suite();
        Ok(*self.suite.get_or_init(|| suite))
    }

    pub(crate) fn expiry_blocks_max(&self) -> Result<u64, StoreError> {
        if let Some(max) = self.expiry_blocks_max.get() {
            return Ok(*max);
        }
        let max = self.genesis()?.config.params.tx_expiry_blocks_max;
        Ok(*self.expiry_blocks_max.get_or_init(|| max))
    }

    /// Whether transaction `id`, expiring at `expires_at_height`, was committed, if it has not
    /// expired (see [`ReplayLookup`](lichen_contracts::replay::ReplayLookup): an id whose expiry
    /// is below the next height may be answered no). Most ids asked about are new: a filter in
    /// memory answers for them without a read of the transaction index.
    pub fn committed_unexpired(
        &self,
        id: &Hash32,
        expires_at_height: u64,
    ) -> Result<bool, StoreError> {
        let max = self.expiry_blocks_max()?;
        let ask_index = self.recent.read().map_or(true, |recent| {
            recent.may_contain(id, expires_at_height, max)
        });
        if !ask_index {
            return Ok(false);
        }
        Ok(self.kv.get(&key(layout::TX, &[id.as_bytes()]))?.is_some())
    }

    /// The genesis the store was initialised with.
    pub fn genesis(&self) -> Result<Genesis, StoreError> {
        let bytes = self
            .kv
            .get(&key(layout::META, &[layout::META_GENESIS]))?
            .ok_or(StoreError::NotInitialised)?;
        decode("genesis", &bytes)
    }

    /// The last committed block.
    pub fn tip(&self) -> Result<StoredTip, StoreError> {
        if let Some(tip) = self.tip.read().ok().and_then(|t| *t) {
            return Ok(tip);
        }
        let bytes = self
            .kv
            .get(&key(layout::META, &[layout::META_TIP]))?
            .ok_or(StoreError::NotInitialised)?;
        if bytes.len() != TIP_BYTES {
            return Err(corrupt("tip", "the tip is 40 bytes"));
        }
        Ok(StoredTip {
            height: read_u64("tip", &bytes)?,
            hash: read_hash("tip", &bytes[HEIGHT_BYTES..])?,
        })
    }

    pub fn block(&self, height: u64) -> Result<Option<Block>, StoreError> {
        self.block_bytes(height)?
            .map(|b| decode("block", &b))
            .transpose()
    }

    /// Block `height` as stored (its canonical encoding), for whoever needs its size or sends it
    /// on.
    pub fn block_bytes(&self, height: u64) -> Result<Option<Vec<u8>>, StoreError> {
        self.kv.get(&height_key(layout::BLOCK, height))
    }

    /// Block `height`'s header alone: a block's encoding begins with its header, so the
    /// transactions (and their keys) are not decoded just to read it.
    pub fn header(&self, height: u64) -> Result<Option<BlockHeader>, StoreError> {
        if let Some(header) = self.headers.get(&height) {
            return Ok(Some(header));
        }
        let Some(bytes) = self.kv.get(&height_key(layout::BLOCK, height))? else {
            return Ok(None);
        };
        let header = BlockHeader::decode_from(&mut Reader::new(&bytes)).map_err(|source| {
            StoreError::Corrupt {
                what: "block header",
                source,
            }
        })?;
        self.headers.insert(height, header.clone());
        Ok(Some(header))
    }

    /// The commit certificate of block `height` (none for block 0).
    pub fn certificate(&self, height: u64) -> Result<Option<CommitCertificate>, StoreError> {
        self.kv
            .get(&height_key(layout::CERTIFICATE, height))?
            .map(|b| decode("certificate", &b))
            .transpose()
    }

    pub fn tx_location(&self, id: &Hash32) -> Result<Option<TxLocation>, StoreError> {
        self.kv
            .get(&key(layout::TX, &[id.as_bytes()]))?
            .map(|b| read_location("tx index", &b))
            .transpose()
    }

    /// The validator set that signs block `height` (>= 1): the set in force after the last change
    /// below `height`.
    pub fn signing_set(&self, height: u64) -> Result<ValidatorSet, StoreError> {
        let rows = self.kv.scan(
            &height_key(layout::VALIDATORS, 0),
            &height_key(layout::VALIDATORS, height),
            1,
            true,
        )?;
        let (_, v) = rows
            .into_iter()
            .next()
            .ok_or_else(|| corrupt("validator sets", "no genesis set"))?;
        decode("validator set", &v)
    }

    /// Heights (>= 1, below `before`) of the blocks that changed the validator set, with the set
    /// each one installed, oldest first.
    pub fn set_changes(&self, before: u64) -> Result<Vec<(u64, ValidatorSet)>, StoreError> {
        let rows = self.kv.scan(
            &height_key(layout::VALIDATORS, 1),
            &height_key(layout::VALIDATORS, before.max(1)),
            usize::MAX,
            false,
        )?;
        rows.into_iter()
            .map(|(k, v)| {
                Ok((
                    read_u64("set change", &k[PREFIX_BYTES..])?,
                    decode("validator set", &v)?,
                ))
            })
            .collect()
    }

    /// The consensus core's persisted voting state, as last written.
    pub fn consensus_state(&self) -> Result<Option<Vec<u8>>, StoreError> {
        if let Some(file) = &self.state_file
            && let Some(bytes) = file.read()?
        {
            return Ok(Some(bytes));
        }
        // No file yet: a store written before the file existed keeps it here.
        self.kv.get(&key(layout::META, &[layout::META_CONSENSUS]))
    }

    /// Writes the consensus state durably (on disk before returning).
    pub fn put_consensus_state(&self, bytes: &[u8]) -> Result<(), StoreError> {
        if let Some(file) = &self.state_file {
            return file.write(bytes);
        }
        let mut batch = WriteBatch::new();
        batch.put(key(layout::META, &[layout::META_CONSENSUS]), bytes);
        self.kv.apply(batch)?;
        self.kv.flush()
    }

    /// State versions below this one may be pruned (0 if nothing was).
    pub fn pruned_below(&self) -> Result<u64, StoreError> {
        self.kv
            .get(&key(layout::META, &[layout::META_PRUNED_BELOW]))?
            .map(|b| read_u64("pruned_below", &b))
            .transpose()
            .map(|v| v.unwrap_or(0))
    }

    /// Writes a committed block and everything it changes as one atomic batch, then flushes.
    /// Refuses a block that is not the next one.
    pub fn commit_block(&self, commit: BlockCommit<'_>) -> Result<StoredTip, StoreError> {
        let tip = self.tip()?;
        let header = &commit.block.header;
        let height = header.height;
        if height != tip.height + 1 {
            return Err(StoreError::NotNext {
                height,
                tip: tip.height,
            });
        }
        assert_eq!(
            commit.tx_ids.len(),
            commit.block.txs.len(),
            "commit_block takes one id per transaction of the block"
        );
        let suite = self.suite()?;
        let hash = header.hash(suite);
        let mut batch = WriteBatch::new();
        batch.put(height_key(layout::BLOCK, height), commit.block.to_bytes());
        batch.put(
            height_key(layout::CERTIFICATE, height),
            commit.certificate.to_bytes(),
        );
        write_tree(&mut batch, commit.tree, height);
        if let Some(set) = commit.new_validators {
            batch.put(height_key(layout::VALIDATORS, height), set.to_bytes());
        }
        for (index, (tx, id)) in commit.block.txs.iter().zip(commit.tx_ids).enumerate() {
            let loc = TxLocation {
                height,
                index: index as u32,
            };
            let id = *id;
            batch.put(key(layout::TX, &[id.as_bytes()]), location_bytes(loc));
            if let Payload::IssueLicence(d) | Payload::SupersedeLicence { new: d, .. } =
                &tx.tx.payload
            {
                batch.put(
                    key(
                        layout::AGENCY,
                        &[d.issuer.as_bytes(), &[0], &location_bytes(loc)],
                    ),
                    d.id.as_bytes(),
                );
            }
            for event in commit.events.get(index).into_iter().flatten() {
                match event {
                    Event::LicenceChanged { id: lid, status } => {
                        let mut value = id.as_bytes().to_vec();
                        value.extend_from_slice(&status.to_bytes());
                        batch.put(
                            key(
                                layout::LICENCE,
                                &[lid.as_bytes(), &[0], &location_bytes(loc)],
                            ),
                            value,
                        );
                    }
                    Event::EvidenceAnchored { hash } => {
                        batch.put(
                            key(layout::EVIDENCE, &[hash.as_bytes()]),
                            location_bytes(loc),
                        );
                    }
                    Event::AgencyChanged { id } => {
                        batch.put(entity_key(&StateKey::Agency(id.clone())), []);
                    }
                    Event::LicenceTypeChanged { code } => {
                        batch.put(entity_key(&StateKey::LicenceType(code.clone())), []);
                    }
                    Event::SubmitterChanged { id } => {
                        batch.put(entity_key(&StateKey::Submitter(id.clone())), []);
                    }
                    Event::ObserverAdded { peer_id } => {
                        batch.put(entity_key(&StateKey::Observer(peer_id.clone())), []);
                    }
                    Event::ObserverRemoved { peer_id } => {
                        batch.delete(entity_key(&StateKey::Observer(peer_id.clone())));
                    }
                    Event::ValidatorSetChanged { .. } | Event::CouncilChanged => {}
                }
            }
        }
        let pruned = self.prune_into(&mut batch, commit.keep_versions_from)?;
        // In the filter before the index: a reader never finds an id in the index that the
        // filter would deny (a failed write leaves ids here that only cost a read).
        if let Ok(mut recent) = self.recent.write() {
            recent.note_commit(
                height,
                commit
                    .block
                    .txs
                    .iter()
                    .zip(commit.tx_ids)
                    .map(|(tx, id)| (*id, tx.tx.expires_at_height)),
            );
        }
        batch.put(
            key(layout::META, &[layout::META_TIP]),
            tip_bytes(height, &hash),
        );
        self.kv.apply(batch)?;
        self.set_tip(StoredTip { height, hash });
        self.headers.insert(height, header.clone());
        // The next block's reads walk through the internal nodes this one wrote (near the root,
        // all of them): into the cache now, not read back and decoded one miss at a time. Not
        // the leaves: one per transaction, read again only by a later key that lands beside
        // one, they would push out the internal nodes every read needs.
        for (node_key, node) in &commit.tree.new_nodes {
            if matches!(node, Node::Internal { .. }) {
                self.nodes.insert(*node_key, Arc::new(node.clone()));
            }
        }
        // Out of the cache once out of the store. (A reader that fetched one of them just
        // before the batch may put it back: a node of a version no longer kept, which only a
        // read of that version could ask for, and which is what that version held.)
        for node_key in &pruned {
            self.nodes.remove(node_key);
        }
        self.kv.flush()?;
        Ok(StoredTip { height, hash })
    }

    /// Adds deletions of nodes stale since a version `< keep_from` (needed only by versions that
    /// are no longer kept), at most [`PRUNE_NODES_PER_BLOCK_MAX`]; returns their keys.
    fn prune_into(
        &self,
        batch: &mut WriteBatch,
        keep_from: u64,
    ) -> Result<Vec<NodeKey>, StoreError> {
        let already = self.pruned_below()?;
        if keep_from <= already {
            return Ok(Vec::new());
        }
        // A node stale since v is referenced by versions < v only: deletable when v <= keep_from.
        // Whole versions are pruned, the first whatever its size.
        let rows = self.kv.scan(
            &height_key(layout::STALE, 0),
            &height_key(layout::STALE, keep_from + 1),
            PRUNE_ENTRIES_PER_BLOCK_MAX,
            false,
        )?;
        let mut complete = rows.len() < PRUNE_ENTRIES_PER_BLOCK_MAX;
        let mut pruned = Vec::new();
        for (k, v) in rows {
            let nodes = stale_node_keys(&k, &v)?;
            if !pruned.is_empty() && pruned.len() + nodes.len() > PRUNE_NODES_PER_BLOCK_MAX {
                complete = false;
                break;
            }
            for node_key in nodes {
                batch.delete(key(layout::NODE, &[&node_key.to_bytes()]));
                pruned.push(node_key);
            }
            batch.delete(k);
        }
        if complete {
            batch.put(
                key(layout::META, &[layout::META_PRUNED_BELOW]),
                keep_from.to_be_bytes(),
            );
        }
        Ok(pruned)
    }
}

pub(crate) fn tip_bytes(height: u64, hash: &Hash32) -> Vec<u8> {
    let mut v = height.to_be_bytes().to_vec();
    v.extend_from_slice(hash.as_bytes());
    v
}

pub(crate) fn entity_key(state_key: &StateKey) -> Vec<u8> {
    let id = match state_key {
        StateKey::Agency(id) | StateKey::LicenceType(id) | StateKey::Submitter(id) => id.as_bytes(),
        StateKey::Observer(peer_id) => peer_id.as_slice(),
        _ => &[],
    };
    key(layout::ENTITY, &[&[state_key.kind()], id])
}

/// The tree update's new nodes, one key each, and the nodes it made stale, as one key for the
/// version (`s` ‖ version → their node keys, concatenated): a block replaces about as many nodes
/// as it adds, and one key instead of thousands is one memtable insert now and one delete when
/// the version is pruned.
fn write_tree(batch: &mut WriteBatch, tree: &TreeUpdateBatch, version: u64) {
    for (k, node) in &tree.new_nodes {
        batch.put(key(layout::NODE, &[&k.to_bytes()]), node.to_bytes());
    }
    if tree.stale_nodes.is_empty() {
        return;
    }
    let mut list = Writer::new();
    for stale in &tree.stale_nodes {
        assert_eq!(
            stale.stale_since_version, version,
            "a tree update makes nodes stale at its own version"
        );
        stale.node_key.encode_to(&mut list);
    }
    batch.put(height_key(layout::STALE, version), list.into_bytes());
}

/// The node keys of one `s` entry (`s` ‖ version → their keys, concatenated). An entry of the
/// earlier layout (`s` ‖ version ‖ node key) is refused: opening a node regroups them.
fn stale_node_keys(k: &[u8], v: &[u8]) -> Result<Vec<NodeKey>, StoreError> {
    let corrupt = |source| StoreError::Corrupt {
        what: "stale-node index entry",
        source,
    };
    if k.len() != AFTER_HEIGHT {
        return Err(corrupt(CodecError::TrailingBytes {
            count: k.len().saturating_sub(AFTER_HEIGHT),
        }));
    }
    let mut r = Reader::new(v);
    let mut keys = Vec::new();
    while r.remaining() > 0 {
        keys.push(NodeKey::decode_from(&mut r).map_err(corrupt)?);
    }
    Ok(keys)
}

/// The replay check asks the transaction index (`t`): it holds every transaction this store has
/// committed, so every id of the replay window and those older. An older one never reaches the
/// question: the ledger refuses a transaction whose expiry has passed before it asks, and one that
/// has not expired was committed at most `tx_expiry_blocks_max` blocks ago (a store restored from
/// a checkpoint wrote the index of those blocks). No second index of the window is kept, written
/// and pruned per transaction.
impl<K: KvStore> lichen_contracts::replay::ReplayLookup for ChainStore<K> {
    fn contains(&self, id: &Hash32, expires_at_height: u64) -> Result<bool, StorageError> {
        Ok(self.committed_unexpired(id, expires_at_height)?)
    }
}

impl<K: KvStore> TreeReader for ChainStore<K> {
    fn get_node(&self, node_key: &NodeKey) -> Result<Option<Arc<Node>>, StorageError> {
        if let Some(node) = self.nodes.get(node_key) {
            return Ok(Some(node));
        }
        let bytes = self
            .kv
            .get(&key(layout::NODE, &[&node_key.to_bytes()]))
            .map_err(StorageError::from)?;
        let Some(bytes) = bytes else {
            return Ok(None);
        };
        let node = Arc::new(Node::from_bytes(&bytes).map_err(StorageError::Corrupt)?);
        self.nodes.insert(*node_key, node.clone());
        Ok(Some(node))
    }
}
