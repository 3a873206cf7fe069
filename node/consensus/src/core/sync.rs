//! Messages by height: this height's go to their handlers, later heights' are buffered (bounded)
//! until the node gets there, earlier heights' earn the sender catch-up help; and committed blocks
//! fetched by sync.

use std::collections::BTreeMap;

use lichen_contracts::block::{Block, CommitCertificate};
use lichen_contracts::codec::Encode;
use lichen_contracts::model::VALIDATORS_MAX;

use super::{
    Core, Effect, FUTURE_BYTES_MAX, FUTURE_HEIGHTS_MAX, FUTURE_MESSAGES_MAX,
    FUTURE_UNVERIFIED_PER_SIGNER_MAX, HELPS_PER_HEIGHT_MAX, VIEW_WINDOW,
};
use crate::error::ConsensusError;
use crate::messages::{Message, Proposal, ViewChange};

impl Core {
    /// Whether a proposal for (`height`, `view`) could be of any use, judged from those two
    /// numbers before the message is decoded (a proposal carries a whole block, and decoding
    /// one is the most a peer can make this node do): one for the current height in the view
    /// window, fewer than [`Core::proposal_copies_max`] of them for the view so far; or one
    /// for the next height whose view's leader has no verified proposal buffered yet. Anything
    /// else (older heights, heights further ahead) is refused undecoded: votes carry what a
    /// proposal from those heights would tell.
    pub fn wants_proposal(&self, height: u64, view: u64) -> bool {
        if height == self.height {
            self.check_view_window(view).is_ok()
                && self.proposal_copies.get(&view).copied().unwrap_or(0)
                    < self.proposal_copies_max()
        } else if height == self.height + 1 {
            let key = (height, view, self.leader(height, view), 0);
            view <= VIEW_WINDOW && !self.future.get(&key).is_some_and(|b| b.verified)
        } else {
            false
        }
    }

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
            // Counted only inside the view window, so the counts stay few.
            Message::Proposal(p) if self.check_view_window(p.view).is_err() => {
                Err(ConsensusError::OutOfWindow {
                    height: p.height,
                    view: p.view,
                })
            }
            Message::Proposal(p) => {
                let copies_max = self.proposal_copies_max();
                let copies = self.proposal_copies.entry(p.view).or_default();
                if *copies >= copies_max {
                    Err(ConsensusError::SurplusProposal { view: p.view })
                } else {
                    *copies += 1;
                    self.on_proposal(*p, out)
                }
            }
            Message::ViewChange(vc) => self.on_view_change(*vc, out),
        };
        if let Err(error) = result {
            out.push(Effect::Ignored { error });
        }
    }

    /// Keeps a message for a later height until this node gets there: one per (height, view,
    /// signer, kind), in a window of heights and views, within each signer's share of
    /// [`FUTURE_MESSAGES_MAX`] and [`FUTURE_BYTES_MAX`] (so one validator's flood cannot crowd
    /// out the others' next proposal).
    ///
    /// The signature is checked against the current set: the next height may be signed by a
    /// changed set this node does not know yet (dropping such messages stalled reconfiguring
    /// chains in the simulator), so a message that does not verify is still kept, but only in
    /// its signer's small unverified share, and a message that verifies takes its place. So a
    /// forged message cannot pre-empt the real one it imitates. Cheap refusals come first: a
    /// place already held by a verified message, or a signer over its share, costs no signature
    /// check. A forged message refused when its signer's unverified share is full is reported
    /// (the node penalises the peer that sent it).
    pub(super) fn buffer_future(&mut self, m: Message, out: &mut Vec<Effect>) {
        // Whatever becomes of the message, someone claims to be ahead: ask for blocks (at most
        // once per view, so junk costs one request).
        self.request_sync(out);
        let signer = m.signer();
        let not_buffered = Effect::Ignored {
            error: ConsensusError::FutureNotBuffered { signer },
        };
        // Proposals only for the next height: one for a height beyond it is of no use before
        // the next block is committed, and each is a whole block to hold.
        let heights_max = if matches!(m, Message::Proposal(_)) {
            1
        } else {
            FUTURE_HEIGHTS_MAX
        };
        if m.height() > self.height + heights_max
            || m.view() > VIEW_WINDOW
            || usize::from(signer) >= VALIDATORS_MAX
            || Some(signer) == self.my_index
        {
            out.push(not_buffered);
            return;
        }
        // Only a view's leader proposes (under the current set, which may change at the next
        // height: then an honest leader is refused once here and its proposal arrives again).
        if let Message::Proposal(p) = &m {
            let leader = self.leader(p.height, p.view);
            if p.proposer != leader {
                out.push(Effect::Ignored {
                    error: ConsensusError::NotLeader {
                        view: p.view,
                        leader,
                        found: p.proposer,
                    },
                });
                return;
            }
        }
        let kind = match &m {
            Message::Proposal(_) => 0u8,
            Message::Vote(v) => v.vote.kind.tag(),
            Message::ViewChange(_) => 3,
        };
        let key: FutureKey = (m.height(), m.view(), signer, kind);
        if self.future.get(&key).is_some_and(|b| b.verified) {
            out.push(not_buffered);
            return;
        }
        let shares = self.validators.len().max(1);
        let (count_share, bytes_share) = (FUTURE_MESSAGES_MAX / shares, FUTURE_BYTES_MAX / shares);
        // The signer's use of the buffer, leaving out an unverified copy this one would replace.
        let mut share = self.future.share(signer);
        if let Some(old) = self.future.get(&key) {
            share.subtract(old);
        }
        // The count first: a full share costs no encoding of a large message.
        if share.messages >= count_share {
            out.push(not_buffered);
            return;
        }
        let size = m.to_bytes().len();
        if share.bytes.saturating_add(size) > bytes_share {
            out.push(not_buffered);
            return;
        }
        let verified = match self.check_message_signature(&m) {
            Ok(()) => true,
            Err(error) => {
                if share.unverified >= FUTURE_UNVERIFIED_PER_SIGNER_MAX {
                    out.push(Effect::Ignored { error });
                    return;
                }
                if self.future.get(&key).is_some() {
                    // An unverified copy already holds the place: keep the first.
                    return;
                }
                false
            }
        };
        // Within the overall bounds too (indices outside the current set have shares as well):
        // a verified message makes room by dropping unverified ones; an unverified one never
        // displaces anything.
        let replaced = self.future.get(&key).map_or(0, |b| b.bytes);
        while self.future.len() - usize::from(replaced > 0) >= FUTURE_MESSAGES_MAX
            || (self.future.bytes() - replaced).saturating_add(size) > FUTURE_BYTES_MAX
        {
            match self.future.last_unverified(&key) {
                Some(k) if verified => {
                    self.future.remove(&k);
                }
                _ => return,
            }
        }
        self.future.insert(
            key,
            Buffered {
                message: m,
                verified,
                bytes: size,
            },
        );
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

/// Where a future message is kept: (height, view, signer, kind: 0 proposal, vote tags, 3 view
/// change). The order is the order of replay.
pub(super) type FutureKey = (u64, u64, u16, u8);

/// A message kept for a later height.
#[derive(Clone, Debug)]
pub(super) struct Buffered {
    pub(super) message: Message,
    /// Its signature verified against the set current when it arrived.
    pub(super) verified: bool,
    /// Its encoded size.
    pub(super) bytes: usize,
}

/// What one signer holds in the future buffer.
#[derive(Clone, Copy, Debug, Default)]
pub(super) struct Share {
    messages: usize,
    bytes: usize,
    unverified: usize,
}

impl Share {
    fn add(&mut self, b: &Buffered) {
        self.messages += 1;
        self.bytes += b.bytes;
        self.unverified += usize::from(!b.verified);
    }

    fn subtract(&mut self, b: &Buffered) {
        self.messages -= 1;
        self.bytes -= b.bytes;
        self.unverified -= usize::from(!b.verified);
    }
}

/// The messages kept for later heights, with running totals (overall and per signer), so that
/// admitting one costs no walk over the others.
#[derive(Debug, Default)]
pub(super) struct FutureBuffer {
    messages: BTreeMap<FutureKey, Buffered>,
    bytes: usize,
    by_signer: BTreeMap<u16, Share>,
}

impl FutureBuffer {
    pub(super) fn len(&self) -> usize {
        self.messages.len()
    }

    pub(super) fn is_empty(&self) -> bool {
        self.messages.is_empty()
    }

    fn bytes(&self) -> usize {
        self.bytes
    }

    fn get(&self, key: &FutureKey) -> Option<&Buffered> {
        self.messages.get(key)
    }

    fn share(&self, signer: u16) -> Share {
        self.by_signer.get(&signer).copied().unwrap_or_default()
    }

    /// Keeps `b` at `key`, in place of what was there.
    fn insert(&mut self, key: FutureKey, b: Buffered) {
        self.remove(&key);
        self.bytes += b.bytes;
        self.by_signer.entry(key.2).or_default().add(&b);
        self.messages.insert(key, b);
    }

    fn remove(&mut self, key: &FutureKey) -> Option<Buffered> {
        let b = self.messages.remove(key)?;
        self.bytes -= b.bytes;
        if let Some(share) = self.by_signer.get_mut(&key.2) {
            share.subtract(&b);
            if share.messages == 0 {
                self.by_signer.remove(&key.2);
            }
        }
        Some(b)
    }

    /// The unverified message latest in replay order, other than at `except` (what a verified
    /// message may displace when the buffer is full).
    fn last_unverified(&self, except: &FutureKey) -> Option<FutureKey> {
        self.messages
            .iter()
            .rev()
            .find(|(k, b)| !b.verified && *k != except)
            .map(|(k, _)| *k)
    }

    /// Everything kept, in replay order, leaving the buffer empty.
    pub(super) fn take(&mut self) -> impl Iterator<Item = Message> + use<> {
        std::mem::take(self)
            .messages
            .into_values()
            .map(|b| b.message)
    }
}
