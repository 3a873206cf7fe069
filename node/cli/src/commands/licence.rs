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
    /// Licence id (1-128 characters of A-Z a-z 0-9 . _ - : /; GB/T 36904 ids are checked).
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
    /// The licence file's hash (64 hex digits), if the file is not at hand.
    #[arg(long)]
    document_hash: Option<String>,
    /// The holder's identifier: only a salted commitment goes on chain.
    #[arg(long)]
    holder_id: String,
    /// The commitment salt, 64 hex digits (default: random, written to --holder-salt-file before
    /// anything is submitted; give it to the holder).
    #[arg(long)]
    holder_salt: Option<String>,
    /// Where a generated salt is written (mode 0600, never overwritten), before submitting, so
    /// that a timeout or a dropped connection cannot lose it (default: `<licence id>.holder-salt`
    /// in the current folder, with characters other than letters, digits, `.`, `-` and `_` as `_`).
    #[arg(long, value_name = "FILE")]
    holder_salt_file: Option<PathBuf>,
    /// Start of validity: 2026-01-31 (midnight UTC), 2026-01-31T08:00:00Z or Unix milliseconds
    /// (default: now).
    #[arg(long)]
    valid_from: Option<String>,
    /// End of validity, in the same forms as --valid-from (default: none).
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
    /// Why, recorded on chain with the licence's status (public: no personal data; at most
    /// 512 bytes, no control characters).
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
    /// Why, recorded on chain with the old licence's status (public: no personal data; at most
    /// 512 bytes, no control characters).
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
        None => (generated_salt(d)?, true),
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

/// The default holder-salt file of a licence: `<id>.holder-salt`, unsafe characters as `_`.
fn salt_path(d: &DraftArgs) -> PathBuf {
    d.holder_salt_file.clone().unwrap_or_else(|| {
        let safe: String =
            d.id.chars()
                .map(|c| {
                    if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') {
                        c
                    } else {
                        '_'
                    }
                })
                .collect();
        PathBuf::from(format!("{safe}.holder-salt"))
    })
}

/// The salt to commit with, when none is given: the one in the holder-salt file if it was
/// written for this licence and holder (a retry after a timeout must commit to the same salt),
/// else a new one, written to the file (mode 0600) before anything is submitted. A file for
/// another licence or holder is never replaced.
fn generated_salt(d: &DraftArgs) -> Result<[u8; 32]> {
    let path = salt_path(d);
    if let Ok(text) = std::fs::read_to_string(&path) {
        let v: serde_json::Value = serde_json::from_str(&text)
            .map_err(|e| anyhow!("{} is not a holder-salt file: {e}", path.display()))?;
        if v["licence_id"] != d.id.as_str() || v["holder_id"] != d.holder_id.as_str() {
            bail!(
                "{} holds the salt of another licence or holder; give --holder-salt-file or --holder-salt",
                path.display()
            );
        }
        let salt = v["holder_salt"]
            .as_str()
            .and_then(|h| views::parse_hex(h).ok())
            .and_then(|b| <[u8; 32]>::try_from(b).ok())
            .ok_or_else(|| anyhow!("{} has no valid holder_salt", path.display()))?;
        eprintln!("reusing the holder salt in {}", path.display());
        return Ok(salt);
    }
    let salt = keys::random::<32>()?;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let text = format!(
        "{}\n",
        serde_json::json!({
            "licence_id": d.id,
            "holder_id": d.holder_id,
            "holder_salt": views::hex_string(&salt),
        })
    );
    use std::io::Write;
    options
        .open(&path)
        .and_then(|mut f| f.write_all(text.as_bytes()).and_then(|()| f.sync_all()))
        .map_err(|e| {
            anyhow!(
                "cannot write the holder salt to {} ({e}); nothing was submitted",
                path.display()
            )
        })?;
    eprintln!(
        "holder salt written to {} before submitting (give it to the holder: it opens the licence's holder commitment)",
        path.display()
    );
    Ok(salt)
}

fn finish_with_salt(receipt: FinalityReceipt, salt: Option<[u8; 32]>, as_json: bool, what: &str) {
    let extra: Vec<(&str, String)> = salt
        .iter()
        .map(|s| ("holder_salt", views::hex_string(s)))
        .collect();
    print_receipt(&receipt, &extra, as_json, what);
    if let (Some(salt), false) = (salt, as_json) {
        out!(
            "holder salt {} (generated; also in the holder-salt file: give it to the holder)",
            views::hex_string(&salt)
        );
    }
}
