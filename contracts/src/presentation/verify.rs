//! The offline verifier: the checks of a presentation or receipt against a trust anchor, a policy
//! and optionally the document, each reported on its own line.

use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;

use super::{
    Certified, Check, CheckId, EvidenceReceipt, Outcome, PRESENTATION_BYTES_MAX, Presentation,
    RECEIPT_TAG, Report, TrustAnchor, Verdict,
};
use crate::codec::{Decode, Encode};
use crate::crypto::{Hash32, Suite};
use crate::error::{CodecError, ProofError};
use crate::model::LicenceStatus;
use crate::smt::StateProof;
use crate::state::StateKey;

/// The document a presentation is checked against: its bytes (hashed here) or its hash.
#[derive(Clone, Copy, Debug)]
pub enum Document<'a> {
    Bytes(&'a [u8]),
    Hash(Hash32),
}

impl Document<'_> {
    fn hash(&self, suite: Suite) -> Hash32 {
        match self {
            Document::Bytes(bytes) => suite.digest(bytes),
            Document::Hash(h) => *h,
        }
    }
}

/// The verifier's policy; "now" is an input, so verification is pure.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Policy {
    /// The verifier's current time, milliseconds since the Unix epoch (UTC).
    pub now_ms: u64,
    /// How old the certified header may be before the proof is stale, in milliseconds.
    pub proof_age_max_ms: u64,
}

struct Checks(Vec<Check>);

impl Checks {
    fn pass(&mut self, id: CheckId, detail: impl Into<String>) {
        self.0.push(Check {
            id,
            outcome: Outcome::Pass,
            detail: detail.into(),
        });
    }

    fn fail(&mut self, id: CheckId, detail: impl Into<String>) {
        self.0.push(Check {
            id,
            outcome: Outcome::Fail,
            detail: detail.into(),
        });
    }

    fn skip_rest(&mut self, ids: &[CheckId], why: &str) {
        for id in ids {
            if !self.0.iter().any(|c| c.id == *id) {
                self.0.push(Check {
                    id: *id,
                    outcome: Outcome::Skipped,
                    detail: why.to_string(),
                });
            }
        }
    }
}

