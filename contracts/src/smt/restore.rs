//! Rebuilding one version of the tree from its leaves alone, for state sync: a node that joins
//! from a certified checkpoint receives the leaves of the checkpoint's state in chunks (the
//! subtrees under the `2^k` prefixes of a trust package's tree levels), checks each chunk against
//! its level node ([`check_chunk`]), and writes the nodes [`TreeRestorer`] makes of them.
//!
//! The restorer takes the leaves in key order and emits exactly the nodes that
//! [`super::SparseMerkleTree::put_batch`] would write for the same leaves inserted at once into an
//! empty tree at that version (the tests compare them node for node), holding only the open path
//! (at most 64 internal nodes) in memory, so a state of any size streams through it.

use alloc::vec::Vec;

use crate::crypto::{Hash32, Suite};
use crate::error::{RestoreError, StorageError};
use crate::revocation::subtree_hash;

use super::{
    Child, Children, NibblePath, Node, NodeKey, SparseMerkleTree, TreeReader, VALUE_LEN_MAX,
    key_nibble, key_prefix,
};
use super::{leaf_hash, value_hash};

/// Checks that `leaves` (key order) are exactly the keys of chunk `index` at depth `depth` (the
/// keys whose first `depth` bits are `index`) whose subtree hash is `expected` (`ZERO` for an
/// empty chunk). With a verified trust package's level node as `expected`, a chunk that passes is
/// the certified state's, leaf for leaf.
pub fn check_chunk(
    suite: Suite,
    depth: u8,
    index: usize,
    expected: &Hash32,
    leaves: &[(Hash32, Vec<u8>)],
) -> Result<(), RestoreError> {
    let chunks = 1usize << depth;
    let mut hashed = Vec::with_capacity(leaves.len());
    let mut previous: Option<&Hash32> = None;
    for (key, value) in leaves {
        if previous.is_some_and(|p| p >= key) {
            return Err(RestoreError::NotIncreasing {
                chunk: index,
                chunks,
                key: *key,
            });
        }
        previous = Some(key);
        if key_prefix(key, depth) != index {
            return Err(RestoreError::OutsideChunk {
                chunk: index,
                depth,
                key: *key,
            });
        }
        if value.len() > VALUE_LEN_MAX {
            return Err(RestoreError::ValueTooLong {
                chunk: index,
                len: value.len(),
                max: VALUE_LEN_MAX,
            });
        }
        hashed.push((*key, value_hash(suite, value)));
    }
    let computed = subtree_hash(suite, &hashed, usize::from(depth));
    if computed != *expected {
        return Err(RestoreError::ChunkMismatch {
            chunk: index,
            computed,
            expected: *expected,
        });
    }
    Ok(())
}

/// A leaf whose stored depth waits for the next key.
#[derive(Debug)]
struct Pending {
    key: Hash32,
    value: Vec<u8>,
    /// Nibbles it shares with the key before it (0 for the first).
    shared_with_previous: usize,
}

/// Builds the nodes of one version from its leaves in strictly increasing key order.
///
/// A leaf is stored one nibble below the deepest prefix it shares with a neighbour (the collapse
/// rule: there is an internal node at every nibble prefix two or more keys share, and none
/// elsewhere), so each leaf is placed once the next key is known, and an internal node is
/// complete, hashed and emitted once a key leaves its prefix.
#[derive(Debug)]
pub struct TreeRestorer {
    suite: Suite,
    version: u64,
    /// The internal nodes still open, `open[i]` at depth `i` on the path of the last leaf.
    open: Vec<Children>,
    pending: Option<Pending>,
    leaves: u64,
}

impl TreeRestorer {
    pub fn new(suite: Suite, version: u64) -> Self {
        TreeRestorer {
            suite,
            version,
            open: Vec::new(),
            pending: None,
            leaves: 0,
        }
    }

    /// Leaves taken so far.
    pub fn leaves(&self) -> u64 {
        self.leaves
    }

    /// Takes the next leaf; appends the nodes it completes to `out`. Keys must be strictly
    /// increasing across calls and values at most [`VALUE_LEN_MAX`] bytes (as [`check_chunk`]
    /// checks); otherwise this panics: the caller checked its chunks.
    pub fn push(&mut self, key: Hash32, value: Vec<u8>, out: &mut Vec<(NodeKey, Node)>) {
        assert!(value.len() <= VALUE_LEN_MAX, "a value over the limit");
        let mut shared_with_previous = 0;
        if let Some(previous) = self.pending.take() {
            assert!(previous.key < key, "leaves out of key order");
            let shared = shared_nibbles(&previous.key, &key);
            let previous_key = previous.key;
            self.place(previous, shared, out);
            // The nodes below the prefix the new key shares (on the previous key's path) are
            // complete.
            while self.open.len() > shared + 1 {
                self.close(&previous_key, out);
            }
            shared_with_previous = shared;
        }
        self.pending = Some(Pending {
            key,
            value,
            shared_with_previous,
        });
        self.leaves += 1;
    }

