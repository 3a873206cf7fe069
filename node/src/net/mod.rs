//! The validator network: libp2p over TCP with Noise and Yamux, a request-response protocol for
//! block sync and push streams for everything that wants no answer (see `wire`, `push`), and an
//! allow-list built from chain state, so only the chain's validators and
//! observers can connect at all (and, while a node reaches none of the validators it knows, the
//! peers its operator configured: see `Network::update_fallback`).
//!
//! One task owns the swarm. It carries consensus messages from the runtime to the validators
//! (directly, on push streams), hands what peers send to the runtime as `Inbound` inputs,
//! forwards admitted transactions to the validators, serves and requests block sync, redials
//! configured peers with backoff, and scores down, disconnects and bans peers that send invalid
//! messages. Storage reads for sync answers and signature checks of relayed transactions run off
//! this task, so a slow disk or a flood of transactions never stalls the network.
//!
//! Rooms: `outbox` (the runtime's side: commands), `swarm` (the event loop, membership, scoring),
//! `sync` (asking for and answering with committed blocks, catch-up pushes), `forward`
//! (transactions to and from other validators), `push` (the long-lived streams, their writers
//! and readers), `handshakes` (incoming handshakes per IP address); `peers` and `wire` are pure.

mod fair;
mod forward;
mod handshakes;
mod outbox;
pub mod peers;
mod push;
mod swarm;
mod sync;
pub(crate) use sync::read_blocks;
pub mod wire;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use libp2p::allow_block_list::{self, AllowedPeers, BlockedPeers};
use libp2p::request_response::{self, OutboundRequestId, ProtocolSupport};
use libp2p::swarm::{NetworkBehaviour, SwarmEvent};
use libp2p::{Multiaddr, PeerId, Swarm, connection_limits, identity, noise, tcp, yamux};
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;

use crate::budget::QueuedBytes;
use crate::chain::Chain;
use crate::error::NodeError;
use crate::runtime::{Admission, Arrival, Inbound, Status, now_ms};
pub use outbox::{Command, NetOutbox, command_channel};
use peers::{Membership, PeerBook};
use sync::Done;
use wire::WireCodec;

/// Commands queued from the runtime to the network, at most (consensus tolerates a dropped
/// message: a full queue drops and logs).
pub const COMMANDS_MAX: usize = 4_096;
/// Admitted transactions waiting to be forwarded, at most.
pub const FORWARD_QUEUE_MAX: usize = 8_192;
/// Batches of forwarded transactions leave a node at most once per this period: under load a
/// transaction admitted sooner after the last batch waits for the next, with the others that
/// arrive meanwhile (each batch costs every other validator a frame to read, decode and queue
/// for checks; when a batch was a request stream, one a transaction took a fifth of a loaded
/// cluster's CPU in libp2p); at light load one leaves at once.
pub const FORWARD_INTERVAL_MIN_MS: u64 = 10;
/// Batches of relayed transactions waiting for their signature checks, at most.
pub const RELAY_BATCHES_MAX: usize = 64;
/// Of those, from one peer, at most: below `RELAY_BACKLOG_ADMIT_MAX` (16), so that no single
/// peer, flooding batches that cost a check each, can fill the queue for the others or make this
/// node turn every client away (503 `overloaded`).
pub const RELAY_BATCHES_PER_PEER_MAX: usize = 8;
const _: () = assert!(RELAY_BATCHES_PER_PEER_MAX < crate::runtime::RELAY_BACKLOG_ADMIT_MAX);
/// Concurrent request streams per connection, at most.
pub const STREAMS_PER_CONNECTION_MAX: usize = 256;
/// A request without an answer in this time fails.
pub const REQUEST_TIMEOUT_MS: u64 = 10_000;
/// Incoming connections still in their handshake, at most (and `PENDING_INCOMING_PER_IP_MAX`
/// from one IP address).
pub const PENDING_INCOMING_MAX: u32 = 64;
pub use handshakes::PENDING_INCOMING_PER_IP_MAX;
/// Connections to one peer, at most (both sides may dial at once).
pub const CONNECTIONS_PER_PEER_MAX: u32 = 2;
/// The network task's housekeeping period: dials, bans, sync polls, membership.
pub const TICK_MS: u64 = 100;
/// A peer whose sync request failed (timed out, connection lost) is asked again only when no
/// other peer is left, for this long.
pub const SYNC_FAILED_SKIP_MS: u64 = 30_000;
/// An observer asks for new blocks this often.
pub const OBSERVER_SYNC_POLL_MS: u64 = 250;
/// Catch-up pushes to one lagging validator, at most one per this period.
pub const CATCH_UP_INTERVAL_MS: u64 = 500;
/// A validator that committed nothing for this many view timeouts asks peers for blocks.
pub const STALL_VIEW_TIMEOUTS: u64 = 2;

