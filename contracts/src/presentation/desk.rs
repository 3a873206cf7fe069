//! At a desk: the kind of proof it accepts and whose licence it is (PROTOCOL.md, "Verifying at
//! a desk"). The verifier runs as usual; `apply` adds the `kind` check (WRONG KIND) and the
//! holder line the licence checks did not write (a receipt, or an earlier failure).

use alloc::format;
use alloc::string::ToString;

use super::{Check, CheckId, Outcome, RECEIPT_TAG, Report, Verdict};

/// The kinds of proof a desk may ask for.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum ProofKind {
    /// A licence: a presentation or a compact presentation.
    Licence,
    /// An evidence receipt.
    Evidence,
}

impl ProofKind {
    pub fn name(self) -> &'static str {
        match self {
            ProofKind::Licence => "licence",
            ProofKind::Evidence => "evidence",
        }
    }

    /// The kind by a proof's leading byte (what [`verify_at_desk`] dispatches on).
    pub fn of(bytes: &[u8]) -> ProofKind {
        if bytes.first() == Some(&RECEIPT_TAG) {
            ProofKind::Evidence
        } else {
            ProofKind::Licence
        }
    }
}

/// The person at the desk, as they identify themselves: their holder id (typed, or read from
/// their ID card) and the 32-byte salt the issuer gave them.
#[derive(Clone, Copy, Debug)]
pub struct Holder<'a> {
    pub id: &'a str,
    pub salt: [u8; 32],
}

/// What the desk asks of a proof beyond its validity: its kind, and whose licence it is.
#[derive(Clone, Copy, Debug, Default)]
pub struct Desk<'a> {
    pub expect: Option<ProofKind>,
    pub holder: Option<Holder<'a>>,
}

/// Adds what the desk asked for to a finished report of `bytes`.
pub(super) fn apply(report: &mut Report, bytes: &[u8], desk: Desk<'_>) {
    let holder = desk.holder;
    if holder.is_some() && report.check(CheckId::Holder).is_none() {
        // Not checked above: an earlier check failed, or this is a receipt, which names no
        // holder (so a desk asking for one gets no confirmation).
        let at = report
            .checks
            .iter()
            .position(|c| c.id == CheckId::DocumentHash)
            .map_or(report.checks.len(), |i| i + 1);
        let passed = report.checks[..at]
            .iter()
            .all(|c| c.outcome != Outcome::Fail);
        let check = if passed && ProofKind::of(bytes) == ProofKind::Evidence {
            report.verdict = report.verdict.min(Verdict::HolderMismatch);
            Check {
                id: CheckId::Holder,
                outcome: Outcome::Fail,
                detail: "an evidence receipt names no holder".to_string(),
            }
        } else {
            Check {
                id: CheckId::Holder,
                outcome: Outcome::Skipped,
                detail: "an earlier check failed".to_string(),
            }
        };
        report.checks.insert(at, check);
    }
    if let Some(expected) = desk.expect {
        let found = ProofKind::of(bytes);
        let check = if found == expected {
            Check {
                id: CheckId::Kind,
                outcome: Outcome::Pass,
                detail: format!("{} proof, as expected", found.name()),
            }
        } else {
            // TAMPERED and UNKNOWN ISSUER say more; anything else is WRONG KIND.
            report.verdict = report.verdict.min(Verdict::WrongKind);
            Check {
                id: CheckId::Kind,
                outcome: Outcome::Fail,
                detail: match found {
                    ProofKind::Evidence => "a licence was expected, and this is an evidence receipt: it proves only that a document hash was anchored, not that any licence is valid".to_string(),
                    ProofKind::Licence => "an evidence receipt was expected, and this is a licence presentation".to_string(),
                },
            }
        };
        report.checks.insert(0, check);
    }
}
