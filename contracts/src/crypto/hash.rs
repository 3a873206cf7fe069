//! The chain's hash function, always used with a domain tag so that no two kinds of object can
//! ever share a digest.

use core::fmt;

use sha2::{Digest, Sha256};
use sm3::Sm3;

use crate::codec::{Decode, Encode, Reader, Writer};
use crate::error::CodecError;

/// Domain tags: one per kind of hashed or signed object (PROTOCOL.md, "Hashes").
pub mod domain {
    pub const TX: &str = "lichen/tx/v1";
    pub const TX_WITNESS: &str = "lichen/tx-witness/v1";
    pub const TX_ROOT_LEAF: &str = "lichen/tx-root/leaf/v1";
    pub const TX_ROOT_NODE: &str = "lichen/tx-root/node/v1";
    pub const HEADER: &str = "lichen/header/v1";
    pub const VOTE: &str = "lichen/vote/v1";
    pub const PROPOSAL: &str = "lichen/proposal/v1";
    pub const VIEW_CHANGE: &str = "lichen/view-change/v1";
    pub const VALIDATOR_SET: &str = "lichen/validator-set/v1";
    pub const STATE_KEY: &str = "lichen/state-key/v1";
    pub const SMT_LEAF: &str = "lichen/smt/leaf/v1";
    pub const SMT_NODE: &str = "lichen/smt/node/v1";
    pub const SMT_VALUE: &str = "lichen/smt/value/v1";
    pub const TRUST_ANCHOR: &str = "lichen/trust-anchor/v1";
    pub const GENESIS: &str = "lichen/genesis/v1";
    pub const HOLDER_COMMITMENT: &str = "lichen/holder-commitment/v1";
}

/// A 32-byte digest.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Hash32(pub [u8; 32]);

impl Hash32 {
    pub const ZERO: Hash32 = Hash32([0u8; 32]);

    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    pub fn to_hex(&self) -> alloc::string::String {
        crate::hex::encode(&self.0)
    }

    pub fn from_hex(text: &str) -> Option<Self> {
        let bytes = crate::hex::decode(text)?;
        Some(Hash32(bytes.try_into().ok()?))
    }

    /// Bit `i` counted from the most significant bit of byte 0 (the sparse Merkle tree's path).
    pub fn bit(&self, i: usize) -> bool {
        (self.0[i / 8] >> (7 - (i % 8))) & 1 == 1
    }
}

impl fmt::Debug for Hash32 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.to_hex())
    }
}

impl fmt::Display for Hash32 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.to_hex())
    }
}

impl Encode for Hash32 {
    fn encode_to(&self, w: &mut Writer) {
        w.raw(&self.0);
    }
}

impl Decode for Hash32 {
    fn decode_from(r: &mut Reader<'_>) -> Result<Self, CodecError> {
        Ok(Hash32(r.array()?))
    }
}

/// The crypto suite of a chain, fixed at genesis.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
pub enum Suite {
    /// SM3 hashes, SM2 signatures (GB/T 32905, GB/T 32918). The default.
    Sm,
    /// SHA-256 hashes, Ed25519 signatures (FIPS 180-4, RFC 8032).
    Intl,
}

impl Suite {
    pub fn tag(self) -> u8 {
        match self {
            Suite::Sm => 1,
            Suite::Intl => 2,
        }
    }

    pub fn from_tag(tag: u8) -> Result<Self, CodecError> {
        match tag {
            1 => Ok(Suite::Sm),
            2 => Ok(Suite::Intl),
            tag => Err(CodecError::InvalidTag { what: "suite", tag }),
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Suite::Sm => "sm",
            Suite::Intl => "intl",
        }
    }

    pub fn from_name(name: &str) -> Option<Self> {
        match name {
            "sm" => Some(Suite::Sm),
            "intl" => Some(Suite::Intl),
            _ => None,
        }
    }

    /// The signature algorithm validators and the council use on a chain of this suite.
    pub fn sig_algo(self) -> super::SigAlgo {
        match self {
            Suite::Sm => super::SigAlgo::Sm2,
            Suite::Intl => super::SigAlgo::Ed25519,
        }
    }

    /// The plain digest of some bytes, with no domain tag. Used only for documents (a licence file,
    /// an evidence file), so that `sm3sum` / `sha256sum` give the same value.
    pub fn digest(self, data: &[u8]) -> Hash32 {
        self.hash_parts_untagged(&[data])
    }

    /// `H(len(tag) as u8 || tag || part_0 || part_1 || ...)`: the only way Lichen hashes an
    /// object. The tag's one-byte length makes the boundary between tag and data unambiguous.
    pub fn hash(self, tag: &str, parts: &[&[u8]]) -> Hash32 {
        let tag = tag.as_bytes();
        assert!(tag.len() <= u8::MAX as usize, "domain tag too long");
        let len = [tag.len() as u8];
        let mut all = [&len[..], tag].into_iter().chain(parts.iter().copied());
        match self {
            Suite::Sm => {
                let mut h = Sm3::new();
                all.by_ref().for_each(|p| h.update(p));
                Hash32(h.finalize().into())
            }
            Suite::Intl => {
                let mut h = Sha256::new();
                all.by_ref().for_each(|p| h.update(p));
                Hash32(h.finalize().into())
            }
        }
    }

    fn hash_parts_untagged(self, parts: &[&[u8]]) -> Hash32 {
        match self {
            Suite::Sm => {
                let mut h = Sm3::new();
                parts.iter().for_each(|p| h.update(p));
                Hash32(h.finalize().into())
            }
            Suite::Intl => {
                let mut h = Sha256::new();
                parts.iter().for_each(|p| h.update(p));
                Hash32(h.finalize().into())
            }
        }
    }
}

impl Encode for Suite {
    fn encode_to(&self, w: &mut Writer) {
        w.u8(self.tag());
    }
}

impl Decode for Suite {
    fn decode_from(r: &mut Reader<'_>) -> Result<Self, CodecError> {
        Suite::from_tag(r.u8()?)
    }
}