    /// Emits the rest of the nodes, down to the root, and returns the root hash.
    pub fn finish(mut self, out: &mut Vec<(NodeKey, Node)>) -> Hash32 {
        let root_key = NodeKey::root(self.version);
        let Some(last) = self.pending.take() else {
            out.push((root_key, Node::Null));
            return Hash32::ZERO;
        };
        if self.leaves == 1 {
            let node = Node::Leaf {
                key: last.key,
                value: last.value,
            };
            let hash = node.hash(self.suite);
            out.push((root_key, node));
            return hash;
        }
        let key = last.key;
        self.place(last, 0, out);
        let mut root = Hash32::ZERO;
        while !self.open.is_empty() {
            root = self.close(&key, out);
        }
        root
    }

    /// Stores `leaf` one nibble below the deeper of the prefixes it shares with its neighbours,
    /// opening the internal nodes above it.
    fn place(&mut self, leaf: Pending, shared_with_next: usize, out: &mut Vec<(NodeKey, Node)>) {
        let depth = leaf.shared_with_previous.max(shared_with_next) + 1;
        while self.open.len() < depth {
            self.open.push([None; 16]);
        }
        let hash = leaf_hash(self.suite, &leaf.key, &value_hash(self.suite, &leaf.value));
        self.open[depth - 1][usize::from(key_nibble(&leaf.key, depth - 1))] = Some(Child {
            version: self.version,
            hash,
            is_leaf: true,
        });
        out.push((
            NodeKey::new(self.version, NibblePath::from_key(&leaf.key, depth)),
            Node::Leaf {
                key: leaf.key,
                value: leaf.value,
            },
        ));
    }

    /// Emits the deepest open node (on the path of `key`) and links it into its parent; returns
    /// its hash.
    fn close(&mut self, key: &Hash32, out: &mut Vec<(NodeKey, Node)>) -> Hash32 {
        let depth = self.open.len() - 1;
        let children = self
            .open
            .pop()
            .unwrap_or_else(|| unreachable!("an open node"));
        let node = Node::Internal { children };
        let hash = node.hash(self.suite);
        out.push((
            NodeKey::new(self.version, NibblePath::from_key(key, depth)),
            node,
        ));
        if let Some(parent) = self.open.last_mut() {
            parent[usize::from(key_nibble(key, depth - 1))] = Some(Child {
                version: self.version,
                hash,
                is_leaf: false,
            });
        }
        hash
    }
}

/// The leaves of consecutive chunks, as a peer serves them: `chunks[i]` holds chunk
/// `first + i`'s leaves in key order.
pub type ChunkLeaves = Vec<Vec<(Hash32, Vec<u8>)>>;

impl<R: TreeReader> SparseMerkleTree<'_, R> {
    /// The leaves of chunks `first..first + count` at depth `depth` of version `version`, whole
    /// chunks only, stopping after the chunk during which `bytes_soft_max` bytes of keys and
    /// values were passed (so at least one chunk, however large, is returned). Walks only the
    /// subtrees that hold those chunks.
    pub fn chunk_leaves(
        &self,
        version: u64,
        depth: u8,
        first: usize,
        count: usize,
        bytes_soft_max: usize,
    ) -> Result<ChunkLeaves, StorageError> {
        assert!(
            depth <= super::LEVELS_DEPTH_MAX,
            "chunks deeper than the levels"
        );
        assert!(
            count >= 1 && first + count <= 1 << depth,
            "chunks outside the cut"
        );
        let mut walk = ChunkWalk {
            depth,
            first,
            last: first + count - 1,
            bytes_soft_max,
            bytes: 0,
            chunks: alloc::vec![Vec::new()],
            done: false,
        };
        let root = self.root_node(version)?;
        self.walk_chunks(NibblePath::root(), root, &mut walk)?;
        if !walk.done {
            // The chunks after the last leaf found are empty.
            walk.chunks.resize(count, Vec::new());
        }
        Ok(walk.chunks)
    }

    fn walk_chunks(
        &self,
        path: NibblePath,
        node: Node,
        walk: &mut ChunkWalk,
    ) -> Result<(), StorageError> {
        match node {
            Node::Null => Ok(()),
            Node::Leaf { key, value } => {
                walk.take(key, value);
                Ok(())
            }
            Node::Internal { children } => {
                super::tree::check_depth(&path)?;
                for (n, child) in children.iter().enumerate() {
                    let Some(child) = child else { continue };
                    let child_path = path.child(n as u8);
                    if walk.done || !walk.overlaps(&child_path) {
                        continue;
                    }
                    let node = super::tree::load_child(self.reader(), child_path, child)?;
                    self.walk_chunks(child_path, node, walk)?;
                }
                Ok(())
            }
        }
    }
}

