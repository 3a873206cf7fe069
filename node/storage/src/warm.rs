//! Warming the filter of committed ids ([`crate::recent_ids`]) from the stored blocks, so that a
//! store opened again or restored answers "certainly not" from memory at once, not only after
//! `tx_expiry_blocks_max` more blocks (until then every id a validator admits or executes costs
//! a read of the transaction index).

use std::time::{Duration, Instant};

use lichen_contracts::crypto::Hash32;

use crate::chain::ChainStore;
use crate::error::StoreError;
use crate::kv::KvStore;

/// What a warming did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Warmed {
    /// Stored blocks whose transactions were noted.
    pub blocks: u64,
    /// Transactions noted.
    pub txs: u64,
    /// The filter covers every block above this height from now on; `None` if the warming
    /// stopped early (asked to, a block of the window is not stored, or the filter started
    /// again: a restore, or more ids than it holds).
    pub covered_above: Option<u64>,
    pub took: Duration,
}

impl<K: KvStore> ChainStore<K> {
    /// Notes in the filter of committed ids the transactions of every stored block that can
    /// hold one not yet expired (the last `tx_expiry_blocks_max` up to the filter's start), then
    /// lowers its start below them. Reads, decodes and hashes each of those transactions once,
    /// on the calling thread (the node runs it in the background after opening; at a full
    /// window of a loaded chain, millions of them). Commits may go on meanwhile: the filter's
    /// answers stay right at every moment, and only become cheaper at the end. `stop` is asked
    /// before each block: true ends the warming there, with no effect on the answers.
    pub fn warm_recent_ids(&self, stop: impl Fn() -> bool) -> Result<Warmed, StoreError> {
        let started = Instant::now();
        let suite = self.suite()?;
        let window = self.expiry_blocks_max()?;
        let warming = {
            let mut recent = self.recent.write().map_err(|_| poisoned())?;
            // Under the filter's lock: a commit notes its block in the filter before its
            // batch, so no block above this tip can be committed and missed.
            recent.begin_warming(self.tip()?.height)
        };
        let top = warming.covered_above;
        let low = top.saturating_sub(window.saturating_sub(1)).max(1);
        let mut warmed = Warmed {
            blocks: 0,
            txs: 0,
            covered_above: None,
            took: Duration::ZERO,
        };
        // Newest first: the blocks most of the questions are about.
        for height in (low..=top).rev() {
            if stop() {
                warmed.took = started.elapsed();
                return Ok(warmed);
            }
            let Some(block) = self.block(height)? else {
                warmed.took = started.elapsed();
                return Ok(warmed);
            };
            let txs: Vec<(Hash32, u64)> = block
                .txs
                .iter()
                .map(|tx| (tx.id(suite), tx.tx.expires_at_height))
                .collect();
            let noted = self
                .recent
                .write()
                .map_err(|_| poisoned())?
                .note_warming(warming, &txs);
            if !noted {
                warmed.took = started.elapsed();
                return Ok(warmed);
            }
            warmed.blocks += 1;
            warmed.txs += txs.len() as u64;
        }
        let finished = self
            .recent
            .write()
            .map_err(|_| poisoned())?
            .finish_warming(warming, low - 1);
        warmed.covered_above = finished.then_some(low - 1);
        warmed.took = started.elapsed();
        Ok(warmed)
    }

    /// The height above which the filter of committed ids holds every committed transaction
    /// (`None`: it holds none yet). Questions about transactions that could be older go to the
    /// transaction index.
    pub fn recent_ids_cover_above(&self) -> Option<u64> {
        self.recent.read().ok()?.covered_above()
    }
}

fn poisoned() -> StoreError {
    StoreError::Backend {
        operation: "warm the committed-id filter",
        reason: "its lock is poisoned".into(),
    }
}
