//! The runtime, in rooms:
//!
//! - `clock`: the node's clock (`now_ms`) and the consensus core's view timers;
//! - `finality`: clients waiting for their transactions to become final, and recent refusals;
//! - `admission`: the door into the mempool, for clients (the API) and other nodes (the network);
//! - `status`: what the node reports about itself;
//! - `floods`: counting peers' cheaply refused messages, so that only a flood of them is a fault;
//! - `driver`: the one task that owns the consensus core and carries out its effects in order.
//!
//! Each is a handle made once in `service::start`, in dependency order, and passed to whoever
//! needs it at construction.

mod admission;
mod clock;
mod driver;
mod finality;
mod floods;
mod metrics;
mod status;

use libp2p::PeerId;
use lichen_consensus::{Input, Message};

pub use admission::{Admission, RELAY_BACKLOG_ADMIT_MAX, SubmitError};
pub use clock::now_ms;
pub use driver::{Driver, INPUT_QUEUE_BYTES_MAX, INPUT_QUEUE_MAX};
pub use finality::{
    COMMIT_STREAM_BUFFER_MAX, CommitEvent, FINALITY_WAITERS_MAX, Finality, REFUSED_REMEMBERED_MAX,
    TxFate,
};
pub use metrics::{METRICS_CONTENT_TYPE, Metrics};
pub use status::{RuntimeStatus, Status};

/// An input for the consensus core and, if it came from the network, the peer that sent it (so a
/// message the core refuses can be held against that peer).
#[derive(Debug)]
pub struct Inbound {
    pub from: Option<PeerId>,
    pub input: Arrival,
    /// The room the input takes in the driver's channel (`INPUT_QUEUE_BYTES_MAX`), given back
    /// when the driver is done with it.
    pub room: Option<crate::budget::Held>,
}

/// What arrives for the consensus core.
#[derive(Debug)]
pub enum Arrival {
    /// An input ready for the core.
    Decoded(Box<Input>),
    /// A consensus message as it came off the wire (from a validator): decoded by the runtime,
    /// so that decoding a large proposal never holds up the network task.
    Encoded(Vec<u8>),
    /// Committed blocks a validator pushed to help this node catch up, as they came off the wire
    /// (`net::wire::encode_blocks`): decoded by the runtime into `Synced` inputs.
    EncodedBlocks(Vec<u8>),
}

impl Arrival {
    /// The bytes it came in, for the budgets of the queues it waits in. A decoded input counts
    /// none: those are the blocks of sync answers this node asked for, bounded by how many it
    /// asks at once and by an answer's size.
    pub fn wire_bytes(&self) -> usize {
        match self {
            Arrival::Decoded(_) => 0,
            Arrival::Encoded(bytes) | Arrival::EncodedBlocks(bytes) => bytes.len(),
        }
    }
}

/// Where consensus messages go. The single-node runtime has no peers; the network layer
/// implements this for a validator set.
pub trait Outbox: Send {
    fn broadcast(&mut self, message: Message);
    fn request_sync(&mut self, from_height: u64);
    fn help_catch_up(&mut self, validator: u16, from_height: u64);
    /// `peer` sent something the core refused as invalid (not merely late).
    fn penalise(&mut self, _peer: PeerId, _reason: String) {}
}

/// No peers: messages go nowhere (a one-validator chain needs none).
#[derive(Debug, Default)]
pub struct NoPeers;

impl Outbox for NoPeers {
    fn broadcast(&mut self, _message: Message) {}
    fn request_sync(&mut self, _from_height: u64) {}
    fn help_catch_up(&mut self, _validator: u16, _from_height: u64) {}
}
