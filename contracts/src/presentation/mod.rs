//! Offline proofs: presentations of a licence, evidence receipts, and the verifier that checks
//! them against a trust anchor with nothing else: no node, no clock but the one passed in.
//!
//! A presentation is: the licence record, its state proof, the header whose state root the proof
//! leads to, the commit certificate of that header, and every validator-set change between the
//! verifier's trust anchor and the header. An evidence receipt has the same shape around an
//! evidence entry.
//!
//! This module holds the proof objects and their encodings; `report` the verifier's answer
//! (checks, outcomes, verdict); `verify` the verifier itself; `cheap` (`memo` feature) the same
//! verification only when it checks no signature.

#[cfg(feature = "memo")]
mod cheap;
mod compact;
mod delta;
mod desk;
mod package;
mod report;
mod verify;

#[cfg(feature = "memo")]
pub use cheap::verify_at_desk_if_cheap;
pub use compact::{COMPACT_TAG, CompactPresentation, CompactProof};
pub use delta::{LEVEL_CHANGES_MAX, LevelsUpdate, TRUST_DELTA_TAG, TrustDelta, decode_delta_bytes};
pub use desk::{Desk, Holder, ProofKind};
pub use package::{
    FOREIGN_LEAVES_MAX, MARKS_MAX, TRUST_PACKAGE_BYTES_MAX, TRUST_PACKAGE_TAG, TrustPackage,
    TrustState, verify_package_bytes,
};
pub use report::{Check, CheckId, Outcome, PackageUsed, Report, Verdict};
pub use verify::{
    Document, Policy, Trust, verify_at_desk, verify_bytes, verify_bytes_with, verify_presentation,
    verify_presentation_bytes, verify_receipt, verify_receipt_bytes,
};

use alloc::string::String;
use alloc::vec::Vec;

use crate::block::{BlockHeader, CommitCertificate};
use crate::codec::{Decode, Encode, Reader, Writer};
use crate::crypto::{Hash32, Suite, domain};
use crate::error::{CodecError, ProofError};
use crate::model::{CHAIN_ID_LEN_MAX, Evidence, Licence, ValidatorSet};
use crate::smt::StateProof;

/// Leading byte of an encoded [`Presentation`].
pub const PRESENTATION_TAG: u8 = 0x50; // 'P'
/// Leading byte of an encoded [`EvidenceReceipt`].
pub const RECEIPT_TAG: u8 = 0x52; // 'R'
/// Leading byte of an encoded [`TrustAnchor`].
pub const TRUST_ANCHOR_TAG: u8 = 0x41; // 'A'
/// Maximum validator-set changes one presentation may carry.
pub const SET_CHANGES_MAX: usize = 1024;
/// Maximum size of an encoded presentation or receipt, in bytes (checked before decoding).
pub const PRESENTATION_BYTES_MAX: usize = 512 * 1024;

/// What an offline verifier trusts: the chain id, its suite, its genesis hash and the validator
/// set that signs the blocks after `height` (the genesis set, with height 0, or the set a trust
/// package moved it to).
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct TrustAnchor {
    pub chain_id: String,
    pub suite: Suite,
    /// `H("lichen/genesis/v1", genesis)`: every vote binds it, so a certificate of another
    /// genesis (same chain id, same keys) does not verify under this anchor.
    pub genesis_hash: Hash32,
    pub height: u64,
    pub validators: ValidatorSet,
}

impl TrustAnchor {
    /// `H("lichen/trust-anchor/v1", encode(anchor))`: a short fingerprint to compare by eye.
    pub fn hash(&self) -> Hash32 {
        self.suite.hash(domain::TRUST_ANCHOR, &[&self.to_bytes()])
    }
}

impl Encode for TrustAnchor {
    fn encode_to(&self, w: &mut Writer) {
        w.u8(TRUST_ANCHOR_TAG);
        w.str(&self.chain_id);
        self.suite.encode_to(w);
        self.genesis_hash.encode_to(w);
        w.u64(self.height);
        self.validators.encode_to(w);
    }
}

impl Decode for TrustAnchor {
    fn decode_from(r: &mut Reader<'_>) -> Result<Self, CodecError> {
        expect_tag(r, TRUST_ANCHOR_TAG, "trust anchor")?;
        Ok(TrustAnchor {
            chain_id: crate::ids::read_identifier(r, "chain id", CHAIN_ID_LEN_MAX)?,
            suite: Suite::decode_from(r)?,
            genesis_hash: Hash32::decode_from(r)?,
            height: r.u64()?,
            validators: ValidatorSet::decode_from(r)?,
        })
    }
}

fn expect_tag(r: &mut Reader<'_>, tag: u8, what: &'static str) -> Result<(), CodecError> {
    let found = r.u8()?;
    if found != tag {
        return Err(CodecError::InvalidTag { what, tag: found });
    }
    Ok(())
}

