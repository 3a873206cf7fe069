//! Lichen's storage: a small ordered key-value trait ([`KvStore`]) with two backends, fjall on
//! disk ([`FjallKv`]) and an in-memory twin ([`MemoryKv`]) that pass the same conformance tests,
//! and the [`ChainStore`] that keeps blocks, certificates, state-tree nodes, indexes and metadata
//! on top of either.
//!
//! The one durability rule: everything a committed block changes is written by one atomic
//! [`WriteBatch`] and flushed before the commit is reported, so a crash at any instant leaves the
//! store at the last committed block, whole. The consensus core's votes live in a
//! [`StateFile`] of their own, replaced atomically and fsynced.

mod chain;
mod error;
mod fjall_kv;
mod indexes;
mod kv;
pub mod layout;
mod recent_ids;
mod restore;
mod state_file;
mod upgrade;
mod warm;

pub use chain::{BlockCommit, ChainStore, LISTING_MAX, LicenceHistoryEntry, StoredTip, TxLocation};
pub use error::StoreError;
pub use fjall_kv::{CACHE_BYTES_DEFAULT, FjallKv};
pub use kv::{EngineStats, Entry, KvStore, MemoryKv, WriteBatch};
pub use recent_ids::{RECENT_IDS_MAX, RECENT_IDS_SWEEP_BLOCKS};
pub use restore::RestoredChain;
pub use state_file::{DurableFs, OsFs, STATE_FILE_NAME, StateFile};
pub use warm::Warmed;
