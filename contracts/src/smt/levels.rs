//! The tree cut at a fixed depth: the `2^k` subtrees of the keys sharing their first `k` bits,
//! each with its hash and whether it holds no key, one key or more. A trust package carries them
//! so that compact presentations can leave out their top `k` siblings (PROTOCOL.md, "Trust
//! packages"); the verifier folds them back up to the state root.

use alloc::vec;
use alloc::vec::Vec;

use crate::crypto::{Hash32, Suite};
use crate::error::StorageError;

use super::node::range_hash;
use super::tree::{check_depth, load_child};
use super::{NibblePath, Node, SparseMerkleTree, TreeReader, leaf_hash, node_hash, value_hash};

/// The deepest level a package may carry (65,536 nodes, 2 MiB of hashes).
pub const LEVELS_DEPTH_MAX: u8 = 16;

/// Siblings a compact presentation keeps below the package's levels, aimed at: with a ~240-byte
/// record this keeps nearly every compact presentation under 500 bytes (BENCHMARKS.md).
pub const COMPACT_SIBLINGS_TARGET: usize = 3;

/// The level depth for a package, from the mean depth of absence proofs of a few random keys (a
/// little less than the mean leaf depth): at most [`LEVELS_DEPTH_MAX`].
pub fn levels_for(mean_absence_depth: usize) -> u8 {
    mean_absence_depth
        .saturating_sub(COMPACT_SIBLINGS_TARGET)
        .min(usize::from(LEVELS_DEPTH_MAX)) as u8
}

/// How many keys a subtree holds, as far as the collapse rule cares.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Keys {
    None,
    One,
    Many,
}

/// One subtree at the cut: its hash (`ZERO` when empty) and how many keys it holds.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct LevelNode {
    pub hash: Hash32,
    pub keys: Keys,
}

impl LevelNode {
    pub const EMPTY: LevelNode = LevelNode {
        hash: Hash32::ZERO,
        keys: Keys::None,
    };
}

/// The first `bits` bits of `key` as a number.
pub fn key_prefix(key: &Hash32, bits: u8) -> usize {
    (0..usize::from(bits)).fold(0, |acc, i| (acc << 1) | usize::from(key.bit(i)))
}

/// Folds the `2^k` nodes of a cut up to the root node, by the collapse rule: two empty halves
/// are empty, an empty half beside a lone leaf is that leaf, anything else is a node hash.
pub fn fold_levels(suite: Suite, nodes: &[LevelNode]) -> LevelNode {
    assert!(nodes.len().is_power_of_two(), "a cut has 2^k nodes");
    let mut layer = nodes.to_vec();
    while layer.len() > 1 {
        layer = layer
            .chunks_exact(2)
            .map(|pair| match (pair[0].keys, pair[1].keys) {
                (Keys::None, Keys::None) => LevelNode::EMPTY,
                (Keys::One, Keys::None) => pair[0],
                (Keys::None, Keys::One) => pair[1],
                _ => {
                    // An empty node hashes as ZERO, whatever hash it carries.
                    let side = |n: &LevelNode| match n.keys {
                        Keys::None => Hash32::ZERO,
                        _ => n.hash,
                    };
                    LevelNode {
                        hash: node_hash(suite, &side(&pair[0]), &side(&pair[1])),
                        keys: Keys::Many,
                    }
                }
            })
            .collect();
    }
    layer[0]
}

impl<R: TreeReader> SparseMerkleTree<'_, R> {
    /// The cut of version `version` at depth `k` (at most [`LEVELS_DEPTH_MAX`]): `2^k` nodes,
    /// node `j` the subtree of the keys whose first `k` bits are `j`.
    pub fn levels(&self, version: u64, k: u8) -> Result<Vec<LevelNode>, StorageError> {
        assert!(
            k <= LEVELS_DEPTH_MAX,
            "levels deeper than {LEVELS_DEPTH_MAX}"
        );
        let mut out = vec![LevelNode::EMPTY; 1 << k];
        let root = self.root_node(version)?;
        self.cut(NibblePath::root(), root, k, &mut out)?;
        Ok(out)
    }

    fn cut(
        &self,
        path: NibblePath,
        node: Node,
        k: u8,
        out: &mut [LevelNode],
    ) -> Result<(), StorageError> {
        let suite = self.suite();
        let depth_bits = 4 * path.len();
        let k_bits = usize::from(k);
        let prefix = path
            .nibbles()
            .fold(0usize, |acc, n| (acc << 4) | usize::from(n));
        match node {
            Node::Null => Ok(()),
            Node::Leaf { key, value } => {
                out[key_prefix(&key, k)] = LevelNode {
                    hash: leaf_hash(suite, &key, &value_hash(suite, &value)),
                    keys: Keys::One,
                };
                Ok(())
            }
            Node::Internal { children } => {
                if depth_bits == k_bits {
                    out[prefix] = LevelNode {
                        hash: Node::Internal { children }.hash(suite),
                        keys: Keys::Many,
                    };
                    return Ok(());
                }
                check_depth(&path)?;
                if depth_bits + 4 <= k_bits {
                    for (n, child) in children.iter().enumerate() {
                        let Some(child) = child else { continue };
                        let child_path = path.child(n as u8);
                        let node = load_child(self.reader(), child_path, child)?;
                        self.cut(child_path, node, k, out)?;
                    }
                    return Ok(());
                }
                // The cut falls inside this node: r of its 4 binary levels lie above it.
                let r = k_bits - depth_bits;
                let width = 16 >> r;
                for range in 0..(1usize << r) {
                    let lo = range * width;
                    let present: Vec<_> = children[lo..lo + width].iter().flatten().collect();
                    let keys = match present.as_slice() {
                        [] => Keys::None,
                        [only] if only.is_leaf => Keys::One,
                        _ => Keys::Many,
                    };
                    out[(prefix << r) | range] = LevelNode {
                        hash: range_hash(suite, &children, lo, width),
                        keys,
                    };
                }
                Ok(())
            }
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::smt::MemoryTreeStore;
    use alloc::collections::BTreeMap;

    /// Every cut of trees of 0..300 keys folds back to the root, and each node's key count is
    /// what the keys say.
    #[test]
    fn cuts_fold_to_the_root() {
        let suite = Suite::Intl;
        for n in [0usize, 1, 2, 3, 17, 300] {
            let mut entries = BTreeMap::new();
            for i in 0..n {
                let key = suite.hash("levels", &[&(i as u64).to_be_bytes()]);
                entries.insert(key, Some(alloc::vec![i as u8]));
            }
            let mut store = MemoryTreeStore::new();
            let batch = SparseMerkleTree::new(&store, suite)
                .put_batch(None, 1, &entries)
                .unwrap();
            store.write_batch(&batch);
            let tree = SparseMerkleTree::new(&store, suite);
            for k in [0u8, 1, 3, 4, 5, 8, 9] {
                let nodes = tree.levels(1, k).unwrap();
                assert_eq!(nodes.len(), 1 << k);
                let top = fold_levels(suite, &nodes);
                assert_eq!(top.hash, batch.root_hash, "n {n}, k {k}");
                let mut counts = alloc::vec![0usize; 1 << k];
                for key in entries.keys() {
                    counts[key_prefix(key, k)] += 1;
                }
                for (node, count) in nodes.iter().zip(counts) {
                    let expected = match count {
                        0 => Keys::None,
                        1 => Keys::One,
                        _ => Keys::Many,
                    };
                    assert_eq!(node.keys, expected, "n {n}, k {k}");
                }
            }
        }
    }
}
