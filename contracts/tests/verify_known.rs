//! `verify_signatures_known` trusts an earlier check only for the very same signed bytes; a
//! transaction digested in one encoding has the digests computed apart.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use lichen_contracts::crypto::{Hash32, Suite};
use lichen_contracts::ledger::{TxError, verify_signatures_known};
use lichen_contracts::testkit::TestChain;
use lichen_contracts::tx::Payload;

#[test]
fn a_cache_hit_needs_the_same_witness_hash() {
    for suite in [Suite::Intl, Suite::Sm] {
        let mut chain = TestChain::new(suite, 1);
        let good = chain.signed(
            Payload::AnchorEvidence {
                hash: Hash32([1; 32]),
                submitter: "court-1".into(),
                label: "x".into(),
            },
            "court-1",
        );
        let witness = good.witness_hash(suite);
        let known = |w: &Hash32| *w == witness;
        assert!(verify_signatures_known(suite, &good, &known).is_ok());

        // A different signature (same id) is a different witness: checked, and refused.
        let mut forged = good.clone();
        let mut sig = *forged.signatures[0].signature.as_bytes();
        sig[10] ^= 1;
        forged.signatures[0].signature =
            lichen_contracts::crypto::Signature::from_bytes(suite.sig_algo(), &sig).unwrap();
        assert_ne!(forged.witness_hash(suite), witness);
        assert_eq!(forged.id(suite), good.id(suite));
        assert!(matches!(
            verify_signatures_known(suite, &forged, &known),
            Err(TxError::BadSignature { .. })
        ));
        // Signer rules still apply on a hit: a duplicated signer is refused.
        let mut doubled = good.clone();
        doubled.signatures.push(doubled.signatures[0].clone());
        let w2 = doubled.witness_hash(suite);
        assert!(matches!(
            verify_signatures_known(suite, &doubled, &|w: &Hash32| *w == w2),
            Err(TxError::DuplicateSigner { .. })
        ));
    }
}

/// One encoding gives all three digests, equal to the ones computed apart, for transactions with
/// one signature and with several; and a digested transaction verifies like the plain one.
#[test]
fn digests_from_one_encoding_are_the_separate_ones() {
    use lichen_contracts::codec::Encode;
    use lichen_contracts::ledger::{verify_digested, verify_signatures};
    for suite in [Suite::Intl, Suite::Sm] {
        let mut chain = TestChain::new(suite, 1);
        let one = chain.signed(
            Payload::AnchorEvidence {
                hash: Hash32([2; 32]),
                submitter: "court-1".into(),
                label: "one signer".into(),
            },
            "court-1",
        );
        let mut two = one.clone();
        two.signatures.push(one.signatures[0].clone());
        for tx in [&one, &two] {
            let d = tx.digested(suite);
            assert_eq!(d.id(), tx.id(suite));
            assert_eq!(d.witness(), tx.witness_hash(suite));
            assert_eq!(d.encoded_len(), tx.to_bytes().len());
            assert_ne!(d.id(), d.witness());
        }
        assert_eq!(
            verify_digested(suite, one.digested(suite)).unwrap().id(),
            verify_signatures(suite, &one).unwrap().id()
        );
        let mut broken = one.clone();
        broken.tx.nonce += 1;
        assert!(matches!(
            verify_digested(suite, broken.digested(suite)),
            Err(TxError::BadSignature { .. })
        ));
        assert!(matches!(
            verify_digested(suite, two.digested(suite)),
            Err(TxError::DuplicateSigner { .. })
        ));
    }
}
