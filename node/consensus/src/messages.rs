//! Consensus messages and their canonical bytes (PROTOCOL.md, "Consensus messages").
//!
//! Every message is authenticated by its own signature: the core never learns which peer
//! delivered it, only which validator signed it.

use lichen_contracts::block::{Block, IndexedSignature, Vote, VoteKind};
use lichen_contracts::codec::{Decode, Encode, Reader, Writer};
use lichen_contracts::crypto::{Hash32, Signature, Suite, domain};
use lichen_contracts::error::CodecError;
use lichen_contracts::model::{VALIDATORS_MAX, ValidatorSet};

use crate::error::ConsensusError;

/// Largest encoded consensus message accepted, in bytes (a proposal carries a whole block).
pub const MESSAGE_BYTES_MAX: usize = 16 * 1024 * 1024;

/// A prepare or commit vote with its signer.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct SignedVote {
    pub vote: Vote,
    pub voter: u16,
    pub signature: Signature,
}

impl Encode for SignedVote {
    fn encode_to(&self, w: &mut Writer) {
        self.vote.encode_to(w);
        w.u16(self.voter);
        self.signature.encode_to(w);
    }
}

impl Decode for SignedVote {
    fn decode_from(r: &mut Reader<'_>) -> Result<Self, CodecError> {
        Ok(SignedVote {
            vote: Vote::decode_from(r)?,
            voter: r.u16()?,
            signature: Signature::decode_from(r)?,
        })
    }
}

/// A quorum of prepare votes for one block in one view: the block cannot be replaced in any
/// later view at this height.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct PreparedCertificate {
    pub height: u64,
    pub view: u64,
    pub block_hash: Hash32,
    /// Strictly increasing validator indices.
    pub prepares: Vec<IndexedSignature>,
}

impl PreparedCertificate {
    /// Checks a quorum of distinct validators of `set` signed `Vote{Prepare, ...}` for it.
    pub fn verify(
        &self,
        suite: Suite,
        chain_id: &str,
        genesis_hash: &Hash32,
        set: &ValidatorSet,
        quorum: usize,
    ) -> Result<(), ConsensusError> {
        let vote = Vote {
            kind: VoteKind::Prepare,
            chain_id: chain_id.to_string(),
            genesis_hash: *genesis_hash,
            height: self.height,
            view: self.view,
            block_hash: self.block_hash,
        };
        let message = vote.signing_hash(suite);
        let mut previous = None;
        for s in &self.prepares {
            if previous.is_some_and(|p| s.index <= p) {
                return Err(ConsensusError::BadCertificate {
                    reason: "prepare signers not strictly increasing",
                });
            }
            previous = Some(s.index);
            let validator = set
                .validators
                .get(usize::from(s.index))
                .ok_or(ConsensusError::UnknownValidator { index: s.index })?;
            validator
                .key
                .verify(message.as_bytes(), &s.signature)
                .map_err(|_| ConsensusError::BadSignature { index: s.index })?;
        }
        if self.prepares.len() < quorum {
            return Err(ConsensusError::BadCertificate {
                reason: "fewer prepare signatures than a quorum",
            });
        }
        Ok(())
    }
}

impl Encode for PreparedCertificate {
    fn encode_to(&self, w: &mut Writer) {
        w.u64(self.height);
        w.u64(self.view);
        self.block_hash.encode_to(w);
        w.seq(&self.prepares);
    }
}

impl Decode for PreparedCertificate {
    fn decode_from(r: &mut Reader<'_>) -> Result<Self, CodecError> {
        Ok(PreparedCertificate {
            height: r.u64()?,
            view: r.u64()?,
            block_hash: Hash32::decode_from(r)?,
            prepares: r.seq("prepare signatures", VALIDATORS_MAX)?,
        })
    }
}

/// What a validator reports when it gives up on a view: it moves to `view` and carries its
/// highest prepared certificate, so the new leader must re-propose that block.
///
/// The signature covers the certificate's view and block hash, never the block itself. A view
/// change sent to the validators carries the prepared block too (the next leader may not have
/// it); the view changes inside a proposal's justification carry none (the proposal's block is
/// the one they fix), so a proposal holds one block however many view changes justify it and
/// stays inside the message limit with blocks of the largest size.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct ViewChange {
    pub height: u64,
    /// The view the sender moves to.
    pub view: u64,
    pub prepared: Option<PreparedCertificate>,
    /// The prepared block (only with `prepared`; see above when it is carried).
    pub block: Option<Block>,
    pub voter: u16,
    pub signature: Signature,
}

impl ViewChange {
    /// `H("lichen/view-change/v1", chain_id || height || view || option(prepared view || hash))`.
    pub fn signing_hash(
        suite: Suite,
        chain_id: &str,
        height: u64,
        view: u64,
        prepared: Option<(u64, Hash32)>,
    ) -> Hash32 {
        let mut w = Writer::new();
        w.str(chain_id);
        w.u64(height);
        w.u64(view);
        match prepared {
            None => w.u8(0),
            Some((v, hash)) => {
                w.u8(1);
                w.u64(v);
                hash.encode_to(&mut w);
            }
        }
        suite.hash(domain::VIEW_CHANGE, &[w.as_bytes()])
    }

    pub fn prepared_summary(&self) -> Option<(u64, Hash32)> {
        self.prepared.as_ref().map(|pc| (pc.view, pc.block_hash))
    }

    /// The same view change without its block, as a proposal's justification carries it.
    pub fn without_block(&self) -> ViewChange {
        ViewChange {
            block: None,
            ..self.clone()
        }
    }
}

