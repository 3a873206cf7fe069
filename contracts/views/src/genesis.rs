//! The genesis file and trust-anchor files, both directions.

use std::collections::BTreeMap;

use lichen_contracts::genesis::{GENESIS_ENTRIES_MAX, Genesis};
use lichen_contracts::ids;
use lichen_contracts::model::*;
use lichen_contracts::presentation::TrustAnchor;
use serde_json::{Value, json};

use crate::error::*;
use crate::read::*;
use crate::text::*;
use crate::entities::*;


/// Reads a genesis and checks it as the node will (see the module documentation). Paths start at
/// `genesis`.
pub fn genesis_from_json(v: &Value) -> Result<Genesis, JsonError> {
    genesis_at(v, "genesis")
}

/// Finds the entry whose `field` repeats an earlier one's, as (later index, earlier index).
pub(crate) fn first_repeat<'a, T, K: Ord + ?Sized + 'a>(
    items: &'a [T],
    field: impl Fn(&'a T) -> &'a K,
) -> Option<(usize, usize)> {
    let mut seen: BTreeMap<&K, usize> = BTreeMap::new();
    items
        .iter()
        .enumerate()
        .find_map(|(i, item)| seen.insert(field(item), i).map(|first| (i, first)))
}

pub(crate) fn genesis_at(v: &Value, path: &str) -> Result<Genesis, JsonError> {
    let f = object(
        v,
        path,
        &[
            "config",
            "time_ms",
            "time",
            "validators",
            "agencies",
            "licence_types",
            "submitters",
            "observers",
        ],
    )?;
    let config = f.req("config", chain_config_at)?;
    let algo = Some(config.suite.sig_algo());
    let time_ms = f.time("time")?;
    let validators = f.req("validators", |v, p| validators_at(v, p, algo))?;
    let list = |name: &str| -> Result<(&[Value], String), JsonError> {
        f.req(name, |v, p| {
            Ok((array_at(v, p, GENESIS_ENTRIES_MAX)?, p.to_string()))
        })
    };

    let (items, at) = list("agencies")?;
    let agencies = items
        .iter()
        .enumerate()
        .map(|(i, item)| agency_at(item, &index(&at, i), algo))
        .collect::<Result<Vec<_>, _>>()?;
    if let Some((i, first)) = first_repeat(&agencies, |a| &a.id) {
        return err(
            &child(&index(&at, i), "id"),
            format!(
                "duplicate agency id {:?} (same as {})",
                agencies[i].id,
                child(&index(&at, first), "id")
            ),
        );
    }

    let (items, at) = list("licence_types")?;
    let licence_types = items
        .iter()
        .enumerate()
        .map(|(i, item)| licence_type_at(item, &index(&at, i)))
        .collect::<Result<Vec<_>, _>>()?;
    if let Some((i, first)) = first_repeat(&licence_types, |t| &t.code) {
        return err(
            &child(&index(&at, i), "code"),
            format!(
                "duplicate licence type code {:?} (same as {})",
                licence_types[i].code,
                child(&index(&at, first), "code")
            ),
        );
    }
    for (i, t) in licence_types.iter().enumerate() {
        if let Some(unknown) = t
            .authorised
            .iter()
            .find(|id| !agencies.iter().any(|a| &a.id == *id))
        {
            let list_path = child(&index(&at, i), "authorised");
            let pos = items[i]
                .get("authorised")
                .and_then(Value::as_array)
                .and_then(|raw| raw.iter().position(|x| x.as_str() == Some(unknown)));
            let place = pos.map_or(list_path.clone(), |k| index(&list_path, k));
            return err(
                &place,
                format!("unknown agency {unknown:?} (not in {path}.agencies)"),
            );
        }
    }

    let (items, at) = list("submitters")?;
    let submitters = items
        .iter()
        .enumerate()
        .map(|(i, item)| submitter_at(item, &index(&at, i), algo))
        .collect::<Result<Vec<_>, _>>()?;
    if let Some((i, first)) = first_repeat(&submitters, |s| &s.id) {
        return err(
            &child(&index(&at, i), "id"),
            format!(
                "duplicate submitter id {:?} (same as {})",
                submitters[i].id,
                child(&index(&at, first), "id")
            ),
        );
    }

    // Optional (a genesis from before observers has none); strict like the rest when present.
    let observers = f
        .opt("observers", |v, p| {
            let items = array_at(v, p, GENESIS_ENTRIES_MAX)?;
            let observers = items
                .iter()
                .enumerate()
                .map(|(i, item)| observer_at(item, &index(p, i)))
                .collect::<Result<Vec<_>, _>>()?;
            if let Some((i, first)) = first_repeat(&observers, |o| o.peer_id.as_slice()) {
                return err(
                    &child(&index(p, i), "peer_id"),
                    format!(
                        "duplicate peer id (same as {})",
                        child(&index(p, first), "peer_id")
                    ),
                );
            }
            for (i, o) in observers.iter().enumerate() {
                if let Some(v) = validators
                    .validators
                    .iter()
                    .find(|v| v.peer_id == o.peer_id)
                {
                    return err(
                        &child(&index(p, i), "peer_id"),
                        format!(
                            "peer id already used by validator {:?} (in {path}.validators)",
                            v.name
                        ),
                    );
                }
            }
            Ok(observers)
        })?
        .unwrap_or_default();

    let genesis = Genesis {
        config,
        time_ms,
        validators,
        agencies,
        licence_types,
        submitters,
        observers,
    };
    // Everything above should have caught what the node refuses; this is the node's own check.
    genesis
        .state_writes()
        .map_err(|e| JsonError::new(path, format!("refused as a genesis: {e}")))?;
    Ok(genesis)
}

/// Parses a genesis file (strict JSON: no repeated keys) and checks it.
pub fn genesis_from_json_str(text: &str) -> Result<Genesis, JsonError> {
    genesis_from_json(&parse_json_strict(text, "genesis")?)
}

/// The genesis file: pretty JSON, fields in alphabetical order, with a final newline.
pub fn genesis_to_json_string(g: &Genesis) -> String {
    to_pretty_string(&genesis_to_json(g))
}

/// `{chain_id, suite, height, validators}` (validators as in the genesis).
pub fn trust_anchor_to_json(a: &TrustAnchor) -> Value {
    json!({
        "chain_id": a.chain_id,
        "suite": a.suite.name(),
        "height": a.height,
        "validators": validators_to_json(&a.validators),
    })
}

pub fn trust_anchor_from_json(v: &Value) -> Result<TrustAnchor, JsonError> {
    trust_anchor_at(v, "anchor")
}

pub(crate) fn trust_anchor_at(v: &Value, path: &str) -> Result<TrustAnchor, JsonError> {
    let f = object(v, path, &["chain_id", "suite", "height", "validators"])?;
    let suite = f.req("suite", suite_at)?;
    let chain_id = f.req("chain_id", |v, p| {
        let id = string_at(v, p)?;
        ids::check_identifier("chain id", &id, CHAIN_ID_LEN_MAX)
            .map_err(|e| JsonError::new(p, e.to_string()))?;
        Ok(id)
    })?;
    Ok(TrustAnchor {
        chain_id,
        suite,
        height: f.req("height", u64_at)?,
        validators: f.req("validators", |v, p| {
            validators_at(v, p, Some(suite.sig_algo()))
        })?,
    })
}

/// Parses a trust-anchor file (strict JSON); paths start at `anchor`.
pub fn trust_anchor_from_json_str(text: &str) -> Result<TrustAnchor, JsonError> {
    trust_anchor_from_json(&parse_json_strict(text, "anchor")?)
}

/// A trust-anchor file: pretty JSON with a final newline.
pub fn trust_anchor_to_json_string(a: &TrustAnchor) -> String {
    to_pretty_string(&trust_anchor_to_json(a))
}
