//! Why the consensus core ignored a message. Ignored messages change nothing; the reason is
//! reported so the node can score the peer that relayed it.

/// Why a message was not accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConsensusError {
    #[error("validator index {index} is not in the current set")]
    UnknownValidator { index: u16 },
    #[error("signature of validator {index} does not verify")]
    BadSignature { index: u16 },
    #[error("message is for chain '{found}'")]
    WrongChain { found: String },
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
}
