//! The consensus driver: one tokio task owns the `Core`, feeds it inputs (network messages,
//! timers, built proposals, execution results) and carries out its effects in order. A `Persist`
//! is written and flushed before the next effect of the same step runs, so no vote leaves before
//! the node has recorded it.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

use libp2p::PeerId;
use lichen_consensus::{Config, Core, Effect, ExecutionError, Input, Message, PersistedState, Tip};
use lichen_contracts::block::BlockError;
use lichen_contracts::codec::{Decode, Encode};
use lichen_contracts::crypto::{Hash32, SecretKey};
use lichen_contracts::ledger::TxError;
use tokio::sync::{mpsc, watch};
use tokio::time::Instant;

use super::admission::Admission;
use super::clock::{Timers, now_ms};
use super::finality::{CommitEvent, Finality, TxFate};
use super::floods::{FloodMeter, ProposalSenders};
use super::status::Status;
use super::{Arrival, Inbound, Outbox};
use crate::chain::Chain;
use crate::error::NodeError;

/// Inputs queued for the driver (from the network), at most.
pub const INPUT_QUEUE_MAX: usize = 1_024;
/// Their bytes as they came off the wire, at most (an input alone is taken whatever its size, up
/// to a frame's limit): a thousand proposals of 16 MiB would be 16 GiB.
pub const INPUT_QUEUE_BYTES_MAX: usize = 128 * 1024 * 1024;
/// A view whose leader this validator cannot reach is left after this long, in milliseconds
/// (not the view's full timeout): time for a connection being re-made to come back.
pub const UNREACHABLE_LEADER_TIMEOUT_MS: u64 = 100;
/// A leader chooses a block's transactions within the first view's timeout divided by this: the
/// others then execute it in about as long, and votes, commit and the network fit in the rest.
pub const BUILD_BUDGET_DIVISOR_OF_VIEW_TIMEOUT: u64 = 4;

/// The consensus driver.
pub struct Driver {
    chain: Arc<Chain>,
    admission: Arc<Admission>,
    finality: Arc<Finality>,
    status: Arc<Status>,
    core: Core,
    outbox: Box<dyn Outbox>,
    inputs: mpsc::Receiver<Inbound>,
    timers: Timers,
    /// A proposal was asked for (height, view).
    pending_build: Option<(u64, u64)>,
    last_commit: Instant,
    /// With nothing to order, a block at most this often (a heartbeat that keeps certified
    /// headers fresh for presentations), and no view change for want of one before it is due.
    heartbeat: Duration,
    /// The view timer held back while idle, to be brought forward when a transaction arrives.
    postponed: Option<(u64, u64)>,
    /// Peers' cheaply refused messages, counted to penalise floods.
    floods: FloodMeter,
    /// Who sent a proposal for each view (one per peer and view is decoded).
    proposal_senders: ProposalSenders,
}

impl std::fmt::Debug for Driver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Driver")
            .field("core", &self.core)
            .finish_non_exhaustive()
    }
}

