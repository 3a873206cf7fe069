//! Binary inclusion and non-inclusion proofs, their verification and canonical encoding.

use alloc::vec::Vec;

use crate::codec::{Decode, Encode, Reader, Writer};
use crate::crypto::{Hash32, Suite};
use crate::error::{CodecError, ProofError};

use super::{TREE_DEPTH, leaf_hash, node_hash, value_hash};

/// The leaf a proof's path ends in.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct ProofLeaf {
    /// The leaf's key: the proved key (inclusion) or another key on its path (non-inclusion).
    pub key: Hash32,
    /// `value_hash(value)` of the leaf.
    pub value_hash: Hash32,
}

/// A proof that a key has a given value, or no value, under a state root.
///
/// `siblings[i]` is the hash of the sibling subtree at depth `i + 1` on the key's path (index 0
/// is next to the root). The path ends at depth `siblings.len()` in `terminal`: `None` for an
/// empty subtree, or a leaf. Decoding guarantees `siblings.len() <= 256`; verification checks it
/// again for proofs built by hand.
#[derive(Clone, PartialEq, Eq, Debug, Default)]
pub struct StateProof {
    /// Sibling hashes from the root down.
    pub siblings: Vec<Hash32>,
    /// Where the path ends.
    pub terminal: Option<ProofLeaf>,
}

impl StateProof {
    /// The depth of the terminal: the number of siblings.
    pub fn depth(&self) -> usize {
        self.siblings.len()
    }

    /// Checks that under `root`, `key` has `value` (`Some`) or is absent (`None`).
    pub fn verify(
        &self,
        suite: Suite,
        root: &Hash32,
        key: &Hash32,
        value: Option<&[u8]>,
    ) -> Result<(), ProofError> {
        let value_hash = value.map(|v| value_hash(suite, v));
        self.verify_value_hash(suite, root, key, value_hash.as_ref())
    }

    /// Like [`StateProof::verify`], for a caller that holds only the value's hash.
    pub fn verify_value_hash(
        &self,
        suite: Suite,
        root: &Hash32,
        key: &Hash32,
        value_hash: Option<&Hash32>,
    ) -> Result<(), ProofError> {
        let computed = self.root_for(suite, key)?;
        if computed != *root {
            return Err(ProofError::RootMismatch {
                computed,
                expected: *root,
            });
        }
        match (value_hash, &self.terminal) {
            (Some(_), None) => Err(ProofError::UnexpectedAbsence { key: *key }),
            (Some(_), Some(leaf)) if leaf.key != *key => {
                Err(ProofError::UnexpectedAbsence { key: *key })
            }
            (Some(expected), Some(leaf)) if leaf.value_hash != *expected => {
                Err(ProofError::ValueMismatch)
            }
            (Some(_), Some(_)) => Ok(()),
            (None, Some(leaf)) if leaf.key == *key => {
                Err(ProofError::UnexpectedPresence { key: *key })
            }
            (None, _) => Ok(()),
        }
    }

    /// The root this proof leads to for `key`, after the structural checks (depth, leaf on the
    /// key's path). Says nothing about presence or absence by itself.
    pub fn root_for(&self, suite: Suite, key: &Hash32) -> Result<Hash32, ProofError> {
        let depth = self.depth();
        if depth > TREE_DEPTH {
            return Err(ProofError::TooDeep { len: depth });
        }
        let mut h = match &self.terminal {
            None => Hash32::ZERO,
            Some(leaf) => {
                if !shares_prefix(&leaf.key, key, depth) {
                    return Err(ProofError::LeafOffPath { key: *key });
                }
                leaf_hash(suite, &leaf.key, &leaf.value_hash)
            }
        };
        for (i, sibling) in self.siblings.iter().enumerate().rev() {
            h = if key.bit(i) {
                node_hash(suite, sibling, &h)
            } else {
                node_hash(suite, &h, sibling)
            };
        }
        Ok(h)
    }
}

/// Whether `a` and `b` agree on their first `bits` bits (`bits <= 256`).
fn shares_prefix(a: &Hash32, b: &Hash32, bits: usize) -> bool {
    let full = bits / 8;
    if a.0[..full] != b.0[..full] {
        return false;
    }
    let rest = bits % 8;
    if rest == 0 {
        return true;
    }
    let mask = 0xffu8 << (8 - rest);
    (a.0[full] ^ b.0[full]) & mask == 0
}

const TERMINAL_EMPTY: u8 = 0;
const TERMINAL_LEAF: u8 = 1;

impl Encode for StateProof {
    /// `depth u16 || bitmap || non-ZERO siblings || terminal` (module documentation). The depth
    /// must be at most 256 (decoding refuses more).
    fn encode_to(&self, w: &mut Writer) {
        let depth = self.depth();
        let depth16 = u16::try_from(depth).unwrap_or_else(|_| panic!("proof depth {depth}"));
        w.u16(depth16);
        let mut bitmap = alloc::vec![0u8; depth.div_ceil(8)];
        for (i, sibling) in self.siblings.iter().enumerate() {
            if *sibling != Hash32::ZERO {
                bitmap[i / 8] |= 0x80 >> (i % 8);
            }
        }
        w.raw(&bitmap);
        for sibling in self.siblings.iter().filter(|s| **s != Hash32::ZERO) {
            sibling.encode_to(w);
        }
        match &self.terminal {
            None => w.u8(TERMINAL_EMPTY),
            Some(leaf) => {
                w.u8(TERMINAL_LEAF);
                leaf.key.encode_to(w);
                leaf.value_hash.encode_to(w);
            }
        }
    }
}

impl Decode for StateProof {
    fn decode_from(r: &mut Reader<'_>) -> Result<Self, CodecError> {
        let depth = usize::from(r.u16()?);
        if depth > TREE_DEPTH {
            return Err(CodecError::TooLong {
                field: "smt proof depth",
                len: depth,
                max: TREE_DEPTH,
            });
        }
        let bitmap = r.take(depth.div_ceil(8))?;
        let rest = depth % 8;
        if rest != 0
            && bitmap
                .last()
                .is_some_and(|last| last & (0xffu8 >> rest) != 0)
        {
            return Err(CodecError::InvalidValue {
                field: "smt proof bitmap",
                reason: "bits set beyond the depth",
            });
        }
        let mut siblings = Vec::with_capacity(depth);
        for i in 0..depth {
            if bitmap[i / 8] & (0x80 >> (i % 8)) == 0 {
                siblings.push(Hash32::ZERO);
            } else {
                let sibling = Hash32::decode_from(r)?;
                if sibling == Hash32::ZERO {
                    return Err(CodecError::InvalidValue {
                        field: "smt proof sibling",
                        reason: "a sibling marked present is all zeros",
                    });
                }
                siblings.push(sibling);
            }
        }
        let terminal = match r.u8()? {
            TERMINAL_EMPTY => None,
            TERMINAL_LEAF => Some(ProofLeaf {
                key: Hash32::decode_from(r)?,
                value_hash: Hash32::decode_from(r)?,
            }),
            tag => {
                return Err(CodecError::InvalidTag {
                    what: "smt proof terminal",
                    tag,
                });
            }
        };
        Ok(StateProof { siblings, terminal })
    }
}
