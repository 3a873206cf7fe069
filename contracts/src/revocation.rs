//! The revocation region: every licence that is not active (suspended, revoked, superseded) has a
//! *mark* in the state tree, and all marks live in one subtree, so that one certified state root
//! proves the complete list (PROTOCOL.md, "Revocation region").
//!
//! State keys are hashes, so entries are spread over the whole tree. Marks are not: a mark's key
//! is `REGION_PREFIX || tag(16) || 0^14`, where the tag is the first 16 bytes of
//! `H("lichen/revocation-mark/v1", string(licence id))`. Every mark therefore lies in the subtree
//! of keys that start with the 16 bits [`REGION_PREFIX`]; a verifier given every leaf of that
//! subtree and the 16 siblings on its path rebuilds the state root, and so knows the list is
//! complete. A *sentinel* leaf (`REGION_PREFIX || 0xff^30`, value `[1]`, written at genesis and
//! never removed) keeps the region non-empty, so folding it up to the root is never ambiguous.
//! Ordinary entries whose hashed key happens to start with the prefix (about one in 65,536) are
//! *foreign leaves*: a package carries their key and value hash so the region hashes right.

use alloc::vec::Vec;

use crate::codec::{Decode, Encode, Reader, Writer};
use crate::crypto::{Hash32, Suite};
use crate::error::CodecError;
use crate::model::LicenceStatus;
use crate::smt::{leaf_hash, node_hash, value_hash};

/// The first 16 bits of every key in the revocation region.
pub const REGION_PREFIX: [u8; 2] = [0x00, 0x00];
/// The depth of the region's root in the binary tree, in bits.
pub const REGION_DEPTH_BITS: usize = 16;
/// Bytes of a mark's tag (the truncated hash of the licence id).
pub const MARK_TAG_BYTES: usize = 16;
/// The sentinel's value.
pub const SENTINEL_VALUE: [u8; 1] = [1];
/// Domain tag of a mark's tag.
pub const MARK_DOMAIN: &str = "lichen/revocation-mark/v1";

/// The tag of licence `id`'s mark: the first 16 bytes of `H("lichen/revocation-mark/v1",
/// string(id))`.
pub fn mark_tag(suite: Suite, id: &str) -> [u8; MARK_TAG_BYTES] {
    let mut w = Writer::with_capacity(4 + id.len());
    w.str(id);
    let h = suite.hash(MARK_DOMAIN, &[w.as_bytes()]);
    let mut tag = [0u8; MARK_TAG_BYTES];
    tag.copy_from_slice(&h.0[..MARK_TAG_BYTES]);
    tag
}

/// The state-tree key of the mark with `tag`.
pub fn mark_key(tag: &[u8; MARK_TAG_BYTES]) -> Hash32 {
    let mut key = [0u8; 32];
    key[..2].copy_from_slice(&REGION_PREFIX);
    key[2..2 + MARK_TAG_BYTES].copy_from_slice(tag);
    Hash32(key)
}

/// The state-tree key of the sentinel.
pub fn sentinel_key() -> Hash32 {
    let mut key = [0xffu8; 32];
    key[..2].copy_from_slice(&REGION_PREFIX);
    Hash32(key)
}

/// Whether `key` lies in the region.
pub fn in_region(key: &Hash32) -> bool {
    key.0[..2] == REGION_PREFIX
}

/// Whether `key` has the shape of a mark's key (the prefix, a tag, then 14 zero bytes).
pub fn is_mark_shaped(key: &Hash32) -> bool {
    in_region(key) && key.0[2 + MARK_TAG_BYTES..].iter().all(|b| *b == 0)
}

/// A mark's value: the licence's status (never active).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct RevocationMark {
    pub status: LicenceStatus,
}

impl Encode for RevocationMark {
    fn encode_to(&self, w: &mut Writer) {
        self.status.encode_to(w);
    }
}

impl Decode for RevocationMark {
    fn decode_from(r: &mut Reader<'_>) -> Result<Self, CodecError> {
        let status = LicenceStatus::decode_from(r)?;
        if status == LicenceStatus::Active {
            return Err(CodecError::InvalidValue {
                field: "revocation mark",
                reason: "an active licence has no mark",
            });
        }
        Ok(RevocationMark { status })
    }
}

/// The hash of the subtree holding exactly `leaves` (`(key, value hash)`, keys strictly
/// increasing, all sharing their first `depth` bits), by the state tree's rules.
pub fn subtree_hash(suite: Suite, leaves: &[(Hash32, Hash32)], depth: usize) -> Hash32 {
    match leaves {
        [] => Hash32::ZERO,
        [(key, vh)] => leaf_hash(suite, key, vh),
        _ => {
            assert!(depth < 256, "distinct keys split before bit 256");
            let split = leaves.partition_point(|(k, _)| !k.bit(depth));
            node_hash(
                suite,
                &subtree_hash(suite, &leaves[..split], depth + 1),
                &subtree_hash(suite, &leaves[split..], depth + 1),
            )
        }
    }
}

