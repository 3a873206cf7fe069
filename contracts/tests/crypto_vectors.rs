//! Golden tests of the crypto suites against official and standard vectors, read from copies kept
//! in the repository (`contracts/vectors/`), so that a clone passes on its own:
//! - `official.json`: GB/T 32905 (SM3), GB/T 32907 (SM4), GB/T 32918 / GM/T 0003 (SM2 with the
//!   default user ID), RFC 8032 tests 1-3 (Ed25519);
//! - `wycheproof_ed25519.json`: Project Wycheproof `ed25519_test.json` (C2SP/wycheproof, commit
//!   dac1dd4, `testvectors_v1/`; Apache-2.0, see `WYCHEPROOF-LICENSE`), the bar for the intl
//!   suite's strict verification: exactly the 88 valid of the 151 cases must be accepted.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::ops::{Add, Mul};

use lichen_contracts::CryptoError;
use lichen_contracts::crypto::{PublicKey, SecretKey, SigAlgo, Signature, Suite, verify_batch};
use serde::Deserialize;
use sm4::cipher::{Array, BlockCipherEncrypt, KeyInit};

const OFFICIAL: &str = include_str!("../vectors/official.json");
const WYCHEPROOF_ED25519: &str = include_str!("../vectors/wycheproof_ed25519.json");

#[derive(Deserialize)]
struct Official {
    sm3: Sm3Vectors,
    sm4: Sm4Vector,
    sm2: Sm2Vectors,
    ed25519: Ed25519Vectors,
}

#[derive(Deserialize)]
struct Sm3Vectors {
    cases: Vec<Sm3Case>,
}

#[derive(Deserialize)]
struct Sm3Case {
    message_utf8: String,
    digest: String,
}

#[derive(Deserialize)]
struct Sm4Vector {
    key: String,
    plaintext: String,
    ciphertext_once: String,
    ciphertext_after_1000000_encryptions: String,
}

#[derive(Deserialize)]
struct Sm2Vectors {
    curve: Sm2Curve,
    signature_default_id: Sm2Signature,
}

#[derive(Deserialize)]
struct Sm2Curve {
    a: String,
    b: String,
    gx: String,
    gy: String,
}

#[derive(Deserialize)]
struct Sm2Signature {
    user_id_utf8: String,
    message_utf8: String,
    private_key_d: String,
    public_key_x: String,
    public_key_y: String,
    z_a: String,
    e: String,
    r: String,
    s: String,
}

#[derive(Deserialize)]
struct Ed25519Vectors {
    cases: Vec<Ed25519Case>,
}

