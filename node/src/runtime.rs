//! The runtime: one tokio task that owns the consensus core, feeds it inputs (messages, timers,
//! built proposals, execution results) and carries out its effects in order. A `Persist` is
//! written and flushed before the next effect of the same step runs, so no vote leaves before
//! the node has recorded it.

use std::collections::{BTreeMap, VecDeque};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock, RwLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use libp2p::PeerId;
use lichen_consensus::{Config, Core, Effect, Input, Message, PersistedState, Tip};
use lichen_contracts::codec::{Decode, Encode};
use lichen_contracts::crypto::{Hash32, SecretKey};
use tokio::sync::{Notify, mpsc, oneshot, watch};
use tokio::time::Instant;

use crate::chain::Chain;
use crate::error::NodeError;
use crate::mempool::{AdmitContext, AdmitError, Admitted, Mempool};

/// Inputs queued for the runtime (from the network), at most.
pub const INPUT_QUEUE_MAX: usize = 1_024;
/// Clients waiting for finality of transactions, at most.
pub const FINALITY_WAITERS_MAX: usize = 10_000;
/// Refused transactions whose reason is remembered for queries, at most.
pub const REFUSED_REMEMBERED_MAX: usize = 10_000;
/// Batches of transactions other nodes forwarded, still waiting for their signature checks, at
/// which this node stops admitting from clients (503 `overloaded`). Every validator checks every
/// transaction, so a backlog here means the chain as a whole takes transactions faster than its
/// validators can check them; admitting more would only push checks onto the consensus path
/// (a block with unchecked transactions is checked as it executes) and stall it.
pub const RELAY_BACKLOG_ADMIT_MAX: usize = 16;

/// Milliseconds since the Unix epoch: the node's clock.
pub fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// What became of a submitted transaction.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TxFate {
    Committed {
        height: u64,
        index: u32,
        block_time_ms: u64,
    },
    Refused {
        reason: String,
    },
    Expired,
}

/// Clients waiting for transactions to become final, and the recently refused.
#[derive(Debug, Default)]
pub struct Finality {
    waiters: Mutex<BTreeMap<Hash32, Vec<oneshot::Sender<TxFate>>>>,
    refused: Mutex<(BTreeMap<Hash32, String>, VecDeque<Hash32>)>,
}

impl Finality {
    /// Registers interest in `id`'s fate; `None` if too many clients already wait.
    pub fn watch(&self, id: Hash32) -> Option<oneshot::Receiver<TxFate>> {
        let mut waiters = self.waiters.lock().ok()?;
        let count: usize = waiters.values().map(Vec::len).sum();
        if count >= FINALITY_WAITERS_MAX {
            return None;
        }
        let (tx, rx) = oneshot::channel();
        waiters.entry(id).or_default().push(tx);
        Some(rx)
    }

    fn settle(&self, id: &Hash32, fate: TxFate) {
        if let TxFate::Refused { reason } = &fate
            && let Ok(mut refused) = self.refused.lock()
        {
            let (map, order) = &mut *refused;
            if map.insert(*id, reason.clone()).is_none() {
                order.push_back(*id);
            }
            while order.len() > REFUSED_REMEMBERED_MAX {
                if let Some(old) = order.pop_front() {
                    map.remove(&old);
                }
            }
        }
        let senders = self.waiters.lock().ok().and_then(|mut w| w.remove(id));
        for s in senders.into_iter().flatten() {
            let _ = s.send(fate.clone());
        }
    }

    fn forget_refusal(&self, id: &Hash32) {
        if let Ok(mut refused) = self.refused.lock() {
            refused.0.remove(id);
        }
    }

    /// Why `id` was refused, if it was recently.
    pub fn refused_reason(&self, id: &Hash32) -> Option<String> {
        self.refused.lock().ok()?.0.get(id).cloned()
    }

