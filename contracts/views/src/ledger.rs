//! Output views of what the chain records: licences, evidence, blocks, certificates,
//! transactions, events, verifier reports, validator sets.

use lichen_contracts::block::{Block, BlockHeader, CommitCertificate, IndexedSignature};
use lichen_contracts::crypto::{Hash32, PublicKey, Signature, Suite};
use lichen_contracts::ledger::Event;
use lichen_contracts::model::*;

use lichen_contracts::tx::{Payload, SignedTransaction, Transaction, TxSignature};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::api::to_value;
use crate::entities::*;
use crate::text::*;

/// A public key as `"sm2:<hex>"` / `"ed25519:<hex>"`.
pub fn public_key_to_json(key: &PublicKey) -> Value {
    Value::String(public_key_string(key))
}

/// A hash as 64 lower-case hex digits.
pub fn hash_to_json(hash: &Hash32) -> Value {
    Value::String(hash.to_hex())
}

/// A signature as 128 lower-case hex digits (its algorithm is its signer key's).
pub fn signature_to_json(sig: &Signature) -> Value {
    Value::String(hex_string(sig.as_bytes()))
}

pub(crate) fn opt_time(ms: Option<u64>) -> Value {
    ms.map_or(Value::Null, |ms| Value::String(rfc3339_from_ms(ms)))
}

/// Adds `kind` to an object's fields (payloads and events).
pub(crate) fn with_kind(kind: &str, fields: Value) -> Value {
    match fields {
        Value::Object(mut map) => {
            map.insert("kind".into(), Value::String(kind.into()));
            Value::Object(map)
        }
        other => json!({ "kind": kind, "value": other }),
    }
}

/// What an agency states at issue: `{id, licence_type, issuer, document_hash, holder_commitment,
/// valid_from_ms, valid_from, valid_until_ms, valid_until}` (the last two `null` if it does not
/// expire).
pub fn licence_draft_to_json(d: &LicenceDraft) -> Value {
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
    })
}

/// A licence record, the draft's fields flattened beside `status`, `status_reason`, `supersedes`,
/// `superseded_by` (`null` if none), `issued_height`, `issued_time_ms`, `updated_height`,
/// `updated_time_ms` (with their RFC 3339 companions).
pub fn licence_to_json(l: &Licence) -> Value {
    to_value(&LicenceView::from(l))
}

/// [`licence_to_json`]'s fields, typed: what the API answers and its clients read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LicenceView {
    pub id: String,
    pub licence_type: String,
    pub issuer: String,
    pub document_hash: String,
    pub holder_commitment: String,
    pub valid_from_ms: u64,
    pub valid_from: String,
    pub valid_until_ms: Option<u64>,
    pub valid_until: Option<String>,
    /// `LicenceStatus::name()`: `"active"`, `"suspended"`, `"revoked"`, `"superseded"`.
    pub status: String,
    pub status_reason: String,
    pub supersedes: Option<String>,
    pub superseded_by: Option<String>,
    pub issued_height: u64,
    pub issued_time_ms: u64,
    pub issued_time: String,
    pub updated_height: u64,
    pub updated_time_ms: u64,
    pub updated_time: String,
}

impl From<&Licence> for LicenceView {
    fn from(l: &Licence) -> Self {
        let d = &l.draft;
        LicenceView {
            id: d.id.clone(),
            licence_type: d.licence_type.clone(),
            issuer: d.issuer.clone(),
            document_hash: d.document_hash.to_hex(),
            holder_commitment: d.holder_commitment.to_hex(),
            valid_from_ms: d.valid_from_ms,
            valid_from: rfc3339_from_ms(d.valid_from_ms),
            valid_until_ms: d.valid_until_ms,
            valid_until: d.valid_until_ms.map(rfc3339_from_ms),
            status: l.status.name().to_string(),
            status_reason: l.status_reason.clone(),
            supersedes: l.supersedes.clone(),
            superseded_by: l.superseded_by.clone(),
            issued_height: l.issued_height,
            issued_time_ms: l.issued_time_ms,
            issued_time: rfc3339_from_ms(l.issued_time_ms),
            updated_height: l.updated_height,
            updated_time_ms: l.updated_time_ms,
            updated_time: rfc3339_from_ms(l.updated_time_ms),
        }
    }
}

