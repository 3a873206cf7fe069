#![allow(clippy::unwrap_used, clippy::expect_used)]

use sm2::elliptic_curve::sec1::ToSec1Point;

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
    let y_p_plus_1 = unhex32("eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f");
    let minus_zero = unhex32("0100000000000000000000000000000000000000000000000000000000000080");
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

/// The key memo changes no verdict: a key seen before decodes and verifies exactly as the first
/// time; a key that fails validation is never remembered, however often it comes; another
/// encoding of a remembered key is validated on its own (the memo is keyed by the bytes).
#[cfg(feature = "memo")]
#[test]
fn remembered_keys_give_the_same_verdicts() {
    for algo in ALGOS {
        let sk = key(algo, 9);
        let pk = sk.public_key();
        let sig = sk.sign(b"first");
        for _ in 0..3 {
            let decoded = PublicKey::from_bytes(algo, pk.as_bytes()).unwrap();
            assert_eq!(decoded, pk);
            decoded.verify(b"first", &sig).unwrap();
            assert!(decoded.verify(b"second", &sig).is_err());
        }
        // Not a point: refused every time, the memo warm or not.
        let mut bad = pk.as_bytes().to_vec();
        bad[1] ^= 0xff;
        bad[2] ^= 0x55;
        for _ in 0..3 {
            if let Ok(k) = PublicKey::from_bytes(algo, &bad) {
                // Flipping bytes may land on another valid point: then it is another key.
                assert_ne!(k, pk);
                assert!(k.verify(b"first", &sig).is_err());
            }
        }
    }
    // The non-canonical encoding of a remembered Ed25519 key stays refused: y + p for y = 1
    // (the identity's y) is refused as non-canonical or weak, remembered canonical keys aside.
    let mut non_canonical = [0u8; 32];
    non_canonical[0] = 0xee;
    non_canonical[31] = 0x7f;
    non_canonical[1..31].fill(0xff);
    for _ in 0..2 {
        assert!(PublicKey::from_bytes(SigAlgo::Ed25519, &non_canonical).is_err());
    }
}
