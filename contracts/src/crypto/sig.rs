//! Signature algorithms: SM2 (GB/T 32918, default user ID per GM/T 0009) and Ed25519 (RFC 8032,
//! strict verification). Keys and signatures always carry their algorithm tag.

use alloc::collections::BTreeMap;
use core::fmt;

use sm2::elliptic_curve::sec1::ToSec1Point;
use subtle::ConstantTimeEq;

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

/// Decodes a 32-byte Ed25519 point encoding as RFC 8032 requires: it must decompress and be the
/// canonical encoding of the point (y < p, and no "negative zero" x). ed25519-dalek alone
/// accepts non-canonical encodings (ZIP-215 rules), so the round trip is checked here.
fn ed25519_point(bytes: &[u8; 32]) -> Result<ed25519_dalek::VerifyingKey, &'static str> {
    let point = ed25519_dalek::VerifyingKey::from_bytes(bytes)
        .map_err(|_| "not a valid Ed25519 point encoding (does not decompress)")?;
    if point.to_edwards().compress().as_bytes() != bytes {
        return Err("non-canonical Ed25519 point encoding");
    }
    Ok(point)
}

impl PublicKey {
    /// Parses and validates a public key. SM2: a compressed SEC1 point on the curve, not the
    /// identity. Ed25519: a canonical point encoding that is not of small order.
    pub fn from_bytes(algo: SigAlgo, bytes: &[u8]) -> Result<Self, CryptoError> {
        let invalid = |reason| CryptoError::InvalidPublicKey { algo, reason };
        let mut stored = [0u8; 33];
        match algo {
            SigAlgo::Sm2 => {
                if bytes.len() != 33 {
                    return Err(invalid(
                        "SM2 public key must be 33 bytes (compressed SEC1 point)",
                    ));
                }
                if bytes[0] != 0x02 && bytes[0] != 0x03 {
                    return Err(invalid(
                        "SM2 public key must be a compressed point (prefix 0x02 or 0x03)",
                    ));
                }
                // Decompression checks x < p and that x^3 + ax + b is a square; a compressed
                // encoding cannot name the identity, and the sm2 public key type refuses it too.
                sm2::PublicKey::from_sec1_bytes(bytes)
                    .map_err(|_| invalid("not a point on the SM2 curve"))?;
                stored.copy_from_slice(bytes);
            }
            SigAlgo::Ed25519 => {
                let arr: &[u8; 32] = bytes
                    .try_into()
                    .map_err(|_| invalid("Ed25519 public key must be 32 bytes"))?;
                let point = ed25519_point(arr).map_err(invalid)?;
                if point.is_weak() {
                    return Err(invalid("Ed25519 public key has small order (weak key)"));
                }
                stored[..32].copy_from_slice(arr);
            }
        }
        Ok(PublicKey {
            algo,
            bytes: stored,
        })
    }

    pub fn algo(&self) -> SigAlgo {
        self.algo
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes[..self.algo.public_key_len()]
    }

    pub fn to_verifying_key(&self) -> VerifyingKey {
        // `from_bytes` validated exactly these checks, so neither can fail.
        match self.algo {
            SigAlgo::Sm2 => {
                match sm2::dsa::VerifyingKey::from_sec1_bytes(SM2_DEFAULT_USER_ID, self.as_bytes())
                {
                    Ok(vk) => VerifyingKey::Sm2(vk),
                    Err(_) => unreachable!("SM2 public key was validated when it was constructed"),
                }
            }
            SigAlgo::Ed25519 => {
                let mut arr = [0u8; 32];
                arr.copy_from_slice(self.as_bytes());
                match ed25519_dalek::VerifyingKey::from_bytes(&arr) {
                    Ok(vk) => VerifyingKey::Ed25519(vk),
                    Err(_) => {
                        unreachable!("Ed25519 public key was validated when it was constructed")
                    }
                }
            }
        }
    }

