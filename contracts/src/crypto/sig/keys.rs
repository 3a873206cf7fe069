//! Public keys (validated on construction), secret keys (zeroed on drop) and verifying keys
//! parsed once for repeated verification.

use core::fmt;

use sm2::elliptic_curve::sec1::ToSec1Point;
use subtle::ConstantTimeEq;

use super::{SM2_DEFAULT_USER_ID, SM2_ORDER_MINUS_1, SigAlgo, Signature};
use crate::codec::{Decode, Encode, Reader, Writer};
use crate::error::{CodecError, CryptoError};

/// A validated public key: constructing one checks the encoding, so holding one means it can verify.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PublicKey {
    pub(super) algo: SigAlgo,
    /// The key bytes; for Ed25519 only the first 32 are used and the last is zero.
    pub(super) bytes: [u8; 33],
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
        #[cfg(feature = "memo")]
        if bytes.len() == algo.public_key_len() {
            stored[..bytes.len()].copy_from_slice(bytes);
            if crate::memo::key(algo, &stored).is_some() {
                return Ok(PublicKey {
                    algo,
                    bytes: stored,
                });
            }
        }
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
                #[cfg(feature = "memo")]
                if let Ok(vk) = sm2::dsa::VerifyingKey::from_sec1_bytes(SM2_DEFAULT_USER_ID, bytes)
                {
                    crate::memo::remember_key(algo, stored, VerifyingKey::Sm2(vk));
                }
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
                #[cfg(feature = "memo")]
                crate::memo::remember_key(algo, stored, VerifyingKey::Ed25519(point));
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
        #[cfg(feature = "memo")]
        if let Some(vk) = crate::memo::key(self.algo, &self.bytes) {
            return vk;
        }
        let vk = self.parse();
        #[cfg(feature = "memo")]
        crate::memo::remember_key(self.algo, self.bytes, vk.clone());
        vk
    }

    fn parse(&self) -> VerifyingKey {
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
