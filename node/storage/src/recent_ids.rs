//! A filter in memory of the transaction ids a store committed since it opened (and those of
//! the stored blocks a warming noted), in front of the transaction index on disk. Nearly every
//! id a validator asks about (admitting a client's or a peer's transaction, building and
//! executing a block: the replay check) is new, and the index answers "no" only after a
//! key-value read, ~2.5 us, ~4% of a loaded validator's CPU (BENCHMARKS.md, "Committed ids in
//! memory"). The filter answers "certainly not" for most of them; a "maybe" goes to the index,
//! which has the last word. So the filter never decides alone that a transaction was committed,
//! and its errors (a shared prefix) cost a read, not a wrong answer.
//!
//! It starts empty when the store opens (or is restored): a question about a transaction that
//! could have been committed before then goes to the index. A block at height `h` holds a
//! transaction only if its expiry is in `h ..= h + tx_expiry_blocks_max`, so one expiring at `e`
//! was committed at `e - tx_expiry_blocks_max` or later: above the height the filter covers
//! from, it is here if it was committed at all. Warming (`ChainStore::warm_recent_ids`, run by
//! the node after opening) notes the stored blocks of the last window and only then lowers that
//! height, so a restarted node answers from memory at once.

use std::collections::HashMap;

use foldhash::fast::RandomState;

use lichen_contracts::crypto::Hash32;

/// Entries (id prefixes, about one per id) the filter holds at most (~12 bytes each: ~60 MB),
/// beyond one block's. At sustained full load the window of a default chain holds up to
/// `tx_expiry_blocks_max * block_txs_max` = 5,000,000 ids; past this the filter starts again,
/// empty, and sends questions to the index until it covers the window.
pub const RECENT_IDS_MAX: usize = 5_000_000;

/// Blocks between two sweeps of ids whose transactions expired (a sweep reads the whole map).
pub const RECENT_IDS_SWEEP_BLOCKS: u64 = 64;

#[derive(Debug)]
pub(crate) struct RecentIds {
    /// Every transaction committed above this height is here (`None`: the filter holds nothing
    /// yet, as after opening or restoring, until the next commit).
    covered_above: Option<u64>,
    /// An id's first four bytes -> the latest expiry among committed ids that begin with them.
    /// Only looked up, never iterated into a decision (a sweep drops entries by their value).
    /// Hashed with a per-process seed: ids are chosen by whoever signs a transaction.
    latest_expiry: HashMap<u32, u64, RandomState>,
    /// The next commit height that sweeps.
    sweep_at: u64,
    /// [`RECENT_IDS_MAX`] (smaller in tests).
    entries_max: usize,
    /// Counts the times the filter started again (a reset, an overflow): a warming begun
    /// before one of them must not lower `covered_above` after it.
    generation: u64,
}

/// A warming in progress: the filter's generation when it began and the height it covered
/// above then (the blocks at and below it are the ones to note).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Warming {
    generation: u64,
    pub covered_above: u64,
}

impl Default for RecentIds {
    fn default() -> Self {
        RecentIds {
            covered_above: None,
            latest_expiry: HashMap::default(),
            sweep_at: 0,
            entries_max: RECENT_IDS_MAX,
            generation: 0,
        }
    }
}

fn prefix(id: &Hash32) -> u32 {
    let b = id.as_bytes();
    u32::from_be_bytes([b[0], b[1], b[2], b[3]])
}

impl RecentIds {
    /// False only if transaction `id`, expiring at `expires_at_height`, was certainly not
    /// committed since the filter started (`expiry_blocks_max`: the chain's
    /// `tx_expiry_blocks_max`); true if the index must be asked.
    pub fn may_contain(&self, id: &Hash32, expires_at_height: u64, expiry_blocks_max: u64) -> bool {
        let Some(start) = self.covered_above else {
            return true;
        };
        // The earliest height that may hold it (block 0 holds no transaction).
        let earliest = expires_at_height.saturating_sub(expiry_blocks_max).max(1);
        if earliest <= start {
            return true;
        }
        // An id committed here with this prefix has an expiry at most the latest noted; the
        // transaction asked about, if it is one of them, has its own expiry.
        self.latest_expiry
            .get(&prefix(id))
            .is_some_and(|latest| *latest >= expires_at_height)
    }

