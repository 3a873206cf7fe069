//! The offline verifier: presentations and evidence receipts from the in-memory test chain,
//! checked against the genesis trust anchor with nothing else. Every verdict, every check, every
//! class of tampering, validator-set changes, and bit flips anywhere in an encoded presentation.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::LazyLock;

use lichen_contracts::codec::{Decode, Encode};
use lichen_contracts::crypto::{Hash32, Signature, Suite};
use lichen_contracts::error::ProofError;
use lichen_contracts::model::{
    LicenceDraft, LicenceStatus, Validator, ValidatorSet, holder_commitment,
};
use lichen_contracts::presentation::{
    CheckId, Document, EvidenceReceipt, Outcome, PRESENTATION_BYTES_MAX, Policy, Presentation,
    Report, TrustAnchor, Verdict, verify_presentation, verify_presentation_bytes, verify_receipt,
    verify_receipt_bytes,
};
use lichen_contracts::testkit::{GENESIS_TIME_MS, TestChain, test_key};
use lichen_contracts::tx::{Payload, SignedTransaction};
use proptest::prelude::*;
use proptest::test_runner::FileFailurePersistence;

const MINUTE_MS: u64 = 60_000;
const HOUR_MS: u64 = 60 * MINUTE_MS;
const DAY_MS: u64 = 24 * HOUR_MS;
/// The licence file the tests present.
const DOC: &[u8] = b"%PDF-1.7 Business licence, Shenzhen Example Trading Co., Ltd. (test)";
const ID: &str = "SZ-BL-2026-000001";

const ALL_CHECKS: [CheckId; 10] = [
    CheckId::Encoding,
    CheckId::Chain,
    CheckId::ValidatorSet,
    CheckId::Quorum,
    CheckId::StateProof,
    CheckId::DocumentHash,
    CheckId::IssuerAuthorised,
    CheckId::Status,
    CheckId::ValidityWindow,
    CheckId::Freshness,
];

const EVIDENCE_CHECKS: [CheckId; 6] = [
    CheckId::Encoding,
    CheckId::Chain,
    CheckId::ValidatorSet,
    CheckId::Quorum,
    CheckId::StateProof,
    CheckId::DocumentHash,
];

use Outcome::{Fail, Pass, Skipped};

// --- helpers ---

/// Block times: one minute per height after genesis.
fn next_time(c: &TestChain) -> u64 {
    GENESIS_TIME_MS + (c.height() + 1) * MINUTE_MS
}

fn commit(c: &mut TestChain, txs: Vec<SignedTransaction>) -> u64 {
    let time = next_time(c);
    if let Err(e) = c.commit(txs, time) {
        panic!("block refused: {e}");
    }
    c.height()
}

fn draft(c: &TestChain, id: &str, from: u64, until: Option<u64>) -> LicenceDraft {
    LicenceDraft {
        id: id.into(),
        licence_type: "business".into(),
        issuer: "agency-a".into(),
        document_hash: c.suite.digest(DOC),
        holder_commitment: holder_commitment(c.suite, &[9; 32], "91440300MA5EXAMPLE"),
        valid_from_ms: from,
        valid_until_ms: until,
    }
}

fn issue_draft(c: &mut TestChain, d: LicenceDraft) -> u64 {
    let tx = c.signed(Payload::IssueLicence(d), "agency-a");
    commit(c, vec![tx])
}

/// A chain with licence `ID` issued at height 1, valid for a year from genesis.
fn chain_with_licence(suite: Suite) -> TestChain {
    let mut c = TestChain::new(suite, 4);
    let d = draft(
        &c,
        ID,
        GENESIS_TIME_MS,
        Some(GENESIS_TIME_MS + 365 * DAY_MS),
    );
    issue_draft(&mut c, d);
    c
}

fn status_change(c: &mut TestChain, payload: Payload) -> u64 {
    let tx = c.signed(payload, "agency-a");
    commit(c, vec![tx])
}

fn reason() -> String {
    "found in breach of art. 12".into()
}

/// A policy whose "now" is `age_ms` after the latest header, allowing one day.
fn policy_after(c: &TestChain, age_ms: u64) -> Policy {
    Policy {
        now_ms: c.blocks.last().unwrap().header.time_ms + age_ms,
        proof_age_max_ms: DAY_MS,
    }
}

fn fresh(c: &TestChain) -> Policy {
    policy_after(c, MINUTE_MS)
}

fn outcomes(r: &Report) -> Vec<(CheckId, Outcome)> {
    r.checks.iter().map(|c| (c.id, c.outcome)).collect()
}

fn outcome(r: &Report, id: CheckId) -> Outcome {
    r.check(id)
        .unwrap_or_else(|| panic!("no {id:?} check"))
        .outcome
}

/// Every check once, in the documented order.
fn assert_all_checks(r: &Report) {
    let ids: Vec<CheckId> = r.checks.iter().map(|c| c.id).collect();
    assert_eq!(ids, ALL_CHECKS, "{r:#?}");
    assert!(r.checks.iter().all(|c| !c.detail.is_empty()), "{r:#?}");
}

/// Checks before `from` pass, `from` has `outcome`, the ones after are skipped.
fn assert_stops_at(r: &Report, from: CheckId, outcome: Outcome) {
    assert_all_checks(r);
    for (id, o) in outcomes(r) {
        let expected = match id.cmp(&from) {
            std::cmp::Ordering::Less => Pass,
            std::cmp::Ordering::Equal => outcome,
            std::cmp::Ordering::Greater => Skipped,
        };
        assert_eq!(o, expected, "{id:?} in {r:#?}");
    }
}

/// Verifies both the decoded presentation and its bytes, which must agree.
fn verify(
    anchor: &TrustAnchor,
    p: &Presentation,
    doc: Option<Document<'_>>,
    policy: &Policy,
) -> Report {
    let report = verify_presentation(anchor, p, doc, policy);
    let from_bytes = verify_presentation_bytes(anchor, &p.to_bytes(), doc, policy);
    assert_eq!(report, from_bytes);
    report
}

/// Position of `needle` in `haystack` (which must hold it exactly once).
fn find_once(haystack: &[u8], needle: &[u8]) -> usize {
    let hits: Vec<usize> = haystack
        .windows(needle.len())
        .enumerate()
        .filter(|(_, w)| *w == needle)
        .map(|(i, _)| i)
        .collect();
    assert_eq!(hits.len(), 1, "expected exactly one occurrence");
    hits[0]
}

/// The same signature with one bit of its first half flipped: well-formed, not valid.
fn tampered(sig: &Signature) -> Signature {
    let mut bytes = *sig.as_bytes();
    bytes[5] ^= 0x20;
    Signature::from_bytes(sig.algo(), &bytes).unwrap()
}

