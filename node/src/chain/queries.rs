//! Reads of the committed chain for the API, the network and the runtime, so that none of them
//! reaches into storage: thin wrappers over the `ChainStore` that return `NodeError`. Also the
//! two writes that are not a block commit: the consensus core's persisted votes, and a flush.

use lichen_contracts::block::{Block, BlockHeader, CommitCertificate};
use lichen_contracts::crypto::Hash32;
use lichen_contracts::state::StateKind;
use lichen_storage::{LicenceHistoryEntry, TxLocation, Warmed};

use super::Chain;
use crate::error::NodeError;

impl Chain {
    /// Where a committed transaction is, if it is.
    pub fn tx_location(&self, id: &Hash32) -> Result<Option<TxLocation>, NodeError> {
        Ok(self.store.tx_location(id)?)
    }

    /// Whether transaction `id`, expiring at `expires_at_height`, was committed, if it has not
    /// expired yet (an expired one may be answered no): the cheap question admission asks of
    /// every transaction, mostly about new ids, which a filter in memory answers.
    pub fn committed_unexpired(
        &self,
        id: &Hash32,
        expires_at_height: u64,
    ) -> Result<bool, NodeError> {
        Ok(self.store.committed_unexpired(id, expires_at_height)?)
    }

    /// Fills the filter of committed ids from the stored blocks of the replay window
    /// ([`lichen_storage::ChainStore::warm_recent_ids`]); `stop` ends it early.
    pub fn warm_recent_ids(&self, stop: impl Fn() -> bool) -> Result<Warmed, NodeError> {
        Ok(self.store.warm_recent_ids(stop)?)
    }

    /// The height above which the filter of committed ids is complete, if any.
    pub fn recent_ids_cover_above(&self) -> Option<u64> {
        self.store.recent_ids_cover_above()
    }

    /// The header of committed block `height`.
    pub fn header(&self, height: u64) -> Result<Option<BlockHeader>, NodeError> {
        Ok(self.store.header(height)?)
    }

    /// Committed block `height`.
    pub fn block(&self, height: u64) -> Result<Option<Block>, NodeError> {
        Ok(self.store.block(height)?)
    }

    /// Committed block `height` as stored (encoded).
    pub fn block_bytes(&self, height: u64) -> Result<Option<Vec<u8>>, NodeError> {
        Ok(self.store.block_bytes(height)?)
    }

    /// The commit certificate of block `height` (none for block 0).
    pub fn certificate(&self, height: u64) -> Result<Option<CommitCertificate>, NodeError> {
        Ok(self.store.certificate(height)?)
    }

    /// The status changes of licence `id`, oldest first, at most
    /// [`LISTING_MAX`](lichen_storage::LISTING_MAX).
    pub fn licence_history(&self, id: &str) -> Result<Vec<LicenceHistoryEntry>, NodeError> {
        Ok(self.store.licence_history(id)?)
    }

    /// Ids of the registered entities of one kind (the `StateKey` kind: 3 agencies, 4 licence
    /// types, 5 submitters) after `after`, in id order, at most `limit` (and at most the
    /// storage's [`LISTING_MAX`](lichen_storage::LISTING_MAX)).
    pub fn entity_ids(
        &self,
        kind: StateKind,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<String>, NodeError> {
        Ok(self.store.entity_ids(kind, after, limit)?)
    }

    /// Licences `agency` issued before `before` (all with `None`), newest first, with where each
    /// was issued; at most `limit` (and at most
    /// [`LISTING_MAX`](lichen_storage::LISTING_MAX)).
    pub fn agency_licences(
        &self,
        agency: &str,
        before: Option<TxLocation>,
        limit: usize,
    ) -> Result<Vec<(TxLocation, String)>, NodeError> {
        Ok(self.store.agency_licences(agency, before, limit)?)
    }

    /// The consensus core's persisted voting state (opaque bytes), if any.
    pub fn consensus_state(&self) -> Result<Option<Vec<u8>>, NodeError> {
        Ok(self.store.consensus_state()?)
    }

    /// Writes the consensus core's voting state, durably, before the caller goes on.
    pub fn put_consensus_state(&self, bytes: &[u8]) -> Result<(), NodeError> {
        Ok(self.store.put_consensus_state(bytes)?)
    }

    /// Flushes storage to disk.
    pub fn flush(&self) -> Result<(), NodeError> {
        Ok(self.store.kv().flush()?)
    }
}
