//! The offline verifier: the checks of a presentation or receipt against a trust anchor, a policy
//! and optionally the document, each reported on its own line.

use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;

use super::desk::{Desk, Holder};
use super::{
    COMPACT_TAG, Certified, Check, CheckId, CompactPresentation, EvidenceReceipt, Outcome,
    PRESENTATION_BYTES_MAX, PackageUsed, Presentation, RECEIPT_TAG, Report, TrustAnchor,
    TrustState, Verdict,
};
use crate::codec::{Decode, Encode};
use crate::crypto::{Hash32, Suite};
use crate::error::{CodecError, ProofError};
use crate::model::{Licence, LicenceStatus, holder_commitment};
use crate::smt::StateProof;
use crate::state::StateKey;

/// What a verifier trusts: the genesis anchor it pinned, and optionally a trust package verified
/// against it ([`super::TrustPackage::verify`]), which moves the trusted validator set forward
/// to its checkpoint and says which licences were not active there.
#[derive(Clone, Copy, Debug)]
pub struct Trust<'a> {
    pub anchor: &'a TrustAnchor,
    pub package: Option<&'a TrustState>,
}

impl<'a> Trust<'a> {
    /// Trust in the genesis anchor alone.
    pub fn anchor(anchor: &'a TrustAnchor) -> Self {
        Trust {
            anchor,
            package: None,
        }
    }

    /// The anchor whose set signs what is verified: the package's, when there is one.
    pub(super) fn signing_anchor(&self) -> &'a TrustAnchor {
        self.package.map_or(self.anchor, |p| &p.anchor)
    }

    fn used(&self) -> Option<PackageUsed> {
        self.package.map(|p| PackageUsed {
            checkpoint_height: p.checkpoint_height,
            checkpoint_time_ms: p.checkpoint_time_ms,
            package_hash: p.package_hash,
        })
    }
}

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

    /// Ends the report early with `verdict`: every check of `all` not yet run is skipped.
    fn stop(
        mut self,
        verdict: Verdict,
        all: &[CheckId],
        why: &str,
        status_as_of_ms: Option<u64>,
        height: Option<u64>,
    ) -> Report {
        self.skip_rest(all, why);
        Report {
            verdict,
            checks: self.0,
            status_as_of_ms,
            height,
            trust_package: None,
        }
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

/// Why the rest is skipped when a check of the certified record fails.
const NOTHING_ELSE: &str = "an earlier check failed: nothing else can be trusted";

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
    trust: Trust<'_>,
    certified: &Certified,
    key: &StateKey,
    value: &[u8],
    proof: &StateProof,
    checks: &mut Checks,
) -> Option<Verdict> {
    let anchor = trust.signing_anchor();
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
        Err(ProofError::HeaderBeforeAnchor { height, .. }) if trust.package.is_some() => {
            checks.fail(
                CheckId::ValidatorSet,
                format!(
                    "certified at height {height} by a validator set the trust package shows replaced at height {}: validators retired since could have signed it; ask for a fresh presentation",
                    anchor.height
                ),
            );
            return Some(Verdict::UnknownIssuer);
        }
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
        .verify(suite, &anchor.chain_id, &anchor.genesis_hash, header, &set)
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
    check_state_proof(
        suite,
        header.height,
        &header.state_root,
        key,
        value,
        proof,
        checks,
    )
}

