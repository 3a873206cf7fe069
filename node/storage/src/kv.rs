//! The ordered key-value interface both backends implement.

use std::collections::BTreeMap;
use std::ops::Bound;
use std::sync::RwLock;

use crate::error::StoreError;

/// A key and its value, as scans return them.
pub type Entry = (Vec<u8>, Vec<u8>);

/// A set of puts and deletes applied all at once or not at all. Later operations on the same
/// key win.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct WriteBatch {
    pub(crate) ops: BTreeMap<Vec<u8>, Option<Vec<u8>>>,
}

impl WriteBatch {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn put(&mut self, key: impl Into<Vec<u8>>, value: impl Into<Vec<u8>>) {
        self.ops.insert(key.into(), Some(value.into()));
    }

    pub fn delete(&mut self, key: impl Into<Vec<u8>>) {
        self.ops.insert(key.into(), None);
    }

    pub fn len(&self) -> usize {
        self.ops.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ops.is_empty()
    }
}

/// An ordered byte map with atomic batches. Keys sort bytewise.
pub trait KvStore: Send + Sync {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError>;

    /// Entries with `start <= key < end` in key order (reverse order if `reverse`), at most
    /// `limit` of them.
    fn scan(
        &self,
        start: &[u8],
        end: &[u8],
        limit: usize,
        reverse: bool,
    ) -> Result<Vec<Entry>, StoreError>;

    /// Applies every operation of `batch` atomically: after a crash either all are visible or
    /// none.
    fn apply(&self, batch: WriteBatch) -> Result<(), StoreError>;

    /// Makes everything applied so far durable.
    fn flush(&self) -> Result<(), StoreError>;

    /// What the storage engine holds in memory and has still to do, for `GET /metrics`; `None`
    /// for a backend without an engine (memory).
    fn engine_stats(&self) -> Option<EngineStats> {
        None
    }
}

/// A log-structured engine's working state: what it holds in memory besides the data, and the
/// background work behind the writes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct EngineStats {
    /// Bytes written but not yet flushed to tables (the active and sealed memtables).
    pub memtable_bytes: u64,
    /// Bytes in the block cache.
    pub cache_bytes: u64,
    /// Tables on disk, and those of them in level 0 (flushed, not yet compacted).
    pub tables: u64,
    pub level0_tables: u64,
    /// Memtable flushes waiting and compactions running.
    pub flushes_pending: u64,
    pub compactions_running: u64,
}

/// The in-memory twin: same semantics, nothing survives the process.
#[derive(Debug, Default)]
pub struct MemoryKv {
    map: RwLock<BTreeMap<Vec<u8>, Vec<u8>>>,
}

impl MemoryKv {
    pub fn new() -> Self {
        Self::default()
    }

    fn poisoned() -> StoreError {
        StoreError::Backend {
            operation: "memory lock",
            reason: "a thread panicked while writing".into(),
        }
    }
}

impl KvStore for MemoryKv {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        let map = self.map.read().map_err(|_| Self::poisoned())?;
        Ok(map.get(key).cloned())
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
        let map = self.map.read().map_err(|_| Self::poisoned())?;
        let range = map.range::<[u8], _>((Bound::Included(start), Bound::Excluded(end)));
        let pick = |(k, v): (&Vec<u8>, &Vec<u8>)| (k.clone(), v.clone());
        Ok(if reverse {
            range.rev().take(limit).map(pick).collect()
        } else {
            range.take(limit).map(pick).collect()
        })
    }

    fn apply(&self, batch: WriteBatch) -> Result<(), StoreError> {
        let mut map = self.map.write().map_err(|_| Self::poisoned())?;
        for (k, v) in batch.ops {
            match v {
                Some(v) => map.insert(k, v),
                None => map.remove(&k),
            };
        }
        Ok(())
    }

    fn flush(&self) -> Result<(), StoreError> {
        Ok(())
    }
}

/// A shared store is a store (the node hands one backend to the runtime and the HTTP API).
impl<T: KvStore + ?Sized> KvStore for std::sync::Arc<T> {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        (**self).get(key)
    }

    fn scan(
        &self,
        start: &[u8],
        end: &[u8],
        limit: usize,
        reverse: bool,
    ) -> Result<Vec<Entry>, StoreError> {
        (**self).scan(start, end, limit, reverse)
    }

    fn apply(&self, batch: WriteBatch) -> Result<(), StoreError> {
        (**self).apply(batch)
    }

    fn flush(&self) -> Result<(), StoreError> {
        (**self).flush()
    }

    fn engine_stats(&self) -> Option<EngineStats> {
        (**self).engine_stats()
    }
}