    /// Drops waiters whose clients went away.
    fn prune_closed(&self) {
        if let Ok(mut w) = self.waiters.lock() {
            w.retain(|_, senders| {
                senders.retain(|s| !s.is_closed());
                !senders.is_empty()
            });
        }
    }
}

/// An input for the consensus core and, if it came from the network, the peer that sent it (so a
/// message the core refuses can be held against that peer).
#[derive(Debug)]
pub struct Inbound {
    pub from: Option<PeerId>,
    pub input: Input,
}

/// What the node reports about itself.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RuntimeStatus {
    pub view: u64,
    /// This node's index in the current validator set, if it is a validator.
    pub validator_index: Option<u16>,
    pub started_ms: u64,
    pub last_commit_ms: Option<u64>,
    /// Connected peers.
    pub peers: usize,
    /// The libp2p peer id, if the node is on a network.
    pub peer_id: Option<String>,
    /// "validator" or "observer".
    pub role: &'static str,
}

/// Where consensus messages go. The single-node runtime has no peers; the network layer
/// implements this for a validator set.
pub trait Outbox: Send {
    fn broadcast(&mut self, message: Message);
    fn request_sync(&mut self, from_height: u64);
    fn help_catch_up(&mut self, validator: u16, from_height: u64);
    /// `peer` sent something the core refused as invalid (not merely late).
    fn penalise(&mut self, _peer: PeerId, _reason: String) {}
}

/// No peers: messages go nowhere (a one-validator chain needs none).
#[derive(Debug, Default)]
pub struct NoPeers;

impl Outbox for NoPeers {
    fn broadcast(&mut self, _message: Message) {}
    fn request_sync(&mut self, _from_height: u64) {}
    fn help_catch_up(&mut self, _validator: u16, _from_height: u64) {}
}

/// Everything the HTTP API shares with the runtime.
#[derive(Debug)]
pub struct Shared {
    pub chain: Arc<Chain>,
    pub mempool: Mutex<Mempool>,
    pub finality: Finality,
    pub status: RwLock<RuntimeStatus>,
    /// Signalled when the mempool receives a transaction.
    pub wake: Notify,
    /// Where transactions admitted from clients go to be forwarded to the validators (set by the
    /// network; a node without one keeps them to itself).
    pub forward: OnceLock<mpsc::Sender<Vec<u8>>>,
    /// Forwarded batches waiting for their signature checks (kept by the network).
    pub relay_backlog: AtomicUsize,
}

impl Shared {
    pub fn new(chain: Arc<Chain>, mempool: Mempool) -> Self {
        Shared {
            chain,
            mempool: Mutex::new(mempool),
            finality: Finality::default(),
            status: RwLock::new(RuntimeStatus {
                started_ms: now_ms(),
                role: "validator",
                ..RuntimeStatus::default()
            }),
            wake: Notify::new(),
            forward: OnceLock::new(),
            relay_backlog: AtomicUsize::new(0),
        }
    }

    /// Checks and admits an encoded transaction. With `watch`, the returned receiver learns the
    /// transaction's fate: it is registered before the transaction enters the mempool, so no
    /// outcome can slip between admission and waiting.
    pub fn submit(
        &self,
        bytes: &[u8],
        watch: bool,
    ) -> Result<(Admitted, Option<oneshot::Receiver<TxFate>>), SubmitError> {
        let backlog = self.relay_backlog.load(Ordering::Relaxed);
        if backlog >= RELAY_BACKLOG_ADMIT_MAX {
            return Err(SubmitError::Overloaded { backlog });
        }
        let admitted = self.admit(bytes, watch)?;
        if let Some(forward) = self.forward.get()
            && forward.try_send(bytes.to_vec()).is_err()
        {
            // The local mempool has it: if this node leads, it is proposed; otherwise the client
            // learns of the delay from the finality wait and may resubmit.
            tracing::warn!("forward queue full; transaction kept locally only");
        }
        Ok(admitted)
    }