/// Finished off-task work (sync answers, catch-up pushes) waiting for the swarm, at most.
pub const DONE_QUEUE_MAX: usize = 64;
/// `SyncFrom` requests read from storage at once, at most (one per peer); others are answered
/// `Busy` at once (the peer asks again, others first).
pub const SYNC_READS_MAX: usize = 4;
/// Penalties from the relay worker waiting for the swarm, at most.
pub const PENALTIES_QUEUE_MAX: usize = 256;
/// Requests of the attack harness's hostile validator waiting for the swarm, at most (only
/// built with the `attack` feature; see [`NetworkHandle`]).
pub const RAW_QUEUE_MAX: usize = 64;

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

/// What the network is connected to, all made before it (in `service::start`).
#[derive(Debug)]
pub struct Links {
    /// The committed chain: membership, sync answers.
    pub chain: Arc<Chain>,
    /// Where transactions other nodes forwarded are admitted.
    pub admission: Arc<Admission>,
    /// Where the count of connected peers is reported.
    pub status: Arc<Status>,
    /// Commands from the runtime (the other end of `command_channel`'s outbox).
    pub commands: mpsc::Receiver<Command>,
    /// Inputs for the runtime.
    pub inputs: mpsc::Sender<Inbound>,
    /// Transactions admitted from clients, to forward to the validators (the other end of
    /// admission's forwarder, at most `FORWARD_QUEUE_MAX`).
    pub forwarded: mpsc::Receiver<Vec<u8>>,
}

#[derive(NetworkBehaviour)]
struct Behaviour {
    allowed: allow_block_list::Behaviour<AllowedPeers>,
    blocked: allow_block_list::Behaviour<BlockedPeers>,
    limits: connection_limits::Behaviour,
    pending_per_ip: handshakes::PendingPerIp,
    wire: request_response::Behaviour<WireCodec>,
    push: libp2p_stream::Behaviour,
}

/// A running network task.
#[derive(Debug)]
pub struct NetworkHandle {
    pub peer_id: PeerId,
    /// The addresses actually listened on (ports resolved).
    pub listen_addrs: Vec<Multiaddr>,
    /// Requests sent as this node to the other validators exactly as given (at most
    /// `RAW_QUEUE_MAX` waiting; a `SyncFrom` as a request, the rest on push streams): how the
    /// attack harness (`node/benches/attack.rs`) makes one validator hostile while it keeps
    /// running honestly. Only with the `attack` feature, which no release build enables.
    #[cfg(feature = "attack")]
    pub raw: mpsc::Sender<wire::Request>,
    task: JoinHandle<()>,
}

impl NetworkHandle {
    pub async fn join(self) {
        let _ = self.task.await;
    }
}

fn net_error(reason: impl std::fmt::Display) -> NodeError {
    NodeError::Network {
        reason: reason.to_string(),
    }
}

