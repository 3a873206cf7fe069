//! Nibble paths and the keys under which tree nodes are stored.

use core::fmt;

use crate::codec::{Decode, Encode, Reader, Writer};
use crate::crypto::Hash32;
use crate::error::CodecError;

use super::key_nibble;

/// A path of nibbles from the root, at most [`NibblePath::MAX_LEN`] (64) long.
///
/// Ordering is by length, then by the nibbles: the same order as the canonical encoding
/// (`count u8 || packed nibbles`), so sorting encoded [`NodeKey`]s and sorting the values agree.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct NibblePath {
    // Field order matters for the derived ordering: length first, then packed nibbles.
    len: u8,
    // Two nibbles a byte, high nibble first; every nibble at or past `len` is 0.
    packed: [u8; 32],
}

impl NibblePath {
    /// The longest path: one nibble per 4 bits of a 256-bit key.
    pub const MAX_LEN: usize = 64;

    /// The empty path: the root.
    pub const fn root() -> Self {
        NibblePath {
            len: 0,
            packed: [0; 32],
        }
    }

    /// The first `len` nibbles of `key`. Panics if `len > 64`.
    pub fn from_key(key: &Hash32, len: usize) -> Self {
        assert!(len <= Self::MAX_LEN, "nibble path longer than 64");
        let mut packed = [0u8; 32];
        packed[..len / 2].copy_from_slice(&key.0[..len / 2]);
        if len % 2 == 1 {
            packed[len / 2] = key.0[len / 2] & 0xf0;
        }
        NibblePath {
            len: len as u8,
            packed,
        }
    }

    /// The number of nibbles.
    pub fn len(&self) -> usize {
        usize::from(self.len)
    }

    /// Whether this is the root path.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Nibble `i`. Panics if `i >= len`.
    pub fn get(&self, i: usize) -> u8 {
        assert!(
            i < self.len(),
            "nibble index {i} out of a path of {}",
            self.len
        );
        let byte = self.packed[i / 2];
        if i.is_multiple_of(2) {
            byte >> 4
        } else {
            byte & 0x0f
        }
    }

    /// Appends one nibble. Panics if the path is already 64 long or `nibble > 15`.
    pub fn push(&mut self, nibble: u8) {
        assert!(self.len() < Self::MAX_LEN, "nibble path longer than 64");
        assert!(nibble < 16, "nibble {nibble} out of range");
        let i = self.len();
        if i.is_multiple_of(2) {
            self.packed[i / 2] = nibble << 4;
        } else {
            self.packed[i / 2] |= nibble;
        }
        self.len += 1;
    }

    /// This path extended by one nibble (the path of child slot `nibble`).
    pub fn child(&self, nibble: u8) -> Self {
        let mut out = *self;
        out.push(nibble);
        out
    }

    /// Whether `key`'s path starts with this path.
    pub fn is_prefix_of(&self, key: &Hash32) -> bool {
        (0..self.len()).all(|i| self.get(i) == key_nibble(key, i))
    }

    /// The nibbles, root first.
    pub fn nibbles(&self) -> impl Iterator<Item = u8> + '_ {
        (0..self.len()).map(|i| self.get(i))
    }

    /// The packed bytes: `ceil(len / 2)` of them, high nibble first, a trailing low nibble 0.
    pub fn packed(&self) -> &[u8] {
        &self.packed[..self.len().div_ceil(2)]
    }
}

impl fmt::Debug for NibblePath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "NibblePath(")?;
        for n in self.nibbles() {
            write!(f, "{n:x}")?;
        }
        write!(f, ")")
    }
}

impl Encode for NibblePath {
    /// `count u8 || packed nibbles`.
    fn encode_to(&self, w: &mut Writer) {
        w.u8(self.len);
        w.raw(self.packed());
    }
}

impl Decode for NibblePath {
    fn decode_from(r: &mut Reader<'_>) -> Result<Self, CodecError> {
        let len = r.u8()?;
        if usize::from(len) > Self::MAX_LEN {
            return Err(CodecError::TooLong {
                field: "smt nibble path",
                len: usize::from(len),
                max: Self::MAX_LEN,
            });
        }
        let bytes = r.take(usize::from(len).div_ceil(2))?;
        let mut packed = [0u8; 32];
        packed[..bytes.len()].copy_from_slice(bytes);
        if len % 2 == 1 && packed[usize::from(len) / 2] & 0x0f != 0 {
            return Err(CodecError::InvalidValue {
                field: "smt nibble path",
                reason: "padding nibble is not 0",
            });
        }
        Ok(NibblePath { len, packed })
    }
}

/// Where a tree node is stored: the version that wrote it and its path from the root.
///
/// Encoded as `version u64 || nibble count u8 || packed nibbles` (big-endian), so byte order of
/// encoded keys is the derived order: by version, then path length, then path.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
pub struct NodeKey {
    /// The version (block height) that wrote the node.
    pub version: u64,
    /// The node's position: nibbles from the root.
    pub path: NibblePath,
}

impl NodeKey {
    /// The key of a node.
    pub fn new(version: u64, path: NibblePath) -> Self {
        NodeKey { version, path }
    }

    /// The key of the root node of `version`.
    pub fn root(version: u64) -> Self {
        NodeKey {
            version,
            path: NibblePath::root(),
        }
    }
}

impl Encode for NodeKey {
    fn encode_to(&self, w: &mut Writer) {
        w.u64(self.version);
        self.path.encode_to(w);
    }
}

impl Decode for NodeKey {
    fn decode_from(r: &mut Reader<'_>) -> Result<Self, CodecError> {
        Ok(NodeKey {
            version: r.u64()?,
            path: NibblePath::decode_from(r)?,
        })
    }
}
