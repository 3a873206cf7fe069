//! What a validator remembers across a crash: `PersistedState`, its bytes, and how a core
//! records and resumes it.

use lichen_contracts::block::Block;
use lichen_contracts::codec::{Decode, Encode, Reader, Writer};
use lichen_contracts::crypto::Hash32;
use lichen_contracts::error::CodecError;

use super::{Core, Effect};
use crate::messages::PreparedCertificate;

/// What a validator must remember across a crash so that it never contradicts a vote it sent.
/// Persisted (`Effect::Persist`) before any message that depends on it is sent.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PersistedState {
    pub height: u64,
    pub view: u64,
    /// A view change for `view` was sent; no votes in `view` until a justified proposal.
    pub view_changing: bool,
    /// The block this validator proposed in `view`, as leader.
    pub proposed: Option<Hash32>,
    /// The block it sent `Prepare` for in `view`.
    pub prepare_voted: Option<Hash32>,
    /// The block it sent `Commit` for in `view`.
    pub commit_voted: Option<Hash32>,
    /// Its highest prepared certificate at `height`, with the block.
    pub prepared: Option<(PreparedCertificate, Block)>,
}

impl Encode for PersistedState {
    fn encode_to(&self, w: &mut Writer) {
        w.u64(self.height);
        w.u64(self.view);
        w.bool(self.view_changing);
        w.option(&self.proposed);
        w.option(&self.prepare_voted);
        w.option(&self.commit_voted);
        match &self.prepared {
            None => w.u8(0),
            Some((pc, block)) => {
                w.u8(1);
                pc.encode_to(w);
                block.encode_to(w);
            }
        }
    }
}

impl Decode for PersistedState {
    fn decode_from(r: &mut Reader<'_>) -> Result<Self, CodecError> {
        Ok(PersistedState {
            height: r.u64()?,
            view: r.u64()?,
            view_changing: r.bool()?,
            proposed: r.option("proposed")?,
            prepare_voted: r.option("prepare voted")?,
            commit_voted: r.option("commit voted")?,
            prepared: match r.u8()? {
                0 => None,
                1 => Some((PreparedCertificate::decode_from(r)?, Block::decode_from(r)?)),
                tag => {
                    return Err(CodecError::InvalidTag {
                        what: "option",
                        tag,
                    });
                }
            },
        })
    }
}

impl Core {
    /// Takes up the voting state persisted at this height before a restart.
    pub(super) fn resume(&mut self, p: PersistedState) {
        self.view = p.view;
        self.view_changing = p.view_changing;
        self.proposed = p.proposed;
        self.prepare_voted = p.prepare_voted;
        self.commit_voted = p.commit_voted;
        if let Some((pc, block)) = p.prepared {
            self.blocks.insert(pc.block_hash, block.clone());
            self.prepared = Some((pc, block));
        }
    }

    pub fn persisted_state(&self) -> PersistedState {
        PersistedState {
            height: self.height,
            view: self.view,
            view_changing: self.view_changing,
            proposed: self.proposed,
            prepare_voted: self.prepare_voted,
            commit_voted: self.commit_voted,
            prepared: self.prepared.clone(),
        }
    }

    pub(super) fn persist(&self, out: &mut Vec<Effect>) {
        out.push(Effect::Persist(self.persisted_state()));
    }
}
