//! The chain's entities, both directions: agencies, submitters, licence types, validators,
//! observers, the council and the chain configuration.

use std::collections::BTreeMap;

use lichen_contracts::crypto::{PublicKey, SigAlgo};
use lichen_contracts::genesis::Genesis;
use lichen_contracts::ids;
use lichen_contracts::model::*;
use serde_json::{Value, json};

use crate::error::*;
use crate::read::*;
use crate::text::*;

/// `{id, name, keys, status}`.
pub fn agency_to_json(a: &Agency) -> Value {
    json!({
        "id": a.id,
        "name": a.name,
        "keys": keys_to_json(&a.keys),
        "status": a.status.name(),
    })
}

pub fn agency_from_json(v: &Value) -> Result<Agency, JsonError> {
    agency_at(v, "agency", None)
}

pub(crate) fn agency_at(v: &Value, path: &str, algo: Option<SigAlgo>) -> Result<Agency, JsonError> {
    let f = object(v, path, &["id", "name", "keys", "status"])?;
    let agency = Agency {
        id: f.req("id", string_at)?,
        name: f.req("name", string_at)?,
        keys: f.req("keys", |v, p| {
            key_set_at(v, p, lichen_contracts::model::ENTITY_KEYS_MAX, algo)
        })?,
        status: f.req("status", entity_status_at)?,
    };
    validated(
        agency.validate(),
        path,
        &[
            ("agency id", "id"),
            ("agency name", "name"),
            ("agency keys", "keys"),
        ],
    )?;
    Ok(agency)
}

/// `{id, name, keys, status}`.
pub fn submitter_to_json(s: &Submitter) -> Value {
    json!({
        "id": s.id,
        "name": s.name,
        "keys": keys_to_json(&s.keys),
        "status": s.status.name(),
    })
}

pub fn submitter_from_json(v: &Value) -> Result<Submitter, JsonError> {
    submitter_at(v, "submitter", None)
}

pub(crate) fn submitter_at(
    v: &Value,
    path: &str,
    algo: Option<SigAlgo>,
) -> Result<Submitter, JsonError> {
    let f = object(v, path, &["id", "name", "keys", "status"])?;
    let submitter = Submitter {
        id: f.req("id", string_at)?,
        name: f.req("name", string_at)?,
        keys: f.req("keys", |v, p| {
            key_set_at(v, p, lichen_contracts::model::ENTITY_KEYS_MAX, algo)
        })?,
        status: f.req("status", entity_status_at)?,
    };
    validated(
        submitter.validate(),
        path,
        &[
            ("submitter id", "id"),
            ("submitter name", "name"),
            ("submitter keys", "keys"),
        ],
    )?;
    Ok(submitter)
}

/// `{code, name, authorised: [agency ids]}`.
pub fn licence_type_to_json(t: &LicenceType) -> Value {
    json!({
        "code": t.code,
        "name": t.name,
        "authorised": t.authorised,
    })
}

pub fn licence_type_from_json(v: &Value) -> Result<LicenceType, JsonError> {
    licence_type_at(v, "licence_type")
}

pub(crate) fn licence_type_at(v: &Value, path: &str) -> Result<LicenceType, JsonError> {
    let f = object(v, path, &["code", "name", "authorised"])?;
    let t = LicenceType {
        code: f.req("code", string_at)?,
        name: f.req("name", string_at)?,
        authorised: f.req("authorised", |v, p| {
            let ids = id_set_at(v, p, lichen_contracts::model::TYPE_AGENCIES_MAX)?;
            for (i, id) in ids.iter().enumerate() {
                // Name the input position of a bad id, not its sorted one.
                let at = v
                    .as_array()
                    .and_then(|raw| raw.iter().position(|x| x.as_str() == Some(id)))
                    .unwrap_or(i);
                ids::check_identifier("agency id", id, lichen_contracts::model::ID_LEN_MAX)
                    .map_err(|e| JsonError::new(index(p, at), e.to_string()))?;
            }
            Ok(ids)
        })?,
    };
    validated(
        t.validate(),
        path,
        &[
            ("licence type code", "code"),
            ("licence type name", "name"),
            ("authorised agencies", "authorised"),
            ("agency id", "authorised"),
        ],
    )?;
    Ok(t)
}

