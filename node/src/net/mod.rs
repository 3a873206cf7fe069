//! The validator network: libp2p over TCP with Noise and Yamux, one request-response protocol
//! (see `wire`), and an allow-list built from chain state, so only the chain's validators and
//! observers can connect at all.
//!
//! One task owns the swarm. It carries consensus messages from the runtime to the validators
//! (directly, one request each), hands what peers send to the runtime as `Inbound` inputs,
//! forwards admitted transactions to the validators, serves and requests block sync, redials
//! configured peers with backoff, and scores down, disconnects and bans peers that send invalid
//! messages. Storage reads for sync answers and signature checks of relayed transactions run off
//! this task, so a slow disk or a flood of transactions never stalls the network.

pub mod peers;
pub mod wire;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use futures::StreamExt;
use libp2p::allow_block_list::{self, AllowedPeers, BlockedPeers};
use libp2p::request_response::{self, OutboundRequestId, ProtocolSupport, ResponseChannel};
use libp2p::swarm::dial_opts::{DialOpts, PeerCondition};
use libp2p::swarm::{ListenError, NetworkBehaviour, SwarmEvent};
use libp2p::{Multiaddr, PeerId, Swarm, connection_limits, identity, noise, tcp, yamux};
use lichen_consensus::Input;
use lichen_consensus::Message;
use lichen_contracts::block::Block;
use lichen_contracts::codec::{Decode, Encode};
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;

use crate::error::NodeError;
use crate::mempool::AdmitError;
use crate::runtime::{Inbound, Outbox, Shared, SubmitError, now_ms};
use peers::{Membership, PENALTY_INVALID_POINTS, PeerBook, Verdict};
use wire::{CertifiedBlock, Request, Response, SYNC_BLOCKS_MAX, SYNC_BYTES_SOFT_MAX, WireCodec};

/// Commands queued from the runtime to the network, at most (consensus tolerates a dropped
/// message: a full queue drops and logs).
pub const COMMANDS_MAX: usize = 4_096;
/// Admitted transactions waiting to be forwarded, at most.
pub const FORWARD_QUEUE_MAX: usize = 8_192;
/// Batches of relayed transactions waiting for their signature checks, at most.
pub const RELAY_BATCHES_MAX: usize = 64;
/// Concurrent request streams per connection, at most.
pub const STREAMS_PER_CONNECTION_MAX: usize = 256;
/// A request without an answer in this time fails.
pub const REQUEST_TIMEOUT_MS: u64 = 10_000;
/// Incoming connections still in their handshake, at most.
pub const PENDING_INCOMING_MAX: u32 = 64;
/// Connections to one peer, at most (both sides may dial at once).
pub const CONNECTIONS_PER_PEER_MAX: u32 = 2;
/// The network task's housekeeping period: dials, bans, sync polls, membership.
pub const TICK_MS: u64 = 100;
/// An observer asks for new blocks this often.
pub const OBSERVER_SYNC_POLL_MS: u64 = 250;
/// Catch-up pushes to one lagging validator, at most one per this period.
pub const CATCH_UP_INTERVAL_MS: u64 = 500;
/// A validator that committed nothing for this many view timeouts asks peers for blocks.
pub const STALL_VIEW_TIMEOUTS: u64 = 2;

/// Finished off-task work (sync answers, catch-up pushes) waiting for the swarm, at most.
pub const DONE_QUEUE_MAX: usize = 64;
/// Penalties from the relay worker waiting for the swarm, at most.
pub const PENALTIES_QUEUE_MAX: usize = 256;

/// Whether this node votes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    Validator,
    /// Follows the chain by sync, serves the API; never sends a consensus message.
    Observer,
}

impl Role {
    pub fn name(self) -> &'static str {
        match self {
            Role::Validator => "validator",
            Role::Observer => "observer",
        }
    }
}

/// How the node joins the network.
#[derive(Clone, Debug)]
pub struct NetworkOptions {
    /// The node's libp2p identity (its peer id is what genesis or chain state lists).
    pub keypair: identity::Keypair,
    /// Where to listen, e.g. `/ip4/127.0.0.1/tcp/9100` (`tcp/0` picks a free port).
    pub listen: Vec<Multiaddr>,
    /// Peers to dial and keep dialling, each `/ip4/…/tcp/…/p2p/<peer id>`.
    pub peers: Vec<Multiaddr>,
}

/// What the runtime asks of the network.
#[derive(Debug)]
pub enum Command {
    Broadcast(Message),
    RequestSync { from_height: u64 },
    HelpCatchUp { validator: u16, from_height: u64 },
    Penalise { peer: PeerId, reason: String },
}

