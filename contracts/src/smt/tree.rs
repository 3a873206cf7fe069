//! Reading the tree at a version: values, roots and proofs.

use alloc::collections::BTreeMap;
use alloc::sync::Arc;
use alloc::vec::Vec;

use crate::crypto::{Hash32, Suite};
use crate::error::{CodecError, StorageError};

use super::node::range_hash;
use super::proof::{ProofLeaf, StateProof};
use super::{NibblePath, Node, NodeKey, TreeReader, TreeUpdateBatch, key_nibble, value_hash};
use super::{node::Child, update};

/// The sparse Merkle tree over a node store, at any stored version. Reads go through the
/// [`TreeReader`]; updates return a [`TreeUpdateBatch`] for the caller to write.
#[derive(Debug)]
pub struct SparseMerkleTree<'a, R: TreeReader> {
    reader: &'a R,
    suite: Suite,
}

impl<R: TreeReader> Clone for SparseMerkleTree<'_, R> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<R: TreeReader> Copy for SparseMerkleTree<'_, R> {}

impl<'a, R: TreeReader> SparseMerkleTree<'a, R> {
    /// A tree reading from `reader`, hashing with `suite` (the chain's).
    pub fn new(reader: &'a R, suite: Suite) -> Self {
        SparseMerkleTree { reader, suite }
    }

    /// The suite the tree hashes with.
    pub fn suite(&self) -> Suite {
        self.suite
    }

    /// The state root of `version`. `MissingNode` if the version was never written or is pruned.
    pub fn root_hash(&self, version: u64) -> Result<Hash32, StorageError> {
        Ok(self.root_node(version)?.hash(self.suite))
    }

    /// The value of `key` at `version`, if any.
    pub fn get(&self, key: &Hash32, version: u64) -> Result<Option<Vec<u8>>, StorageError> {
        let mut node = self.root_node_shared(version)?;
        let mut path = NibblePath::root();
        loop {
            let child = match &*node {
                Node::Null => return Ok(None),
                Node::Leaf { key: found, value } => {
                    return Ok((found == key).then(|| value.clone()));
                }
                Node::Internal { children } => {
                    check_depth(&path)?;
                    let n = key_nibble(key, path.len());
                    let Some(child) = children[usize::from(n)] else {
                        return Ok(None);
                    };
                    path = path.child(n);
                    child
                }
            };
            node = load_child_shared(self.reader, path, &child)?;
        }
    }

    /// The value of `key` at `version`, if any, and a proof of it (or of its absence) against
    /// [`SparseMerkleTree::root_hash`] of that version.
    pub fn get_with_proof(
        &self,
        key: &Hash32,
        version: u64,
    ) -> Result<(Option<Vec<u8>>, StateProof), StorageError> {
        let mut siblings = Vec::new();
        let mut node = self.root_node_shared(version)?;
        let mut path = NibblePath::root();
        loop {
            let child = match &*node {
                Node::Null => {
                    return Ok((
                        None,
                        StateProof {
                            siblings,
                            terminal: None,
                        },
                    ));
                }
                Node::Leaf { key: found, value } => {
                    let terminal = Some(ProofLeaf {
                        key: *found,
                        value_hash: value_hash(self.suite, value),
                    });
                    let value = (found == key).then(|| value.clone());
                    return Ok((value, StateProof { siblings, terminal }));
                }
                Node::Internal { children } => {
                    check_depth(&path)?;
                    let n = usize::from(key_nibble(key, path.len()));
                    let mut next = None;
                    walk_nibble(self.suite, children, n, &mut siblings, |lo, width| {
                        let mut present = children[lo..lo + width]
                            .iter()
                            .enumerate()
                            .filter_map(|(i, c)| c.map(|c| (lo + i, c)));
                        match (present.next(), present.next()) {
                            (None, _) => true,
                            // A lone leaf (possibly another key's) ends the path here; a lone
                            // internal child continues it one nibble down.
                            (Some(only), None) if only.1.is_leaf || width == 1 => {
                                next = Some(only);
                                true
                            }
                            _ => false,
                        }
                    });
                    let Some((slot, child)) = next else {
                        return Ok((
                            None,
                            StateProof {
                                siblings,
                                terminal: None,
                            },
                        ));
                    };
                    path = path.child(slot as u8);
                    child
                }
            };
            node = load_child_shared(self.reader, path, &child)?;
        }
    }

