//! The replay rule, written once for the ledger, the node and its store.
//!
//! A transaction names the last height it may be included at (`expires_at_height`). A block at
//! height `h` accepts it when its expiry lies in [`expiry_window`]`(h, tx_expiry_blocks_max)`,
//! i.e. `h ..= h + tx_expiry_blocks_max`, and its id is not in the [`ReplayWindow`]. Once block
//! `h` is committed, an executed id is remembered while a later block could still include it
//! ([`remembered_after`]: its expiry is above `h`); ids expiring below
//! [`first_remembered_expiry`]`(h)` are forgotten.

use alloc::collections::{BTreeMap, BTreeSet};
use core::ops::RangeInclusive;

use crate::crypto::Hash32;
use crate::error::StorageError;

/// The expiry heights a transaction in block `height` may carry: not below `height` (it has not
/// expired) and at most `expiry_blocks_max` ahead (saturating at `u64::MAX`).
pub fn expiry_window(height: u64, expiry_blocks_max: u64) -> RangeInclusive<u64> {
    height..=height.saturating_add(expiry_blocks_max)
}

/// Whether the id of a transaction expiring at `expires_at_height` must be remembered once block
/// `height` is committed: a later block can include it only while its expiry is above `height`.
pub fn remembered_after(height: u64, expires_at_height: u64) -> bool {
    expires_at_height > height
}

/// The lowest expiry height still remembered once block `height` is committed; ids expiring
/// below it can never be included again.
pub fn first_remembered_expiry(height: u64) -> u64 {
    height + 1
}

/// The replay check's one question, asked of wherever a node keeps its window (a
/// [`ReplayWindow`] in memory, or the node's store): was transaction `id`, which expires at
/// `expires_at_height`, executed by a committed block that a later block could still be refused
/// for? An answer must be yes for every id of the window and may be yes for older ones: the
/// ledger asks only about a transaction whose expiry has not passed, which no block before the
/// window can hold. The expiry says where to look: a block at height `h` holds a transaction
/// only if its expiry is in [`expiry_window`]`(h, ..)`, so one expiring at `e` was committed at
/// `e - tx_expiry_blocks_max` or later. (The node's store answers from its transaction index on
/// disk, after a filter in memory of the ids it committed lately: at sustained full load the
/// window alone holds `tx_expiry_blocks_max * block_txs_max` ids, five million by default.)
pub trait ReplayLookup {
    fn contains(&self, id: &Hash32, expires_at_height: u64) -> Result<bool, StorageError>;
}

impl ReplayLookup for ReplayWindow {
    fn contains(&self, id: &Hash32, _expires_at_height: u64) -> Result<bool, StorageError> {
        Ok(ReplayWindow::contains(self, id))
    }
}

/// Ids of transactions seen recently, each kept until its expiry height passes. Together with the
/// rule that a transaction's expiry is at most `tx_expiry_blocks_max` ahead, this refuses every
/// replay while holding at most `tx_expiry_blocks_max * block_txs_max` ids.
///
/// The window is not part of the state root: every node rebuilds it from the last
/// `tx_expiry_blocks_max` blocks, which it has.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ReplayWindow {
    by_expiry: BTreeMap<u64, BTreeSet<Hash32>>,
    ids: BTreeSet<Hash32>,
}

impl ReplayWindow {
    pub fn contains(&self, id: &Hash32) -> bool {
        self.ids.contains(id)
    }

    pub fn insert(&mut self, id: Hash32, expires_at_height: u64) {
        if self.ids.insert(id) {
            self.by_expiry
                .entry(expires_at_height)
                .or_default()
                .insert(id);
        }
    }

    /// Forgets ids whose expiry height is below `height`: they can no longer be included anyway.
    pub fn prune_below(&mut self, height: u64) {
        let keep = self.by_expiry.split_off(&height);
        for ids in core::mem::replace(&mut self.by_expiry, keep).into_values() {
            for id in ids {
                self.ids.remove(&id);
            }
        }
    }

    /// Block `height` was committed: adds the ids it executed, each with its expiry height, and
    /// forgets every id no later block can include (those expiring below
    /// [`first_remembered_expiry`]`(height)`, including any just added).
    pub fn commit_block(&mut self, height: u64, executed: impl IntoIterator<Item = (Hash32, u64)>) {
        for (id, expires_at_height) in executed {
            self.insert(id, expires_at_height);
        }
        self.prune_below(first_remembered_expiry(height));
    }

    /// The ids remembered, in order.
    pub fn ids(&self) -> impl Iterator<Item = &Hash32> {
        self.ids.iter()
    }

    /// Each remembered id with the expiry it was remembered under.
    pub fn entries(&self) -> impl Iterator<Item = (&Hash32, u64)> {
        self.by_expiry
            .iter()
            .flat_map(|(expiry, ids)| ids.iter().map(|id| (id, *expiry)))
    }

    pub fn len(&self) -> usize {
        self.ids.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(n: u8) -> Hash32 {
        Hash32([n; 32])
    }

    #[test]
    fn window_bounds() {
        assert_eq!(expiry_window(10, 5), 10..=15);
        assert_eq!(expiry_window(10, 0), 10..=10);
        assert_eq!(expiry_window(u64::MAX - 1, 5), u64::MAX - 1..=u64::MAX);
    }

    #[test]
    fn an_id_is_remembered_until_its_expiry_height() {
        assert!(remembered_after(10, 11));
        assert!(!remembered_after(10, 10));
        assert!(!remembered_after(10, 9));
        assert_eq!(first_remembered_expiry(10), 11);
        for expiry in 8..14 {
            assert_eq!(
                remembered_after(10, expiry),
                expiry >= first_remembered_expiry(10)
            );
        }
    }

    #[test]
    fn commit_block_keeps_exactly_the_remembered_ids() {
        let mut window = ReplayWindow::default();
        window.commit_block(5, [(id(1), 5), (id(2), 6), (id(3), 9)]);
        assert!(!window.contains(&id(1)), "expires at the committed height");
        assert!(window.contains(&id(2)) && window.contains(&id(3)));
        window.commit_block(6, [(id(4), 7)]);
        assert!(!window.contains(&id(2)));
        assert_eq!(window.len(), 2);
        window.commit_block(9, []);
        assert!(window.is_empty());
    }
}