    /// Verifies `sig` over `msg` (SM2: with [`SM2_DEFAULT_USER_ID`]; Ed25519: strict).
    pub fn verify(&self, msg: &[u8], sig: &Signature) -> Result<(), CryptoError> {
        if self.algo != sig.algo {
            return Err(CryptoError::AlgorithmMismatch {
                key: self.algo,
                signature: sig.algo,
            });
        }
        self.to_verifying_key().verify(msg, sig)
    }
}

impl VerifyingKey {
    pub fn algo(&self) -> SigAlgo {
        match self {
            VerifyingKey::Sm2(_) => SigAlgo::Sm2,
            VerifyingKey::Ed25519(_) => SigAlgo::Ed25519,
        }
    }

    pub fn verify(&self, msg: &[u8], sig: &Signature) -> Result<(), CryptoError> {
        if self.algo() != sig.algo {
            return Err(CryptoError::AlgorithmMismatch {
                key: self.algo(),
                signature: sig.algo,
            });
        }
        let bad = CryptoError::BadSignature { algo: sig.algo };
        match self {
            VerifyingKey::Sm2(vk) => {
                use sm2::dsa::signature::Verifier;
                // e = SM3(Z_A || msg), Z_A computed from SM2_DEFAULT_USER_ID by the verifying key.
                let sig = sm2::dsa::Signature::from_slice(&sig.bytes).map_err(|_| bad.clone())?;
                vk.verify(msg, &sig).map_err(|_| bad)
            }
            VerifyingKey::Ed25519(vk) => {
                let sig = ed25519_dalek::Signature::from_bytes(&sig.bytes);
                vk.verify_strict(msg, &sig).map_err(|_| bad)
            }
        }
    }
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

impl SecretKey {
    /// A secret key from 32 bytes of key material (Ed25519: the RFC 8032 seed; SM2: the scalar d,
    /// which must lie in [1, n-2]). The caller supplies randomness: `contracts` has none.
    pub fn from_bytes(algo: SigAlgo, bytes: &[u8; 32]) -> Result<Self, CryptoError> {
        if algo == SigAlgo::Sm2 {
            let invalid = |reason| CryptoError::InvalidSecretKey { algo, reason };
            // NonZeroScalar parsing accepts exactly [1, n-1] (in constant time); n - 1 is refused
            // because signing divides by 1 + d.
            if bytes.iter().all(|&b| b == 0) {
                return Err(invalid("SM2 secret scalar is zero"));
            }
            let in_range = sm2::NonZeroScalar::try_from(&bytes[..]).is_ok();
            if !in_range || bool::from(bytes.ct_eq(&SM2_ORDER_MINUS_1)) {
                return Err(invalid("SM2 secret scalar is not below n - 1"));
            }
        }
        Ok(SecretKey {
            algo,
            bytes: zeroize::Zeroizing::new(*bytes),
        })
    }

    pub fn algo(&self) -> SigAlgo {
        self.algo
    }

    /// The raw key material, for the keystore only.
    pub fn expose_bytes(&self) -> &[u8; 32] {
        &self.bytes
    }

    pub fn public_key(&self) -> PublicKey {
        let mut stored = [0u8; 33];
        match self.algo {
            SigAlgo::Sm2 => {
                let sk = self.sm2_signing_key();
                let point = sk.verifying_key().to_sec1_point(true);
                stored.copy_from_slice(point.as_bytes());
            }
            SigAlgo::Ed25519 => {
                let sk = ed25519_dalek::SigningKey::from_bytes(&self.bytes);
                stored[..32].copy_from_slice(sk.verifying_key().as_bytes());
            }
        }
        // A key derived from a valid secret is valid: [d]G for d in [1, n-1] is never the
        // identity, and an Ed25519 key [a]B with a clamped a lies in the prime-order subgroup.
        PublicKey {
            algo: self.algo,
            bytes: stored,
        }
    }

