//! The JSON the JavaScript functions return, built here so native tests can check it.
//!
//! Same conventions as the node's JSON views (`node/src/json.rs`), so a report from the WASM
//! verifier reads like one from `POST /v1/verify` or `lichen verify --json`: hashes are lower-case
//! hex, times are `*_ms` numbers with an RFC 3339 UTC companion without the suffix
//! (`status_as_of_ms` → `status_as_of`), absent values are `null`, verdicts are
//! `Verdict::name()` (`"VALID"`, `"UNKNOWN ISSUER"`, `"NOT YET VALID"`, `"STALE PROOF"`...), checks
//! are `{id, outcome, detail}` with the check ids and outcomes (`pass` / `fail` / `skipped`) of
//! `contracts::presentation`.

use lichen_contracts::codec::{Decode, Encode};
use lichen_contracts::crypto::PublicKey;
use lichen_contracts::model::{Evidence, Licence};
use lichen_contracts::presentation::{
    Certified, CheckId, EvidenceReceipt, Outcome, PRESENTATION_BYTES_MAX, Presentation,
    RECEIPT_TAG, Report, TrustAnchor, Verdict,
};
use lichen_contracts::smt::StateProof;
use serde_json::{Value, json};

use crate::VerifierError;

pub use lichen_contracts::time::rfc3339_from_ms;

fn opt_time(ms: Option<u64>) -> Value {
    ms.map_or(Value::Null, |ms| Value::String(rfc3339_from_ms(ms)))
}

/// `"sm2:02ab…"` / `"ed25519:d75a…"`, as the node writes keys.
fn key_string(key: &PublicKey) -> String {
    key.to_string()
}

/// The licence record, as the node's `licence_to_json`: the draft's fields flattened beside the
/// status fields.
pub fn licence_view(l: &Licence) -> Value {
    let d = &l.draft;
    json!({
        "id": d.id,
        "licence_type": d.licence_type,
        "issuer": d.issuer,
        "document_hash": d.document_hash.to_hex(),
        "holder_commitment": d.holder_commitment.to_hex(),
        "valid_from_ms": d.valid_from_ms,
        "valid_from": rfc3339_from_ms(d.valid_from_ms),
        "valid_until_ms": d.valid_until_ms,
        "valid_until": opt_time(d.valid_until_ms),
        "status": l.status.name(),
        "status_reason": l.status_reason,
        "supersedes": l.supersedes,
        "superseded_by": l.superseded_by,
        "issued_height": l.issued_height,
        "issued_time_ms": l.issued_time_ms,
        "issued_time": rfc3339_from_ms(l.issued_time_ms),
        "updated_height": l.updated_height,
        "updated_time_ms": l.updated_time_ms,
        "updated_time": rfc3339_from_ms(l.updated_time_ms),
    })
}

/// The evidence entry, as the node's `evidence_to_json`.
pub fn evidence_view(e: &Evidence) -> Value {
    json!({
        "hash": e.hash.to_hex(),
        "submitter": e.submitter,
        "label": e.label,
        "height": e.height,
        "time_ms": e.time_ms,
        "time": rfc3339_from_ms(e.time_ms),
        "tx_id": e.tx_id.to_hex(),
    })
}

/// A presentation or receipt, decoded (not verified).
enum Decoded {
    Presentation(Presentation),
    Receipt(EvidenceReceipt),
}

/// Decodes by the leading tag, as `contracts::presentation::verify_bytes` dispatches: a receipt
/// for [`RECEIPT_TAG`], a presentation otherwise.
fn decode(bytes: &[u8]) -> Result<Decoded, VerifierError> {
    let what = if bytes.first() == Some(&RECEIPT_TAG) {
        "evidence receipt"
    } else {
        "presentation"
    };
    if bytes.len() > PRESENTATION_BYTES_MAX {
        return Err(VerifierError::Undecodable {
            what,
            error: lichen_contracts::CodecError::TooLong {
                field: what,
                len: bytes.len(),
                max: PRESENTATION_BYTES_MAX,
            },
        });
    }
    let decoded = if bytes.first() == Some(&RECEIPT_TAG) {
        EvidenceReceipt::from_bytes(bytes).map(Decoded::Receipt)
    } else {
        Presentation::from_bytes(bytes).map(Decoded::Presentation)
    };
    decoded.map_err(|error| VerifierError::Undecodable { what, error })
}

fn kind(bytes: &[u8]) -> &'static str {
    if bytes.first() == Some(&RECEIPT_TAG) {
        "receipt"
    } else {
        "presentation"
    }
}

