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
/// The first internal-node form (fixed `version u64` and `is_leaf` byte per child): still read,
/// no longer written, so stores written before the compact form stay readable.
const TAG_INTERNAL_FIXED: u8 = 1;
const TAG_LEAF: u8 = 2;
/// The compact internal-node form: a leaf bitmap instead of a byte per child, versions as
/// LEB128 (heights below 2^14 take 2 bytes, not 8). Internal nodes are most of a loaded store's
/// tree bytes (each block replaces every internal node on its keys' paths, and the replaced
/// ones are kept for `versions_kept` blocks): 41 → 34-35 bytes per child.
const TAG_INTERNAL: u8 = 3;
/// A u64 in LEB128 takes at most this many bytes.
const LEB128_U64_BYTES_MAX: usize = 10;

fn write_leb128(w: &mut Writer, mut v: u64) {
    loop {
        let low = (v & 0x7f) as u8;
        v >>= 7;
        if v == 0 {
            w.u8(low);
            return;
        }
        w.u8(low | 0x80);
    }
}

/// A minimal LEB128 u64: no trailing zero groups (one encoding per number), no overflow.
fn read_leb128(r: &mut Reader<'_>) -> Result<u64, CodecError> {
    let invalid = |reason| CodecError::InvalidValue {
        field: "smt child version",
        reason,
    };
    let mut v: u64 = 0;
    for i in 0..LEB128_U64_BYTES_MAX {
        let byte = r.u8()?;
        let group = u64::from(byte & 0x7f);
        let shift = 7 * i as u32;
        if shift == 63 && group > 1 {
            return Err(invalid("more than 64 bits"));
        }
        v |= group << shift;
        if byte & 0x80 == 0 {
            if i > 0 && byte == 0 {
                return Err(invalid("not minimal LEB128 (a trailing zero group)"));
            }
            return Ok(v);
        }
    }
    Err(invalid("more than 10 LEB128 bytes"))
}

/// Slots' bitmap: bit `1 << n` for each slot `n` that `pick` selects.
fn slot_bitmap(children: &Children, pick: impl Fn(&Child) -> bool) -> u16 {
    children
        .iter()
        .enumerate()
        .filter(|(_, c)| c.as_ref().is_some_and(&pick))
        .fold(0u16, |acc, (n, _)| acc | (1 << n))
}

impl Encode for Node {
    fn encode_to(&self, w: &mut Writer) {
        match self {
            Node::Null => w.u8(TAG_NULL),
            Node::Internal { children } => {
                w.u8(TAG_INTERNAL);
                w.u16(slot_bitmap(children, |_| true));
                w.u16(slot_bitmap(children, |c| c.is_leaf));
                for child in children.iter().flatten() {
                    write_leb128(w, child.version);
                    child.hash.encode_to(w);
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

/// An internal node from decoded slots, if they make one.
fn internal(children: Children) -> Result<Node, CodecError> {
    match internal_shape_error(&children) {
        Some(reason) => Err(CodecError::InvalidValue {
            field: "smt internal node",
            reason,
        }),
        None => Ok(Node::Internal { children }),
    }
}

impl Decode for Node {
    fn decode_from(r: &mut Reader<'_>) -> Result<Self, CodecError> {
        match r.u8()? {
            TAG_NULL => Ok(Node::Null),
            TAG_INTERNAL => {
                let present = r.u16()?;
                let leaves = r.u16()?;
                if leaves & !present != 0 {
                    return Err(CodecError::InvalidValue {
                        field: "smt internal node",
                        reason: "a leaf bit for an empty slot",
                    });
                }
                let mut children: Children = [None; 16];
                for (n, slot) in children.iter_mut().enumerate() {
                    if present & (1 << n) != 0 {
                        *slot = Some(Child {
                            version: read_leb128(r)?,
                            hash: Hash32::decode_from(r)?,
                            is_leaf: leaves & (1 << n) != 0,
                        });
                    }
                }
                internal(children)
            }
            TAG_INTERNAL_FIXED => {
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
                internal(children)
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