    /// Signs `msg`. Deterministic (RFC 6979-style nonces for SM2, RFC 8032 for Ed25519), so signing
    /// needs no randomness and leaks no nonce.
    pub fn sign(&self, msg: &[u8]) -> Signature {
        let bytes = match self.algo {
            SigAlgo::Sm2 => sm2_sign(&self.sm2_signing_key(), msg),
            SigAlgo::Ed25519 => {
                use ed25519_dalek::Signer;
                let sk = ed25519_dalek::SigningKey::from_bytes(&self.bytes);
                sk.sign(msg).to_bytes()
            }
        };
        Signature {
            algo: self.algo,
            bytes,
        }
    }

    fn sm2_signing_key(&self) -> sm2::dsa::SigningKey {
        match sm2::dsa::SigningKey::from_slice(SM2_DEFAULT_USER_ID, &self.bytes[..]) {
            Ok(sk) => sk,
            Err(_) => unreachable!("SM2 secret key was validated when it was constructed"),
        }
    }
}

/// SM2 signing (GB/T 32918.2 with Z_A from [`SM2_DEFAULT_USER_ID`]). The sm2 crate draws the
/// nonce k from an RFC 6979 HMAC-DRBG (HMAC-SM3) seeded with d and e, rejection-sampled into
/// [1, n-1]. Its one-shot path gives up (instead of drawing again) when r = 0, r + k = n or
/// s = 0, events of probability about 2^-256; then we re-seed the DRBG with a counter as its
/// "additional data" (RFC 6979 section 3.6), which is still deterministic.
fn sm2_sign(sk: &sm2::dsa::SigningKey, msg: &[u8]) -> [u8; 64] {
    use sm2::dsa::signature::{RandomizedSigner, Signer};
    let mut out = [0u8; 64];
    if let Ok(sig) = sk.try_sign(msg) {
        out.copy_from_slice(&sig.to_bytes());
        return out;
    }
    for counter in 1..=u8::MAX {
        if let Ok(sig) = sk.try_sign_with_rng(&mut CounterData(counter), msg) {
            out.copy_from_slice(&sig.to_bytes());
            return out;
        }
    }
    unreachable!("SM2 signing failed 256 times in a row (probability about 2^-2000)")
}

/// A "random" source that always yields the same byte: only used as RFC 6979 additional data
/// to re-seed SM2's deterministic nonce generator.
struct CounterData(u8);

impl sm2::dsa::signature::rand_core::TryRng for CounterData {
    type Error = core::convert::Infallible;

    fn try_next_u32(&mut self) -> Result<u32, Self::Error> {
        Ok(u32::from_le_bytes([self.0; 4]))
    }