fn quorum_detail_is(r: &Report, expected: &ProofError) {
    assert_eq!(
        r.check(CheckId::Quorum).unwrap().detail,
        expected.to_string(),
        "{r:#?}"
    );
}

/// A chain like [`TestChain::new`] but with another chain id (same keys, same validators).
fn other_chain(suite: Suite, chain_id: &str) -> TestChain {
    let base = TestChain::new(suite, 4);
    let mut genesis = base.genesis.clone();
    genesis.config.chain_id = chain_id.into();
    let names = [
        "validator-0",
        "validator-1",
        "validator-2",
        "validator-3",
        "council-0",
        "council-1",
        "council-2",
        "agency-a",
        "agency-b",
        "court-1",
    ];
    let keys = names
        .iter()
        .map(|n| (n.to_string(), test_key(suite, n)))
        .collect();
    let validator_names = names[..4]
        .iter()
        .map(|n| {
            (
                test_key(suite, n).public_key().as_bytes().to_vec(),
                n.to_string(),
            )
        })
        .collect();
    TestChain::from_genesis(genesis, keys, validator_names)
}

fn add_validator(c: &mut TestChain, name: &str, peer: &str) -> u64 {
    let key = test_key(c.suite, name);
    let v = Validator {
        name: name.into(),
        key: key.public_key(),
        peer_id: peer.as_bytes().to_vec(),
    };
    c.add_validator_key(name, key);
    let tx = c.council_signed(Payload::AddValidator(v));
    commit(c, vec![tx])
}

/// Validator set changes at heights 2 (add validator-4) and 4 (remove validator-0); the licence
/// is issued at height 6. Returns the chain and the two set-change heights.
fn chain_with_set_changes(suite: Suite) -> (TestChain, u64, u64) {
    let mut c = TestChain::new(suite, 4);
    commit(&mut c, vec![]);
    let added = add_validator(&mut c, "validator-4", "peer-4");
    commit(&mut c, vec![]);
    let key = c.key("validator-0").public_key();
    let tx = c.council_signed(Payload::RemoveValidator { key });
    let removed = commit(&mut c, vec![tx]);
    commit(&mut c, vec![]);
    let d = draft(&c, ID, GENESIS_TIME_MS, None);
    issue_draft(&mut c, d);
    (c, added, removed)
}

// --- verdicts ---

fn valid_presentation_reports_every_check(suite: Suite) {
    let c = chain_with_licence(suite);
    let anchor = c.trust_anchor();
    let p = c.presentation(ID);
    let policy = fresh(&c);
    let header = &c.blocks[1].header;

    // Without the document: the record alone.
    let r = verify(&anchor, &p, None, &policy);
    assert_eq!(r.verdict, Verdict::Valid, "{r:#?}");
    assert_all_checks(&r);
    for (id, o) in outcomes(&r) {
        let expected = if id == CheckId::DocumentHash {
            Skipped
        } else {
            Pass
        };
        assert_eq!(o, expected, "{id:?}");
    }
    assert_eq!(r.status_as_of_ms, Some(header.time_ms));
    assert_eq!(r.height, Some(1));

    // With the right document bytes, or its hash: every check passes.
    for doc in [Document::Bytes(DOC), Document::Hash(suite.digest(DOC))] {
        let r = verify(&anchor, &p, Some(doc), &policy);
        assert_eq!(r.verdict, Verdict::Valid);
        assert!(r.checks.iter().all(|c| c.outcome == Pass), "{r:#?}");
        assert_all_checks(&r);
    }

    // With other bytes: tampered, and the status is not reported as if it could be trusted.
    let mut forged = DOC.to_vec();
    forged[10] ^= 1;
    let r = verify(&anchor, &p, Some(Document::Bytes(&forged)), &policy);
    assert_eq!(r.verdict, Verdict::Tampered);
    assert_stops_at(&r, CheckId::DocumentHash, Fail);
}

fn revoked(suite: Suite) {
    let mut c = chain_with_licence(suite);
    status_change(
        &mut c,
        Payload::RevokeLicence {
            id: ID.into(),
            reason: reason(),
        },
    );
    let r = verify(
        &c.trust_anchor(),
        &c.presentation(ID),
        Some(Document::Bytes(DOC)),
        &fresh(&c),
    );
    assert_eq!(r.verdict, Verdict::Revoked);
    assert_all_checks(&r);
    assert_eq!(outcome(&r, CheckId::Status), Fail);
    assert!(r.check(CheckId::Status).unwrap().detail.contains(&reason()));
    assert!(
        r.checks
            .iter()
            .filter(|c| c.id != CheckId::Status)
            .all(|c| c.outcome == Pass)
    );
}

fn suspended(suite: Suite) {
    let mut c = chain_with_licence(suite);
    status_change(
        &mut c,
        Payload::SuspendLicence {
            id: ID.into(),
            reason: reason(),
        },
    );
    let r = verify(&c.trust_anchor(), &c.presentation(ID), None, &fresh(&c));
    assert_eq!(r.verdict, Verdict::Suspended);
    assert_eq!(outcome(&r, CheckId::Status), Fail);
    // Reinstated: valid again.
    status_change(
        &mut c,
        Payload::ReinstateLicence {
            id: ID.into(),
            reason: reason(),
        },
    );
    let r = verify(&c.trust_anchor(), &c.presentation(ID), None, &fresh(&c));
    assert_eq!(r.verdict, Verdict::Valid);
}

fn superseded(suite: Suite) {
    let mut c = chain_with_licence(suite);
    let new = draft(&c, "SZ-BL-2026-000002", GENESIS_TIME_MS, None);
    status_change(
        &mut c,
        Payload::SupersedeLicence {
            old_id: ID.into(),
            reason: reason(),
            new,
        },
    );
    let anchor = c.trust_anchor();
    let r = verify(&anchor, &c.presentation(ID), None, &fresh(&c));
    assert_eq!(r.verdict, Verdict::Superseded);
    assert_eq!(outcome(&r, CheckId::Status), Fail);
    assert!(
        r.check(CheckId::Status)
            .unwrap()
            .detail
            .contains("SZ-BL-2026-000002")
    );
    // The new licence is valid.
    let r = verify(
        &anchor,
        &c.presentation("SZ-BL-2026-000002"),
        Some(Document::Bytes(DOC)),
        &fresh(&c),
    );
    assert_eq!(r.verdict, Verdict::Valid);
}