/// A walk collecting the leaves of chunks `first..=last`.
struct ChunkWalk {
    depth: u8,
    first: usize,
    last: usize,
    bytes_soft_max: usize,
    bytes: usize,
    /// The chunks from `first` up to the one being filled.
    chunks: ChunkLeaves,
    done: bool,
}

impl ChunkWalk {
    /// Whether the subtree at `path` can hold a key of the chunks still wanted.
    fn overlaps(&self, path: &NibblePath) -> bool {
        let bits = 4 * path.len();
        let prefix = path
            .nibbles()
            .fold(0usize, |acc, n| (acc << 4) | usize::from(n));
        let depth = usize::from(self.depth);
        let (lo, hi) = if bits >= depth {
            let chunk = prefix >> (bits - depth);
            (chunk, chunk)
        } else {
            let shift = depth - bits;
            (prefix << shift, ((prefix + 1) << shift) - 1)
        };
        let from = self.first + self.chunks.len() - 1;
        hi >= from && lo <= self.last
    }

    fn take(&mut self, key: Hash32, value: Vec<u8>) {
        let chunk = key_prefix(&key, self.depth);
        if chunk < self.first || chunk > self.last || self.done {
            return;
        }
        let current = self.first + self.chunks.len() - 1;
        if chunk > current {
            if self.bytes >= self.bytes_soft_max {
                self.done = true;
                return;
            }
            self.chunks.resize(chunk - self.first + 1, Vec::new());
        }
        self.bytes += 32 + value.len();
        if let Some(leaves) = self.chunks.last_mut() {
            leaves.push((key, value));
        }
    }
}

