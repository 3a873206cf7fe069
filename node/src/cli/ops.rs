//! Commands that talk to a node: sign locally, submit over HTTP, wait for finality; queries;
//! exports. And `verify`, which talks to nobody.

use std::path::Path;

use anyhow::{Context, Result, anyhow, bail};
use lichen_contracts::codec::{Decode, Encode};
use lichen_contracts::crypto::{Hash32, SecretKey, SigAlgo, Suite};
use lichen_contracts::genesis::Genesis;
use lichen_contracts::presentation::{Outcome, Report, TRUST_ANCHOR_TAG, TrustAnchor, Verdict};
use lichen_contracts::tx::{Payload, SignedTransaction, Transaction, TxSignature};
use lichen_node::client::Client;
use lichen_node::json;
use serde_json::{Value, json};

use super::keys::random;

/// Blocks ahead a transaction made here may be included (within the chain's limit).
pub const TX_EXPIRY_BLOCKS: u64 = 100;

/// What the CLI needs to know of the chain to sign for it.
pub struct ChainInfo {
    pub chain_id: String,
    pub suite: Suite,
    pub height: u64,
    pub expiry_blocks_max: u64,
}

pub fn chain_info(client: &Client) -> Result<ChainInfo> {
    let s = client.get_json("/v1/status")?;
    let suite = s["suite"]
        .as_str()
        .and_then(Suite::from_name)
        .ok_or_else(|| anyhow!("the node's status names no known suite: {s}"))?;
    Ok(ChainInfo {
        chain_id: s["chain_id"].as_str().unwrap_or_default().to_string(),
        suite,
        height: s["height"].as_u64().unwrap_or(0),
        expiry_blocks_max: s["tx_expiry_blocks_max"]
            .as_u64()
            .unwrap_or(TX_EXPIRY_BLOCKS),
    })
}

/// A transaction for `info`'s chain with a random nonce, signed by `keys`.
pub fn sign(info: &ChainInfo, payload: Payload, keys: &[&SecretKey]) -> Result<SignedTransaction> {
    let tx = Transaction {
        chain_id: info.chain_id.clone(),
        nonce: u64::from_be_bytes(random::<8>()?),
        expires_at_height: info.height + TX_EXPIRY_BLOCKS.min(info.expiry_blocks_max),
        payload,
    };
    for key in keys {
        if key.algo() != info.suite.sig_algo() {
            bail!(
                "the key is {} but chain '{}' uses {} ({} suite)",
                key.algo().name(),
                info.chain_id,
                info.suite.sig_algo().name(),
                info.suite.name()
            );
        }
    }
    let signatures = keys
        .iter()
        .map(|k| TxSignature {
            key: k.public_key(),
            signature: k.sign(tx.id(info.suite).as_bytes()),
        })
        .collect();
    Ok(SignedTransaction { tx, signatures })
}

/// Submits and waits for finality; the node's receipt.
pub fn submit(client: &Client, tx: &SignedTransaction) -> Result<Value> {
    let (_, body) = client
        .post_bytes(
            "/v1/transactions?wait=final&timeout_ms=30000",
            &tx.to_bytes(),
        )
        .context("the transaction was not committed")?;
    Ok(body)
}

pub fn print_receipt(receipt: &Value, as_json: bool, what: &str) {
    if as_json {
        out!("{}", json::to_pretty_string(receipt));
    } else {
        out!(
            "{what}: final in block {} at {}\ntransaction {}",
            receipt["height"],
            receipt["block_time"].as_str().unwrap_or("?"),
            receipt["id"].as_str().unwrap_or("?")
        );
    }
}

pub fn hash_file(suite: Suite, path: &Path) -> Result<Hash32> {
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    Ok(suite.digest(&bytes))
}

/// A time given as milliseconds, `YYYY-MM-DD` (midnight UTC) or RFC 3339 UTC.
pub fn parse_time(text: &str) -> Result<u64> {
    if let Ok(ms) = text.parse::<u64>() {
        return Ok(ms);
    }
    let full = if text.len() == 10 {
        format!("{text}T00:00:00Z")
    } else {
        text.to_string()
    };
    json::parse_rfc3339_ms(&full).map_err(|e| {
        anyhow!(
            "'{text}' is not a time (use 2026-01-31, 2026-01-31T08:00:00Z or milliseconds): {e}"
        )
    })
}

/// A duration like `90s`, `15m`, `24h`, `7d` or plain milliseconds.
pub fn parse_duration_ms(text: &str) -> Result<u64> {
    let (num, unit) = text.split_at(
        text.find(|c: char| !c.is_ascii_digit())
            .unwrap_or(text.len()),
    );
    let n: u64 = num
        .parse()
        .map_err(|_| anyhow!("'{text}' is not a duration (e.g. 90s, 15m, 24h, 7d)"))?;
    let mult = match unit {
        "" | "ms" => 1,
        "s" => 1_000,
        "m" => 60_000,
        "h" => 3_600_000,
        "d" => 86_400_000,
        _ => bail!("'{text}': unknown unit '{unit}' (ms, s, m, h, d)"),
    };
    Ok(n.saturating_mul(mult))
}

