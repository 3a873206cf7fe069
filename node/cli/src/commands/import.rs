//! `lichen import`: an agency's existing licences from a CSV file, signed here and submitted in
//! batches, with a progress bar, back-pressure honoured, refused rows written with their reasons,
//! and a journal that lets a rerun (after Ctrl-C, a crash or a lost node) carry on without
//! issuing anything twice.
//!
//! Nothing is issued twice because nothing is ever signed twice while it could still commit:
//! each row's signed transaction is written to the journal (and synced to disk) before it is
//! sent, and a rerun sends the very same bytes again (the node answers "pending" or
//! `already_committed`). Only a transaction past its expiry height, which can never commit, is
//! signed anew, with the same holder salt. Licence ids are unique on chain besides.

use std::collections::BTreeMap;
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow, bail};
use clap::Args;
use lichen_client::{Client, ClientError};
use lichen_contracts::codec::{Decode, Encode};
use lichen_contracts::crypto::{Hash32, SecretKey};
use lichen_contracts::model::{LicenceDraft, holder_commitment};
use lichen_contracts::tx::{Payload, SignedTransaction};
use lichen_views as views;
use serde_json::{Value, json};

use super::keys::{self, PasswordSource, random};
use crate::args::SignerArgs;
use crate::exit;
use crate::ops::{self, ChainInfo};
use crate::output::out;
use crate::time::{parse_time, parse_time_or_now};

/// Most transactions in one request (the node's `POST /v1/transactions/batch` limit).
pub const IMPORT_BATCH_MAX: usize = 256;
/// How often the outcome of sent transactions is asked for.
const POLL_INTERVAL_MS: u64 = 250;
/// The longest wait before resending rows the node asked to retry (the mempool was full).
const RETRY_BACKOFF_MAX_MS: u64 = 2_000;
/// A batch whose transactions are still pending after this long is reported as stuck.
const BATCH_STUCK_MS: u64 = 120_000;

#[derive(Args, Debug)]
pub struct ImportArgs {
    /// The CSV file: a header row, then one licence per row. Columns: `id`, `licence_type`,
    /// `holder_id`, and `document` (a file, relative to the CSV's folder) or `document_hash`
    /// (64 hex digits); optional `valid_from`, `valid_until` (2026-01-31, RFC 3339 or Unix ms).
    file: PathBuf,
    #[command(flatten)]
    signer: SignerArgs,
    /// The issuing agency's id (the key must be one of its keys).
    #[arg(long)]
    agency: String,
    /// Transactions per request (1-256).
    #[arg(long, default_value_t = 128)]
    batch: usize,
    /// Where refused rows are written with their reasons [default: <FILE>.rejects.csv].
    #[arg(long, value_name = "FILE")]
    rejects: Option<PathBuf>,
    /// The journal of what was signed and what became of it, read by a rerun to resume
    /// [default: <FILE>.journal].
    #[arg(long, value_name = "FILE")]
    journal: Option<PathBuf>,
    /// Where each committed licence's holder salt is written, to hand to its holder
    /// [default: <FILE>.salts.csv].
    #[arg(long, value_name = "FILE")]
    salts: Option<PathBuf>,
}

/// One CSV row, as read.
struct Row {
    /// The line of the CSV file (the header is line 1).
    line: u64,
    fields: csv::StringRecord,
}

/// What the journal says of a row.
#[derive(Default)]
struct RowState {
    /// The licence id and holder salt signed for it.
    id: Option<String>,
    salt: Option<[u8; 32]>,
    /// The signed transaction last sent for it.
    tx: Option<SignedTransaction>,
    /// "committed" or "refused", with the reason.
    done: Option<(String, String)>,
}

