//! Block sync: asking peers for committed blocks (one request at a time, round-robin over the
//! connected validators), answering their `SyncFrom`, and pushing `CatchUp` blocks to a lagging
//! validator. Storage reads run on blocking threads and come back to the swarm as `Done`.

use libp2p::PeerId;
use libp2p::request_response::ResponseChannel;
use lichen_contracts::block::Block;
use lichen_contracts::codec::{Decode, Encode};

use super::wire::{
    CATCH_UP_BYTES_MAX, CertifiedBlock, PushLane, Request, Response, SYNC_BLOCKS_MAX,
    SYNC_BYTES_SOFT_MAX, encode_blocks,
};
use super::{
    CATCH_UP_INTERVAL_MS, Network, OBSERVER_SYNC_POLL_MS, Role, STALL_VIEW_TIMEOUTS,
    SYNC_FAILED_SKIP_MS, SYNC_READS_MAX,
};
use crate::chain::Chain;
use crate::runtime::{Arrival, now_ms};

/// Work done off the swarm task, coming back to it.
pub(super) enum Done {
    SyncAnswer {
        peer: PeerId,
        channel: ResponseChannel<Response>,
        blocks: Vec<CertifiedBlock>,
    },
    CatchUp {
        peer: PeerId,
        /// `wire::encode_blocks` of the blocks.
        blocks: Vec<u8>,
    },
}

impl Network {
    /// Asks for blocks when this node may be behind: an observer always polls; a validator does
    /// when nothing was committed for a few view timeouts (consensus asks by itself when it sees
    /// later messages, this covers a quiet network), and keeps asking while it is catching up
    /// (consensus asks once: if that request found no peer or failed, only a poll can clear the
    /// flag, and `/ready` would say "catching up" on a node that commits with the others).
    pub(super) fn maybe_poll_sync(&mut self, now: u64) {
        if self.sync_in_flight.is_some() || now < self.next_sync_poll_ms {
            return;
        }
        let Ok(tip) = self.chain.tip() else {
            return;
        };
        let poll = match self.role {
            Role::Observer => true,
            Role::Validator => {
                let last = self.status.last_progress_ms();
                let stall = self.chain.params().view_timeout_base_ms * STALL_VIEW_TIMEOUTS;
                now.saturating_sub(last) > stall || self.status.catching_up()
            }
        };
        if poll {
            self.next_sync_poll_ms = now + OBSERVER_SYNC_POLL_MS;
            self.request_sync(tip.height + 1);
        }
    }

    /// Sends one sync request (never two at once), to the next connected validator in turn, or
    /// any connected peer if no validator is connected; a peer whose last sync request failed
    /// (a peer that holds requests open until they time out stalls a catch-up for 10 s a turn)
    /// is asked only when no other is left, for `SYNC_FAILED_SKIP_MS`.
    pub(super) fn request_sync(&mut self, from_height: u64) {
        if self.sync_in_flight.is_some() {
            return;
        }
        let now = now_ms();
        self.sync_failed_ms
            .retain(|_, at| now < at.saturating_add(SYNC_FAILED_SKIP_MS));
        let connected: Vec<PeerId> = self.book.connected_peers().copied().collect();
        let validators: Vec<PeerId> = connected
            .iter()
            .filter(|p| self.membership.is_validator(p))
            .copied()
            .collect();
        let pool = if validators.is_empty() {
            connected
        } else {
            validators
        };
        let reliable: Vec<PeerId> = pool
            .iter()
            .filter(|p| !self.sync_failed_ms.contains_key(p))
            .copied()
            .collect();
        let pool = if reliable.is_empty() { pool } else { reliable };
        if pool.is_empty() {
            return;
        }
        self.sync_turn = self.sync_turn.wrapping_add(1);
        let peer = pool[self.sync_turn % pool.len()];
        let id = self.swarm.behaviour_mut().wire.send_request(
            &peer,
            Request::SyncFrom {
                from_height,
                blocks_max: SYNC_BLOCKS_MAX as u16,
            },
        );
        self.sync_in_flight = Some((id, peer, from_height));
    }

    /// Blocks from a sync answer go to the runtime in height order; a full answer asks at once
    /// for the next batch. An answer that is not the asked heights in order (an honest peer
    /// answers from `from_height` up) is refused, and costs the peer.
    pub(super) fn on_synced(
        &mut self,
        peer: PeerId,
        from_height: u64,
        blocks: Vec<CertifiedBlock>,
    ) {
        let in_order = blocks
            .iter()
            .zip(from_height..)
            .all(|(b, height)| b.block.header.height == height);
        // (The decoder took at most `SYNC_BLOCKS_MAX`.)
        if !in_order {
            self.penalise(
                peer,
                "answered a sync request with blocks it was not asked for",
            );
            return;
        }
        let full = blocks.len() == SYNC_BLOCKS_MAX;
        self.status.set_catching_up(full);
        let next = from_height.saturating_add(blocks.len() as u64);
        if !self.deliver_blocks(peer, blocks) {
            return;
        }
        if full {
            self.request_sync(next);
        } else {
            self.next_sync_poll_ms = now_ms() + OBSERVER_SYNC_POLL_MS;
        }
    }

