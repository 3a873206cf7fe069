//! `lichen verify`: a presentation or evidence receipt checked offline, trusting only a genesis
//! or trust-anchor file. The same `contracts` verifier as the node's `POST /v1/verify` and the
//! WASM scanner.

use std::path::PathBuf;

use anyhow::{Context, Result, anyhow};
use clap::Args;
use lichen_contracts::presentation::{Document, Policy, Trust, verify_bytes_with};
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
    #[arg(long)]
    document_hash: Option<String>,
    /// How old the proof may be (e.g. 24h, 7d).
    #[arg(long, default_value = "24h")]
    max_age: String,
    /// Verify as of this time (default: now).
    #[arg(long)]
    at: Option<String>,
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
    let trust = Trust {
        anchor: &anchor,
        package: package.as_ref(),
    };
    let report = verify_bytes_with(trust, &bytes, document, &policy);
    print_report(&report, &bytes, as_json);
    Ok(verdict_exit_code(report.verdict))
}
