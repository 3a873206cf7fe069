//! The chain store's key layout: one-byte key prefixes, metadata names and the byte widths of
//! the fields keys and values are made of.
//!
//! Every key starts with a one-byte prefix; integers are big-endian so that keys sort by number:
//!
//! | prefix | key after the prefix | value |
//! |---|---|---|
//! | `m` | a metadata name (`tip`, `genesis`, `consensus`, `pruned_below`, `layout`) | see the `META_*` names |
//! | `b` | height u64 | the encoded [`Block`](lichen_contracts::block::Block) |
//! | `c` | height u64 | the encoded [`CommitCertificate`](lichen_contracts::block::CommitCertificate) (none for block 0) |
//! | `n` | encoded [`NodeKey`](lichen_contracts::smt::NodeKey) | the encoded state-tree [`Node`](lichen_contracts::smt::Node) |
//! | `s` | version u64 | the encoded [`NodeKey`](lichen_contracts::smt::NodeKey)s of the nodes that version made stale, concatenated (each encoding says its length) |
//! | `v` | height u64 | the [`ValidatorSet`](lichen_contracts::model::ValidatorSet) that signs the blocks after `height` (at 0 and at each change) |
//! | `t` | tx id (32) | height u64 ‖ index u32 |
//! | `l` | licence id ‖ 0x00 ‖ height u64 ‖ index u32 | tx id (32) ‖ status u8 |
//! | `a` | agency id ‖ 0x00 ‖ height u64 ‖ index u32 | licence id |
//! | `e` | evidence hash (32) | height u64 ‖ index u32 |
//! | `k` | kind u8 (a [`StateKind`](lichen_contracts::state::StateKind): 3 agency, 4 licence type, 5 submitter, 8 observer) ‖ id (an observer's is its peer id bytes) | empty (to list registered entities) |
//!
//! The replay check reads `t` (see `ChainStore`'s `ReplayLookup`). Stores of the layout before
//! [`LAYOUT_VERSION`] 2 (no `layout` metadata) also hold a second index of the replay window
//! under `r` (tx id → expiry) and `x` (expiry ‖ tx id → empty), which [`LEGACY_PREFIXES`]
//! names, and the stale-node index one key per node (`s` ‖ version ‖ node key → empty). Opening a node deletes the first and
//! regroups the second (`ChainStore::upgrade_legacy_keys`).
//!
//! Identifiers never contain 0x00 (they are checked printable), so `id ‖ 0x00` is a prefix that
//! no other id's entries share. (Entity index keys end with the id, so they need no separator;
//! observer peer ids there are raw bytes.)

pub const META: u8 = b'm';
pub const BLOCK: u8 = b'b';
pub const CERTIFICATE: u8 = b'c';
pub const NODE: u8 = b'n';
pub const STALE: u8 = b's';
pub const VALIDATORS: u8 = b'v';
pub const TX: u8 = b't';
pub const LICENCE: u8 = b'l';
pub const AGENCY: u8 = b'a';
pub const EVIDENCE: u8 = b'e';
pub const ENTITY: u8 = b'k';
/// Key prefixes no version writes any more: deleted when a node opens its store.
pub const LEGACY_PREFIXES: [u8; 2] = [b'r', b'x'];

/// Height u64 ‖ block hash (32): the last committed block.
pub const META_TIP: &[u8] = b"tip";
/// The encoded genesis the store was initialised with.
pub const META_GENESIS: &[u8] = b"genesis";
/// The consensus core's persisted voting state (opaque bytes here).
pub const META_CONSENSUS: &[u8] = b"consensus";
/// u64: state versions below this one may have been pruned.
pub const META_PRUNED_BELOW: &[u8] = b"pruned_below";
/// u32: the layout the store is written in ([`LAYOUT_VERSION`]); none before version 2.
pub const META_LAYOUT: &[u8] = b"layout";

/// This version's layout: 2 since the replay check reads `t` and `s` holds a list per version.
pub const LAYOUT_VERSION: u32 = 2;

/// The key prefix.
pub const PREFIX_BYTES: usize = 1;
/// A height (also an expiry height or a state version): u64, big-endian.
pub const HEIGHT_BYTES: usize = 8;
/// A transaction's index in its block: u32, big-endian.
pub const INDEX_BYTES: usize = 4;
/// A transaction id.
pub const TX_ID_BYTES: usize = 32;
/// A hash (a block hash, an evidence hash).
pub const HASH_BYTES: usize = 32;
/// A state kind in an entity-index key.
pub const KIND_BYTES: usize = 1;
/// A licence status in a licence-history value.
pub const STATUS_BYTES: usize = 1;
/// Where a transaction was committed: height ‖ index.
pub const LOCATION_BYTES: usize = HEIGHT_BYTES + INDEX_BYTES;
/// The tip: height ‖ block hash.
pub const TIP_BYTES: usize = HEIGHT_BYTES + HASH_BYTES;
/// A licence-history value: tx id ‖ status.
pub const LICENCE_HISTORY_BYTES: usize = TX_ID_BYTES + STATUS_BYTES;
/// The length of a key that is a prefix and a height (and where an older layout's `s` keys had
/// their node key).
pub const AFTER_HEIGHT: usize = PREFIX_BYTES + HEIGHT_BYTES;
/// Where the id in an entity-index key begins.
pub const ENTITY_ID_AT: usize = PREFIX_BYTES + KIND_BYTES;
