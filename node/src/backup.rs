//! Backups of a node's chain, taken while it runs and restored into an empty data directory.
//!
//! A backup is the certified chain itself: every block from 1 to a height `H` with its commit
//! certificate, as a running node serves them (`GET /v1/blocks`, the network's `Blocks`
//! form), in one file of frames (`u32` length, then one answer), with a manifest naming the
//! chain, the genesis, `H` and block `H`'s hash. It is consistent at `H` because committed
//! blocks never change. Restoring executes every block again on a fresh store, checking each
//! certificate against the validator set that signs its height (as the genesis and the blocks
//! before decide) and each transaction list against its header: a backup is trusted no more
//! than a peer, and a restored node holds the whole history (unlike state sync, which starts at
//! a checkpoint).

use std::fs::File;
use std::io::{BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};

use lichen_contracts::block::tx_root;
use lichen_contracts::genesis::Genesis;
use serde::{Deserialize, Serialize};

use crate::chain::{Chain, STATE_VERSIONS_KEPT_DEFAULT};
use crate::data_dir::Fill;
use crate::error::NodeError;
use crate::net::wire::decode_blocks;

/// The frames of block answers, in height order.
pub const BLOCKS_FILE: &str = "blocks.bin";
/// What the backup holds ([`Manifest`], JSON), written last: a folder without it is unfinished.
pub const MANIFEST_FILE: &str = "backup.json";
/// Largest frame read back (a `GET /v1/blocks` answer is at most 32 blocks of at most 8 MiB).
pub const BACKUP_FRAME_BYTES_MAX: u32 = 64 << 20;

/// `backup.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    /// `"lichen-backup/v1"`.
    pub format: String,
    pub chain_id: String,
    pub genesis_hash: String,
    /// The last block in the backup.
    pub height: u64,
    pub block_hash: String,
    pub taken_at_ms: u64,
}

pub const MANIFEST_FORMAT: &str = "lichen-backup/v1";

fn backup_error(path: &Path, reason: impl std::fmt::Display) -> NodeError {
    NodeError::Backup {
        path: path.to_path_buf(),
        reason: reason.to_string(),
    }
}

/// Writes a backup into an empty folder, one `GET /v1/blocks` answer at a time.
#[derive(Debug)]
pub struct BackupWriter {
    dir: PathBuf,
    blocks: BufWriter<File>,
}

impl BackupWriter {
    /// Starts a backup in `dir`, which must be empty or not exist.
    pub fn create(dir: &Path) -> Result<Self, NodeError> {
        if std::fs::read_dir(dir).is_ok_and(|mut e| e.next().is_some()) {
            return Err(backup_error(
                dir,
                "not empty: a backup goes into a new folder",
            ));
        }
        std::fs::create_dir_all(dir).map_err(|e| backup_error(dir, e))?;
        let path = dir.join(BLOCKS_FILE);
        let file = File::create(&path).map_err(|e| backup_error(&path, e))?;
        Ok(BackupWriter {
            dir: dir.to_path_buf(),
            blocks: BufWriter::new(file),
        })
    }

    /// Appends one answer (the encoded `Blocks`, as the API sent it).
    pub fn append(&mut self, answer: &[u8]) -> Result<(), NodeError> {
        let len = u32::try_from(answer.len())
            .ok()
            .filter(|l| *l <= BACKUP_FRAME_BYTES_MAX)
            .ok_or_else(|| backup_error(&self.dir, "a block answer is too large"))?;
        let path = self.dir.join(BLOCKS_FILE);
        self.blocks
            .write_all(&len.to_be_bytes())
            .and_then(|()| self.blocks.write_all(answer))
            .map_err(|e| backup_error(&path, e))
    }

    /// Syncs the blocks, then writes the manifest (synced too): the backup is complete.
    pub fn finish(self, manifest: &Manifest) -> Result<(), NodeError> {
        let path = self.dir.join(BLOCKS_FILE);
        let file = self
            .blocks
            .into_inner()
            .map_err(|e| backup_error(&path, e.error()))?;
        file.sync_all().map_err(|e| backup_error(&path, e))?;
        let path = self.dir.join(MANIFEST_FILE);
        let text = serde_json::to_string_pretty(manifest).map_err(|e| backup_error(&path, e))?;
        let mut file = File::create(&path).map_err(|e| backup_error(&path, e))?;
        file.write_all(text.as_bytes())
            .and_then(|()| file.sync_all())
            .map_err(|e| backup_error(&path, e))
    }
}

/// What a restore did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RestoreReport {
    pub height: u64,
    pub blocks: u64,
    pub transactions: u64,
}