/// The runtime's side of the network: a bounded queue of commands.
#[derive(Debug)]
pub struct NetOutbox {
    commands: mpsc::Sender<Command>,
    role: Role,
}

impl NetOutbox {
    fn send(&self, command: Command) {
        if let Err(e) = self.commands.try_send(command) {
            tracing::warn!("network command queue full; dropped: {e}");
        }
    }
}

impl Outbox for NetOutbox {
    fn broadcast(&mut self, message: Message) {
        // An observer's core never votes; should it ever produce a message, it stays here.
        if self.role == Role::Validator {
            self.send(Command::Broadcast(message));
        }
    }

    fn request_sync(&mut self, from_height: u64) {
        self.send(Command::RequestSync { from_height });
    }

    fn help_catch_up(&mut self, validator: u16, from_height: u64) {
        if self.role == Role::Validator {
            self.send(Command::HelpCatchUp {
                validator,
                from_height,
            });
        }
    }

    fn penalise(&mut self, peer: PeerId, reason: String) {
        self.send(Command::Penalise { peer, reason });
    }
}

/// The queue between the runtime and the network.
pub fn command_channel(role: Role) -> (NetOutbox, mpsc::Receiver<Command>) {
    let (tx, rx) = mpsc::channel(COMMANDS_MAX);
    (NetOutbox { commands: tx, role }, rx)
}

#[derive(NetworkBehaviour)]
struct Behaviour {
    allowed: allow_block_list::Behaviour<AllowedPeers>,
    blocked: allow_block_list::Behaviour<BlockedPeers>,
    limits: connection_limits::Behaviour,
    wire: request_response::Behaviour<WireCodec>,
}

/// A running network task.
#[derive(Debug)]
pub struct NetworkHandle {
    pub peer_id: PeerId,
    /// The addresses actually listened on (ports resolved).
    pub listen_addrs: Vec<Multiaddr>,
    task: JoinHandle<()>,
}

impl NetworkHandle {
    pub async fn join(self) {
        let _ = self.task.await;
    }
}

/// Work done off the swarm task, coming back to it.
enum Done {
    SyncAnswer {
        channel: ResponseChannel<Response>,
        blocks: Vec<CertifiedBlock>,
    },
    CatchUp {
        peer: PeerId,
        blocks: Vec<CertifiedBlock>,
    },
}

fn net_error(reason: impl std::fmt::Display) -> NodeError {
    NodeError::Network {
        reason: reason.to_string(),
    }
}

/// Starts listening and dialling; returns once every listen address is bound.
pub async fn start(
    shared: Arc<Shared>,
    options: NetworkOptions,
    role: Role,
    commands: mpsc::Receiver<Command>,
    inputs: mpsc::Sender<Inbound>,
    shutdown: watch::Receiver<bool>,
) -> Result<NetworkHandle, NodeError> {
    let protocol = wire::protocol_name(&shared.chain.genesis().hash()).map_err(net_error)?;
    let wire = request_response::Behaviour::with_codec(
        WireCodec,
        [(protocol, ProtocolSupport::Full)],
        request_response::Config::default()
            .with_request_timeout(Duration::from_millis(REQUEST_TIMEOUT_MS))
            .with_max_concurrent_streams(STREAMS_PER_CONNECTION_MAX),
    );
    let limits = connection_limits::ConnectionLimits::default()
        .with_max_pending_incoming(Some(PENDING_INCOMING_MAX))
        .with_max_established_per_peer(Some(CONNECTIONS_PER_PEER_MAX));
    let behaviour = Behaviour {
        allowed: allow_block_list::Behaviour::default(),
        blocked: allow_block_list::Behaviour::default(),
        limits: connection_limits::Behaviour::new(limits),
        wire,
    };
    let peer_id = options.keypair.public().to_peer_id();
    let mut swarm = libp2p::SwarmBuilder::with_existing_identity(options.keypair.clone())
        .with_tokio()
        .with_tcp(
            tcp::Config::default().nodelay(true),
            noise::Config::new,
            yamux::Config::default,
        )
        .map_err(net_error)?
        .with_behaviour(|_| behaviour)
        .map_err(net_error)?
        .with_swarm_config(|c| c.with_idle_connection_timeout(Duration::from_secs(3_600)))
        .build();
    for address in &options.listen {
        swarm
            .listen_on(address.clone())
            .map_err(|e| NodeError::Bind {
                addr: address.to_string(),
                reason: e.to_string(),
            })?;
    }
    // Wait for the listeners to report their addresses (ports picked by the OS included).
    let mut listen_addrs = Vec::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while listen_addrs.len() < options.listen.len() {
        let event = tokio::time::timeout_at(deadline, swarm.select_next_some())
            .await
            .map_err(|_| net_error("listeners did not come up within 5 s"))?;
        match event {
            SwarmEvent::NewListenAddr { address, .. } => listen_addrs.push(address),
            SwarmEvent::ListenerError { error, .. }
            | SwarmEvent::ListenerClosed {
                reason: Err(error), ..
            } => {
                return Err(NodeError::Bind {
                    addr: format!("{:?}", options.listen),
                    reason: error.to_string(),
                });
            }
            _ => {}
        }
    }
    let book = PeerBook::new(&options.peers, now_ms());
    for (peer, address) in book.addresses() {
        swarm.add_peer_address(*peer, address.clone());
    }
    let (forward_tx, forward_rx) = mpsc::channel(FORWARD_QUEUE_MAX);
    // The runtime's Shared learns where to send admitted transactions.
    let _ = shared.forward.set(forward_tx);
    let (done_tx, done_rx) = mpsc::channel(DONE_QUEUE_MAX);
    let (relay_tx, relay_rx) = mpsc::channel(RELAY_BATCHES_MAX);
    let (penalty_tx, penalty_rx) = mpsc::channel(PENALTIES_QUEUE_MAX);
    let mut network = Network {
        swarm,
        shared: shared.clone(),
        role,
        me: peer_id,
        membership: Membership::default(),
        membership_height: None,
        book,
        commands,
        inputs,
        forward_rx,
        done_tx,
        done_rx,
        relay_tx,
        penalty_rx,
        sync_in_flight: None,
        next_sync_poll_ms: 0,
        last_catch_up_ms: BTreeMap::new(),
        sync_turn: 0,
    };
    network.refresh_membership();
    let task = tokio::spawn(async move {
        let relay = tokio::spawn(relay_worker(shared, relay_rx, penalty_tx));
        network.run(shutdown).await;
        relay.abort();
    });
    tracing::info!(%peer_id, addresses = ?listen_addrs, role = role.name(), "network started");
    Ok(NetworkHandle {
        peer_id,
        listen_addrs,
        task,
    })
}