/// The trust anchor from a genesis JSON file, a trust anchor JSON file, or an encoded anchor.
pub fn load_trust(path: &Path) -> Result<TrustAnchor> {
    let bytes = std::fs::read(path)
        .with_context(|| format!("cannot read the trust file {}", path.display()))?;
    if bytes.first() == Some(&TRUST_ANCHOR_TAG) {
        return TrustAnchor::from_bytes(&bytes)
            .map_err(|e| anyhow!("{} is not a valid trust anchor: {e}", path.display()));
    }
    let text = String::from_utf8(bytes)
        .map_err(|_| anyhow!("{} is neither a trust anchor nor JSON", path.display()))?;
    let v: Value = serde_json::from_str(&text)
        .with_context(|| format!("{} is neither a trust anchor nor JSON", path.display()))?;
    if v.get("config").is_some() {
        let g: Genesis = json::genesis_from_json_str(&text)
            .with_context(|| format!("{} is not a valid genesis", path.display()))?;
        return Ok(g.trust_anchor());
    }
    json::trust_anchor_from_json_str(&text)
        .with_context(|| format!("{} is not a valid trust anchor", path.display()))
}

pub fn print_report(report: &Report, as_json: bool) {
    if as_json {
        out!("{}", json::to_pretty_string(&json::report_to_json(report)));
        return;
    }
    out!("{}", report.verdict.name());
    for c in &report.checks {
        let mark = match c.outcome {
            Outcome::Pass => "pass",
            Outcome::Fail => "FAIL",
            Outcome::Skipped => "skip",
        };
        out!("  [{mark}] {:<18} {}", c.id.name(), c.detail);
    }
    if let Some(ms) = report.status_as_of_ms {
        out!(
            "status as of {} (block {})",
            json::rfc3339_from_ms(ms),
            report.height.unwrap_or(0)
        );
    }
}

/// Exit status for a verdict: 0 when the document is good.
pub fn verdict_exit_code(v: Verdict) -> i32 {
    match v {
        Verdict::Valid | Verdict::Anchored => 0,
        _ => 1,
    }
}

pub fn print_value(v: &Value, as_json: bool) {
    if as_json {
        out!("{}", json::to_pretty_string(v));
    } else {
        print_human(v, 0);
    }
}

/// Indented `key: value` lines, for people.
fn print_human(v: &Value, indent: usize) {
    let pad = "  ".repeat(indent);
    match v {
        Value::Object(map) => {
            for (k, val) in map {
                match val {
                    Value::Object(_) | Value::Array(_) if !is_empty(val) => {
                        out!("{pad}{k}:");
                        print_human(val, indent + 1);
                    }
                    _ => out!("{pad}{k}: {}", scalar(val)),
                }
            }
        }
        Value::Array(items) => {
            for item in items {
                match item {
                    Value::Object(_) | Value::Array(_) => {
                        out!("{pad}-");
                        print_human(item, indent + 1);
                    }
                    _ => out!("{pad}- {}", scalar(item)),
                }
            }
        }
        other => out!("{pad}{}", scalar(other)),
    }
}

fn is_empty(v: &Value) -> bool {
    match v {
        Value::Object(m) => m.is_empty(),
        Value::Array(a) => a.is_empty(),
        _ => false,
    }
}

fn scalar(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => "-".into(),
        Value::Array(_) => "[]".into(),
        Value::Object(_) => "{}".into(),
        other => other.to_string(),
    }
}

/// The suite a proposal was signed for: the one whose algorithm its signatures use (a suite
/// fixes its algorithm, and the proposal id depends on the suite's hash).
pub fn proposal_suite(tx: &SignedTransaction) -> Result<Suite> {
    let algo = tx
        .signatures
        .first()
        .map(|s| s.key.algo())
        .ok_or_else(|| anyhow!("the proposal carries no signature"))?;
    Ok(suite_for(algo))
}

fn suite_for(algo: SigAlgo) -> Suite {
    match algo {
        SigAlgo::Sm2 => Suite::Sm,
        SigAlgo::Ed25519 => Suite::Intl,
    }
}

/// Adds `key`'s signature to a proposal (a council transaction being collected).
pub fn approve(tx: &mut SignedTransaction, key: &SecretKey) -> Result<()> {
    let suite = suite_for(key.algo());
    if tx
        .signatures
        .first()
        .is_some_and(|s| s.key.algo() != key.algo())
    {
        bail!(
            "the proposal is signed with {} keys; this key is {}",
            tx.signatures[0].key.algo().name(),
            key.algo().name()
        );
    }
    let public = key.public_key();
    if tx.signatures.iter().any(|s| s.key == public) {
        bail!("this key already signed the proposal");
    }
    tx.signatures.push(TxSignature {
        key: public,
        signature: key.sign(tx.id(suite).as_bytes()),
    });
    Ok(())
}

pub fn read_proposal(path: &Path) -> Result<SignedTransaction> {
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    SignedTransaction::from_bytes(&bytes).map_err(|e| {
        anyhow!(
            "{} is not a proposal (signed transaction): {e}",
            path.display()
        )
    })
}

pub fn write_file(path: &Path, bytes: &[u8]) -> Result<()> {
    std::fs::write(path, bytes).with_context(|| format!("cannot write {}", path.display()))
}

pub fn proposal_summary(tx: &SignedTransaction, suite: Suite) -> Value {
    json!({
        "id": tx.id(suite).to_hex(),
        "signatures": tx.signatures.len(),
        "payload": json::payload_to_json(&tx.tx.payload),
        "expires_at_height": tx.tx.expires_at_height,
    })
}
