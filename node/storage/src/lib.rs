//! Lichen's storage: a small ordered key-value trait ([`KvStore`]) with two backends, sled on
//! disk ([`SledKv`]) and an in-memory twin ([`MemoryKv`]) that pass the same conformance tests,
//! and the [`ChainStore`] that keeps blocks, certificates, state-tree nodes, indexes and metadata
//! on top of either.
//!
//! The one durability rule: everything a committed block changes is written by one atomic
//! [`WriteBatch`] and flushed before the commit is reported, so a crash at any instant leaves the
//! store at the last committed block, whole.

mod chain;
mod error;
mod kv;
pub mod layout;
mod sled_kv;

pub use chain::{BlockCommit, ChainStore, LicenceHistoryEntry, StoredTip, TxLocation};
pub use error::StoreError;
pub use kv::{Entry, KvStore, MemoryKv, WriteBatch};
pub use sled_kv::SledKv;