/// `lichen import`; the exit status: 0 when every row is committed, 4 when some were refused.
pub fn run(a: ImportArgs, as_json: bool, pw: &PasswordSource) -> Result<u8> {
    if !(1..=IMPORT_BATCH_MAX).contains(&a.batch) {
        bail!("--batch must be 1 to {IMPORT_BATCH_MAX}");
    }
    let beside = |ext: &str| PathBuf::from(format!("{}.{ext}", a.file.display()));
    let journal_path = a.journal.clone().unwrap_or_else(|| beside("journal"));
    let rejects_path = a.rejects.clone().unwrap_or_else(|| beside("rejects.csv"));
    let salts_path = a.salts.clone().unwrap_or_else(|| beside("salts.csv"));
    let base = a.file.parent().unwrap_or(Path::new(".")).to_path_buf();

    let (header, rows) = read_rows(&a.file)?;
    let mut states = read_journal(&journal_path)?;
    let client = a.signer.node.client();
    let info = ops::chain_info(&client)?;
    let key = keys::load_secret_key(&a.signer.key, pw)?;
    let mut journal = Journal::open(&journal_path)?;

    let started = Instant::now();
    let already = rows
        .iter()
        .filter(|r| states.get(&r.line).is_some_and(|s| s.done.is_some()))
        .count();
    let bar = indicatif::ProgressBar::new(rows.len() as u64);
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{elapsed_precise} [{bar:40}] {pos}/{len} rows ({per_sec}) {msg}",
        )
        .map_err(|e| anyhow!("progress bar: {e}"))?
        .progress_chars("=> "),
    );
    bar.set_position(already as u64);

    // Rows that do not make a licence are refused here, every run (fix the CSV and rerun).
    let mut local_rejects: Vec<(u64, String)> = Vec::new();
    let mut todo: Vec<(u64, LicenceDraft, [u8; 32])> = Vec::new();
    for row in &rows {
        let state = states.entry(row.line).or_default();
        if state.done.is_some() {
            continue;
        }
        match draft_of(&header, row, &a.agency, &info, &base, state.salt) {
            Ok((draft, salt)) => todo.push((row.line, draft, salt)),
            Err(e) => {
                local_rejects.push((row.line, format!("{e:#}")));
                bar.inc(1);
            }
        }
    }

    // Outcomes so far (earlier runs included), counted on as rows settle.
    let (mut committed, mut refused) = count(&states);
    for chunk in todo.chunks(a.batch) {
        let mut sent: Vec<(u64, SignedTransaction)> = Vec::with_capacity(chunk.len());
        let info = ops::chain_info(&client)?;
        for (line, draft, salt) in chunk {
            let state = states.entry(*line).or_default();
            // What was signed for this row before is sent again as it was (the same bytes
            // while they can still commit; past their expiry, the same licence signed anew):
            // a rerun never makes a second, different licence of a row.
            let journalled = state.tx.take().filter(
                |tx| matches!(&tx.tx.payload, Payload::IssueLicence(d) if d.id == draft.id),
            );
            let tx = match journalled {
                Some(tx) if tx.tx.expires_at_height > info.height => tx,
                Some(tx) => ops::sign(&info, tx.tx.payload, &[&key])?,
                None => ops::sign(&info, Payload::IssueLicence(draft.clone()), &[&key])?,
            };
            journal.signed(*line, &draft.id, salt, &tx)?;
            state.id = Some(draft.id.clone());
            state.salt = Some(*salt);
            sent.push((*line, tx));
        }
        journal.sync()?;
        let outcomes = send_and_settle(&client, &key, &info, sent, &mut journal)?;
        for (line, done) in outcomes {
            match done.0.as_str() {
                "committed" => committed += 1,
                _ => refused += 1,
            }
            states.entry(line).or_default().done = Some(done);
            bar.inc(1);
        }
        journal.sync()?;
        bar.set_message(format!("{committed} committed, {refused} refused"));
    }
    bar.finish_and_clear();

    let rejected = write_rejects(&rejects_path, &header, &rows, &states, &local_rejects)?;
    write_salts(&salts_path, &states)?;
    let summary = json!({
        "rows": rows.len(),
        "committed": committed,
        "refused": refused + local_rejects.len(),
        "done_before": already,
        "seconds": started.elapsed().as_secs_f64(),
        "rejects": rejects_path.display().to_string(),
        "salts": salts_path.display().to_string(),
        "journal": journal_path.display().to_string(),
    });
    if as_json {
        out!("{summary}");
    } else {
        out!(
            "{} rows: {committed} committed ({already} in an earlier run), {} refused (see {}); \
             holder salts in {}",
            rows.len(),
            rejected,
            rejects_path.display(),
            salts_path.display()
        );
    }
    Ok(if rejected == 0 {
        exit::OK
    } else {
        exit::REFUSED
    })
}