fn expired(suite: Suite) {
    let mut c = TestChain::new(suite, 4);
    let until = GENESIS_TIME_MS + 10 * MINUTE_MS;
    let d = draft(&c, ID, GENESIS_TIME_MS, Some(until));
    issue_draft(&mut c, d);
    let anchor = c.trust_anchor();
    let p = c.presentation(ID);
    let at = |now_ms| Policy {
        now_ms,
        proof_age_max_ms: DAY_MS,
    };
    let r = verify(&anchor, &p, None, &at(until));
    assert_eq!(r.verdict, Verdict::Expired, "valid_until is exclusive");
    assert_eq!(outcome(&r, CheckId::ValidityWindow), Fail);
    assert_eq!(outcome(&r, CheckId::Freshness), Pass);
    assert_eq!(outcome(&r, CheckId::Status), Pass);
    let r = verify(&anchor, &p, None, &at(until - 1));
    assert_eq!(r.verdict, Verdict::Valid);
}

fn not_yet_valid(suite: Suite) {
    let mut c = TestChain::new(suite, 4);
    let from = GENESIS_TIME_MS + 30 * DAY_MS;
    let d = draft(&c, ID, from, None);
    issue_draft(&mut c, d);
    let anchor = c.trust_anchor();
    let p = c.presentation(ID);
    let r = verify(&anchor, &p, None, &fresh(&c));
    assert_eq!(r.verdict, Verdict::NotYetValid);
    assert_eq!(outcome(&r, CheckId::ValidityWindow), Fail);
    let r = verify(
        &anchor,
        &p,
        None,
        &Policy {
            now_ms: from,
            proof_age_max_ms: 31 * DAY_MS,
        },
    );
    assert_eq!(r.verdict, Verdict::Valid, "valid_from is inclusive");
}

fn stale_proof(suite: Suite) {
    let mut c = chain_with_licence(suite);
    let anchor = c.trust_anchor();
    let p = c.presentation(ID);
    // Exactly the allowed age is fine; one millisecond more is stale.
    let r = verify(&anchor, &p, None, &policy_after(&c, DAY_MS));
    assert_eq!(r.verdict, Verdict::Valid);
    let r = verify(&anchor, &p, None, &policy_after(&c, DAY_MS + 1));
    assert_eq!(r.verdict, Verdict::StaleProof);
    assert_eq!(outcome(&r, CheckId::Freshness), Fail);
    assert_eq!(outcome(&r, CheckId::Status), Pass);
    // An old header, presented after the chain moved on: the status it shows may be out of
    // date (the licence was revoked since), and the freshness policy is what catches it.
    for _ in 0..3 {
        commit(&mut c, vec![]);
    }
    status_change(
        &mut c,
        Payload::RevokeLicence {
            id: ID.into(),
            reason: reason(),
        },
    );
    let old = c.presentation_at(ID, 1);
    assert_eq!(old.licence.status, LicenceStatus::Active);
    let strict = Policy {
        now_ms: c.blocks.last().unwrap().header.time_ms,
        proof_age_max_ms: 2 * MINUTE_MS,
    };
    let r = verify(&anchor, &old, None, &strict);
    assert_eq!(r.verdict, Verdict::StaleProof);
    assert_eq!(r.height, Some(1));
    assert_eq!(r.status_as_of_ms, Some(c.blocks[1].header.time_ms));
    let r = verify(&anchor, &c.presentation(ID), None, &strict);
    assert_eq!(r.verdict, Verdict::Revoked);
}

fn verdict_precedence(suite: Suite) {
    let mut c = TestChain::new(suite, 4);
    let until = GENESIS_TIME_MS + 2 * DAY_MS;
    let d = draft(&c, ID, GENESIS_TIME_MS, Some(until));
    issue_draft(&mut c, d);
    let anchor = c.trust_anchor();
    let long_after = Policy {
        now_ms: until + 10 * DAY_MS,
        proof_age_max_ms: DAY_MS,
    };
    // Expired and stale: expired.
    let r = verify(&anchor, &c.presentation(ID), None, &long_after);
    assert_eq!(r.verdict, Verdict::Expired);
    assert_eq!(outcome(&r, CheckId::Freshness), Fail);
    assert_eq!(outcome(&r, CheckId::ValidityWindow), Fail);
    // Suspended, expired and stale: suspended.
    status_change(
        &mut c,
        Payload::SuspendLicence {
            id: ID.into(),
            reason: reason(),
        },
    );
    let r = verify(&anchor, &c.presentation(ID), None, &long_after);
    assert_eq!(r.verdict, Verdict::Suspended);
    // Revoked and stale: revoked.
    status_change(
        &mut c,
        Payload::RevokeLicence {
            id: ID.into(),
            reason: reason(),
        },
    );
    let p = c.presentation(ID);
    let stale = policy_after(&c, 2 * DAY_MS);
    let r = verify(&anchor, &p, None, &stale);
    assert_eq!(r.verdict, Verdict::Revoked);
    assert_eq!(outcome(&r, CheckId::Freshness), Fail);
    assert_eq!(outcome(&r, CheckId::Status), Fail);
    let r = verify(&anchor, &p, None, &long_after);
    assert_eq!(r.verdict, Verdict::Revoked);
    // Revoked but the document does not match: tampered comes first.
    let r = verify(&anchor, &p, Some(Document::Bytes(b"another file")), &stale);
    assert_eq!(r.verdict, Verdict::Tampered);
    // Revoked but signed by strangers: unknown issuer comes first.
    let mut q = p.clone();
    q.certified.certificate.signatures.truncate(1);
    let r = verify(&anchor, &q, None, &stale);
    assert_eq!(r.verdict, Verdict::UnknownIssuer);
    // The order of the verdicts themselves.
    let order = [
        Verdict::Tampered,
        Verdict::UnknownIssuer,
        Verdict::Revoked,
        Verdict::Superseded,
        Verdict::Suspended,
        Verdict::Expired,
        Verdict::NotYetValid,
        Verdict::StaleProof,
        Verdict::Valid,
    ];
    assert!(order.windows(2).all(|w| w[0] < w[1]));
}

// --- tampering ---

