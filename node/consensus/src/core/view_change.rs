//! Leaving a view: timeouts, view changes (sent, received, joined on f + 1 vouching validators),
//! their justification of a new view's proposal, and the new leader's proposal.

use std::collections::BTreeSet;

use lichen_contracts::crypto::Hash32;

#[cfg(feature = "mutations")]
use super::Mutation;
use super::{BLOCKS_PER_HEIGHT_MAX, Core, Effect, VIEW_HISTORY};
use crate::error::ConsensusError;
use crate::messages::{Message, ViewChange};

impl Core {
    pub(super) fn on_timeout(&mut self, height: u64, view: u64, out: &mut Vec<Effect>) {
        if height != self.height || view != self.view {
            return;
        }
        if self.decided.is_some() {
            // Decided, but the block has not arrived or executed yet: the sync request or its
            // answer may have been lost. Ask again and keep the timer running, or the node
            // waits forever.
            self.sync_requested_view = None;
            self.request_sync(out);
            self.timer(out);
            return;
        }
        // Others are ahead, or nobody has joined the view we are changing to (they may have
        // moved on to later heights, with views too high for the future buffer, and our view
        // stays put): ask again, the last request may have been lost.
        let resync = !self.future.is_empty() || self.alone_in_view_change();
        if resync {
            self.sync_requested_view = None;
            self.request_sync(out);
        }
        self.leave_view_on_timeout(out);
        if resync {
            // Booked under the view we are in now, so the next message from ahead does not ask
            // a third time.
            self.sync_requested_view = Some(self.view);
        }
    }

    pub(super) fn leave_view_on_timeout(&mut self, out: &mut Vec<Effect>) {
        if self.my_index.is_some() {
            if self.alone_in_view_change() {
                // Fewer than a quorum have reached this view: moving on alone would only widen
                // the gap to the others (once timeouts hit their cap, a node ahead is never
                // caught up). Stay, re-send the view change (it may have been lost) and wait.
                self.send_view_change(out);
                self.timer(out);
            } else {
                self.start_view_change(self.view + 1, out);
            }
        } else {
            // Observers do not vote; they wait for the next view's timer and for sync.
            self.view += 1;
            self.timer(out);
        }
    }

    /// Changing view, and fewer than a quorum have reached our view.
    pub(super) fn alone_in_view_change(&self) -> bool {
        self.my_index.is_some()
            && self.view_changing
            && self.view_changes_from(self.view) < self.quorum()
    }

    /// Validators whose latest view change is for `view` or a later view (this one included).
    pub(super) fn view_changes_from(&self, view: u64) -> usize {
        self.view_changes
            .values()
            .filter(|vc| vc.view >= view)
            .count()
    }

    /// Leaves the current view for `view`: from now on no vote below it.
    pub(super) fn start_view_change(&mut self, view: u64, out: &mut Vec<Effect>) {
        debug_assert!(view > self.view || (view == self.view && !self.view_changing));
        self.view = view;
        self.view_changing = true;
        self.proposed = None;
        self.prepare_voted = None;
        self.commit_voted = None;
        self.build_requested = None;
        self.prune_views();
        self.persist(out);
        self.send_view_change(out);
        self.timer(out);
        self.try_new_view(out);
    }

    pub(super) fn send_view_change(&mut self, out: &mut Vec<Effect>) {
        let Some(me) = self.my_index else { return };
        #[allow(unused_mut)]
        let mut prepared = self.prepared.clone();
        #[cfg(feature = "mutations")]
        if self.config.mutation == Some(Mutation::DropPreparedInViewChange) {
            prepared = None;
        }
        let summary = prepared.as_ref().map(|(pc, _)| (pc.view, pc.block_hash));
        let hash = ViewChange::signing_hash(
            self.config.suite,
            &self.config.chain_id,
            self.height,
            self.view,
            summary,
        );
        let (prepared, block) = prepared.map_or((None, None), |(pc, b)| (Some(pc), Some(b)));
        let vc = ViewChange {
            height: self.height,
            view: self.view,
            prepared,
            block,
            voter: me,
            signature: self.signer.sign(hash.as_bytes()),
        };
        self.view_changes.insert(me, vc.clone());
        out.push(Effect::Broadcast(Message::ViewChange(Box::new(vc))));
    }

    /// Enters `view` on a justified proposal (a quorum of view changes for it).
    pub(super) fn enter_view(&mut self, view: u64, out: &mut Vec<Effect>) {
        if view != self.view {
            self.prepare_voted = None;
            self.commit_voted = None;
            self.proposed = None;
            self.build_requested = None;
        }
        self.view = view;
        self.view_changing = false;
        self.prune_views();
        self.persist(out);
        self.timer(out);
    }

    pub(super) fn prune_views(&mut self) {
        let low = self.view.saturating_sub(VIEW_HISTORY);
        self.votes.retain(|(_, v), _| *v >= low);
        self.proposals.retain(|v, _| *v >= low);
        self.accepted.retain(|v, _| *v >= low);
    }