fn check_view(id: CheckId, outcome: Outcome, detail: &str) -> Value {
    json!({ "id": id.name(), "outcome": outcome.name(), "detail": detail })
}

/// The verifier's report for `bytes` (the presentation or receipt it was run on):
///
/// `{kind, verdict, ok, certified, checks: [{id, outcome, detail}], status_as_of_ms,
/// status_as_of, height, licence, evidence}`
///
/// - `kind`: `"presentation"` or `"receipt"` (by the leading tag);
/// - `verdict`: `Verdict::name()`; `ok`: the verdict is VALID or ANCHORED (`lichen verify` exits
///   0 exactly then);
/// - `certified`: the `state_proof` check passed, so the record below is the one the trusted
///   validators certified (with `false`, `licence` / `evidence` are only what the bytes claim);
/// - `status_as_of_ms` / `height`: the certified header's time and height (a receipt's time is
///   the anchoring time), `null` when the bytes do not decode;
/// - `licence` (presentations) / `evidence` (receipts): the record, `null` when the bytes do not
///   decode or are of the other kind.
pub fn report_view(report: &Report, bytes: &[u8]) -> Value {
    let decoded = decode(bytes).ok();
    let certified = report
        .check(CheckId::StateProof)
        .is_some_and(|c| c.outcome == Outcome::Pass);
    json!({
        "kind": kind(bytes),
        "verdict": report.verdict.name(),
        "ok": matches!(report.verdict, Verdict::Valid | Verdict::Anchored),
        "certified": certified,
        "checks": report
            .checks
            .iter()
            .map(|c| check_view(c.id, c.outcome, &c.detail))
            .collect::<Vec<_>>(),
        "status_as_of_ms": report.status_as_of_ms,
        "status_as_of": opt_time(report.status_as_of_ms),
        "height": report.height,
        "licence": match &decoded {
            Some(Decoded::Presentation(p)) => licence_view(&p.licence),
            _ => Value::Null,
        },
        "evidence": match &decoded {
            Some(Decoded::Receipt(r)) => evidence_view(&r.evidence),
            _ => Value::Null,
        },
    })
}

fn certified_view(c: &Certified) -> Value {
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

fn sizes_view(total: usize, record: usize, proof: &StateProof, c: &Certified) -> Value {
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
pub fn decode_view(bytes: &[u8]) -> Result<Value, VerifierError> {
    let (licence, evidence, record, proof, certified) = match decode(bytes)? {
        Decoded::Presentation(p) => {
            let record = p.licence.to_bytes().len();
            (
                licence_view(&p.licence),
                Value::Null,
                record,
                p.proof,
                p.certified,
            )
        }
        Decoded::Receipt(r) => {
            let record = r.evidence.to_bytes().len();
            (
                Value::Null,
                evidence_view(&r.evidence),
                record,
                r.proof,
                r.certified,
            )
        }
    };
    Ok(json!({
        "kind": kind(bytes),
        "licence": licence,
        "evidence": evidence,
        "block": certified_view(&certified),
        "proof_depth": proof.depth(),
        "sizes": sizes_view(bytes.len(), record, &proof, &certified),
    }))
}

/// An encoded trust anchor for display: `{chain_id, suite, height, fingerprint, quorum,
/// validators: [{name, key, peer_id}]}`. `fingerprint` is `H("lichen/trust-anchor/v1", anchor)`,
/// the value to compare by eye with `lichen genesis hash` / the operator's published one.
pub fn trust_anchor_view(bytes: &[u8]) -> Result<Value, VerifierError> {
    let a = TrustAnchor::from_bytes(bytes)?;
    Ok(json!({
        "chain_id": a.chain_id,
        "suite": a.suite.name(),
        "height": a.height,
        "fingerprint": a.hash().to_hex(),
        "quorum": a.validators.quorum(),
        "validators": a
            .validators
            .validators
            .iter()
            .map(|v| json!({
                "name": v.name,
                "key": key_string(&v.key),
                "peer_id": lichen_contracts::hex::encode(&v.peer_id),
            }))
            .collect::<Vec<_>>(),
    }))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::expect_used, clippy::unwrap_used)]

    use super::*;

    #[test]
    fn formats_times_as_the_node_does() {
        assert_eq!(rfc3339_from_ms(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(
            rfc3339_from_ms(1_767_225_600_000),
            "2026-01-01T00:00:00.000Z"
        );
        assert_eq!(rfc3339_from_ms(951_782_400_123), "2000-02-29T00:00:00.123Z");
        assert_eq!(
            rfc3339_from_ms(4_107_542_399_999),
            "2100-02-28T23:59:59.999Z"
        );
    }
}
