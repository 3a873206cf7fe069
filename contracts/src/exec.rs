//! Block execution: a block's transactions applied in order over committed state, giving one
//! write set for the state tree. Pure, like the rules it runs.

use alloc::collections::BTreeSet;
use alloc::vec::Vec;

use crate::crypto::{Hash32, Suite};
use crate::error::StorageError;
use crate::ledger::{BlockContext, Event, TxError, VerifiedTx, apply_tx, verify_signatures_known};
use crate::model::ValidatorSet;
use crate::replay::ReplayLookup;
use crate::smt::{SparseMerkleTree, TreeReader};
use crate::state::{Overlay, StateKey, StateView, WriteSet, decode_entry};
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

impl BlockExecution {
    /// The validator set that signs the next block, if the block changes it from `signing` (the
    /// set that signs this block). A block that writes the set back unchanged (a validator added
    /// and removed again) changes nothing: its header's two set hashes are equal, and no
    /// verifier expects a set change there.
    pub fn new_validators(
        &self,
        suite: Suite,
        signing: &ValidatorSet,
    ) -> Result<Option<ValidatorSet>, StorageError> {
        match self.writes.get(&StateKey::Validators.hash(suite)) {
            Some(Some(bytes)) => {
                let set: ValidatorSet = decode_entry(bytes)?;
                Ok((set != *signing).then_some(set))
            }
            _ => Ok(None),
        }
    }
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
    replay: &dyn ReplayLookup,
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
    replay: &dyn ReplayLookup,
    txs: &[SignedTransaction],
    ctx: &BlockContext,
    already_verified: &dyn Fn(&Hash32) -> bool,
) -> Result<BlockExecution, BlockTxError> {
    // One transaction at a time, its signatures then its rules: a block of junk (say, valid
    // signatures by keys no entity holds) is refused at its first transaction, after one
    // signature check, not after checking every signature of the block.
    let mut executor = BlockExecutor::new(suite, state, replay, *ctx);
    for (index, tx) in txs.iter().enumerate() {
        let at = |error| BlockTxError { index, error };
        let verified = verify_signatures_known(suite, tx, already_verified).map_err(at)?;
        executor.apply(verified).map_err(at)?;
    }
    Ok(executor.finish())
}

/// Applies transactions one at a time over committed state, collecting what one block writes
/// and emits. [`execute_block`] runs a block's transactions through it and stops at the first
/// refusal; a block builder offers it candidates and leaves out the ones it refuses.
pub struct BlockExecutor<'a, S: StateView + ?Sized> {
    suite: Suite,
    overlay: Overlay<'a, S>,
    replay: &'a dyn ReplayLookup,
    ctx: BlockContext,
    applied: BTreeSet<Hash32>,
    execution: BlockExecution,
}

impl<S: StateView + ?Sized> core::fmt::Debug for BlockExecutor<'_, S> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("BlockExecutor")
            .field("ctx", &self.ctx)
            .field("applied", &self.applied.len())
            .finish_non_exhaustive()
    }
}

impl<'a, S: StateView + ?Sized> BlockExecutor<'a, S> {
    /// An executor for the block at `ctx` on top of `state`, refusing the ids in `replay`.
    pub fn new(
        suite: Suite,
        state: &'a S,
        replay: &'a dyn ReplayLookup,
        ctx: BlockContext,
    ) -> Self {
        BlockExecutor {
            suite,
            overlay: Overlay::new(state),
            replay,
            ctx,
            applied: BTreeSet::new(),
            execution: BlockExecution::default(),
        }
    }

    /// Whether the transaction with this id was applied already.
    pub fn contains(&self, id: &Hash32) -> bool {
        self.applied.contains(id)
    }

    /// Applies `tx` after those applied so far. A refused transaction changes nothing; so does
    /// one applied already (refused as a duplicate: a block holds a transaction once).
    pub fn apply(&mut self, tx: VerifiedTx<'_>) -> Result<(), TxError> {
        if self.applied.contains(&tx.id()) {
            return Err(TxError::Duplicate { tx_id: tx.id() });
        }
        let outcome = apply_tx(self.suite, &self.overlay, self.replay, tx, &self.ctx)?;
        self.overlay.apply(outcome.writes);
        self.applied.insert(tx.id());
        self.execution.tx_ids.push(tx.id());
        self.execution
            .tx_expiries
            .push(tx.tx().tx.expires_at_height);
        self.execution.events.push(outcome.events);
        Ok(())
    }

    /// What the applied transactions wrote and emitted, in order.
    pub fn finish(self) -> BlockExecution {
        let mut execution = self.execution;
        execution.writes = self.overlay.into_writes();
        execution
    }
}