fn tampered_record(suite: Suite) {
    let mut c = chain_with_licence(suite);
    status_change(
        &mut c,
        Payload::RevokeLicence {
            id: ID.into(),
            reason: reason(),
        },
    );
    let anchor = c.trust_anchor();
    let policy = fresh(&c);
    let p = c.presentation(ID);
    let expect_tampered = |q: &Presentation| {
        let r = verify(&anchor, q, None, &policy);
        assert_eq!(r.verdict, Verdict::Tampered);
        assert_stops_at(&r, CheckId::StateProof, Fail);
    };
    // The forger's favourite: a revoked licence shown as active.
    let mut q = p.clone();
    q.licence.status = LicenceStatus::Active;
    q.licence.status_reason.clear();
    expect_tampered(&q);
    // Another document, a longer validity, another holder, another id, another issuer.
    let mut q = p.clone();
    q.licence.draft.document_hash = suite.digest(b"forged file");
    expect_tampered(&q);
    let mut q = p.clone();
    q.licence.draft.valid_until_ms = None;
    expect_tampered(&q);
    let mut q = p.clone();
    q.licence.draft.holder_commitment = holder_commitment(suite, &[9; 32], "someone else");
    expect_tampered(&q);
    let mut q = p.clone();
    q.licence.draft.id = "SZ-BL-2026-000009".into();
    expect_tampered(&q);
    let mut q = p.clone();
    q.licence.draft.issuer = "agency-b".into();
    expect_tampered(&q);
    let mut q = p.clone();
    q.licence.updated_height += 1;
    expect_tampered(&q);
    // A sibling of the state proof.
    let mut q = p.clone();
    assert!(!q.proof.siblings.is_empty());
    let i = q
        .proof
        .siblings
        .iter()
        .position(|s| *s != Hash32::ZERO)
        .unwrap();
    q.proof.siblings[i].0[0] ^= 1;
    expect_tampered(&q);

    // The same at byte level: the status byte, then the document hash inside the licence.
    let bytes = p.to_bytes();
    let status_at = 1 + p.licence.draft.to_bytes().len();
    assert_eq!(bytes[status_at], 2, "revoked is encoded as 2");
    for (at, value) in [(status_at, 0u8), (status_at, 1)] {
        let mut b = bytes.clone();
        b[at] = value;
        let r = verify_presentation_bytes(&anchor, &b, None, &policy);
        assert_eq!(r.verdict, Verdict::Tampered);
        assert_stops_at(&r, CheckId::StateProof, Fail);
    }
    let at = find_once(&bytes, p.licence.draft.document_hash.as_bytes());
    let mut b = bytes.clone();
    b[at + 31] ^= 0x80;
    let r = verify_presentation_bytes(&anchor, &b, None, &policy);
    assert_eq!(r.verdict, Verdict::Tampered);
    assert_stops_at(&r, CheckId::StateProof, Fail);
}

fn tampered_header(suite: Suite) {
    let c = chain_with_licence(suite);
    let anchor = c.trust_anchor();
    let policy = fresh(&c);
    let p = c.presentation(ID);
    // A different state root (e.g. one that a forged record's proof leads to).
    let mut q = p.clone();
    q.certified.header.state_root.0[0] ^= 1;
    let r = verify(&anchor, &q, None, &policy);
    assert_eq!(r.verdict, Verdict::Tampered);
    assert_stops_at(&r, CheckId::Quorum, Fail);
    assert!(
        r.check(CheckId::Quorum)
            .unwrap()
            .detail
            .contains("block hash"),
        "{r:#?}"
    );
    // The same at byte level.
    let bytes = p.to_bytes();
    let at = find_once(&bytes, p.certified.header.state_root.as_bytes());
    let mut b = bytes.clone();
    b[at + 7] ^= 0x04;
    let r = verify_presentation_bytes(&anchor, &b, None, &policy);
    assert_eq!(r.verdict, Verdict::Tampered);
    assert_stops_at(&r, CheckId::Quorum, Fail);
    // A later header time, to look fresh.
    let mut q = p.clone();
    q.certified.header.time_ms += DAY_MS;
    assert_eq!(
        verify(&anchor, &q, None, &policy).verdict,
        Verdict::Tampered
    );
    // ...and with the certificate's block hash recomputed to match: the signatures no longer
    // verify.
    q.certified.certificate.block_hash = q.certified.header.hash(suite);
    let r = verify(&anchor, &q, None, &policy);
    assert_eq!(r.verdict, Verdict::UnknownIssuer);
    assert_stops_at(&r, CheckId::Quorum, Fail);
    // A certificate for another height.
    let mut q = p.clone();
    q.certified.certificate.height += 1;
    assert_eq!(
        verify(&anchor, &q, None, &policy).verdict,
        Verdict::Tampered
    );
}

fn tampered_certificate(suite: Suite) {
    let c = chain_with_licence(suite);
    let anchor = c.trust_anchor();
    let policy = fresh(&c);
    let p = c.presentation(ID);
    let header = p.certified.header.clone();
    let set = anchor.validators.clone();
    assert_eq!(set.quorum(), 3);
    let unknown = |q: &Presentation, expected: ProofError| {
        let r = verify(&anchor, q, None, &policy);
        assert_eq!(r.verdict, Verdict::UnknownIssuer, "{r:#?}");
        assert_stops_at(&r, CheckId::Quorum, Fail);
        quorum_detail_is(&r, &expected);
        assert_eq!(
            q.certified.certificate.verify(
                suite,
                &anchor.chain_id,
                &anchor.genesis_hash,
                &q.certified.header,
                &set,
            ),
            Err(expected)
        );
    };
    // One signature byte.
    for which in 0..p.certified.certificate.signatures.len() {
        let mut q = p.clone();
        let s = &mut q.certified.certificate.signatures[which];
        s.signature = tampered(&s.signature);
        let index = s.index;
        unknown(&q, ProofError::BadCertificateSignature { index });
    }
    // Below quorum.
    let mut q = p.clone();
    q.certified.certificate = c.certify(&header, &set, set.quorum() - 1);
    unknown(
        &q,
        ProofError::NoQuorum {
            signers: 2,
            quorum: 3,
            set_size: 4,
        },
    );
    // Exactly the quorum is enough.
    let mut q = p.clone();
    q.certified.certificate = c.certify(&header, &set, set.quorum());
    assert_eq!(verify(&anchor, &q, None, &policy).verdict, Verdict::Valid);
    // A quorum reached by repeating a signer.
    let mut q = p.clone();
    q.certified.certificate = c.certify(&header, &set, 2);
    let first = q.certified.certificate.signatures[0].clone();
    q.certified.certificate.signatures.insert(1, first);
    unknown(&q, ProofError::DuplicateSigner { index: 0 });
    // A signer index renamed to another one present.
    let mut q = p.clone();
    q.certified.certificate.signatures[1].index = 0;
    unknown(&q, ProofError::DuplicateSigner { index: 0 });
    // A signer index out of range.
    let mut q = p.clone();
    q.certified.certificate.signatures[2].index = 4;
    unknown(
        &q,
        ProofError::UnknownSigner {
            index: 4,
            set_size: 4,
        },
    );
    let mut q = p.clone();
    q.certified.certificate.signatures[2].index = u16::MAX;
    unknown(
        &q,
        ProofError::UnknownSigner {
            index: u16::MAX,
            set_size: 4,
        },
    );
    // Two signatures swapped between indices: each is checked against the wrong key.
    let mut q = p.clone();
    let sigs = &mut q.certified.certificate.signatures;
    let (a, b) = (sigs[0].signature, sigs[1].signature);
    sigs[0].signature = b;
    sigs[1].signature = a;
    unknown(&q, ProofError::BadCertificateSignature { index: 0 });
    // No signatures at all.
    let mut q = p.clone();
    q.certified.certificate.signatures.clear();
    assert_eq!(
        verify(&anchor, &q, None, &policy).verdict,
        Verdict::UnknownIssuer
    );
    // The commit certificate of another block.
    let mut c2 = chain_with_licence(suite);
    commit(&mut c2, vec![]);
    let mut q = p.clone();
    q.certified.certificate = c2.blocks[2].certificate.clone().unwrap();
    let r = verify(&anchor, &q, None, &policy);
    assert_eq!(r.verdict, Verdict::Tampered, "{r:#?}");
    // Another view in the certificate: the votes were cast for view 0.
    let mut q = p.clone();
    q.certified.certificate.view = 1;
    assert_eq!(
        verify(&anchor, &q, None, &policy).verdict,
        Verdict::UnknownIssuer
    );
}