struct Network {
    swarm: Swarm<Behaviour>,
    shared: Arc<Shared>,
    role: Role,
    me: PeerId,
    membership: Membership,
    /// The tip height the membership was read at.
    membership_height: Option<u64>,
    book: PeerBook,
    commands: mpsc::Receiver<Command>,
    inputs: mpsc::Sender<Inbound>,
    forward_rx: mpsc::Receiver<Vec<u8>>,
    done_tx: mpsc::Sender<Done>,
    done_rx: mpsc::Receiver<Done>,
    relay_tx: mpsc::Sender<(PeerId, Vec<Vec<u8>>)>,
    penalty_rx: mpsc::Receiver<(PeerId, String)>,
    /// The one sync request under way: its id, the peer and the first height asked for.
    sync_in_flight: Option<(OutboundRequestId, PeerId, u64)>,
    next_sync_poll_ms: u64,
    last_catch_up_ms: BTreeMap<PeerId, u64>,
    /// Round-robin position for choosing whom to ask for blocks.
    sync_turn: usize,
}

impl Network {
    async fn run(&mut self, mut shutdown: watch::Receiver<bool>) {
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
                Some(done) = self.done_rx.recv() => self.on_done(done),
                Some((peer, reason)) = self.penalty_rx.recv() => self.penalise(peer, &reason),
                _ = tick.tick() => self.on_tick(),
            }
        }
    }

    /// Re-reads who may connect when the chain has moved; updates the allow-list.
    fn refresh_membership(&mut self) {
        let chain = &self.shared.chain;
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
    }

    fn on_tick(&mut self) {
        let now = now_ms();
        self.refresh_membership();
        for peer in self.book.expire_bans(now) {
            self.swarm.behaviour_mut().blocked.unblock_peer(peer);
            tracing::info!(%peer, "ban ended");
        }
        for (peer, address) in self.book.due_dials(now) {
            if peer == self.me || !self.membership.all().contains(&peer) {
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
    }

    /// Asks for blocks when this node may be behind: an observer always polls; a validator does
    /// when nothing was committed for a few view timeouts (consensus asks by itself when it sees
    /// later messages, this covers a quiet network).
    fn maybe_poll_sync(&mut self, now: u64) {
        if self.sync_in_flight.is_some() || now < self.next_sync_poll_ms {
            return;
        }
        let Ok(tip) = self.shared.chain.tip() else {
            return;
        };
        let poll = match self.role {
            Role::Observer => true,
            Role::Validator => {
                let last = self
                    .shared
                    .status
                    .read()
                    .map(|s| s.last_commit_ms.unwrap_or(s.started_ms))
                    .unwrap_or(0);
                let stall = self.shared.chain.params().view_timeout_base_ms * STALL_VIEW_TIMEOUTS;
                now.saturating_sub(last) > stall
            }
        };
        if poll {
            self.next_sync_poll_ms = now + OBSERVER_SYNC_POLL_MS;
            self.request_sync(tip.height + 1);
        }
    }

    /// Sends one sync request (never two at once), to the next connected validator in turn, or
    /// any connected peer if no validator is connected.
    fn request_sync(&mut self, from_height: u64) {
        if self.sync_in_flight.is_some() {
            return;
        }
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

    fn on_command(&mut self, command: Command) {
        match command {
            Command::Broadcast(message) => {
                self.send_to_other_validators(&Request::Consensus(message.to_bytes()));
            }
            Command::RequestSync { from_height } => self.request_sync(from_height),
            Command::HelpCatchUp {
                validator,
                from_height,
            } => {
                let Some(peer) = self.membership.validator(validator) else {
                    return;
                };
                let now = now_ms();
                let last = self.last_catch_up_ms.get(&peer).copied().unwrap_or(0);
                if peer == self.me || now < last + CATCH_UP_INTERVAL_MS {
                    return;
                }
                self.last_catch_up_ms.insert(peer, now);
                let shared = self.shared.clone();
                let done = self.done_tx.clone();
                tokio::task::spawn_blocking(move || {
                    let blocks = read_blocks(&shared, from_height, SYNC_BLOCKS_MAX);
                    if !blocks.is_empty() {
                        let _ = done.try_send(Done::CatchUp { peer, blocks });
                    }
                });
            }
            Command::Penalise { peer, reason } => self.penalise(peer, &reason),
        }
    }

    /// Forwards admitted transactions to every other validator (each leads in turn), batched:
    /// whatever else is already queued goes in the same request.
    fn forward(&mut self, first: Vec<u8>) {
        let mut batch = vec![first];
        while batch.len() < wire::TX_BATCH_MAX {
            match self.forward_rx.try_recv() {
                Ok(tx) => batch.push(tx),
                Err(_) => break,
            }
        }
        self.send_to_other_validators(&Request::Transactions(batch));
    }

    /// Sends `request` to every validator of the current set but this node.
    fn send_to_other_validators(&mut self, request: &Request) {
        let targets: Vec<PeerId> = self
            .membership
            .validators
            .iter()
            .flatten()
            .filter(|p| **p != self.me)
            .copied()
            .collect();
        for peer in targets {
            self.swarm
                .behaviour_mut()
                .wire
                .send_request(&peer, request.clone());
        }
    }

    fn ack(&mut self, channel: ResponseChannel<Response>) {
        // An error means the asker is gone; there is no one left to tell.
        let _ = self
            .swarm
            .behaviour_mut()
            .wire
            .send_response(channel, Response::Ack);
    }

    /// Hands committed blocks to the runtime in order; false if its queue is full (the rest is
    /// fetched again later).
    fn deliver_blocks(&mut self, from: PeerId, blocks: Vec<CertifiedBlock>) -> bool {
        for b in blocks {
            let synced = Input::Synced {
                block: b.block,
                certificate: b.certificate,
            };
            if !self.deliver(from, synced) {
                return false;
            }
        }
        true
    }

    fn on_done(&mut self, done: Done) {
        match done {
            Done::SyncAnswer { channel, blocks } => {
                let _ = self
                    .swarm
                    .behaviour_mut()
                    .wire
                    .send_response(channel, Response::Blocks(blocks));
            }
            Done::CatchUp { peer, blocks } => {
                self.swarm
                    .behaviour_mut()
                    .wire
                    .send_request(&peer, Request::CatchUp(blocks));
            }
        }
    }

    fn penalise(&mut self, peer: PeerId, reason: &str) {
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

    fn deliver(&mut self, from: PeerId, input: Input) -> bool {
        match self.inputs.try_send(Inbound {
            from: Some(from),
            input,
        }) {
            Ok(()) => true,
            Err(mpsc::error::TrySendError::Full(_)) => {
                tracing::debug!("runtime input queue full; message dropped");
                false
            }
            Err(mpsc::error::TrySendError::Closed(_)) => false,
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

    fn report_peers(&self) {
        if let Ok(mut status) = self.shared.status.write() {
            status.peers = self.book.connected_peers().count();
        }
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
                if let (Some((id, _, _)), Response::Blocks(blocks)) =
                    (self.sync_in_flight, response)
                    && id == request_id
                {
                    self.sync_in_flight = None;
                    self.on_synced(peer, blocks);
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

    /// Blocks from a sync answer go to the runtime in height order; a full answer asks at once
    /// for the next batch.
    fn on_synced(&mut self, peer: PeerId, blocks: Vec<CertifiedBlock>) {
        let full = blocks.len() >= SYNC_BLOCKS_MAX;
        let next = blocks.last().map(|b| b.block.header.height + 1);
        if !self.deliver_blocks(peer, blocks) {
            return;
        }
        if let (true, Some(next)) = (full, next) {
            self.request_sync(next);
        } else {
            self.next_sync_poll_ms = now_ms() + OBSERVER_SYNC_POLL_MS;
        }
    }

    fn on_request(&mut self, peer: PeerId, request: Request, channel: ResponseChannel<Response>) {
        match request {
            Request::Consensus(bytes) => {
                self.ack(channel);
                if !self.membership.is_validator(&peer) {
                    self.penalise(
                        peer,
                        "consensus message from a peer that is not a validator",
                    );
                    return;
                }
                match Message::from_wire(&bytes) {
                    Ok(message) => {
                        self.deliver(peer, Input::Message(message));
                    }
                    Err(e) => self.penalise(peer, &format!("undecodable consensus message: {e}")),
                }
            }
            Request::Transactions(txs) => {
                self.ack(channel);
                match self.relay_tx.try_send((peer, txs)) {
                    Ok(()) => {
                        self.shared.relay_backlog.fetch_add(1, Ordering::Relaxed);
                    }
                    Err(_) => {
                        tracing::debug!(%peer, "relay queue full; forwarded transactions dropped");
                    }
                }
            }
            Request::SyncFrom {
                from_height,
                blocks_max,
            } => {
                let shared = self.shared.clone();
                let done = self.done_tx.clone();
                let max = usize::from(blocks_max).clamp(1, SYNC_BLOCKS_MAX);
                tokio::task::spawn_blocking(move || {
                    let blocks = read_blocks(&shared, from_height, max);
                    let _ = done.try_send(Done::SyncAnswer { channel, blocks });
                });
            }
            Request::CatchUp(blocks) => {
                self.ack(channel);
                if !self.membership.is_validator(&peer) {
                    self.penalise(peer, "catch-up blocks from a peer that is not a validator");
                    return;
                }
                self.deliver_blocks(peer, blocks);
            }
        }
    }
}

/// Committed blocks with certificates from `from_height`, at most `max` and about
/// `SYNC_BYTES_SOFT_MAX` bytes (always at least one if there is one).
fn read_blocks(shared: &Shared, from_height: u64, max: usize) -> Vec<CertifiedBlock> {
    let store = shared.chain.store();
    let mut out = Vec::new();
    let mut bytes = 0;
    for height in from_height.max(1)..from_height.max(1).saturating_add(max as u64) {
        let (Ok(Some(raw)), Ok(Some(certificate))) =
            (store.block_bytes(height), store.certificate(height))
        else {
            break;
        };
        // The stored size, not a re-encoding; certificates are small beside blocks.
        bytes += raw.len();
        if !out.is_empty() && bytes > SYNC_BYTES_SOFT_MAX {
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

/// Checks and admits transactions other nodes forwarded, off the network task. A peer whose
/// batch holds a transaction no honest node would have admitted (undecodable, badly signed,
/// another chain's) is reported; duplicates and the already committed are normal.
async fn relay_worker(
    shared: Arc<Shared>,
    mut batches: mpsc::Receiver<(PeerId, Vec<Vec<u8>>)>,
    penalties: mpsc::Sender<(PeerId, String)>,
) {
    while let Some((peer, txs)) = batches.recv().await {
        let checker = shared.clone();
        let verdict = tokio::task::spawn_blocking(move || {
            let mut bad = None;
            for tx in &txs {
                match checker.admit_relayed(tx) {
                    Ok(_) => {}
                    Err(SubmitError::Admit(
                        e @ (AdmitError::TooLarge { .. }
                        | AdmitError::Malformed { .. }
                        | AdmitError::WrongChain { .. }
                        | AdmitError::Signature(_)),
                    )) => bad = Some(e.to_string()),
                    Err(e) => tracing::trace!("relayed transaction not admitted: {e}"),
                }
            }
            bad
        })
        .await;
        shared.relay_backlog.fetch_sub(1, Ordering::Relaxed);
        if let Ok(Some(reason)) = verdict {
            let _ =
                penalties.try_send((peer, format!("forwarded an invalid transaction: {reason}")));
        }
    }
}
