//! Signature algorithms: SM2 (GB/T 32918, default user ID per GM/T 0009) and Ed25519 (RFC 8032,
//! strict verification). Keys and signatures always carry their algorithm tag.
//!
//! `keys` holds the public, secret and parsed verifying keys; `signature` the signature and its
//! encoding checks; `batch` the batch verification with single-verification verdicts.

mod batch;
mod keys;
mod signature;
#[cfg(test)]
mod tests;

use core::fmt;

use crate::codec::{Decode, Encode, Reader, Writer};
use crate::error::{CodecError, CryptoError};

pub use batch::verify_batch;
pub use keys::{PublicKey, SecretKey, VerifyingKey};
pub use signature::Signature;

/// The SM2 distinguishing identifier every Lichen signature uses (GM/T 0009-2012 default).
pub const SM2_DEFAULT_USER_ID: &str = "1234567812345678";

/// A signature algorithm. The tag byte is part of every encoded key and signature.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
pub enum SigAlgo {
    /// SM2 over the GB/T 32918.5 curve; public keys are 33-byte compressed SEC1 points.
    Sm2,
    /// Ed25519; public keys are the 32-byte RFC 8032 encoding.
    Ed25519,
}

impl SigAlgo {
    pub fn tag(self) -> u8 {
        match self {
            SigAlgo::Sm2 => 1,
            SigAlgo::Ed25519 => 2,
        }
    }

    pub fn from_tag(tag: u8) -> Result<Self, CryptoError> {
        match tag {
            1 => Ok(SigAlgo::Sm2),
            2 => Ok(SigAlgo::Ed25519),
            tag => Err(CryptoError::UnknownAlgorithm { tag }),
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            SigAlgo::Sm2 => "sm2",
            SigAlgo::Ed25519 => "ed25519",
        }
    }

    pub fn from_name(name: &str) -> Option<Self> {
        match name {
            "sm2" => Some(SigAlgo::Sm2),
            "ed25519" => Some(SigAlgo::Ed25519),
            _ => None,
        }
    }

    /// Length of the encoded public key, without the tag byte.
    pub fn public_key_len(self) -> usize {
        match self {
            SigAlgo::Sm2 => 33,
            SigAlgo::Ed25519 => 32,
        }
    }
}

impl fmt::Display for SigAlgo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl Encode for SigAlgo {
    fn encode_to(&self, w: &mut Writer) {
        w.u8(self.tag());
    }
}

impl Decode for SigAlgo {
    fn decode_from(r: &mut Reader<'_>) -> Result<Self, CodecError> {
        Ok(SigAlgo::from_tag(r.u8()?)?)
    }
}

/// The order n of the SM2 group, big-endian (GB/T 32918.5-2017).
const SM2_ORDER: [u8; 32] = [
    0xff, 0xff, 0xff, 0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0x72, 0x03, 0xdf, 0x6b, 0x21, 0xc6, 0x05, 0x2b, 0x53, 0xbb, 0xf4, 0x09, 0x39, 0xd5, 0x41, 0x23,
];

/// n - 1, big-endian: the one non-zero scalar SM2 cannot use as a secret key, because signing
/// divides by 1 + d.
const SM2_ORDER_MINUS_1: [u8; 32] = [
    0xff, 0xff, 0xff, 0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0x72, 0x03, 0xdf, 0x6b, 0x21, 0xc6, 0x05, 0x2b, 0x53, 0xbb, 0xf4, 0x09, 0x39, 0xd5, 0x41, 0x22,
];

/// The order L of the Ed25519 prime-order subgroup, little-endian (RFC 8032 section 5.1).
const ED25519_ORDER: [u8; 32] = [
    0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde, 0x14,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x10,
];