    fn try_next_u64(&mut self) -> Result<u64, Self::Error> {
        Ok(u64::from_le_bytes([self.0; 8]))
    }

    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Self::Error> {
        dst.fill(self.0);
        Ok(())
    }
}

impl sm2::dsa::signature::rand_core::TryCryptoRng for CounterData {}

/// Verifies many signatures at once: `Ok` exactly when every item verifies on its own; the index
/// of the first bad item is reported.
///
/// The verdict is, by construction, the one [`PublicKey::verify`] gives item by item: items are
/// checked in order, each public key is decompressed (and for SM2 its Z_A hashed) once per
/// batch, and the first failure is reported as [`CryptoError::BatchItemInvalid`]. An empty
/// batch is `Ok`.
///
/// Why ed25519-dalek's `verify_batch` is *not* used (measured and tested, see
/// `tests/crypto_vectors.rs`): its equation is cofactorless with deterministic 128-bit weights
/// z_i (a Merlin transcript of the inputs; no OS randomness), `sum z_i * (R_i - [s_i]B +
/// [k_i]A_i) == 0`, while `verify_strict` compares the bytes of R with `[s]B - [k]A` and refuses
/// small-order R and A. Canonical-R and small-order pre-checks close two of the gaps, but not the
/// third: if R (or A) has a torsion component, the residual `R_i - [s_i]B + [k_i]A_i` is a
/// non-zero point of order 2, 4 or 8 that the weights cancel with probability 1/2 to 1/8, so the
/// batch accepts signatures that strict verification refuses (an attacker grinds the message
/// until it does). Closing it needs a torsion check (`[L]P == 0`) of every R (and of every
/// distinct A), and one such check costs almost as much as a strict verification (measured on
/// the 2-core dev machine, release: bare batch ~20 us per item, torsion check ~30 us per point,
/// `verify_strict` ~42 us), so an exact batch is slower than checking one by one. Consensus and
/// offline verifiers need identical verdicts, so Lichen checks one by one.
pub fn verify_batch(items: &[(&PublicKey, &[u8], &Signature)]) -> Result<(), CryptoError> {
    let mut parsed: BTreeMap<&PublicKey, VerifyingKey> = BTreeMap::new();
    for (index, (key, msg, sig)) in items.iter().enumerate() {
        let invalid = CryptoError::BatchItemInvalid { index };
        if key.algo != sig.algo {
            return Err(invalid);
        }
        let vk = parsed.entry(*key).or_insert_with(|| key.to_verifying_key());
        vk.verify(msg, sig).map_err(|_| invalid)?;
    }
    Ok(())
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

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;
    use crate::codec::{Decode, Encode};
    use std::format;
    use std::vec::Vec;

    fn key(algo: SigAlgo, fill: u8) -> SecretKey {
        SecretKey::from_bytes(algo, &[fill; 32]).unwrap()
    }

    fn unhex32(text: &str) -> [u8; 32] {
        crate::hex::decode(text).unwrap().try_into().unwrap()
    }

    const ALGOS: [SigAlgo; 2] = [SigAlgo::Sm2, SigAlgo::Ed25519];

    #[test]
    fn sign_verify_round_trip_both_algorithms() {
        for algo in ALGOS {
            let sk = key(algo, 7);
            let pk = sk.public_key();
            assert_eq!(pk.algo(), algo);
            assert_eq!(pk.as_bytes().len(), algo.public_key_len());
            // The derived key passes the same validation as a key read from the wire.
            assert_eq!(PublicKey::from_bytes(algo, pk.as_bytes()).unwrap(), pk);
            let sig = sk.sign(b"licence 42 issued");
            assert_eq!(sig.algo(), algo);
            pk.verify(b"licence 42 issued", &sig).unwrap();
            pk.to_verifying_key()
                .verify(b"licence 42 issued", &sig)
                .unwrap();
            assert_eq!(Signature::from_bytes(algo, sig.as_bytes()).unwrap(), sig);
            // Deterministic: no randomness, same signature every time.
            assert_eq!(sk.sign(b"licence 42 issued"), sig);
            assert_ne!(sk.sign(b"licence 43 issued"), sig);
            let empty = sk.sign(b"");
            pk.verify(b"", &empty).unwrap();
        }
    }

    #[test]
    fn wrong_message_or_key_fails() {
        for algo in ALGOS {
            let sk = key(algo, 7);
            let other = key(algo, 8).public_key();
            let sig = sk.sign(b"msg");
            let bad = Err(CryptoError::BadSignature { algo });
            assert_eq!(sk.public_key().verify(b"msh", &sig), bad);
            assert_eq!(sk.public_key().verify(b"msg\0", &sig), bad);
            assert_eq!(other.verify(b"msg", &sig), bad);
        }
    }

    #[test]
    fn sm2_signature_uses_the_default_user_id() {
        use sm2::dsa::signature::Verifier;
        let sk = key(SigAlgo::Sm2, 3);
        let sig = sk.sign(b"abc");
        let raw = sm2::dsa::Signature::from_slice(sig.as_bytes()).unwrap();
        let pk = sk.public_key();
        let with = |id| sm2::dsa::VerifyingKey::from_sec1_bytes(id, pk.as_bytes()).unwrap();
        assert!(with("1234567812345678").verify(b"abc", &raw).is_ok());
        assert!(with("ALICE123@YAHOO.COM").verify(b"abc", &raw).is_err());
    }

    #[test]
    fn mismatched_algorithms_are_refused() {
        let sm2_key = key(SigAlgo::Sm2, 1);
        let ed_key = key(SigAlgo::Ed25519, 1);
        let sm2_sig = sm2_key.sign(b"m");
        let ed_sig = ed_key.sign(b"m");
        assert_eq!(
            sm2_key.public_key().verify(b"m", &ed_sig),
            Err(CryptoError::AlgorithmMismatch {
                key: SigAlgo::Sm2,
                signature: SigAlgo::Ed25519
            })
        );
        assert_eq!(
            ed_key
                .public_key()
                .to_verifying_key()
                .verify(b"m", &sm2_sig),
            Err(CryptoError::AlgorithmMismatch {
                key: SigAlgo::Ed25519,
                signature: SigAlgo::Sm2
            })
        );
    }

    fn pk_reason(algo: SigAlgo, bytes: &[u8]) -> &'static str {
        match PublicKey::from_bytes(algo, bytes) {
            Err(CryptoError::InvalidPublicKey { algo: a, reason }) if a == algo => reason,
            other => panic!("expected InvalidPublicKey, got {other:?}"),
        }
    }

