//! An in-memory node store: the reference twin of the node's fjall store, used by tests and tools.

use alloc::collections::{BTreeMap, BTreeSet};
use alloc::sync::Arc;

use crate::error::StorageError;

use super::{Node, NodeKey, StaleNodeIndex, TreeReader, TreeUpdateBatch};

/// Tree nodes and the stale-node index, in ordered maps.
#[derive(Clone, Debug, Default)]
pub struct MemoryTreeStore {
    nodes: BTreeMap<NodeKey, Arc<Node>>,
    stale: BTreeSet<StaleNodeIndex>,
}

impl MemoryTreeStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// Applies a batch: stores its nodes and records its stale nodes.
    pub fn write_batch(&mut self, batch: &TreeUpdateBatch) {
        for (key, node) in &batch.new_nodes {
            self.nodes.insert(*key, Arc::new(node.clone()));
        }
        self.stale.extend(batch.stale_nodes.iter().copied());
    }

    /// Deletes every node stale since `oldest_kept` or earlier: versions `>= oldest_kept` stay
    /// readable, earlier ones lose (at least) their root. Returns how many nodes were deleted.
    pub fn prune(&mut self, oldest_kept: u64) -> usize {
        let mut deleted = 0;
        while let Some(first) = self.stale.first().copied() {
            if first.stale_since_version > oldest_kept {
                break;
            }
            self.stale.remove(&first);
            if self.nodes.remove(&first.node_key).is_some() {
                deleted += 1;
            }
        }
        deleted
    }

    /// How many nodes are stored.
    pub fn node_count(&self) -> usize {
        self.nodes.len()
    }

    /// How many stale-node records await pruning.
    pub fn stale_count(&self) -> usize {
        self.stale.len()
    }
}

impl TreeReader for MemoryTreeStore {
    fn get_node(&self, key: &NodeKey) -> Result<Option<Arc<Node>>, StorageError> {
        Ok(self.nodes.get(key).cloned())
    }
}
