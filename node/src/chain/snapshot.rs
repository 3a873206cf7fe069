//! Serving state sync: the leaves of a checkpoint's state in chunks, for a node joining from a
//! certified checkpoint (`crate::state_sync`), with the checkpoint's state version held back
//! from pruning while joiners read it.
//!
//! A pin is what a chunk request leaves behind: the version it read stays while requests for it
//! keep coming (`SNAPSHOT_PIN_IDLE_MS` apart at most) and for `SNAPSHOT_PIN_AGE_MAX_MS` at most
//! after the first, and at most `SNAPSHOT_PINS_MAX` versions are pinned at once (a request for
//! another is served while its version lasts, unpinned). Anyone may read chunks, so this is the
//! whole cost one client can impose on pruning: four versions held an hour.

use std::collections::BTreeMap;
use std::sync::Mutex;

use lichen_contracts::codec::Encode;
use lichen_contracts::smt::{LEVELS_DEPTH_MAX, SparseMerkleTree};

use super::{Chain, lock_poisoned};
use crate::error::NodeError;
use crate::state_sync::{CHUNK_ANSWER_BYTES_SOFT_MAX, CHUNKS_PER_ANSWER_MAX, SnapshotChunks};

/// Versions pinned for joiners at once, at most.
pub const SNAPSHOT_PINS_MAX: usize = 4;
/// A pin lapses this long after the last request for its version, in milliseconds.
pub const SNAPSHOT_PIN_IDLE_MS: u64 = 60_000;
/// A pin lapses this long after the first request for its version, in milliseconds, however
/// often it is asked for.
pub const SNAPSHOT_PIN_AGE_MAX_MS: u64 = 3_600_000;

#[derive(Clone, Copy, Debug)]
struct Pin {
    first_ms: u64,
    last_ms: u64,
}

impl Pin {
    fn alive(&self, now_ms: u64) -> bool {
        now_ms.saturating_sub(self.last_ms) < SNAPSHOT_PIN_IDLE_MS
            && now_ms.saturating_sub(self.first_ms) < SNAPSHOT_PIN_AGE_MAX_MS
    }
}

/// The pinned versions.
#[derive(Debug, Default)]
pub(super) struct Pins(Mutex<BTreeMap<u64, Pin>>);

impl Pins {
    /// Pins `version` (or renews its pin) if there is room.
    fn touch(&self, version: u64, now_ms: u64) -> Result<(), NodeError> {
        let mut pins = self.0.lock().map_err(|_| lock_poisoned())?;
        pins.retain(|_, pin| pin.alive(now_ms));
        if let Some(pin) = pins.get_mut(&version) {
            pin.last_ms = now_ms;
        } else if pins.len() < SNAPSHOT_PINS_MAX {
            pins.insert(
                version,
                Pin {
                    first_ms: now_ms,
                    last_ms: now_ms,
                },
            );
        }
        Ok(())
    }

    /// The oldest version a pin still holds.
    pub(super) fn oldest(&self, now_ms: u64) -> Result<Option<u64>, NodeError> {
        let mut pins = self.0.lock().map_err(|_| lock_poisoned())?;
        pins.retain(|_, pin| pin.alive(now_ms));
        Ok(pins.keys().next().copied())
    }
}

impl Chain {
    /// Chunks `first..first + count` of the state at `height` cut at `depth` bits, encoded
    /// ([`SnapshotChunks`]): whole chunks, as many as fit the answer's soft limit (at least one).
    /// Pins the version. A height whose state was pruned is refused with the oldest kept.
    pub fn snapshot_chunks(
        &self,
        height: u64,
        depth: u8,
        first: u32,
        count: u32,
        now_ms: u64,
    ) -> Result<Vec<u8>, NodeError> {
        let bad = |reason: String| NodeError::BadRequest {
            code: "bad_chunks",
            reason,
        };
        if depth > LEVELS_DEPTH_MAX {
            return Err(bad(format!(
                "depth {depth} is deeper than the tree levels go ({LEVELS_DEPTH_MAX})"
            )));
        }
        let chunks = 1u64 << depth;
        if count == 0 || u64::from(first) + u64::from(count) > chunks {
            return Err(bad(format!(
                "chunks {first}..{} are not inside the {chunks} chunks of depth {depth}",
                u64::from(first) + u64::from(count)
            )));
        }
        let tip = self.tip()?.height;
        if height > tip {
            return Err(NodeError::NotFound {
                what: "block",
                id: height.to_string(),
            });
        }
        let oldest = self.store.pruned_below()?;
        if height < oldest {
            return Err(NodeError::Pruned { height, oldest });
        }
        self.snapshot_pins.touch(height, now_ms)?;
        let count = (count as usize).min(CHUNKS_PER_ANSWER_MAX);
        let leaves = SparseMerkleTree::new(&self.store, self.suite).chunk_leaves(
            height,
            depth,
            first as usize,
            count,
            CHUNK_ANSWER_BYTES_SOFT_MAX,
        );
        let leaves = match leaves {
            Ok(leaves) => leaves,
            // Pruned between the check and the read (no pin was free).
            Err(lichen_contracts::error::StorageError::MissingNode { .. }) => {
                let oldest = self.store.pruned_below()?;
                return Err(NodeError::Pruned { height, oldest });
            }
            Err(e) => return Err(e.into()),
        };
        Ok(SnapshotChunks {
            height,
            depth,
            first,
            chunks: leaves,
        }
        .to_bytes())
    }
}