    #[test]
    fn invalid_sm2_public_keys_are_refused_with_reasons() {
        let good = key(SigAlgo::Sm2, 9).public_key();
        let good = good.as_bytes();
        assert!(pk_reason(SigAlgo::Sm2, &good[..32]).contains("33 bytes"));
        assert!(pk_reason(SigAlgo::Sm2, &[good, &[0]].concat()).contains("33 bytes"));
        assert!(pk_reason(SigAlgo::Sm2, &[]).contains("33 bytes"));
        for prefix in [0x00, 0x01, 0x04, 0x05, 0xff] {
            let mut b = [0u8; 33];
            b.copy_from_slice(good);
            b[0] = prefix;
            assert!(pk_reason(SigAlgo::Sm2, &b).contains("prefix"), "{prefix}");
        }
        // x >= p is not a field element.
        let mut b = [0xffu8; 33];
        b[0] = 0x02;
        assert_eq!(pk_reason(SigAlgo::Sm2, &b), "not a point on the SM2 curve");
        // About half of all x have no point: find one among small x.
        let off_curve = (0u8..=255)
            .find_map(|x| {
                let mut b = [0u8; 33];
                b[0] = 0x02;
                b[32] = x;
                PublicKey::from_bytes(SigAlgo::Sm2, &b).err()
            })
            .unwrap();
        assert_eq!(
            off_curve,
            CryptoError::InvalidPublicKey {
                algo: SigAlgo::Sm2,
                reason: "not a point on the SM2 curve"
            }
        );
        // An uncompressed (65-byte) encoding of a valid point is refused too: one encoding only.
        let vk = good_sm2_uncompressed();
        assert_eq!(vk.len(), 65);
        assert!(pk_reason(SigAlgo::Sm2, &vk).contains("33 bytes"));
    }

    fn good_sm2_uncompressed() -> Vec<u8> {
        let pk = key(SigAlgo::Sm2, 9).public_key();
        let VerifyingKey::Sm2(vk) = pk.to_verifying_key() else {
            unreachable!()
        };
        vk.to_sec1_point(false).as_bytes().to_vec()
    }

