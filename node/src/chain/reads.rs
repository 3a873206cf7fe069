//! Entries read at a state version, kept for the rest of that version.
//!
//! Every transaction reads the same few entries: the chain configuration, its agency, its
//! licence type. Each read walks the state tree from the root (five levels at 10^5 licences,
//! each a shared-cache lookup), and each transaction is checked at admission and executed by
//! the block builder and by every other validator. A version's entries never change, so a
//! value read at version `v` answers every later read of that key at `v`.
//!
//! Only values found are kept: a new licence's id is read once (to find it absent) and never
//! again, and keeping absences would fill the cache with them.

use std::collections::BTreeMap;
use std::sync::RwLock;

use lichen_contracts::crypto::Hash32;
use lichen_contracts::error::StorageError;
use lichen_contracts::state::StateView;

/// Entries kept for one version, at most.
pub const VERSION_READS_MAX: usize = 1_024;
/// The largest value kept, in bytes (a configuration with a council of dozens of keys fits;
/// a licence's own entry is read rarely enough not to matter).
pub const VERSION_READ_BYTES_MAX: usize = 16 * 1024;

/// The values read at the newest version asked for (reads of older versions pass by).
#[derive(Debug, Default)]
pub struct VersionReads {
    inner: RwLock<Kept>,
}

#[derive(Debug, Default)]
struct Kept {
    version: u64,
    values: BTreeMap<Hash32, Vec<u8>>,
}

impl VersionReads {
    fn get(&self, version: u64, key: &Hash32) -> Option<Vec<u8>> {
        let kept = self.inner.read().ok()?;
        (kept.version == version)
            .then(|| kept.values.get(key).cloned())
            .flatten()
    }

    fn keep(&self, version: u64, key: &Hash32, value: &[u8]) {
        if value.len() > VERSION_READ_BYTES_MAX {
            return;
        }
        // Full for this version (say, a block of revocations, each reading its own licence):
        // no write lock taken, for each read, to learn it.
        if self
            .inner
            .read()
            .is_ok_and(|kept| kept.version == version && kept.values.len() >= VERSION_READS_MAX)
        {
            return;
        }
        let Ok(mut kept) = self.inner.write() else {
            return;
        };
        if version > kept.version {
            kept.version = version;
            kept.values.clear();
        }
        if version == kept.version && kept.values.len() < VERSION_READS_MAX {
            kept.values.insert(*key, value.to_vec());
        }
    }
}

/// A state view at `version` that answers from `reads` what was read at it before.
pub struct KeptReads<'a, S: StateView> {
    state: S,
    version: u64,
    reads: &'a VersionReads,
}

impl<'a, S: StateView> KeptReads<'a, S> {
    /// `state` is the state at `version`.
    pub fn new(state: S, version: u64, reads: &'a VersionReads) -> Self {
        Self {
            state,
            version,
            reads,
        }
    }
}

impl<S: StateView> std::fmt::Debug for KeptReads<'_, S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeptReads")
            .field("version", &self.version)
            .finish_non_exhaustive()
    }
}

impl<S: StateView> StateView for KeptReads<'_, S> {
    fn get_raw(&self, key: &Hash32) -> Result<Option<Vec<u8>>, StorageError> {
        if let Some(value) = self.reads.get(self.version, key) {
            return Ok(Some(value));
        }
        let value = self.state.get_raw(key)?;
        if let Some(value) = &value {
            self.reads.keep(self.version, key, value);
        }
        Ok(value)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;
    use std::cell::Cell;

    /// A view whose value at a key is its version's number, counting its reads.
    struct Versioned {
        version: u64,
        reads: Cell<usize>,
    }

    impl StateView for Versioned {
        fn get_raw(&self, key: &Hash32) -> Result<Option<Vec<u8>>, StorageError> {
            self.reads.set(self.reads.get() + 1);
            Ok((key.0[0] != 0).then(|| self.version.to_be_bytes().to_vec()))
        }
    }

    fn view(reads: &VersionReads, version: u64) -> KeptReads<'_, Versioned> {
        KeptReads::new(
            Versioned {
                version,
                reads: Cell::new(0),
            },
            version,
            reads,
        )
    }

    /// The value `Versioned` holds at a present key at `version`.
    fn value_at(version: u64) -> Option<Vec<u8>> {
        Some(version.to_be_bytes().to_vec())
    }

    #[test]
    fn a_value_is_read_once_per_version_and_never_from_another() {
        let reads = VersionReads::default();
        let present = Hash32([1; 32]);
        let absent = Hash32([0; 32]);
        let v5 = view(&reads, 5);
        for _ in 0..3 {
            assert_eq!(v5.get_raw(&present).unwrap(), value_at(5));
            assert_eq!(v5.get_raw(&absent).unwrap(), None);
        }
        // One read of the present key; the absent one is read every time (absences not kept).
        assert_eq!(v5.state.reads.get(), 1 + 3);
        // A newer version reads again and replaces what was kept.
        let v6 = view(&reads, 6);
        assert_eq!(v6.get_raw(&present).unwrap(), value_at(6));
        assert_eq!(v6.state.reads.get(), 1);
        // An older version reads through, and neither gets nor replaces the newer values.
        let v5 = view(&reads, 5);
        assert_eq!(v5.get_raw(&present).unwrap(), value_at(5));
        assert_eq!(v5.get_raw(&present).unwrap(), value_at(5));
        assert_eq!(v5.state.reads.get(), 2);
        let v6 = view(&reads, 6);
        assert_eq!(v6.get_raw(&present).unwrap(), value_at(6));
        assert_eq!(v6.state.reads.get(), 0);
    }

    #[test]
    fn what_is_kept_is_bounded() {
        let reads = VersionReads::default();
        let v = view(&reads, 1);
        for i in 0..(VERSION_READS_MAX + 10) {
            let mut key = [1u8; 32];
            key[1..9].copy_from_slice(&(i as u64).to_be_bytes());
            v.get_raw(&Hash32(key)).unwrap();
        }
        assert_eq!(reads.inner.read().unwrap().values.len(), VERSION_READS_MAX);
        let big = vec![7u8; VERSION_READ_BYTES_MAX + 1];
        let reads = VersionReads::default();
        reads.keep(1, &Hash32([1; 32]), &big);
        assert_eq!(reads.get(1, &Hash32([1; 32])), None);
    }
}
