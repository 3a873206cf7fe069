//! What an accepted transaction changed: its state writes and the events receipts and the node's
//! indexes are built from.

use alloc::string::String;
use alloc::vec::Vec;

use crate::crypto::Hash32;
use crate::model::LicenceStatus;
use crate::state::WriteSet;

/// What a transaction changed, for receipts and the node's indexes.
#[derive(Clone, PartialEq, Eq, Debug)]
pub enum Event {
    LicenceChanged {
        id: String,
        status: LicenceStatus,
    },
    EvidenceAnchored {
        hash: Hash32,
    },
    AgencyChanged {
        id: String,
    },
    LicenceTypeChanged {
        code: String,
    },
    SubmitterChanged {
        id: String,
    },
    ValidatorSetChanged {
        size: usize,
    },
    CouncilChanged,
    /// An observer was admitted (its state entry written).
    ObserverAdded {
        peer_id: Vec<u8>,
    },
    /// An observer was withdrawn (its state entry deleted).
    ObserverRemoved {
        peer_id: Vec<u8>,
    },
}

/// The effects of one accepted transaction.
#[derive(Clone, PartialEq, Eq, Debug, Default)]
pub struct TxOutcome {
    pub writes: WriteSet,
    pub events: Vec<Event>,
}
