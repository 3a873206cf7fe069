//! Views of what a verifier is handed and what it says: the report of a verification, a
//! presentation or evidence receipt decoded for display, a trust anchor's summary. The node's
//! `POST /v1/verify`, `lichen verify --json` and the WASM scanner all return these.

use lichen_contracts::codec::{Decode, Encode};
use lichen_contracts::error::CodecError;
use lichen_contracts::presentation::{
    COMPACT_TAG, Certified, Check, CheckId, CompactPresentation, EvidenceReceipt, Outcome,
    PRESENTATION_BYTES_MAX, Presentation, RECEIPT_TAG, Report, TrustAnchor, TrustState, Verdict,
};
use lichen_contracts::smt::StateProof;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::api::to_value;
use crate::ledger::{EvidenceView, LicenceView, evidence_to_json, licence_to_json};
use crate::text::rfc3339_from_ms;
use crate::trust_anchor_to_json;

/// Bytes that are not a presentation or receipt.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a valid {what}: {error}")]
pub struct DecodeError {
    /// `"presentation"` or `"evidence receipt"`, by the leading tag.
    pub what: &'static str,
    pub error: CodecError,
}

/// A presentation, compact presentation or receipt, decoded (not verified).
enum Decoded {
    Presentation(Presentation),
    Compact(CompactPresentation),
    Receipt(EvidenceReceipt),
}

/// Decodes by the leading tag, as `contracts::presentation::verify_bytes_with` dispatches: a
/// receipt for [`RECEIPT_TAG`], a compact presentation for [`COMPACT_TAG`], a presentation
/// otherwise.
fn decode(bytes: &[u8]) -> Result<Decoded, DecodeError> {
    let what = match bytes.first() {
        Some(&RECEIPT_TAG) => "evidence receipt",
        Some(&COMPACT_TAG) => "compact presentation",
        _ => "presentation",
    };
    if bytes.len() > PRESENTATION_BYTES_MAX {
        return Err(DecodeError {
            what,
            error: CodecError::TooLong {
                field: what,
                len: bytes.len(),
                max: PRESENTATION_BYTES_MAX,
            },
        });
    }
    let decoded = match bytes.first() {
        Some(&RECEIPT_TAG) => EvidenceReceipt::from_bytes(bytes).map(Decoded::Receipt),
        Some(&COMPACT_TAG) => CompactPresentation::from_bytes(bytes).map(Decoded::Compact),
        _ => Presentation::from_bytes(bytes).map(Decoded::Presentation),
    };
    decoded.map_err(|error| DecodeError { what, error })
}

fn kind(bytes: &[u8]) -> &'static str {
    match bytes.first() {
        Some(&RECEIPT_TAG) => "receipt",
        Some(&COMPACT_TAG) => "compact",
        _ => "presentation",
    }
}

/// The verifier's report on `bytes` (the presentation or receipt it was run on), as JSON: the
/// fields of [`VerifyReport`].
pub fn report_to_json(report: &Report, bytes: &[u8]) -> Value {
    to_value(&VerifyReport::new(report, bytes))
}

/// The verifier's report on a presentation or receipt, as `POST /v1/verify`, `lichen verify
/// --json` and the WASM `verify` give it:
///
/// `{kind, verdict, ok, certified, checks: [{id, outcome, detail, title_zh, title_en,
/// summary_zh}], status_as_of_ms, status_as_of, height, licence, evidence, holder_checked,
/// trust_package}`
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct VerifyReport {
    /// `"presentation"`, `"compact"` or `"receipt"` (by the leading tag).
    pub kind: String,
    /// `Verdict::name()`: `"VALID"`, `"ANCHORED"`, `"REVOKED"`, `"TAMPERED"`...
    pub verdict: String,
    /// The verdict is VALID or ANCHORED (`lichen verify` exits 0 exactly then).
    pub ok: bool,
    /// The `state_proof` check passed, so the record below is the one the trusted validators
    /// certified (with `false`, `licence` / `evidence` are only what the bytes claim).
    pub certified: bool,
    /// Every check, in the order they ran.
    pub checks: Vec<CheckView>,
    /// The certified header's time (a receipt's: the anchoring time), `null` when nothing was
    /// certified.
    pub status_as_of_ms: Option<u64>,
    pub status_as_of: Option<String>,
    /// The certified header's height, `null` when nothing was certified.
    pub height: Option<u64>,
    /// The licence (presentations), `null` when the bytes do not decode or are a receipt.
    pub licence: Option<LicenceView>,
    /// The evidence entry (receipts), `null` otherwise.
    pub evidence: Option<EvidenceView>,
    /// Whether the person presenting it was checked against the holder commitment (a `holder`
    /// check line says how it came out).
    pub holder_checked: bool,
    /// The trust package used ("trust as of"), `null` without one.
    pub trust_package: Option<PackageUsedView>,
}