fn other_chain_is_unknown_issuer(suite: Suite) {
    let mine = chain_with_licence(suite);
    let anchor = mine.trust_anchor();
    // The same validators, the same keys, the same licence, another chain id.
    let mut other = other_chain(suite, "lichen-other");
    let d = draft(
        &other,
        ID,
        GENESIS_TIME_MS,
        Some(GENESIS_TIME_MS + 365 * DAY_MS),
    );
    issue_draft(&mut other, d);
    let p = other.presentation(ID);
    assert_eq!(
        verify(&other.trust_anchor(), &p, None, &fresh(&other)).verdict,
        Verdict::Valid
    );
    let r = verify(&anchor, &p, None, &fresh(&other));
    assert_eq!(r.verdict, Verdict::UnknownIssuer);
    assert_stops_at(&r, CheckId::Chain, Fail);
    // Relabelling the header's chain id breaks the header hash...
    let mut q = p.clone();
    q.certified.header.chain_id = anchor.chain_id.clone();
    assert_eq!(
        verify(&anchor, &q, None, &fresh(&other)).verdict,
        Verdict::Tampered
    );
    // ...and recomputing it leaves signatures over the other chain's votes.
    q.certified.certificate.block_hash = q.certified.header.hash(suite);
    let r = verify(&anchor, &q, None, &fresh(&other));
    assert_eq!(r.verdict, Verdict::UnknownIssuer);
    assert_stops_at(&r, CheckId::Quorum, Fail);

    // A chain of the other suite with the same chain id.
    let other_suite = match suite {
        Suite::Sm => Suite::Intl,
        Suite::Intl => Suite::Sm,
    };
    let theirs = chain_with_licence(other_suite);
    assert_eq!(theirs.chain_id(), mine.chain_id());
    let p = theirs.presentation(ID);
    let r = verify(&anchor, &p, None, &fresh(&theirs));
    assert_eq!(r.verdict, Verdict::UnknownIssuer);
    assert_stops_at(&r, CheckId::ValidatorSet, Fail);
}

fn other_validators_are_unknown_issuer(suite: Suite) {
    let c = chain_with_licence(suite);
    let p = c.presentation(ID);
    let mut anchor = c.trust_anchor();
    let strangers: Vec<Validator> = (0..4)
        .map(|i| Validator {
            name: format!("stranger-{i}"),
            key: test_key(suite, &format!("stranger-{i}")).public_key(),
            peer_id: format!("stranger-peer-{i}").into_bytes(),
        })
        .collect();
    anchor.validators = ValidatorSet::new(strangers).unwrap();
    let r = verify(&anchor, &p, None, &fresh(&c));
    assert_eq!(r.verdict, Verdict::UnknownIssuer);
    assert_stops_at(&r, CheckId::ValidatorSet, Fail);
    assert!(matches!(
        p.certified.signing_set(&anchor),
        Err(ProofError::ValidatorSetMismatch { .. })
    ));
    // The genuine set minus one validator, or with one swapped, is another set too.
    let mut anchor = c.trust_anchor();
    anchor.validators.validators.pop();
    assert_eq!(
        verify(&anchor, &p, None, &fresh(&c)).verdict,
        Verdict::UnknownIssuer
    );
    // The anchor of another suite.
    let mut anchor = c.trust_anchor();
    anchor.suite = match suite {
        Suite::Sm => Suite::Intl,
        Suite::Intl => Suite::Sm,
    };
    assert_eq!(
        verify(&anchor, &p, None, &fresh(&c)).verdict,
        Verdict::UnknownIssuer
    );
}

