//! Reading the tree at a version: values, roots and proofs.

use alloc::collections::BTreeMap;
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
        let mut node = self.root_node(version)?;
        let mut path = NibblePath::root();
        loop {
            match node {
                Node::Null => return Ok(None),
                Node::Leaf { key: found, value } => return Ok((found == *key).then_some(value)),
                Node::Internal { children } => {
                    check_depth(&path)?;
                    let n = key_nibble(key, path.len());
                    let Some(child) = children[usize::from(n)] else {
                        return Ok(None);
                    };
                    path = path.child(n);
                    node = load_child(self.reader, path, &child)?;
                }
            }
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
        let mut node = self.root_node(version)?;
        let mut path = NibblePath::root();
        loop {
            match node {
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
                        key: found,
                        value_hash: value_hash(self.suite, &value),
                    });
                    let value = (found == *key).then_some(value);
                    return Ok((value, StateProof { siblings, terminal }));
                }
                Node::Internal { children } => {
                    check_depth(&path)?;
                    let n = usize::from(key_nibble(key, path.len()));
                    // Walk the node's 4 binary levels along the nibble's bits, high bit first.
                    let (mut lo, mut width) = (0usize, 16usize);
                    let next = loop {
                        let half = width / 2;
                        let (mine, other) = if n & half != 0 {
                            (lo + half, lo)
                        } else {
                            (lo, lo + half)
                        };
                        siblings.push(range_hash(self.suite, &children, other, half));
                        (lo, width) = (mine, half);
                        let mut present = children[lo..lo + width]
                            .iter()
                            .enumerate()
                            .filter_map(|(i, c)| c.map(|c| (lo + i, c)));
                        match (present.next(), present.next()) {
                            (None, _) => break None,
                            // A lone leaf (possibly another key's) ends the path here; a lone
                            // internal child continues it one nibble down.
                            (Some(only), None) if only.1.is_leaf || width == 1 => break Some(only),
                            _ => {}
                        }
                    };
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
                    node = load_child(self.reader, path, &child)?;
                }
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

    fn root_node(&self, version: u64) -> Result<Node, StorageError> {
        self.reader
            .get_node(&NodeKey::root(version))?
            .ok_or(StorageError::MissingNode { version })
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
    let node =
        reader
            .get_node(&NodeKey::new(child.version, path))?
            .ok_or(StorageError::MissingNode {
                version: child.version,
            })?;
    match (&node, child.is_leaf) {
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