/// One line of a [`VerifyReport`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CheckView {
    /// `CheckId::name()`: `"encoding"`, `"state_proof"`, `"holder"`...
    pub id: String,
    /// `"pass"`, `"fail"` or `"skipped"`.
    pub outcome: String,
    pub detail: String,
    pub title_zh: String,
    pub title_en: String,
    pub summary_zh: String,
}

/// The trust package a [`VerifyReport`] used.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PackageUsedView {
    pub checkpoint_height: u64,
    pub checkpoint_time_ms: u64,
    pub checkpoint_time: String,
    pub package_hash: String,
}

impl VerifyReport {
    /// The view of `report`, which the verifier made of `bytes`.
    pub fn new(report: &Report, bytes: &[u8]) -> Self {
        let decoded = decode(bytes).ok();
        let certified = report
            .check(CheckId::StateProof)
            .is_some_and(|c| c.outcome == Outcome::Pass);
        VerifyReport {
            kind: kind(bytes).to_string(),
            verdict: report.verdict.name().to_string(),
            ok: matches!(report.verdict, Verdict::Valid | Verdict::Anchored),
            certified,
            checks: report.checks.iter().map(CheckView::from).collect(),
            status_as_of_ms: report.status_as_of_ms,
            status_as_of: report.status_as_of_ms.map(rfc3339_from_ms),
            height: report.height,
            licence: match &decoded {
                Some(Decoded::Presentation(p)) => Some(LicenceView::from(&p.licence)),
                Some(Decoded::Compact(c)) => Some(LicenceView::from(&c.licence)),
                _ => None,
            },
            evidence: match &decoded {
                Some(Decoded::Receipt(r)) => Some(EvidenceView::from(&r.evidence)),
                _ => None,
            },
            holder_checked: report.check(CheckId::Holder).is_some(),
            trust_package: report.trust_package.map(|p| PackageUsedView {
                checkpoint_height: p.checkpoint_height,
                checkpoint_time_ms: p.checkpoint_time_ms,
                checkpoint_time: rfc3339_from_ms(p.checkpoint_time_ms),
                package_hash: p.package_hash.to_hex(),
            }),
        }
    }
}

impl From<&Check> for CheckView {
    fn from(c: &Check) -> Self {
        let (title_zh, title_en) = c.id.title();
        CheckView {
            id: c.id.name().to_string(),
            outcome: c.outcome.name().to_string(),
            detail: c.detail.clone(),
            title_zh: title_zh.to_string(),
            title_en: title_en.to_string(),
            summary_zh: c.id.summary_zh(c.outcome).to_string(),
        }
    }
}

fn certified_to_json(c: &Certified) -> Value {
    let h = &c.header;
    json!({
        "chain_id": h.chain_id,
        "height": h.height,
        "time_ms": h.time_ms,
        "time": rfc3339_from_ms(h.time_ms),
        "state_root": h.state_root.to_hex(),
        "certificate_view": c.certificate.view,
        "signers": c.certificate.signatures.iter().map(|s| s.index).collect::<Vec<_>>(),
        "set_changes": c.set_changes.iter().map(|s| s.header.height).collect::<Vec<_>>(),
    })
}

fn sizes_to_json(total: usize, record: usize, proof: &StateProof, c: &Certified) -> Value {
    let header = c.header.to_bytes().len();
    let certificate = c.certificate.to_bytes().len();
    json!({
        "total": total,
        "record": record,
        "proof": proof.to_bytes().len(),
        "header": header,
        "certificate": certificate,
        "set_changes": c.to_bytes().len() - header - certificate,
    })
}