fn undecodable_bytes(suite: Suite) {
    let c = chain_with_licence(suite);
    let anchor = c.trust_anchor();
    let policy = fresh(&c);
    let bytes = c.presentation(ID).to_bytes();
    let expect_encoding_failure = |b: &[u8]| {
        let r = verify_presentation_bytes(&anchor, b, None, &policy);
        assert_eq!(r.verdict, Verdict::Tampered, "{} bytes", b.len());
        assert_stops_at(&r, CheckId::Encoding, Fail);
        assert_eq!((r.height, r.status_as_of_ms), (None, None));
    };
    // Garbage: random-looking bytes, zeros, nothing, a receipt's tag.
    let garbage: Vec<u8> = (0..1200u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    expect_encoding_failure(&garbage);
    expect_encoding_failure(&[0u8; 64]);
    expect_encoding_failure(&[]);
    let mut b = bytes.clone();
    b[0] = b'R';
    expect_encoding_failure(&b);
    // Every truncation.
    for len in 0..bytes.len() {
        expect_encoding_failure(&bytes[..len]);
    }
    // Trailing bytes.
    for extra in [&[0u8][..], &[1, 2, 3], &bytes] {
        let mut b = bytes.clone();
        b.extend_from_slice(extra);
        expect_encoding_failure(&b);
    }
    // Oversized input is refused before decoding.
    let mut huge = bytes.clone();
    huge.resize(PRESENTATION_BYTES_MAX + 1, 0);
    expect_encoding_failure(&huge);
    // The bytes themselves still verify.
    assert_eq!(
        verify_presentation_bytes(&anchor, &bytes, None, &policy).verdict,
        Verdict::Valid
    );
    assert_eq!(
        Presentation::from_bytes(&bytes).unwrap(),
        c.presentation(ID)
    );
}

// --- validator-set changes ---

fn set_change_carried_and_checked(suite: Suite) {
    let (c, added, removed) = chain_with_set_changes(suite);
    let anchor = c.trust_anchor();
    let policy = fresh(&c);
    let p = c.presentation(ID);
    assert_eq!(
        p.certified
            .set_changes
            .iter()
            .map(|s| s.header.height)
            .collect::<Vec<_>>(),
        vec![added, removed]
    );
    let r = verify(&anchor, &p, Some(Document::Bytes(DOC)), &policy);
    assert_eq!(r.verdict, Verdict::Valid, "{r:#?}");
    assert!(
        r.check(CheckId::ValidatorSet)
            .unwrap()
            .detail
            .starts_with("2 validator-set change(s)")
    );
    // The licence is signed by a set that neither the anchor nor the first change knows.
    let final_set = p.certified.signing_set(&anchor).unwrap();
    assert_eq!(final_set.len(), 4);
    assert_ne!(final_set, anchor.validators);

    let unknown = |q: &Presentation, expected: ProofError| {
        let r = verify(&anchor, q, None, &policy);
        assert_eq!(r.verdict, Verdict::UnknownIssuer, "{r:#?}");
        assert_stops_at(&r, CheckId::ValidatorSet, Fail);
        assert_eq!(
            r.check(CheckId::ValidatorSet).unwrap().detail,
            expected.to_string()
        );
        assert_eq!(q.certified.signing_set(&anchor), Err(expected));
    };
    let expected_mismatch =
        |q: &Presentation, current: &ValidatorSet| ProofError::ValidatorSetMismatch {
            expected: current.hash(suite),
            found: q.certified.header.validator_set_hash,
        };
    // Without the set changes, or without the last one.
    let mut q = p.clone();
    q.certified.set_changes.clear();
    let e = expected_mismatch(&q, &anchor.validators);
    unknown(&q, e);
    let mut q = p.clone();
    q.certified.set_changes.pop();
    let e = expected_mismatch(&q, &p.certified.set_changes[0].next_validators);
    unknown(&q, e);
    // Out of order, repeated, or not before the header.
    // Swapped: the later change comes first and is checked against the anchor's set, which
    // did not sign it (the ordering check would refuse the second one anyway).
    let mut q = p.clone();
    q.certified.set_changes.swap(0, 1);
    let r = verify(&anchor, &q, None, &policy);
    assert_eq!(r.verdict, Verdict::UnknownIssuer);
    assert_stops_at(&r, CheckId::ValidatorSet, Fail);
    assert!(matches!(
        q.certified.signing_set(&anchor),
        Err(ProofError::ValidatorSetMismatch { .. })
    ));
    let mut q = p.clone();
    let again = q.certified.set_changes[1].clone();
    q.certified.set_changes.push(again);
    unknown(
        &q,
        ProofError::SetChangeOutOfOrder {
            height: removed,
            previous: removed,
        },
    );
    let mut q = p.clone();
    q.certified.set_changes[1].header.height = q.certified.header.height;
    unknown(
        &q,
        ProofError::SetChangeOutOfOrder {
            height: q.certified.header.height,
            previous: added,
        },
    );
    // A set change whose new set is not the one its header names.
    let mut q = p.clone();
    let extra = Validator {
        name: "smuggled".into(),
        key: test_key(suite, "smuggled").public_key(),
        peer_id: b"smuggled".to_vec(),
    };
    let mut vs = q.certified.set_changes[1]
        .next_validators
        .validators
        .clone();
    vs.push(extra);
    q.certified.set_changes[1].next_validators = ValidatorSet::new(vs).unwrap();
    unknown(&q, ProofError::SetChangeHashMismatch { height: removed });
    // A set change certified by too few of the set before it.
    let mut q = p.clone();
    let change = &q.certified.set_changes[0];
    let short = c.certify(&change.header, &anchor.validators, 2);
    q.certified.set_changes[0].certificate = short;
    unknown(
        &q,
        ProofError::NoQuorum {
            signers: 2,
            quorum: 3,
            set_size: 4,
        },
    );
    // A set change's header altered.
    let mut q = p.clone();
    q.certified.set_changes[0].header.time_ms += 1;
    let r = verify(&anchor, &q, None, &policy);
    assert_eq!(r.verdict, Verdict::UnknownIssuer);
    assert_stops_at(&r, CheckId::ValidatorSet, Fail);
    // A block that did not change the set, passed off as a set change.
    let mut q = p.clone();
    let plain = c.certified(added + 1);
    q.certified.set_changes.insert(
        1,
        lichen_contracts::presentation::SetChange {
            header: c.blocks[(added + 1) as usize].header.clone(),
            certificate: c.blocks[(added + 1) as usize].certificate.clone().unwrap(),
            next_validators: plain.set_changes[0].next_validators.clone(),
        },
    );
    unknown(&q, ProofError::SetChangeHashMismatch { height: added + 1 });

    // A verifier holding a later checkpoint needs no set change before it...
    let checkpoint = TrustAnchor {
        height: removed,
        validators: final_set.clone(),
        ..anchor.clone()
    };
    let mut q = p.clone();
    q.certified.set_changes.clear();
    assert_eq!(
        verify(&checkpoint, &q, None, &policy).verdict,
        Verdict::Valid
    );
    // ...and skips the ones at or before it, which it already knows.
    assert_eq!(
        verify(&checkpoint, &p, None, &policy).verdict,
        Verdict::Valid
    );
    assert_eq!(p.certified.signing_set(&checkpoint), Ok(final_set.clone()));
}

fn one_set_change(suite: Suite) {
    // A validator joins at height 2; the licence is issued at height 4.
    let mut c = TestChain::new(suite, 4);
    commit(&mut c, vec![]);
    let added = add_validator(&mut c, "validator-4", "peer-4");
    commit(&mut c, vec![]);
    let d = draft(&c, ID, GENESIS_TIME_MS, None);
    let h = issue_draft(&mut c, d);
    assert_eq!((added, h), (2, 4));
    let anchor = c.trust_anchor();
    let policy = fresh(&c);
    let p = c.presentation(ID);
    assert_eq!(p.certified.set_changes.len(), 1);
    assert_eq!(p.certified.set_changes[0].header.height, added);
    assert_eq!(p.certified.set_changes[0].next_validators.len(), 5);
    // A presentation carries exactly a quorum of the 5: 4 signatures.
    assert_eq!(p.certified.certificate.signatures.len(), 4);
    let r = verify(&anchor, &p, Some(Document::Bytes(DOC)), &policy);
    assert_eq!(r.verdict, Verdict::Valid, "{r:#?}");
    assert!(r.checks.iter().all(|c| c.outcome == Pass));
    // Without its set change, the genesis anchor does not know the set that signed it.
    let mut q = p.clone();
    q.certified.set_changes.clear();
    let r = verify(&anchor, &q, None, &policy);
    assert_eq!(r.verdict, Verdict::UnknownIssuer);
    assert_stops_at(&r, CheckId::ValidatorSet, Fail);
    assert_eq!(
        q.certified.signing_set(&anchor),
        Err(ProofError::ValidatorSetMismatch {
            expected: anchor.validators.hash(suite),
            found: q.certified.header.validator_set_hash,
        })
    );
    // A set change at the anchor's own height is skipped (the anchor knows its set), so the
    // header's set is then unknown.
    let mut q = p.clone();
    q.certified.set_changes[0].header.height = 0;
    assert!(matches!(
        q.certified.signing_set(&anchor),
        Err(ProofError::ValidatorSetMismatch { .. })
    ));
    assert_eq!(
        verify(&anchor, &q, None, &policy).verdict,
        Verdict::UnknownIssuer
    );
    // One at or after the header's height is out of order.
    for height in [h, h + 1] {
        let mut q = p.clone();
        q.certified.set_changes[0].header.height = height;
        let r = verify(&anchor, &q, None, &policy);
        assert_eq!(r.verdict, Verdict::UnknownIssuer);
        assert!(matches!(
            q.certified.signing_set(&anchor),
            Err(ProofError::SetChangeOutOfOrder { .. })
        ));
    }
    // The genesis set alone (4 of 5 signatures, a quorum of the old set) cannot sign for the
    // new set: re-certifying the header with the old set's keys fails the set check.
    let mut q = p.clone();
    q.certified.set_changes.clear();
    q.certified.certificate = c.certify(&q.certified.header, &anchor.validators, 4);
    assert_eq!(
        verify(&anchor, &q, None, &policy).verdict,
        Verdict::UnknownIssuer
    );
}

fn licence_in_the_set_change_block(suite: Suite) {
    // A licence issued in the very block that adds a validator is signed by the old set: the
    // presentation needs no set change; one block later it needs one.
    let mut c = TestChain::new(suite, 4);
    let key = test_key(suite, "validator-4");
    let v = Validator {
        name: "validator-4".into(),
        key: key.public_key(),
        peer_id: b"peer-4".to_vec(),
    };
    c.add_validator_key("validator-4", key);
    let add = c.council_signed(Payload::AddValidator(v));
    let d = draft(&c, ID, GENESIS_TIME_MS, None);
    let issue = c.signed(Payload::IssueLicence(d), "agency-a");
    let h = commit(&mut c, vec![add, issue]);
    let anchor = c.trust_anchor();
    let p = c.presentation(ID);
    assert!(p.certified.header.changes_validator_set());
    assert!(p.certified.set_changes.is_empty());
    assert_eq!(
        verify(&anchor, &p, None, &fresh(&c)).verdict,
        Verdict::Valid
    );
    commit(&mut c, vec![]);
    let p = c.presentation(ID);
    assert_eq!(p.certified.set_changes.len(), 1);
    assert_eq!(p.certified.set_changes[0].header.height, h);
    // A presentation carries exactly a quorum of the 5: 4 signatures.
    assert_eq!(p.certified.certificate.signatures.len(), 4);
    assert_eq!(
        verify(&anchor, &p, None, &fresh(&c)).verdict,
        Verdict::Valid
    );
}

// --- evidence receipts ---

fn evidence_receipts(suite: Suite) {
    let mut c = TestChain::new(suite, 4);
    commit(&mut c, vec![]);
    let file = b"judgment (2026) Yue 0305 Min Chu 17.pdf";
    let hash = suite.digest(file);
    let tx = c.signed(
        Payload::AnchorEvidence {
            hash,
            submitter: "court-1".into(),
            label: "case 17".into(),
        },
        "court-1",
    );
    let h = commit(&mut c, vec![tx]);
    commit(&mut c, vec![]);
    let anchor = c.trust_anchor();
    let receipt = c.receipt(&hash);
    assert_eq!(receipt.evidence.height, h);
    let check = |r: &EvidenceReceipt, doc: Option<Document<'_>>| {
        let report = verify_receipt(&anchor, r, doc);
        assert_eq!(report, verify_receipt_bytes(&anchor, &r.to_bytes(), doc));
        let ids: Vec<CheckId> = report.checks.iter().map(|c| c.id).collect();
        assert_eq!(ids, EVIDENCE_CHECKS);
        report
    };
    let r = check(&receipt, None);
    assert_eq!(r.verdict, Verdict::Anchored);
    assert_eq!(r.status_as_of_ms, Some(c.blocks[h as usize].header.time_ms));
    assert_eq!(r.height, Some(c.height()));
    assert_eq!(outcome(&r, CheckId::DocumentHash), Skipped);
    let r = check(&receipt, Some(Document::Bytes(file)));
    assert_eq!(r.verdict, Verdict::Anchored);
    assert!(r.checks.iter().all(|c| c.outcome == Pass));
    // Another file.
    let r = check(&receipt, Some(Document::Bytes(b"judgment, edited.pdf")));
    assert_eq!(r.verdict, Verdict::Tampered);
    assert_eq!(outcome(&r, CheckId::DocumentHash), Fail);
    // An earlier evidence time (backdating), another height, submitter or label.
    let mut q = receipt.clone();
    q.evidence.time_ms -= DAY_MS;
    let r = check(&q, Some(Document::Bytes(file)));
    assert_eq!(r.verdict, Verdict::Tampered);
    assert_eq!(outcome(&r, CheckId::StateProof), Fail);
    assert_eq!(outcome(&r, CheckId::DocumentHash), Skipped);
    let mut q = receipt.clone();
    q.evidence.height -= 1;
    assert_eq!(check(&q, None).verdict, Verdict::Tampered);
    let mut q = receipt.clone();
    q.evidence.submitter = "court-2".into();
    assert_eq!(check(&q, None).verdict, Verdict::Tampered);
    let mut q = receipt.clone();
    q.evidence.label = "case 18".into();
    assert_eq!(check(&q, None).verdict, Verdict::Tampered);
    // A receipt for a hash that was never anchored, built from the real one.
    let mut q = receipt.clone();
    q.evidence.hash = suite.digest(b"never anchored");
    assert_eq!(
        check(&q, Some(Document::Bytes(b"never anchored"))).verdict,
        Verdict::Tampered
    );
    // Certificate problems are the same as for presentations.
    let mut q = receipt.clone();
    q.certified.certificate.signatures.truncate(2);
    assert_eq!(check(&q, None).verdict, Verdict::UnknownIssuer);
    let mut q = receipt.clone();
    q.certified.header.state_root.0[3] ^= 1;
    assert_eq!(check(&q, None).verdict, Verdict::Tampered);
    // Bytes that are not a receipt (a presentation, garbage, a truncation).
    let d = draft(&c, ID, GENESIS_TIME_MS, None);
    issue_draft(&mut c, d);
    let presentation = c.presentation(ID).to_bytes();
    let bytes = receipt.to_bytes();
    for b in [&presentation[..], &bytes[..bytes.len() - 1], b"garbage"] {
        let r = verify_receipt_bytes(&anchor, b, None);
        assert_eq!(r.verdict, Verdict::Tampered);
        assert_eq!(outcome(&r, CheckId::Encoding), Fail);
        assert_eq!(r.checks.len(), EVIDENCE_CHECKS.len());
    }
    // A receipt's bytes are not a presentation.
    let r = verify_presentation_bytes(&anchor, &bytes, None, &fresh(&c));
    assert_eq!(r.verdict, Verdict::Tampered);
    assert_eq!(outcome(&r, CheckId::Encoding), Fail);
}

