//! Proposals and blocks: building and proposing as leader, checking a received proposal and its
//! block header, keeping blocks (bounded) and asking for and taking in their execution.

use std::collections::BTreeSet;

use lichen_contracts::block::Block;
use lichen_contracts::crypto::Hash32;
use lichen_contracts::model::ValidatorSet;

use super::{BLOCKS_PER_HEIGHT_MAX, Core, Effect, Evidence};
use crate::error::{ConsensusError, ExecutionError};
use crate::messages::{Message, Proposal};

impl Core {
    pub(super) fn request_build(&mut self, out: &mut Vec<Effect>) {
        if self.build_requested != Some(self.view) {
            self.build_requested = Some(self.view);
            out.push(Effect::BuildProposal {
                height: self.height,
                view: self.view,
            });
        }
    }

    pub(super) fn on_proposal_ready(&mut self, block: Block, out: &mut Vec<Effect>) {
        let ready = block.header.height == self.height
            && block.header.view == self.view
            && self.i_lead(self.view)
            && self.proposed.is_none()
            && self.build_requested == Some(self.view);
        if ready {
            self.propose(block, out);
        }
    }

    pub(super) fn propose(&mut self, block: Block, out: &mut Vec<Effect>) {
        let Some(me) = self.my_index else { return };
        let suite = self.config.suite;
        let hash = block.header.hash(suite);
        let justification = if self.view == 0 {
            Vec::new()
        } else {
            let vcs = self.justification();
            if vcs.len() < self.quorum() {
                return;
            }
            vcs
        };
        let signing =
            Proposal::signing_hash(suite, &self.config.chain_id, self.height, self.view, &hash);
        let proposal = Proposal {
            height: self.height,
            view: self.view,
            block: block.clone(),
            justification,
            proposer: me,
            signature: self.signer.sign(signing.as_bytes()),
        };
        self.proposed = Some(hash);
        self.view_changing = false;
        self.persist(out);
        out.push(Effect::Broadcast(Message::Proposal(Box::new(
            proposal.clone(),
        ))));
        self.proposals.insert(self.view, (hash, proposal.signature));
        self.accepted.insert(self.view, hash);
        self.store_block(hash, block, out);
        self.try_prepare(out);
    }

    pub(super) fn on_proposal(
        &mut self,
        p: Proposal,
        out: &mut Vec<Effect>,
    ) -> Result<(), ConsensusError> {
        let suite = self.config.suite;
        let hash = p.block.header.hash(suite);
        if p.view < self.view {
            // A late proposal can still supply the block a commit quorum is waiting for.
            if self.decided.as_ref().is_some_and(|c| c.block_hash == hash)
                && !self.blocks.contains_key(&hash)
            {
                self.check_message_signature(&Message::Proposal(Box::new(p.clone())))?;
                self.store_block(hash, p.block, out);
            }
            return Ok(());
        }
        self.check_view_window(p.view)?;
        let leader = self.leader(self.height, p.view);
        if p.proposer != leader {
            return Err(ConsensusError::NotLeader {
                view: p.view,
                leader,
                found: p.proposer,
            });
        }
        let signing = Proposal::signing_hash(suite, &self.config.chain_id, p.height, p.view, &hash);
        self.verify(p.proposer, &signing, &p.signature)?;
        if let Some((first, first_sig)) = self.proposals.get(&p.view) {
            if *first != hash {
                out.push(Effect::Equivocation(Evidence::ConflictingProposals {
                    proposer: p.proposer,
                    height: p.height,
                    view: p.view,
                    first: (*first, *first_sig),
                    second: (hash, p.signature),
                }));
            } else if self.accepted.get(&p.view) == Some(&hash)
                && self.check_block_header(&p.block, hash).is_ok()
            {
                // The same block again; this copy may execute where ours did not.
                self.store_block(hash, p.block, out);
            }
            return Ok(());
        }
        self.check_block_header(&p.block, hash)?;
        if p.view == 0 {
            if !p.justification.is_empty() {
                return Err(ConsensusError::BadJustification {
                    reason: "a view-0 proposal carries no view changes",
                });
            }
        } else {
            let required = self.justified_block(p.view, &p.justification)?;
            match required {
                Some(required) if required != hash => {
                    return Err(ConsensusError::BadJustification {
                        reason: "the proposal is not the block of the highest prepared certificate",
                    });
                }
                None if p.block.header.view != p.view => {
                    return Err(ConsensusError::BadJustification {
                        reason: "a fresh block must carry the view it is proposed in",
                    });
                }
                _ => {}
            }
        }
        self.proposals.insert(p.view, (hash, p.signature));
        if p.view > self.view || (p.view == self.view && self.view_changing) {
            if p.view == 0 {
                return Err(ConsensusError::BadJustification {
                    reason: "view 0 cannot be entered by a proposal",
                });
            }
            self.enter_view(p.view, out);
        } else if p.view != self.view {
            return Ok(());
        }
        self.accepted.insert(p.view, hash);
        self.store_block(hash, p.block, out);
        self.try_prepare(out);
        Ok(())
    }

