//! At the desk: the holder check (HOLDER MISMATCH), the expected kind of proof (WRONG KIND), and
//! decoders that refuse control characters and non-identifier chain ids (PROTOCOL.md,
//! "Verifying at a desk").
#![allow(clippy::unwrap_used, clippy::expect_used)]

use lichen_contracts::codec::{Decode, Encode};
use lichen_contracts::crypto::Suite;
use lichen_contracts::model::{LicenceDraft, holder_commitment};
use lichen_contracts::presentation::{
    CheckId, Desk, Document, EvidenceReceipt, Holder, Outcome, Policy, Presentation, ProofKind,
    Report, Trust, Verdict, verify_at_desk,
};
use lichen_contracts::testkit::{GENESIS_TIME_MS, TestChain};
use lichen_contracts::tx::Payload;

const DOC: &[u8] = b"%PDF-1.7 licence (desk test)";
const SALT: [u8; 32] = [0x5a; 32];
const HOLDER: &str = "91440300MA5EXAMPLE";

fn chain(suite: Suite) -> (TestChain, Vec<u8>, Vec<u8>) {
    let mut c = TestChain::new(suite, 4);
    let draft = LicenceDraft {
        id: "LIC-DESK".into(),
        licence_type: "business".into(),
        issuer: "agency-a".into(),
        document_hash: suite.digest(DOC),
        holder_commitment: holder_commitment(suite, &SALT, HOLDER),
        valid_from_ms: GENESIS_TIME_MS,
        valid_until_ms: None,
    };
    let issue = c.signed(Payload::IssueLicence(draft), "agency-a");
    let anchor = c.signed(
        Payload::AnchorEvidence {
            hash: suite.digest(DOC),
            submitter: "court-1".into(),
            label: "a notarised copy of the licence file".into(),
        },
        "court-1",
    );
    c.commit(vec![issue, anchor], GENESIS_TIME_MS + 60_000)
        .unwrap();
    let p = c.presentation("LIC-DESK").to_bytes();
    let r = c.receipt(&suite.digest(DOC)).to_bytes();
    (c, p, r)
}

fn at_desk(c: &TestChain, bytes: &[u8], desk: Desk<'_>) -> Report {
    let anchor = c.trust_anchor();
    let policy = Policy {
        now_ms: GENESIS_TIME_MS + 120_000,
        proof_age_max_ms: 86_400_000,
    };
    verify_at_desk(
        Trust::anchor(&anchor),
        bytes,
        Some(Document::Bytes(DOC)),
        &policy,
        desk,
    )
}

fn outcome(r: &Report, id: CheckId) -> Option<Outcome> {
    r.check(id).map(|c| c.outcome)
}

fn holder_binding(suite: Suite) {
    let (c, p, _) = chain(suite);
    // Without a holder: VALID, and the report has no holder line (not checked).
    let r = at_desk(&c, &p, Desk::default());
    assert_eq!(r.verdict, Verdict::Valid);
    assert_eq!(outcome(&r, CheckId::Holder), None);
    // The right id and salt: VALID, holder checked.
    let right = Holder {
        id: HOLDER,
        salt: SALT,
    };
    let r = at_desk(
        &c,
        &p,
        Desk {
            holder: Some(right),
            ..Desk::default()
        },
    );
    assert_eq!(r.verdict, Verdict::Valid, "{r:#?}");
    assert_eq!(outcome(&r, CheckId::Holder), Some(Outcome::Pass));
    // Another person's id, or the wrong salt: HOLDER MISMATCH; the other checks still run.
    for wrong in [
        Holder {
            id: "91440300MA5OTHER00",
            salt: SALT,
        },
        Holder {
            id: HOLDER,
            salt: [0x5b; 32],
        },
    ] {
        let r = at_desk(
            &c,
            &p,
            Desk {
                holder: Some(wrong),
                ..Desk::default()
            },
        );
        assert_eq!(r.verdict, Verdict::HolderMismatch, "{r:#?}");
        assert_eq!(outcome(&r, CheckId::Holder), Some(Outcome::Fail));
        assert_eq!(outcome(&r, CheckId::Freshness), Some(Outcome::Pass));
    }
    // A tampered presentation stays TAMPERED (more serious), with the holder not checked.
    let mut tampered = p.clone();
    tampered[12] ^= 1;
    let r = at_desk(
        &c,
        &tampered,
        Desk {
            holder: Some(right),
            ..Desk::default()
        },
    );
    assert_eq!(r.verdict, Verdict::Tampered);
    assert_ne!(outcome(&r, CheckId::Holder), Some(Outcome::Pass));
}

fn expected_kind(suite: Suite) {
    let (c, p, receipt) = chain(suite);
    let licence_desk = Desk {
        expect: Some(ProofKind::Licence),
        ..Desk::default()
    };
    let evidence_desk = Desk {
        expect: Some(ProofKind::Evidence),
        ..Desk::default()
    };
    // A genuine receipt for the licence file, at a licence desk: WRONG KIND, not ANCHORED.
    let r = at_desk(&c, &receipt, Desk::default());
    assert_eq!(r.verdict, Verdict::Anchored);
    let r = at_desk(&c, &receipt, licence_desk);
    assert_eq!(r.verdict, Verdict::WrongKind, "{r:#?}");
    assert_eq!(r.checks[0].id, CheckId::Kind);
    assert_eq!(r.checks[0].outcome, Outcome::Fail);
    assert!(r.checks[0].detail.contains("evidence receipt"));
    // The right kinds pass, with the kind check first.
    let r = at_desk(&c, &p, licence_desk);
    assert_eq!(r.verdict, Verdict::Valid);
    assert_eq!(
        (r.checks[0].id, r.checks[0].outcome),
        (CheckId::Kind, Outcome::Pass)
    );
    assert_eq!(
        at_desk(&c, &receipt, evidence_desk).verdict,
        Verdict::Anchored
    );
    // A licence at an evidence desk: WRONG KIND.
    assert_eq!(at_desk(&c, &p, evidence_desk).verdict, Verdict::WrongKind);
}

fn control_characters_do_not_decode(suite: Suite) {
    let (c, p, receipt) = chain(suite);
    // A header whose chain id carries terminal escape codes: the presentation does not decode.
    let mut q = Presentation::from_bytes(&p).unwrap();
    q.certified.header.chain_id = "lichen-\u{1b}[2K\u{1b}[1GVALID".into();
    let r = at_desk(&c, &q.to_bytes(), Desk::default());
    assert_eq!(r.verdict, Verdict::Tampered);
    assert_eq!(r.checks[0].id, CheckId::Encoding);
    assert!(
        r.checks[0].detail.contains("chain id"),
        "{}",
        r.checks[0].detail
    );
    // A status reason or an evidence label with a control character does not decode either.
    let mut q = Presentation::from_bytes(&p).unwrap();
    q.licence.status_reason = "fraud\r\u{1b}[32mVALID".into();
    assert!(Presentation::from_bytes(&q.to_bytes()).is_err());
    let mut e = EvidenceReceipt::from_bytes(&receipt).unwrap();
    e.evidence.label = "exhibit\u{7}".into();
    assert!(EvidenceReceipt::from_bytes(&e.to_bytes()).is_err());
}

macro_rules! suites {
    ($($name:ident),* $(,)?) => {
        mod sm { $( #[test] fn $name() { super::$name(lichen_contracts::crypto::Suite::Sm); } )* }
        mod intl { $( #[test] fn $name() { super::$name(lichen_contracts::crypto::Suite::Intl); } )* }
    };
}

suites!(
    holder_binding,
    expected_kind,
    control_characters_do_not_decode
);
