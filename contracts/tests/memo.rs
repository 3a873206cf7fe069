//! The memos of `memo.rs` change no verdict: a certificate that verified, checked again, still
//! verifies; one that differs in anything the check reads (a signature, the validator set, the
//! vote) is checked afresh and refused as before, however warm the memo is.
#![cfg(feature = "memo")]
#![allow(clippy::unwrap_used, clippy::expect_used)]

use lichen_contracts::crypto::{Signature, Suite};
use lichen_contracts::error::ProofError;
use lichen_contracts::testkit::{GENESIS_TIME_MS, TestChain};

#[test]
fn a_remembered_certificate_still_refuses_what_differs() {
    for suite in [Suite::Intl, Suite::Sm] {
        let mut c = TestChain::new(suite, 4);
        c.commit(Vec::new(), GENESIS_TIME_MS + 60_000).unwrap();
        let block = c.blocks.last().unwrap();
        let header = block.header.clone();
        let certificate = block.certificate.clone().unwrap();
        let set = c.genesis.validators.clone();
        let (chain_id, genesis_hash) = (c.chain_id().to_string(), c.genesis.hash());
        let check = |cert: &lichen_contracts::block::CommitCertificate,
                     set: &lichen_contracts::model::ValidatorSet| {
            cert.verify(suite, &chain_id, &genesis_hash, &header, set)
        };
        for _ in 0..3 {
            check(&certificate, &set).unwrap();
        }
        // A signature changed: refused, the memo warm for the real one.
        let mut forged = certificate.clone();
        let mut bytes = forged.signatures[0].signature.as_bytes().to_vec();
        bytes[10] ^= 1;
        if let Ok(sig) = Signature::from_bytes(forged.signatures[0].signature.algo(), &bytes) {
            forged.signatures[0].signature = sig;
            assert!(matches!(
                check(&forged, &set),
                Err(ProofError::BadCertificateSignature { .. })
            ));
        }
        // The same signatures for another vote (another genesis): refused.
        let other_genesis = lichen_contracts::crypto::Hash32([7; 32]);
        assert!(
            certificate
                .verify(suite, &chain_id, &other_genesis, &header, &set)
                .is_err()
        );
        // The same signatures against another set (the signature part alone, past the header's
        // set check): checked afresh, and refused.
        let mut smaller = set.clone();
        smaller.validators.truncate(2);
        assert!(
            certificate
                .verify_signatures(suite, &chain_id, &genesis_hash, &smaller)
                .is_err()
        );
        check(&certificate, &set).unwrap();
    }
}

/// `verify_at_desk_if_cheap` verifies a presentation (and says the same as `verify_at_desk`)
/// exactly when it costs no signature check, i.e. its certificate verified before in this
/// process: not before the first verification, yes after it, not for a copy whose signature
/// differs; and what is cheap still gets the verdict it always had.
#[test]
fn verification_is_cheap_only_once_its_certificate_verified() {
    use lichen_contracts::codec::Encode;
    use lichen_contracts::model::{LicenceDraft, holder_commitment};
    use lichen_contracts::presentation::{
        Desk, Policy, Trust, Verdict, verify_at_desk_if_cheap, verify_bytes,
    };
    use lichen_contracts::tx::Payload;

    for suite in [Suite::Intl, Suite::Sm] {
        let mut c = TestChain::new(suite, 4);
        // A block time no other test of this binary uses: the certificate is new to the memo.
        let draft = LicenceDraft {
            id: "CHEAP-1".into(),
            licence_type: "business".into(),
            issuer: "agency-a".into(),
            document_hash: suite.digest(b"cheap"),
            holder_commitment: holder_commitment(suite, &[3; 32], "holder"),
            valid_from_ms: GENESIS_TIME_MS,
            valid_until_ms: None,
        };
        let tx = c.signed(Payload::IssueLicence(draft), "agency-a");
        let time = GENESIS_TIME_MS + 77_777;
        c.commit(vec![tx], time).unwrap();
        let anchor = c.trust_anchor();
        let trust = Trust::anchor(&anchor);
        let policy = Policy {
            now_ms: time + 1_000,
            proof_age_max_ms: 86_400_000,
        };
        let bytes = c.presentation("CHEAP-1").to_bytes();
        let cheap =
            |bytes: &[u8]| verify_at_desk_if_cheap(trust, bytes, None, &policy, Desk::default());

        assert_eq!(cheap(&bytes), None);
        assert_eq!(
            verify_bytes(&anchor, &bytes, None, &policy).verdict,
            Verdict::Valid
        );
        let report = cheap(&bytes).expect("cheap once its certificate verified");
        assert_eq!(report.verdict, Verdict::Valid);
        assert_eq!(report, verify_bytes(&anchor, &bytes, None, &policy));

        // One signature byte changed: not cheap (its signatures were never verified), and
        // refused when verified.
        let mut p = c.presentation("CHEAP-1");
        let sig = &p.certified.certificate.signatures[0].signature;
        let mut sig_bytes = sig.as_bytes().to_vec();
        sig_bytes[5] ^= 1;
        if let Ok(forged) = Signature::from_bytes(sig.algo(), &sig_bytes) {
            p.certified.certificate.signatures[0].signature = forged;
            let forged = p.to_bytes();
            assert_eq!(cheap(&forged), None);
            assert_ne!(
                verify_bytes(&anchor, &forged, None, &policy).verdict,
                Verdict::Valid
            );
            assert_eq!(cheap(&forged), None);
        }
        // Bytes that do not decode are refused at decoding: cheap.
        let cut = &bytes[..bytes.len() / 2];
        assert_eq!(cheap(cut), Some(verify_bytes(&anchor, cut, None, &policy)));
    }
}