    /// Structural checks the core can make without executing: the block extends our tip at our
    /// height, names our validator set, and its proposer led the view it was first proposed in.
    pub(super) fn check_block_header(
        &self,
        block: &Block,
        hash: Hash32,
    ) -> Result<(), ConsensusError> {
        let h = &block.header;
        let bad = |reason| Err(ConsensusError::BadBlock { reason });
        if h.chain_id != self.config.chain_id {
            return bad("chain id differs");
        }
        if h.height != self.height {
            return bad("height differs from the proposal's");
        }
        if h.previous_hash != self.tip_hash {
            return bad("does not extend the last committed block");
        }
        if h.validator_set_hash != self.validators.hash(self.config.suite) {
            return bad("names another validator set");
        }
        if h.proposer != self.leader(self.height, h.view) {
            return bad("proposer did not lead the block's view");
        }
        if !block.check_tx_root(self.config.suite) {
            return bad("tx root or count does not match the transactions");
        }
        debug_assert_eq!(h.hash(self.config.suite), hash);
        Ok(())
    }

    pub(super) fn store_block(&mut self, hash: Hash32, block: Block, out: &mut Vec<Effect>) {
        match self.blocks.get(&hash) {
            None => {
                if self.blocks.len() >= BLOCKS_PER_HEIGHT_MAX {
                    return;
                }
                self.blocks.insert(hash, block);
            }
            // A block hash covers the transaction ids, not their signatures: a copy altered in
            // transit executes as invalid although the leader's block is valid. Another copy of
            // a block found invalid gets its own execution.
            Some(known) if *known != block && matches!(self.executed.get(&hash), Some(Err(_))) => {
                self.blocks.insert(hash, block);
                self.executed.remove(&hash);
                self.execute_requested.remove(&hash);
            }
            Some(_) => {}
        }
        if !self.executed.contains_key(&hash)
            && self.execute_requested.insert(hash)
            && let Some(block) = self.blocks.get(&hash)
        {
            out.push(Effect::Execute {
                block: block.clone(),
            });
        }
    }

    pub(super) fn on_executed(
        &mut self,
        hash: Hash32,
        outcome: Result<ValidatorSet, ExecutionError>,
        out: &mut Vec<Effect>,
    ) {
        if !self.execute_requested.contains(&hash) || self.executed.contains_key(&hash) {
            return;
        }
        let valid = outcome.is_ok();
        self.executed.insert(hash, outcome);
        if !valid {
            // The leader of this view proposed an invalid block: do not wait for the timer.
            if self.accepted.get(&self.view) == Some(&hash)
                && !self.view_changing
                && self.my_index.is_some()
            {
                self.start_view_change(self.view + 1, out);
            }
            return;
        }
        if self.decided.as_ref().is_some_and(|c| c.block_hash == hash) {
            self.finish(out);
            return;
        }
        self.try_prepare(out);
        // Votes may have arrived before the block was executed.
        let height = self.height;
        let views: BTreeSet<u64> = self.votes.keys().map(|(_, v)| *v).collect();
        for view in views {
            if self.height != height {
                break; // the height was decided; later views are moot
            }
            self.check_quorums(view, out);
        }
    }

    pub(super) fn is_valid(&self, hash: &Hash32) -> bool {
        matches!(self.executed.get(hash), Some(Ok(_)))
    }
}
