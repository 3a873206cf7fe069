//! The authenticated state: a 256-bit sparse Merkle tree with collapsed subtrees, stored
//! Jellyfish-style as radix-16 nodes, proved with binary proofs.
//!
//! Everything below is normative (PROTOCOL.md, "State tree"); the golden vectors pin it.
//!
//! # Keys and values
//! - A key is a [`Hash32`], already hashed by the caller (the ledger's `STATE_KEY` hash). Its
//!   path from the root is its bits, most significant bit of byte 0 first ([`Hash32::bit`]);
//!   bit `i` = 0 goes left.
//! - A value is a byte string of at most [`VALUE_LEN_MAX`] (64 KiB) bytes.
//!
//! # Hashes (the logical binary tree)
//! `H(tag, parts)` is [`Suite::hash`]: the chain's hash of `len(tag) as u8 || tag || parts...`.
//! - `value_hash = H("lichen/smt/value/v1", value)` ([`value_hash`]);
//! - `leaf_hash  = H("lichen/smt/leaf/v1", key(32) || value_hash(32))` ([`leaf_hash`]);
//! - the hash of a subtree (the set of keys sharing a bit prefix) is
//!   - `ZERO` (32 zero bytes) if it holds no key,
//!   - the leaf hash of its only key if it holds exactly one, *at any depth* (collapsed: there is
//!     no chain of nodes above a lone leaf),
//!   - `H("lichen/smt/node/v1", left(32) || right(32))` if it holds two or more keys, where
//!     `left` is the subtree whose next bit is 0 ([`node_hash`]).
//! - The state root is the hash of the whole tree: `ZERO` when the state is empty.
//!
//! These rules make the root a function of the key/value set alone: it does not depend on the
//! order of insertion, on how updates were split into batches, or on deleted history (deleting a
//! key gives exactly the root the tree had if the key had never been inserted).
//!
//! # Storage (radix 16)
//! Nodes are stored under a [`NodeKey`] `(version, path)`: the version (block height) that wrote
//! the node and the path of nibbles (4 bits, high nibble of each byte first) from the root, at
//! most 64. A version's root is at `(version, [])`. A node is one of:
//! - [`Node::Null`]: only as the root of an empty tree (hash `ZERO`). Every version has a root
//!   node, so an empty state is stored as `Node::Null` at `(version, [])`.
//! - [`Node::Leaf`] `{ key, value }`: a subtree holding exactly one key. It is stored directly in
//!   its parent's child slot, at the parent's path plus the slot's nibble (or at the root path
//!   when the whole tree holds one key), however deep the key's own path goes.
//! - [`Node::Internal`] `{ children }`: a subtree holding two or more keys, with 16 child slots
//!   indexed by the next nibble. A slot is empty or a [`Child`] `{ version, hash, is_leaf }`
//!   pointing at the node `(child.version, path + nibble)`. An internal node's hash is the binary
//!   hash above computed over its 16 slots as 4 levels: a range of slots holding nothing hashes to
//!   `ZERO`; a range holding exactly one child *which is a leaf* and nothing else hashes to that
//!   leaf's hash (collapse); a single slot holding an internal child hashes to that child's hash
//!   (an internal child holds ≥ 2 keys, so it never collapses); any other range is
//!   `H(node, lower half, upper half)`. An internal node therefore never has a single leaf child
//!   and never has no child (decoding refuses both).
//!
//! Each [`SparseMerkleTree::put_batch`] reads version `v - 1` (or nothing) and returns the new
//! nodes of version `v` and the index of nodes it made stale ([`StaleNodeIndex`]): a node is
//! *stale since `v`* when version `v` no longer references it, so it is needed only by versions
//! `< v`. Pruning at `oldest_kept` deletes nodes stale since `<= oldest_kept`. Every batch writes a
//! root node for its version, even when nothing changed (the previous root then becomes stale).
//!
//! # Canonical encodings
//! Integers are big-endian, as in [`crate::codec`].
//!
//! [`NodeKey`] (also the store's key, so that nodes sort by version, then path length, then path):
//! `version u64 || nibble_count u8 (<= 64) || packed nibbles`: `ceil(count / 2)` bytes, two
//! nibbles a byte, high nibble first; with an odd count the last low nibble is 0.
//!
//! [`Node`]: a tag byte, then
//! - `0x00` Null: nothing;
//! - `0x03` Internal: `present u16` (bit `1 << n` set iff slot `n` is occupied; never 0, and not
//!   a single leaf child) `|| leaves u16` (bit `1 << n` set iff slot `n` holds a leaf; only
//!   occupied slots), then for each occupied slot in increasing `n`: `version` as minimal
//!   LEB128 (7 bits a byte, low group first, high bit set on every byte but the last; at most
//!   10 bytes) `|| hash (32)`;
//! - `0x01` Internal, the first form (read, never written: stores written before `0x03`):
//!   `bitmap u16`, then for each occupied slot `version u64 || hash (32) || is_leaf (0x00 | 0x01)`;
//! - `0x02` Leaf: `key (32) || u32 value length (<= 65536) || value`.
//!
//! [`StaleNodeIndex`]: `stale_since_version u64 || NodeKey`.
//!
//! [`StateProof`] (the key is not part of the proof; the verifier brings it):
//! 1. `depth u16`: the number of siblings, `0..=256`;
//! 2. `bitmap`: `ceil(depth / 8)` bytes; bit `i` (byte `i / 8`, mask `0x80 >> (i % 8)`) is set
//!    iff sibling `i` is not `ZERO`; sibling 0 is the root's child, sibling `depth - 1` is next to
//!    the terminal; bits at positions `>= depth` must be 0;
//! 3. the non-`ZERO` siblings in order, 32 bytes each; a sibling marked present must not be
//!    `ZERO`;
//! 4. the terminal: `0x00` (the path ends in an empty subtree) or `0x01 || key (32) ||
//!    value_hash (32)` (it ends in a leaf, whose key may differ from the one being proved).
//!
//! Nothing may follow. Each proof has exactly one encoding.
//!
//! # Verification
//! [`StateProof::verify`] checks `(root, key, value)` where `value = Some(v)` claims the key is
//! present with value `v` and `None` claims it is absent:
//! 1. `depth <= 256`, else `TooDeep`;
//! 2. a leaf terminal must share its first `depth` bits with `key`, else `LeafOffPath`;
//! 3. `h = ZERO` (empty terminal) or `leaf_hash(leaf.key, leaf.value_hash)`; for `i` from
//!    `depth - 1` down to 0: `h = H(node, h, sibling_i)` if bit `i` of `key` is 0, else
//!    `H(node, sibling_i, h)`; `h` must equal `root`, else `RootMismatch`;
//! 4. a presence claim needs a leaf terminal with `leaf.key == key` (else `UnexpectedAbsence`)
//!    and `leaf.value_hash == value_hash(v)` (else `ValueMismatch`); an absence claim needs an
//!    empty terminal or a leaf with another key (else `UnexpectedPresence`).