/// `{hash, submitter, label, height, time_ms, time, tx_id}`.
pub fn evidence_to_json(e: &Evidence) -> Value {
    to_value(&EvidenceView::from(e))
}

/// [`evidence_to_json`]'s fields, typed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EvidenceView {
    pub hash: String,
    pub submitter: String,
    pub label: String,
    pub height: u64,
    pub time_ms: u64,
    pub time: String,
    pub tx_id: String,
}

impl From<&Evidence> for EvidenceView {
    fn from(e: &Evidence) -> Self {
        EvidenceView {
            hash: e.hash.to_hex(),
            submitter: e.submitter.clone(),
            label: e.label.clone(),
            height: e.height,
            time_ms: e.time_ms,
            time: rfc3339_from_ms(e.time_ms),
            tx_id: e.tx_id.to_hex(),
        }
    }
}

/// Every header field, `time`, and the block `hash` under `suite`.
pub fn block_header_to_json(h: &BlockHeader, suite: Suite) -> Value {
    json!({
        "hash": h.hash(suite).to_hex(),
        "version": h.version,
        "chain_id": h.chain_id,
        "height": h.height,
        "time_ms": h.time_ms,
        "time": rfc3339_from_ms(h.time_ms),
        "view": h.view,
        "previous_hash": h.previous_hash.to_hex(),
        "tx_count": h.tx_count,
        "tx_root": h.tx_root.to_hex(),
        "state_root": h.state_root.to_hex(),
        "validator_set_hash": h.validator_set_hash.to_hex(),
        "next_validator_set_hash": h.next_validator_set_hash.to_hex(),
        "proposer": h.proposer,
    })
}

pub(crate) fn indexed_signature_to_json(s: &IndexedSignature) -> Value {
    json!({ "index": s.index, "signature": signature_to_json(&s.signature) })
}

/// `{height, view, block_hash, signatures: [{index, signature}]}`.
pub fn commit_certificate_to_json(c: &CommitCertificate) -> Value {
    json!({
        "height": c.height,
        "view": c.view,
        "block_hash": c.block_hash.to_hex(),
        "signatures": c.signatures.iter().map(indexed_signature_to_json).collect::<Vec<_>>(),
    })
}

/// `{"kind": Payload::kind(), ...fields}`. Variants that wrap a struct (register-agency, issue...)
/// carry its fields flattened; `supersede` carries the new licence under `new`. Absent optional
/// fields of `update-agency` / `update-submitter` are `null` (unchanged).
pub fn payload_to_json(p: &Payload) -> Value {
    let fields = match p {
        Payload::RegisterAgency(a) => agency_to_json(a),
        Payload::UpdateAgency { id, name, keys } => json!({
            "id": id,
            "name": name,
            "keys": keys.as_deref().map(keys_to_json),
        }),
        Payload::SetAgencyStatus { id, status } => json!({ "id": id, "status": status.name() }),
        Payload::DefineLicenceType(t) => licence_type_to_json(t),
        Payload::SetTypeAuthorisation {
            licence_type,
            agency,
            authorised,
        } => json!({
            "licence_type": licence_type,
            "agency": agency,
            "authorised": authorised,
        }),
        Payload::RegisterSubmitter(s) => submitter_to_json(s),
        Payload::UpdateSubmitter { id, keys, status } => json!({
            "id": id,
            "keys": keys.as_deref().map(keys_to_json),
            "status": status.map(EntityStatus::name),
        }),
        Payload::AddValidator(v) => validator_to_json(v),
        Payload::RemoveValidator { key } => json!({ "key": public_key_string(key) }),
        Payload::UpdateCouncil(c) => council_to_json(c),
        Payload::AddObserver(o) => observer_to_json(o),
        Payload::RemoveObserver { peer_id } => json!({ "peer_id": hex_string(peer_id) }),
        Payload::IssueLicence(d) => licence_draft_to_json(d),
        Payload::SuspendLicence { id, reason }
        | Payload::ReinstateLicence { id, reason }
        | Payload::RevokeLicence { id, reason } => json!({ "id": id, "reason": reason }),
        Payload::SupersedeLicence {
            old_id,
            reason,
            new,
        } => json!({
            "old_id": old_id,
            "reason": reason,
            "new": licence_draft_to_json(new),
        }),
        Payload::AnchorEvidence {
            hash,
            submitter,
            label,
        } => json!({
            "hash": hash.to_hex(),
            "submitter": submitter,
            "label": label,
        }),
    };
    with_kind(p.kind(), fields)
}