// --- sizes ---

#[test]
fn presentation_sizes() {
    for suite in [Suite::Sm, Suite::Intl] {
        let c = chain_with_licence(suite);
        let p = c.presentation(ID);
        let size = TestChain::size_of(&p);
        let parts = (
            TestChain::size_of(&p.licence),
            TestChain::size_of(&p.proof),
            TestChain::size_of(&p.certified.header),
            TestChain::size_of(&p.certified.certificate),
        );
        eprintln!(
            "{} suite, 4 validators: presentation {size} bytes (licence {}, proof {} with {} siblings, header {}, certificate {})",
            suite.name(),
            parts.0,
            parts.1,
            p.proof.siblings.len(),
            parts.2,
            parts.3,
        );
        assert!(size <= 1536, "{size} bytes is over the 1.5 KB budget");
        let (c, _, _) = chain_with_set_changes(suite);
        let p = c.presentation(ID);
        eprintln!(
            "{} suite: with {} validator-set changes the presentation is {} bytes",
            suite.name(),
            p.certified.set_changes.len(),
            TestChain::size_of(&p)
        );
    }
}

/// The state proof grows with the number of records (about log2(n) siblings of 32 bytes): a
/// chain holding a few thousand licences shows the trend towards 10^8.
#[test]
fn presentation_size_with_many_records() {
    let suite = Suite::Intl;
    let mut c = TestChain::new(suite, 4);
    let per_block = 1_024;
    let mut sizes = Vec::new();
    for round in 0..4 {
        let txs: Vec<SignedTransaction> = (0..per_block)
            .map(|i| {
                let d = draft(&c, &format!("BULK-{round}-{i:05}"), GENESIS_TIME_MS, None);
                c.signed(Payload::IssueLicence(d), "agency-a")
            })
            .collect();
        commit(&mut c, txs);
        let records = (round + 1) * per_block;
        let depths: Vec<usize> = (0..32)
            .map(|i| {
                c.presentation(&format!("BULK-0-{i:05}"))
                    .proof
                    .siblings
                    .len()
            })
            .collect();
        let mean_depth = depths.iter().sum::<usize>() as f64 / depths.len() as f64;
        let p = c.presentation("BULK-0-00000");
        assert_eq!(
            verify(&c.trust_anchor(), &p, None, &fresh(&c)).verdict,
            Verdict::Valid
        );
        sizes.push((records, mean_depth, TestChain::size_of(&p)));
    }
    for (records, depth, size) in &sizes {
        eprintln!(
            "intl suite, 4 validators, ~{records} licences: mean proof depth {depth:.1}, presentation {size} bytes"
        );
    }
}