    /// Admits a transaction another node forwarded: checked like any other, not forwarded again.
    pub fn admit_relayed(&self, bytes: &[u8]) -> Result<Admitted, SubmitError> {
        self.admit(bytes, false).map(|(admitted, _)| admitted)
    }

    fn admit(
        &self,
        bytes: &[u8],
        watch: bool,
    ) -> Result<(Admitted, Option<oneshot::Receiver<TxFate>>), SubmitError> {
        let chain = &self.chain;
        let tip = chain.tip()?;
        let ctx = AdmitContext {
            suite: chain.suite(),
            chain_id: chain.chain_id(),
            next_height: tip.height + 1,
            expiry_blocks_max: chain.params().tx_expiry_blocks_max,
        };
        let tx = Mempool::check(&ctx, bytes)?;
        chain.note_verified(tx.witness_hash(chain.suite()));
        let id = tx.id(chain.suite());
        if chain
            .store()
            .tx_location(&id)
            .map_err(NodeError::from)?
            .is_some()
        {
            return Err(AdmitError::AlreadyCommitted { id }.into());
        }
        let receiver = if watch {
            Some(self.finality.watch(id).ok_or(SubmitError::TooManyWaiters)?)
        } else {
            None
        };
        // A resubmission (e.g. a proposal with more approvals: same id, more signatures) gets a
        // fresh fate.
        self.finality.forget_refusal(&id);
        let admitted = self
            .mempool
            .lock()
            .map_err(|_| NodeError::Internal {
                reason: "mempool lock poisoned".into(),
            })?
            .insert(chain.suite(), tx)?;
        self.wake.notify_one();
        Ok((admitted, receiver))
    }
}

/// Why a submission failed: the transaction (client's fault) or the node.
#[derive(Debug, thiserror::Error)]
pub enum SubmitError {
    #[error(transparent)]
    Admit(#[from] AdmitError),
    #[error(transparent)]
    Node(#[from] NodeError),
    #[error("too many clients are waiting for finality; submit without waiting and poll")]
    TooManyWaiters,
    #[error(
        "the validators are checking {backlog} batches of forwarded transactions; retry shortly"
    )]
    Overloaded { backlog: usize },
}

/// The consensus driver.
pub struct Runtime {
    shared: Arc<Shared>,
    core: Core,
    outbox: Box<dyn Outbox>,
    inputs: mpsc::Receiver<Inbound>,
    timers: BTreeMap<(Instant, u64), (u64, u64)>,
    timer_seq: u64,
    /// A proposal was asked for (height, view) at this instant.
    pending_build: Option<(u64, u64, Instant)>,
    last_commit: Instant,
}

impl std::fmt::Debug for Runtime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Runtime")
            .field("core", &self.core)
            .finish_non_exhaustive()
    }
}

impl Runtime {
    /// A runtime for `chain`, signing with `key`, resuming the persisted voting state. Returns
    /// the sender for network inputs.
    pub fn new(
        shared: Arc<Shared>,
        key: SecretKey,
        outbox: Box<dyn Outbox>,
    ) -> Result<(Self, mpsc::Sender<Inbound>), NodeError> {
        let chain = &shared.chain;
        let tip = chain.tip()?;
        let persisted = chain
            .store()
            .consensus_state()?
            .map(|b| PersistedState::from_bytes(&b))
            .transpose()
            .map_err(|source| NodeError::Malformed {
                what: "persisted consensus state",
                source,
            })?;
        let config = Config::new(chain.chain_id(), chain.suite(), *chain.params());
        let core = Core::new(
            config,
            Box::new(key),
            Tip {
                height: tip.height,
                hash: tip.hash,
                next_validators: chain.next_validators()?,
            },
            persisted,
        );
        let (tx, rx) = mpsc::channel(INPUT_QUEUE_MAX);
        Ok((
            Runtime {
                shared,
                core,
                outbox,
                inputs: rx,
                timers: BTreeMap::new(),
                timer_seq: 0,
                pending_build: None,
                last_commit: Instant::now(),
            },
            tx,
        ))
    }

