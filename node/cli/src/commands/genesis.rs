//! `lichen genesis ...`: build the genesis file step by step. The file is JSON (see the node's
//! `json` module); edits work on the JSON, and `show`, `hash` and `node run` check the whole
//! genesis as the node will.

use std::path::{Path, PathBuf};
use std::str::FromStr;

use anyhow::{Context, Result, bail};
use clap::Subcommand;
use lichen_contracts::codec::Encode;
use lichen_contracts::crypto::Suite;
use lichen_contracts::genesis::Genesis;
use lichen_contracts::model::ChainParams;
use lichen_views as views;
use serde_json::{Value, json};

use super::keys::parse_public_key_arg;
use crate::args::SuiteArg;
use crate::ops::write_file;
use crate::output::out;
use crate::time::parse_time_or_now;

#[derive(Subcommand, Debug)]
pub enum GenesisCommand {
    /// Start a genesis file.
    New {
        /// Where to write the genesis file.
        #[arg(short, long, default_value = "genesis.json")]
        out: PathBuf,
        /// The chain's id (1-64 characters of A-Z a-z 0-9 . _ - : /); every transaction names
        /// it.
        #[arg(long)]
        chain_id: String,
        /// The chain's crypto suite, fixed at genesis: sm (SM3 hashes, SM2 keys) or intl
        /// (SHA-256 hashes, Ed25519 keys).
        #[arg(long, value_enum, default_value = "sm")]
        suite: SuiteArg,
        /// Genesis time: 2026-01-31 (midnight UTC), 2026-01-31T08:00:00Z or Unix milliseconds
        /// (default: now).
        #[arg(long)]
        time: Option<String>,
        /// Replace an existing file.
        #[arg(long)]
        force: bool,
    },
    /// Add council members (public keys or .pub files) and optionally set the threshold.
    AddCouncil {
        /// The genesis file to edit.
        #[arg(short, long, default_value = "genesis.json")]
        genesis: PathBuf,
        /// A council member's public key (`sm2:<hex>`, `ed25519:<hex>` or a `.pub` file); repeat
        /// for several (at most 32 members in all).
        #[arg(long = "key", required = true)]
        keys: Vec<String>,
        /// How many members must sign a council transaction (1 to the number of members;
        /// unchanged if absent, 1 in a new file).
        #[arg(long)]
        threshold: Option<u16>,
    },
    /// Add a validator: a consensus key that signs blocks, and the network peer id of its node.
    AddValidator {
        /// The genesis file to edit.
        #[arg(short, long, default_value = "genesis.json")]
        genesis: PathBuf,
        /// The validator's name, for people (unique among the validators).
        #[arg(long)]
        name: String,
        /// The validator's consensus public key (`sm2:<hex>`, `ed25519:<hex>` or a `.pub` file).
        #[arg(long)]
        key: String,
        /// The validator's network peer id: a libp2p peer id (base58) or hex (default: its
        /// name's bytes).
        #[arg(long)]
        peer_id: Option<String>,
    },
    /// Add an observer: a non-voting node the validators' network admits by its peer id.
    AddObserver {
        /// The genesis file to edit.
        #[arg(short, long, default_value = "genesis.json")]
        genesis: PathBuf,
        /// The observer's name, for people.
        #[arg(long)]
        name: String,
        /// The observer's network peer id: a libp2p peer id (base58) or hex.
        #[arg(long)]
        peer_id: String,
    },
    /// Add an agency that issues licences (active from genesis).
    AddAgency {
        /// The genesis file to edit.
        #[arg(short, long, default_value = "genesis.json")]
        genesis: PathBuf,
        /// The agency's id (1-64 characters of A-Z a-z 0-9 . _ - : /; unique in the genesis).
        #[arg(long)]
        id: String,
        /// Its name, for people.
        #[arg(long)]
        name: String,
        /// A public key of the agency (`sm2:<hex>`, `ed25519:<hex>` or a `.pub` file); repeat
        /// for several (at most 16).
        #[arg(long = "key", required = true)]
        keys: Vec<String>,
    },
    /// Add a licence type and the agencies that may issue it (add the agencies first).
    AddLicenceType {
        /// The genesis file to edit.
        #[arg(short, long, default_value = "genesis.json")]
        genesis: PathBuf,
        /// The type's code (1-64 characters of A-Z a-z 0-9 . _ - : /; unique in the genesis).
        #[arg(long)]
        code: String,
        /// Its name, for people.
        #[arg(long)]
        name: String,
        /// An agency id authorised to issue it (already in the genesis); repeat for several.
        #[arg(long = "agency", required = true)]
        agencies: Vec<String>,
    },
    /// Add an evidence submitter (a court, a notary) that anchors document hashes (active from
    /// genesis).
    AddSubmitter {
        /// The genesis file to edit.
        #[arg(short, long, default_value = "genesis.json")]
        genesis: PathBuf,
        /// The submitter's id (1-64 characters of A-Z a-z 0-9 . _ - : /; unique in the genesis).
        #[arg(long)]
        id: String,
        /// Its name, for people.
        #[arg(long)]
        name: String,
        /// A public key of the submitter (`sm2:<hex>`, `ed25519:<hex>` or a `.pub` file); repeat
        /// for several (at most 16).
        #[arg(long = "key", required = true)]
        keys: Vec<String>,
    },
    /// Check the genesis and print it.
    Show {
        /// The genesis file.
        #[arg(default_value = "genesis.json")]
        genesis: PathBuf,
    },
    /// Check the genesis and print its hash and trust-anchor fingerprint.
    Hash {
        /// The genesis file.
        #[arg(default_value = "genesis.json")]
        genesis: PathBuf,
    },
    /// Write the genesis trust anchor (binary) for offline verifiers.
    Anchor {
        /// The genesis file.
        #[arg(default_value = "genesis.json")]
        genesis: PathBuf,
        /// Where to write the trust anchor (binary; give it to verifiers as `--trust`).
        #[arg(short, long)]
        out: PathBuf,
    },
}

