//! The on-disk backend: fjall, a log-structured merge tree. A [`WriteBatch`] is one fjall batch
//! (atomic across crashes: its journal entry is replayed whole or not at all), and
//! [`KvStore::flush`] fsyncs the journal.
//!
//! Why fjall and not sled (measured by `./scripts/scale.sh`, ARCHITECTURE.md): under the chain's
//! write pattern (blocks of a quarter megabyte, random-keyed indexes, state-tree nodes written
//! and pruned) sled 0.34's files held 5-7x the bytes of its keys and values and its memory grew
//! with the data written whatever its cache size; an LSM tree compacts to about the data's size,
//! compresses blocks (LZ4) and keeps a cache of the size it is given.

use std::path::Path;
use std::sync::{Arc, PoisonError, RwLock};

use fjall::{Database, Keyspace, KeyspaceCreateOptions, PersistMode};

use crate::error::StoreError;
use crate::kv::{EngineStats, Entry, KvStore, WriteBatch};

/// The block cache by default, in bytes (`[state] cache_mb`): the figures of
/// `./scripts/scale.sh` in BENCHMARKS.md are with it.
pub const CACHE_BYTES_DEFAULT: u64 = 256 * 1024 * 1024;
/// Attempts to take a directory lock that a just-dropped database still holds (its background
/// workers let go of it a moment after the last handle).
const LOCK_RETRIES: u32 = 40;
const LOCK_RETRY_MS: u64 = 50;
/// Files that only a sled store (Lichen before fjall) has in its directory.
const SLED_FILES: [&str; 2] = ["conf", "db"];
/// The one keyspace (fjall's column family) the chain store uses.
const KEYSPACE: &str = "chain";
/// Put before every key: fjall refuses the empty key, which the [`KvStore`] contract allows.
const KEY_PREFIX: u8 = 0;

fn stored(key: &[u8]) -> Vec<u8> {
    let mut k = Vec::with_capacity(1 + key.len());
    k.push(KEY_PREFIX);
    k.extend_from_slice(key);
    k
}

#[derive(Clone)]
pub struct FjallKv {
    db: Database,
    chain: Keyspace,
    /// Held for writing while a batch is applied, for reading by every read, so that no reader
    /// sees part of a batch. fjall's own snapshots do not promise that here: a memtable rotation
    /// or compaction during a batch moves the visible sequence number past the batch before all
    /// of it is in (lsm-tree 3.1's `upgrade_version_with_seqno`), and under the scale run's load
    /// admission then read a tip whose state-tree root was not there yet.
    batches: Arc<RwLock<()>>,
}

impl std::fmt::Debug for FjallKv {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FjallKv").finish_non_exhaustive()
    }
}

impl FjallKv {
    /// Opens (or creates) the database in `dir` with a block cache of `cache_bytes`. fjall locks
    /// the directory: a second node on the same data directory fails here. A directory that sled
    /// wrote is refused, not read as empty (which would start the chain again from genesis
    /// beside the old data).
    pub fn open(dir: &Path, cache_bytes: u64) -> Result<Self, StoreError> {
        if SLED_FILES.iter().all(|f| dir.join(f).is_file()) {
            return Err(StoreError::backend(
                "open",
                format!(
                    "{}: this data directory was written by sled (Lichen before its storage moved \
                     to fjall); start the node on a new directory and let it sync",
                    dir.display()
                ),
            ));
        }
        let open = |e: fjall::Error| {
            StoreError::backend(
                "open",
                format!(
                    "{}: {e} (is another node using this data directory?)",
                    dir.display()
                ),
            )
        };
        let mut attempts = 0;
        let db = loop {
            match Database::builder(dir)
                .cache_size(cache_bytes)
                // Durability is ours to ask for: `flush` fsyncs the journal after each block.
                .manual_journal_persist(true)
                .open()
            {
                Ok(db) => break db,
                Err(fjall::Error::Locked) if attempts < LOCK_RETRIES => {
                    attempts += 1;
                    std::thread::sleep(std::time::Duration::from_millis(LOCK_RETRY_MS));
                }
                Err(e) => return Err(open(e)),
            }
        };
        let chain = db
            .keyspace(KEYSPACE, KeyspaceCreateOptions::default)
            .map_err(open)?;
        Ok(FjallKv {
            db,
            chain,
            batches: Arc::new(RwLock::new(())),
        })
    }
}

impl KvStore for FjallKv {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        let _no_batch = self.batches.read().unwrap_or_else(PoisonError::into_inner);
        self.chain
            .get(stored(key))
            .map(|v| v.map(|v| v.to_vec()))
            .map_err(|e| StoreError::backend("get", e))
    }

    fn scan(
        &self,
        start: &[u8],
        end: &[u8],
        limit: usize,
        reverse: bool,
    ) -> Result<Vec<Entry>, StoreError> {
        if start >= end {
            return Ok(Vec::new());
        }
        let _no_batch = self.batches.read().unwrap_or_else(PoisonError::into_inner);
        let range = self.chain.range(stored(start)..stored(end));
        let pick = |g: fjall::Guard| {
            let (k, v) = g.into_inner().map_err(|e| StoreError::backend("scan", e))?;
            let k = k
                .get(1..)
                .ok_or_else(|| StoreError::backend("scan", "a stored key without its prefix"))?;
            Ok((k.to_vec(), v.to_vec()))
        };
        if reverse {
            range.rev().take(limit).map(pick).collect()
        } else {
            range.take(limit).map(pick).collect()
        }
    }

    fn apply(&self, batch: WriteBatch) -> Result<(), StoreError> {
        let _batch = self.batches.write().unwrap_or_else(PoisonError::into_inner);
        let mut b = self.db.batch();
        for (k, v) in batch.ops {
            match v {
                Some(v) => b.insert(&self.chain, stored(&k), v),
                None => b.remove(&self.chain, stored(&k)),
            }
        }
        b.commit()
            .map_err(|e| StoreError::backend("apply batch", e))
    }

    fn flush(&self) -> Result<(), StoreError> {
        self.db
            .persist(PersistMode::SyncAll)
            .map_err(|e| StoreError::backend("flush", e))
    }

    /// From fjall's accessors for its write buffer, cache and workers, which 3.1 marks
    /// experimental (hidden from its docs): the workspace pins the version, and an upgrade that
    /// changes them fails to build here rather than reporting something else.
    fn engine_stats(&self) -> Option<EngineStats> {
        let count = |n: usize| u64::try_from(n).unwrap_or(u64::MAX);
        Some(EngineStats {
            memtable_bytes: self.db.write_buffer_size(),
            cache_bytes: self.db.cache_size(),
            tables: count(self.chain.table_count()),
            level0_tables: count(self.chain.l0_table_count()),
            flushes_pending: count(self.db.outstanding_flushes()),
            compactions_running: count(self.db.active_compactions()),
        })
    }
}