    /// A peer too busy to answer: asked again at the next poll, other peers first. A validator
    /// asks only when it may be behind (its core saw later messages, or nothing committed for a
    /// while), so it keeps asking: a busy answer is no sign that it caught up.
    pub(super) fn on_sync_busy(&mut self, peer: PeerId) {
        let now = now_ms();
        self.sync_failed_ms.insert(peer, now);
        self.next_sync_poll_ms = now + OBSERVER_SYNC_POLL_MS;
        if self.role == Role::Validator {
            self.status.set_catching_up(true);
        }
    }

    /// Hands committed blocks to the runtime in order; false if its queue is full (the rest is
    /// fetched again later).
    pub(super) fn deliver_blocks(&mut self, from: PeerId, blocks: Vec<CertifiedBlock>) -> bool {
        for b in blocks {
            if !self.deliver(from, Arrival::Decoded(Box::new(b.into_input()))) {
                return false;
            }
        }
        true
    }

    /// Answers a peer's `SyncFrom` once the blocks are read (off this task): one read per peer
    /// and [`SYNC_READS_MAX`] in all at a time, so no peer can make this node read without bound;
    /// a request beyond them is answered `Busy` at once.
    pub(super) fn answer_sync(
        &mut self,
        peer: PeerId,
        from_height: u64,
        blocks_max: u16,
        channel: ResponseChannel<Response>,
    ) {
        if self.sync_reads.contains(&peer) || self.sync_reads.len() >= SYNC_READS_MAX {
            let _ = self
                .swarm
                .behaviour_mut()
                .wire
                .send_response(channel, Response::Busy);
            return;
        }
        self.sync_reads.insert(peer);
        let chain = self.chain.clone();
        let done = self.done_tx.clone();
        let max = usize::from(blocks_max).clamp(1, SYNC_BLOCKS_MAX);
        tokio::task::spawn_blocking(move || {
            let blocks = read_blocks(&chain, from_height, max, SYNC_BYTES_SOFT_MAX, true);
            // Waits for room rather than drop the answer: the peer's place in `sync_reads` is
            // given back only when the answer reaches the network task (an error here means the
            // task has stopped).
            let _ = done.blocking_send(Done::SyncAnswer {
                peer,
                channel,
                blocks,
            });
        });
    }

    /// Pushes blocks from `from_height` to validator `validator`, which the core saw lagging (at
    /// most once per `CATCH_UP_INTERVAL_MS` per peer).
    pub(super) fn help_catch_up(&mut self, validator: u16, from_height: u64) {
        let Some(peer) = self.membership.validator(validator) else {
            return;
        };
        let now = now_ms();
        let last = self.last_catch_up_ms.get(&peer).copied().unwrap_or(0);
        if peer == self.me || now < last + CATCH_UP_INTERVAL_MS {
            return;
        }
        self.last_catch_up_ms.insert(peer, now);
        let chain = self.chain.clone();
        let done = self.done_tx.clone();
        tokio::task::spawn_blocking(move || {
            // A request frame, unlike a response, must stay within REQUEST_BYTES_MAX: a block too
            // large for it is not pushed (the lagging validator asks by SyncFrom instead).
            let blocks = read_blocks(
                &chain,
                from_height,
                SYNC_BLOCKS_MAX,
                CATCH_UP_BYTES_MAX,
                false,
            );
            if !blocks.is_empty() {
                let blocks = encode_blocks(&blocks);
                let _ = done.try_send(Done::CatchUp { peer, blocks });
            }
        });
    }

    pub(super) fn on_done(&mut self, done: Done) {
        match done {
            Done::SyncAnswer {
                peer,
                channel,
                blocks,
            } => {
                self.sync_reads.remove(&peer);
                let _ = self
                    .swarm
                    .behaviour_mut()
                    .wire
                    .send_response(channel, Response::Blocks(blocks));
            }
            Done::CatchUp { peer, blocks } => {
                let push = Request::CatchUp(blocks).to_bytes();
                self.pushes.send([peer], PushLane::Consensus, push);
            }
        }
    }
}

/// Committed blocks with certificates from `from_height`, at most `max` and `bytes_max` bytes
/// (with `at_least_one`, the first block even if it alone is larger).
pub(crate) fn read_blocks(
    chain: &Chain,
    from_height: u64,
    max: usize,
    bytes_max: usize,
    at_least_one: bool,
) -> Vec<CertifiedBlock> {
    let mut out = Vec::new();
    let mut bytes = 0;
    for height in from_height.max(1)..from_height.max(1).saturating_add(max as u64) {
        let (Ok(Some(raw)), Ok(Some(certificate))) =
            (chain.block_bytes(height), chain.certificate(height))
        else {
            break;
        };
        // The stored block's size, not a re-encoding, and the certificate's.
        bytes += raw.len() + certificate.to_bytes().len();
        if bytes > bytes_max && !(at_least_one && out.is_empty()) {
            break;
        }
        let Ok(block) = Block::from_bytes(&raw) else {
            tracing::error!(height, "stored block does not decode; not served");
            break;
        };
        out.push(CertifiedBlock { block, certificate });
    }
    out
}