/// `lichen genesis ...`.
pub fn run(command: GenesisCommand, as_json: bool) -> Result<()> {
    // What changed, as text or (with --json) as one object.
    let said = |text: String, v: Value| {
        if as_json {
            out!("{v}");
        } else {
            out!("{text}");
        }
    };
    let added = |file: &Path, kind: &str, id: &str| {
        said(
            format!("added {kind} {id} to {}", file.display()),
            json!({ "file": file.display().to_string(), "added": kind, "id": id }),
        );
    };
    match command {
        GenesisCommand::New {
            out,
            chain_id,
            suite,
            time,
            force,
        } => {
            let suite = Suite::from(suite);
            let time_ms = parse_time_or_now(time.as_deref())?;
            new(&out, &chain_id, suite, time_ms, force)?;
            said(
                format!(
                    "wrote {}; add council members, validators, agencies and licence types next",
                    out.display()
                ),
                json!({
                    "file": out.display().to_string(),
                    "chain_id": chain_id,
                    "suite": suite.name(),
                    "time_ms": time_ms,
                }),
            );
        }
        GenesisCommand::AddCouncil {
            genesis,
            keys,
            threshold,
        } => {
            add_council(&genesis, &keys, threshold)?;
            let council = &read_json(&genesis)?["council"];
            said(
                format!(
                    "the council of {} is {} members, threshold {}",
                    genesis.display(),
                    council["members"].as_array().map_or(0, Vec::len),
                    council["threshold"]
                ),
                json!({ "file": genesis.display().to_string(), "council": council }),
            );
        }
        GenesisCommand::AddValidator {
            genesis,
            name,
            key,
            peer_id,
        } => {
            add_validator(&genesis, &name, &key, peer_id.as_deref())?;
            added(&genesis, "validator", &name);
        }
        GenesisCommand::AddObserver {
            genesis,
            name,
            peer_id,
        } => {
            add_observer(&genesis, &name, &peer_id)?;
            added(&genesis, "observer", &name);
        }
        GenesisCommand::AddAgency {
            genesis,
            id,
            name,
            keys,
        } => {
            add_agency(&genesis, &id, &name, &keys)?;
            added(&genesis, "agency", &id);
        }
        GenesisCommand::AddLicenceType {
            genesis,
            code,
            name,
            agencies,
        } => {
            add_licence_type(&genesis, &code, &name, &agencies)?;
            added(&genesis, "licence type", &code);
        }
        GenesisCommand::AddSubmitter {
            genesis,
            id,
            name,
            keys,
        } => {
            add_submitter(&genesis, &id, &name, &keys)?;
            added(&genesis, "submitter", &id);
        }
        GenesisCommand::Show { genesis } => {
            let loaded = load(&genesis)?;
            out!("{}", views::genesis_to_json_string(&loaded).trim_end());
        }
        GenesisCommand::Hash { genesis } => {
            let loaded = load(&genesis)?;
            said(
                loaded.hash().to_string(),
                json!({
                    "chain_id": loaded.config.chain_id,
                    "genesis_hash": loaded.hash().to_hex(),
                    "trust_anchor_hash": loaded.trust_anchor().hash().to_hex(),
                }),
            );
        }
        GenesisCommand::Anchor { genesis, out } => {
            let loaded = load(&genesis)?;
            let anchor = loaded.trust_anchor();
            write_file(&out, &anchor.to_bytes())?;
            said(
                format!("wrote {} (trust anchor {})", out.display(), anchor.hash()),
                json!({
                    "file": out.display().to_string(),
                    "trust_anchor_hash": anchor.hash().to_hex(),
                }),
            );
        }
    }
    Ok(())
}