fn check_state_proof(
    suite: Suite,
    height: u64,
    state_root: &Hash32,
    key: &StateKey,
    value: &[u8],
    proof: &StateProof,
    checks: &mut Checks,
) -> Option<Verdict> {
    match proof.verify(suite, state_root, &key.hash(suite), Some(value)) {
        Ok(()) => {
            checks.pass(
                CheckId::StateProof,
                format!("record is in the state certified at height {height} (root {state_root})"),
            );
            None
        }
        Err(e) => {
            checks.fail(CheckId::StateProof, e.to_string());
            Some(Verdict::Tampered)
        }
    }
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

/// Verifies a presentation or an evidence receipt against the genesis anchor alone (see
/// [`verify_bytes_with`]).
pub fn verify_bytes(
    anchor: &TrustAnchor,
    bytes: &[u8],
    document: Option<Document<'_>>,
    policy: &Policy,
) -> Report {
    verify_bytes_with(Trust::anchor(anchor), bytes, document, policy)
}

/// Verifies a presentation, a compact presentation or an evidence receipt, told apart by the
/// leading tag byte ([`RECEIPT_TAG`] for a receipt, [`COMPACT_TAG`] for a compact presentation;
/// anything else is read as a presentation). The policy applies to licences only: a receipt
/// proves a past anchoring, which does not go stale.
pub fn verify_bytes_with(
    trust: Trust<'_>,
    bytes: &[u8],
    document: Option<Document<'_>>,
    policy: &Policy,
) -> Report {
    verify_at_desk(trust, bytes, document, policy, Desk::default())
}

/// [`verify_bytes_with`] at a desk that expects a kind of proof and/or checks the holder:
/// a proof of the other kind is WRONG KIND whatever it proves (an evidence receipt for a forged
/// licence file is genuine, and proves nothing about a licence); a licence whose holder
/// commitment the person does not open is HOLDER MISMATCH.
pub fn verify_at_desk(
    trust: Trust<'_>,
    bytes: &[u8],
    document: Option<Document<'_>>,
    policy: &Policy,
    desk: Desk<'_>,
) -> Report {
    verify_decoded(trust, decode_proof(bytes), bytes, document, policy, desk)
}

/// The bytes decoded as what their leading tag says they are.
pub(super) enum Proof {
    Receipt(EvidenceReceipt),
    Compact(CompactPresentation),
    Presentation(Presentation),
}

/// The decoded proof, or the report for bytes that do not decode.
pub(super) fn decode_proof(bytes: &[u8]) -> Result<Proof, Report> {
    match bytes.first() {
        Some(&RECEIPT_TAG) => decode_bounded("evidence receipt", bytes)
            .map(Proof::Receipt)
            .map_err(|e| undecodable("evidence receipt", e, &EVIDENCE_CHECKS)),
        Some(&COMPACT_TAG) => decode_bounded("compact presentation", bytes)
            .map(Proof::Compact)
            .map_err(|e| undecodable("compact presentation", e, &LICENCE_CHECKS)),
        _ => decode_bounded("presentation", bytes)
            .map(Proof::Presentation)
            .map_err(|e| undecodable("presentation", e, &LICENCE_CHECKS)),
    }
}

pub(super) fn verify_decoded(
    trust: Trust<'_>,
    proof: Result<Proof, Report>,
    bytes: &[u8],
    document: Option<Document<'_>>,
    policy: &Policy,
    desk: Desk<'_>,
) -> Report {
    let holder = desk.holder;
    let mut report = match proof {
        Ok(Proof::Receipt(r)) => verify_receipt_with(trust, &r, document),
        Ok(Proof::Compact(c)) => verify_compact(trust, &c, document, policy, holder),
        Ok(Proof::Presentation(p)) => verify_presentation_with(trust, &p, document, policy, holder),
        Err(report) => report,
    };
    report.trust_package = trust.used();
    super::desk::apply(&mut report, bytes, desk);
    report
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
    checks.stop(
        Verdict::Tampered,
        all,
        &format!("the {what} could not be decoded"),
        None,
        None,
    )
}

/// Verifies a decoded presentation against the genesis anchor, the policy and optionally the
/// document.
pub fn verify_presentation(
    anchor: &TrustAnchor,
    p: &Presentation,
    document: Option<Document<'_>>,
    policy: &Policy,
) -> Report {
    verify_presentation_with(Trust::anchor(anchor), p, document, policy, None)
}

fn verify_presentation_with(
    trust: Trust<'_>,
    p: &Presentation,
    document: Option<Document<'_>>,
    policy: &Policy,
    holder: Option<Holder<'_>>,
) -> Report {
    let header = &p.certified.header;
    let mut checks = Checks(Vec::new());
    checks.pass(CheckId::Encoding, "well-formed presentation");
    let key = StateKey::Licence(p.licence.draft.id.clone());
    if let Some(verdict) = check_certified_entry(
        trust,
        &p.certified,
        &key,
        &p.licence.to_bytes(),
        &p.proof,
        &mut checks,
    ) {
        return checks.stop(
            verdict,
            &LICENCE_CHECKS,
            NOTHING_ELSE,
            Some(header.time_ms),
            Some(header.height),
        );
    }
    check_licence(
        trust,
        &p.licence,
        header.height,
        header.time_ms,
        document,
        policy,
        holder,
        checks,
    )
}

/// Verifies a compact presentation: only against the trust package of its checkpoint.
fn verify_compact(
    trust: Trust<'_>,
    c: &CompactPresentation,
    document: Option<Document<'_>>,
    policy: &Policy,
    holder: Option<Holder<'_>>,
) -> Report {
    let mut checks = Checks(Vec::new());
    checks.pass(CheckId::Encoding, "well-formed compact presentation");
    let stop = |verdict, checks: Checks, height| {
        checks.stop(verdict, &LICENCE_CHECKS, NOTHING_ELSE, None, height)
    };
    let Some(package) = trust.package else {
        checks.fail(
            CheckId::Chain,
            "a compact presentation is checked against a trust package, and none is loaded: load one, or ask for the full presentation",
        );
        return stop(Verdict::UnknownIssuer, checks, None);
    };
    let anchor = &package.anchor;
    checks.pass(
        CheckId::Chain,
        format!(
            "chain '{}' ({} suite)",
            anchor.chain_id,
            anchor.suite.name()
        ),
    );
    if c.checkpoint_height == package.checkpoint_height && c.proof.top != package.levels_depth {
        checks.fail(
            CheckId::ValidatorSet,
            format!(
                "compact presentation leaves out {} tree levels, the trust package holds {}: ask for a fresh compact presentation or the full one",
                c.proof.top, package.levels_depth
            ),
        );
        return stop(Verdict::UnknownIssuer, checks, Some(c.checkpoint_height));
    }
    if c.checkpoint_height != package.checkpoint_height {
        let which = if c.checkpoint_height > package.checkpoint_height {
            "newer than this verifier's trust package: load a newer package, or ask for the full presentation"
        } else {
            "older than this verifier's trust package: ask for a fresh compact presentation or the full one"
        };
        checks.fail(
            CheckId::ValidatorSet,
            format!(
                "compact presentation is bound to the checkpoint at height {}, {which} (package checkpoint: height {})",
                c.checkpoint_height, package.checkpoint_height
            ),
        );
        return stop(Verdict::UnknownIssuer, checks, Some(c.checkpoint_height));
    }
    checks.pass(
        CheckId::ValidatorSet,
        format!(
            "the trust package's checkpoint at height {} ({} validator-set change(s) since genesis)",
            package.checkpoint_height, package.set_changes
        ),
    );
    checks.pass(
        CheckId::Quorum,
        format!(
            "the checkpoint's certificate was verified with the trust package ({} validators, quorum {})",
            anchor.validators.len(),
            anchor.validators.quorum()
        ),
    );
    let key = StateKey::Licence(c.licence.draft.id.clone()).hash(anchor.suite);
    if c.proof.leads_to(
        anchor.suite,
        &key,
        &c.licence.to_bytes(),
        &package.levels,
        &package.checkpoint_state_root,
    ) {
        checks.pass(
            CheckId::StateProof,
            format!(
                "record is in the state of the checkpoint at height {} (root {})",
                package.checkpoint_height, package.checkpoint_state_root
            ),
        );
    } else {
        checks.fail(
            CheckId::StateProof,
            format!(
                "the record and its proof do not lead to the checkpoint's state (root {})",
                package.checkpoint_state_root
            ),
        );
        return stop(Verdict::Tampered, checks, Some(c.checkpoint_height));
    }
    check_licence(
        trust,
        &c.licence,
        package.checkpoint_height,
        package.checkpoint_time_ms,
        document,
        policy,
        holder,
        checks,
    )
}

/// Checks 6-10 of a licence whose record is proved in the state certified at `height` (time
/// `time_ms`): the document, the holder (when given), the issuer, the status (as of the trust
/// package's checkpoint when that is later), the validity window and freshness.
#[allow(clippy::too_many_arguments)]
fn check_licence(
    trust: Trust<'_>,
    licence: &Licence,
    height: u64,
    time_ms: u64,
    document: Option<Document<'_>>,
    policy: &Policy,
    holder: Option<Holder<'_>>,
    mut checks: Checks,
) -> Report {
    let suite = trust.anchor.suite;
    let d = &licence.draft;
    // A package whose checkpoint is at or after the record's height knows the later status.
    let later = trust.package.filter(|p| p.checkpoint_height >= height);
    let status_as_of_ms = later.map_or(time_ms, |p| p.checkpoint_time_ms.max(time_ms));
    if let Some(verdict) = check_document(suite, &d.document_hash, document, &mut checks) {
        return checks.stop(
            verdict,
            &LICENCE_CHECKS,
            "the document does not match the record",
            Some(status_as_of_ms),
            Some(height),
        );
    }
    let mut verdict = Verdict::Valid;
    if let Some(h) = holder {
        let opened = holder_commitment(suite, &h.salt, h.id);
        if opened == d.holder_commitment {
            checks.pass(
                CheckId::Holder,
                format!(
                    "the holder id given and its salt open the licence's holder commitment {}",
                    d.holder_commitment
                ),
            );
        } else {
            checks.fail(
                CheckId::Holder,
                format!(
                    "the holder id given and its salt give {opened}, not the licence's holder commitment {}: the person presenting it is not its holder (or the id or salt was mistyped)",
                    d.holder_commitment
                ),
            );
            verdict = Verdict::HolderMismatch;
        }
    }
    checks.pass(
        CheckId::IssuerAuthorised,
        format!(
            "agency '{}' issued type '{}' at height {}; the ledger admits an issue only from an active agency authorised for the type",
            d.issuer, d.licence_type, licence.issued_height
        ),
    );
    let (status, source) = match later {
        Some(p) => {
            let status = p.status_at_checkpoint(&d.id);
            let source = if status == licence.status {
                format!(
                    " (confirmed by the trust package's checkpoint at height {})",
                    p.checkpoint_height
                )
            } else {
                format!(
                    " as of the trust package's checkpoint at height {}; the record, certified at height {height}, says {}",
                    p.checkpoint_height,
                    licence.status.name()
                )
            };
            (status, source)
        }
        None => (licence.status, String::new()),
    };
    let reason = if licence.status_reason.is_empty() || status != licence.status {
        String::new()
    } else {
        format!(" ({})", licence.status_reason)
    };
    match status {
        LicenceStatus::Active => checks.pass(CheckId::Status, format!("active{source}")),
        LicenceStatus::Suspended => {
            checks.fail(CheckId::Status, format!("suspended{reason}{source}"));
            verdict = verdict.min(Verdict::Suspended);
        }
        LicenceStatus::Revoked => {
            checks.fail(CheckId::Status, format!("revoked{reason}{source}"));
            verdict = verdict.min(Verdict::Revoked);
        }
        LicenceStatus::Superseded => {
            let by = match (&licence.superseded_by, status == licence.status) {
                (Some(by), true) => format!(" by '{by}'"),
                _ => String::new(),
            };
            checks.fail(CheckId::Status, format!("superseded{by}{reason}{source}"));
            verdict = verdict.min(Verdict::Superseded);
        }
    }
    let now = policy.now_ms;
    if now < d.valid_from_ms {
        checks.fail(
            CheckId::ValidityWindow,
            format!("valid from {}, now is {}", at(d.valid_from_ms), at(now)),
        );
        verdict = verdict.min(Verdict::NotYetValid);
    } else if let Some(until) = d.valid_until_ms.filter(|until| now >= *until) {
        checks.fail(
            CheckId::ValidityWindow,
            format!("expired at {}, now is {}", at(until), at(now)),
        );
        verdict = verdict.min(Verdict::Expired);
    } else {
        checks.pass(
            CheckId::ValidityWindow,
            match d.valid_until_ms {
                Some(until) => format!("valid from {} until {}", at(d.valid_from_ms), at(until)),
                None => format!("valid from {}, no expiry", at(d.valid_from_ms)),
            },
        );
    }
    let age = now.saturating_sub(status_as_of_ms);
    if age > policy.proof_age_max_ms {
        checks.fail(
            CheckId::Freshness,
            format!(
                "status is as of {}, {} ago; the policy allows {}",
                at(status_as_of_ms),
                duration(age),
                duration(policy.proof_age_max_ms)
            ),
        );
        verdict = verdict.min(Verdict::StaleProof);
    } else {
        checks.pass(
            CheckId::Freshness,
            format!(
                "status is as of {}, {} ago",
                at(status_as_of_ms),
                duration(age)
            ),
        );
    }
    Report {
        verdict,
        checks: checks.0,
        status_as_of_ms: Some(status_as_of_ms),
        height: Some(height),
        trust_package: None,
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

/// Verifies a decoded evidence receipt against the genesis anchor.
pub fn verify_receipt(
    anchor: &TrustAnchor,
    r: &EvidenceReceipt,
    document: Option<Document<'_>>,
) -> Report {
    verify_receipt_with(Trust::anchor(anchor), r, document)
}

fn verify_receipt_with(
    trust: Trust<'_>,
    r: &EvidenceReceipt,
    document: Option<Document<'_>>,
) -> Report {
    let header = &r.certified.header;
    let mut checks = Checks(Vec::new());
    checks.pass(CheckId::Encoding, "well-formed evidence receipt");
    let key = StateKey::Evidence(r.evidence.hash);
    let verdict = check_certified_entry(
        trust,
        &r.certified,
        &key,
        &r.evidence.to_bytes(),
        &r.proof,
        &mut checks,
    )
    .or_else(|| check_document(trust.anchor.suite, &r.evidence.hash, document, &mut checks))
    .unwrap_or(Verdict::Anchored);
    checks.stop(
        verdict,
        &EVIDENCE_CHECKS,
        "an earlier check failed",
        Some(r.evidence.time_ms),
        Some(header.height),
    )
}

/// A time in a check's detail: RFC 3339 in UTC, then the exact milliseconds the rules compared.
fn at(ms: u64) -> String {
    format!("{} ({ms} ms)", crate::time::rfc3339_from_ms(ms))
}

/// A span of time in a check's detail, in the largest whole unit that keeps it readable.
fn duration(ms: u64) -> String {
    const SECOND_MS: u64 = 1_000;
    const HOUR_MS: u64 = 3_600 * SECOND_MS;
    if ms < 10 * SECOND_MS {
        format!("{ms} ms")
    } else if ms < 2 * HOUR_MS {
        format!("{} s", ms / SECOND_MS)
    } else {
        format!("{:.1} h", ms as f64 / HOUR_MS as f64)
    }
}
