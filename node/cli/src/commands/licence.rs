//! Licences: `lichen issue`, `suspend`, `reinstate`, `revoke`, `supersede`. Each signs locally
//! with the agency's key, submits, and waits for finality.

use std::path::PathBuf;

use anyhow::{Result, anyhow, bail};
use clap::Args;
use lichen_contracts::model::{LicenceDraft, holder_commitment};
use lichen_contracts::tx::Payload;
use lichen_views as views;
use lichen_views::api::FinalityReceipt;

use super::keys::{self, PasswordSource};
use crate::args::SignerArgs;
use crate::ops::{self, ChainInfo};
use crate::output::{out, print_receipt};
use crate::time::{parse_time, parse_time_or_now};

#[derive(Args, Debug)]
pub struct DraftArgs {
    /// Licence id (GB/T 36904 style ids are checked).
    #[arg(long)]
    id: String,
    /// Licence type code.
    #[arg(long = "type")]
    licence_type: String,
    /// Issuing agency id.
    #[arg(long)]
    agency: String,
    /// The licence file: hashed here, never sent.
    #[arg(long, conflicts_with = "document_hash")]
    file: Option<PathBuf>,
    /// The licence file's hash, if the file is not at hand.
    #[arg(long)]
    document_hash: Option<String>,
    /// The holder's identifier: only a salted commitment goes on chain.
    #[arg(long)]
    holder_id: String,
    /// The commitment salt, 64 hex digits (default: random, printed once; give it to the holder).
    #[arg(long)]
    holder_salt: Option<String>,
    /// Start of validity (default: now).
    #[arg(long)]
    valid_from: Option<String>,
    /// End of validity (default: none).
    #[arg(long)]
    valid_until: Option<String>,
}

#[derive(Args, Debug)]
pub struct IssueArgs {
    #[command(flatten)]
    signer: SignerArgs,
    #[command(flatten)]
    draft: DraftArgs,
}

#[derive(Args, Debug)]
pub struct StatusArgs {
    #[command(flatten)]
    signer: SignerArgs,
    /// Licence id.
    #[arg(long)]
    id: String,
    #[arg(long)]
    reason: String,
}

#[derive(Args, Debug)]
pub struct SupersedeArgs {
    #[command(flatten)]
    signer: SignerArgs,
    /// The licence being replaced.
    #[arg(long)]
    old_id: String,
    #[arg(long)]
    reason: String,
    #[command(flatten)]
    draft: DraftArgs,
}

/// `lichen issue`.
pub fn issue(a: IssueArgs, as_json: bool, pw: &PasswordSource) -> Result<()> {
    let client = a.signer.node.client();
    let info = ops::chain_info(&client)?;
    let key = keys::load_secret_key(&a.signer.key, pw)?;
    let (draft, salt) = make_draft(&info, &a.draft)?;
    let tx = ops::sign(&info, Payload::IssueLicence(draft), &[&key])?;
    let receipt = ops::submit(&client, &tx)?;
    finish_with_salt(
        receipt,
        salt,
        as_json,
        &format!("licence {} issued", a.draft.id),
    );
    Ok(())
}

/// `lichen supersede`.
pub fn supersede(a: SupersedeArgs, as_json: bool, pw: &PasswordSource) -> Result<()> {
    let client = a.signer.node.client();
    let info = ops::chain_info(&client)?;
    let key = keys::load_secret_key(&a.signer.key, pw)?;
    let (new, salt) = make_draft(&info, &a.draft)?;
    let payload = Payload::SupersedeLicence {
        old_id: a.old_id.clone(),
        reason: a.reason,
        new,
    };
    let tx = ops::sign(&info, payload, &[&key])?;
    let receipt = ops::submit(&client, &tx)?;
    finish_with_salt(
        receipt,
        salt,
        as_json,
        &format!("licence {} superseded by {}", a.old_id, a.draft.id),
    );
    Ok(())
}

#[derive(Clone, Copy, Debug)]
pub enum Change {
    Suspend,
    Reinstate,
    Revoke,
}

/// Suspend / reinstate / revoke share their arguments.
pub fn change_status(
    a: StatusArgs,
    change: Change,
    as_json: bool,
    pw: &PasswordSource,
) -> Result<()> {
    let client = a.signer.node.client();
    let info = ops::chain_info(&client)?;
    let key = keys::load_secret_key(&a.signer.key, pw)?;
    let (id, reason) = (a.id.clone(), a.reason);
    let (payload, past) = match change {
        Change::Suspend => (Payload::SuspendLicence { id, reason }, "suspended"),
        Change::Reinstate => (Payload::ReinstateLicence { id, reason }, "reinstated"),
        Change::Revoke => (Payload::RevokeLicence { id, reason }, "revoked"),
    };
    let tx = ops::sign(&info, payload, &[&key])?;
    let receipt = ops::submit(&client, &tx)?;
    print_receipt(&receipt, &[], as_json, &format!("licence {} {past}", a.id));
    Ok(())
}

fn make_draft(info: &ChainInfo, d: &DraftArgs) -> Result<(LicenceDraft, Option<[u8; 32]>)> {
    let document_hash = match (&d.file, &d.document_hash) {
        (Some(f), _) => ops::hash_file(info.suite, f)?,
        (None, Some(h)) => views::parse_hash(h).map_err(|e| anyhow!("--document-hash: {e}"))?,
        (None, None) => bail!("give the licence file (--file) or its hash (--document-hash)"),
    };
    let (salt, generated) = match &d.holder_salt {
        Some(s) => {
            let b = views::parse_hex(s).map_err(|e| anyhow!("--holder-salt: {e}"))?;
            let arr: [u8; 32] = b
                .try_into()
                .map_err(|_| anyhow!("--holder-salt must be 32 bytes (64 hex digits)"))?;
            (arr, false)
        }
        None => (keys::random::<32>()?, true),
    };
    let draft = LicenceDraft {
        id: d.id.clone(),
        licence_type: d.licence_type.clone(),
        issuer: d.agency.clone(),
        document_hash,
        holder_commitment: holder_commitment(info.suite, &salt, &d.holder_id),
        valid_from_ms: parse_time_or_now(d.valid_from.as_deref())?,
        valid_until_ms: d.valid_until.as_deref().map(parse_time).transpose()?,
    };
    draft
        .validate()
        .map_err(|e| anyhow!("the licence is not valid: {e}"))?;
    Ok((draft, generated.then_some(salt)))
}

fn finish_with_salt(receipt: FinalityReceipt, salt: Option<[u8; 32]>, as_json: bool, what: &str) {
    let extra: Vec<(&str, String)> = salt
        .iter()
        .map(|s| ("holder_salt", views::hex_string(s)))
        .collect();
    print_receipt(&receipt, &extra, as_json, what);
    if let (Some(salt), false) = (salt, as_json) {
        out!(
            "holder salt {} (generated; give it to the holder, it is not stored anywhere)",
            views::hex_string(&salt)
        );
    }
}