/// `{chain_id, nonce, expires_at_height, payload}`.
pub fn transaction_to_json(tx: &Transaction) -> Value {
    json!({
        "chain_id": tx.chain_id,
        "nonce": tx.nonce,
        "expires_at_height": tx.expires_at_height,
        "payload": payload_to_json(&tx.payload),
    })
}

pub(crate) fn tx_signature_to_json(s: &TxSignature) -> Value {
    json!({
        "key": public_key_string(&s.key),
        "signature": signature_to_json(&s.signature),
    })
}

/// `{id, tx, signatures: [{key, signature}]}`, the id under `suite`.
pub fn signed_transaction_to_json(tx: &SignedTransaction, suite: Suite) -> Value {
    json!({
        "id": tx.id(suite).to_hex(),
        "tx": transaction_to_json(&tx.tx),
        "signatures": tx.signatures.iter().map(tx_signature_to_json).collect::<Vec<_>>(),
    })
}

/// `{header, txs}`.
pub fn block_to_json(b: &Block, suite: Suite) -> Value {
    json!({
        "header": block_header_to_json(&b.header, suite),
        "txs": b.txs.iter().map(|t| signed_transaction_to_json(t, suite)).collect::<Vec<_>>(),
    })
}

/// A ledger event's kind: `licence-changed`, `evidence-anchored`, `agency-changed`,
/// `licence-type-changed`, `submitter-changed`, `validator-set-changed`, `council-changed`,
/// `observer-added`, `observer-removed`.
pub fn event_kind(e: &Event) -> &'static str {
    match e {
        Event::LicenceChanged { .. } => "licence-changed",
        Event::EvidenceAnchored { .. } => "evidence-anchored",
        Event::AgencyChanged { .. } => "agency-changed",
        Event::LicenceTypeChanged { .. } => "licence-type-changed",
        Event::SubmitterChanged { .. } => "submitter-changed",
        Event::ValidatorSetChanged { .. } => "validator-set-changed",
        Event::CouncilChanged => "council-changed",
        Event::ObserverAdded { .. } => "observer-added",
        Event::ObserverRemoved { .. } => "observer-removed",
    }
}

/// `{"kind": event_kind(), ...fields}`.
pub fn event_to_json(e: &Event) -> Value {
    let fields = match e {
        Event::LicenceChanged { id, status } => json!({ "id": id, "status": status.name() }),
        Event::EvidenceAnchored { hash } => json!({ "hash": hash.to_hex() }),
        Event::AgencyChanged { id } | Event::SubmitterChanged { id } => json!({ "id": id }),
        Event::LicenceTypeChanged { code } => json!({ "code": code }),
        Event::ValidatorSetChanged { size } => json!({ "size": size }),
        Event::CouncilChanged => json!({}),
        Event::ObserverAdded { peer_id } | Event::ObserverRemoved { peer_id } => {
            json!({ "peer_id": hex_string(peer_id) })
        }
    };
    with_kind(event_kind(e), fields)
}

/// The API form of a validator set: `{validators, quorum, hash}`, the hash under `suite`.
pub fn validator_set_to_json(set: &ValidatorSet, suite: Suite) -> Value {
    json!({
        "validators": validators_to_json(set),
        "quorum": set.quorum(),
        "hash": set.hash(suite).to_hex(),
    })
}