    /// Notes the transactions of block `height` (the next after the tip), each with its expiry.
    pub fn note_commit(&mut self, height: u64, txs: impl IntoIterator<Item = (Hash32, u64)>) {
        let start = *self.covered_above.get_or_insert(height.saturating_sub(1));
        assert!(height > start, "a commit below the filter's start");
        for (id, expires_at_height) in txs {
            let latest = self.latest_expiry.entry(prefix(&id)).or_insert(0);
            *latest = (*latest).max(expires_at_height);
        }
        if height >= self.sweep_at {
            // Once block `height` is in, a transaction expiring at or below it is never
            // included again, and the ledger refuses it as expired before it asks.
            self.latest_expiry.retain(|_, latest| *latest > height);
            self.sweep_at = height + RECENT_IDS_SWEEP_BLOCKS;
        }
        if self.latest_expiry.len() > self.entries_max {
            // Only commits above this one are here from now on: a question about anything
            // that could be older goes to the index.
            self.latest_expiry = HashMap::default();
            self.covered_above = Some(height);
            self.generation += 1;
        }
    }

    /// Forgets everything: the store's blocks were written another way (restored).
    pub fn reset(&mut self) {
        *self = RecentIds {
            entries_max: self.entries_max,
            generation: self.generation + 1,
            ..RecentIds::default()
        };
    }

    /// The height above which every committed transaction is here, if any.
    pub fn covered_above(&self) -> Option<u64> {
        self.covered_above
    }

    /// Begins a warming with `tip`, the stored tip read under the same lock as this call: a
    /// filter that has noted no commit yet covers above it from now on (a commit above the tip
    /// notes its block here, as always).
    pub fn begin_warming(&mut self, tip: u64) -> Warming {
        Warming {
            generation: self.generation,
            covered_above: *self.covered_above.get_or_insert(tip),
        }
    }

    /// Notes the transactions of a stored block at or below `warming.covered_above`. False (and
    /// nothing noted) if the filter started again since the warming began, or if they would take
    /// it over its maximum: the warming stops there.
    pub fn note_warming(&mut self, warming: Warming, txs: &[(Hash32, u64)]) -> bool {
        if warming.generation != self.generation
            || self.latest_expiry.len() + txs.len() > self.entries_max
        {
            return false;
        }
        for (id, expires_at_height) in txs {
            let latest = self.latest_expiry.entry(prefix(id)).or_insert(0);
            *latest = (*latest).max(*expires_at_height);
        }
        true
    }

    /// Ends a warming that noted every block in `covered_above + 1 ..= warming.covered_above`:
    /// the filter covers above `covered_above` from now on. False (nothing changed) if the filter
    /// started again since the warming began.
    pub fn finish_warming(&mut self, warming: Warming, covered_above: u64) -> bool {
        if warming.generation != self.generation {
            return false;
        }
        assert!(
            covered_above <= warming.covered_above,
            "a warming lowers the filter's start, never raises it"
        );
        self.covered_above = Some(covered_above);
        true
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.latest_expiry.len()
    }