/// A presentation or receipt decoded for display, **not verified**:
///
/// `{kind, licence, evidence, block: {chain_id, height, time_ms, time, state_root,
/// certificate_view, signers, set_changes}, proof_depth, sizes: {total, record, proof, header,
/// certificate, set_changes}}`
///
/// `licence` or `evidence` is `null` for the other kind; `signers` lists the certificate's
/// validator indices, `set_changes` the heights of the validator-set changes carried; sizes are
/// in bytes (`set_changes` includes its 4-byte count). Bytes that do not decode are an error.
pub fn decoded_presentation_to_json(bytes: &[u8]) -> Result<Value, DecodeError> {
    let (licence, evidence, record, proof, certified) = match decode(bytes)? {
        Decoded::Compact(c) => {
            let record = c.licence.to_bytes().len();
            return Ok(json!({
                "kind": kind(bytes),
                "licence": licence_to_json(&c.licence),
                "evidence": Value::Null,
                "block": { "checkpoint_height": c.checkpoint_height },
                "proof_depth": c.proof.depth(),
                "sizes": {
                    "total": bytes.len(),
                    "record": record,
                    "proof": c.proof.to_bytes().len(),
                },
            }));
        }
        Decoded::Presentation(p) => {
            let record = p.licence.to_bytes().len();
            let licence = licence_to_json(&p.licence);
            (licence, Value::Null, record, p.proof, p.certified)
        }
        Decoded::Receipt(r) => {
            let record = r.evidence.to_bytes().len();
            let evidence = evidence_to_json(&r.evidence);
            (Value::Null, evidence, record, r.proof, r.certified)
        }
    };
    Ok(json!({
        "kind": kind(bytes),
        "licence": licence,
        "evidence": evidence,
        "block": certified_to_json(&certified),
        "proof_depth": proof.depth(),
        "sizes": sizes_to_json(bytes.len(), record, &proof, &certified),
    }))
}

/// A trust anchor for display: the trust-anchor file's fields `{chain_id, suite, height,
/// validators: [{name, key, peer_id}]}` plus `fingerprint` and `quorum`. `fingerprint` is
/// `H("lichen/trust-anchor/v1", anchor)`, the value to compare by eye with `lichen genesis hash`
/// or the operator's published one.
pub fn trust_anchor_summary_to_json(a: &TrustAnchor) -> Value {
    let mut v = trust_anchor_to_json(a);
    v["fingerprint"] = json!(a.hash().to_hex());
    v["quorum"] = json!(a.validators.quorum());
    v
}

/// A verified trust package for display:
///
/// `{chain_id, suite, genesis_hash, package_hash, checkpoint: {height, time_ms, time, hash,
/// state_root}, set_changes, validators_since_height, validators: [{name, key, peer_id}],
/// quorum, revocations: {suspended, revoked, superseded, total}}`
///
/// `validators` is the set in force at the checkpoint, which signs the blocks after
/// `validators_since_height`.
pub fn trust_state_to_json(t: &TrustState) -> Value {
    let (suspended, revoked, superseded) = t.counts();
    json!({
        "chain_id": t.anchor.chain_id,
        "suite": t.anchor.suite.name(),
        "genesis_hash": t.anchor.genesis_hash.to_hex(),
        "package_hash": t.package_hash.to_hex(),
        "checkpoint": {
            "height": t.checkpoint_height,
            "time_ms": t.checkpoint_time_ms,
            "time": rfc3339_from_ms(t.checkpoint_time_ms),
            "hash": t.checkpoint_hash.to_hex(),
            "state_root": t.checkpoint_state_root.to_hex(),
        },
        "set_changes": t.set_changes,
        "validators_since_height": t.anchor.height,
        "validators": trust_anchor_to_json(&t.anchor)["validators"].clone(),
        "quorum": t.anchor.validators.quorum(),
        "revocations": {
            "suspended": suspended,
            "revoked": revoked,
            "superseded": superseded,
            "total": t.marks.len(),
        },
    })
}
