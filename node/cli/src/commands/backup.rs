//! `lichen node backup` and `lichen node restore` (the formats and the checks are
//! `lichen_node::backup`'s; this is the HTTP and the progress lines).

use std::path::Path;
use std::time::Instant;

use anyhow::{Context, Result, anyhow};
use lichen_client::Client;
use lichen_contracts::genesis::Genesis;
use lichen_node::backup::{BackupWriter, MANIFEST_FORMAT, Manifest};
use lichen_node::net::wire::{SYNC_BLOCKS_MAX, decode_blocks};

use crate::output::out;
use crate::time::now_ms;

/// Largest answer of `GET /v1/blocks` read.
const BLOCKS_ANSWER_BYTES_MAX: u64 = 64 << 20;
/// Seconds between progress lines.
const PROGRESS_EVERY_S: u64 = 2;

/// Every certified block of the node at `client` up to its height now, into `to`.
pub fn backup(client: &Client, to: &Path) -> Result<()> {
    let status = client.status()?;
    let suite = lichen_contracts::crypto::Suite::from_name(&status.suite)
        .ok_or_else(|| anyhow!("the node names no known suite: {:?}", status.suite))?;
    let height = status.height;
    let mut block_hash = String::new();
    let mut writer = BackupWriter::create(to)?;
    let started = Instant::now();
    let mut last_print = Instant::now();
    let mut next = 1u64;
    while next <= height {
        let count = (height - next + 1).min(SYNC_BLOCKS_MAX as u64);
        let answer = client
            .get_bytes_up_to(
                &format!("/v1/blocks?from={next}&count={count}"),
                BLOCKS_ANSWER_BYTES_MAX,
            )
            .with_context(|| format!("reading blocks from {next}; the backup is unfinished"))?;
        let blocks = decode_blocks(&answer)
            .map_err(|e| anyhow!("the node sent blocks that do not decode: {e}"))?;
        let first = blocks.first().map(|b| b.block.header.height);
        if first != Some(next) || blocks.len() as u64 > count {
            return Err(anyhow!(
                "asked for {count} blocks from {next}, the node sent {} from {first:?}",
                blocks.len()
            ));
        }
        if let Some(last) = blocks.last() {
            block_hash = last.block.header.hash(suite).to_hex();
        }
        writer.append(&answer)?;
        next += blocks.len() as u64;
        if last_print.elapsed().as_secs() >= PROGRESS_EVERY_S {
            last_print = Instant::now();
            eprintln!("block {} of {height}", next - 1);
        }
    }
    writer.finish(&Manifest {
        format: MANIFEST_FORMAT.into(),
        chain_id: status.chain_id.clone(),
        genesis_hash: status.genesis_hash.clone(),
        height,
        block_hash,
        taken_at_ms: now_ms(),
    })?;
    out!(
        "backed up chain '{}' to block {height} in {} ({:.1} s)",
        status.chain_id,
        to.display(),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// The backup in `from` into the empty data directory `data_dir`.
pub fn restore(data_dir: &Path, genesis: Genesis, cache_bytes: u64, from: &Path) -> Result<()> {
    let started = Instant::now();
    let mut last_print = Instant::now();
    let report = lichen_node::backup::restore_data_dir(
        data_dir,
        genesis,
        cache_bytes,
        from,
        &mut |at, of| {
            if last_print.elapsed().as_secs() >= PROGRESS_EVERY_S {
                last_print = Instant::now();
                eprintln!("restored block {at} of {of}");
            }
        },
    )
    .context("nothing was kept")?;
    out!(
        "restored {} blocks ({} transactions) to height {} into {} ({:.1} s); `lichen node run` \
         catches up from its peers",
        report.blocks,
        report.transactions,
        report.height,
        data_dir.display(),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}