impl Encode for ViewChange {
    fn encode_to(&self, w: &mut Writer) {
        w.u64(self.height);
        w.u64(self.view);
        match &self.prepared {
            None => w.u8(0),
            Some(pc) => {
                w.u8(1);
                pc.encode_to(w);
            }
        }
        match &self.block {
            None => w.u8(0),
            Some(block) => {
                w.u8(1);
                block.encode_to(w);
            }
        }
        w.u16(self.voter);
        self.signature.encode_to(w);
    }
}

fn decode_option<T: Decode>(r: &mut Reader<'_>) -> Result<Option<T>, CodecError> {
    match r.u8()? {
        0 => Ok(None),
        1 => Ok(Some(T::decode_from(r)?)),
        tag => Err(CodecError::InvalidTag {
            what: "option",
            tag,
        }),
    }
}

impl Decode for ViewChange {
    fn decode_from(r: &mut Reader<'_>) -> Result<Self, CodecError> {
        let height = r.u64()?;
        let view = r.u64()?;
        let prepared = decode_option::<PreparedCertificate>(r)?;
        let block = decode_option::<Block>(r)?;
        if prepared.is_none() && block.is_some() {
            return Err(CodecError::InvalidValue {
                field: "view change",
                reason: "a block without a prepared certificate",
            });
        }
        Ok(ViewChange {
            height,
            view,
            prepared,
            block,
            voter: r.u16()?,
            signature: Signature::decode_from(r)?,
        })
    }
}

/// A leader's proposal (PBFT pre-prepare). In views after 0 it carries the quorum of view
/// changes that justify the view and fix which block it may propose.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Proposal {
    pub height: u64,
    pub view: u64,
    pub block: Block,
    pub justification: Vec<ViewChange>,
    pub proposer: u16,
    pub signature: Signature,
}

impl Proposal {
    /// `H("lichen/proposal/v1", chain_id || height || view || block hash)`.
    pub fn signing_hash(
        suite: Suite,
        chain_id: &str,
        height: u64,
        view: u64,
        block_hash: &Hash32,
    ) -> Hash32 {
        let mut w = Writer::new();
        w.str(chain_id);
        w.u64(height);
        w.u64(view);
        block_hash.encode_to(&mut w);
        suite.hash(domain::PROPOSAL, &[w.as_bytes()])
    }
}

impl Encode for Proposal {
    fn encode_to(&self, w: &mut Writer) {
        w.u64(self.height);
        w.u64(self.view);
        self.block.encode_to(w);
        w.seq(&self.justification);
        w.u16(self.proposer);
        self.signature.encode_to(w);
    }
}

impl Decode for Proposal {
    fn decode_from(r: &mut Reader<'_>) -> Result<Self, CodecError> {
        Ok(Proposal {
            height: r.u64()?,
            view: r.u64()?,
            block: Block::decode_from(r)?,
            justification: r.seq("view changes", VALIDATORS_MAX)?,
            proposer: r.u16()?,
            signature: Signature::decode_from(r)?,
        })
    }
}

/// Any consensus message. Tag byte: 1 proposal, 2 vote, 3 view change.
#[derive(Clone, PartialEq, Eq, Debug)]
pub enum Message {
    Proposal(Box<Proposal>),
    Vote(SignedVote),
    ViewChange(Box<ViewChange>),
}

impl Message {
    pub fn height(&self) -> u64 {
        match self {
            Message::Proposal(p) => p.height,
            Message::Vote(v) => v.vote.height,
            Message::ViewChange(vc) => vc.height,
        }
    }

    pub fn view(&self) -> u64 {
        match self {
            Message::Proposal(p) => p.view,
            Message::Vote(v) => v.vote.view,
            Message::ViewChange(vc) => vc.view,
        }
    }

    /// The validator index that signed the message.
    pub fn signer(&self) -> u16 {
        match self {
            Message::Proposal(p) => p.proposer,
            Message::Vote(v) => v.voter,
            Message::ViewChange(vc) => vc.voter,
        }
    }

    /// The height and view of an encoded proposal, read from its first bytes without decoding
    /// the block it carries; `None` for another message or too few bytes.
    pub fn peek_proposal(bytes: &[u8]) -> Option<(u64, u64)> {
        let (&tag, rest) = bytes.split_first()?;
        if tag != 1 || rest.len() < 16 {
            return None;
        }
        let height = u64::from_be_bytes(rest[..8].try_into().ok()?);
        let view = u64::from_be_bytes(rest[8..16].try_into().ok()?);
        Some((height, view))
    }

    /// Decodes a message from the network, refusing oversized input before parsing.
    pub fn from_wire(bytes: &[u8]) -> Result<Self, CodecError> {
        if bytes.len() > MESSAGE_BYTES_MAX {
            return Err(CodecError::TooLong {
                field: "consensus message",
                len: bytes.len(),
                max: MESSAGE_BYTES_MAX,
            });
        }
        Self::from_bytes(bytes)
    }
}

impl Encode for Message {
    fn encode_to(&self, w: &mut Writer) {
        match self {
            Message::Proposal(p) => {
                w.u8(1);
                p.encode_to(w);
            }
            Message::Vote(v) => {
                w.u8(2);
                v.encode_to(w);
            }
            Message::ViewChange(vc) => {
                w.u8(3);
                vc.encode_to(w);
            }
        }
    }
}

impl Decode for Message {
    fn decode_from(r: &mut Reader<'_>) -> Result<Self, CodecError> {
        match r.u8()? {
            1 => Ok(Message::Proposal(Box::new(Proposal::decode_from(r)?))),
            2 => Ok(Message::Vote(SignedVote::decode_from(r)?)),
            3 => Ok(Message::ViewChange(Box::new(ViewChange::decode_from(r)?))),
            tag => Err(CodecError::InvalidTag {
                what: "consensus message",
                tag,
            }),
        }
    }
}
