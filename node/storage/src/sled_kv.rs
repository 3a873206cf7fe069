//! The on-disk backend: one sled tree; a [`WriteBatch`] is one `sled::Batch` (atomic across
//! crashes), and [`KvStore::flush`] waits for sled's log to reach the disk (sled alone syncs only
//! every 500 ms).

use std::path::Path;

use crate::error::StoreError;
use crate::kv::{Entry, KvStore, WriteBatch};

/// sled's page cache, in bytes.
pub const SLED_CACHE_BYTES: u64 = 256 * 1024 * 1024;
/// Attempts to take a directory lock that a just-dropped database still holds.
const LOCK_RETRIES: u32 = 20;
const LOCK_RETRY_MS: u64 = 50;

#[derive(Debug, Clone)]
pub struct SledKv {
    db: sled::Db,
}

impl SledKv {
    /// Opens (or creates) the database in `dir`. sled locks the directory: a second node on the
    /// same data directory fails here.
    pub fn open(dir: &Path) -> Result<Self, StoreError> {
        // sled releases its directory lock from a background thread when a database is dropped:
        // reopening at once in the same process (a restart in tests, `lichen dev`) can see the
        // lock for about a millisecond. Retry briefly; a lock held by another process persists.
        let mut attempts = 0;
        loop {
            match sled::Config::new()
                .path(dir)
                .cache_capacity(SLED_CACHE_BYTES)
                .open()
            {
                Ok(db) => return Ok(SledKv { db }),
                Err(e) if attempts < LOCK_RETRIES && e.to_string().contains("lock") => {
                    attempts += 1;
                    std::thread::sleep(std::time::Duration::from_millis(LOCK_RETRY_MS));
                }
                Err(e) => {
                    return Err(StoreError::backend(
                        "open",
                        format!(
                            "{}: {e} (is another node using this data directory?)",
                            dir.display()
                        ),
                    ));
                }
            }
        }
    }

    /// Bytes on disk, for status reports.
    pub fn size_on_disk(&self) -> u64 {
        self.db.size_on_disk().unwrap_or(0)
    }
}

impl KvStore for SledKv {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        self.db
            .get(key)
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
        let range = self.db.range(start..end);
        let pick = |r: sled::Result<(sled::IVec, sled::IVec)>| {
            r.map(|(k, v)| (k.to_vec(), v.to_vec()))
                .map_err(|e| StoreError::backend("scan", e))
        };
        if reverse {
            range.rev().take(limit).map(pick).collect()
        } else {
            range.take(limit).map(pick).collect()
        }
    }

    fn apply(&self, batch: WriteBatch) -> Result<(), StoreError> {
        let mut b = sled::Batch::default();
        for (k, v) in batch.ops {
            match v {
                Some(v) => b.insert(k, v),
                None => b.remove(k),
            }
        }
        self.db
            .apply_batch(b)
            .map_err(|e| StoreError::backend("apply batch", e))
    }

    fn flush(&self) -> Result<(), StoreError> {
        self.db
            .flush()
            .map(|_| ())
            .map_err(|e| StoreError::backend("flush", e))
    }
}
