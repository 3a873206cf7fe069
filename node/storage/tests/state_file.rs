//! The consensus state file under a file system that records every call and can fail any one:
//! the state is written to a temporary file and synced, renamed over the old one, then the
//! directory is synced, in that order; a failure at any step returns an error (so the node sends
//! no vote it could not persist) and leaves the previous state readable; a damaged file is
//! reported as corrupt, never read as some other state; and on a real directory a store keeps
//! its state there across reopening.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use lichen_storage::{ChainStore, DurableFs, MemoryKv, STATE_FILE_NAME, StateFile, StoreError};

#[derive(Debug, Default)]
struct FakeFs {
    files: Mutex<BTreeMap<PathBuf, Vec<u8>>>,
    calls: Mutex<Vec<String>>,
    /// The call (by name) that fails next, once.
    fail: Mutex<Option<&'static str>>,
}

impl FakeFs {
    fn call(&self, name: &'static str, path: &Path) -> std::io::Result<()> {
        let file = path.file_name().map(|f| f.to_string_lossy().into_owned());
        self.calls
            .lock()
            .unwrap()
            .push(format!("{name} {}", file.unwrap_or_default()));
        let mut fail = self.fail.lock().unwrap();
        if *fail == Some(name) {
            *fail = None;
            return Err(std::io::Error::other(format!("injected failure of {name}")));
        }
        Ok(())
    }
}

impl DurableFs for FakeFs {
    fn write_synced(&self, path: &Path, bytes: &[u8]) -> std::io::Result<()> {
        self.call("write_synced", path)?;
        self.files
            .lock()
            .unwrap()
            .insert(path.into(), bytes.to_vec());
        Ok(())
    }

    fn rename(&self, from: &Path, to: &Path) -> std::io::Result<()> {
        self.call("rename", to)?;
        let mut files = self.files.lock().unwrap();
        let bytes = files.remove(from).unwrap();
        files.insert(to.into(), bytes);
        Ok(())
    }

    fn sync_dir(&self, dir: &Path) -> std::io::Result<()> {
        self.call("sync_dir", dir)
    }

    fn read(&self, path: &Path) -> std::io::Result<Option<Vec<u8>>> {
        Ok(self.files.lock().unwrap().get(path).cloned())
    }
}

#[test]
fn writes_in_a_durable_order_and_a_failed_step_keeps_the_old_state() {
    let fs = Arc::new(FakeFs::default());
    let dir = PathBuf::from("/data");
    let store =
        ChainStore::new(MemoryKv::new()).with_state_file(StateFile::with_fs(&dir, fs.clone()));
    assert_eq!(store.consensus_state().unwrap(), None);

    store.put_consensus_state(b"voted prepare for X").unwrap();
    assert_eq!(
        *fs.calls.lock().unwrap(),
        [
            "write_synced consensus-state.tmp",
            "rename consensus-state",
            "sync_dir data"
        ]
    );
    assert_eq!(
        store.consensus_state().unwrap().as_deref(),
        Some(&b"voted prepare for X"[..])
    );

    for step in ["write_synced", "rename", "sync_dir"] {
        *fs.fail.lock().unwrap() = Some(step);
        let err = store
            .put_consensus_state(b"voted commit for X")
            .unwrap_err();
        assert!(matches!(err, StoreError::Backend { .. }), "{step}: {err}");
        if step != "sync_dir" {
            // Not yet replaced: the old state is what a restart reads.
            assert_eq!(
                store.consensus_state().unwrap().as_deref(),
                Some(&b"voted prepare for X"[..]),
                "{step}"
            );
        }
        // Put back for the next step.
        store.put_consensus_state(b"voted prepare for X").unwrap();
    }

    // A damaged file is corrupt, whatever the damage.
    let path = dir.join(STATE_FILE_NAME);
    let good = fs.files.lock().unwrap()[&path].clone();
    for (what, bad) in [
        ("a flipped byte", {
            let mut b = good.clone();
            b[10] ^= 1;
            b
        }),
        ("cut short", good[..good.len() - 1].to_vec()),
        (
            "another file",
            b"not a state file at all, long enough to frame".to_vec(),
        ),
    ] {
        fs.files.lock().unwrap().insert(path.clone(), bad);
        let err = store.consensus_state().unwrap_err();
        assert!(matches!(err, StoreError::Corrupt { .. }), "{what}: {err}");
    }
}

#[test]
fn a_store_on_disk_keeps_its_state_across_reopening() {
    let dir = tempfile::tempdir().unwrap();
    let open = || ChainStore::new(MemoryKv::new()).with_state_file(StateFile::new(dir.path()));
    open().put_consensus_state(&[7; 300_000]).unwrap();
    assert_eq!(open().consensus_state().unwrap(), Some(vec![7; 300_000]));
    assert!(!dir.path().join("consensus-state.tmp").exists());
}
