//! State keys and views: every entry (chain config, validator set, agency, licence type,
//! submitter, licence, evidence, observer) lives in one authenticated map keyed by a 32-byte hash.

use alloc::collections::{BTreeMap, BTreeSet};
use alloc::string::String;
use alloc::vec::Vec;

use crate::codec::{Decode, Encode, Writer};
use crate::crypto::{Hash32, Suite, domain};
use crate::error::{CodecError, StorageError};

/// The logical key of a state entry. Its tree key is
/// `H("lichen/state-key/v1", kind (u8) || id)`, with the id encoded as in PROTOCOL.md.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Debug)]
pub enum StateKey {
    /// Kind 1, no id: the [`crate::model::ChainConfig`].
    Config,
    /// Kind 2, no id: the [`crate::model::ValidatorSet`] that signs the next block.
    Validators,
    /// Kind 3: an [`crate::model::Agency`] by id (string).
    Agency(String),
    /// Kind 4: a [`crate::model::LicenceType`] by code (string).
    LicenceType(String),
    /// Kind 5: a [`crate::model::Submitter`] by id (string).
    Submitter(String),
    /// Kind 6: a [`crate::model::Licence`] by licence id (string).
    Licence(String),
    /// Kind 7: an [`crate::model::Evidence`] by the anchored hash (32 raw bytes).
    Evidence(Hash32),
    /// Kind 8: an [`crate::model::Observer`] by its libp2p peer id (bytes).
    Observer(Vec<u8>),
}

impl StateKey {
    pub fn kind(&self) -> u8 {
        match self {
            StateKey::Config => 1,
            StateKey::Validators => 2,
            StateKey::Agency(_) => 3,
            StateKey::LicenceType(_) => 4,
            StateKey::Submitter(_) => 5,
            StateKey::Licence(_) => 6,
            StateKey::Evidence(_) => 7,
            StateKey::Observer(_) => 8,
        }
    }

    /// The 32-byte key in the sparse Merkle tree.
    pub fn hash(&self, suite: Suite) -> Hash32 {
        let mut w = Writer::with_capacity(72);
        w.u8(self.kind());
        match self {
            StateKey::Config | StateKey::Validators => {}
            StateKey::Agency(id)
            | StateKey::LicenceType(id)
            | StateKey::Submitter(id)
            | StateKey::Licence(id) => w.str(id),
            StateKey::Evidence(hash) => w.raw(hash.as_bytes()),
            StateKey::Observer(peer_id) => w.bytes(peer_id),
        }
        suite.hash(domain::STATE_KEY, &[w.as_bytes()])
    }
}

/// Read access to committed state, by tree key. Implemented over the state tree (in memory here,
/// sled in the node).
pub trait StateView {
    fn get_raw(&self, key: &Hash32) -> Result<Option<Vec<u8>>, StorageError>;
}

/// Typed reads on top of any [`StateView`].
pub trait StateViewExt: StateView {
    fn get_entry<T: Decode>(
        &self,
        suite: Suite,
        key: &StateKey,
    ) -> Result<Option<T>, StorageError> {
        match self.get_raw(&key.hash(suite))? {
            None => Ok(None),
            Some(bytes) => Ok(Some(T::from_bytes(&bytes).map_err(StorageError::Corrupt)?)),
        }
    }
}

impl<S: StateView + ?Sized> StateViewExt for S {}

/// A plain in-memory map as state (tests, the simulator, genesis building).
impl StateView for BTreeMap<Hash32, Vec<u8>> {
    fn get_raw(&self, key: &Hash32) -> Result<Option<Vec<u8>>, StorageError> {
        Ok(self.get(key).cloned())
    }
}

/// State writes: tree key to new value (`None` deletes). Sorted, so applying them is deterministic.
pub type WriteSet = BTreeMap<Hash32, Option<Vec<u8>>>;

/// Pending writes over a base view: what a block's transactions see while it executes.
#[derive(Debug)]
pub struct Overlay<'a, S: StateView + ?Sized> {
    base: &'a S,
    writes: WriteSet,
}

impl<'a, S: StateView + ?Sized> Overlay<'a, S> {
    pub fn new(base: &'a S) -> Self {
        Self {
            base,
            writes: WriteSet::new(),
        }
    }

    pub fn apply(&mut self, writes: WriteSet) {
        self.writes.extend(writes);
    }

    pub fn writes(&self) -> &WriteSet {
        &self.writes
    }

    pub fn into_writes(self) -> WriteSet {
        self.writes
    }
}

impl<S: StateView + ?Sized> StateView for Overlay<'_, S> {
    fn get_raw(&self, key: &Hash32) -> Result<Option<Vec<u8>>, StorageError> {
        match self.writes.get(key) {
            Some(value) => Ok(value.clone()),
            None => self.base.get_raw(key),
        }
    }
}

/// Ids of transactions seen recently, each kept until its expiry height passes. Together with the
/// rule that a transaction's expiry is at most `tx_expiry_blocks_max` ahead, this refuses every
/// replay while holding at most `tx_expiry_blocks_max * block_txs_max` ids.
///
/// The window is not part of the state root: every node rebuilds it from the last
/// `tx_expiry_blocks_max` blocks, which it has.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ReplayWindow {
    by_expiry: BTreeMap<u64, BTreeSet<Hash32>>,
    ids: BTreeSet<Hash32>,
}

impl ReplayWindow {
    pub fn contains(&self, id: &Hash32) -> bool {
        self.ids.contains(id)
    }

    pub fn insert(&mut self, id: Hash32, expires_at_height: u64) {
        if self.ids.insert(id) {
            self.by_expiry
                .entry(expires_at_height)
                .or_default()
                .insert(id);
        }
    }

    /// Forgets ids whose expiry height is below `height`: they can no longer be included anyway.
    pub fn prune_below(&mut self, height: u64) {
        let keep = self.by_expiry.split_off(&height);
        for ids in core::mem::replace(&mut self.by_expiry, keep).into_values() {
            for id in ids {
                self.ids.remove(&id);
            }
        }
    }

    pub fn len(&self) -> usize {
        self.ids.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }
}

/// Encodes an entry for storage under its key.
pub fn entry_bytes<T: Encode>(entry: &T) -> Vec<u8> {
    entry.to_bytes()
}

/// Decodes a stored entry; corrupt bytes are a storage fault, not a user error.
pub fn decode_entry<T: Decode>(bytes: &[u8]) -> Result<T, StorageError> {
    T::from_bytes(bytes).map_err(|e: CodecError| StorageError::Corrupt(e))
}