/// Folds the region's hash (a subtree of `count` keys at depth 16) up to the state root with
/// its 16 siblings (`siblings[0]` next to the root). A subtree of one key is a lone leaf: it
/// rises unchanged past empty siblings, as the tree's collapse rule says.
pub fn fold_region(
    suite: Suite,
    region: Hash32,
    count: usize,
    siblings: &[Hash32; REGION_DEPTH_BITS],
) -> Hash32 {
    let prefix = Hash32({
        let mut k = [0u8; 32];
        k[..2].copy_from_slice(&REGION_PREFIX);
        k
    });
    let (mut h, mut lone) = (region, count <= 1);
    for i in (0..REGION_DEPTH_BITS).rev() {
        let s = &siblings[i];
        if lone && *s == Hash32::ZERO {
            continue;
        }
        h = if prefix.bit(i) {
            node_hash(suite, s, &h)
        } else {
            node_hash(suite, &h, s)
        };
        lone = false;
    }
    h
}

/// The value hash of a mark with `status`.
pub fn mark_value_hash(suite: Suite, status: LicenceStatus) -> Hash32 {
    value_hash(suite, &RevocationMark { status }.to_bytes())
}

/// The region's leaves from a package's content: the sentinel, each mark and each foreign leaf,
/// sorted by key. `None` if two share a key.
pub fn region_leaves(
    suite: Suite,
    marks: &[([u8; MARK_TAG_BYTES], LicenceStatus)],
    foreign: &[(Hash32, Hash32)],
) -> Option<Vec<(Hash32, Hash32)>> {
    let mut leaves = Vec::with_capacity(marks.len() + foreign.len() + 1);
    leaves.push((sentinel_key(), value_hash(suite, &SENTINEL_VALUE)));
    let status_hashes = [
        LicenceStatus::Suspended,
        LicenceStatus::Revoked,
        LicenceStatus::Superseded,
    ]
    .map(|s| (s, mark_value_hash(suite, s)));
    for (tag, status) in marks {
        let vh = status_hashes.iter().find(|(s, _)| s == status)?.1;
        leaves.push((mark_key(tag), vh));
    }
    leaves.extend_from_slice(foreign);
    leaves.sort_unstable_by_key(|a| a.0);
    if leaves.windows(2).any(|w| w[0].0 == w[1].0) {
        return None;
    }
    Some(leaves)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::smt::{MemoryTreeStore, SparseMerkleTree};
    use alloc::collections::BTreeMap;

    fn root_of(suite: Suite, entries: &BTreeMap<Hash32, Option<alloc::vec::Vec<u8>>>) -> Hash32 {
        let store = MemoryTreeStore::new();
        SparseMerkleTree::new(&store, suite)
            .put_batch(None, 1, entries)
            .unwrap()
            .root_hash
    }

    /// The region folded up with the siblings the tree reports gives the tree's root, with one
    /// key in the region (the sentinel alone) and with many.
    #[test]
    fn region_folds_to_the_state_root() {
        for suite in [Suite::Sm, Suite::Intl] {
            for marks in [0usize, 1, 2, 40] {
                let mut entries = BTreeMap::new();
                entries.insert(sentinel_key(), Some(SENTINEL_VALUE.to_vec()));
                // An ordinary entry whose key happens to fall in the region.
                let mut foreign_key = [7u8; 32];
                foreign_key[..2].copy_from_slice(&REGION_PREFIX);
                entries.insert(Hash32(foreign_key), Some(b"foreign".to_vec()));
                for i in 0..200u32 {
                    let key = suite.hash("test", &[&i.to_be_bytes()]);
                    entries.insert(key, Some(i.to_be_bytes().to_vec()));
                }
                let mut listed = alloc::vec::Vec::new();
                for i in 0..marks {
                    let tag = mark_tag(suite, &alloc::format!("LIC-{i}"));
                    let status = LicenceStatus::Revoked;
                    entries.insert(mark_key(&tag), Some(RevocationMark { status }.to_bytes()));
                    listed.push((tag, status));
                }
                listed.sort();
                let mut store = MemoryTreeStore::new();
                let batch = SparseMerkleTree::new(&store, suite)
                    .put_batch(None, 1, &entries)
                    .unwrap();
                store.write_batch(&batch);
                let tree = SparseMerkleTree::new(&store, suite);
                let region = tree.region(1).unwrap();
                assert_eq!(region.leaves.len(), marks + 2);
                let foreign: alloc::vec::Vec<_> = region
                    .leaves
                    .iter()
                    .filter(|(k, _)| !is_mark_shaped(k) && *k != sentinel_key())
                    .map(|(k, v)| (*k, value_hash(suite, v)))
                    .collect();
                assert_eq!(foreign.len(), 1);
                let leaves = region_leaves(suite, &listed, &foreign).unwrap();
                let h = subtree_hash(suite, &leaves, REGION_DEPTH_BITS);
                let root = fold_region(suite, h, leaves.len(), &region.siblings);
                assert_eq!(root, batch.root_hash);
                assert_eq!(root, root_of(suite, &entries));
                // Leaving out one mark breaks it.
                if marks > 0 {
                    let fewer = region_leaves(suite, &listed[1..], &foreign).unwrap();
                    let h = subtree_hash(suite, &fewer, REGION_DEPTH_BITS);
                    assert_ne!(
                        fold_region(suite, h, fewer.len(), &region.siblings),
                        batch.root_hash
                    );
                }
            }
        }
    }
}
