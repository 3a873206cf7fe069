//! State keys and views: every entry (chain config, validator set, agency, licence type,
//! submitter, licence, evidence, observer) lives in one authenticated map keyed by a 32-byte hash.

use alloc::collections::BTreeMap;
use alloc::string::String;
use alloc::vec::Vec;

use crate::codec::{Decode, Encode, Writer};
use crate::crypto::{Hash32, Suite, domain};
use crate::error::{CodecError, StorageError};

pub use crate::replay::ReplayWindow;

/// The kind of a state entry: the first byte hashed into its tree key (PROTOCOL.md, "State
/// entries"), and the kind the node's entity index is keyed by.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
#[repr(u8)]
pub enum StateKind {
    /// The [`crate::model::ChainConfig`].
    Config = 1,
    /// The [`crate::model::ValidatorSet`] that signs the next block.
    Validators = 2,
    /// An [`crate::model::Agency`].
    Agency = 3,
    /// A [`crate::model::LicenceType`].
    LicenceType = 4,
    /// A [`crate::model::Submitter`].
    Submitter = 5,
    /// A [`crate::model::Licence`].
    Licence = 6,
    /// An [`crate::model::Evidence`].
    Evidence = 7,
    /// An [`crate::model::Observer`].
    Observer = 8,
    /// A [`crate::revocation::RevocationMark`]: a licence that is not active.
    RevocationMark = 9,
    /// The revocation region's sentinel ([`crate::revocation`]).
    RevocationSentinel = 10,
}

impl StateKind {
    /// Every kind, in byte order.
    pub const ALL: [StateKind; 10] = [
        StateKind::Config,
        StateKind::Validators,
        StateKind::Agency,
        StateKind::LicenceType,
        StateKind::Submitter,
        StateKind::Licence,
        StateKind::Evidence,
        StateKind::Observer,
        StateKind::RevocationMark,
        StateKind::RevocationSentinel,
    ];

    /// The kind byte.
    pub fn as_u8(self) -> u8 {
        self as u8
    }

    /// The kind with this byte, if any.
    pub fn from_u8(byte: u8) -> Option<StateKind> {
        StateKind::ALL.into_iter().find(|k| k.as_u8() == byte)
    }

    /// A short name for messages: `config`, `validators`, `agency`, `licence-type`, `submitter`,
    /// `licence`, `evidence`, `observer`, `revocation-mark`, `revocation-sentinel`.
    pub fn name(self) -> &'static str {
        match self {
            StateKind::Config => "config",
            StateKind::Validators => "validators",
            StateKind::Agency => "agency",
            StateKind::LicenceType => "licence-type",
            StateKind::Submitter => "submitter",
            StateKind::Licence => "licence",
            StateKind::Evidence => "evidence",
            StateKind::Observer => "observer",
            StateKind::RevocationMark => "revocation-mark",
            StateKind::RevocationSentinel => "revocation-sentinel",
        }
    }
}

impl core::fmt::Display for StateKind {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.name())
    }
}

/// The logical key of a state entry. Its tree key is
/// `H("lichen/state-key/v1", kind (u8) || id)`, with the id encoded as in PROTOCOL.md, except for
/// the revocation region's entries, whose keys are built to share a prefix
/// ([`crate::revocation`]).
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
    /// Kind 9: the revocation mark of a licence (by licence id; the key holds only its tag).
    RevocationMark(String),
    /// Kind 10: the revocation region's sentinel.
    RevocationSentinel,
}

impl StateKey {
    /// The entry's kind.
    pub fn state_kind(&self) -> StateKind {
        match self {
            StateKey::Config => StateKind::Config,
            StateKey::Validators => StateKind::Validators,
            StateKey::Agency(_) => StateKind::Agency,
            StateKey::LicenceType(_) => StateKind::LicenceType,
            StateKey::Submitter(_) => StateKind::Submitter,
            StateKey::Licence(_) => StateKind::Licence,
            StateKey::Evidence(_) => StateKind::Evidence,
            StateKey::Observer(_) => StateKind::Observer,
            StateKey::RevocationMark(_) => StateKind::RevocationMark,
            StateKey::RevocationSentinel => StateKind::RevocationSentinel,
        }
    }

