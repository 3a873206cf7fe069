//! Batch verification with exactly the verdicts of one-by-one strict verification.

use alloc::collections::BTreeMap;

use super::{PublicKey, Signature, VerifyingKey};
use crate::error::CryptoError;

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
