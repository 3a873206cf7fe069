//! Messages by height: this height's go to their handlers, later heights' are buffered (bounded)
//! until the node gets there, earlier heights' earn the sender catch-up help; and committed blocks
//! fetched by sync.

use lichen_contracts::block::{Block, CommitCertificate};

use super::{
    Core, Effect, FUTURE_HEIGHTS_MAX, FUTURE_MESSAGES_MAX, HELPS_PER_HEIGHT_MAX, VIEW_WINDOW,
};
use crate::error::ConsensusError;
use crate::messages::{Message, Proposal, ViewChange};

impl Core {
    pub(super) fn on_message(&mut self, m: Message, out: &mut Vec<Effect>) {
        let height = m.height();
        if height < self.height {
            self.help_catch_up(&m, out);
            return;
        }
        if height > self.height {
            self.buffer_future(m, out);
            return;
        }
        let result = match m {
            Message::Vote(v) => self.on_vote(v, out),
            Message::Proposal(p) => self.on_proposal(*p, out),
            Message::ViewChange(vc) => self.on_view_change(*vc, out),
        };
        if let Err(error) = result {
            out.push(Effect::Ignored { error });
        }
    }

    /// Keeps a message for a later height until this node gets there: one per (height, view,
    /// signer, kind), in a window of views, at most `FUTURE_MESSAGES_MAX`, so repeated junk cannot
    /// crowd out the next proposal. Signatures are checked when the message is replayed, not
    /// here: the next height may be signed by a changed validator set this node does not know
    /// yet (checking against the current set stalled reconfiguring chains in the simulator).
    pub(super) fn buffer_future(&mut self, m: Message, out: &mut Vec<Effect>) {
        // Whatever becomes of the message, someone claims to be ahead: ask for blocks (at most
        // once per view, so junk costs one request).
        self.request_sync(out);
        let kind = match &m {
            Message::Proposal(_) => 0u8,
            Message::Vote(v) => v.vote.kind.tag(),
            Message::ViewChange(_) => 3,
        };
        let key = (m.height(), m.view(), m.signer(), kind);
        let keep = m.height() <= self.height + FUTURE_HEIGHTS_MAX
            && m.view() <= VIEW_WINDOW
            && Some(m.signer()) != self.my_index
            && self.future.len() < FUTURE_MESSAGES_MAX
            && !self.future_keys.contains(&key);
        if !keep {
            return;
        }
        self.future_keys.insert(key);
        self.future.push(m);
    }

    /// A validator sent a message for a height we have committed: it is behind.
    pub(super) fn help_catch_up(&mut self, m: &Message, out: &mut Vec<Effect>) {
        let signer = m.signer();
        let key = (signer, m.height());
        if usize::from(signer) >= self.validators.len()
            || Some(signer) == self.my_index
            || self.helped.contains(&key)
            || self.helped.len() >= HELPS_PER_HEIGHT_MAX
        {
            return;
        }
        // Only a signed message earns help (unsigned noise must cost nothing); the signer's key
        // is looked up in the current set, which is right unless the set just changed.
        if self.check_message_signature(m).is_ok() {
            self.helped.insert(key);
            out.push(Effect::HelpCatchUp {
                validator: signer,
                from_height: m.height(),
            });
        }
    }

    pub(super) fn check_message_signature(&self, m: &Message) -> Result<(), ConsensusError> {
        let suite = self.config.suite;
        let chain = &self.config.chain_id;
        let (index, hash, signature) = match m {
            Message::Vote(v) => (v.voter, v.vote.signing_hash(suite), &v.signature),
            Message::Proposal(p) => (
                p.proposer,
                Proposal::signing_hash(suite, chain, p.height, p.view, &p.block.header.hash(suite)),
                &p.signature,
            ),
            Message::ViewChange(vc) => (
                vc.voter,
                ViewChange::signing_hash(suite, chain, vc.height, vc.view, vc.prepared_summary()),
                &vc.signature,
            ),
        };
        self.verify(index, &hash, signature)
    }

    pub(super) fn request_sync(&mut self, out: &mut Vec<Effect>) {
        if self.sync_requested_view != Some(self.view) {
            self.sync_requested_view = Some(self.view);
            out.push(Effect::RequestSync {
                from_height: self.height,
            });
        }
    }

    pub(super) fn on_synced(
        &mut self,
        block: Block,
        certificate: CommitCertificate,
        out: &mut Vec<Effect>,
    ) {
        if block.header.height != self.height || block.header.previous_hash != self.tip_hash {
            return;
        }
        let suite = self.config.suite;
        if certificate
            .verify(
                suite,
                &self.config.chain_id,
                &self.config.genesis_hash,
                &block.header,
                &self.validators,
            )
            .is_err()
        {
            out.push(Effect::Ignored {
                error: ConsensusError::BadCertificate {
                    reason: "synced block's commit certificate does not verify",
                },
            });
            return;
        }
        let hash = certificate.block_hash;
        self.decided = Some(certificate);
        if self.is_valid(&hash) {
            self.blocks.entry(hash).or_insert(block);
            self.finish(out);
        } else if !self.execute_requested.contains(&hash) || self.executed.contains_key(&hash) {
            // Executing it may have been refused earlier for want of context, or because our
            // copy was altered in transit (a block hash does not cover transaction
            // signatures): try again, with this copy. Not while an execution is pending: its
            // result names only the hash, and would be taken for this copy's.
            self.blocks.insert(hash, block.clone());
            self.executed.remove(&hash);
            self.execute_requested.remove(&hash);
            self.store_block(hash, block, out);
        }
    }
}