/// `{name, key, peer_id (hex)}`.
pub fn validator_to_json(v: &Validator) -> Value {
    json!({
        "name": v.name,
        "key": public_key_string(&v.key),
        "peer_id": hex_string(&v.peer_id),
    })
}

pub fn validator_from_json(v: &Value) -> Result<Validator, JsonError> {
    validator_at(v, "validator", None)
}

pub(crate) fn validator_at(
    v: &Value,
    path: &str,
    algo: Option<SigAlgo>,
) -> Result<Validator, JsonError> {
    let f = object(v, path, &["name", "key", "peer_id"])?;
    let validator = Validator {
        name: f.req("name", string_at)?,
        key: f.req("key", |v, p| key_at(v, p, algo))?,
        peer_id: f.req("peer_id", hex_at)?,
    };
    validated(
        validator.validate(),
        path,
        &[("validator name", "name"), ("peer id", "peer_id")],
    )?;
    Ok(validator)
}

/// `{name, peer_id (hex)}`.
pub fn observer_to_json(o: &Observer) -> Value {
    json!({
        "name": o.name,
        "peer_id": hex_string(&o.peer_id),
    })
}

pub fn observer_from_json(v: &Value) -> Result<Observer, JsonError> {
    observer_at(v, "observer")
}

pub(crate) fn observer_at(v: &Value, path: &str) -> Result<Observer, JsonError> {
    let f = object(v, path, &["name", "peer_id"])?;
    let observer = Observer {
        name: f.req("name", string_at)?,
        peer_id: f.req("peer_id", hex_at)?,
    };
    validated(
        observer.validate(),
        path,
        &[("observer name", "name"), ("peer id", "peer_id")],
    )?;
    Ok(observer)
}

/// The validators as a plain array in set order (sorted by key): the genesis and trust-anchor
/// form. See [`validator_set_to_json`] for the API form with quorum and hash.
pub fn validators_to_json(set: &ValidatorSet) -> Value {
    Value::Array(set.validators.iter().map(validator_to_json).collect())
}

/// Reads an array of validators in any order into a set (`ValidatorSet::new` sorts by key).
pub fn validators_from_json(v: &Value) -> Result<ValidatorSet, JsonError> {
    validators_at(v, "validators", None)
}

pub(crate) fn validators_at(
    v: &Value,
    path: &str,
    algo: Option<SigAlgo>,
) -> Result<ValidatorSet, JsonError> {
    let items = array_at(v, path, lichen_contracts::model::VALIDATORS_MAX)?;
    let mut validators = Vec::with_capacity(items.len());
    let mut keys: BTreeMap<&PublicKey, usize> = BTreeMap::new();
    let mut peers: BTreeMap<&[u8], usize> = BTreeMap::new();
    for (i, item) in items.iter().enumerate() {
        validators.push(validator_at(item, &index(path, i), algo)?);
    }
    for (i, val) in validators.iter().enumerate() {
        if let Some(first) = keys.insert(&val.key, i) {
            return err(
                &child(&index(path, i), "key"),
                format!(
                    "duplicate validator key (same as {})",
                    child(&index(path, first), "key")
                ),
            );
        }
        if let Some(first) = peers.insert(&val.peer_id, i) {
            return err(
                &child(&index(path, i), "peer_id"),
                format!(
                    "duplicate peer id (same as {})",
                    child(&index(path, first), "peer_id")
                ),
            );
        }
    }
    ValidatorSet::new(validators).map_err(|e| JsonError::new(path, e.to_string()))
}

/// `{members, threshold}`.
pub fn council_to_json(c: &Council) -> Value {
    json!({
        "members": keys_to_json(&c.members),
        "threshold": c.threshold,
    })
}

pub fn council_from_json(v: &Value) -> Result<Council, JsonError> {
    council_at(v, "council", None)
}

