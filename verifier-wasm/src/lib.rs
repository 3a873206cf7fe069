//! The offline verifier as the scanner will call it: bytes in, a report out. The wasm-bindgen
//! surface and the scanner page arrive with issue 6; this crate already fixes the call shape so
//! native and WASM run the very same `contracts` code.
#![forbid(unsafe_code)]

use lichen_contracts::codec::Decode;
use lichen_contracts::presentation::{
    Document, Policy, Report, TrustAnchor, verify_presentation_bytes,
};

/// Why the verifier could not even start (a bad trust anchor is the operator's problem, not a
/// verdict about the presentation).
#[derive(Debug, thiserror::Error)]
pub enum VerifierError {
    #[error("trust anchor is not valid: {0}")]
    TrustAnchor(#[from] lichen_contracts::CodecError),
}

/// Verifies `presentation` against the encoded trust anchor at `now_ms`, allowing proofs up to
/// `proof_age_max_ms` old, optionally against the document's bytes.
pub fn verify(
    trust_anchor: &[u8],
    presentation: &[u8],
    document: Option<&[u8]>,
    now_ms: u64,
    proof_age_max_ms: u64,
) -> Result<Report, VerifierError> {
    let anchor = TrustAnchor::from_bytes(trust_anchor)?;
    let policy = Policy {
        now_ms,
        proof_age_max_ms,
    };
    Ok(verify_presentation_bytes(
        &anchor,
        presentation,
        document.map(Document::Bytes),
        &policy,
    ))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::expect_used)]

    use super::*;
    use lichen_contracts::codec::Encode;
    use lichen_contracts::crypto::{Hash32, Suite};
    use lichen_contracts::model::LicenceDraft;
    use lichen_contracts::presentation::Verdict;
    use lichen_contracts::testkit::{GENESIS_TIME_MS, TestChain};
    use lichen_contracts::tx::Payload;

    #[test]
    fn verifies_from_bytes_and_refuses_a_bad_anchor() {
        let mut chain = TestChain::new(Suite::Intl, 4);
        let tx = chain.signed(
            Payload::IssueLicence(LicenceDraft {
                id: "W-1".into(),
                licence_type: "business".into(),
                issuer: "agency-a".into(),
                document_hash: Suite::Intl.digest(b"file"),
                holder_commitment: Hash32([3; 32]),
                valid_from_ms: GENESIS_TIME_MS,
                valid_until_ms: None,
            }),
            "agency-a",
        );
        chain.commit(vec![tx], GENESIS_TIME_MS + 1).expect("block");
        let anchor = chain.trust_anchor().to_bytes();
        let p = chain.presentation("W-1").to_bytes();
        let now = GENESIS_TIME_MS + 10;
        let report = verify(&anchor, &p, Some(b"file"), now, 1_000).expect("anchor ok");
        assert_eq!(report.verdict, Verdict::Valid);
        let report = verify(&anchor, &p, Some(b"other"), now, 1_000).expect("anchor ok");
        assert_eq!(report.verdict, Verdict::Tampered);
        assert!(matches!(
            verify(&anchor[1..], &p, None, now, 1_000),
            Err(VerifierError::TrustAnchor(_))
        ));
    }
}