    #[cfg(test)]
    fn with_entries_max(entries_max: usize) -> Self {
        RecentIds {
            entries_max,
            ..RecentIds::default()
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;
    use proptest::prelude::*;

    const W: u64 = 100;

    fn id(n: u64) -> Hash32 {
        let mut bytes = [0u8; 32];
        // Distinct prefixes for distinct small `n`.
        bytes[..8].copy_from_slice(&n.wrapping_mul(0x9e37_79b9_7f4a_7c15).to_be_bytes());
        bytes[8..16].copy_from_slice(&n.to_be_bytes());
        Hash32(bytes)
    }

    #[test]
    fn empty_filter_sends_everything_to_the_index() {
        let filter = RecentIds::default();
        assert!(filter.may_contain(&id(1), 50, W));
    }

    #[test]
    fn a_new_chain_is_covered_from_its_first_block() {
        let mut filter = RecentIds::default();
        filter.note_commit(1, [(id(1), 20)]);
        assert!(filter.may_contain(&id(1), 20, W));
        assert!(!filter.may_contain(&id(2), 20, W), "never committed");
    }

    #[test]
    fn a_reopened_store_asks_the_index_about_what_it_may_have_committed_before() {
        let mut filter = RecentIds::default();
        // Opened at tip 500: its first commit is 501.
        filter.note_commit(501, [(id(1), 600)]);
        // Expiring at 600: committable from 500, which is before the filter: the index.
        assert!(filter.may_contain(&id(9), 600, W));
        // Expiring at 601: committable from 501 only: the filter knows.
        assert!(!filter.may_contain(&id(9), 601, W));
        assert!(filter.may_contain(&id(1), 600, W));
    }

    #[test]
    fn a_shared_prefix_with_an_earlier_expiry_is_not_a_match() {
        let mut filter = RecentIds::default();
        let a = Hash32([7; 32]);
        let mut b_bytes = [7; 32];
        b_bytes[31] = 8;
        let b = Hash32(b_bytes);
        filter.note_commit(1, [(a, 30)]);
        assert!(
            filter.may_contain(&b, 30, W),
            "same prefix, expiry not later: ask"
        );
        assert!(!filter.may_contain(&b, 31, W), "a later expiry cannot be a");
    }

    #[test]
    fn sweeps_forget_expired_ids_only() {
        let mut filter = RecentIds::default();
        filter.note_commit(1, [(id(1), 10), (id(2), 80)]);
        assert_eq!(filter.len(), 2);
        for h in 2..=RECENT_IDS_SWEEP_BLOCKS + 1 {
            filter.note_commit(h, []);
        }
        assert_eq!(filter.len(), 1, "id 1 expired at 10 and was swept");
        assert!(filter.may_contain(&id(2), 80, W));
    }

    #[test]
    fn past_its_maximum_it_starts_again_and_sends_older_ids_to_the_index() {
        let mut filter = RecentIds::with_entries_max(3);
        filter.note_commit(1, [(id(1), 50), (id(2), 50)]);
        assert!(!filter.may_contain(&id(9), 50, W), "covered");
        filter.note_commit(2, [(id(3), 60), (id(4), 60)]);
        assert_eq!(filter.len(), 0, "over the maximum: emptied");
        // Committed before the restart of the filter: the index answers.
        for n in 1..=4 {
            assert!(filter.may_contain(&id(n), 50 + 10 * u64::from(n > 2), W));
        }
        assert!(
            filter.may_contain(&id(9), 60, W),
            "could be from block 2 or before"
        );
        // Blocks after it are covered again once the window has passed block 2.
        filter.note_commit(3, [(id(5), 150)]);
        assert!(filter.may_contain(&id(5), 150, W));
        assert!(
            !filter.may_contain(&id(9), 150, W),
            "150 - W = 50 > 2: only blocks after 2"
        );
    }

    #[test]
    fn reset_forgets_coverage() {
        let mut filter = RecentIds::default();
        filter.note_commit(1, [(id(1), 10)]);
        filter.reset();
        assert!(filter.may_contain(&id(2), 10, W));
    }

    #[test]
    fn warming_notes_the_stored_window_then_covers_it() {
        // Opened at tip 10 (blocks 1..=10 stored, none noted); the window is W blocks.
        let mut filter = RecentIds::default();
        let warming = filter.begin_warming(10);
        assert_eq!(warming.covered_above, 10);
        // Block 11 commits while the warming runs.
        filter.note_commit(11, [(id(11), 61)]);
        assert!(
            filter.may_contain(&id(9), 60, W),
            "not warmed yet: the index"
        );
        for h in 1..=10 {
            assert!(filter.note_warming(warming, &[(id(h), h + 50)]));
        }
        assert!(filter.may_contain(&id(9), 60, W), "not finished: the index");
        assert!(filter.finish_warming(warming, 0));
        assert_eq!(filter.covered_above(), Some(0));
        assert!(!filter.may_contain(&id(99), 60, W), "never committed");
        for h in 1..=11 {
            assert!(filter.may_contain(&id(h), h + 50, W));
        }
    }

    #[test]
    fn a_warming_across_a_restart_of_the_filter_changes_nothing() {
        let mut filter = RecentIds::with_entries_max(4);
        let warming = filter.begin_warming(10);
        assert!(filter.note_warming(warming, &[(id(1), 50)]));
        filter.reset();
        assert!(!filter.note_warming(warming, &[(id(2), 50)]));
        assert!(!filter.finish_warming(warming, 0));
        assert_eq!(filter.covered_above(), None);
        assert!(filter.may_contain(&id(9), 50, W));
        // Over the maximum: the warming stops, the coverage stays where the commits put it.
        let warming = filter.begin_warming(20);
        let five: Vec<(Hash32, u64)> = (1..=5).map(|n| (id(n), 60)).collect();
        assert!(!filter.note_warming(warming, &five));
        assert_eq!(filter.len(), 0);
        assert_eq!(filter.covered_above(), Some(20));
    }

    proptest! {
        // A store with blocks committed before it opened; after opening, commits, a warming
        // (begun at the tip of that moment, one stored block a step, then finished) and restarts
        // of the filter interleave in any order: a committed id that has not expired is never
        // answered "certainly not", and a warming that ran to its end covers its window.
        #[test]
        fn a_warming_never_denies_a_committed_unexpired_id(
            entries_max in 1usize..80,
            blocks in proptest::collection::vec(
                proptest::collection::vec((0u64..64, 0u64..=W), 0..6), 2..60),
            opened_at in 1usize..50,
            steps in proptest::collection::vec(0u8..10, 0..120),
        ) {
            const W: u64 = 12;
            let opened_at = opened_at.min(blocks.len() - 1);
            // Block h (1-based) holds these (id, expiry).
            let stored: Vec<Vec<(Hash32, u64)>> = blocks
                .iter()
                .enumerate()
                .map(|(i, txs)| {
                    let h = i as u64 + 1;
                    txs.iter().map(|(n, ahead)| (Hash32([*n as u8; 32]), h + ahead % (W + 1))).collect()
                })
                .collect();
            let mut filter = RecentIds::with_entries_max(entries_max);
            let mut height = opened_at as u64;
            // (warming, the next block to note, the lowest block to note)
            let mut warming: Option<(Warming, u64, u64)> = None;
            for step in steps {
                match step {
                    0..=4 if (height as usize) < stored.len() => {
                        height += 1;
                        filter.note_commit(height, stored[height as usize - 1].clone());
                    }
                    5..=8 => match warming {
                        None => {
                            let w = filter.begin_warming(height);
                            let low = w.covered_above.saturating_sub(W - 1).max(1);
                            warming = Some((w, w.covered_above, low));
                        }
                        Some((w, next, low)) if next >= low && next > 0 => {
                            if filter.note_warming(w, &stored[next as usize - 1]) {
                                warming = Some((w, next - 1, low));
                            } else {
                                warming = None;
                            }
                        }
                        Some((w, _, low)) => {
                            if filter.finish_warming(w, low - 1) {
                                prop_assert_eq!(filter.covered_above(), Some(low - 1));
                            }
                            warming = None;
                        }
                    },
                    9 => filter.reset(),
                    _ => {}
                }
                for (h, txs) in stored.iter().enumerate().take(height as usize) {
                    for (id, expires) in txs {
                        if *expires > height {
                            prop_assert!(
                                filter.may_contain(id, *expires, W),
                                "{id} of block {} expiring at {expires}, at height {height}", h + 1
                            );
                        }
                    }
                }
            }
        }
    }

    proptest! {
        // Whatever is committed (ids from a small space, so prefixes collide; a small maximum,
        // so the filter starts again), an id that was committed and has not expired is never
        // answered "certainly not".
        #[test]
        fn never_denies_a_committed_unexpired_id(
            start in 0u64..5,
            entries_max in 1usize..80,
            blocks in proptest::collection::vec(
                proptest::collection::vec((0u64..64, 0u64..=W), 0..8), 1..40),
            asks in proptest::collection::vec((0u64..64, 0u64..=W), 1..32),
        ) {
            let mut filter = RecentIds::with_entries_max(entries_max);
            let mut committed: Vec<(Hash32, u64, u64)> = Vec::new();
            let mut height = start;
            for txs in &blocks {
                height += 1;
                let txs: Vec<(Hash32, u64)> =
                    txs.iter().map(|(n, ahead)| (Hash32([*n as u8; 32]), height + ahead)).collect();
                committed.extend(txs.iter().map(|(i, e)| (*i, *e, height)));
                filter.note_commit(height, txs);
            }
            for (id, expires, _) in &committed {
                if *expires > height {
                    prop_assert!(filter.may_contain(id, *expires, W));
                }
            }
            for (n, ahead) in asks {
                let asked = Hash32([n as u8; 32]);
                let expires = height + 1 + ahead;
                let was = committed.iter().any(|(i, e, _)| *i == asked && *e == expires);
                if was {
                    prop_assert!(filter.may_contain(&asked, expires, W));
                }
            }
        }
    }
}
