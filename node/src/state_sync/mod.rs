//! Joining a chain from a certified checkpoint rather than replaying it from genesis (`lichen
//! node sync`). The source (another node's API) is not trusted: everything it hands over is
//! checked against the genesis trust anchor before it is kept.
//!
//! 1. A trust package, verified from genesis (`TrustPackage::verify`): a certified checkpoint
//!    header, the validator-set changes since genesis, and the checkpoint's tree cut at depth
//!    `k` (`2^k` level nodes that fold to the certified state root).
//! 2. The checkpoint's state in chunks (the leaves under each `k`-bit prefix), each checked
//!    against its level node as it arrives (`smt::check_chunk`) and streamed through
//!    `smt::TreeRestorer` into the store: memory holds one answer, not the state.
//! 3. The blocks the node needs to go on, each with its certificate verified by the set that
//!    signs it (the package gives every set): the replay window's (the last
//!    `tx_expiry_blocks_max` blocks up to the checkpoint, the last equal to the certified
//!    checkpoint header) and each block that changed the validator set (equal to the package's
//!    certified headers), written as they pass.
//! 4. `ChainStore::finish_restore`: the tip is the checkpoint. The node then runs as usual and
//!    fetches the blocks after the checkpoint from its peers.
//!
//! [`sync_data_dir`] does this into a new directory beside the data directory and renames it
//! into place only when all of it passed, so a failed or interrupted sync leaves no chain behind.

mod chunks;

use std::path::{Path, PathBuf};

use lichen_contracts::block::{BlockHeader, tx_root};
use lichen_contracts::codec::Decode;
use lichen_contracts::crypto::Hash32;
use lichen_contracts::error::{CodecError, PackageError, RestoreError};
use lichen_contracts::genesis::Genesis;
use lichen_contracts::model::{ChainConfig, ValidatorSet};
use lichen_contracts::presentation::{TRUST_PACKAGE_BYTES_MAX, TrustPackage};
use lichen_contracts::smt::{Keys, SparseMerkleTree, TreeRestorer, check_chunk};
use lichen_contracts::state::StateKey;
use lichen_storage::{ChainStore, KvStore, RestoredChain, StoreError, StoredTip};

use crate::net::wire::{SYNC_BLOCKS_MAX, decode_blocks};

pub use chunks::{
    CHUNK_ANSWER_BYTES_MAX, CHUNK_ANSWER_BYTES_SOFT_MAX, CHUNK_LEAVES_MAX, CHUNKS_PER_ANSWER_MAX,
    SnapshotChunks,
};

/// Restored tree nodes written per storage batch.
pub const RESTORE_NODES_PER_BATCH: usize = 50_000;

/// Where a state sync reads from: another node's API (`lichen node sync --from`), or a chain in
/// the same process (tests). Each call returns the answer's bytes or why there is none.
pub trait SnapshotSource {
    /// `GET /v1/trust-package`: the latest trust package.
    fn trust_package(&mut self) -> Result<Vec<u8>, String>;
    /// `GET /v1/snapshot/{height}/chunks?depth=&first=&count=`.
    fn chunks(&mut self, height: u64, depth: u8, first: u32, count: u32)
    -> Result<Vec<u8>, String>;
    /// `GET /v1/blocks?from=&count=`.
    fn blocks(&mut self, from: u64, count: u16) -> Result<Vec<u8>, String>;
}

/// A node's HTTP API as the source: `get(path, limit)` GETs `path` (e.g. `/v1/blocks?...`) and
/// returns at most `limit` bytes of answer. The HTTP client is the caller's (this crate links
/// none); this knows the paths and how large each answer may be.
pub struct ApiPaths<F>(pub F);

impl<F> std::fmt::Debug for ApiPaths<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ApiPaths")
    }
}

impl<F: FnMut(&str, u64) -> Result<Vec<u8>, String>> SnapshotSource for ApiPaths<F> {
    fn trust_package(&mut self) -> Result<Vec<u8>, String> {
        (self.0)("/v1/trust-package", TRUST_PACKAGE_BYTES_MAX as u64)
    }

