//! Prepare and commit votes: counting them per (kind, view), signing and sending this
//! validator's own (persisted first), becoming prepared, and deciding on a commit quorum.

use std::collections::{BTreeMap, BTreeSet};

use lichen_contracts::block::{CommitCertificate, IndexedSignature, Vote, VoteKind};
use lichen_contracts::crypto::Hash32;

#[cfg(feature = "mutations")]
use super::Mutation;
use super::{Core, Effect, Evidence};
use crate::error::ConsensusError;
use crate::messages::{Message, PreparedCertificate, SignedVote};

/// Votes of one kind in one view: the first vote of each validator.
#[derive(Debug, Default)]
pub(super) struct Tally {
    pub(super) by_voter: BTreeMap<u16, SignedVote>,
    /// Voters whose second, conflicting vote was verified (the evidence is out).
    equivocators: BTreeSet<u16>,
}

impl Tally {
    fn count(&self, hash: &Hash32) -> usize {
        self.by_voter
            .values()
            .filter(|v| v.vote.block_hash == *hash)
            .count()
    }

    fn signatures(&self, hash: &Hash32) -> Vec<IndexedSignature> {
        self.by_voter
            .values()
            .filter(|v| v.vote.block_hash == *hash)
            .map(|v| IndexedSignature {
                index: v.voter,
                signature: v.signature,
            })
            .collect()
    }

    fn hashes(&self) -> BTreeSet<Hash32> {
        self.by_voter.values().map(|v| v.vote.block_hash).collect()
    }
}

impl Core {
    pub(super) fn on_vote(
        &mut self,
        sv: SignedVote,
        out: &mut Vec<Effect>,
    ) -> Result<(), ConsensusError> {
        if sv.vote.chain_id != self.config.chain_id
            || sv.vote.genesis_hash != self.config.genesis_hash
        {
            return Err(ConsensusError::WrongChain {
                chain_id: sv.vote.chain_id,
                genesis_hash: sv.vote.genesis_hash,
            });
        }
        self.check_view_window(sv.vote.view)?;
        // The same vote again (a resend, or a replay): nothing to learn, so nothing to verify.
        // A different vote from the same voter is verified below: it may be equivocation.
        if let Some(tally) = self.votes.get(&(sv.vote.kind, sv.vote.view))
            && let Some(first) = tally.by_voter.get(&sv.voter)
        {
            if first.vote == sv.vote {
                return Err(ConsensusError::DuplicateVote { voter: sv.voter });
            }
            // A third vote and on: one piece of evidence is enough, and each further check
            // would be a signature verification the voter makes us pay for.
            if tally.equivocators.contains(&sv.voter) {
                return Err(ConsensusError::KnownEquivocator { voter: sv.voter });
            }
        }
        self.verify(
            sv.voter,
            &sv.vote.signing_hash(self.config.suite),
            &sv.signature,
        )?;
        let view = sv.vote.view;
        let tally = self.votes.entry((sv.vote.kind, view)).or_default();
        if let Some(first) = tally.by_voter.get(&sv.voter) {
            if first.vote.block_hash != sv.vote.block_hash {
                tally.equivocators.insert(sv.voter);
                out.push(Effect::Equivocation(Evidence::ConflictingVotes {
                    first: first.clone(),
                    second: sv,
                }));
            }
            return Ok(());
        }
        tally.by_voter.insert(sv.voter, sv);
        self.check_quorums(view, out);
        Ok(())
    }

    pub(super) fn try_prepare(&mut self, out: &mut Vec<Effect>) {
        let Some(me) = self.my_index else { return };
        if self.view_changing || self.prepare_voted.is_some() {
            return;
        }
        let Some(hash) = self.accepted.get(&self.view).copied() else {
            return;
        };
        if !self.is_valid(&hash) {
            return;
        }
        self.prepare_voted = Some(hash);
        self.send_vote(VoteKind::Prepare, hash, me, out);
    }

    pub(super) fn sign_vote(&self, kind: VoteKind, hash: Hash32, me: u16) -> SignedVote {
        let vote = Vote {
            kind,
            chain_id: self.config.chain_id.clone(),
            genesis_hash: self.config.genesis_hash,
            height: self.height,
            view: self.view,
            block_hash: hash,
        };
        let signature = self
            .signer
            .sign(vote.signing_hash(self.config.suite).as_bytes());
        SignedVote {
            vote,
            voter: me,
            signature,
        }
    }