/// Starts listening and dialling; returns once every listen address is bound.
pub async fn start(
    links: Links,
    options: NetworkOptions,
    role: Role,
    shutdown: watch::Receiver<bool>,
) -> Result<NetworkHandle, NodeError> {
    let Links {
        chain,
        admission,
        status,
        commands,
        inputs,
        forwarded,
    } = links;
    let protocol = wire::protocol_name(&chain.genesis().hash()).map_err(net_error)?;
    // One statement each: `get_or_create` returns a read guard, and a second call inserting
    // while the first guard lives (a temporary of the same statement) would deadlock.
    let p2p_bytes = &status.metrics().p2p_bytes;
    let bytes_in = p2p_bytes.get_or_create(&[("direction", "in")]).clone();
    let bytes_out = p2p_bytes.get_or_create(&[("direction", "out")]).clone();
    let genesis_hash = chain.genesis().hash();
    let push_protocols = [
        wire::push_protocol_name(&genesis_hash, wire::PushLane::Consensus).map_err(net_error)?,
        wire::push_protocol_name(&genesis_hash, wire::PushLane::Transactions).map_err(net_error)?,
    ];
    let push = libp2p_stream::Behaviour::new();
    let mut pushes = push::Pushes::new(
        push.new_control(),
        push_protocols,
        bytes_in.clone(),
        bytes_out.clone(),
    );
    let incoming = pushes.incoming().map_err(net_error)?;
    let codec = WireCodec {
        bytes_in,
        bytes_out,
    };
    let wire = request_response::Behaviour::with_codec(
        codec,
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
        pending_per_ip: handshakes::PendingPerIp::default(),
        wire,
        push,
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
    let (done_tx, done_rx) = mpsc::channel(DONE_QUEUE_MAX);
    let (relay_tx, relay_rx) = mpsc::channel(RELAY_BATCHES_MAX);
    let relay_shares = forward::RelayShares::default();
    let (penalty_tx, penalty_rx) = mpsc::channel(PENALTIES_QUEUE_MAX);
    // Without the `attack` feature the sender is dropped here and the queue stays closed.
    let (raw_tx, raw_rx) = mpsc::channel(RAW_QUEUE_MAX);
    let mut network = Network {
        swarm,
        chain,
        admission: admission.clone(),
        status,
        role,
        me: peer_id,
        membership: Membership::default(),
        membership_height: None,
        book,
        commands,
        inputs,
        pending: fair::FairQueue::default(),
        input_bytes: QueuedBytes::default(),
        forward_rx: forwarded,
        forward_pending: Vec::new(),
        forward_next_at: tokio::time::Instant::now(),
        done_tx,
        done_rx,
        relay_tx,
        relay_shares: relay_shares.clone(),
        penalty_rx,
        raw_rx,
        pushes,
        incoming,
        sync_in_flight: None,
        next_sync_poll_ms: 0,
        last_catch_up_ms: BTreeMap::new(),
        catch_up_received_ms: BTreeMap::new(),
        sync_failed_ms: BTreeMap::new(),
        sync_reads: BTreeSet::new(),
        sync_turn: 0,
        fallback: BTreeSet::new(),
    };
    network.refresh_membership();
    let watched_status = network.status.clone();
    let task = tokio::spawn(async move {
        let relay = tokio::spawn(forward::relay_worker(
            admission,
            relay_rx,
            relay_shares,
            penalty_tx,
        ));
        let stopping = shutdown.clone();
        // Run apart, so that a panic is seen here: a node whose network died must say so.
        let ended = tokio::spawn(async move { network.run(shutdown).await }).await;
        relay.abort();
        if !*stopping.borrow() {
            let reason = match ended {
                Ok(()) => "the network task ended".to_string(),
                Err(e) => format!("the network task failed: {e}"),
            };
            watched_status.set_stopped("network", reason);
        }
    });
    tracing::info!(%peer_id, addresses = ?listen_addrs, role = role.name(), "network started");
    #[cfg(not(feature = "attack"))]
    drop(raw_tx);
    Ok(NetworkHandle {
        peer_id,
        listen_addrs,
        #[cfg(feature = "attack")]
        raw: raw_tx,
        task,
    })
}

/// The network task's state: the swarm and everything it keeps between events. Its methods live
/// in the rooms: `swarm` (events, membership, scoring), `sync` and `forward`.
struct Network {
    swarm: Swarm<Behaviour>,
    chain: Arc<Chain>,
    admission: Arc<Admission>,
    status: Arc<Status>,
    role: Role,
    me: PeerId,
    membership: Membership,
    /// The tip height the membership was read at.
    membership_height: Option<u64>,
    book: PeerBook,
    commands: mpsc::Receiver<Command>,
    inputs: mpsc::Sender<Inbound>,
    /// Peers' inputs not yet in the runtime's channel, per peer, fed to it in turn.
    pending: fair::FairQueue<Arrival>,
    /// Bytes of the inputs in the runtime's channel (each holds its room until handled).
    input_bytes: QueuedBytes,
    forward_rx: mpsc::Receiver<Vec<u8>>,
    /// Admitted transactions waiting for the next forwarded batch (at most `TX_BATCH_MAX`).
    forward_pending: Vec<Vec<u8>>,
    /// When the next batch may leave.
    forward_next_at: tokio::time::Instant,
    done_tx: mpsc::Sender<Done>,
    done_rx: mpsc::Receiver<Done>,
    relay_tx: mpsc::Sender<(PeerId, Vec<Vec<u8>>)>,
    /// Batches each peer has in `relay_tx`'s queue.
    relay_shares: forward::RelayShares,
    penalty_rx: mpsc::Receiver<(PeerId, String)>,
    /// The hostile validator's requests (closed unless built with the `attack` feature).
    raw_rx: mpsc::Receiver<wire::Request>,
    /// The push streams to and from peers (messages that want no answer).
    pushes: push::Pushes,
    /// New push streams from peers, with their lanes.
    incoming: push::Incoming,
    /// The one sync request under way: its id, the peer and the first height asked for.
    sync_in_flight: Option<(OutboundRequestId, PeerId, u64)>,
    next_sync_poll_ms: u64,
    last_catch_up_ms: BTreeMap<PeerId, u64>,
    /// When each validator's last catch-up push was taken (validators only: bounded by them).
    catch_up_received_ms: BTreeMap<PeerId, u64>,
    /// When each peer's last sync request failed, for `SYNC_FAILED_SKIP_MS`.
    sync_failed_ms: BTreeMap<PeerId, u64>,
    /// Peers whose `SyncFrom` is being read from storage (one each, `SYNC_READS_MAX` in all).
    sync_reads: BTreeSet<PeerId>,
    /// Round-robin position for choosing whom to ask for blocks.
    sync_turn: usize,
    /// Configured peers outside the chain's membership, allowed and dialled while this node
    /// reaches none of the validators it knows (see `update_fallback`).
    fallback: BTreeSet<PeerId>,
}