    fn chunks(
        &mut self,
        height: u64,
        depth: u8,
        first: u32,
        count: u32,
    ) -> Result<Vec<u8>, String> {
        let path =
            format!("/v1/snapshot/{height}/chunks?depth={depth}&first={first}&count={count}");
        (self.0)(&path, CHUNK_ANSWER_BYTES_MAX as u64)
    }

    fn blocks(&mut self, from: u64, count: u16) -> Result<Vec<u8>, String> {
        let path = format!("/v1/blocks?from={from}&count={count}");
        (self.0)(&path, crate::net::wire::RESPONSE_BYTES_MAX as u64)
    }
}

/// Why a state sync stopped. Nothing it wrote is kept ([`sync_data_dir`]).
#[derive(Debug, thiserror::Error)]
pub enum StateSyncError {
    #[error("the source failed on {what}: {reason}")]
    Source { what: &'static str, reason: String },
    #[error("the trust package from the source is refused: {0}")]
    Package(PackageError),
    #[error("malformed {what} from the source: {reason}")]
    Malformed { what: &'static str, reason: String },
    #[error("the source answered {what} other than asked: {reason}")]
    Unexpected { what: &'static str, reason: String },
    #[error("state from the source is refused: {0}")]
    Chunk(#[from] RestoreError),
    #[error("block {height} from the source is not the certified chain's: {reason}")]
    Block { height: u64, reason: String },
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("data directory {path}: {reason}")]
    DataDir { path: PathBuf, reason: String },
}

/// Where a sync got to, for a progress bar.
#[derive(Clone, Copy, Debug)]
pub struct Progress {
    pub checkpoint: u64,
    pub chunks_done: usize,
    pub chunks: usize,
    pub leaves: u64,
    pub bytes: u64,
}

/// What a finished sync wrote.
#[derive(Clone, Copy, Debug)]
pub struct SyncReport {
    pub tip: StoredTip,
    pub leaves: u64,
    pub chunks: usize,
    /// Blocks fetched (the replay window's and the set changes').
    pub blocks: usize,
    /// Bytes of answers read from the source.
    pub bytes: u64,
}

fn source_err(what: &'static str) -> impl Fn(String) -> StateSyncError {
    move |reason| StateSyncError::Source { what, reason }
}

fn malformed(what: &'static str) -> impl Fn(CodecError) -> StateSyncError {
    move |e| StateSyncError::Malformed {
        what,
        reason: e.to_string(),
    }
}

/// Syncs an empty `store` to the checkpoint of `source`'s latest trust package for `genesis`.
pub fn state_sync<K: KvStore>(
    store: &ChainStore<K>,
    genesis: &Genesis,
    source: &mut dyn SnapshotSource,
    progress: &mut dyn FnMut(&Progress),
) -> Result<SyncReport, StateSyncError> {
    let suite = genesis.suite();
    let anchor = genesis.trust_anchor();
    let bytes = source
        .trust_package()
        .map_err(source_err("the trust package"))?;
    if bytes.len() > TRUST_PACKAGE_BYTES_MAX {
        return Err(StateSyncError::Malformed {
            what: "trust package",
            reason: format!(
                "{} bytes, over the limit of {TRUST_PACKAGE_BYTES_MAX}",
                bytes.len()
            ),
        });
    }
    let mut read = bytes.len() as u64;
    let package = TrustPackage::from_bytes(&bytes).map_err(malformed("trust package"))?;
    let trust = package.verify(&anchor).map_err(StateSyncError::Package)?;
    let height = trust.checkpoint_height;
    let depth = trust.levels_depth;
    let chunks = 1usize << depth;
    // What chunk j must hash to: its level node (ZERO when empty), or the root for one chunk.
    let expected = |j: usize| match trust.levels.get(j) {
        None => trust.checkpoint_state_root,
        Some(node) if node.keys == Keys::None => Hash32::ZERO,
        Some(node) => node.hash,
    };
    let mut restorer = TreeRestorer::new(suite, height);
    let mut nodes = Vec::new();
    let mut next = 0usize;
    while next < chunks {
        let want = (chunks - next).min(CHUNKS_PER_ANSWER_MAX);
        let bytes = source
            .chunks(height, depth, next as u32, want as u32)
            .map_err(source_err("state chunks"))?;
        read += bytes.len() as u64;
        let answer = SnapshotChunks::from_bytes(&bytes).map_err(malformed("state chunks"))?;
        if answer.height != height
            || answer.depth != depth
            || answer.first as usize != next
            || answer.chunks.len() > want
        {
            return Err(StateSyncError::Unexpected {
                what: "state chunks",
                reason: format!(
                    "asked for up to {want} chunks from {next} at depth {depth} of height {height}, got {} from {} at depth {} of height {}",
                    answer.chunks.len(),
                    answer.first,
                    answer.depth,
                    answer.height
                ),
            });
        }
        let got = answer.chunks.len();
        for (i, leaves) in answer.chunks.into_iter().enumerate() {
            check_chunk(suite, depth, next + i, &expected(next + i), &leaves)?;
            for (key, value) in leaves {
                restorer.push(key, value, &mut nodes);
            }
        }
        next += got;
        if nodes.len() >= RESTORE_NODES_PER_BATCH {
            store.restore_nodes(suite, &nodes)?;
            nodes.clear();
        }
        progress(&Progress {
            checkpoint: height,
            chunks_done: next,
            chunks,
            leaves: restorer.leaves(),
            bytes: read,
        });
    }
    let leaves = restorer.leaves();
    let root = restorer.finish(&mut nodes);
    store.restore_nodes(suite, &nodes)?;
    drop(nodes);
    if root != trust.checkpoint_state_root {
        return Err(RestoreError::RootMismatch {
            computed: root,
            expected: trust.checkpoint_state_root,
        }
        .into());
    }

    let config_bytes = SparseMerkleTree::new(store, suite)
        .get(&StateKey::Config.hash(suite), height)
        .map_err(|e| StoreError::Backend {
            operation: "reading the restored state",
            reason: e.to_string(),
        })?
        .ok_or_else(|| StateSyncError::Unexpected {
            what: "state",
            reason: "no chain configuration in the checkpoint's state".into(),
        })?;
    let config =
        ChainConfig::from_bytes(&config_bytes).map_err(malformed("chain configuration"))?;
    let mut sets = vec![(0u64, genesis.validators.clone())];
    for change in &package.checkpoint.set_changes {
        sets.push((change.header.height, change.next_validators.clone()));
    }
    let window_from = (height + 1)
        .saturating_sub(config.params.tx_expiry_blocks_max)
        .max(1);
    let mut fetched = 0;
    let blocks = BlockFetch {
        store,
        sets: &sets,
        genesis,
    };
    for change in &package.checkpoint.set_changes {
        let h = change.header.height;
        if h < window_from {
            let (count, bytes) = blocks.fetch(source, h, h, &change.header)?;
            fetched += count;
            read += bytes;
        }
    }
    let (count, bytes) = blocks.fetch(source, window_from, height, &package.checkpoint.header)?;
    fetched += count;
    read += bytes;
    let set_changes: Vec<(u64, ValidatorSet)> = sets.into_iter().skip(1).collect();
    let tip = store.finish_restore(RestoredChain {
        genesis,
        checkpoint: height,
        set_changes: &set_changes,
    })?;
    Ok(SyncReport {
        tip,
        leaves,
        chunks,
        blocks: fetched,
        bytes: read,
    })
}

/// Fetching blocks into the store being restored.
struct BlockFetch<'a, K: KvStore> {
    store: &'a ChainStore<K>,
    /// The genesis set at 0 and the set each change installed, by height.
    sets: &'a [(u64, ValidatorSet)],
    genesis: &'a Genesis,
}

impl<K: KvStore> BlockFetch<'_, K> {
    /// Blocks `from..=to` with certificates, written as each answer passes: each certificate
    /// verified by the set that signs its height (so each block is the certified chain's),
    /// each block's transactions matching its header, and block `to` equal to `last`, the
    /// header the trust package certifies. Returns the blocks and bytes read.
    fn fetch(
        &self,
        source: &mut dyn SnapshotSource,
        from: u64,
        to: u64,
        last: &BlockHeader,
    ) -> Result<(usize, u64), StateSyncError> {
        let suite = self.genesis.suite();
        let genesis_hash = self.genesis.hash();
        let (mut next, mut read) = (from, 0u64);
        while next <= to {
            let want = (to - next + 1).min(SYNC_BLOCKS_MAX as u64) as u16;
            let bytes = source.blocks(next, want).map_err(source_err("blocks"))?;
            read += bytes.len() as u64;
            let answer = decode_blocks(&bytes).map_err(|e| StateSyncError::Malformed {
                what: "blocks",
                reason: e.to_string(),
            })?;
            if answer.is_empty() || answer.len() > usize::from(want) {
                return Err(StateSyncError::Unexpected {
                    what: "blocks",
                    reason: format!("{} blocks for up to {want} from {next}", answer.len()),
                });
            }
            let mut verified = Vec::with_capacity(answer.len());
            for certified in answer {
                let (block, certificate) = (certified.block, certified.certificate);
                let h = block.header.height;
                let refuse = |reason: String| StateSyncError::Block { height: h, reason };
                if h != next {
                    return Err(StateSyncError::Unexpected {
                        what: "blocks",
                        reason: format!("block {h} where block {next} was due"),
                    });
                }
                if tx_root(suite, &block.txs) != block.header.tx_root {
                    return Err(refuse(
                        "its transactions do not match its header's tx root".into(),
                    ));
                }
                // The set in force after the last change below h signs block h.
                let set = self
                    .sets
                    .iter()
                    .rev()
                    .find(|(at, _)| *at < h)
                    .map(|(_, set)| set)
                    .unwrap_or_else(|| unreachable!("the genesis set is at height 0"));
                certificate
                    .verify(
                        suite,
                        &self.genesis.config.chain_id,
                        &genesis_hash,
                        &block.header,
                        set,
                    )
                    .map_err(|e| refuse(e.to_string()))?;
                if h == to && block.header != *last {
                    return Err(refuse("not the header the trust package certifies".into()));
                }
                verified.push((block, certificate));
                next += 1;
            }
            self.store.restore_blocks(suite, &verified)?;
        }
        Ok(((to - from + 1) as usize, read))
    }
}

/// [`state_sync`] into data directory `dir`, which must not hold anything yet: the store is
/// written in `<dir>.state-sync` (any left by an interrupted sync is removed first) and renamed
/// to `dir` once the sync finished; on failure it is removed.
pub fn sync_data_dir(
    dir: &Path,
    genesis: &Genesis,
    cache_bytes: u64,
    source: &mut dyn SnapshotSource,
    progress: &mut dyn FnMut(&Progress),
) -> Result<SyncReport, StateSyncError> {
    crate::data_dir::fill_beside(dir, ".state-sync", |staging| {
        let kv = lichen_storage::FjallKv::open(staging, cache_bytes)?;
        let store = ChainStore::new(kv);
        state_sync(&store, genesis, source, progress)
    })
    .map_err(|e| match e {
        crate::data_dir::Fill::NotEmpty => StateSyncError::DataDir {
            path: dir.to_path_buf(),
            reason: "it is not empty: a state sync starts a node's data afresh; move it aside or choose another"
                .into(),
        },
        crate::data_dir::Fill::Io { path, error } => StateSyncError::DataDir {
            path,
            reason: error.to_string(),
        },
        crate::data_dir::Fill::Build(e) => e,
    })
}
