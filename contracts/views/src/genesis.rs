//! The genesis file and trust-anchor files, both directions.

use lichen_contracts::genesis::{GENESIS_ENTRIES_MAX, Genesis, GenesisError, GenesisPlace};
use lichen_contracts::ids;
use lichen_contracts::ledger::TxError;
use lichen_contracts::model::*;
use lichen_contracts::presentation::TrustAnchor;
use serde_json::{Value, json};

use crate::entities::*;
use crate::error::*;
use crate::read::*;
use crate::text::*;

/// Reads a genesis and checks it as the node will (see the module documentation). Paths start at
/// `genesis`.
pub fn genesis_from_json(v: &Value) -> Result<Genesis, JsonError> {
    genesis_at(v, "genesis")
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
    // Each entry is read (and its own `validate()` run) here; the rules across entries are
    // `Genesis::validate`'s, placed at the entry it names.
    fn entries<T>(
        f: &Fields<'_>,
        name: &str,
        read: impl Fn(&Value, &str) -> Result<T, JsonError>,
    ) -> Result<Vec<T>, JsonError> {
        f.req(name, |v, p| {
            array_at(v, p, GENESIS_ENTRIES_MAX)?
                .iter()
                .enumerate()
                .map(|(i, item)| read(item, &index(p, i)))
                .collect()
        })
    }
    let agencies = entries(&f, "agencies", |v, p| agency_at(v, p, algo))?;
    let licence_types = entries(&f, "licence_types", licence_type_at)?;
    let submitters = entries(&f, "submitters", |v, p| submitter_at(v, p, algo))?;
    // Optional (a genesis from before observers has none); strict like the rest when present.
    let observers = f
        .opt("observers", |v, p| {
            array_at(v, p, GENESIS_ENTRIES_MAX)?
                .iter()
                .enumerate()
                .map(|(i, item)| observer_at(item, &index(p, i)))
                .collect::<Result<Vec<_>, _>>()
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
    genesis.validate().map_err(|e| placed(&e, v, path))?;
    Ok(genesis)
}

/// A genesis refusal at the JSON path of the entry it names, in words that point at the entry
/// it repeats.
fn placed(e: &GenesisError, raw: &Value, path: &str) -> JsonError {
    use GenesisPlace as At;
    let entry = |list: &str, i: usize| index(&child(path, list), i);
    let repeat = |list: &str, field: &str, what: String| -> JsonError {
        let (i, first) = match (e.place, e.same_as) {
            (
                At::Agency { index: i }
                | At::Submitter { index: i }
                | At::LicenceType { index: i }
                | At::Observer { index: i },
                Some(first),
            ) => (i, first),
            _ => return JsonError::new(path, format!("refused as a genesis: {e}")),
        };
        JsonError::new(
            child(&entry(list, i), field),
            format!("{what} (same as {})", child(&entry(list, first), field)),
        )
    };
    match (&e.error, e.place) {
        (TxError::AgencyExists { id }, _) => {
            repeat("agencies", "id", format!("duplicate agency id {id:?}"))
        }
        (TxError::SubmitterExists { id }, _) => {
            repeat("submitters", "id", format!("duplicate submitter id {id:?}"))
        }
        (TxError::LicenceTypeExists { code }, _) => repeat(
            "licence_types",
            "code",
            format!("duplicate licence type code {code:?}"),
        ),
        (TxError::ObserverExists { .. }, _) => {
            repeat("observers", "peer_id", "duplicate peer id".to_string())
        }
        (TxError::PeerIdInUse { name }, At::Observer { index: i }) => JsonError::new(
            child(&entry("observers", i), "peer_id"),
            format!("peer id already used by validator {name:?} (in {path}.validators)"),
        ),
        (TxError::UnknownAgency { id }, At::Authorised { index: i, .. }) => {
            // The list was sorted when read: point at the id where the file has it.
            let list = child(&entry("licence_types", i), "authorised");
            let at = raw["licence_types"][i]["authorised"]
                .as_array()
                .and_then(|raw| raw.iter().position(|x| x.as_str() == Some(id)))
                .map_or(list.clone(), |k| index(&list, k));
            JsonError::new(
                at,
                format!("unknown agency {id:?} (not in {path}.agencies)"),
            )
        }
        _ => JsonError::new(path, format!("refused as a genesis: {e}")),
    }
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
        "genesis_hash": a.genesis_hash.to_hex(),
        "height": a.height,
        "validators": validators_to_json(&a.validators),
    })
}

pub fn trust_anchor_from_json(v: &Value) -> Result<TrustAnchor, JsonError> {
    trust_anchor_at(v, "anchor")
}

pub(crate) fn trust_anchor_at(v: &Value, path: &str) -> Result<TrustAnchor, JsonError> {
    let f = object(
        v,
        path,
        &["chain_id", "suite", "genesis_hash", "height", "validators"],
    )?;
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
        genesis_hash: f.req("genesis_hash", hash_at)?,
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
