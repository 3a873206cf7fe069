//! Why the consensus core ignored a message (ignored messages change nothing; the reason is
//! reported so the node can score the peer that relayed it), and why a block did not execute.

use lichen_contracts::block::BlockError;
use lichen_contracts::crypto::Hash32;

/// Why a message was not accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConsensusError {
    #[error("validator index {index} is not in the current set")]
    UnknownValidator { index: u16 },
    #[error("signature of validator {index} does not verify")]
    BadSignature { index: u16 },
    #[error("vote is for chain '{chain_id}' with genesis {genesis_hash}, not this chain")]
    WrongChain {
        chain_id: String,
        genesis_hash: Hash32,
    },
    #[error("proposal for view {view} is not from its leader {leader} (signed by {found})")]
    NotLeader { view: u64, leader: u16, found: u16 },
    #[error("proposed block header is inconsistent: {reason}")]
    BadBlock { reason: &'static str },
    #[error("certificate is invalid: {reason}")]
    BadCertificate { reason: &'static str },
    #[error("view change justification is invalid: {reason}")]
    BadJustification { reason: &'static str },
    #[error("message for height {height} view {view} is outside the window the core keeps")]
    OutOfWindow { height: u64, view: u64 },
    /// A vote already counted, sent again: nothing new, so its signature is not checked (a
    /// flood of resent votes costs a lookup each, not a signature verification).
    #[error("validator {voter} already cast this vote")]
    DuplicateVote { voter: u16 },
    /// Another vote of a validator already caught voting twice in that kind and view: the
    /// evidence is held, so its signature is not checked either.
    #[error("validator {voter} already equivocated in this view; further votes are not checked")]
    KnownEquivocator { voter: u16 },
    /// A message for a later height that the core does not keep: too far ahead, already held,
    /// or over its signer's share of the future buffer. Dropped unchecked.
    #[error(
        "validator {signer}'s message for a later height is too far ahead, held already or over its share"
    )]
    FutureNotBuffered { signer: u16 },
    /// A proposal for a view that already had `Core::proposal_copies_max` of them looked at.
    #[error("proposals for view {view} arrived too often; this one is not looked at")]
    SurplusProposal { view: u64 },
}

impl ConsensusError {
    /// Refused at the cost of a lookup: the message may be an honest resend or merely early or
    /// late, so one alone is no fault; only a flood of them is (the node counts them per peer).
    pub fn is_cheap_refusal(&self) -> bool {
        matches!(
            self,
            ConsensusError::OutOfWindow { .. }
                | ConsensusError::DuplicateVote { .. }
                | ConsensusError::KnownEquivocator { .. }
                | ConsensusError::FutureNotBuffered { .. }
                | ConsensusError::SurplusProposal { .. }
        )
    }
}

/// Why a block did not execute at this node: the error of `Input::Executed`. The core treats
/// both kinds alike: the block is not valid here (another copy of it, or the block synced with
/// its certificate, gets a new execution).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ExecutionError {
    /// The block breaks a rule: its header, a transaction, or its claimed execution result.
    #[error(transparent)]
    Invalid(#[from] BlockError),
    /// This node could not execute it (its storage failed).
    #[error("this node could not execute the block: {reason}")]
    Failed { reason: String },
}
