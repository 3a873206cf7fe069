//! `lichen genesis ...`: build the genesis file step by step. The file is JSON (see the node's
//! `json` module); edits work on the JSON, and `show`, `hash` and `node run` check the whole
//! genesis as the node will.

use std::path::Path;

use anyhow::{Context, Result, bail};
use lichen_contracts::crypto::Suite;
use lichen_contracts::genesis::Genesis;
use lichen_contracts::model::ChainParams;
use lichen_node::json;
use serde_json::{Value, json};

use super::keys::parse_public_key_arg;

pub fn read_json(path: &Path) -> Result<Value> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read the genesis file {}", path.display()))?;
    serde_json::from_str(&text).with_context(|| format!("{} is not JSON", path.display()))
}

fn write_json(path: &Path, v: &Value) -> Result<()> {
    let tmp = path.with_extension("json.tmp");
    std::fs::write(&tmp, json::to_pretty_string(v) + "\n")
        .with_context(|| format!("cannot write {}", tmp.display()))?;
    std::fs::rename(&tmp, path).with_context(|| format!("cannot replace {}", path.display()))
}

/// Loads and fully checks a genesis file.
pub fn load(path: &Path) -> Result<Genesis> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read the genesis file {}", path.display()))?;
    json::genesis_from_json_str(&text)
        .with_context(|| format!("{} is not a valid genesis", path.display()))
}

pub fn new(path: &Path, chain_id: &str, suite: Suite, time_ms: u64, force: bool) -> Result<()> {
    if path.exists() && !force {
        bail!(
            "{} already exists (use --force to replace it)",
            path.display()
        );
    }
    let v = json!({
        "config": {
            "chain_id": chain_id,
            "suite": suite.name(),
            "council": { "members": [], "threshold": 1 },
            "params": json::chain_params_to_json(&ChainParams::DEFAULT),
        },
        "time_ms": time_ms,
        "validators": [],
        "agencies": [],
        "licence_types": [],
        "submitters": [],
    });
    write_json(path, &v)
}

fn array<'a>(v: &'a mut Value, path: &[&str]) -> Result<&'a mut Vec<Value>> {
    let mut cur = v;
    for p in path {
        cur = cur
            .get_mut(*p)
            .with_context(|| format!("the genesis file has no '{}'", path.join(".")))?;
    }
    cur.as_array_mut()
        .with_context(|| format!("'{}' is not a list", path.join(".")))
}

fn push_unique(list: &mut Vec<Value>, id_field: &str, item: Value) -> Result<()> {
    let id = &item[id_field];
    if list.iter().any(|x| &x[id_field] == id) {
        bail!("the genesis already has an entry with {id_field} {id}");
    }
    list.push(item);
    Ok(())
}

fn key_strings(keys: &[String]) -> Result<Vec<Value>> {
    keys.iter()
        .map(|k| {
            Ok(Value::String(json::public_key_string(
                &parse_public_key_arg(k)?,
            )))
        })
        .collect()
}

pub fn add_council(path: &Path, keys: &[String], threshold: Option<u16>) -> Result<()> {
    let mut v = read_json(path)?;
    let members = array(&mut v, &["config", "council", "members"])?;
    for k in key_strings(keys)? {
        if members.contains(&k) {
            bail!("{k} is already a council member");
        }
        members.push(k);
    }
    if let Some(t) = threshold {
        v["config"]["council"]["threshold"] = json!(t);
    }
    write_json(path, &v)
}

pub fn add_validator(path: &Path, name: &str, key: &str, peer_id: Option<&str>) -> Result<()> {
    let mut v = read_json(path)?;
    let key = json::public_key_string(&parse_public_key_arg(key)?);
    let peer = match peer_id {
        Some(p) => {
            json::parse_hex(p).map_err(|e| anyhow::anyhow!("--peer-id is not hex: {e}"))?;
            p.to_string()
        }
        // Until the validator's network identity is known, its name stands in (the network
        // layer replaces it with the libp2p peer id).
        None => json::hex_string(name.as_bytes()),
    };
    let list = array(&mut v, &["validators"])?;
    if list.iter().any(|x| x["key"] == json!(key)) {
        bail!("{key} is already a validator");
    }
    push_unique(
        list,
        "name",
        json!({ "name": name, "key": key, "peer_id": peer }),
    )?;
    write_json(path, &v)
}

pub fn add_agency(path: &Path, id: &str, name: &str, keys: &[String]) -> Result<()> {
    add_entity(path, "agencies", id, name, keys)
}

pub fn add_submitter(path: &Path, id: &str, name: &str, keys: &[String]) -> Result<()> {
    add_entity(path, "submitters", id, name, keys)
}

/// Agencies and submitters have the same shape: id, name, keys, status.
fn add_entity(path: &Path, list: &str, id: &str, name: &str, keys: &[String]) -> Result<()> {
    let mut v = read_json(path)?;
    let keys = key_strings(keys)?;
    push_unique(
        array(&mut v, &[list])?,
        "id",
        json!({ "id": id, "name": name, "keys": keys, "status": "active" }),
    )?;
    write_json(path, &v)
}

pub fn add_licence_type(path: &Path, code: &str, name: &str, agencies: &[String]) -> Result<()> {
    let mut v = read_json(path)?;
    let known: Vec<Value> = array(&mut v, &["agencies"])?
        .iter()
        .map(|a| a["id"].clone())
        .collect();
    if let Some(missing) = agencies.iter().find(|a| !known.contains(&json!(a))) {
        bail!(
            "agency '{missing}' is not in the genesis; add it first with `lichen genesis add-agency`"
        );
    }
    push_unique(
        array(&mut v, &["licence_types"])?,
        "code",
        json!({ "code": code, "name": name, "authorised": agencies }),
    )?;
    write_json(path, &v)
}
