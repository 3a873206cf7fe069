//! Block execution: a block's transactions applied in order over committed state, giving one
//! write set for the state tree. Pure, like the rules it runs.

use alloc::collections::BTreeSet;
use alloc::vec::Vec;

use crate::crypto::{Hash32, Suite};
use crate::error::StorageError;
use crate::ledger::{BlockContext, Event, TxError, apply_tx, verify_signatures_known};
use crate::smt::{SparseMerkleTree, TreeReader};
use crate::state::{Overlay, ReplayWindow, StateView, WriteSet};
use crate::tx::SignedTransaction;

/// The state at one version of the tree, as a [`StateView`].
#[derive(Debug)]
pub struct VersionedState<'a, R: TreeReader> {
    tree: SparseMerkleTree<'a, R>,
    version: u64,
}

impl<'a, R: TreeReader> VersionedState<'a, R> {
    pub fn new(reader: &'a R, suite: Suite, version: u64) -> Self {
        Self {
            tree: SparseMerkleTree::new(reader, suite),
            version,
        }
    }
}

impl<R: TreeReader> StateView for VersionedState<'_, R> {
    fn get_raw(&self, key: &Hash32) -> Result<Option<Vec<u8>>, StorageError> {
        self.tree.get(key, self.version)
    }
}

/// The result of executing a whole block.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BlockExecution {
    /// All writes of the block, last write per key wins.
    pub writes: WriteSet,
    /// Transaction ids in block order (for the tx root and the replay window).
    pub tx_ids: Vec<Hash32>,
    /// Each transaction's expiry height, in block order (for the replay window).
    pub tx_expiries: Vec<u64>,
    /// Events per transaction, in block order.
    pub events: Vec<Vec<Event>>,
}

/// A transaction of a block that could not be applied.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("transaction {index} of the block is refused: {error}")]
pub struct BlockTxError {
    pub index: usize,
    pub error: TxError,
}

/// Executes `txs` in order at `ctx` over `state`. A block is valid only if every transaction
/// applies; the first one that does not is reported. Transactions also may not repeat inside the
/// block.
pub fn execute_block<S: StateView + ?Sized>(
    suite: Suite,
    state: &S,
    replay: &ReplayWindow,
    txs: &[SignedTransaction],
    ctx: &BlockContext,
) -> Result<BlockExecution, BlockTxError> {
    execute_block_known(suite, state, replay, txs, ctx, &|_| false)
}

/// [`execute_block`], skipping the signature checks of transactions whose witness hash
/// `already_verified` vouches for (see [`crate::ledger::verify_signatures_known`]).
pub fn execute_block_known<S: StateView + ?Sized>(
    suite: Suite,
    state: &S,
    replay: &ReplayWindow,
    txs: &[SignedTransaction],
    ctx: &BlockContext,
    already_verified: &dyn Fn(&Hash32) -> bool,
) -> Result<BlockExecution, BlockTxError> {
    let verified: Vec<_> = txs
        .iter()
        .map(|tx| verify_signatures_known(suite, tx, already_verified))
        .collect();
    let mut overlay = Overlay::new(state);
    let mut seen = BTreeSet::new();
    let mut out = BlockExecution::default();
    for (index, v) in verified.into_iter().enumerate() {
        let v = v.map_err(|error| BlockTxError { index, error })?;
        if !seen.insert(v.id()) {
            return Err(BlockTxError {
                index,
                error: TxError::Duplicate { tx_id: v.id() },
            });
        }
        let outcome = apply_tx(suite, &overlay, replay, v, ctx)
            .map_err(|error| BlockTxError { index, error })?;
        overlay.apply(outcome.writes);
        out.tx_ids.push(v.id());
        out.tx_expiries.push(v.tx().tx.expires_at_height);
        out.events.push(outcome.events);
    }
    out.writes = overlay.into_writes();
    Ok(out)
}
