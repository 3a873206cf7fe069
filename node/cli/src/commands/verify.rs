//! `lichen verify`: a presentation or evidence receipt checked offline, trusting only a genesis
//! or trust-anchor file. The same `contracts` verifier as the node's `POST /v1/verify` and the
//! WASM scanner.

use std::path::PathBuf;

use anyhow::{Context, Result, anyhow};
use clap::Args;
use lichen_contracts::presentation::{
    Desk, Document, Holder, Policy, ProofKind, Trust, verify_at_desk,
};
use lichen_views as views;

use crate::ops;
use crate::output::{print_report, verdict_exit_code};
use crate::time::{parse_duration_ms, parse_time_or_now};

#[derive(Args, Debug)]
pub struct VerifyArgs {
    /// The presentation or evidence receipt file.
    #[arg(long)]
    presentation: PathBuf,
    /// What to trust: the genesis file, or a trust anchor file.
    #[arg(long)]
    trust: PathBuf,
    /// A trust package (`lichen trust-package export`), checked against --trust: validators
    /// retired before its checkpoint are no longer trusted, and a licence revoked or suspended
    /// by then is reported so even if the presentation predates it. Needed for compact
    /// presentations.
    #[arg(long, value_name = "FILE")]
    trust_package: Option<PathBuf>,
    /// The licence file, to check its hash (read locally).
    #[arg(long, conflicts_with = "document_hash")]
    file: Option<PathBuf>,
    /// The licence file's hash (64 hex digits), if the file is not at hand.
    #[arg(long)]
    document_hash: Option<String>,
    /// How old the proof may be (e.g. 24h, 7d).
    #[arg(long, default_value = "24h")]
    max_age: String,
    /// Verify as of this time: 2026-01-31 (midnight UTC), 2026-01-31T08:00:00Z or Unix
    /// milliseconds (default: now).
    #[arg(long)]
    at: Option<String>,
    /// The kind of proof this desk accepts: a licence presentation or an evidence receipt;
    /// the other kind is WRONG KIND (exit 1) whatever it proves.
    #[arg(long, value_parser = ["licence", "evidence"])]
    expect: Option<String>,
    /// The id of the person presenting the licence (as on their ID card): with --holder-salt,
    /// checked against the licence's holder commitment (HOLDER MISMATCH when it does not open).
    #[arg(long, requires = "holder_salt")]
    holder_id: Option<String>,
    /// The holder's salt (64 hex digits, from the issuer's holder-salt file).
    #[arg(long, requires = "holder_id")]
    holder_salt: Option<String>,
    /// Also write a self-contained, printable report (HTML, Chinese and English) for a case
    /// file: the verdict, every check and hash, the signers, the trust anchor, and how to check
    /// it again independently.
    #[arg(long, value_name = "FILE")]
    report: Option<PathBuf>,
}

/// `lichen verify`: offline, against the trust file only; exit status 0 for VALID / ANCHORED.
pub fn run(a: VerifyArgs, as_json: bool) -> Result<u8> {
    let anchor = ops::load_trust(&a.trust)?;
    let package = a
        .trust_package
        .as_deref()
        .map(|p| super::trust_package::load(p, &anchor))
        .transpose()?;
    let bytes = std::fs::read(&a.presentation)
        .with_context(|| format!("cannot read {}", a.presentation.display()))?;
    let doc_bytes = a
        .file
        .as_ref()
        .map(|f| std::fs::read(f).with_context(|| format!("cannot read {}", f.display())))
        .transpose()?;
    let doc_hash = a
        .document_hash
        .as_deref()
        .map(|h| views::parse_hash(h).map_err(|e| anyhow!("--document-hash: {e}")))
        .transpose()?;
    let document = match (&doc_bytes, doc_hash) {
        (Some(b), _) => Some(Document::Bytes(b)),
        (None, Some(h)) => Some(Document::Hash(h)),
        (None, None) => None,
    };
    let policy = Policy {
        now_ms: parse_time_or_now(a.at.as_deref())?,
        proof_age_max_ms: parse_duration_ms(&a.max_age)?,
    };
    let salt = a
        .holder_salt
        .as_deref()
        .map(|h| {
            views::parse_hex(h)
                .ok()
                .and_then(|b| <[u8; 32]>::try_from(b).ok())
                .ok_or_else(|| anyhow!("--holder-salt must be 64 hex digits (32 bytes)"))
        })
        .transpose()?;
    let desk = Desk {
        expect: a.expect.as_deref().map(|k| match k {
            "evidence" => ProofKind::Evidence,
            _ => ProofKind::Licence,
        }),
        holder: a
            .holder_id
            .as_deref()
            .zip(salt)
            .map(|(id, salt)| Holder { id, salt }),
    };
    let trust = Trust {
        anchor: &anchor,
        package: package.as_ref(),
    };
    let report = verify_at_desk(trust, &bytes, document, &policy, desk);
    if let Some(path) = &a.report {
        let html = crate::report::html(&crate::report::ReportInput {
            file_name: &a.presentation.display().to_string(),
            bytes: &bytes,
            anchor: &anchor,
            package: package.as_ref(),
            report: &report,
            checked_at_ms: policy.now_ms,
            trust_file: &a.trust.display().to_string(),
        });
        ops::write_file(path, html.as_bytes())?;
    }
    print_report(&report, &bytes, as_json);
    Ok(verdict_exit_code(report.verdict))
}