/// A block that changed the validator set, with its certificate and the new set.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct SetChange {
    pub header: BlockHeader,
    pub certificate: CommitCertificate,
    /// The set that signs the blocks after `header.height`.
    pub next_validators: ValidatorSet,
}

impl Encode for SetChange {
    fn encode_to(&self, w: &mut Writer) {
        self.header.encode_to(w);
        self.certificate.encode_to(w);
        self.next_validators.encode_to(w);
    }
}

impl Decode for SetChange {
    fn decode_from(r: &mut Reader<'_>) -> Result<Self, CodecError> {
        Ok(SetChange {
            header: BlockHeader::decode_from(r)?,
            certificate: CommitCertificate::decode_from(r)?,
            next_validators: ValidatorSet::decode_from(r)?,
        })
    }
}

/// The certified context both proofs share: a header, its certificate and the set changes since
/// the trust anchor.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Certified {
    pub header: BlockHeader,
    pub certificate: CommitCertificate,
    pub set_changes: Vec<SetChange>,
}

impl Encode for Certified {
    fn encode_to(&self, w: &mut Writer) {
        self.header.encode_to(w);
        self.certificate.encode_to(w);
        w.seq(&self.set_changes);
    }
}

impl Decode for Certified {
    fn decode_from(r: &mut Reader<'_>) -> Result<Self, CodecError> {
        Ok(Certified {
            header: BlockHeader::decode_from(r)?,
            certificate: CommitCertificate::decode_from(r)?,
            set_changes: r.seq("set changes", SET_CHANGES_MAX)?,
        })
    }
}

impl Certified {
    /// Follows the set changes from `anchor` and returns the set that must sign `self.header`.
    pub fn signing_set(&self, anchor: &TrustAnchor) -> Result<ValidatorSet, ProofError> {
        let suite = anchor.suite;
        if self.header.height <= anchor.height {
            return Err(ProofError::HeaderBeforeAnchor {
                height: self.header.height,
                anchor_height: anchor.height,
            });
        }
        let mut current = anchor.validators.clone();
        let mut previous = anchor.height;
        for change in &self.set_changes {
            let h = &change.header;
            if h.height <= anchor.height {
                // Before the anchor: a verifier whose trust a package moved forward knows it.
                continue;
            }
            if h.height <= previous || h.height >= self.header.height {
                return Err(ProofError::SetChangeOutOfOrder {
                    height: h.height,
                    previous,
                });
            }
            change.certificate.verify(
                suite,
                &anchor.chain_id,
                &anchor.genesis_hash,
                h,
                &current,
            )?;
            if !h.changes_validator_set()
                || change.next_validators.hash(suite) != h.next_validator_set_hash
            {
                return Err(ProofError::SetChangeHashMismatch { height: h.height });
            }
            current = change.next_validators.clone();
            previous = h.height;
        }
        if self.header.validator_set_hash != current.hash(suite) {
            return Err(ProofError::ValidatorSetMismatch {
                expected: current.hash(suite),
                found: self.header.validator_set_hash,
            });
        }
        Ok(current)
    }
}

/// A licence and everything needed to check it offline.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Presentation {
    pub licence: Licence,
    pub proof: StateProof,
    pub certified: Certified,
}

impl Encode for Presentation {
    fn encode_to(&self, w: &mut Writer) {
        w.u8(PRESENTATION_TAG);
        self.licence.encode_to(w);
        self.proof.encode_to(w);
        self.certified.encode_to(w);
    }
}

impl Decode for Presentation {
    fn decode_from(r: &mut Reader<'_>) -> Result<Self, CodecError> {
        expect_tag(r, PRESENTATION_TAG, "presentation")?;
        Ok(Presentation {
            licence: Licence::decode_from(r)?,
            proof: StateProof::decode_from(r)?,
            certified: Certified::decode_from(r)?,
        })
    }
}

/// Proof that a document hash was anchored at a block time, cosigned by a validator quorum.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct EvidenceReceipt {
    pub evidence: Evidence,
    pub proof: StateProof,
    pub certified: Certified,
}

impl Encode for EvidenceReceipt {
    fn encode_to(&self, w: &mut Writer) {
        w.u8(RECEIPT_TAG);
        self.evidence.encode_to(w);
        self.proof.encode_to(w);
        self.certified.encode_to(w);
    }
}

impl Decode for EvidenceReceipt {
    fn decode_from(r: &mut Reader<'_>) -> Result<Self, CodecError> {
        expect_tag(r, RECEIPT_TAG, "evidence receipt")?;
        Ok(EvidenceReceipt {
            evidence: Evidence::decode_from(r)?,
            proof: StateProof::decode_from(r)?,
            certified: Certified::decode_from(r)?,
        })
    }
}
