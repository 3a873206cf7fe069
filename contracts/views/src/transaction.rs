//! Transactions as input: the JSON an integrator writes (the same shape [`transaction_to_json`]
//! and [`payload_to_json`] print, so a transaction read from `GET /v1/transactions/{id}` reads
//! back) into the canonical [`Transaction`], for the WASM package and the CLI to encode and sign.
//!
//! The built transaction is encoded and decoded once more before it is returned: the decoder is
//! the one place every constraint of PROTOCOL.md is enforced (identifier alphabets, GB/T 36904
//! check characters, `valid_until_ms > valid_from_ms`, key and peer-id checks), so what this
//! module accepts is exactly what a node would decode, and no rule is written twice.
//!
//! [`transaction_to_json`]: crate::transaction_to_json
//! [`payload_to_json`]: crate::payload_to_json

use lichen_contracts::codec::{Decode, Encode};
use lichen_contracts::crypto::SigAlgo;
use lichen_contracts::model::*;
use lichen_contracts::tx::{Payload, Transaction};
use serde_json::Value;

use crate::entities::*;
use crate::error::*;
use crate::read::*;

/// Every payload kind, by its JSON `kind` (`Payload::kind()`), in tag order.
pub const PAYLOAD_KINDS: [&str; 18] = [
    "register-agency",
    "update-agency",
    "set-agency-status",
    "define-licence-type",
    "set-type-authorisation",
    "register-submitter",
    "update-submitter",
    "add-validator",
    "remove-validator",
    "update-council",
    "add-observer",
    "remove-observer",
    "issue",
    "suspend",
    "reinstate",
    "revoke",
    "supersede",
    "anchor-evidence",
];

/// Reads `{chain_id, nonce, expires_at_height, payload}`. With `algo`, every key in the payload
/// must be of that algorithm (the chain suite's).
pub fn transaction_from_json(v: &Value, algo: Option<SigAlgo>) -> Result<Transaction, JsonError> {
    let path = "tx";
    let f = object(
        v,
        path,
        &["chain_id", "nonce", "expires_at_height", "payload"],
    )?;
    let tx = Transaction {
        chain_id: f.req("chain_id", string_at)?,
        nonce: f.req("nonce", u64_at)?,
        expires_at_height: f.req("expires_at_height", u64_at)?,
        payload: f.req("payload", |v, p| payload_at(v, p, algo))?,
    };
    // The decoder's checks, placed at the field they concern where the error names one.
    validated(
        Transaction::from_bytes(&tx.to_bytes()).map(|_| ()),
        path,
        &[
            ("chain id", "chain_id"),
            ("reason", "payload.reason"),
            ("evidence label", "payload.label"),
        ],
    )?;
    Ok(tx)
}

/// Reads a payload `{kind, ...fields}`.
pub fn payload_from_json(v: &Value, algo: Option<SigAlgo>) -> Result<Payload, JsonError> {
    payload_at(v, "payload", algo)
}

/// The payload's fields without `kind`, for the entity readers that refuse unknown fields.
fn fields_without_kind(v: &Value) -> Value {
    match v {
        Value::Object(map) => Value::Object(
            map.iter()
                .filter(|(k, _)| k.as_str() != "kind")
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
        ),
        other => other.clone(),
    }
}

fn with_kind<'a>(names: &[&'a str]) -> Vec<&'a str> {
    let mut all = vec!["kind"];
    all.extend_from_slice(names);
    all
}