const LICENCE_CHECKS: [CheckId; 10] = [
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

/// Runs the chain, set-change, quorum and state-proof checks shared by presentations and
/// receipts. Returns the verdict to stop with, if one of them failed.
fn check_certified_entry(
    anchor: &TrustAnchor,
    certified: &Certified,
    key: &StateKey,
    value: &[u8],
    proof: &StateProof,
    checks: &mut Checks,
) -> Option<Verdict> {
    let suite = anchor.suite;
    let header = &certified.header;
    if header.chain_id != anchor.chain_id {
        checks.fail(
            CheckId::Chain,
            format!(
                "presentation is for chain '{}', the trust anchor is chain '{}'",
                header.chain_id, anchor.chain_id
            ),
        );
        return Some(Verdict::UnknownIssuer);
    }
    checks.pass(
        CheckId::Chain,
        format!("chain '{}' ({} suite)", anchor.chain_id, suite.name()),
    );
    let set = match certified.signing_set(anchor) {
        Ok(set) => set,
        Err(e) => {
            checks.fail(CheckId::ValidatorSet, e.to_string());
            return Some(Verdict::UnknownIssuer);
        }
    };
    checks.pass(
        CheckId::ValidatorSet,
        format!(
            "{} validator-set change(s) since the trust anchor at height {}; {} validators sign height {}",
            certified.set_changes.len(),
            anchor.height,
            set.len(),
            header.height
        ),
    );
    match certified
        .certificate
        .verify(suite, &anchor.chain_id, header, &set)
    {
        Ok(()) => checks.pass(
            CheckId::Quorum,
            format!(
                "{} of {} validators signed block {} (quorum {})",
                certified.certificate.signatures.len(),
                set.len(),
                header.height,
                set.quorum()
            ),
        ),
        Err(e) => {
            let verdict = match e {
                // The header was altered after it was signed.
                ProofError::CertificateMismatch { .. } => Verdict::Tampered,
                _ => Verdict::UnknownIssuer,
            };
            checks.fail(CheckId::Quorum, e.to_string());
            return Some(verdict);
        }
    }
    match proof.verify(suite, &header.state_root, &key.hash(suite), Some(value)) {
        Ok(()) => checks.pass(
            CheckId::StateProof,
            format!(
                "record is in the state certified at height {} (root {})",
                header.height, header.state_root
            ),
        ),
        Err(e) => {
            checks.fail(CheckId::StateProof, e.to_string());
            return Some(Verdict::Tampered);
        }
    }
    None
}

fn check_document(
    suite: Suite,
    recorded: &Hash32,
    document: Option<Document<'_>>,
    checks: &mut Checks,
) -> Option<Verdict> {
    match document {
        None => {
            checks.0.push(Check {
                id: CheckId::DocumentHash,
                outcome: Outcome::Skipped,
                detail: "no document given; only the record was checked".to_string(),
            });
            None
        }
        Some(doc) => {
            let found = doc.hash(suite);
            if &found == recorded {
                checks.pass(
                    CheckId::DocumentHash,
                    format!("document hash {found} matches"),
                );
                None
            } else {
                checks.fail(
                    CheckId::DocumentHash,
                    format!("document hash {found} differs from the recorded {recorded}"),
                );
                Some(Verdict::Tampered)
            }
        }
    }
}

/// Decodes and verifies a presentation. Never fails: every problem is a check in the report.
pub fn verify_presentation_bytes(
    anchor: &TrustAnchor,
    bytes: &[u8],
    document: Option<Document<'_>>,
    policy: &Policy,
) -> Report {
    match decode_bounded::<Presentation>("presentation", bytes) {
        Ok(p) => verify_presentation(anchor, &p, document, policy),
        Err(e) => undecodable("presentation", e, &LICENCE_CHECKS),
    }
}

/// Verifies a presentation or an evidence receipt, told apart by the leading tag byte
/// ([`RECEIPT_TAG`] for a receipt; anything else is read as a presentation). The policy applies
/// to presentations only: a receipt proves a past anchoring, which does not go stale.
pub fn verify_bytes(
    anchor: &TrustAnchor,
    bytes: &[u8],
    document: Option<Document<'_>>,
    policy: &Policy,
) -> Report {
    if bytes.first() == Some(&RECEIPT_TAG) {
        verify_receipt_bytes(anchor, bytes, document)
    } else {
        verify_presentation_bytes(anchor, bytes, document, policy)
    }
}

/// Decodes a presentation or receipt, refusing oversized input before parsing it.
fn decode_bounded<T: Decode>(what: &'static str, bytes: &[u8]) -> Result<T, CodecError> {
    if bytes.len() > PRESENTATION_BYTES_MAX {
        return Err(CodecError::TooLong {
            field: what,
            len: bytes.len(),
            max: PRESENTATION_BYTES_MAX,
        });
    }
    T::from_bytes(bytes)
}

/// The report for bytes that do not decode: TAMPERED, the encoding check failed, the rest skipped.
fn undecodable(what: &str, error: CodecError, all: &[CheckId]) -> Report {
    let mut checks = Checks(Vec::new());
    checks.fail(CheckId::Encoding, format!("not a valid {what}: {error}"));
    checks.skip_rest(all, &format!("the {what} could not be decoded"));
    Report {
        verdict: Verdict::Tampered,
        checks: checks.0,
        status_as_of_ms: None,
        height: None,
    }
}

/// Verifies a decoded presentation against the trust anchor, the policy and optionally the
/// document.
pub fn verify_presentation(
    anchor: &TrustAnchor,
    p: &Presentation,
    document: Option<Document<'_>>,
    policy: &Policy,
) -> Report {
    let suite = anchor.suite;
    let header = &p.certified.header;
    let mut checks = Checks(Vec::new());
    checks.pass(CheckId::Encoding, "well-formed presentation");
    let finish = |verdict, mut checks: Checks, why: &str| {
        checks.skip_rest(&LICENCE_CHECKS, why);
        Report {
            verdict,
            checks: checks.0,
            status_as_of_ms: Some(header.time_ms),
            height: Some(header.height),
        }
    };
    let d = &p.licence.draft;
    let key = StateKey::Licence(d.id.clone());
    if let Some(verdict) = check_certified_entry(
        anchor,
        &p.certified,
        &key,
        &p.licence.to_bytes(),
        &p.proof,
        &mut checks,
    ) {
        return finish(
            verdict,
            checks,
            "an earlier check failed: nothing else can be trusted",
        );
    }
    if let Some(verdict) = check_document(suite, &d.document_hash, document, &mut checks) {
        return finish(verdict, checks, "the document does not match the record");
    }
    checks.pass(
        CheckId::IssuerAuthorised,
        format!(
            "agency '{}' issued type '{}' at height {}; the ledger admits an issue only from an active agency authorised for the type",
            d.issuer, d.licence_type, p.licence.issued_height
        ),
    );
    let mut verdict = Verdict::Valid;
    let status = p.licence.status;
    let reason = if p.licence.status_reason.is_empty() {
        String::new()
    } else {
        format!(" ({})", p.licence.status_reason)
    };
    match status {
        LicenceStatus::Active => checks.pass(CheckId::Status, "active"),
        LicenceStatus::Suspended => {
            checks.fail(CheckId::Status, format!("suspended{reason}"));
            verdict = Verdict::Suspended;
        }
        LicenceStatus::Revoked => {
            checks.fail(CheckId::Status, format!("revoked{reason}"));
            verdict = Verdict::Revoked;
        }
        LicenceStatus::Superseded => {
            let by = p.licence.superseded_by.as_deref().unwrap_or("?");
            checks.fail(CheckId::Status, format!("superseded by '{by}'{reason}"));
            verdict = Verdict::Superseded;
        }
    }
    let now = policy.now_ms;
    if now < d.valid_from_ms {
        checks.fail(
            CheckId::ValidityWindow,
            format!("valid from {} ms, now is {now} ms", d.valid_from_ms),
        );
        verdict = verdict.min(Verdict::NotYetValid);
    } else if let Some(until) = d.valid_until_ms.filter(|until| now >= *until) {
        checks.fail(
            CheckId::ValidityWindow,
            format!("expired at {until} ms, now is {now} ms"),
        );
        verdict = verdict.min(Verdict::Expired);
    } else {
        checks.pass(
            CheckId::ValidityWindow,
            match d.valid_until_ms {
                Some(until) => format!("valid from {} ms until {until} ms", d.valid_from_ms),
                None => format!("valid from {} ms, no expiry", d.valid_from_ms),
            },
        );
    }
    let age = now.saturating_sub(header.time_ms);
    if age > policy.proof_age_max_ms {
        checks.fail(
            CheckId::Freshness,
            format!(
                "status is as of {} ms, {age} ms ago; the policy allows {} ms",
                header.time_ms, policy.proof_age_max_ms
            ),
        );
        verdict = verdict.min(Verdict::StaleProof);
    } else {
        checks.pass(
            CheckId::Freshness,
            format!("status is as of {} ms, {age} ms ago", header.time_ms),
        );
    }
    Report {
        verdict,
        checks: checks.0,
        status_as_of_ms: Some(header.time_ms),
        height: Some(header.height),
    }
}

/// Decodes and verifies an evidence receipt: the verdict is `Anchored` when the evidence entry is
/// in a state certified by the trusted validators (and matches the document, if given).
pub fn verify_receipt_bytes(
    anchor: &TrustAnchor,
    bytes: &[u8],
    document: Option<Document<'_>>,
) -> Report {
    match decode_bounded::<EvidenceReceipt>("evidence receipt", bytes) {
        Ok(r) => verify_receipt(anchor, &r, document),
        Err(e) => undecodable("evidence receipt", e, &EVIDENCE_CHECKS),
    }
}

/// Verifies a decoded evidence receipt.
pub fn verify_receipt(
    anchor: &TrustAnchor,
    r: &EvidenceReceipt,
    document: Option<Document<'_>>,
) -> Report {
    let header = &r.certified.header;
    let mut checks = Checks(Vec::new());
    checks.pass(CheckId::Encoding, "well-formed evidence receipt");
    let key = StateKey::Evidence(r.evidence.hash);
    let verdict = check_certified_entry(
        anchor,
        &r.certified,
        &key,
        &r.evidence.to_bytes(),
        &r.proof,
        &mut checks,
    )
    .or_else(|| check_document(anchor.suite, &r.evidence.hash, document, &mut checks))
    .unwrap_or(Verdict::Anchored);
    checks.skip_rest(&EVIDENCE_CHECKS, "an earlier check failed");
    Report {
        verdict,
        checks: checks.0,
        status_as_of_ms: Some(r.evidence.time_ms),
        height: Some(header.height),
    }
}