pub(crate) fn council_at(
    v: &Value,
    path: &str,
    algo: Option<SigAlgo>,
) -> Result<Council, JsonError> {
    let f = object(v, path, &["members", "threshold"])?;
    let council = Council {
        members: f.req("members", |v, p| {
            key_set_at(v, p, lichen_contracts::model::COUNCIL_MEMBERS_MAX, algo)
        })?,
        threshold: f.req("threshold", u16_at)?,
    };
    validated(
        council.validate(),
        path,
        &[
            ("council members", "members"),
            ("council threshold", "threshold"),
        ],
    )?;
    Ok(council)
}

/// Every field by its Rust name (all durations in milliseconds, or counts).
pub fn chain_params_to_json(p: &ChainParams) -> Value {
    json!({
        "view_timeout_base_ms": p.view_timeout_base_ms,
        "view_timeout_step_ms": p.view_timeout_step_ms,
        "view_timeout_max_ms": p.view_timeout_max_ms,
        "block_interval_ms": p.block_interval_ms,
        "block_txs_max": p.block_txs_max,
        "block_bytes_max": p.block_bytes_max,
        "tx_expiry_blocks_max": p.tx_expiry_blocks_max,
    })
}

pub fn chain_params_from_json(v: &Value) -> Result<ChainParams, JsonError> {
    chain_params_at(v, "params")
}

pub(crate) fn chain_params_at(v: &Value, path: &str) -> Result<ChainParams, JsonError> {
    let f = object(
        v,
        path,
        &[
            "view_timeout_base_ms",
            "view_timeout_step_ms",
            "view_timeout_max_ms",
            "block_interval_ms",
            "block_txs_max",
            "block_bytes_max",
            "tx_expiry_blocks_max",
        ],
    )?;
    let params = ChainParams {
        view_timeout_base_ms: f.req("view_timeout_base_ms", u64_at)?,
        view_timeout_step_ms: f.req("view_timeout_step_ms", u64_at)?,
        view_timeout_max_ms: f.req("view_timeout_max_ms", u64_at)?,
        block_interval_ms: f.req("block_interval_ms", u64_at)?,
        block_txs_max: f.req("block_txs_max", u32_at)?,
        block_bytes_max: f.req("block_bytes_max", u32_at)?,
        tx_expiry_blocks_max: f.req("tx_expiry_blocks_max", u64_at)?,
    };
    validated(params.validate(), path, &[])?;
    Ok(params)
}

/// `{chain_id, suite, council, params}`.
pub fn chain_config_to_json(c: &ChainConfig) -> Value {
    json!({
        "chain_id": c.chain_id,
        "suite": c.suite.name(),
        "council": council_to_json(&c.council),
        "params": chain_params_to_json(&c.params),
    })
}

pub fn chain_config_from_json(v: &Value) -> Result<ChainConfig, JsonError> {
    chain_config_at(v, "config")
}

pub(crate) fn chain_config_at(v: &Value, path: &str) -> Result<ChainConfig, JsonError> {
    let f = object(v, path, &["chain_id", "suite", "council", "params"])?;
    let suite = f.req("suite", suite_at)?;
    let config = ChainConfig {
        chain_id: f.req("chain_id", string_at)?,
        suite,
        council: f.req("council", |v, p| council_at(v, p, Some(suite.sig_algo())))?,
        params: f.req("params", chain_params_at)?,
    };
    validated(config.validate(), path, &[("chain id", "chain_id")])?;
    Ok(config)
}

/// `{config, time_ms, time, validators, agencies, licence_types, submitters, observers}`.
pub fn genesis_to_json(g: &Genesis) -> Value {
    json!({
        "config": chain_config_to_json(&g.config),
        "time_ms": g.time_ms,
        "time": rfc3339_from_ms(g.time_ms),
        "validators": validators_to_json(&g.validators),
        "agencies": g.agencies.iter().map(agency_to_json).collect::<Vec<_>>(),
        "licence_types": g.licence_types.iter().map(licence_type_to_json).collect::<Vec<_>>(),
        "submitters": g.submitters.iter().map(submitter_to_json).collect::<Vec<_>>(),
        "observers": g.observers.iter().map(observer_to_json).collect::<Vec<_>>(),
    })
}