pub fn read_json(path: &Path) -> Result<Value> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read the genesis file {}", path.display()))?;
    serde_json::from_str(&text).with_context(|| format!("{} is not JSON", path.display()))
}

fn write_json(path: &Path, v: &Value) -> Result<()> {
    let tmp = path.with_extension("json.tmp");
    std::fs::write(&tmp, views::to_pretty_string(v) + "\n")
        .with_context(|| format!("cannot write {}", tmp.display()))?;
    std::fs::rename(&tmp, path).with_context(|| format!("cannot replace {}", path.display()))
}

/// Loads and fully checks a genesis file.
pub fn load(path: &Path) -> Result<Genesis> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read the genesis file {}", path.display()))?;
    views::genesis_from_json_str(&text)
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
            "params": views::chain_params_to_json(&ChainParams::DEFAULT),
        },
        "time_ms": time_ms,
        "validators": [],
        "agencies": [],
        "licence_types": [],
        "submitters": [],
        "observers": [],
    });
    write_json(path, &v)
}

/// A peer id from the command line: a libp2p `PeerId` in its usual base58 form (`12D3KooW...`),
/// or else the peer id's bytes in hex. Returns the bytes the chain keeps (the binary multihash).
pub fn parse_peer_id(s: &str) -> Result<Vec<u8>> {
    if let Ok(peer) = libp2p::PeerId::from_str(s) {
        return Ok(peer.to_bytes());
    }
    let bytes = views::parse_hex(s).map_err(|e| {
        anyhow::anyhow!("not a peer id: neither a libp2p peer id (base58) nor hex ({e})")
    })?;
    lichen_contracts::model::check_peer_id(&bytes).context("not a peer id")?;
    Ok(bytes)
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
            Ok(Value::String(views::public_key_string(
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
    let key = views::public_key_string(&parse_public_key_arg(key)?);
    let peer = match peer_id {
        Some(p) => views::hex_string(&parse_peer_id(p).context("--peer-id")?),
        // Until the validator's network identity is known, its name stands in (the network
        // layer replaces it with the libp2p peer id).
        None => views::hex_string(name.as_bytes()),
    };
    if let Some(observers) = v.get("observers").and_then(Value::as_array)
        && observers.iter().any(|o| has_peer_id(o, &peer))
    {
        bail!("peer id {peer} is already used by an observer");
    }
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

/// Adds an observer (a non-voting node the network admits by its peer id); creates the
/// `observers` list if the file has none.
pub fn add_observer(path: &Path, name: &str, peer_id: &str) -> Result<()> {
    let mut v = read_json(path)?;
    let peer = views::hex_string(&parse_peer_id(peer_id).context("--peer-id")?);
    if let Some(validators) = v.get("validators").and_then(Value::as_array)
        && let Some(val) = validators.iter().find(|x| has_peer_id(x, &peer))
    {
        bail!(
            "peer id {peer} is already used by validator {}",
            val["name"]
        );
    }
    let Some(obj) = v.as_object_mut() else {
        bail!("{} is not a JSON object", path.display());
    };
    let list = obj.entry("observers").or_insert_with(|| json!([]));
    let Some(list) = list.as_array_mut() else {
        bail!("'observers' is not a list");
    };
    if list.iter().any(|o| has_peer_id(o, &peer)) {
        bail!("peer id {peer} is already an observer");
    }
    list.push(json!({ "name": name, "peer_id": peer }));
    write_json(path, &v)
}

/// Whether a validator or observer entry has this peer id (`peer` in lower-case hex; the file
/// may use either case).
fn has_peer_id(entry: &Value, peer: &str) -> bool {
    entry["peer_id"]
        .as_str()
        .is_some_and(|p| p.eq_ignore_ascii_case(peer))
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

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use lichen_contracts::testkit::test_key;

    use super::*;

    fn libp2p_peer() -> libp2p::PeerId {
        libp2p::identity::Keypair::ed25519_from_bytes([7u8; 32])
            .unwrap()
            .public()
            .to_peer_id()
    }

    #[test]
    fn peer_ids_parse_as_base58_or_hex() {
        let peer = libp2p_peer();
        let bytes = parse_peer_id(&peer.to_base58()).unwrap();
        assert_eq!(bytes, peer.to_bytes());
        assert_eq!(bytes.len(), 38, "an Ed25519 identity peer id");
        assert_eq!(parse_peer_id(&views::hex_string(&bytes)).unwrap(), bytes);
        assert_eq!(parse_peer_id("70656572").unwrap(), b"peer");
        assert_eq!(parse_peer_id("ABCD").unwrap(), [0xab, 0xcd]);
        for bad in ["", "not a peer", "abc", &"ab".repeat(65)] {
            assert!(parse_peer_id(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn add_observer_edits_and_checks_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("genesis.json");
        new(&path, "obs-test", Suite::Intl, 1_767_225_600_000, false).unwrap();
        let council = views::public_key_string(&test_key(Suite::Intl, "council").public_key());
        add_council(&path, &[council], Some(1)).unwrap();
        let validator = views::public_key_string(&test_key(Suite::Intl, "v1").public_key());
        add_validator(&path, "v1", &validator, Some("7631")).unwrap();
        let peer = libp2p_peer();
        add_observer(&path, "archive-1", &peer.to_base58()).unwrap();
        // A repeated peer id (in either form) and a validator's peer id are refused.
        let err = add_observer(&path, "again", &views::hex_string(&peer.to_bytes())).unwrap_err();
        assert!(err.to_string().contains("already an observer"), "{err:#}");
        let err = add_observer(&path, "v", "7631").unwrap_err();
        assert!(
            err.to_string().contains("already used by validator"),
            "{err:#}"
        );
        let other = test_key(Suite::Intl, "v2").public_key();
        let err = add_validator(
            &path,
            "v2",
            &views::public_key_string(&other),
            Some(&peer.to_base58()),
        )
        .unwrap_err();
        assert!(
            err.to_string().contains("already used by an observer"),
            "{err:#}"
        );
        let g = load(&path).unwrap();
        assert_eq!(g.observers.len(), 1);
        assert_eq!(g.observers[0].name, "archive-1");
        assert_eq!(g.observers[0].peer_id, peer.to_bytes());
        assert_eq!(g.validators.validators[0].peer_id, b"v1");

        // A file from before observers existed gets the list.
        let mut v = read_json(&path).unwrap();
        v.as_object_mut().unwrap().remove("observers");
        write_json(&path, &v).unwrap();
        assert!(load(&path).unwrap().observers.is_empty());
        add_observer(&path, "archive-2", "0a0b").unwrap();
        assert_eq!(load(&path).unwrap().observers[0].peer_id, [0x0a, 0x0b]);
    }
}