mod levels;
mod memory;
mod node;
mod path;
mod proof;
mod restore;
mod tree;
mod update;

#[cfg(test)]
mod tests;

pub use levels::{
    COMPACT_SIBLINGS_TARGET, Keys, LEVELS_DEPTH_MAX, LevelNode, fold_levels, key_prefix, levels_for,
};
pub use memory::MemoryTreeStore;
pub use node::{Child, Children, Node, StaleNodeIndex, TreeReader, TreeUpdateBatch};
pub use path::{NibblePath, NodeKey};
pub use proof::{ProofLeaf, StateProof};
pub use restore::{ChunkLeaves, TreeRestorer, check_chunk};
pub use tree::{Region, SparseMerkleTree};

use crate::crypto::{Hash32, Suite, domain};

/// The largest value the tree stores, in bytes.
pub const VALUE_LEN_MAX: usize = 64 * 1024;

/// The depth of the logical binary tree: one level per key bit.
pub const TREE_DEPTH: usize = 256;

/// `H("lichen/smt/value/v1", value)`: what a leaf commits to instead of the value itself.
pub fn value_hash(suite: Suite, value: &[u8]) -> Hash32 {
    suite.hash(domain::SMT_VALUE, &[value])
}

/// `H("lichen/smt/leaf/v1", key || value_hash)`: the hash of a subtree holding only `key`.
pub fn leaf_hash(suite: Suite, key: &Hash32, value_hash: &Hash32) -> Hash32 {
    suite.hash(domain::SMT_LEAF, &[key.as_bytes(), value_hash.as_bytes()])
}

/// `H("lichen/smt/node/v1", left || right)`: the hash of a subtree holding two or more keys.
pub fn node_hash(suite: Suite, left: &Hash32, right: &Hash32) -> Hash32 {
    suite.hash(domain::SMT_NODE, &[left.as_bytes(), right.as_bytes()])
}

/// Nibble `i` (0..64) of a key: the high nibble of byte `i / 2` for even `i`, the low one for odd.
pub(crate) fn key_nibble(key: &Hash32, i: usize) -> u8 {
    let byte = key.0[i / 2];
    if i.is_multiple_of(2) {
        byte >> 4
    } else {
        byte & 0x0f
    }
}
