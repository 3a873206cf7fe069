//! The consensus core's persisted state (its votes and the block it prepared) in a file of its
//! own, so that a vote a validator sent survives a power cut.
//!
//! (It began when the store was sled 0.34, whose flush never fsynced the blob files that hold
//! values over ~128 KiB, such as a persisted prepared block; it stays because a file of its own
//! makes the rule plain and does not depend on the key-value store's journal.) A validator that
//! lost the record of a vote it had sent could restart and vote differently in the same view.
//! Here each write goes to `consensus-state.tmp`, is `fdatasync`ed, renamed over
//! `consensus-state`, and the directory is fsynced: after a crash the file holds the old state
//! or the new one, whole, never neither. A framed checksum tells a damaged file apart.
//!
//! Frame: `b"LCS1"`, `u32` big-endian length, the bytes, then `SHA-256(bytes)`.

use std::fmt::Debug;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use lichen_contracts::crypto::Suite;

use crate::StoreError;

/// The file's name in the data directory.
pub const STATE_FILE_NAME: &str = "consensus-state";
const TMP_NAME: &str = "consensus-state.tmp";
const MAGIC: &[u8; 4] = b"LCS1";
const DIGEST_BYTES: usize = 32;

/// The file-system calls a durable replace needs, so that tests can fail any of them.
pub trait DurableFs: Send + Sync + Debug {
    /// Creates or truncates `path`, writes `bytes` and `fdatasync`s it.
    fn write_synced(&self, path: &Path, bytes: &[u8]) -> std::io::Result<()>;
    /// Atomically replaces `to` with `from`.
    fn rename(&self, from: &Path, to: &Path) -> std::io::Result<()>;
    /// Makes a rename in `dir` durable.
    fn sync_dir(&self, dir: &Path) -> std::io::Result<()>;
    /// The file's bytes, or `None` if it does not exist.
    fn read(&self, path: &Path) -> std::io::Result<Option<Vec<u8>>>;
}

/// The operating system's file system.
#[derive(Debug, Default, Clone, Copy)]
pub struct OsFs;

impl DurableFs for OsFs {
    fn write_synced(&self, path: &Path, bytes: &[u8]) -> std::io::Result<()> {
        let mut file = std::fs::File::create(path)?;
        file.write_all(bytes)?;
        file.sync_data()
    }

    fn rename(&self, from: &Path, to: &Path) -> std::io::Result<()> {
        std::fs::rename(from, to)
    }

    fn sync_dir(&self, dir: &Path) -> std::io::Result<()> {
        std::fs::File::open(dir)?.sync_all()
    }

    fn read(&self, path: &Path) -> std::io::Result<Option<Vec<u8>>> {
        match std::fs::read(path) {
            Ok(bytes) => Ok(Some(bytes)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }
}

/// The consensus state file in a directory.
#[derive(Debug, Clone)]
pub struct StateFile {
    dir: PathBuf,
    fs: Arc<dyn DurableFs>,
}

fn backend(operation: &'static str) -> impl Fn(std::io::Error) -> StoreError {
    move |e| StoreError::Backend {
        operation,
        reason: e.to_string(),
    }
}

impl StateFile {
    /// The file in `dir`, on the operating system's file system.
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self::with_fs(dir, Arc::new(OsFs))
    }

    pub fn with_fs(dir: impl Into<PathBuf>, fs: Arc<dyn DurableFs>) -> Self {
        StateFile {
            dir: dir.into(),
            fs,
        }
    }

    /// Replaces the stored state with `bytes`, durably, before returning.
    pub fn write(&self, bytes: &[u8]) -> Result<(), StoreError> {
        let len = u32::try_from(bytes.len()).map_err(|_| StoreError::Backend {
            operation: "write consensus state",
            reason: format!("{} bytes is over 4 GiB", bytes.len()),
        })?;
        let mut frame = Vec::with_capacity(8 + bytes.len() + DIGEST_BYTES);
        frame.extend_from_slice(MAGIC);
        frame.extend_from_slice(&len.to_be_bytes());
        frame.extend_from_slice(bytes);
        frame.extend_from_slice(Suite::Intl.digest(bytes).as_bytes());
        let tmp = self.dir.join(TMP_NAME);
        self.fs
            .write_synced(&tmp, &frame)
            .map_err(backend("write consensus state"))?;
        self.fs
            .rename(&tmp, &self.dir.join(STATE_FILE_NAME))
            .map_err(backend("replace consensus state"))?;
        self.fs
            .sync_dir(&self.dir)
            .map_err(backend("sync the data directory"))
    }

    /// The stored state, or `None` if there is none yet. A file that is not a whole frame with
    /// its checksum is corrupt (a disk fault: a crash cannot leave one).
    pub fn read(&self) -> Result<Option<Vec<u8>>, StoreError> {
        let Some(frame) = self
            .fs
            .read(&self.dir.join(STATE_FILE_NAME))
            .map_err(backend("read consensus state"))?
        else {
            return Ok(None);
        };
        let corrupt = |reason: &'static str| StoreError::Corrupt {
            what: "consensus state file",
            source: lichen_contracts::CodecError::InvalidValue {
                field: "consensus-state",
                reason,
            },
        };
        if frame.len() < 8 + DIGEST_BYTES || &frame[..4] != MAGIC {
            return Err(corrupt("not a consensus state file"));
        }
        let len = u32::from_be_bytes([frame[4], frame[5], frame[6], frame[7]]) as usize;
        if frame.len() != 8 + len + DIGEST_BYTES {
            return Err(corrupt("length does not match the file"));
        }
        let (bytes, digest) = frame[8..].split_at(len);
        if Suite::Intl.digest(bytes).as_bytes() != digest {
            return Err(corrupt("checksum does not match"));
        }
        Ok(Some(bytes.to_vec()))
    }
}