    /// The revocation region at `version` ([`crate::revocation`]): the 16 siblings on the path
    /// from the root to the subtree of keys starting with [`crate::revocation::REGION_PREFIX`],
    /// and every leaf (key, value) of that subtree in key order. With the sentinel in state the
    /// region is never empty.
    pub fn region(&self, version: u64) -> Result<Region, StorageError> {
        let prefix = crate::revocation::REGION_PREFIX;
        let nibbles = [
            prefix[0] >> 4,
            prefix[0] & 0x0f,
            prefix[1] >> 4,
            prefix[1] & 0x0f,
        ];
        let mut siblings = Vec::with_capacity(crate::revocation::REGION_DEPTH_BITS);
        let mut node = self.root_node(version)?;
        let mut path = NibblePath::root();
        for n in nibbles.iter().map(|n| usize::from(*n)) {
            let children = match node {
                Node::Null => return Err(corrupt("the revocation region is empty")),
                Node::Leaf { key, value } => {
                    // The whole tree (below here) is one key.
                    if !crate::revocation::in_region(&key) {
                        return Err(corrupt("the revocation region is empty"));
                    }
                    siblings.resize(crate::revocation::REGION_DEPTH_BITS, Hash32::ZERO);
                    return Ok(Region::new(siblings, alloc::vec![(key, value)]));
                }
                Node::Internal { children } => children,
            };
            check_depth(&path)?;
            walk_nibble(self.suite, &children, n, &mut siblings, |_, _| false);
            let Some(child) = children[n] else {
                return Err(corrupt("the revocation region is empty"));
            };
            path = path.child(n as u8);
            node = load_child(self.reader, path, &child)?;
            if child.is_leaf {
                // One key below this slot: it is the region's only leaf.
                let Node::Leaf { key, value } = node else {
                    return Err(corrupt("child node is not the kind its slot says"));
                };
                if !crate::revocation::in_region(&key) {
                    return Err(corrupt("the revocation region is empty"));
                }
                siblings.resize(crate::revocation::REGION_DEPTH_BITS, Hash32::ZERO);
                return Ok(Region::new(siblings, alloc::vec![(key, value)]));
            }
        }
        let mut leaves = Vec::new();
        self.collect_leaves(path, node, &mut leaves)?;
        Ok(Region::new(siblings, leaves))
    }

    fn collect_leaves(
        &self,
        path: NibblePath,
        node: Node,
        out: &mut Vec<(Hash32, Vec<u8>)>,
    ) -> Result<(), StorageError> {
        match node {
            Node::Null => Ok(()),
            Node::Leaf { key, value } => {
                out.push((key, value));
                Ok(())
            }
            Node::Internal { children } => {
                check_depth(&path)?;
                for (n, child) in children.iter().enumerate() {
                    if let Some(child) = child {
                        let child_path = path.child(n as u8);
                        let node = load_child(self.reader, child_path, child)?;
                        self.collect_leaves(child_path, node, out)?;
                    }
                }
                Ok(())
            }
        }
    }

    /// Computes version `version` from `base` (`None`: from an empty tree) with `updates`
    /// (`Some(value)` sets, `None` deletes). Writes nothing: returns the new nodes, the nodes made
    /// stale and the new root. Every version gets a root node, even with no (effective) update.
    ///
    /// A value longer than [`super::VALUE_LEN_MAX`] is refused with
    /// `StorageError::Corrupt(CodecError::TooLong)`. Panics if `version <= base`.
    pub fn put_batch(
        &self,
        base: Option<u64>,
        version: u64,
        updates: &BTreeMap<Hash32, Option<Vec<u8>>>,
    ) -> Result<TreeUpdateBatch, StorageError> {
        update::put_batch(self.reader, self.suite, base, version, updates)
    }