    pub(super) fn on_view_change(
        &mut self,
        vc: ViewChange,
        out: &mut Vec<Effect>,
    ) -> Result<(), ConsensusError> {
        if self
            .view_changes
            .get(&vc.voter)
            .is_some_and(|known| known.view >= vc.view)
        {
            return Ok(());
        }
        self.check_view_change(&vc)?;
        // The next leader must re-propose the prepared block: a view change sent on its own
        // carries it (only those inside a proposal's justification leave it out).
        if vc.prepared.is_some() && vc.block.is_none() {
            return Err(ConsensusError::BadCertificate {
                reason: "a view change with a prepared certificate carries no block",
            });
        }
        if let (Some(pc), Some(block)) = (&vc.prepared, &vc.block)
            && self.blocks.len() < BLOCKS_PER_HEIGHT_MAX
        {
            self.blocks
                .entry(pc.block_hash)
                .or_insert_with(|| block.clone());
        }
        self.view_changes.insert(vc.voter, vc);
        // f + 1 validators vouch for views above ours: at least one is honest, so join the
        // highest view that f + 1 of them reached.
        let mut higher: Vec<u64> = self
            .view_changes
            .iter()
            .filter(|(voter, vc)| Some(**voter) != self.my_index && vc.view > self.view)
            .map(|(_, vc)| vc.view)
            .collect();
        if self.my_index.is_some() && higher.len() > self.faults() {
            higher.sort_unstable_by(|a, b| b.cmp(a));
            let target = higher[self.faults()];
            self.start_view_change(target, out);
        } else {
            self.try_new_view(out);
        }
        Ok(())
    }

    pub(super) fn check_view_change(&self, vc: &ViewChange) -> Result<(), ConsensusError> {
        let suite = self.config.suite;
        let hash = ViewChange::signing_hash(
            suite,
            &self.config.chain_id,
            vc.height,
            vc.view,
            vc.prepared_summary(),
        );
        self.verify(vc.voter, &hash, &vc.signature)?;
        if vc.view == 0 {
            return Err(ConsensusError::BadJustification {
                reason: "a view change targets view 0",
            });
        }
        if let Some(pc) = &vc.prepared {
            if pc.height != vc.height || pc.view >= vc.view {
                return Err(ConsensusError::BadCertificate {
                    reason: "prepared certificate is not from an earlier view of this height",
                });
            }
            if let Some(block) = &vc.block {
                if block.header.hash(suite) != pc.block_hash {
                    return Err(ConsensusError::BadCertificate {
                        reason: "the carried block is not the prepared one",
                    });
                }
                self.check_block_header(block, pc.block_hash)?;
            }
            pc.verify(
                suite,
                &self.config.chain_id,
                &self.config.genesis_hash,
                &self.validators,
                self.quorum(),
            )?;
        }
        Ok(())
    }

    /// Checks a quorum of valid view changes for `view` from distinct validators and returns the
    /// block hash of the highest prepared certificate among them, if any.
    pub(super) fn justified_block(
        &self,
        view: u64,
        vcs: &[ViewChange],
    ) -> Result<Option<Hash32>, ConsensusError> {
        let mut voters = BTreeSet::new();
        let mut best: Option<(u64, Hash32)> = None;
        for vc in vcs {
            if vc.view != view || vc.height != self.height {
                return Err(ConsensusError::BadJustification {
                    reason: "a view change is for another height or view",
                });
            }
            if !voters.insert(vc.voter) {
                return Err(ConsensusError::BadJustification {
                    reason: "a validator's view change appears twice",
                });
            }
            if vc.block.is_some() {
                // The proposal's own block is the one the certificates fix: a second copy
                // (or another block) only makes the proposal larger.
                return Err(ConsensusError::BadJustification {
                    reason: "a view change in a justification carries a block",
                });
            }
            self.check_view_change(vc)?;
            if let Some(summary) = vc.prepared_summary()
                && best.is_none_or(|(v, _)| summary.0 > v)
            {
                best = Some(summary);
            }
        }
        if voters.len() < self.quorum() {
            return Err(ConsensusError::BadJustification {
                reason: "fewer view changes than a quorum",
            });
        }
        Ok(best.map(|(_, hash)| hash))
    }

    /// As the leader of a view being changed to, with a quorum of view changes: propose.
    pub(super) fn try_new_view(&mut self, out: &mut Vec<Effect>) {
        if !self.view_changing || !self.i_lead(self.view) || self.proposed.is_some() {
            return;
        }
        let vcs = self.view_changes_for_view();
        if vcs.len() < self.quorum() {
            return;
        }
        // Every view change held here came on its own (or is ours), so a prepared one carries
        // its block.
        let best = vcs
            .iter()
            .filter(|vc| vc.prepared.is_some())
            .max_by_key(|vc| vc.prepared.as_ref().map(|pc| pc.view))
            .map(|vc| vc.block.clone());
        match best {
            Some(Some(block)) => self.propose(block, out),
            Some(None) => {
                debug_assert!(false, "a held view change with a certificate has no block");
            }
            None => self.request_build(out),
        }
    }

    /// A quorum (or fewer) of the view changes held for the current view.
    fn view_changes_for_view(&self) -> Vec<&ViewChange> {
        self.view_changes
            .values()
            .filter(|vc| vc.view == self.view)
            .take(self.quorum())
            .collect()
    }

    /// The view changes a proposal in the current view carries: a quorum, without their blocks.
    pub(super) fn justification(&self) -> Vec<ViewChange> {
        self.view_changes_for_view()
            .into_iter()
            .map(ViewChange::without_block)
            .collect()
    }
}