    #[test]
    fn invalid_ed25519_public_keys_are_refused_with_reasons() {
        let good = key(SigAlgo::Ed25519, 9).public_key();
        let good = good.as_bytes();
        assert!(pk_reason(SigAlgo::Ed25519, &good[..31]).contains("32 bytes"));
        assert!(pk_reason(SigAlgo::Ed25519, &[good, &[0]].concat()).contains("32 bytes"));
        // The identity (y = 1) and the point of order 2 (y = -1) have small order.
        let identity = unhex32("0100000000000000000000000000000000000000000000000000000000000000");
        let order2 = unhex32("ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f");
        // A point of order 8 (from the Wycheproof / "Taming the many EdDSAs" lists).
        let order8 = unhex32("c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a");
        for weak in [identity, order2, order8] {
            assert_eq!(
                pk_reason(SigAlgo::Ed25519, &weak),
                "Ed25519 public key has small order (weak key)"
            );
        }
        // y = p + 1 is a non-canonical encoding of the identity; so is x = "-0".
        let y_p_plus_1 =
            unhex32("eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f");
        let minus_zero =
            unhex32("0100000000000000000000000000000000000000000000000000000000000080");
        for non_canonical in [y_p_plus_1, minus_zero] {
            assert_eq!(
                pk_reason(SigAlgo::Ed25519, &non_canonical),
                "non-canonical Ed25519 point encoding"
            );
        }
        // y + p encodes the same point as y (possible for y < 19): find a valid key among those.
        let (y, y_plus_p) = (2u8..19)
            .find_map(|y| {
                let mut b = [0u8; 32];
                b[0] = y;
                PublicKey::from_bytes(SigAlgo::Ed25519, &b).ok()?;
                let mut alias = [0xffu8; 32];
                alias[0] = 0xed + y;
                alias[31] = 0x7f;
                Some((y, alias))
            })
            .unwrap();
        assert_eq!(
            pk_reason(SigAlgo::Ed25519, &y_plus_p),
            "non-canonical Ed25519 point encoding",
            "y = {y}"
        );
        // About half of all y have no point.
        let undecodable = (2u8..=255)
            .find_map(|y| {
                let mut b = [0u8; 32];
                b[0] = y;
                match PublicKey::from_bytes(SigAlgo::Ed25519, &b) {
                    Err(CryptoError::InvalidPublicKey { reason, .. })
                        if reason.contains("does not decompress") =>
                    {
                        Some(reason)
                    }
                    _ => None,
                }
            })
            .unwrap();
        assert_eq!(
            undecodable,
            "not a valid Ed25519 point encoding (does not decompress)"
        );
    }