    pub(super) fn reader(&self) -> &'a R {
        self.reader
    }

    pub(super) fn root_node(&self, version: u64) -> Result<Node, StorageError> {
        self.root_node_shared(version).map(Arc::unwrap_or_clone)
    }

    fn root_node_shared(&self, version: u64) -> Result<Arc<Node>, StorageError> {
        self.reader
            .get_node(&NodeKey::root(version))?
            .ok_or(StorageError::MissingNode { version })
    }
}

/// The revocation region read from the tree (see [`SparseMerkleTree::region`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Region {
    /// The siblings from the root down to the region, `siblings[0]` next to the root.
    pub siblings: [Hash32; crate::revocation::REGION_DEPTH_BITS],
    /// Every leaf in the region, in key order: the sentinel, the marks and foreign leaves.
    pub leaves: Vec<(Hash32, Vec<u8>)>,
}

impl Region {
    fn new(siblings: Vec<Hash32>, leaves: Vec<(Hash32, Vec<u8>)>) -> Self {
        let siblings = siblings
            .try_into()
            .unwrap_or_else(|_| unreachable!("the walk pushes 4 siblings per nibble, 4 nibbles"));
        Region { siblings, leaves }
    }
}

/// Walks an internal node's 4 binary levels along nibble `n`, high bit first, pushing the hash of
/// the other half at each level, until `stop(lo, width)` (the range reached) says the path ends.
fn walk_nibble(
    suite: Suite,
    children: &super::Children,
    n: usize,
    siblings: &mut Vec<Hash32>,
    mut stop: impl FnMut(usize, usize) -> bool,
) {
    let (mut lo, mut width) = (0usize, 16usize);
    while width > 1 {
        let half = width / 2;
        let (mine, other) = if n & half != 0 {
            (lo + half, lo)
        } else {
            (lo, lo + half)
        };
        siblings.push(range_hash(suite, children, other, half));
        (lo, width) = (mine, half);
        if stop(lo, width) {
            return;
        }
    }
}

/// An internal node cannot sit at depth 64 (its children would be deeper than a key).
pub(super) fn check_depth(path: &NibblePath) -> Result<(), StorageError> {
    if path.len() >= NibblePath::MAX_LEN {
        return Err(corrupt("internal node at the maximum depth"));
    }
    Ok(())
}

/// Loads the node a child slot points to, checking that it is the kind the slot says and that a
/// leaf lies on its own path.
pub(super) fn load_child<R: TreeReader + ?Sized>(
    reader: &R,
    path: NibblePath,
    child: &Child,
) -> Result<Node, StorageError> {
    load_child_shared(reader, path, child).map(Arc::unwrap_or_clone)
}

/// [`load_child`], the node as the store shares it (for walks that only read it).
fn load_child_shared<R: TreeReader + ?Sized>(
    reader: &R,
    path: NibblePath,
    child: &Child,
) -> Result<Arc<Node>, StorageError> {
    let node =
        reader
            .get_node(&NodeKey::new(child.version, path))?
            .ok_or(StorageError::MissingNode {
                version: child.version,
            })?;
    match (&*node, child.is_leaf) {
        (Node::Leaf { key, .. }, true) if path.is_prefix_of(key) => Ok(node),
        (Node::Leaf { .. }, true) => Err(corrupt("leaf stored off its key's path")),
        (Node::Internal { .. }, false) => Ok(node),
        _ => Err(corrupt("child node is not the kind its slot says")),
    }
}

pub(super) fn corrupt(reason: &'static str) -> StorageError {
    StorageError::Corrupt(CodecError::InvalidValue {
        field: "smt node",
        reason,
    })
}