    /// The entry's kind byte ([`StateKind::as_u8`]).
    pub fn kind(&self) -> u8 {
        self.state_kind().as_u8()
    }

    /// The registered entity (agency, licence type, submitter, observer) a state leaf holds, if
    /// it holds one: its value decodes as that entity and the entity's key hashes to the leaf's
    /// key. Leaves carry only hashed keys, so this is how a node that joined by state sync
    /// rebuilds its index of registered entities, with nothing taken on trust.
    pub fn entity_of_leaf(suite: Suite, key: &Hash32, value: &[u8]) -> Option<StateKey> {
        use crate::model::{Agency, LicenceType, Observer, Submitter};
        type Decoder = fn(&[u8]) -> Option<StateKey>;
        let decoders: [Decoder; 4] = [
            |v| Agency::from_bytes(v).ok().map(|a| StateKey::Agency(a.id)),
            |v| {
                LicenceType::from_bytes(v)
                    .ok()
                    .map(|t| StateKey::LicenceType(t.code))
            },
            |v| {
                Submitter::from_bytes(v)
                    .ok()
                    .map(|s| StateKey::Submitter(s.id))
            },
            |v| {
                Observer::from_bytes(v)
                    .ok()
                    .map(|o| StateKey::Observer(o.peer_id))
            },
        ];
        decoders
            .iter()
            .filter_map(|decode| decode(value))
            .find(|candidate| candidate.hash(suite) == *key)
    }

    /// The 32-byte key in the sparse Merkle tree.
    pub fn hash(&self, suite: Suite) -> Hash32 {
        match self {
            StateKey::RevocationMark(id) => {
                return crate::revocation::mark_key(&crate::revocation::mark_tag(suite, id));
            }
            StateKey::RevocationSentinel => return crate::revocation::sentinel_key(),
            _ => {}
        }
        let mut w = Writer::with_capacity(72);
        w.u8(self.kind());
        match self {
            StateKey::Config
            | StateKey::Validators
            | StateKey::RevocationMark(_)
            | StateKey::RevocationSentinel => {}
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
/// fjall in the node).
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

/// Encodes an entry for storage under its key.
pub fn entry_bytes<T: Encode>(entry: &T) -> Vec<u8> {
    entry.to_bytes()
}

/// Decodes a stored entry; corrupt bytes are a storage fault, not a user error.
pub fn decode_entry<T: Decode>(bytes: &[u8]) -> Result<T, StorageError> {
    T::from_bytes(bytes).map_err(|e: CodecError| StorageError::Corrupt(e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn state_kinds_keep_their_bytes() {
        let keys = [
            (StateKey::Config, 1, "config"),
            (StateKey::Validators, 2, "validators"),
            (StateKey::Agency("a".into()), 3, "agency"),
            (StateKey::LicenceType("t".into()), 4, "licence-type"),
            (StateKey::Submitter("s".into()), 5, "submitter"),
            (StateKey::Licence("l".into()), 6, "licence"),
            (StateKey::Evidence(Hash32::ZERO), 7, "evidence"),
            (StateKey::Observer(Vec::from([1u8])), 8, "observer"),
            (StateKey::RevocationMark("l".into()), 9, "revocation-mark"),
            (StateKey::RevocationSentinel, 10, "revocation-sentinel"),
        ];
        for (i, (key, byte, name)) in keys.iter().enumerate() {
            let kind = key.state_kind();
            assert_eq!(kind, StateKind::ALL[i]);
            assert_eq!(key.kind(), *byte);
            assert_eq!(kind.as_u8(), *byte);
            assert_eq!(StateKind::from_u8(*byte), Some(kind));
            assert_eq!(kind.name(), *name);
        }
        assert_eq!(StateKind::from_u8(0), None);
        assert_eq!(StateKind::from_u8(11), None);
    }
}
