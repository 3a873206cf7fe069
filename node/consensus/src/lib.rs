//! Lichen's consensus: PBFT as a pure state machine.
//!
//! [`Core::step`] takes an [`Input`] (a message, a timer, a proposal or execution result, a
//! synced block) and returns [`Effect`]s (send, persist, schedule a timer, execute, commit, ask
//! for blocks). The core does no I/O, reads no clock and draws no randomness, so the same code
//! runs under tokio in the node and under the seeded simulator in the tests. Messages carry
//! their own signatures; the core never learns which peer delivered them.
#![forbid(unsafe_code)]

mod core;
mod error;
mod messages;

#[cfg(feature = "mutations")]
pub use crate::core::Mutation;
pub use crate::core::{
    BLOCKS_PER_HEIGHT_MAX, Config, Core, Effect, Evidence, FUTURE_BYTES_MAX, FUTURE_HEIGHTS_MAX,
    FUTURE_MESSAGES_MAX, FUTURE_UNVERIFIED_PER_SIGNER_MAX, HELPS_PER_HEIGHT_MAX, Input,
    PROPOSAL_COPIES_PER_VIEW_MAX, PersistedState, Signer, Tip, VIEW_HISTORY, VIEW_WINDOW,
};
pub use error::{ConsensusError, ExecutionError};
pub use messages::{
    MESSAGE_BYTES_MAX, Message, PreparedCertificate, Proposal, SignedVote, ViewChange,
};
