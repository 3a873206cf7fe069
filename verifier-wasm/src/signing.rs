//! Building and signing transactions, for a JavaScript system that issues, revokes and anchors:
//! the JSON of a transaction (the shape `GET /v1/transactions/{id}` prints, read by
//! `lichen_views::transaction_from_json`) in, the canonical `SignedTransaction` bytes out, to
//! `POST /v1/transactions`. The codec and the signatures are the `contracts` crate's own, so the
//! bytes are the node's byte for byte (checked against `contracts/vectors/transactions-*.json`).
//!
//! Like the verifier this reads no clock and draws no randomness: signatures are deterministic
//! (RFC 6979-style for SM2, RFC 8032 for Ed25519), a new key is derived from entropy the caller
//! draws (`crypto.getRandomValues`), a key file is sealed with the caller's salt and IV.

use lichen_contracts::codec::{Decode, Encode};
use lichen_contracts::crypto::{Hash32, SecretKey, SigAlgo, Suite, keystore};
use lichen_contracts::tx::{SignedTransaction, TX_SIGNATURES_MAX, Transaction};

use crate::VerifierError;

/// The suite named `"sm"` or `"intl"`.
pub fn suite(name: &str) -> Result<Suite, VerifierError> {
    Suite::from_name(name).ok_or(VerifierError::Argument(
        "suite must be \"sm\" (SM2/SM3) or \"intl\" (Ed25519/SHA-256)",
    ))
}

/// The signature algorithm named `"sm2"` or `"ed25519"`.
pub fn algo(name: &str) -> Result<SigAlgo, VerifierError> {
    SigAlgo::from_name(name).ok_or(VerifierError::Argument(
        "algorithm must be \"sm2\" or \"ed25519\"",
    ))
}

/// A transaction from its JSON text, every key of the suite's algorithm.
pub fn transaction_from_json_text(suite: Suite, text: &str) -> Result<Transaction, VerifierError> {
    let value = lichen_views::parse_json_strict(text, "tx").map_err(VerifierError::Transaction)?;
    lichen_views::transaction_from_json(&value, Some(suite.sig_algo()))
        .map_err(VerifierError::Transaction)
}

/// A transaction from its canonical bytes (strictly decoded).
pub fn transaction_from_bytes(bytes: &[u8]) -> Result<Transaction, VerifierError> {
    Transaction::from_bytes(bytes).map_err(VerifierError::Encoding)
}

fn key_of_suite(suite: Suite, key: &SecretKey) -> Result<(), VerifierError> {
    if key.algo() == suite.sig_algo() {
        Ok(())
    } else {
        Err(VerifierError::KeySuite {
            key: key.algo().name(),
            suite: suite.name(),
        })
    }
}

/// `tx` signed by `key` alone.
pub fn sign(
    suite: Suite,
    tx: Transaction,
    key: &SecretKey,
) -> Result<SignedTransaction, VerifierError> {
    key_of_suite(suite, key)?;
    let signature = tx.sign(suite, key);
    Ok(SignedTransaction {
        tx,
        signatures: vec![signature],
    })
}

/// Adds `key`'s signature to an encoded signed transaction (council members signing one after
/// another). A key that has signed already, or a 33rd signature, is refused.
pub fn cosign(
    suite: Suite,
    signed: &[u8],
    key: &SecretKey,
) -> Result<SignedTransaction, VerifierError> {
    key_of_suite(suite, key)?;
    let mut signed = SignedTransaction::from_bytes(signed).map_err(VerifierError::Encoding)?;
    let public = key.public_key();
    if signed.signatures.iter().any(|s| s.key == public) {
        return Err(VerifierError::Argument(
            "this key has signed the transaction already",
        ));
    }
    if signed.signatures.len() >= TX_SIGNATURES_MAX {
        return Err(VerifierError::Argument(
            "a transaction carries at most 32 signatures",
        ));
    }
    let signature = signed.tx.sign(suite, key);
    signed.signatures.push(signature);
    // Within the 64 KiB a transaction may take, as the node will check.
    SignedTransaction::from_bytes(&signed.to_bytes()).map_err(VerifierError::Encoding)?;
    Ok(signed)
}

/// A new secret key derived from at least 32 bytes of the caller's entropy:
/// `H("lichen/keygen/v1", entropy || u32 c)` for the first counter `c` giving a valid key (an
/// SM2 scalar must lie in [1, n-2]). The hash is the algorithm's suite's.
pub fn generate(algo: SigAlgo, entropy: &[u8]) -> Result<SecretKey, VerifierError> {
    if entropy.len() < 32 {
        return Err(VerifierError::Argument(
            "entropy must be at least 32 bytes (crypto.getRandomValues(new Uint8Array(32)))",
        ));
    }
    let suite = match algo {
        SigAlgo::Sm2 => Suite::Sm,
        SigAlgo::Ed25519 => Suite::Intl,
    };
    for counter in 0u32.. {
        let seed = suite.hash("lichen/keygen/v1", &[entropy, &counter.to_be_bytes()]);
        if let Ok(key) = SecretKey::from_bytes(algo, &seed.0) {
            return Ok(key);
        }
    }
    unreachable!("2^32 invalid SM2 scalars in a row")
}

