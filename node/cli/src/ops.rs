//! Talking to a chain: what the CLI needs to know of it, signing locally, submitting and waiting
//! for finality; reading files to hash or to trust.

use std::path::Path;

use anyhow::{Context, Result, anyhow, bail};
use lichen_client::Client;
use lichen_contracts::codec::{Decode, Encode};
use lichen_contracts::crypto::{Hash32, SecretKey, Suite};
use lichen_contracts::genesis::Genesis;
use lichen_contracts::presentation::{TRUST_ANCHOR_TAG, TrustAnchor};
use lichen_contracts::tx::{Payload, SignedTransaction, Transaction, TxSignature};
use lichen_views as views;
use lichen_views::api::FinalityReceipt;
use serde_json::Value;

use crate::commands::keys::random;

/// Blocks ahead a transaction made here may be included (within the chain's limit).
pub const TX_EXPIRY_BLOCKS: u64 = 100;
/// How long a submission waits for the block that commits it.
pub const SUBMIT_WAIT_MS: u64 = 30_000;

/// What the CLI needs to know of the chain to sign for it.
#[derive(Debug)]
pub struct ChainInfo {
    pub chain_id: String,
    pub suite: Suite,
    pub height: u64,
    pub expiry_blocks_max: u64,
}

pub fn chain_info(client: &Client) -> Result<ChainInfo> {
    let s = client.status()?;
    let suite = Suite::from_name(&s.suite)
        .ok_or_else(|| anyhow!("the node's status names no known suite: {:?}", s.suite))?;
    Ok(ChainInfo {
        chain_id: s.chain_id,
        suite,
        height: s.height,
        expiry_blocks_max: s.tx_expiry_blocks_max,
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
pub fn submit(client: &Client, tx: &SignedTransaction) -> Result<FinalityReceipt> {
    client
        .submit_final(&tx.to_bytes(), SUBMIT_WAIT_MS)
        .context("the transaction was not committed")
}

pub fn hash_file(suite: Suite, path: &Path) -> Result<Hash32> {
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    Ok(suite.digest(&bytes))
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
        let g: Genesis = views::genesis_from_json_str(&text)
            .with_context(|| format!("{} is not a valid genesis", path.display()))?;
        return Ok(g.trust_anchor());
    }
    views::trust_anchor_from_json_str(&text)
        .with_context(|| format!("{} is not a valid trust anchor", path.display()))
}

pub fn write_file(path: &Path, bytes: &[u8]) -> Result<()> {
    std::fs::write(path, bytes).with_context(|| format!("cannot write {}", path.display()))
}