    fn sig_reason(algo: SigAlgo, bytes: &[u8]) -> &'static str {
        match Signature::from_bytes(algo, bytes) {
            Err(CryptoError::InvalidSignatureEncoding { algo: a, reason }) if a == algo => reason,
            other => panic!("expected InvalidSignatureEncoding, got {other:?}"),
        }
    }

    #[test]
    fn invalid_signature_encodings_are_refused_with_reasons() {
        for algo in ALGOS {
            let sig = key(algo, 5).sign(b"x");
            let b = sig.as_bytes();
            assert_eq!(sig_reason(algo, &b[..63]), "signature must be 64 bytes");
            assert_eq!(
                sig_reason(algo, &[&b[..], &[0]].concat()),
                "signature must be 64 bytes"
            );
            assert_eq!(sig_reason(algo, &[]), "signature must be 64 bytes");
        }
        let sm2 = |r: [u8; 32], s: [u8; 32]| [r, s].concat();
        let one = {
            let mut one = [0u8; 32];
            one[31] = 1;
            one
        };
        let n_minus_1 = SM2_ORDER_MINUS_1;
        assert_eq!(
            sig_reason(SigAlgo::Sm2, &sm2([0; 32], one)),
            "SM2 r is zero"
        );
        assert_eq!(
            sig_reason(SigAlgo::Sm2, &sm2(one, [0; 32])),
            "SM2 s is zero"
        );
        for too_big in [SM2_ORDER, [0xff; 32]] {
            assert_eq!(
                sig_reason(SigAlgo::Sm2, &sm2(too_big, one)),
                "SM2 r is not below the group order n"
            );
            assert_eq!(
                sig_reason(SigAlgo::Sm2, &sm2(one, too_big)),
                "SM2 s is not below the group order n"
            );
        }
        // The edges of [1, n-1] parse (and then simply fail to verify).
        let edge = Signature::from_bytes(SigAlgo::Sm2, &sm2(one, n_minus_1)).unwrap();
        Signature::from_bytes(SigAlgo::Sm2, &sm2(n_minus_1, one)).unwrap();
        assert_eq!(
            key(SigAlgo::Sm2, 5).public_key().verify(b"x", &edge),
            Err(CryptoError::BadSignature { algo: SigAlgo::Sm2 })
        );

        // Ed25519: S must be below L; S = L - 1 parses, S = L, L + 1 and 2^256 - 1 do not.
        let ed = |s: [u8; 32]| [[0x58; 32], s].concat();
        let mut l_minus_1 = ED25519_ORDER;
        l_minus_1[0] -= 1;
        let mut l_plus_1 = ED25519_ORDER;
        l_plus_1[0] += 1;
        Signature::from_bytes(SigAlgo::Ed25519, &ed(l_minus_1)).unwrap();
        Signature::from_bytes(SigAlgo::Ed25519, &ed([0; 32])).unwrap();
        for s in [ED25519_ORDER, l_plus_1, [0xff; 32]] {
            assert_eq!(
                sig_reason(SigAlgo::Ed25519, &ed(s)),
                "Ed25519 S is not reduced (S >= L)"
            );
        }
    }

    #[test]
    fn secret_key_ranges() {
        let sk_reason = |bytes: &[u8; 32]| match SecretKey::from_bytes(SigAlgo::Sm2, bytes) {
            Err(CryptoError::InvalidSecretKey { algo, reason }) => {
                assert_eq!(algo, SigAlgo::Sm2);
                reason
            }
            other => panic!("expected InvalidSecretKey, got {other:?}"),
        };
        assert_eq!(sk_reason(&[0; 32]), "SM2 secret scalar is zero");
        let mut n_plus_1 = SM2_ORDER;
        n_plus_1[31] += 1;
        for bad in [SM2_ORDER_MINUS_1, SM2_ORDER, n_plus_1, [0xff; 32]] {
            assert_eq!(sk_reason(&bad), "SM2 secret scalar is not below n - 1");
        }
        let mut n_minus_2 = SM2_ORDER_MINUS_1;
        n_minus_2[31] -= 1;
        let mut one = [0u8; 32];
        one[31] = 1;
        for good in [one, n_minus_2] {
            let sk = SecretKey::from_bytes(SigAlgo::Sm2, &good).unwrap();
            assert_eq!(sk.expose_bytes(), &good);
            let sig = sk.sign(b"edge");
            sk.public_key().verify(b"edge", &sig).unwrap();
        }
        // Ed25519 takes any 32-byte seed.
        for seed in [[0u8; 32], [0xff; 32]] {
            let sk = SecretKey::from_bytes(SigAlgo::Ed25519, &seed).unwrap();
            let sig = sk.sign(b"edge");
            sk.public_key().verify(b"edge", &sig).unwrap();
        }
    }

    #[test]
    fn encode_decode_round_trip() {
        for algo in ALGOS {
            assert_eq!(SigAlgo::from_bytes(&algo.to_bytes()).unwrap(), algo);
            assert_eq!(SigAlgo::from_tag(algo.tag()).unwrap(), algo);
            assert_eq!(SigAlgo::from_name(algo.name()), Some(algo));

            let sk = key(algo, 11);
            let pk = sk.public_key();
            let encoded = pk.to_bytes();
            assert_eq!(encoded.len(), 1 + algo.public_key_len());
            assert_eq!(encoded[0], algo.tag());
            assert_eq!(&encoded[1..], pk.as_bytes());
            assert_eq!(<PublicKey as Decode>::from_bytes(&encoded).unwrap(), pk);

            let sig = sk.sign(b"encode me");
            let encoded = sig.to_bytes();
            assert_eq!(encoded.len(), 65);
            assert_eq!(encoded[0], algo.tag());
            assert_eq!(&encoded[1..], &sig.as_bytes()[..]);
            assert_eq!(<Signature as Decode>::from_bytes(&encoded).unwrap(), sig);

            // Trailing bytes and truncation are refused.
            let mut long = encoded.clone();
            long.push(0);
            assert!(<Signature as Decode>::from_bytes(&long).is_err());
            assert!(<Signature as Decode>::from_bytes(&encoded[..64]).is_err());
        }
        assert_eq!(
            SigAlgo::from_bytes(&[3]),
            Err(CodecError::Crypto(CryptoError::UnknownAlgorithm { tag: 3 }))
        );
        // A key that does not validate is a decode error carrying the crypto reason.
        let mut weak = [0u8; 33];
        weak[0] = SigAlgo::Ed25519.tag();
        weak[1] = 1; // the identity
        assert_eq!(
            <PublicKey as Decode>::from_bytes(&weak),
            Err(CodecError::Crypto(CryptoError::InvalidPublicKey {
                algo: SigAlgo::Ed25519,
                reason: "Ed25519 public key has small order (weak key)"
            }))
        );
        let mut big_s = [0xffu8; 65];
        big_s[0] = SigAlgo::Ed25519.tag();
        assert!(matches!(
            <Signature as Decode>::from_bytes(&big_s),
            Err(CodecError::Crypto(
                CryptoError::InvalidSignatureEncoding { .. }
            ))
        ));
    }

    #[test]
    fn secret_key_debug_is_redacted() {
        for algo in ALGOS {
            let sk = SecretKey::from_bytes(algo, &[0xab; 32]).unwrap();
            let shown = format!("{sk:?}");
            assert!(!shown.contains("ab"), "{shown}");
            assert!(!shown.contains("171"), "{shown}");
            assert!(shown.contains("redacted"));
        }
    }

    #[test]
    fn debug_of_public_key_and_signature_is_tagged_hex() {
        let sk = key(SigAlgo::Ed25519, 2);
        let pk = sk.public_key();
        assert_eq!(
            format!("{pk:?}"),
            format!("ed25519:{}", crate::hex::encode(pk.as_bytes()))
        );
        assert_eq!(format!("{pk}"), format!("{pk:?}"));
        assert!(format!("{:?}", sk.sign(b"")).starts_with("ed25519:"));
        assert_eq!(
            format!("{:?}", pk.to_verifying_key()),
            "VerifyingKey(ed25519)"
        );
    }

    #[test]
    fn batch_verdicts_match_single_verification() {
        let signers: Vec<SecretKey> = (1..=6)
            .map(|i| {
                key(
                    if i % 2 == 0 {
                        SigAlgo::Sm2
                    } else {
                        SigAlgo::Ed25519
                    },
                    i,
                )
            })
            .collect();
        let pks: Vec<PublicKey> = signers.iter().map(SecretKey::public_key).collect();
        let msgs: Vec<Vec<u8>> = (0..6).map(|i| format!("tx {i}").into_bytes()).collect();
        let sigs: Vec<Signature> = signers.iter().zip(&msgs).map(|(k, m)| k.sign(m)).collect();
        let items: Vec<(&PublicKey, &[u8], &Signature)> =
            (0..6).map(|i| (&pks[i], &msgs[i][..], &sigs[i])).collect();
        assert_eq!(verify_batch(&items), Ok(()));
        assert_eq!(verify_batch(&[]), Ok(()));
        // Only Ed25519, with a repeated key.
        let ed: Vec<_> = items
            .iter()
            .copied()
            .filter(|it| it.0.algo() == SigAlgo::Ed25519)
            .chain([items[0]])
            .collect();
        assert_eq!(verify_batch(&ed), Ok(()));

        // Each kind of bad item, at each position: the first bad index is reported.
        let wrong_msg: &[u8] = b"not what was signed";
        for bad in 0..6 {
            let mut broken = items.clone();
            broken[bad].1 = wrong_msg;
            assert_eq!(
                verify_batch(&broken),
                Err(CryptoError::BatchItemInvalid { index: bad })
            );
            let mut swapped = items.clone();
            swapped[bad].2 = &sigs[(bad + 1) % 6]; // other algorithm or other key
            assert_eq!(
                verify_batch(&swapped),
                Err(CryptoError::BatchItemInvalid { index: bad })
            );
            let mut two = broken.clone();
            two[5].1 = wrong_msg;
            assert_eq!(
                verify_batch(&two),
                Err(CryptoError::BatchItemInvalid { index: bad })
            );
        }
    }
}
