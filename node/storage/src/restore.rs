//! Writing a store from a certified checkpoint rather than from genesis (state sync): the state
//! tree of the checkpoint's version, rebuilt from verified leaves, then the blocks a node needs
//! to go on from there. Nothing here checks a certificate or a leaf: the caller (the node's
//! `state_sync`) verified them against the genesis trust anchor; this only refuses to write over
//! a chain.
//!
//! A restored store holds no state version and no block below the checkpoint but the replay
//! window's blocks, the blocks that changed the validator set and block 0; its indexes of
//! licence history, licences per agency and evidence start at the checkpoint (they come from
//! executing blocks, which a state sync does not do); its entity index is rebuilt from the
//! leaves.

use lichen_contracts::block::{Block, CommitCertificate};
use lichen_contracts::codec::Encode;
use lichen_contracts::crypto::Suite;
use lichen_contracts::genesis::Genesis;
use lichen_contracts::model::ValidatorSet;
use lichen_contracts::smt::{MemoryTreeStore, Node, NodeKey, SparseMerkleTree, TreeReader};
use lichen_contracts::state::StateKey;

use crate::chain::{
    ChainStore, StoredTip, TxLocation, entity_key, height_key, key, location_bytes, tip_bytes,
};
use crate::error::StoreError;
use crate::kv::{KvStore, WriteBatch};
use crate::layout;

/// What a state sync writes once every state leaf is in.
#[derive(Debug)]
pub struct RestoredChain<'a> {
    pub genesis: &'a Genesis,
    /// The checkpoint's height: the version of the restored tree and the tip.
    pub checkpoint: u64,
    /// The set each change installed, (height, set), oldest first.
    pub set_changes: &'a [(u64, ValidatorSet)],
}

impl<K: KvStore> ChainStore<K> {
    /// Writes restored tree nodes, and the entity index of the leaves among them, as one batch
    /// (flushed by [`ChainStore::finish_restore`]). Only into a store that holds no chain.
    pub fn restore_nodes(&self, suite: Suite, nodes: &[(NodeKey, Node)]) -> Result<(), StoreError> {
        self.refuse_a_chain()?;
        let mut batch = WriteBatch::new();
        for (node_key, node) in nodes {
            if let Node::Leaf {
                key: leaf_key,
                value,
            } = node
                && let Some(entity) = StateKey::entity_of_leaf(suite, leaf_key, value)
            {
                batch.put(entity_key(&entity), []);
            }
            batch.put(key(layout::NODE, &[&node_key.to_bytes()]), node.to_bytes());
        }
        self.kv().apply(batch)
    }

    /// Writes fetched blocks with their certificates (one batch): the blocks and the transaction
    /// index, which the replay check reads (the replay window's blocks must be among them).
    pub fn restore_blocks(
        &self,
        suite: Suite,
        blocks: &[(Block, CommitCertificate)],
    ) -> Result<(), StoreError> {
        self.refuse_a_chain()?;
        let mut batch = WriteBatch::new();
        for (block, certificate) in blocks {
            let height = block.header.height;
            batch.put(height_key(layout::BLOCK, height), block.to_bytes());
            batch.put(
                height_key(layout::CERTIFICATE, height),
                certificate.to_bytes(),
            );
            for (index, tx) in block.txs.iter().enumerate() {
                let id = tx.id(suite);
                let location = TxLocation {
                    height,
                    index: index as u32,
                };
                batch.put(key(layout::TX, &[id.as_bytes()]), location_bytes(location));
            }
        }
        self.kv().apply(batch)
    }

    /// Writes genesis, the validator sets and the tip (the checkpoint: its block written by
    /// [`ChainStore::restore_blocks`], its state version by [`ChainStore::restore_nodes`] with
    /// the root its header names), and marks the versions below it pruned; then flushes.
    pub fn finish_restore(&self, restored: RestoredChain<'_>) -> Result<StoredTip, StoreError> {
        self.refuse_a_chain()?;
        let genesis = restored.genesis;
        let suite = genesis.suite();
        let checkpoint = restored.checkpoint;
        let refuse = |reason: String| Err(StoreError::Restore { reason });
        let Some(header) = self.header(checkpoint)? else {
            return refuse(format!("checkpoint block {checkpoint} was not written"));
        };
        let root = self
            .get_node(&NodeKey::root(checkpoint))
            .map_err(|e| StoreError::backend("state sync", e))?;
        let Some(root) = root else {
            return refuse(format!("no state tree of version {checkpoint} was written"));
        };
        if root.hash(suite) != header.state_root {
            return refuse(format!(
                "the written state tree's root {} is not block {checkpoint}'s state root {}",
                root.hash(suite),
                header.state_root
            ));
        }
        let mut batch = WriteBatch::new();
        batch.put(
            key(layout::META, &[layout::META_GENESIS]),
            genesis.to_bytes(),
        );
        batch.put(
            key(layout::META, &[layout::META_LAYOUT]),
            layout::LAYOUT_VERSION.to_be_bytes(),
        );
        let writes = genesis
            .state_writes()
            .map_err(|e| StoreError::InvalidGenesis {
                reason: e.to_string(),
            })?;
        let genesis_root = SparseMerkleTree::new(&MemoryTreeStore::new(), suite)
            .put_batch(None, 0, &writes)
            .map_err(|e| StoreError::backend("genesis state", e))?
            .root_hash;
        let block0 = Block {
            header: genesis.header(genesis_root),
            txs: Vec::new(),
        };
        batch.put(height_key(layout::BLOCK, 0), block0.to_bytes());
        batch.put(
            height_key(layout::VALIDATORS, 0),
            genesis.validators.to_bytes(),
        );
        for (height, set) in restored.set_changes {
            batch.put(height_key(layout::VALIDATORS, *height), set.to_bytes());
        }
        let hash = header.hash(suite);
        batch.put(
            key(layout::META, &[layout::META_PRUNED_BELOW]),
            checkpoint.to_be_bytes(),
        );
        batch.put(
            key(layout::META, &[layout::META_TIP]),
            tip_bytes(checkpoint, &hash),
        );
        // The blocks restored here were never noted by the filter of committed ids.
        self.forget_recent_ids();
        self.kv().apply(batch)?;
        self.kv().flush()?;
        let tip = StoredTip {
            height: checkpoint,
            hash,
        };
        self.set_tip(tip);
        // And again: a warming of the filter begun in between read the tip before this one.
        self.forget_recent_ids();
        Ok(tip)
    }

    fn refuse_a_chain(&self) -> Result<(), StoreError> {
        if self
            .kv()
            .get(&key(layout::META, &[layout::META_GENESIS]))?
            .is_some()
        {
            return Err(StoreError::NotEmpty);
        }
        Ok(())
    }
}
