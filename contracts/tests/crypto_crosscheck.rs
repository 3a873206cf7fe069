//! Cross-checks of the SM suite (RustCrypto `sm2`, `sm3`, `sm4`, wrapped by `contracts`) against
//! an independent implementation, libsm 0.6.1 (the library the design card names; used here only
//! as a test oracle). libsm builds its SM2 tables on first use, which stalls for seconds in a
//! debug build, so all SM2 work happens in one test function.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use libsm::sm2::signature::{SigCtx, Signature as LibsmSignature};
use lichen_contracts::crypto::{SecretKey, SigAlgo, Signature, Suite};
use sm4::cipher::{Array, BlockCipherEncrypt, KeyInit};

/// Deterministic test bytes (no RNG needed).
fn pattern(len: usize, seed: u8) -> Vec<u8> {
    (0..len)
        .map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed))
        .collect()
}

/// Left-pads a big-endian integer (libsm's `BigUint::to_bytes_be`, which drops leading zeros).
fn be32(bytes: &[u8]) -> [u8; 32] {
    let mut out = [0u8; 32];
    out[32 - bytes.len()..].copy_from_slice(bytes);
    out
}

#[test]
fn sm2_signatures_cross_verify_with_libsm() {
    let ctx = SigCtx::new();
    let n_minus_2 =
        hex::decode("FFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFF7203DF6B21C6052B53BBF40939D54121").unwrap();
    let vector_d =
        hex::decode("3945208F7B2144B13F36E38AC6D39F95889393692860B51A42FB81EF4DF7C5B8").unwrap();
    let mut one = [0u8; 32];
    one[31] = 1;
    let keys: Vec<[u8; 32]> = vec![
        one,
        [0x42; 32],
        vector_d.try_into().unwrap(),
        n_minus_2.try_into().unwrap(),
        pattern(32, 9).try_into().unwrap(),
    ];
    let messages: Vec<Vec<u8>> = vec![
        Vec::new(),
        b"a".to_vec(),
        b"message digest".to_vec(),
        pattern(55, 1),
        pattern(64, 2),
        pattern(1000, 3),
    ];
    let mut checked = 0;
    for d in &keys {
        let ours = SecretKey::from_bytes(SigAlgo::Sm2, d).unwrap();
        let our_pk = ours.public_key();
        let sk = ctx.load_seckey(d).unwrap();
        let pk = ctx.pk_from_sk(&sk).unwrap();
        // Same public key, and libsm reads our compressed encoding back to the same point.
        assert_eq!(ctx.serialize_pubkey(&pk, true).unwrap(), our_pk.as_bytes());
        let parsed = ctx.load_pubkey(our_pk.as_bytes()).unwrap();
        assert_eq!(
            ctx.serialize_pubkey(&parsed, false).unwrap(),
            ctx.serialize_pubkey(&pk, false).unwrap()
        );
        for msg in &messages {
            // Ours -> libsm (which always uses the default ID 1234567812345678).
            let sig = ours.sign(msg);
            let b = sig.as_bytes();
            let theirs = LibsmSignature::new(&b[..32], &b[32..]);
            assert!(ctx.verify(msg, &pk, &theirs).unwrap(), "libsm refused ours");
            let other_msg = [&msg[..], b"x"].concat();
            assert!(!ctx.verify(&other_msg, &pk, &theirs).unwrap());

            // libsm -> ours.
            let theirs = ctx.sign(msg, &sk, &pk).unwrap();
            let mut rs = [0u8; 64];
            rs[..32].copy_from_slice(&be32(&theirs.get_r().to_bytes_be()));
            rs[32..].copy_from_slice(&be32(&theirs.get_s().to_bytes_be()));
            let sig = Signature::from_bytes(SigAlgo::Sm2, &rs).unwrap();
            our_pk.verify(msg, &sig).unwrap();
            assert!(our_pk.verify(&other_msg, &sig).is_err());
            checked += 1;
        }
    }
    assert_eq!(checked, keys.len() * messages.len());
}

#[test]
fn sm3_matches_libsm() {
    let inputs: Vec<Vec<u8>> = [0usize, 1, 55, 56, 63, 64, 65, 119, 120, 128, 1000]
        .iter()
        .enumerate()
        .map(|(i, &len)| pattern(len, i as u8))
        .chain([b"abc".to_vec(), vec![0xff; 200]])
        .collect();
    for input in &inputs {
        let ours = Suite::Sm.digest(input);
        let theirs = libsm::sm3::hash::Sm3Hash::new(input).get_hash();
        assert_eq!(ours.as_bytes(), &theirs, "length {}", input.len());
    }
}

#[test]
fn sm4_single_blocks_match_libsm() {
    for i in 0..16u8 {
        let key = pattern(16, i.wrapping_mul(17));
        let block = pattern(16, i.wrapping_mul(5).wrapping_add(3));
        let cipher = sm4::Sm4::new_from_slice(&key).unwrap();
        let mut ours: Array<u8, _> = Array::try_from(&block[..]).unwrap();
        cipher.encrypt_block(&mut ours);
        let theirs = libsm::sm4::cipher::Sm4Cipher::new(&key)
            .unwrap()
            .encrypt(&block)
            .unwrap();
        assert_eq!(ours[..], theirs[..], "case {i}");
    }
}