/// Sends `sent` (retrying what the node asks to retry) and waits for each transaction's fate;
/// a transaction that expires uncommitted is signed again and sent again. Returns each line's
/// outcome.
fn send_and_settle(
    client: &Client,
    key: &SecretKey,
    info: &ChainInfo,
    mut sent: Vec<(u64, SignedTransaction)>,
    journal: &mut Journal,
) -> Result<Vec<(u64, (String, String))>> {
    let mut outcomes = Vec::new();
    let mut backoff_ms = POLL_INTERVAL_MS;
    let started = Instant::now();
    while !sent.is_empty() {
        let bytes: Vec<Vec<u8>> = sent.iter().map(|(_, tx)| tx.to_bytes()).collect();
        let refs: Vec<&[u8]> = bytes.iter().map(Vec::as_slice).collect();
        let answer = client.submit_batch(&refs)?;
        let mut waiting = Vec::new();
        let mut retry = Vec::new();
        for ((line, tx), result) in sent.into_iter().zip(answer.results) {
            match (result.status.as_str(), result.error) {
                ("pending", _) => waiting.push((line, tx)),
                ("retry", _) => retry.push((line, tx)),
                (_, Some(e)) if e.code == "already_committed" => {
                    outcomes.push(journal.done(line, "committed", "")?);
                }
                (_, e) => {
                    let reason = e.map_or_else(|| "refused".into(), |e| e.message);
                    outcomes.push(journal.done(line, "refused", &reason)?);
                }
            }
        }
        // The fate of each transaction the node took.
        while !waiting.is_empty() {
            std::thread::sleep(Duration::from_millis(POLL_INTERVAL_MS));
            let mut still = Vec::new();
            for (line, tx) in waiting {
                let id = tx.id(info.suite).to_hex();
                let fate = match client.get_json(&format!("/v1/transactions/{id}")) {
                    Ok(v) => v,
                    Err(ClientError::Api { status: 404, .. }) => json!({"status": "unknown"}),
                    Err(e) => return Err(e.into()),
                };
                match fate["status"].as_str() {
                    Some("committed") => outcomes.push(journal.done(line, "committed", "")?),
                    Some("refused") => {
                        let reason = fate["reason"].as_str().unwrap_or("refused by the block");
                        outcomes.push(journal.done(line, "refused", reason)?);
                    }
                    // Expired, or forgotten by a node that restarted: sent again (a new
                    // signature only once the old one can no longer commit).
                    Some("expired") | Some("unknown") => retry.push((line, tx)),
                    _ => still.push((line, tx)),
                }
            }
            waiting = still;
            if started.elapsed() > Duration::from_millis(BATCH_STUCK_MS) && !waiting.is_empty() {
                bail!(
                    "{} transactions still pending after {} s; rerun to resume",
                    waiting.len(),
                    BATCH_STUCK_MS / 1000
                );
            }
        }
        if !retry.is_empty() {
            std::thread::sleep(Duration::from_millis(backoff_ms));
            backoff_ms = (backoff_ms * 2).min(RETRY_BACKOFF_MAX_MS);
            let info = ops::chain_info(client)?;
            for (line, tx) in &mut retry {
                if tx.tx.expires_at_height <= info.height {
                    *tx = ops::sign(&info, tx.tx.payload.clone(), &[key])?;
                    journal.resigned(*line, tx)?;
                }
            }
            journal.sync()?;
        }
        sent = retry;
    }
    Ok(outcomes)
}

fn count(states: &BTreeMap<u64, RowState>) -> (usize, usize) {
    let done = |what: &str| {
        states
            .values()
            .filter(|s| s.done.as_ref().is_some_and(|(d, _)| d == what))
            .count()
    };
    (done("committed"), done("refused"))
}

fn read_rows(path: &Path) -> Result<(csv::StringRecord, Vec<Row>)> {
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .from_path(path)
        .with_context(|| format!("cannot read {}", path.display()))?;
    let header = reader
        .headers()
        .with_context(|| format!("{}: no header row", path.display()))?
        .clone();
    for needed in ["id", "licence_type", "holder_id"] {
        if !header.iter().any(|h| h == needed) {
            bail!(
                "{}: no `{needed}` column (header: {:?})",
                path.display(),
                header
            );
        }
    }
    if !header
        .iter()
        .any(|h| h == "document" || h == "document_hash")
    {
        bail!(
            "{}: a `document` or `document_hash` column is needed",
            path.display()
        );
    }
    let mut rows = Vec::new();
    for record in reader.records() {
        let fields = record.with_context(|| format!("{}: a row does not parse", path.display()))?;
        let line = fields.position().map_or(0, |p| p.line());
        rows.push(Row { line, fields });
    }
    Ok((header, rows))
}

fn draft_of(
    header: &csv::StringRecord,
    row: &Row,
    agency: &str,
    info: &ChainInfo,
    base: &Path,
    salt: Option<[u8; 32]>,
) -> Result<(LicenceDraft, [u8; 32])> {
    let get = |name: &str| -> Option<&str> {
        header
            .iter()
            .position(|h| h == name)
            .and_then(|i| row.fields.get(i))
            .filter(|v| !v.is_empty())
    };
    let need = |name: &str| get(name).ok_or_else(|| anyhow!("`{name}` is empty"));
    let document_hash: Hash32 = match (get("document"), get("document_hash")) {
        (Some(file), _) => ops::hash_file(info.suite, &base.join(file))?,
        (None, Some(h)) => views::parse_hash(h).map_err(|e| anyhow!("document_hash: {e}"))?,
        (None, None) => bail!("neither `document` nor `document_hash` is given"),
    };
    let salt = match salt {
        Some(salt) => salt,
        None => random::<32>()?,
    };
    let draft = LicenceDraft {
        id: need("id")?.to_string(),
        licence_type: need("licence_type")?.to_string(),
        issuer: agency.to_string(),
        document_hash,
        holder_commitment: holder_commitment(info.suite, &salt, need("holder_id")?),
        valid_from_ms: parse_time_or_now(get("valid_from"))?,
        valid_until_ms: get("valid_until").map(parse_time).transpose()?,
    };
    draft.validate().map_err(|e| anyhow!("{e}"))?;
    Ok((draft, salt))
}

