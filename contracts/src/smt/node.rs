//! Stored tree nodes, their hashes and encodings, and the storage interface.

use alloc::collections::BTreeMap;
use alloc::sync::Arc;
use alloc::vec::Vec;

use crate::codec::{Decode, Encode, Reader, Writer};
use crate::crypto::{Hash32, Suite};
use crate::error::{CodecError, StorageError};

use super::{NodeKey, VALUE_LEN_MAX, leaf_hash, node_hash, value_hash};

/// A pointer from an internal node to one of its children, stored at
/// `(version, parent path + slot nibble)`.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Child {
    /// The version that wrote the child node.
    pub version: u64,
    /// The child's subtree hash (a leaf hash for a leaf child).
    pub hash: Hash32,
    /// Whether the child is a [`Node::Leaf`] (else it is a [`Node::Internal`]).
    pub is_leaf: bool,
}

/// The 16 child slots of an internal node, indexed by the next nibble.
pub type Children = [Option<Child>; 16];

/// A stored tree node (see the module documentation for the rules).
///
/// The internal variant is inline (768 bytes) rather than boxed: nodes are short-lived values
/// between a store's bytes and the tree code, and most reads walk internal nodes.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, PartialEq, Eq, Debug)]
pub enum Node {
    /// The root of an empty tree. Hash `ZERO`. Appears only at a root path.
    Null,
    /// A subtree with two or more keys.
    Internal {
        /// Child slots by nibble.
        children: Children,
    },
    /// A subtree with exactly one key.
    Leaf {
        /// The key.
        key: Hash32,
        /// The value, at most [`VALUE_LEN_MAX`] bytes.
        value: Vec<u8>,
    },
}

impl Node {
    /// The node's subtree hash.
    pub fn hash(&self, suite: Suite) -> Hash32 {
        match self {
            Node::Null => Hash32::ZERO,
            Node::Internal { children } => internal_hash(suite, children),
            Node::Leaf { key, value } => leaf_hash(suite, key, &value_hash(suite, value)),
        }
    }
}

/// The hash of an internal node: the binary tree over its 16 slots with the collapse rule.
pub(crate) fn internal_hash(suite: Suite, children: &Children) -> Hash32 {
    range_hash(suite, children, 0, 16)
}

/// The hash of the slots `lo..lo + width` (`width` a power of two) as one binary subtree.
pub(crate) fn range_hash(suite: Suite, children: &Children, lo: usize, width: usize) -> Hash32 {
    let mut present = children[lo..lo + width].iter().flatten();
    match (present.next(), present.next()) {
        (None, _) => Hash32::ZERO,
        (Some(only), None) if only.is_leaf || width == 1 => only.hash,
        _ => {
            let half = width / 2;
            node_hash(
                suite,
                &range_hash(suite, children, lo, half),
                &range_hash(suite, children, lo + half, half),
            )
        }
    }
}

/// Why a child list cannot be an internal node, if it cannot.
pub(crate) fn internal_shape_error(children: &Children) -> Option<&'static str> {
    let mut present = children.iter().flatten();
    match (present.next(), present.next()) {
        (None, _) => Some("internal node without children"),
        (Some(only), None) if only.is_leaf => Some("internal node with a single leaf child"),
        _ => None,
    }
}

const TAG_NULL: u8 = 0;
const TAG_INTERNAL: u8 = 1;
const TAG_LEAF: u8 = 2;

impl Encode for Node {
    fn encode_to(&self, w: &mut Writer) {
        match self {
            Node::Null => w.u8(TAG_NULL),
            Node::Internal { children } => {
                w.u8(TAG_INTERNAL);
                let bitmap = children
                    .iter()
                    .enumerate()
                    .filter(|(_, c)| c.is_some())
                    .fold(0u16, |acc, (n, _)| acc | (1 << n));
                w.u16(bitmap);
                for child in children.iter().flatten() {
                    w.u64(child.version);
                    child.hash.encode_to(w);
                    w.bool(child.is_leaf);
                }
            }
            Node::Leaf { key, value } => {
                w.u8(TAG_LEAF);
                key.encode_to(w);
                w.bytes(value);
            }
        }
    }
}

impl Decode for Node {
    fn decode_from(r: &mut Reader<'_>) -> Result<Self, CodecError> {
        match r.u8()? {
            TAG_NULL => Ok(Node::Null),
            TAG_INTERNAL => {
                let bitmap = r.u16()?;
                let mut children: Children = [None; 16];
                for (n, slot) in children.iter_mut().enumerate() {
                    if bitmap & (1 << n) != 0 {
                        *slot = Some(Child {
                            version: r.u64()?,
                            hash: Hash32::decode_from(r)?,
                            is_leaf: r.bool()?,
                        });
                    }
                }
                if let Some(reason) = internal_shape_error(&children) {
                    return Err(CodecError::InvalidValue {
                        field: "smt internal node",
                        reason,
                    });
                }
                Ok(Node::Internal { children })
            }
            TAG_LEAF => Ok(Node::Leaf {
                key: Hash32::decode_from(r)?,
                value: r.bytes("smt value", VALUE_LEN_MAX)?,
            }),
            tag => Err(CodecError::InvalidTag {
                what: "smt node",
                tag,
            }),
        }
    }
}

/// A node that a version no longer references: needed only by versions before
/// `stale_since_version`, deletable once no such version is kept.
///
/// Ordered (and encoded: `stale_since_version u64 || NodeKey`) by version first, so a store can
/// find everything prunable with one range scan.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
pub struct StaleNodeIndex {
    /// The first version that does not reference the node.
    pub stale_since_version: u64,
    /// The node.
    pub node_key: NodeKey,
}

impl Encode for StaleNodeIndex {
    fn encode_to(&self, w: &mut Writer) {
        w.u64(self.stale_since_version);
        self.node_key.encode_to(w);
    }
}

impl Decode for StaleNodeIndex {
    fn decode_from(r: &mut Reader<'_>) -> Result<Self, CodecError> {
        Ok(StaleNodeIndex {
            stale_since_version: r.u64()?,
            node_key: NodeKey::decode_from(r)?,
        })
    }
}

/// What one [`super::SparseMerkleTree::put_batch`] produces: write it atomically.
#[derive(Clone, PartialEq, Eq, Debug, Default)]
pub struct TreeUpdateBatch {
    /// The state root of the new version.
    pub root_hash: Hash32,
    /// Nodes to write (all of the new version, including its root).
    pub new_nodes: BTreeMap<NodeKey, Node>,
    /// Nodes of earlier versions that the new version no longer references.
    pub stale_nodes: Vec<StaleNodeIndex>,
}

/// Read access to stored tree nodes (the node's fjall store, or [`super::MemoryTreeStore`]).
/// Nodes come shared: a store that keeps decoded nodes in memory hands out the same one to
/// every read, and a lookup walks down without copying each internal node's 16 slots.
pub trait TreeReader {
    /// The node stored under `key`, or `None` if there is none (never written, or pruned).
    fn get_node(&self, key: &NodeKey) -> Result<Option<Arc<Node>>, StorageError>;
}

impl<R: TreeReader + ?Sized> TreeReader for &R {
    fn get_node(&self, key: &NodeKey) -> Result<Option<Arc<Node>>, StorageError> {
        (**self).get_node(key)
    }
}
