//! The swarm task's event loop: swarm events, runtime commands, housekeeping ticks (dials, bans,
//! membership), scoring, and handing peers' messages to the runtime.

use std::collections::BTreeSet;
use std::time::Duration;

use futures::StreamExt;
use libp2p::PeerId;
use libp2p::request_response::{self, ResponseChannel};
use libp2p::swarm::dial_opts::{DialOpts, PeerCondition};
use libp2p::swarm::{ListenError, SwarmEvent};
use lichen_contracts::codec::Encode;
use tokio::sync::watch;

use super::peers::{Membership, PENALTY_INVALID_POINTS, Verdict};
use super::wire::{Request, Response};
use super::{BehaviourEvent, CATCH_UP_INTERVAL_MS, Command, Network, Role, TICK_MS};
use crate::runtime::{Arrival, INPUT_QUEUE_BYTES_MAX, Inbound, now_ms};

impl Network {
    pub(super) async fn run(&mut self, mut shutdown: watch::Receiver<bool>) {
        let mut tick = tokio::time::interval(Duration::from_millis(TICK_MS));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            if *shutdown.borrow() {
                return;
            }
            tokio::select! {
                changed = shutdown.changed() => {
                    if changed.is_err() {
                        return;
                    }
                }
                event = self.swarm.select_next_some() => self.on_swarm_event(event),
                Some(command) = self.commands.recv() => self.on_command(command),
                Some(tx) = self.forward_rx.recv() => self.forward(tx),
                _ = tokio::time::sleep_until(self.forward_next_at),
                    if !self.forward_pending.is_empty() => self.forward_batch(),
                Some(done) = self.done_rx.recv() => self.on_done(done),
                Some((peer, reason)) = self.penalty_rx.recv() => self.penalise(peer, &reason),
                Some(request) = self.raw_rx.recv() => self.send_raw(request),
                Some((lane, (peer, stream))) = self.incoming.next() => {
                    self.pushes.accept(lane, peer, stream);
                }
                Some((peer, pushed)) = self.pushes.inboxes.next() => match pushed {
                    // The room in the reader's inbox is given back once the message is handed
                    // on (into queues with budgets of their own) or dropped.
                    Ok((request, _room)) => self.on_push(peer, request),
                    Err(reason) => self.penalise(peer, &reason),
                },
                _ = tick.tick() => self.on_tick(),
            }
            self.pump();
        }
    }

    /// Re-reads who may connect when the chain has moved; updates the allow-list.
    pub(super) fn refresh_membership(&mut self) {
        let chain = &self.chain;
        let Ok(tip) = chain.tip() else { return };
        if self.membership_height == Some(tip.height) {
            return;
        }
        let membership = match (chain.next_validators(), chain.observers()) {
            (Ok(validators), Ok(observers)) => Membership::from_bytes(
                validators.validators.iter().map(|v| v.peer_id.as_slice()),
                observers.iter().map(|o| o.peer_id.as_slice()),
            ),
            (Err(e), _) | (_, Err(e)) => {
                tracing::error!("cannot read the validators and observers: {e}");
                return;
            }
        };
        self.membership_height = Some(tip.height);
        if membership == self.membership {
            return;
        }
        let before = self.membership.all();
        let after = membership.all();
        let allowed = &mut self.swarm.behaviour_mut().allowed;
        for peer in after.difference(&before) {
            allowed.allow_peer(*peer);
        }
        for peer in before.difference(&after) {
            if self.fallback.contains(peer) {
                continue;
            }
            // Closes its connections: a removed validator or observer is a stranger now.
            allowed.disallow_peer(*peer);
            tracing::info!(%peer, "peer no longer in the chain's membership; disconnected");
        }
        if self.role == Role::Validator && !membership.is_validator(&self.me) {
            tracing::warn!(
                peer_id = %self.me,
                "this node's peer id is not among the validators: it cannot vote"
            );
        }
        tracing::info!(
            height = tip.height,
            validators = membership.validators.len(),
            observers = membership.observers.len(),
            "membership"
        );
        self.membership = membership;
        let members = self.membership.all();
        self.pushes.retain(|peer| members.contains(peer));
        self.report_peers();
    }

    /// While this node reaches none of the other validators its chain knows (say it was away
    /// while every one of them was replaced: its tip names only validators that are gone), the
    /// peers in its own configuration are allowed and dialled even if its chain does not list
    /// them, so it can reach the new validators and sync (what they serve is checked by its
    /// certificates, set change by set change). Once it reaches a validator again, they are
    /// strangers again unless the chain lists them: a removed validator that the others still
    /// have in their configuration is not let back in.
    pub(super) fn update_fallback(&mut self) {
        let others = self.membership.other_validators(&self.me);
        let cut_off = !others.is_empty() && !others.iter().any(|p| self.book.is_connected(p));
        if !cut_off && self.fallback.is_empty() {
            return; // the usual case, every tick: nothing to change
        }
        let members = self.membership.all();
        let wanted: BTreeSet<PeerId> = if cut_off {
            self.book
                .addresses()
                .map(|(p, _)| *p)
                .filter(|p| !members.contains(p) && *p != self.me)
                .collect()
        } else {
            BTreeSet::new()
        };
        if wanted == self.fallback {
            return;
        }
        let allowed = &mut self.swarm.behaviour_mut().allowed;
        for peer in wanted.difference(&self.fallback) {
            allowed.allow_peer(*peer);
        }
        for peer in self.fallback.difference(&wanted) {
            if !members.contains(peer) {
                allowed.disallow_peer(*peer);
            }
        }
        if cut_off {
            tracing::warn!(
                peers = wanted.len(),
                "no validator this node knows is reachable; trying its configured peers"
            );
        }
        self.fallback = wanted;
    }

    fn on_tick(&mut self) {
        let now = now_ms();
        self.refresh_membership();
        for peer in self.book.expire_bans(now) {
            self.swarm.behaviour_mut().blocked.unblock_peer(peer);
            tracing::info!(%peer, "ban ended");
        }
        self.update_fallback();
        for (peer, address) in self.book.due_dials(now) {
            if peer == self.me
                || !(self.membership.all().contains(&peer) || self.fallback.contains(&peer))
            {
                continue;
            }
            let opts = DialOpts::peer_id(peer)
                .addresses(vec![address])
                .condition(PeerCondition::DisconnectedAndNotDialing)
                .build();
            if let Err(e) = self.swarm.dial(opts) {
                tracing::debug!(%peer, "dial not started: {e}");
            }
        }
        self.maybe_poll_sync(now);
        let metrics = self.status.metrics();
        let gauge = |n: usize| i64::try_from(n).unwrap_or(i64::MAX);
        metrics
            .p2p_inputs_queued_bytes
            .set(gauge(self.input_bytes.get()));
        metrics
            .relay_batches_waiting
            .set(gauge(self.admission.relay_backlog()));
    }

    fn on_command(&mut self, command: Command) {
        match command {
            Command::Broadcast(message) => {
                self.send_to_other_validators(&Request::Consensus(message.to_bytes()));
            }
            Command::RequestSync { from_height } => self.request_sync(from_height),
            Command::HelpCatchUp {
                validator,
                from_height,
            } => self.help_catch_up(validator, from_height),
            Command::Penalise { peer, reason } => self.penalise(peer, &reason),
        }
    }

    pub(super) fn ack(&mut self, channel: ResponseChannel<Response>) {
        // An error means the asker is gone; there is no one left to tell.
        let _ = self
            .swarm
            .behaviour_mut()
            .wire
            .send_response(channel, Response::Ack);
    }

    pub(super) fn penalise(&mut self, peer: PeerId, reason: &str) {
        match self.book.penalise(peer, PENALTY_INVALID_POINTS, now_ms()) {
            Verdict::Warned { points } => {
                tracing::warn!(%peer, points, "invalid message from peer: {reason}");
            }
            Verdict::Banned { until_ms } => {
                tracing::warn!(%peer, until_ms, "peer banned after invalid messages: {reason}");
                // Blocking closes its connections and refuses new ones until the ban ends.
                self.swarm.behaviour_mut().blocked.block_peer(peer);
            }
        }
    }

    /// Hands `input` to the runtime; false if its queue is full or closed (never waits).
    /// Queues a peer's input for the runtime (in that peer's own bounded queue: a flooding peer
    /// loses only its own messages); false if its queue is full and the input was dropped.
    pub(super) fn deliver(&mut self, from: PeerId, input: Arrival) -> bool {
        let bytes = input.wire_bytes();
        if !self.pending.push(from, input, bytes) {
            tracing::debug!(peer = %from, "this peer's input queue is full; message dropped");
            return false;
        }
        self.pump();
        true
    }

    /// Moves queued inputs into the runtime's channel while it has room (in inputs and in
    /// bytes), peers taking turns. Run after every event and tick, so a channel that was full is
    /// refilled as it drains.
    pub(super) fn pump(&mut self) {
        while let Some(bytes) = self.pending.next_bytes() {
            let Some(room) = self.input_bytes.hold(bytes, INPUT_QUEUE_BYTES_MAX) else {
                return;
            };
            let Ok(permit) = self.inputs.try_reserve() else {
                return;
            };
            let Some((from, input)) = self.pending.pop() else {
                return;
            };
            permit.send(Inbound {
                from: Some(from),
                input,
                room: Some(room),
            });
        }
    }

    fn on_swarm_event(&mut self, event: SwarmEvent<BehaviourEvent>) {
        match event {
            SwarmEvent::Behaviour(BehaviourEvent::Wire(event)) => self.on_wire(event),
            SwarmEvent::ConnectionEstablished { peer_id, .. } => {
                tracing::debug!(peer = %peer_id, "connected");
                self.book.connected(peer_id);
                self.report_peers();
            }
            SwarmEvent::ConnectionClosed { peer_id, .. } => {
                self.book.disconnected(peer_id, now_ms());
                self.report_peers();
            }
            SwarmEvent::IncomingConnectionError {
                send_back_addr,
                error,
                peer_id,
                ..
            } => match error {
                ListenError::Denied { cause } => {
                    let peer = peer_id.map(|p| p.to_string()).unwrap_or_default();
                    tracing::warn!(
                        %peer,
                        from = %send_back_addr,
                        "refused a connection: {cause}"
                    );
                }
                other => {
                    tracing::debug!(from = %send_back_addr, "incoming connection failed: {other}")
                }
            },
            SwarmEvent::OutgoingConnectionError {
                peer_id: Some(peer),
                error,
                ..
            } => {
                self.book.dial_failed(&peer, now_ms());
                tracing::debug!(%peer, "dial failed: {error}");
            }
            _ => {}
        }
    }

    /// Reports the connected peers, and which validators they are (the driver leaves a view
    /// whose leader it cannot reach early).
    pub(super) fn report_peers(&self) {
        let reachable = self
            .membership
            .validators
            .iter()
            .enumerate()
            .filter(|(_, p)| p.is_some_and(|p| self.book.is_connected(&p)))
            .filter_map(|(i, _)| u16::try_from(i).ok())
            .collect();
        self.status
            .set_peers(self.book.connected_peers().count(), reachable);
    }

    fn on_wire(&mut self, event: request_response::Event<Request, Response>) {
        use request_response::{Event, Message as RrMessage};
        match event {
            Event::Message {
                peer,
                message:
                    RrMessage::Request {
                        request, channel, ..
                    },
                ..
            } => self.on_request(peer, request, channel),
            Event::Message {
                peer,
                message:
                    RrMessage::Response {
                        request_id,
                        response,
                    },
                ..
            } => {
                let Some((_, _, from_height)) =
                    self.sync_in_flight.filter(|(id, _, _)| *id == request_id)
                else {
                    return;
                };
                // Any answer ends the request: one left in flight would stop this node from
                // ever asking again.
                self.sync_in_flight = None;
                match response {
                    Response::Blocks(blocks) => self.on_synced(peer, from_height, blocks),
                    Response::Busy => self.on_sync_busy(peer),
                    Response::Ack => self.penalise(peer, "answered a sync request without blocks"),
                }
            }
            Event::OutboundFailure {
                peer,
                request_id,
                error,
                ..
            } => {
                if matches!(self.sync_in_flight, Some((id, _, _)) if id == request_id) {
                    self.sync_in_flight = None;
                    self.sync_failed_ms.insert(peer, now_ms());
                }
                tracing::debug!(%peer, "request failed: {error}");
            }
            Event::InboundFailure { peer, error, .. } => {
                // Undecodable or oversized requests end up here.
                if let request_response::InboundFailure::Io(e) = &error
                    && e.kind() == std::io::ErrorKind::InvalidData
                {
                    self.penalise(peer, &e.to_string());
                } else {
                    tracing::debug!(%peer, "inbound request failed: {error}");
                }
            }
            Event::ResponseSent { .. } => {}
        }
    }

    fn on_request(&mut self, peer: PeerId, request: Request, channel: ResponseChannel<Response>) {
        match request {
            Request::SyncFrom {
                from_height,
                blocks_max,
            } => self.answer_sync(peer, from_height, blocks_max, channel),
            // What wants no answer travels on push streams (`push`), never as a request.
            Request::Consensus(_) | Request::Transactions(_) | Request::CatchUp(_) => {
                self.ack(channel);
                self.penalise(peer, "a message that wants no answer sent as a request");
            }
        }
    }

    /// A message from `peer`'s push stream.
    pub(super) fn on_push(&mut self, peer: PeerId, request: Request) {
        match request {
            Request::Consensus(bytes) => {
                if !self.membership.is_validator(&peer) {
                    self.penalise(
                        peer,
                        "consensus message from a peer that is not a validator",
                    );
                    return;
                }
                // Decoded by the runtime, not here: a large proposal must not hold up the
                // network task.
                self.deliver(peer, Arrival::Encoded(bytes));
            }
            Request::Transactions(txs) => self.queue_relayed(peer, txs),
            // The push stream's reader refuses it before it gets here.
            Request::SyncFrom { .. } => self.penalise(peer, "a sync request on a push stream"),
            Request::CatchUp(blocks) => {
                if !self.membership.is_validator(&peer) {
                    self.penalise(peer, "catch-up blocks from a peer that is not a validator");
                    return;
                }
                // Decoded by the runtime, like a consensus message, and only from a validator,
                // at most as often as an honest one pushes (with room for pushes that arrive
                // bunched): the rest are dropped undecoded, so no validator can keep the
                // consensus task decoding pushes of up to 16 MiB.
                let now = now_ms();
                let last = self.catch_up_received_ms.get(&peer).copied().unwrap_or(0);
                if now < last.saturating_add(CATCH_UP_INTERVAL_MS / 2) {
                    tracing::debug!(%peer, "catch-up push sooner than pushes are sent; dropped");
                    return;
                }
                self.catch_up_received_ms.insert(peer, now);
                self.deliver(peer, Arrival::EncodedBlocks(blocks));
            }
        }
    }
}