    pub(super) fn send_vote(
        &mut self,
        kind: VoteKind,
        hash: Hash32,
        me: u16,
        out: &mut Vec<Effect>,
    ) {
        let sv = self.sign_vote(kind, hash, me);
        #[cfg(feature = "mutations")]
        if self.config.mutation == Some(Mutation::VoteBeforePersist) {
            out.push(Effect::Broadcast(Message::Vote(sv.clone())));
            self.persist(out);
            self.record_own_vote(sv, out);
            return;
        }
        self.persist(out);
        out.push(Effect::Broadcast(Message::Vote(sv.clone())));
        self.record_own_vote(sv, out);
    }

    pub(super) fn record_own_vote(&mut self, sv: SignedVote, out: &mut Vec<Effect>) {
        let view = sv.vote.view;
        self.votes
            .entry((sv.vote.kind, view))
            .or_default()
            .by_voter
            .insert(sv.voter, sv);
        self.check_quorums(view, out);
    }

    /// After any new vote or execution: become prepared, send commit, decide.
    pub(super) fn check_quorums(&mut self, view: u64, out: &mut Vec<Effect>) {
        if self.decided.is_some() {
            return;
        }
        let quorum = self.quorum();
        // Prepared: a quorum of prepares for the block we accepted in that view.
        if let Some(hash) = self.accepted.get(&view).copied() {
            let prepares = self.votes.get(&(VoteKind::Prepare, view));
            let count = prepares.map_or(0, |t| t.count(&hash));
            let higher_known = self
                .prepared
                .as_ref()
                .is_some_and(|(pc, _)| pc.view >= view);
            if count >= quorum
                && self.is_valid(&hash)
                && !higher_known
                && let (Some(t), Some(block)) = (prepares, self.blocks.get(&hash))
            {
                let pc = PreparedCertificate {
                    height: self.height,
                    view,
                    block_hash: hash,
                    prepares: t.signatures(&hash),
                };
                self.prepared = Some((pc, block.clone()));
            }
            let prepared_here = self
                .prepared
                .as_ref()
                .is_some_and(|(pc, _)| pc.view == view && pc.block_hash == hash);
            if prepared_here
                && view == self.view
                && !self.view_changing
                && self.commit_voted.is_none()
                && let Some(me) = self.my_index
            {
                self.commit_voted = Some(hash);
                self.send_vote(VoteKind::Commit, hash, me, out);
                return;
            }
        }
        // Decided: a quorum of commits for one block in this view.
        let Some(commits) = self.votes.get(&(VoteKind::Commit, view)) else {
            return;
        };
        let winner = commits
            .hashes()
            .into_iter()
            .find(|h| commits.count(h) >= quorum);
        let Some(hash) = winner else { return };
        let certificate = CommitCertificate {
            height: self.height,
            view,
            block_hash: hash,
            signatures: commits.signatures(&hash),
        };
        self.decided = Some(certificate);
        if self.is_valid(&hash) {
            self.finish(out);
        } else if let Some(block) = self.blocks.get(&hash).cloned() {
            self.store_block(hash, block, out);
        } else {
            self.request_sync(out);
        }
    }

    /// After a restart: count the votes this validator persisted in the current view and send them
    /// again (they may have been lost with the crash). Signatures are deterministic, so these are
    /// the very votes sent before: no equivocation.
    pub(super) fn resend_own_votes(&mut self, out: &mut Vec<Effect>) {
        let Some(me) = self.my_index else { return };
        if self.view_changing {
            return;
        }
        let votes: Vec<(VoteKind, Hash32)> = [
            (VoteKind::Prepare, self.prepare_voted),
            (VoteKind::Commit, self.commit_voted),
        ]
        .into_iter()
        .filter_map(|(kind, hash)| hash.map(|h| (kind, h)))
        .collect();
        if votes.is_empty() {
            return;
        }
        self.persist(out);
        for (kind, hash) in votes {
            let sv = self.sign_vote(kind, hash, me);
            out.push(Effect::Broadcast(Message::Vote(sv.clone())));
            self.record_own_vote(sv, out);
        }
    }
}