/// Restores `backup` into the data directory `dir` (empty or absent) for `genesis`: built in
/// `<dir>.restore` and renamed to `dir` once every block is in and block `H` is the one the
/// manifest names; on any failure nothing is left. `progress(height, of)` after each answer.
pub fn restore_data_dir(
    dir: &Path,
    genesis: Genesis,
    cache_bytes: u64,
    backup: &Path,
    progress: &mut dyn FnMut(u64, u64),
) -> Result<RestoreReport, NodeError> {
    let manifest_path = backup.join(MANIFEST_FILE);
    let manifest: Manifest = std::fs::read_to_string(&manifest_path)
        .map_err(|e| backup_error(&manifest_path, format!("{e} (an unfinished backup?)")))
        .and_then(|t| serde_json::from_str(&t).map_err(|e| backup_error(&manifest_path, e)))?;
    if manifest.format != MANIFEST_FORMAT {
        return Err(backup_error(
            &manifest_path,
            format!("unknown format {:?}", manifest.format),
        ));
    }
    if manifest.genesis_hash != genesis.hash().to_hex() {
        return Err(backup_error(
            &manifest_path,
            format!(
                "a backup of chain '{}' (genesis {}), not of this genesis ({})",
                manifest.chain_id,
                manifest.genesis_hash,
                genesis.hash()
            ),
        ));
    }
    crate::data_dir::fill_beside(dir, ".restore", |staging| {
        restore_into(staging, genesis, cache_bytes, backup, &manifest, progress)
    })
    .map_err(|e| match e {
        Fill::NotEmpty => backup_error(
            dir,
            "not empty: a restore starts a node's data afresh; move it aside or choose another",
        ),
        Fill::Io { path, error } => backup_error(&path, error),
        Fill::Build(e) => e,
    })
}

fn restore_into(
    staging: &Path,
    genesis: Genesis,
    cache_bytes: u64,
    backup: &Path,
    manifest: &Manifest,
    progress: &mut dyn FnMut(u64, u64),
) -> Result<RestoreReport, NodeError> {
    let chain = Chain::open_dir(staging, genesis, STATE_VERSIONS_KEPT_DEFAULT, cache_bytes)?;
    let (suite, chain_id, genesis_hash) = (
        chain.suite(),
        chain.chain_id().to_string(),
        chain.genesis().hash(),
    );
    let path = backup.join(BLOCKS_FILE);
    let mut reader = BufReader::new(File::open(&path).map_err(|e| backup_error(&path, e))?);
    let mut report = RestoreReport {
        height: 0,
        blocks: 0,
        transactions: 0,
    };
    loop {
        let mut len = [0u8; 4];
        match reader.read_exact(&mut len) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => break,
            Err(e) => return Err(backup_error(&path, e)),
        }
        let len = u32::from_be_bytes(len);
        if len > BACKUP_FRAME_BYTES_MAX {
            return Err(backup_error(&path, format!("a frame of {len} bytes")));
        }
        let mut answer = vec![0u8; len as usize];
        reader
            .read_exact(&mut answer)
            .map_err(|e| backup_error(&path, format!("cut short: {e}")))?;
        let blocks = decode_blocks(&answer).map_err(|e| backup_error(&path, e))?;
        for certified in blocks {
            let (block, certificate) = (certified.block, certified.certificate);
            let h = block.header.height;
            let refuse = |reason: String| backup_error(&path, format!("block {h}: {reason}"));
            if h != report.height + 1 {
                return Err(refuse(format!("block {} was due", report.height + 1)));
            }
            if tx_root(suite, &block.txs) != block.header.tx_root {
                return Err(refuse("its transactions do not match its header".into()));
            }
            // The set in force signs the next block: checked before the block executes.
            let set = chain.next_validators()?;
            certificate
                .verify(suite, &chain_id, &genesis_hash, &block.header, &set)
                .map_err(|e| refuse(e.to_string()))?;
            chain.commit(&block, &certificate, block.header.time_ms)?;
            report.height = h;
            report.blocks += 1;
            report.transactions += block.txs.len() as u64;
            if h == manifest.height {
                break;
            }
        }
        progress(report.height, manifest.height);
        if report.height == manifest.height {
            break;
        }
    }
    let tip = chain.tip_header()?;
    if tip.height != manifest.height || tip.hash(suite).to_hex() != manifest.block_hash {
        return Err(backup_error(
            &path,
            format!(
                "ends at block {} ({}), but the manifest names block {} ({})",
                tip.height,
                tip.hash(suite),
                manifest.height,
                manifest.block_hash
            ),
        ));
    }
    chain.flush()?;
    Ok(report)
}
