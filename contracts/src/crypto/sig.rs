//! Signature algorithms: SM2 (GB/T 32918, default user ID per GM/T 0009) and Ed25519 (RFC 8032,
//! strict verification). Keys and signatures always carry their algorithm tag.

use core::fmt;

use crate::codec::{Decode, Encode, Reader, Writer};
use crate::error::{CodecError, CryptoError};

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

/// A validated public key: constructing one checks the encoding, so holding one means it can verify.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PublicKey {
    algo: SigAlgo,
    /// The key bytes; for Ed25519 only the first 32 are used and the last is zero.
    bytes: [u8; 33],
}

/// A signature: 64 bytes for both algorithms (SM2: r || s, big-endian; Ed25519: R || S).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Signature {
    algo: SigAlgo,
    bytes: [u8; 64],
}

/// A secret key. Zeroed on drop; never printed.
pub struct SecretKey {
    algo: SigAlgo,
    bytes: zeroize::Zeroizing<[u8; 32]>,
}

/// A public key parsed once for repeated verification (validator keys, cached by consensus).
#[derive(Clone)]
pub enum VerifyingKey {
    Sm2(sm2::dsa::VerifyingKey),
    Ed25519(ed25519_dalek::VerifyingKey),
}

impl PublicKey {
    /// Parses and validates a public key. SM2: a compressed SEC1 point on the curve, not the
    /// identity. Ed25519: a canonical point encoding that is not of small order.
    pub fn from_bytes(algo: SigAlgo, bytes: &[u8]) -> Result<Self, CryptoError> {
        todo!("crypto helper")
    }

    pub fn algo(&self) -> SigAlgo {
        self.algo
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes[..self.algo.public_key_len()]
    }

    pub fn to_verifying_key(&self) -> VerifyingKey {
        todo!("crypto helper")
    }

    /// Verifies `sig` over `msg` (SM2: with [`SM2_DEFAULT_USER_ID`]; Ed25519: strict).
    pub fn verify(&self, msg: &[u8], sig: &Signature) -> Result<(), CryptoError> {
        self.to_verifying_key().verify(msg, sig)
    }
}

impl VerifyingKey {
    pub fn verify(&self, msg: &[u8], sig: &Signature) -> Result<(), CryptoError> {
        todo!("crypto helper")
    }
}

impl Signature {
    /// Parses a 64-byte signature, refusing encodings no valid signature has (SM2: r or s not in
    /// [1, n-1]; Ed25519: S not reduced).
    pub fn from_bytes(algo: SigAlgo, bytes: &[u8]) -> Result<Self, CryptoError> {
        todo!("crypto helper")
    }

    pub fn algo(&self) -> SigAlgo {
        self.algo
    }

    pub fn as_bytes(&self) -> &[u8; 64] {
        &self.bytes
    }
}

impl SecretKey {
    /// A secret key from 32 bytes of key material (Ed25519: the RFC 8032 seed; SM2: the scalar d,
    /// which must lie in [1, n-2]). The caller supplies randomness: `contracts` has none.
    pub fn from_bytes(algo: SigAlgo, bytes: &[u8; 32]) -> Result<Self, CryptoError> {
        todo!("crypto helper")
    }

    pub fn algo(&self) -> SigAlgo {
        self.algo
    }

    /// The raw key material, for the keystore only.
    pub fn expose_bytes(&self) -> &[u8; 32] {
        &self.bytes
    }

    pub fn public_key(&self) -> PublicKey {
        todo!("crypto helper")
    }

    /// Signs `msg`. Deterministic (RFC 6979-style nonces for SM2, RFC 8032 for Ed25519), so signing
    /// needs no randomness and leaks no nonce.
    pub fn sign(&self, msg: &[u8]) -> Signature {
        todo!("crypto helper")
    }
}

/// Verifies many signatures at once: `Ok` exactly when every item verifies on its own. Uses
/// Ed25519 batch verification where it can; the index of a bad item is reported.
pub fn verify_batch(items: &[(&PublicKey, &[u8], &Signature)]) -> Result<(), CryptoError> {
    todo!("crypto helper")
}

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.algo, crate::hex::encode(self.as_bytes()))
    }
}

impl fmt::Display for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}

impl fmt::Debug for Signature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.algo, crate::hex::encode(&self.bytes))
    }
}

impl fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SecretKey({}, <redacted>)", self.algo)
    }
}

impl fmt::Debug for VerifyingKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            VerifyingKey::Sm2(_) => f.write_str("VerifyingKey(sm2)"),
            VerifyingKey::Ed25519(_) => f.write_str("VerifyingKey(ed25519)"),
        }
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

/// `algo tag (u8) || key bytes (33 for SM2, 32 for Ed25519)`.
impl Encode for PublicKey {
    fn encode_to(&self, w: &mut Writer) {
        w.u8(self.algo.tag());
        w.raw(self.as_bytes());
    }
}

impl Decode for PublicKey {
    fn decode_from(r: &mut Reader<'_>) -> Result<Self, CodecError> {
        let algo = SigAlgo::decode_from(r)?;
        let bytes = r.take(algo.public_key_len())?;
        Ok(PublicKey::from_bytes(algo, bytes)?)
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
