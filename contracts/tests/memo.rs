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
