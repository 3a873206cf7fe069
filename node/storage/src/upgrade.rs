//! Bringing a store written by an earlier version to this version's layout, when a node opens
//! it: what the layout no longer holds is deleted, what it holds differently is rewritten.

use std::collections::BTreeMap;
use std::collections::btree_map::Entry as MapEntry;

use crate::chain::{ChainStore, height_key, key, prefix_end, read_u32, read_u64};
use crate::error::StoreError;
use crate::kv::{KvStore, WriteBatch};
use crate::layout::{self, AFTER_HEIGHT, PREFIX_BYTES};

impl<K: KvStore> ChainStore<K> {
    /// Keys of an earlier version's layout read per batch when a store is upgraded, at most.
    pub const LEGACY_KEYS_PER_BATCH_MAX: usize = 100_000;

    /// The layout the store is written in: its [`layout::META_LAYOUT`] mark, or 1 without one
    /// (stores written before the mark).
    pub fn layout(&self) -> Result<u32, StoreError> {
        match self.kv().get(&key(layout::META, &[layout::META_LAYOUT]))? {
            Some(bytes) => read_u32("layout", &bytes),
            None => Ok(1),
        }
    }

    /// Brings a store written by an earlier version to this one's layout: deletes the second
    /// replay-window index this version no longer keeps ([`layout::LEGACY_PREFIXES`]) and
    /// regroups stale-node index entries written one per node (`s` ‖ version ‖ node key) into
    /// one list per version, [`Self::LEGACY_KEYS_PER_BATCH_MAX`] keys a batch, then records the
    /// layout ([`layout::META_LAYOUT`]). Returns how many keys it deleted or rewrote; a store
    /// already in this layout is left alone, one in a later layout refused. Run when a node
    /// opens its store; an interrupted run is run again at the next open.
    pub fn upgrade_legacy_keys(&self) -> Result<usize, StoreError> {
        let found = self.layout()?;
        if found > layout::LAYOUT_VERSION {
            return Err(StoreError::NewerLayout {
                found,
                supported: layout::LAYOUT_VERSION,
            });
        }
        if found == layout::LAYOUT_VERSION {
            return Ok(0);
        }
        let mut upgraded = 0;
        for prefix in layout::LEGACY_PREFIXES {
            let start = [prefix];
            loop {
                let rows = self.kv().scan(
                    &start,
                    &prefix_end(&start),
                    Self::LEGACY_KEYS_PER_BATCH_MAX,
                    false,
                )?;
                if rows.is_empty() {
                    break;
                }
                let mut batch = WriteBatch::new();
                upgraded += rows.len();
                for (k, _) in rows {
                    batch.delete(k);
                }
                self.kv().apply(batch)?;
            }
        }
        upgraded += self.regroup_stale_entries()?;
        let mut batch = WriteBatch::new();
        batch.put(
            key(layout::META, &[layout::META_LAYOUT]),
            layout::LAYOUT_VERSION.to_be_bytes(),
        );
        self.kv().apply(batch)?;
        self.kv().flush()?;
        Ok(upgraded)
    }

    fn regroup_stale_entries(&self) -> Result<usize, StoreError> {
        let start = [layout::STALE];
        let end = prefix_end(&start);
        let mut from = start.to_vec();
        let mut regrouped = 0;
        loop {
            let rows = self
                .kv()
                .scan(&from, &end, Self::LEGACY_KEYS_PER_BATCH_MAX, false)?;
            let Some((last, _)) = rows.last() else {
                return Ok(regrouped);
            };
            // The next scan starts just after the last key read.
            from = last.clone();
            from.push(0);
            let mut lists: BTreeMap<u64, Vec<u8>> = BTreeMap::new();
            let mut batch = WriteBatch::new();
            for (k, _) in rows {
                if k.len() <= AFTER_HEIGHT {
                    continue;
                }
                let version = read_u64("stale-node index", &k[PREFIX_BYTES..])?;
                let list = match lists.entry(version) {
                    MapEntry::Occupied(e) => e.into_mut(),
                    // A list written by an earlier batch of this loop, or none yet.
                    MapEntry::Vacant(e) => e.insert(
                        self.kv()
                            .get(&height_key(layout::STALE, version))?
                            .unwrap_or_default(),
                    ),
                };
                list.extend_from_slice(&k[AFTER_HEIGHT..]);
                batch.delete(k);
                regrouped += 1;
            }
            for (version, list) in lists {
                batch.put(height_key(layout::STALE, version), list);
            }
            self.kv().apply(batch)?;
        }
    }
}