impl Driver {
    /// A driver for `chain`, signing with `key`, resuming the persisted voting state: it takes
    /// block candidates from `admission`, settles `finality` waiters, reports in `status` and
    /// sends through `outbox`. Returns the sender for network inputs.
    pub fn new(
        chain: Arc<Chain>,
        admission: Arc<Admission>,
        finality: Arc<Finality>,
        status: Arc<Status>,
        key: SecretKey,
        outbox: Box<dyn Outbox>,
        heartbeat: Duration,
    ) -> Result<(Self, mpsc::Sender<Inbound>), NodeError> {
        let tip = chain.tip()?;
        let persisted = chain
            .consensus_state()?
            .map(|b| PersistedState::from_bytes(&b))
            .transpose()
            .map_err(|source| NodeError::Malformed {
                what: "persisted consensus state",
                source,
            })?;
        let config = Config::new(
            chain.chain_id(),
            chain.genesis().hash(),
            chain.suite(),
            *chain.params(),
        );
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
            Driver {
                chain,
                admission,
                finality,
                status,
                core,
                outbox,
                inputs: rx,
                timers: Timers::default(),
                pending_build: None,
                last_commit: Instant::now(),
                heartbeat,
                postponed: None,
                floods: FloodMeter::default(),
                proposal_senders: ProposalSenders::default(),
            },
            tx,
        ))
    }

    /// Runs until `shutdown` turns true (or its sender is dropped).
    pub async fn run(mut self, mut shutdown: watch::Receiver<bool>) -> Result<(), NodeError> {
        self.feed(Input::Start, None)?;
        // A node without a network has no sender: its closed queue must not be polled again
        // (it would answer at once, for ever, and the loop would spin a core).
        let mut inputs_open = true;
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
                input = self.inputs.recv(), if inputs_open => match input {
                    Some(Inbound { from, input, room: _room }) => self.arrive(input, from)?,
                    None => inputs_open = false,
                },
                _ = self.admission.admitted() => self.bring_forward_postponed(),
                _ = tokio::time::sleep_until(deadline) => {}
            }
            self.status.count_driver_wakeup();
            self.fire_timers()?;
            self.maybe_build()?;
        }
    }

    fn next_deadline(&self) -> Instant {
        let far = Instant::now() + Duration::from_secs(3600);
        let timer = self.timers.next_due().unwrap_or(far);
        let build = self.build_deadline().unwrap_or(far);
        timer.min(build)
    }

    /// When the pending proposal should be built: as soon as transactions wait (but not sooner
    /// than `block_interval_ms` after the last commit), else when the heartbeat is due (an
    /// empty block keeps certified headers fresh; more would only fill disks).
    fn build_deadline(&self) -> Option<Instant> {
        self.pending_build?;
        let params = self.chain.params();
        let heartbeat = self.last_commit + self.heartbeat;
        if self.has_txs() {
            let paced = self.last_commit + Duration::from_millis(params.block_interval_ms);
            Some(paced.min(heartbeat))
        } else {
            Some(heartbeat)
        }
    }

    fn has_txs(&self) -> bool {
        self.admission
            .mempool()
            .map(|m| !m.is_empty())
            .unwrap_or(false)
    }

    /// The committed fate of a transaction the builder refused as a replay, if it is committed.
    fn committed_fate(&self, id: &Hash32, err: &TxError) -> Option<TxFate> {
        if !matches!(err, TxError::Duplicate { .. }) {
            return None;
        }
        let location = self.chain.tx_location(id).ok()??;
        let header = self.chain.header(location.height).ok()??;
        Some(TxFate::Committed {
            height: location.height,
            index: location.index,
            block_time_ms: header.time_ms,
        })
    }

    /// Feeds the view timeouts that are due, except while the chain is idle (no transaction
    /// waits here and the heartbeat is not due): the leader has nothing to propose then, so a
    /// timeout would only start a needless view change. Such a timer is held back until a view
    /// timeout past the heartbeat, or until a transaction arrives.
    fn fire_timers(&mut self) -> Result<(), NodeError> {
        let now = Instant::now();
        while let Some((height, view)) = self.timers.pop_due(now) {
            let heartbeat = self.last_commit + self.heartbeat;
            if now < heartbeat && !self.has_txs() {
                let timeout = self.chain.params().view_timeout_ms(view);
                let at = heartbeat + Duration::from_millis(timeout);
                self.timers.schedule_at(height, view, at);
                self.postponed = Some((height, view));
                continue;
            }
            self.feed(Input::Timeout { height, view }, None)?;
        }
        Ok(())
    }

    /// A transaction arrived: a view timer held back for idleness runs again from now.
    fn bring_forward_postponed(&mut self) {
        let Some((height, view)) = self.postponed.take() else {
            return;
        };
        if (height, view) == (self.core.height(), self.core.view()) {
            let timeout = self.chain.params().view_timeout_ms(view);
            let timeout = self.view_timeout_ms(height, view, timeout);
            self.timers
                .schedule(height, view, timeout, self.core.height());
        }
    }

    /// The time to give (`height`, `view`) before leaving it: `after_ms`, as the core asked,
    /// unless this validator has no connection to the view's leader (banned for flooding,
    /// crashed, cut off) while it reaches a quorum of the others: then the leader's proposal
    /// cannot arrive, and waiting the full timeout would only stall the chain for every turn the
    /// leader has. Leaving a view early is always safe; the others leave it too if they cannot
    /// reach the leader either, or the view goes on with them.
    fn view_timeout_ms(&self, height: u64, view: u64, after_ms: u64) -> u64 {
        let Some(me) = self.core.my_index() else {
            return after_ms;
        };
        let leader = self.core.leader(height, view);
        // The others this node must reach: a quorum, counting itself and not the leader.
        let others_min = self.core.validators().quorum().saturating_sub(1);
        if leader != me && self.status.is_unreachable(leader, others_min) {
            after_ms.min(UNREACHABLE_LEADER_TIMEOUT_MS)
        } else {
            after_ms
        }
    }

    fn maybe_build(&mut self) -> Result<(), NodeError> {
        let Some(deadline) = self.build_deadline() else {
            return Ok(());
        };
        if Instant::now() < deadline {
            return Ok(());
        }
        let Some((height, view)) = self.pending_build.take() else {
            return Ok(());
        };
        if height != self.core.height() || view != self.core.view() {
            return Ok(());
        }
        let chain = self.chain.clone();
        let candidates = self
            .admission
            .mempool()
            .map(|m| m.candidates(chain.params().block_txs_max as usize))
            .unwrap_or_default();
        let proposer = self.core.leader(height, view);
        let budget = Duration::from_millis(
            chain.params().view_timeout_base_ms / BUILD_BUDGET_DIVISOR_OF_VIEW_TIMEOUT,
        );
        let built = tokio::task::block_in_place(|| {
            chain.build(view, proposer, now_ms(), &candidates, budget)
        })?;
        if !built.refused.is_empty() {
            if let Ok(mut pool) = self.admission.mempool() {
                pool.remove(built.refused.iter().map(|(id, _)| *id));
            }
            for (id, err) in &built.refused {
                // Refused as a replay means committed already (another node's block had it
                // before this one's pool let go of it): its waiters learn where, not "refused".
                if let Some(fate) = self.committed_fate(id, err) {
                    self.finality.settle(id, fate);
                    continue;
                }
                tracing::info!(tx = %id, "transaction refused: {err}");
                self.finality.settle(
                    id,
                    TxFate::Refused {
                        reason: err.to_string(),
                    },
                );
            }
        }
        self.feed(Input::ProposalReady { block: built.block }, None)
    }

    /// Decodes what arrived if it is still encoded (a peer whose message does not decode is
    /// penalised), then feeds it to the core.
    fn arrive(&mut self, arrival: Arrival, from: Option<PeerId>) -> Result<(), NodeError> {
        match arrival {
            Arrival::Decoded(input) => self.feed(*input, from),
            // A proposal refused before its block is decoded counts against the sender only in
            // a flood, like any cheap refusal.
            Arrival::Encoded(bytes)
                if let Some(reason) = self.proposal_refused_undecoded(&bytes, from) =>
            {
                if let Some(peer) = from {
                    self.note_cheap_refusal(peer, reason);
                }
                Ok(())
            }
            Arrival::Encoded(bytes) => match Message::from_wire(&bytes) {
                Ok(message) => self.feed(Input::Message(message), from),
                Err(e) => {
                    if let Some(peer) = from {
                        self.outbox
                            .penalise(peer, format!("undecodable consensus message: {e}"));
                    }
                    Ok(())
                }
            },
            Arrival::EncodedBlocks(bytes) => match crate::net::wire::decode_blocks(&bytes) {
                Ok(blocks) => {
                    for b in blocks {
                        self.feed(b.into_input(), from)?;
                    }
                    Ok(())
                }
                Err(e) => {
                    if let Some(peer) = from {
                        self.outbox
                            .penalise(peer, format!("undecodable blocks: {e}"));
                    }
                    Ok(())
                }
            },
        }
    }

    /// Why `bytes`, if a proposal, is refused before its block is decoded: of no use to the
    /// core, or a second one from `from` for its view (a peer's further copies must not use up
    /// the view's allowance before the leader's proposal arrives).
    fn proposal_refused_undecoded(
        &mut self,
        bytes: &[u8],
        from: Option<PeerId>,
    ) -> Option<&'static str> {
        let (height, view) = Message::peek_proposal(bytes)?;
        if !self.core.wants_proposal(height, view) {
            return Some("a proposal of no use (not decoded)");
        }
        let peer = from?;
        let first = self
            .proposal_senders
            .first_from(peer, height, view, self.core.height());
        (!first).then_some("a second proposal for the view (not decoded)")
    }

    /// Steps the core with `input` and everything its effects feed back, in order. `from`: the
    /// peer that sent it.
    fn feed(&mut self, input: Input, from: Option<PeerId>) -> Result<(), NodeError> {
        // A proposal comes straight from its proposer: if its block breaks a rule, the peer
        // that sent it is to blame (for a block it relayed, anyone else would not be).
        let proposer = from.filter(|_| matches!(input, Input::Message(Message::Proposal(_))));
        let mut queue = VecDeque::from([input]);
        let mut first = true;
        while let Some(input) = queue.pop_front() {
            let effects = self.core.step(input);
            // A message refused outright yields exactly one `Ignored` (nothing else happens, so
            // no buffered message of another peer is involved): that is the sender's doing,
            // unless it merely came late or early, or again (a resend is cheap and may be
            // honest): those count against the sender only as a flood.
            if first && let (Some(peer), [Effect::Ignored { error }]) = (from, effects.as_slice()) {
                if error.is_cheap_refusal() {
                    self.note_cheap_refusal(peer, &error.to_string());
                } else {
                    self.outbox.penalise(peer, error.to_string());
                }
            }
            first = false;
            for effect in effects {
                self.carry_out(effect, &mut queue, proposer)?;
            }
        }
        self.status
            .set_consensus(self.core.view(), self.core.my_index());
        Ok(())
    }

    /// Counts a message refused at the cost of a lookup against `peer`: penalised only when
    /// they come in a flood.
    fn note_cheap_refusal(&mut self, peer: PeerId, last: &str) {
        if let Some(count) = self.floods.note(peer, now_ms()) {
            self.outbox.penalise(
                peer,
                format!(
                    "flood: {count} messages in a second that were resent, out of the window, \
                     over the sender's share or of no use (the last: {last})"
                ),
            );
        }
    }

    /// `proposer`: the peer whose proposal set this off, blamed for a block that breaks a rule.
    fn carry_out(
        &mut self,
        effect: Effect,
        queue: &mut VecDeque<Input>,
        proposer: Option<PeerId>,
    ) -> Result<(), NodeError> {
        let chain = self.chain.clone();
        match effect {
            Effect::Persist(state) => {
                tokio::task::block_in_place(|| chain.put_consensus_state(&state.to_bytes()))?;
            }
            Effect::Broadcast(message) => self.outbox.broadcast(message),
            Effect::ScheduleTimer {
                height,
                view,
                after_ms,
            } => {
                // Only timers of the current height matter; older ones are ignored by the core.
                let current = self.core.height();
                let after_ms = self.view_timeout_ms(height, view, after_ms);
                self.timers.schedule(height, view, after_ms, current);
            }
            Effect::BuildProposal { height, view } => {
                self.pending_build = Some((height, view));
            }
            Effect::Execute { block } => {
                let block_hash = block.header.hash(chain.suite());
                let outcome = tokio::task::block_in_place(|| chain.execute(&block, now_ms()))
                    .map(|executed| executed.next_validators.clone());
                if let Err(reason) = &outcome {
                    tracing::warn!(height = block.header.height, "block refused: {reason}");
                    // Not for a time ahead of this node's clock, which may be the one wrong.
                    if let (Some(peer), ExecutionError::Invalid(e)) = (proposer, reason)
                        && !matches!(e, BlockError::TimeAhead { .. })
                    {
                        self.outbox
                            .penalise(peer, format!("proposed an invalid block: {e}"));
                    }
                }
                queue.push_back(Input::Executed {
                    block_hash,
                    outcome,
                });
            }
            Effect::Commit { block, certificate } => {
                let started = Instant::now();
                let executed =
                    tokio::task::block_in_place(|| chain.commit(&block, &certificate, now_ms()))?;
                let metrics = self.status.metrics();
                metrics
                    .commit_write
                    .observe(started.elapsed().as_secs_f64());
                let since_proposal_ms = now_ms().saturating_sub(block.header.time_ms);
                metrics
                    .commit_latency
                    .observe(since_proposal_ms as f64 / 1000.0);
                metrics.blocks_committed.inc();
                metrics
                    .txs_committed
                    .inc_by(executed.execution.tx_ids.len() as u64);
                self.after_commit(
                    &executed.execution.tx_ids,
                    block.header.height,
                    block.header.time_ms,
                );
            }
            Effect::RequestSync { from_height } => {
                // Peers are ahead (the core saw their later messages): not ready until a sync
                // answer that is not full says this node has caught up.
                self.status.set_catching_up(true);
                self.outbox.request_sync(from_height)
            }
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
        let expired = match self.admission.mempool() {
            Ok(mut pool) => {
                pool.remove(ids.iter().copied());
                pool.expire(height + 1)
            }
            Err(_) => Vec::new(),
        };
        self.finality.announce(CommitEvent::Block {
            height,
            time_ms: block_time_ms,
            txs: ids.to_vec(),
        });
        for (index, id) in ids.iter().enumerate() {
            self.finality.settle(
                id,
                TxFate::Committed {
                    height,
                    index: index as u32,
                    block_time_ms,
                },
            );
        }
        for id in &expired {
            self.finality.settle(id, TxFate::Expired);
        }
        self.finality.prune_closed();
        self.last_commit = Instant::now();
        self.status.set_last_commit(now_ms());
        tracing::debug!(height, txs = ids.len(), "committed");
    }
}