fn payload_at(v: &Value, path: &str, algo: Option<SigAlgo>) -> Result<Payload, JsonError> {
    let Some(map) = v.as_object() else {
        return err(path, format!("expected an object, found {}", kind_of(v)));
    };
    let kind_path = child(path, "kind");
    let kind = match map.get("kind") {
        Some(k) => string_at(k, &kind_path)?,
        None => return err(&kind_path, "missing field"),
    };
    let bare = fields_without_kind(v);
    let keys = |v: &Value, p: &str| key_set_at(v, p, ENTITY_KEYS_MAX, algo);
    let reason = |f: &Fields<'_>| f.req("reason", string_at);
    Ok(match kind.as_str() {
        "register-agency" => Payload::RegisterAgency(agency_at(&bare, path, algo)?),
        "update-agency" => {
            let f = object(v, path, &with_kind(&["id", "name", "keys"]))?;
            Payload::UpdateAgency {
                id: f.req("id", ident("agency id"))?,
                name: f.opt("name", nullable(string_at))?.flatten(),
                keys: f.opt("keys", nullable(keys))?.flatten(),
            }
        }
        "set-agency-status" => {
            let f = object(v, path, &with_kind(&["id", "status"]))?;
            Payload::SetAgencyStatus {
                id: f.req("id", ident("agency id"))?,
                status: f.req("status", entity_status_at)?,
            }
        }
        "define-licence-type" => Payload::DefineLicenceType(licence_type_at(&bare, path)?),
        "set-type-authorisation" => {
            let f = object(
                v,
                path,
                &with_kind(&["licence_type", "agency", "authorised"]),
            )?;
            Payload::SetTypeAuthorisation {
                licence_type: f.req("licence_type", ident("licence type code"))?,
                agency: f.req("agency", ident("agency id"))?,
                authorised: f.req("authorised", bool_at)?,
            }
        }
        "register-submitter" => Payload::RegisterSubmitter(submitter_at(&bare, path, algo)?),
        "update-submitter" => {
            let f = object(v, path, &with_kind(&["id", "keys", "status"]))?;
            Payload::UpdateSubmitter {
                id: f.req("id", ident("submitter id"))?,
                keys: f.opt("keys", nullable(keys))?.flatten(),
                status: f.opt("status", nullable(entity_status_at))?.flatten(),
            }
        }
        "add-validator" => Payload::AddValidator(validator_at(&bare, path, algo)?),
        "remove-validator" => {
            let f = object(v, path, &with_kind(&["key"]))?;
            Payload::RemoveValidator {
                key: f.req("key", |v, p| key_at(v, p, algo))?,
            }
        }
        "update-council" => Payload::UpdateCouncil(council_at(&bare, path, algo)?),
        "add-observer" => Payload::AddObserver(observer_at(&bare, path)?),
        "remove-observer" => {
            let f = object(v, path, &with_kind(&["peer_id"]))?;
            Payload::RemoveObserver {
                peer_id: f.req("peer_id", hex_at)?,
            }
        }
        "issue" => Payload::IssueLicence(licence_draft_at(&bare, path)?),
        "suspend" | "reinstate" | "revoke" => {
            let f = object(v, path, &with_kind(&["id", "reason"]))?;
            let id = f.req("id", licence_id_at)?;
            let reason = reason(&f)?;
            match kind.as_str() {
                "suspend" => Payload::SuspendLicence { id, reason },
                "reinstate" => Payload::ReinstateLicence { id, reason },
                _ => Payload::RevokeLicence { id, reason },
            }
        }
        "supersede" => {
            let f = object(v, path, &with_kind(&["old_id", "reason", "new"]))?;
            Payload::SupersedeLicence {
                old_id: f.req("old_id", licence_id_at)?,
                reason: reason(&f)?,
                new: f.req("new", licence_draft_at)?,
            }
        }
        "anchor-evidence" => {
            let f = object(v, path, &with_kind(&["hash", "submitter", "label"]))?;
            Payload::AnchorEvidence {
                hash: f.req("hash", hash_at)?,
                submitter: f.req("submitter", ident("submitter id"))?,
                label: f.req("label", string_at)?,
            }
        }
        other => {
            let shown: String = other.chars().take(40).collect();
            return err(
                &kind_path,
                format!(
                    "unknown payload kind {shown:?} (expected one of: {})",
                    PAYLOAD_KINDS.join(", ")
                ),
            );
        }
    })
}

/// `{id, licence_type, issuer, document_hash, holder_commitment, valid_from_ms, valid_until_ms}`
/// (with the optional RFC 3339 companions `valid_from`, `valid_until`).
pub fn licence_draft_from_json(v: &Value) -> Result<LicenceDraft, JsonError> {
    licence_draft_at(v, "licence")
}

fn licence_draft_at(v: &Value, path: &str) -> Result<LicenceDraft, JsonError> {
    let f = object(
        v,
        path,
        &[
            "id",
            "licence_type",
            "issuer",
            "document_hash",
            "holder_commitment",
            "valid_from_ms",
            "valid_from",
            "valid_until_ms",
            "valid_until",
        ],
    )?;
    let draft = LicenceDraft {
        id: f.req("id", string_at)?,
        licence_type: f.req("licence_type", string_at)?,
        issuer: f.req("issuer", string_at)?,
        document_hash: f.req("document_hash", hash_at)?,
        holder_commitment: f.req("holder_commitment", hash_at)?,
        valid_from_ms: f.time("valid_from")?,
        valid_until_ms: f.opt_time("valid_until")?,
    };
    validated(
        draft.validate(),
        path,
        &[
            ("licence id", "id"),
            ("GB/T 36904 licence id", "id"),
            ("licence type code", "licence_type"),
            ("agency id", "issuer"),
            ("validity window", "valid_until_ms"),
        ],
    )?;
    Ok(draft)
}

/// An identifier (PROTOCOL.md, Canonical encoding), refused here so the error names its field.
fn ident(what: &'static str) -> impl Fn(&Value, &str) -> Result<String, JsonError> {
    move |v, p| {
        let id = string_at(v, p)?;
        lichen_contracts::ids::check_identifier(what, &id, ID_LEN_MAX)
            .map_err(|e| JsonError::new(p, e.to_string()))?;
        Ok(id)
    }
}

/// A licence id: an identifier, a well-formed GB/T 36904 one if it has that prefix.
fn licence_id_at(v: &Value, path: &str) -> Result<String, JsonError> {
    let id = string_at(v, path)?;
    lichen_contracts::ids::check_licence_id(&id, LICENCE_ID_LEN_MAX)
        .map_err(|e| JsonError::new(path, e.to_string()))?;
    Ok(id)
}

/// A reader that also takes `null` (as `None`).
fn nullable<'a, T>(
    parse: impl FnOnce(&'a Value, &str) -> Result<T, JsonError>,
) -> impl FnOnce(&'a Value, &str) -> Result<Option<T>, JsonError> {
    move |v, p| match v {
        Value::Null => Ok(None),
        v => parse(v, p).map(Some),
    }
}

fn bool_at(v: &Value, path: &str) -> Result<bool, JsonError> {
    v.as_bool().map_or_else(
        || {
            err(
                path,
                format!("expected true or false, found {}", kind_of(v)),
            )
        },
        Ok,
    )
}