#[derive(Deserialize)]
struct Ed25519Case {
    secret_key: String,
    public_key: String,
    message: String,
    signature: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Wycheproof {
    number_of_tests: usize,
    test_groups: Vec<WycheproofGroup>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct WycheproofGroup {
    public_key: WycheproofKey,
    tests: Vec<WycheproofTest>,
}

#[derive(Deserialize)]
struct WycheproofKey {
    pk: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct WycheproofTest {
    tc_id: u32,
    comment: String,
    msg: String,
    sig: String,
    result: String,
}

fn official() -> Official {
    serde_json::from_str(OFFICIAL).unwrap()
}

fn unhex(text: &str) -> Vec<u8> {
    hex::decode(text).unwrap()
}

fn unhex32(text: &str) -> [u8; 32] {
    unhex(text).try_into().unwrap()
}

fn flip_bit(bytes: &[u8], bit: usize) -> Vec<u8> {
    let mut out = bytes.to_vec();
    out[bit / 8] ^= 1 << (bit % 8);
    out
}

/// Parse-then-verify, the way a transaction or certificate is checked: a parse failure is a
/// rejection.
fn accepts(algo: SigAlgo, pk: &[u8], msg: &[u8], sig: &[u8]) -> bool {
    let Ok(pk) = PublicKey::from_bytes(algo, pk) else {
        return false;
    };
    let Ok(sig) = Signature::from_bytes(algo, sig) else {
        return false;
    };
    pk.verify(msg, &sig).is_ok()
}

#[test]
fn sm3_gbt32905_annex_a() {
    let v = official();
    assert_eq!(v.sm3.cases.len(), 2);
    assert_eq!(v.sm3.cases[0].message_utf8, "abc");
    assert_eq!(v.sm3.cases[1].message_utf8, "abcd".repeat(16));
    for case in &v.sm3.cases {
        let digest = Suite::Sm.digest(case.message_utf8.as_bytes());
        assert_eq!(
            digest.as_bytes()[..],
            unhex(&case.digest)[..],
            "{}",
            case.message_utf8
        );
        assert_eq!(digest.to_hex(), case.digest.to_lowercase());
    }
}

#[test]
fn sm4_gbt32907_annex_a() {
    let v = official().sm4;
    let cipher = sm4::Sm4::new_from_slice(&unhex(&v.key)).unwrap();
    let mut block: Array<u8, _> = Array::try_from(&unhex(&v.plaintext)[..]).unwrap();
    cipher.encrypt_block(&mut block);
    assert_eq!(block[..], unhex(&v.ciphertext_once)[..]);
    for _ in 1..1_000_000 {
        cipher.encrypt_block(&mut block);
    }
    assert_eq!(
        block[..],
        unhex(&v.ciphertext_after_1000000_encryptions)[..]
    );
}

#[test]
fn sm2_gbt32918_signature_with_default_user_id() {
    let v = official().sm2;
    let sig_v = &v.signature_default_id;
    assert_eq!(
        sig_v.user_id_utf8,
        lichen_contracts::crypto::SM2_DEFAULT_USER_ID
    );

    // Public key from d: compressed form, prefix by the parity of y.
    let sk = SecretKey::from_bytes(SigAlgo::Sm2, &unhex32(&sig_v.private_key_d)).unwrap();
    let x = unhex(&sig_v.public_key_x);
    let y = unhex(&sig_v.public_key_y);
    let prefix = if y[31] & 1 == 0 { 0x02 } else { 0x03 };
    let compressed = [&[prefix][..], &x].concat();
    let pk = sk.public_key();
    assert_eq!(pk.as_bytes(), &compressed[..]);
    assert_eq!(
        PublicKey::from_bytes(SigAlgo::Sm2, &compressed).unwrap(),
        pk
    );

    // Z_A = SM3(ENTL_A || ID_A || a || b || x_G || y_G || x_A || y_A), ENTL_A = bit length of ID.
    let id = sig_v.user_id_utf8.as_bytes();
    let entl = u16::try_from(id.len() * 8).unwrap().to_be_bytes();
    let c = &v.curve;
    let z_input = [
        &entl[..],
        id,
        &unhex(&c.a),
        &unhex(&c.b),
        &unhex(&c.gx),
        &unhex(&c.gy),
        &x,
        &y,
    ]
    .concat();
    let z_a = Suite::Sm.digest(&z_input);
    assert_eq!(z_a.as_bytes()[..], unhex(&sig_v.z_a)[..]);

    // e = SM3(Z_A || M).
    let msg = sig_v.message_utf8.as_bytes();
    let e = Suite::Sm.digest(&[z_a.as_bytes(), msg].concat());
    assert_eq!(e.as_bytes()[..], unhex(&sig_v.e)[..]);

    // The published (r, s) verifies under our verifier.
    let rs = [unhex(&sig_v.r), unhex(&sig_v.s)].concat();
    let sig = Signature::from_bytes(SigAlgo::Sm2, &rs).unwrap();
    pk.verify(msg, &sig).unwrap();
    assert!(accepts(SigAlgo::Sm2, &compressed, msg, &rs));

    // Any single flipped bit of r, s or the message is refused.
    for bit in [0, 1, 7, 8, 100, 200, 254, 255] {
        for half in [0, 256] {
            let bad = flip_bit(&rs, half + bit);
            assert!(
                !accepts(SigAlgo::Sm2, &compressed, msg, &bad),
                "sig bit {}",
                half + bit
            );
        }
    }
    for bit in (0..msg.len() * 8).step_by(7).chain([msg.len() * 8 - 1]) {
        let bad = flip_bit(msg, bit);
        assert!(
            !accepts(SigAlgo::Sm2, &compressed, &bad, &rs),
            "msg bit {bit}"
        );
    }
    // Our own (deterministic) signature of the message verifies too, and not with another ID:
    // covered in the unit tests; here, it must at least differ from the vector's random-k one.
    let ours = sk.sign(msg);
    pk.verify(msg, &ours).unwrap();
    assert_ne!(ours.as_bytes()[..], rs[..]);
}

#[test]
fn ed25519_rfc8032_tests_1_to_3() {
    let v = official().ed25519;
    assert_eq!(v.cases.len(), 3);
    for (i, case) in v.cases.iter().enumerate() {
        let sk = SecretKey::from_bytes(SigAlgo::Ed25519, &unhex32(&case.secret_key)).unwrap();
        let pk = sk.public_key();
        assert_eq!(
            pk.as_bytes(),
            &unhex(&case.public_key)[..],
            "test {}",
            i + 1
        );
        let msg = unhex(&case.message);
        let sig = sk.sign(&msg);
        assert_eq!(
            sig.as_bytes()[..],
            unhex(&case.signature)[..],
            "test {}",
            i + 1
        );
        pk.verify(&msg, &sig).unwrap();
        for bit in [0, 255, 256, 511] {
            let bad = flip_bit(sig.as_bytes(), bit);
            assert!(!accepts(SigAlgo::Ed25519, pk.as_bytes(), &msg, &bad));
        }
        let longer = [&msg[..], b"!"].concat();
        assert!(pk.verify(&longer, &sig).is_err());
        if !msg.is_empty() {
            assert!(pk.verify(&flip_bit(&msg, 0), &sig).is_err());
        }
        let other_key = flip_bit(pk.as_bytes(), 3);
        assert!(!accepts(SigAlgo::Ed25519, &other_key, &msg, sig.as_bytes()));
    }
}

struct Case {
    id: u32,
    comment: String,
    pk: Vec<u8>,
    msg: Vec<u8>,
    sig: Vec<u8>,
    valid: bool,
}

fn wycheproof_cases() -> Vec<Case> {
    let w: Wycheproof = serde_json::from_str(WYCHEPROOF_ED25519).unwrap();
    let cases: Vec<Case> = w
        .test_groups
        .iter()
        .flat_map(|g| {
            g.tests.iter().map(|t| Case {
                id: t.tc_id,
                comment: t.comment.clone(),
                pk: unhex(&g.public_key.pk),
                msg: unhex(&t.msg),
                sig: unhex(&t.sig),
                valid: match t.result.as_str() {
                    "valid" => true,
                    "invalid" => false,
                    other => panic!("tcId {}: unexpected result {other}", t.tc_id),
                },
            })
        })
        .collect();
    // Guard that the file was read completely.
    assert_eq!(w.number_of_tests, 151);
    assert_eq!(cases.len(), 151);
    assert_eq!(cases.iter().filter(|c| c.valid).count(), 88);
    cases
}

/// A parsed case, when both the key and the signature parse.
fn parsed(case: &Case) -> Option<(PublicKey, Signature)> {
    Some((
        PublicKey::from_bytes(SigAlgo::Ed25519, &case.pk).ok()?,
        Signature::from_bytes(SigAlgo::Ed25519, &case.sig).ok()?,
    ))
}

#[test]
fn wycheproof_ed25519_strict_verdicts() {
    let cases = wycheproof_cases();
    for case in &cases {
        let accepted = accepts(SigAlgo::Ed25519, &case.pk, &case.msg, &case.sig);
        assert_eq!(
            accepted, case.valid,
            "Wycheproof tcId {} ({})",
            case.id, case.comment
        );
    }
}

#[test]
fn wycheproof_ed25519_batch_verdicts_match_single() {
    let cases = wycheproof_cases();
    let parsed: Vec<(&Case, PublicKey, Signature)> = cases
        .iter()
        .filter_map(|c| parsed(c).map(|(pk, sig)| (c, pk, sig)))
        .collect();
    // Every valid case parses.
    assert_eq!(parsed.iter().filter(|(c, ..)| c.valid).count(), 88);

    // Each case alone.
    for (case, pk, sig) in &parsed {
        let single = pk.verify(&case.msg, sig).is_ok();
        let batch = verify_batch(&[(pk, &case.msg[..], sig)]);
        assert_eq!(single, case.valid, "tcId {}", case.id);
        assert_eq!(batch.is_ok(), single, "tcId {}", case.id);
        if !single {
            assert_eq!(batch, Err(CryptoError::BatchItemInvalid { index: 0 }));
        }
    }

    // All valid cases together.
    let valid: Vec<(&PublicKey, &[u8], &Signature)> = parsed
        .iter()
        .filter(|(c, ..)| c.valid)
        .map(|(c, pk, sig)| (pk, &c.msg[..], sig))
        .collect();
    assert_eq!(valid.len(), 88);
    assert_eq!(verify_batch(&valid), Ok(()));

    // All valid cases plus one invalid case, at the front, in the middle and at the end.
    let mut invalid_tried = 0;
    for (case, pk, sig) in parsed.iter().filter(|(c, ..)| !c.valid) {
        for at in [0, 44, 88] {
            let mut items = valid.clone();
            items.insert(at, (pk, &case.msg[..], sig));
            assert_eq!(
                verify_batch(&items),
                Err(CryptoError::BatchItemInvalid { index: at }),
                "tcId {} at {at}",
                case.id
            );
        }
        invalid_tried += 1;
    }
    // Most invalid cases already fail to parse (bad lengths, S >= L, weak keys); the rest
    // (e.g. non-canonical R, small-order R, wrong signatures) must be caught by verification.
    assert!(invalid_tried > 0);
}

// ------------------------------------------------------------------------------------------
// Why `verify_batch` does not use ed25519-dalek's batch verification.
//
// The test below builds a signature whose R has a torsion component (R' = R + T, T of order 2).
// It is canonical and not of small order, so it passes the usual pre-checks, and strict
// verification refuses it; ed25519-dalek's cofactorless batch equation accepts it whenever its
// weight z is even. The same pre-checked batch agrees with strict verification on every
// Wycheproof case, so Wycheproof alone cannot reveal the gap.
// ------------------------------------------------------------------------------------------

/// Scalar helpers without naming curve25519-dalek's `Scalar` type (it is not a direct
/// dependency): `like` is any scalar, only its type is used.
fn scalar<S: From<u64>>(_like: &S, v: u64) -> S {
    S::from(v)
}

/// A little-endian integer of any length, reduced mod L.
fn scalar_from_le<S>(like: &S, bytes: &[u8]) -> S
where
    S: From<u64> + Copy + Add<Output = S> + Mul<Output = S>,
{
    let base = scalar(like, 256);
    bytes.iter().rev().fold(scalar(like, 0), |acc, &b| {
        acc * base + scalar(like, u64::from(b))
    })
}

/// The Ed25519 base point and the point of order 2, (0, -1).
const BASEPOINT: &str = "5866666666666666666666666666666666666666666666666666666666666666";
const ORDER_2: &str = "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f";

/// Signs `msg` with seed `seed`, but publishes R + T (T of order 2) as the signature's R, with S
/// computed for that R: `S = r + H(R + T || A || M) * a`. Then `[S]B - [k]A = R != R + T`.
fn sign_with_torsion_in_r(seed: &[u8; 32], msg: &[u8]) -> ([u8; 32], [u8; 64]) {
    use sha2::{Digest, Sha512};
    let sk = ed25519_dalek::SigningKey::from_bytes(seed);
    let a = sk.to_scalar();
    let pk = sk.verifying_key().to_bytes();
    let point = |hex: &str| {
        ed25519_dalek::VerifyingKey::from_bytes(&unhex32(hex))
            .unwrap()
            .to_edwards()
    };
    let nonce = scalar_from_le(&a, &Sha512::digest([&seed[..], msg].concat()));
    let r_point = point(BASEPOINT) * nonce + point(ORDER_2);
    let r_bytes = r_point.compress().to_bytes();
    let k = scalar_from_le(&a, &Sha512::digest([&r_bytes[..], &pk, msg].concat()));
    let s = nonce + k * a;
    let mut sig = [0u8; 64];
    sig[..32].copy_from_slice(&r_bytes);
    sig[32..].copy_from_slice(s.as_bytes());
    (pk, sig)
}

/// The design `verify_batch` does not use: reject non-canonical or small-order R, then run
/// ed25519-dalek's batch.
fn prechecked_dalek_batch(items: &[(&[u8], &[u8], &[u8])]) -> bool {
    let mut keys = Vec::new();
    let mut sigs = Vec::new();
    let mut msgs = Vec::new();
    for (pk, msg, sig) in items {
        let Ok(pk) = PublicKey::from_bytes(SigAlgo::Ed25519, pk) else {
            return false;
        };
        let Ok(sig) = Signature::from_bytes(SigAlgo::Ed25519, sig) else {
            return false;
        };
        let r_bytes: [u8; 32] = sig.as_bytes()[..32].try_into().unwrap();
        let Ok(r) = ed25519_dalek::VerifyingKey::from_bytes(&r_bytes) else {
            return false;
        };
        if r.to_edwards().compress().to_bytes() != r_bytes || r.is_weak() {
            return false;
        }
        keys.push(
            ed25519_dalek::VerifyingKey::from_bytes(&pk.as_bytes().try_into().unwrap()).unwrap(),
        );
        sigs.push(ed25519_dalek::Signature::from_bytes(sig.as_bytes()));
        msgs.push(*msg);
    }
    ed25519_dalek::verify_batch(&msgs, &sigs, &keys).is_ok()
}

#[test]
fn dalek_batch_accepts_torsion_signatures_that_strict_verification_refuses() {
    let seed = [0x17u8; 32];
    // The batch accepting about half of these is itself the proof that S was computed right for
    // R + T: a residual with any prime-order part would never pass (odds ~2^-128).
    let honest = SecretKey::from_bytes(SigAlgo::Ed25519, &seed).unwrap();
    let mut batch_accepted = 0;
    for i in 0..32u32 {
        let msg = format!("revoke licence {i}").into_bytes();
        let (pk, sig) = sign_with_torsion_in_r(&seed, &msg);
        assert_eq!(pk, honest.public_key().as_bytes());
        // Strict single verification and our verify_batch refuse it, alone or among valid ones.
        assert!(!accepts(SigAlgo::Ed25519, &pk, &msg, &sig));
        let key = PublicKey::from_bytes(SigAlgo::Ed25519, &pk).unwrap();
        let forged = Signature::from_bytes(SigAlgo::Ed25519, &sig).unwrap();
        let good = honest.sign(b"ok");
        let hk = honest.public_key();
        assert_eq!(
            verify_batch(&[(&hk, b"ok", &good), (&key, &msg, &forged)]),
            Err(CryptoError::BatchItemInvalid { index: 1 })
        );
        // Its R is canonical and not of small order: the pre-checks do not catch it.
        let r = ed25519_dalek::VerifyingKey::from_bytes(&sig[..32].try_into().unwrap()).unwrap();
        assert!(!r.is_weak());
        assert!(!r.to_edwards().is_torsion_free());
        let good_item = (hk.as_bytes(), &b"ok"[..], &good.as_bytes()[..]);
        if prechecked_dalek_batch(&[good_item, (&pk, &msg, &sig)]) {
            batch_accepted += 1;
        }
    }
    // The forged item's batch weight z is even for about half of the messages.
    assert!(
        (4..=28).contains(&batch_accepted),
        "dalek batch accepted {batch_accepted} of 32 forged signatures"
    );

    // Meanwhile the same pre-checked batch agrees with strict verification on all of
    // Wycheproof, alone and as all-valid-plus-one batches.
    let cases = wycheproof_cases();
    let valid: Vec<(&[u8], &[u8], &[u8])> = cases
        .iter()
        .filter(|c| c.valid)
        .map(|c| (&c.pk[..], &c.msg[..], &c.sig[..]))
        .collect();
    assert!(prechecked_dalek_batch(&valid));
    for case in &cases {
        let item = (&case.pk[..], &case.msg[..], &case.sig[..]);
        assert_eq!(
            prechecked_dalek_batch(&[item, item]),
            case.valid,
            "tcId {}",
            case.id
        );
        if !case.valid {
            let mut items = valid.clone();
            items.insert(10, item);
            assert!(!prechecked_dalek_batch(&items), "tcId {}", case.id);
        }
    }
}