    /// Runs until `shutdown` turns true (or its sender is dropped).
    pub async fn run(mut self, mut shutdown: watch::Receiver<bool>) -> Result<(), NodeError> {
        self.feed(Input::Start, None)?;
        loop {
            if *shutdown.borrow() {
                return Ok(());
            }
            let deadline = self.next_deadline();
            tokio::select! {
                changed = shutdown.changed() => {
                    if changed.is_err() {
                        return Ok(());
                    }
                }
                input = self.inputs.recv() => {
                    if let Some(Inbound { from, input }) = input {
                        self.feed(input, from)?;
                    }
                }
                _ = self.shared.wake.notified() => {}
                _ = tokio::time::sleep_until(deadline) => {}
            }
            self.fire_timers()?;
            self.maybe_build()?;
        }
    }

    fn next_deadline(&self) -> Instant {
        let far = Instant::now() + Duration::from_secs(3600);
        let timer = self.timers.keys().next().map(|(at, _)| *at).unwrap_or(far);
        let build = self.build_deadline().unwrap_or(far);
        timer.min(build)
    }

    /// When the pending proposal should be built: as soon as transactions wait (but not sooner
    /// than `block_interval_ms` after the last commit), or after half a view timeout with none
    /// (an empty block keeps the chain's clock moving and views from timing out).
    fn build_deadline(&self) -> Option<Instant> {
        let (_, _, asked) = self.pending_build?;
        let params = self.shared.chain.params();
        let idle = asked + Duration::from_millis(params.view_timeout_base_ms / 2);
        let has_txs = self.shared.mempool.lock().map(|m| !m.is_empty()).ok()?;
        if has_txs {
            let paced = self.last_commit + Duration::from_millis(params.block_interval_ms);
            Some(paced.min(idle))
        } else {
            Some(idle)
        }
    }

    fn fire_timers(&mut self) -> Result<(), NodeError> {
        let now = Instant::now();
        while let Some(entry) = self.timers.first_entry() {
            if entry.key().0 > now {
                break;
            }
            let (height, view) = entry.remove();
            self.feed(Input::Timeout { height, view }, None)?;
        }
        Ok(())
    }

    fn maybe_build(&mut self) -> Result<(), NodeError> {
        let Some(deadline) = self.build_deadline() else {
            return Ok(());
        };
        if Instant::now() < deadline {
            return Ok(());
        }
        let Some((height, view, _)) = self.pending_build.take() else {
            return Ok(());
        };
        if height != self.core.height() || view != self.core.view() {
            return Ok(());
        }
        let chain = self.shared.chain.clone();
        let candidates = self
            .shared
            .mempool
            .lock()
            .map(|m| m.candidates(chain.params().block_txs_max as usize))
            .unwrap_or_default();
        let proposer = self.core.leader(height, view);
        let built =
            tokio::task::block_in_place(|| chain.build(view, proposer, now_ms(), &candidates))?;
        if !built.refused.is_empty() {
            if let Ok(mut pool) = self.shared.mempool.lock() {
                pool.remove(built.refused.iter().map(|(id, _)| *id));
            }
            for (id, err) in &built.refused {
                tracing::info!(tx = %id, "transaction refused: {err}");
                self.shared.finality.settle(
                    id,
                    TxFate::Refused {
                        reason: err.to_string(),
                    },
                );
            }
        }
        self.feed(Input::ProposalReady { block: built.block }, None)
    }