/// A secret key from its 32 bytes (the SM2 scalar, or the Ed25519 seed).
pub fn from_secret(algo: SigAlgo, secret: &[u8]) -> Result<SecretKey, VerifierError> {
    let bytes: &[u8; 32] = secret
        .try_into()
        .map_err(|_| VerifierError::Argument("a secret key is 32 bytes"))?;
    SecretKey::from_bytes(algo, bytes).map_err(VerifierError::Key)
}

/// A key file (PROTOCOL.md, Key files) opened with its password.
pub fn open_key_file(file: &[u8], password: &str) -> Result<SecretKey, VerifierError> {
    keystore::open(file, password.as_bytes()).map_err(VerifierError::Key)
}

/// A key file sealing `key` under `password`, with the caller's random 16-byte salt and IV.
pub fn seal_key_file(
    key: &SecretKey,
    password: &str,
    salt: &[u8],
    iv: &[u8],
) -> Result<Vec<u8>, VerifierError> {
    let sixteen = |b: &[u8]| -> Result<[u8; 16], VerifierError> {
        b.try_into()
            .map_err(|_| VerifierError::Argument("salt and iv are 16 random bytes each"))
    };
    keystore::seal(
        key,
        password.as_bytes(),
        sixteen(salt)?,
        sixteen(iv)?,
        keystore::KDF_ITERATIONS_DEFAULT,
    )
    .map_err(VerifierError::Key)
}

/// The holder commitment `H("lichen/holder-commitment/v1", salt || u32 len || holder id)`.
pub fn holder_commitment(
    suite: Suite,
    salt: &[u8],
    holder_id: &str,
) -> Result<Hash32, VerifierError> {
    let salt: &[u8; 32] = salt
        .try_into()
        .map_err(|_| VerifierError::Argument("a holder salt is 32 random bytes"))?;
    Ok(lichen_contracts::model::holder_commitment(
        suite, salt, holder_id,
    ))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use lichen_contracts::testkit::test_key;

    const TX: &str = r#"{"chain_id": "lichen-test", "nonce": 7, "expires_at_height": 100,
        "payload": {"kind": "revoke", "id": "SZ-BL-1", "reason": "fraud"}}"#;

    #[test]
    fn a_council_transaction_is_signed_one_member_after_another() {
        for s in [Suite::Sm, Suite::Intl] {
            let tx = transaction_from_json_text(s, TX).unwrap();
            let (a, b) = (test_key(s, "council-0"), test_key(s, "council-1"));
            let one = sign(s, tx.clone(), &a).unwrap();
            let two = cosign(s, &one.to_bytes(), &b).unwrap();
            assert_eq!(two.signatures.len(), 2);
            for sig in &two.signatures {
                sig.key.verify(tx.id(s).as_bytes(), &sig.signature).unwrap();
            }
            assert!(
                cosign(s, &two.to_bytes(), &a).is_err(),
                "the same key twice"
            );
        }
    }

    #[test]
    fn a_key_of_the_other_suite_signs_nothing() {
        let tx = transaction_from_json_text(Suite::Sm, TX).unwrap();
        let err = sign(Suite::Sm, tx, &test_key(Suite::Intl, "agency-a")).unwrap_err();
        assert!(err.to_string().contains("ed25519 key"), "{err}");
    }

    #[test]
    fn keys_come_from_entropy_secrets_and_key_files() {
        for a in [SigAlgo::Sm2, SigAlgo::Ed25519] {
            assert!(generate(a, &[1; 31]).is_err());
            let k = generate(a, &[1; 32]).unwrap();
            assert_eq!(k.public_key(), generate(a, &[1; 32]).unwrap().public_key());
            assert_ne!(k.public_key(), generate(a, &[2; 32]).unwrap().public_key());
            let back = from_secret(a, k.expose_bytes()).unwrap();
            assert_eq!(back.public_key(), k.public_key());
            let file = seal_key_file(&k, "pw", &[3; 16], &[4; 16]).unwrap();
            assert_eq!(
                open_key_file(&file, "pw").unwrap().public_key(),
                k.public_key()
            );
            assert!(open_key_file(&file, "other").is_err());
        }
        assert!(from_secret(SigAlgo::Sm2, &[0; 32]).is_err());
        assert!(from_secret(SigAlgo::Sm2, &[1; 31]).is_err());
    }
}
