//! Signatures: 64 bytes with their algorithm tag, refused on parsing when no valid signature has
//! that encoding.

use core::fmt;

use super::{ED25519_ORDER, SM2_ORDER, SigAlgo};
use crate::codec::{Decode, Encode, Reader, Writer};
use crate::error::{CodecError, CryptoError};

/// A signature: 64 bytes for both algorithms (SM2: r || s, big-endian; Ed25519: R || S).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Signature {
    pub(super) algo: SigAlgo,
    pub(super) bytes: [u8; 64],
}

/// `a < b` for 32-byte big-endian integers (array order is lexicographic, i.e. numeric here).
/// Variable time: only for public values.
fn be_lt(a: &[u8], b: &[u8; 32]) -> bool {
    a < &b[..]
}

/// `a < b` for 32-byte little-endian integers. Variable time: only for public values.
fn le_lt(a: &[u8], b: &[u8; 32]) -> bool {
    a.iter().rev().lt(b.iter().rev())
}

/// Checks one half (r or s) of an SM2 signature: a big-endian integer in [1, n-1].
fn check_sm2_scalar(
    half: &[u8],
    zero: &'static str,
    too_big: &'static str,
) -> Result<(), CryptoError> {
    let invalid = |reason| CryptoError::InvalidSignatureEncoding {
        algo: SigAlgo::Sm2,
        reason,
    };
    if half.iter().all(|&b| b == 0) {
        return Err(invalid(zero));
    }
    if !be_lt(half, &SM2_ORDER) {
        return Err(invalid(too_big));
    }
    Ok(())
}

impl Signature {
    /// Parses a 64-byte signature, refusing encodings no valid signature has (SM2: r or s not in
    /// [1, n-1]; Ed25519: S not reduced).
    pub fn from_bytes(algo: SigAlgo, bytes: &[u8]) -> Result<Self, CryptoError> {
        let bytes: [u8; 64] =
            bytes
                .try_into()
                .map_err(|_| CryptoError::InvalidSignatureEncoding {
                    algo,
                    reason: "signature must be 64 bytes",
                })?;
        match algo {
            SigAlgo::Sm2 => {
                check_sm2_scalar(
                    &bytes[..32],
                    "SM2 r is zero",
                    "SM2 r is not below the group order n",
                )?;
                check_sm2_scalar(
                    &bytes[32..],
                    "SM2 s is zero",
                    "SM2 s is not below the group order n",
                )?;
            }
            SigAlgo::Ed25519 => {
                if !le_lt(&bytes[32..], &ED25519_ORDER) {
                    return Err(CryptoError::InvalidSignatureEncoding {
                        algo,
                        reason: "Ed25519 S is not reduced (S >= L)",
                    });
                }
            }
        }
        Ok(Signature { algo, bytes })
    }

    pub fn algo(&self) -> SigAlgo {
        self.algo
    }

    pub fn as_bytes(&self) -> &[u8; 64] {
        &self.bytes
    }
}

impl fmt::Debug for Signature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.algo, crate::hex::encode(&self.bytes))
    }
}

/// `algo tag (u8) || 64 signature bytes`.
impl Encode for Signature {
    fn encode_to(&self, w: &mut Writer) {
        w.u8(self.algo.tag());
        w.raw(&self.bytes);
    }
}

impl Decode for Signature {
    fn decode_from(r: &mut Reader<'_>) -> Result<Self, CodecError> {
        let algo = SigAlgo::decode_from(r)?;
        let bytes = r.take(64)?;
        Ok(Signature::from_bytes(algo, bytes)?)
    }
}
