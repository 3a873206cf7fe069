//! The verifier's answer: one line per check, each with its outcome, and the overall verdict.

use alloc::string::String;
use alloc::vec::Vec;

use crate::crypto::Hash32;

/// The checks, in the order they are reported.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
pub enum CheckId {
    /// The kind of proof is the one the desk expects (only when it states one).
    Kind,
    /// The bytes decode as a presentation (or receipt).
    Encoding,
    /// The header is for the trusted chain.
    Chain,
    /// The validator-set changes lead from the trust anchor to the header's signing set.
    ValidatorSet,
    /// A quorum of that set signed the header's commit certificate.
    Quorum,
    /// The record is in the certified state (state proof to the header's state root).
    StateProof,
    /// The document's hash equals the recorded one.
    DocumentHash,
    /// The person at the desk opens the licence's holder commitment (only when their id and salt
    /// are given).
    Holder,
    /// The issuer was authorised for the licence type when it issued.
    IssuerAuthorised,
    /// The licence's status.
    Status,
    /// "Now" lies in the validity window.
    ValidityWindow,
    /// The certified header is recent enough.
    Freshness,
}

impl CheckId {
    pub fn name(self) -> &'static str {
        match self {
            CheckId::Kind => "kind",
            CheckId::Encoding => "encoding",
            CheckId::Chain => "chain",
            CheckId::ValidatorSet => "validator_set",
            CheckId::Quorum => "quorum",
            CheckId::StateProof => "state_proof",
            CheckId::DocumentHash => "document_hash",
            CheckId::Holder => "holder",
            CheckId::IssuerAuthorised => "issuer_authorised",
            CheckId::Status => "status",
            CheckId::ValidityWindow => "validity_window",
            CheckId::Freshness => "freshness",
        }
    }
}

/// How one check came out.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Outcome {
    Pass,
    Fail,
    /// Not run: an earlier check failed, or its input (e.g. the document) was not given.
    Skipped,
}

impl Outcome {
    pub fn name(self) -> &'static str {
        match self {
            Outcome::Pass => "pass",
            Outcome::Fail => "fail",
            Outcome::Skipped => "skipped",
        }
    }
}

/// One line of a verification report.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Check {
    pub id: CheckId,
    pub outcome: Outcome,
    pub detail: String,
}

/// The overall answer, most serious first.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
pub enum Verdict {
    /// The record or the document does not match what the chain certified.
    Tampered,
    /// Not certified by the trusted chain's validators.
    UnknownIssuer,
    /// Not the kind of proof the desk asked for (an evidence receipt at a licence desk, or a
    /// licence at an evidence desk), whatever it proves.
    WrongKind,
    /// The licence is genuine, but the person presenting it is not its holder.
    HolderMismatch,
    Revoked,
    Superseded,
    Suspended,
    Expired,
    NotYetValid,
    /// Everything else holds, but the proof is older than the policy allows.
    StaleProof,
    Valid,
    /// Evidence receipts: the hash was anchored at the stated time.
    Anchored,
}

impl Verdict {
    pub fn name(self) -> &'static str {
        match self {
            Verdict::Tampered => "TAMPERED",
            Verdict::UnknownIssuer => "UNKNOWN ISSUER",
            Verdict::WrongKind => "WRONG KIND",
            Verdict::HolderMismatch => "HOLDER MISMATCH",
            Verdict::Revoked => "REVOKED",
            Verdict::Superseded => "SUPERSEDED",
            Verdict::Suspended => "SUSPENDED",
            Verdict::Expired => "EXPIRED",
            Verdict::NotYetValid => "NOT YET VALID",
            Verdict::StaleProof => "STALE PROOF",
            Verdict::Valid => "VALID",
            Verdict::Anchored => "ANCHORED",
        }
    }
}

/// The trust package a verification used ("trust as of" its checkpoint).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct PackageUsed {
    pub checkpoint_height: u64,
    pub checkpoint_time_ms: u64,
    pub package_hash: Hash32,
}

/// The verifier's answer: the verdict, every check on its own line, and the time the status is
/// certified as of.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Report {
    pub verdict: Verdict,
    pub checks: Vec<Check>,
    /// When the reported status was certified: the header's time, or the trust package's
    /// checkpoint time when the package decided the status.
    pub status_as_of_ms: Option<u64>,
    /// The height of the certified header (of the checkpoint, for a compact presentation).
    pub height: Option<u64>,
    /// The trust package used, if any.
    pub trust_package: Option<PackageUsed>,
}

impl Report {
    pub fn check(&self, id: CheckId) -> Option<&Check> {
        self.checks.iter().find(|c| c.id == id)
    }
}