/// The journal: one JSON object per line, appended and synced before anything it mentions is
/// sent. `signed`: a row's licence id, holder salt and signed transaction; `done`: its fate.
struct Journal {
    file: File,
}

impl Journal {
    fn open(path: &Path) -> Result<Self> {
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .with_context(|| format!("cannot open the journal {}", path.display()))?;
        Ok(Journal { file })
    }

    fn write(&mut self, v: &Value) -> Result<()> {
        writeln!(self.file, "{v}").context("cannot write the journal")
    }

    fn signed(
        &mut self,
        line: u64,
        id: &str,
        salt: &[u8; 32],
        tx: &SignedTransaction,
    ) -> Result<()> {
        self.write(&json!({
            "line": line,
            "id": id,
            "salt": views::hex_string(salt),
            "tx": views::hex_string(&tx.to_bytes()),
        }))
    }

    fn resigned(&mut self, line: u64, tx: &SignedTransaction) -> Result<()> {
        self.write(&json!({ "line": line, "tx": views::hex_string(&tx.to_bytes()) }))
    }

    fn done(&mut self, line: u64, what: &str, reason: &str) -> Result<(u64, (String, String))> {
        self.write(&json!({ "line": line, "done": what, "reason": reason }))?;
        Ok((line, (what.to_string(), reason.to_string())))
    }

    /// On disk before anything it records is sent.
    fn sync(&mut self) -> Result<()> {
        self.file.sync_data().context("cannot sync the journal")
    }
}

/// What the journal says of each line; a torn last line (a crash while writing) is ignored.
fn read_journal(path: &Path) -> Result<BTreeMap<u64, RowState>> {
    let mut states: BTreeMap<u64, RowState> = BTreeMap::new();
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(states),
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", path.display())),
    };
    for entry in text
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
    {
        let Some(line) = entry["line"].as_u64() else {
            continue;
        };
        let state = states.entry(line).or_default();
        if let Some(id) = entry["id"].as_str() {
            state.id = Some(id.to_string());
        }
        if let Some(salt) = entry["salt"].as_str() {
            state.salt = views::parse_hex(salt)
                .ok()
                .and_then(|b| <[u8; 32]>::try_from(b).ok());
        }
        if let Some(tx) = entry["tx"].as_str() {
            state.tx = views::parse_hex(tx)
                .ok()
                .and_then(|b| SignedTransaction::from_bytes(&b).ok());
        }
        if let Some(done) = entry["done"].as_str() {
            let reason = entry["reason"].as_str().unwrap_or_default();
            state.done = Some((done.to_string(), reason.to_string()));
        }
    }
    Ok(states)
}

/// The refused rows, as they were, with a `reason` column; written whole each run.
fn write_rejects(
    path: &Path,
    header: &csv::StringRecord,
    rows: &[Row],
    states: &BTreeMap<u64, RowState>,
    local: &[(u64, String)],
) -> Result<usize> {
    let mut w =
        csv::Writer::from_path(path).with_context(|| format!("cannot write {}", path.display()))?;
    let mut out_header = header.clone();
    out_header.push_field("reason");
    w.write_record(&out_header)?;
    let mut n = 0;
    for row in rows {
        let reason = local
            .iter()
            .find(|(l, _)| *l == row.line)
            .map(|(_, r)| r.as_str())
            .or_else(|| {
                states
                    .get(&row.line)
                    .and_then(|s| s.done.as_ref())
                    .filter(|(d, _)| d == "refused")
                    .map(|(_, r)| r.as_str())
            });
        if let Some(reason) = reason {
            let mut record = row.fields.clone();
            record.push_field(reason);
            w.write_record(&record)?;
            n += 1;
        }
    }
    w.flush()?;
    Ok(n)
}

/// `id,holder_salt` of every committed licence (the journal's, as read and added to): what
/// each holder needs to prove the licence is theirs.
fn write_salts(path: &Path, states: &BTreeMap<u64, RowState>) -> Result<()> {
    let mut w =
        csv::Writer::from_path(path).with_context(|| format!("cannot write {}", path.display()))?;
    w.write_record(["id", "holder_salt"])?;
    for state in states.values() {
        if let (Some(id), Some(salt), Some(("committed", _))) = (
            &state.id,
            &state.salt,
            state.done.as_ref().map(|(d, r)| (d.as_str(), r)),
        ) {
            w.write_record([id.as_str(), views::hex_string(salt).as_str()])?;
        }
    }
    w.flush()?;
    Ok(())
}