/// How many leading nibbles two keys share.
fn shared_nibbles(a: &Hash32, b: &Hash32) -> usize {
    (0..NibblePath::MAX_LEN)
        .find(|i| key_nibble(a, *i) != key_nibble(b, *i))
        .unwrap_or(NibblePath::MAX_LEN)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::smt::{MemoryTreeStore, SparseMerkleTree, TreeReader};
    use alloc::collections::BTreeMap;
    use alloc::vec;
    use proptest::prelude::*;

    fn entries(seed: u64, n: usize) -> BTreeMap<Hash32, Option<Vec<u8>>> {
        (0..n)
            .map(|i| {
                let key = Suite::Intl.hash("restore", &[&seed.to_be_bytes(), &i.to_be_bytes()]);
                (key, Some(vec![i as u8; i % 7]))
            })
            .collect()
    }

    /// The restorer's nodes are exactly `put_batch`'s for the same leaves at once.
    fn same_nodes_as_put_batch(entries: &BTreeMap<Hash32, Option<Vec<u8>>>) {
        let suite = Suite::Intl;
        let batch = SparseMerkleTree::new(&MemoryTreeStore::new(), suite)
            .put_batch(None, 7, entries)
            .unwrap();
        let mut restorer = TreeRestorer::new(suite, 7);
        let mut out = Vec::new();
        for (key, value) in entries {
            restorer.push(*key, value.clone().unwrap(), &mut out);
        }
        let root = restorer.finish(&mut out);
        assert_eq!(root, batch.root_hash);
        let restored: BTreeMap<NodeKey, Node> = out.iter().cloned().collect();
        assert_eq!(restored.len(), out.len(), "no node emitted twice");
        assert_eq!(restored, batch.new_nodes);
    }

    #[test]
    fn small_trees_restore_node_for_node() {
        for n in [0usize, 1, 2, 3, 16, 17, 255, 1000] {
            same_nodes_as_put_batch(&entries(n as u64, n));
        }
    }

    #[test]
    fn keys_sharing_long_prefixes_restore() {
        // Keys that differ only in their last nibble, or in their first bit: the deepest and
        // the shallowest internal nodes.
        let mut e = BTreeMap::new();
        for last in [0u8, 1, 0x10, 0xff] {
            let mut k = [0xabu8; 32];
            k[31] = last;
            e.insert(Hash32(k), Some(vec![last]));
        }
        e.insert(Hash32([0u8; 32]), Some(vec![]));
        same_nodes_as_put_batch(&e);
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]
        #[test]
        fn any_tree_restores_node_for_node(seed in any::<u64>(), n in 0usize..400) {
            same_nodes_as_put_batch(&entries(seed, n));
        }

        /// Chunks cut at any depth pass against the tree's own levels, and a chunk with a leaf
        /// dropped, changed or added fails.
        #[test]
        fn chunks_check_against_the_levels(seed in any::<u64>(), n in 1usize..300, depth in 0u8..10) {
            let suite = Suite::Intl;
            let e = entries(seed, n);
            let mut store = MemoryTreeStore::new();
            let batch = SparseMerkleTree::new(&store, suite).put_batch(None, 1, &e).unwrap();
            store.write_batch(&batch);
            let levels = SparseMerkleTree::new(&store, suite).levels(1, depth).unwrap();
            let mut chunks = vec![Vec::new(); 1 << depth];
            for (k, v) in &e {
                chunks[key_prefix(k, depth)].push((*k, v.clone().unwrap()));
            }
            for (j, chunk) in chunks.iter().enumerate() {
                check_chunk(suite, depth, j, &levels[j].hash, chunk).unwrap();
            }
            let j = key_prefix(e.keys().next().unwrap(), depth);
            let mut dropped = chunks[j].clone();
            dropped.pop();
            prop_assert!(check_chunk(suite, depth, j, &levels[j].hash, &dropped).is_err());
            let mut changed = chunks[j].clone();
            changed[0].1.push(1);
            prop_assert!(check_chunk(suite, depth, j, &levels[j].hash, &changed).is_err());
            let mut reordered = chunks[j].clone();
            reordered.push(reordered[0].clone());
            let refused = matches!(
                check_chunk(suite, depth, j, &levels[j].hash, &reordered),
                Err(RestoreError::NotIncreasing { .. })
            );
            prop_assert!(refused, "a repeated key is refused");
            if depth > 0 {
                let other = (j + 1) % (1 << depth);
                let refused = matches!(
                    check_chunk(suite, depth, other, &levels[other].hash, &chunks[j]),
                    Err(RestoreError::OutsideChunk { .. } | RestoreError::ChunkMismatch { .. })
                );
                prop_assert!(refused, "another chunk's leaves are refused");
            }
        }
    }

    /// Chunks read in requests of any size are the keys grouped by prefix, whole.
    #[test]
    fn chunk_leaves_are_whole_chunks_in_order() {
        let suite = Suite::Intl;
        for (n, depth, bytes_max) in [
            (0usize, 4u8, 100usize),
            (1, 0, 1),
            (300, 6, 200),
            (300, 3, 1 << 20),
            (2000, 8, 3000),
        ] {
            let e = entries(n as u64, n);
            let mut store = MemoryTreeStore::new();
            let batch = SparseMerkleTree::new(&store, suite)
                .put_batch(None, 3, &e)
                .unwrap();
            store.write_batch(&batch);
            let tree = SparseMerkleTree::new(&store, suite);
            let mut expected = vec![Vec::new(); 1 << depth];
            for (k, v) in &e {
                expected[key_prefix(k, depth)].push((*k, v.clone().unwrap()));
            }
            let mut got = Vec::new();
            let mut requests = 0;
            while got.len() < 1 << depth {
                let first = got.len();
                let count = ((1usize << depth) - first).min(50);
                let chunks = tree
                    .chunk_leaves(3, depth, first, count, bytes_max)
                    .unwrap();
                assert!(!chunks.is_empty() && chunks.len() <= count);
                got.extend(chunks);
                requests += 1;
            }
            assert_eq!(got, expected, "n {n}, depth {depth}");
            assert!(requests >= (1usize << depth).div_ceil(50));
        }
    }

    #[test]
    fn a_restored_tree_reads_and_proves_like_the_original() {
        let suite = Suite::Intl;
        let e = entries(42, 500);
        let mut restorer = TreeRestorer::new(suite, 9);
        let mut out = Vec::new();
        for (k, v) in &e {
            restorer.push(*k, v.clone().unwrap(), &mut out);
        }
        let root = restorer.finish(&mut out);
        let mut store = MemoryTreeStore::new();
        store.write_batch(&crate::smt::TreeUpdateBatch {
            root_hash: root,
            new_nodes: out.into_iter().collect(),
            stale_nodes: Vec::new(),
        });
        let tree = SparseMerkleTree::new(&store, suite);
        for (k, v) in e.iter().take(50) {
            let (value, proof) = tree.get_with_proof(k, 9).unwrap();
            assert_eq!(&value, v);
            proof.verify(suite, &root, k, v.as_deref()).unwrap();
        }
        assert!(store.get_node(&NodeKey::root(9)).unwrap().is_some());
    }
}
