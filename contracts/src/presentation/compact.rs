//! Compact presentations: a licence record and the lower part of its state proof against a trust
//! package's checkpoint, without the header, certificate, set changes and top tree levels the
//! verifier already holds in its package. What remains fits a QR code a phone reads easily.

use alloc::vec::Vec;

use super::expect_tag;
use crate::codec::{Decode, Encode, Reader, Writer};
use crate::crypto::{Hash32, Suite};
use crate::error::CodecError;
use crate::model::Licence;
use crate::smt::{LevelNode, StateProof, TREE_DEPTH, key_prefix, leaf_hash, node_hash, value_hash};

/// Leading byte of an encoded [`CompactPresentation`].
pub const COMPACT_TAG: u8 = 0x43; // 'C'

/// A licence as of a checkpoint: verifiable only with the trust package of that checkpoint.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct CompactPresentation {
    /// The checkpoint whose state root the proof leads to.
    pub checkpoint_height: u64,
    pub licence: Licence,
    pub proof: CompactProof,
}

/// The siblings of a present key from depth `top` down to its leaf; the leaf itself is the
/// verifier's (the key and the record's value hash), so it is not carried.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct CompactProof {
    /// The depth the package's levels reach: siblings above it are not carried.
    pub top: u8,
    /// Siblings at depths `top..top + len` (ZERO where empty).
    pub siblings: Vec<Hash32>,
}

impl CompactProof {
    /// The lower part of an inclusion proof: its siblings below depth `top`. `None` if the
    /// proof's terminal is not a leaf (it proves no key present).
    pub fn from_state_proof(proof: &StateProof, top: u8) -> Option<CompactProof> {
        proof.terminal.as_ref()?;
        Some(CompactProof {
            top,
            siblings: proof
                .siblings
                .iter()
                .skip(usize::from(top))
                .copied()
                .collect(),
        })
    }

    /// The depth of the leaf: `top` plus the siblings carried.
    pub fn depth(&self) -> usize {
        usize::from(self.top) + self.siblings.len()
    }

    /// Folds the leaf `(key, value)` up to depth `top` and checks it against the level node on
    /// its path (`levels[j]`, `j` the first `top` bits of the key; with `top` 0 the node is the
    /// root, whose hash is `root`).
    pub fn leads_to(
        &self,
        suite: Suite,
        key: &Hash32,
        value: &[u8],
        levels: &[LevelNode],
        root: &Hash32,
    ) -> bool {
        let mut h = leaf_hash(suite, key, &value_hash(suite, value));
        let top = usize::from(self.top);
        for (i, sibling) in self.siblings.iter().enumerate().rev() {
            h = if key.bit(top + i) {
                node_hash(suite, sibling, &h)
            } else {
                node_hash(suite, &h, sibling)
            };
        }
        if top == 0 {
            return h == *root;
        }
        levels
            .get(key_prefix(key, self.top))
            .is_some_and(|node| node.hash == h && node.hash != Hash32::ZERO)
    }
}

impl Encode for CompactProof {
    fn encode_to(&self, w: &mut Writer) {
        w.u8(self.top);
        w.u16(self.depth() as u16);
        let mut bitmap = alloc::vec![0u8; self.siblings.len().div_ceil(8)];
        for (i, s) in self.siblings.iter().enumerate() {
            if *s != Hash32::ZERO {
                bitmap[i / 8] |= 0x80 >> (i % 8);
            }
        }
        w.raw(&bitmap);
        for s in self.siblings.iter().filter(|s| **s != Hash32::ZERO) {
            s.encode_to(w);
        }
    }
}

impl Decode for CompactProof {
    fn decode_from(r: &mut Reader<'_>) -> Result<Self, CodecError> {
        let top = r.u8()?;
        let depth = usize::from(r.u16()?);
        if depth > TREE_DEPTH || depth < usize::from(top) {
            return Err(CodecError::InvalidValue {
                field: "compact proof",
                reason: "depth outside top..=256",
            });
        }
        let count = depth - usize::from(top);
        let bitmap = r.take(count.div_ceil(8))?;
        let mut siblings = Vec::with_capacity(count);
        for i in 0..bitmap.len() * 8 {
            let set = bitmap[i / 8] & (0x80 >> (i % 8)) != 0;
            if i >= count {
                if set {
                    return Err(CodecError::InvalidValue {
                        field: "compact proof",
                        reason: "a bitmap bit set past the depth",
                    });
                }
                continue;
            }
            if set {
                let s = Hash32::decode_from(r)?;
                if s == Hash32::ZERO {
                    return Err(CodecError::InvalidValue {
                        field: "compact proof",
                        reason: "a sibling marked present is zero",
                    });
                }
                siblings.push(s);
            } else {
                siblings.push(Hash32::ZERO);
            }
        }
        Ok(CompactProof { top, siblings })
    }
}

impl Encode for CompactPresentation {
    fn encode_to(&self, w: &mut Writer) {
        w.u8(COMPACT_TAG);
        w.u64(self.checkpoint_height);
        self.licence.encode_to(w);
        self.proof.encode_to(w);
    }
}

impl Decode for CompactPresentation {
    fn decode_from(r: &mut Reader<'_>) -> Result<Self, CodecError> {
        expect_tag(r, COMPACT_TAG, "compact presentation")?;
        Ok(CompactPresentation {
            checkpoint_height: r.u64()?,
            licence: Licence::decode_from(r)?,
            proof: CompactProof::decode_from(r)?,
        })
    }
}