// --- bit flips ---

struct Fixture {
    anchor: TrustAnchor,
    policy: Policy,
    bytes: Vec<u8>,
}

fn fixture(suite: Suite, with_set_changes: bool) -> Fixture {
    let c = if with_set_changes {
        chain_with_set_changes(suite).0
    } else {
        chain_with_licence(suite)
    };
    let bytes = c.presentation(ID).to_bytes();
    let anchor = c.trust_anchor();
    let policy = fresh(&c);
    assert_eq!(
        verify_presentation_bytes(&anchor, &bytes, Some(Document::Bytes(DOC)), &policy).verdict,
        Verdict::Valid
    );
    Fixture {
        anchor,
        policy,
        bytes,
    }
}

static FIXTURES: LazyLock<[Fixture; 4]> = LazyLock::new(|| {
    [
        fixture(Suite::Sm, false),
        fixture(Suite::Intl, false),
        fixture(Suite::Sm, true),
        fixture(Suite::Intl, true),
    ]
});

fn flipped_is_never_valid(f: &Fixture, bit: usize) -> Result<(), String> {
    let mut b = f.bytes.clone();
    b[bit / 8] ^= 0x80 >> (bit % 8);
    for doc in [None, Some(Document::Bytes(DOC))] {
        let r = verify_presentation_bytes(&f.anchor, &b, doc, &f.policy);
        if r.verdict == Verdict::Valid {
            return Err(format!(
                "flipping bit {bit} of {} bytes still verifies: {r:#?}",
                f.bytes.len()
            ));
        }
        if r.checks.len() != ALL_CHECKS.len() {
            return Err(format!("bit {bit}: {} checks reported", r.checks.len()));
        }
    }
    Ok(())
}

fn config(cases: u32) -> ProptestConfig {
    ProptestConfig {
        cases,
        failure_persistence: Some(Box::new(FileFailurePersistence::Direct(
            "tests/verify_presentation.proptest-regressions",
        ))),
        ..ProptestConfig::default()
    }
}

proptest! {
    #![proptest_config(config(256))]

    /// Flipping any one bit of a valid presentation (either suite, with or without set
    /// changes) never leaves it valid.
    #[test]
    fn a_flipped_bit_is_never_valid(which in 0..4usize, position in any::<prop::sample::Index>()) {
        let f = &FIXTURES[which];
        let bit = position.index(f.bytes.len() * 8);
        prop_assert!(flipped_is_never_valid(f, bit).is_ok(), "{}", flipped_is_never_valid(f, bit).unwrap_err());
    }
}

/// Every byte of a presentation with two set changes matters (intl suite, the faster one in
/// debug builds; the random bit flips above cover both suites): inverting any one of them
/// never leaves the presentation valid.
#[test]
fn every_byte_is_authenticated() {
    let f = &FIXTURES[3];
    for at in 0..f.bytes.len() {
        let mut b = f.bytes.clone();
        b[at] ^= 0xff;
        let r = verify_presentation_bytes(&f.anchor, &b, None, &f.policy);
        assert_ne!(
            r.verdict,
            Verdict::Valid,
            "inverting byte {at} of {}",
            f.bytes.len()
        );
    }
}

macro_rules! suite_tests {
    ($($name:ident),* $(,)?) => {
        mod sm {
            use lichen_contracts::crypto::Suite;
            $( #[test] fn $name() { super::$name(Suite::Sm); } )*
        }
        mod intl {
            use lichen_contracts::crypto::Suite;
            $( #[test] fn $name() { super::$name(Suite::Intl); } )*
        }
    };
}

suite_tests! {
    valid_presentation_reports_every_check,
    revoked,
    suspended,
    superseded,
    expired,
    not_yet_valid,
    stale_proof,
    verdict_precedence,
    tampered_record,
    tampered_header,
    tampered_certificate,
    other_chain_is_unknown_issuer,
    other_validators_are_unknown_issuer,
    undecodable_bytes,
    set_change_carried_and_checked,
    one_set_change,
    licence_in_the_set_change_block,
    evidence_receipts,
}