    /// Steps the core with `input` and everything its effects feed back, in order. `from`: the
    /// peer that sent it.
    fn feed(&mut self, input: Input, from: Option<PeerId>) -> Result<(), NodeError> {
        let mut queue = VecDeque::from([input]);
        let mut first = true;
        while let Some(input) = queue.pop_front() {
            let effects = self.core.step(input);
            // A message refused outright yields exactly one `Ignored` (nothing else happens, so
            // no buffered message of another peer is involved): that is the sender's doing,
            // unless it merely came late or early.
            if first
                && let (Some(peer), [Effect::Ignored { error }]) = (from, effects.as_slice())
                && !matches!(error, lichen_consensus::ConsensusError::OutOfWindow { .. })
            {
                self.outbox.penalise(peer, error.to_string());
            }
            first = false;
            for effect in effects {
                self.carry_out(effect, &mut queue)?;
            }
        }
        if let Ok(mut status) = self.shared.status.write() {
            status.view = self.core.view();
            status.validator_index = self.core.my_index();
        }
        Ok(())
    }

    fn carry_out(&mut self, effect: Effect, queue: &mut VecDeque<Input>) -> Result<(), NodeError> {
        let chain = self.shared.chain.clone();
        match effect {
            Effect::Persist(state) => {
                tokio::task::block_in_place(|| {
                    chain.store().put_consensus_state(&state.to_bytes())
                })?;
            }
            Effect::Broadcast(message) => self.outbox.broadcast(message),
            Effect::ScheduleTimer {
                height,
                view,
                after_ms,
            } => {
                self.timer_seq += 1;
                let at = Instant::now() + Duration::from_millis(after_ms);
                self.timers.insert((at, self.timer_seq), (height, view));
                // Only timers of the current height matter; older ones are ignored by the core.
                let current = self.core.height();
                self.timers.retain(|_, (h, _)| *h >= current);
            }
            Effect::BuildProposal { height, view } => {
                self.pending_build = Some((height, view, Instant::now()));
            }
            Effect::Execute { block } => {
                let block_hash = block.header.hash(chain.suite());
                let outcome = tokio::task::block_in_place(|| chain.execute(&block, now_ms()))
                    .map(|executed| executed.next_validators.clone());
                if let Err(reason) = &outcome {
                    tracing::warn!(height = block.header.height, "block refused: {reason}");
                }
                queue.push_back(Input::Executed {
                    block_hash,
                    outcome,
                });
            }
            Effect::Commit { block, certificate } => {
                let executed =
                    tokio::task::block_in_place(|| chain.commit(&block, &certificate, now_ms()))?;
                self.after_commit(
                    &executed.execution.tx_ids,
                    block.header.height,
                    block.header.time_ms,
                );
            }
            Effect::RequestSync { from_height } => self.outbox.request_sync(from_height),
            Effect::HelpCatchUp {
                validator,
                from_height,
            } => self.outbox.help_catch_up(validator, from_height),
            Effect::Equivocation(evidence) => {
                tracing::warn!("validator equivocation: {evidence:?}");
            }
            Effect::Ignored { error } => tracing::debug!("consensus ignored a message: {error}"),
        }
        Ok(())
    }

    /// `ids`: the committed transactions, in block order (from the execution: no re-hashing).
    fn after_commit(&mut self, ids: &[Hash32], height: u64, block_time_ms: u64) {
        let expired = match self.shared.mempool.lock() {
            Ok(mut pool) => {
                pool.remove(ids.iter().copied());
                pool.expire(height + 1)
            }
            Err(_) => Vec::new(),
        };
        for (index, id) in ids.iter().enumerate() {
            self.shared.finality.settle(
                id,
                TxFate::Committed {
                    height,
                    index: index as u32,
                    block_time_ms,
                },
            );
        }
        for id in &expired {
            self.shared.finality.settle(id, TxFate::Expired);
        }
        self.shared.finality.prune_closed();
        self.last_commit = Instant::now();
        if let Ok(mut status) = self.shared.status.write() {
            status.last_commit_ms = Some(now_ms());
        }
        tracing::debug!(height, txs = ids.len(), "committed");
    }
}
