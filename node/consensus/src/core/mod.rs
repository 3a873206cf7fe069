//! The consensus state machine. `Core::step(input) -> Vec<Effect>`; nothing else changes it.
//!
//! One height at a time, in views 0, 1, 2...: the leader of (height, view) proposes a block;
//! validators that executed it and found it valid send `Prepare`; with a quorum of prepares a
//! validator is *prepared* and sends `Commit`; a quorum of commits in any view is a commit
//! certificate and the block is final. A validator whose view times out sends a `ViewChange`
//! carrying its highest prepared certificate (with the block); the next leader proposes with a
//! quorum of view changes as justification, and must re-propose the block of the highest prepared
//! certificate among them, so a block that may have been committed is never replaced.
//!
//! Safety-relevant choices, each enforced here:
//! - a validator signs at most one prepare and one commit per (height, view), and records that it
//!   did (`Effect::Persist`) *before* the vote leaves (`Effect::Broadcast`);
//! - after sending a view change for view w it never votes in a view below w;
//! - it moves to a higher view only on its own timeout, on a justified proposal (a quorum of view
//!   changes), or when f + 1 validators vouch for that view: one validator claiming a huge view
//!   changes nothing; a timeout while changing view moves it on only once a quorum has reached
//!   its view (else it re-sends its view change and waits), so views cannot drift apart;
//! - everything it keeps per height is bounded: one vote per (kind, view, voter) in a window of
//!   views, one view change per voter, a few blocks, a bounded buffer for future heights.
//!
//! This module holds the interface (`Input`, `Effect`, `Config`, `Tip`), the `Core` with `step`,
//! heights (entering one, committing its block) and signature checks; the rest by topic:
//! `proposal` (proposing, checking proposals, blocks and their execution), `votes` (tallies,
//! prepared and decided), `view_change` (timeouts, view changes and their justification), `sync`
//! (messages for other heights, synced blocks) and `persisted` (`PersistedState`).

mod persisted;
mod proposal;
mod sync;
mod view_change;
mod votes;

use std::collections::{BTreeMap, BTreeSet};

use lichen_contracts::block::{Block, CommitCertificate, VoteKind};
use lichen_contracts::crypto::{Hash32, PublicKey, SecretKey, Signature, Suite, VerifyingKey};
use lichen_contracts::model::{ChainParams, ValidatorSet};

use crate::error::{ConsensusError, ExecutionError};
use crate::messages::{Message, PreparedCertificate, SignedVote, ViewChange};

pub use persisted::PersistedState;
use sync::FutureBuffer;
use votes::Tally;

/// Views above the current one for which votes and proposals are kept.
pub const VIEW_WINDOW: u64 = 8;
/// Views below the current one whose votes are still counted (a late commit quorum).
pub const VIEW_HISTORY: u64 = 8;
/// Heights ahead of the current one whose messages are buffered until the node catches up.
pub const FUTURE_HEIGHTS_MAX: u64 = 4;
/// Messages buffered for future heights, at most.
pub const FUTURE_MESSAGES_MAX: usize = 1_024;
/// Bytes (encoded) of the messages buffered for future heights, at most. Each validator index of
/// the current set may use its share (this over the set's size) of both bounds, so that one
/// validator's flood cannot crowd out the others' next proposals and votes.
pub const FUTURE_BYTES_MAX: usize = 64 * 1024 * 1024;
/// Buffered future messages per signer whose signature did not verify against the current set
/// (they may still be valid under a set this node does not know yet), at most.
pub const FUTURE_UNVERIFIED_PER_SIGNER_MAX: usize = 8;
/// Proposals for one view of the current height that are decoded and looked at, at most, beyond
/// one per validator the set tolerates as faulty (`Core::proposal_copies_max`): the leader's, a
/// copy that may execute where the first did not, and a conflicting one (evidence). Later ones
/// are refused before they are decoded (a proposal carries a whole block). The node decodes one
/// proposal per peer and view, so the faulty validators' forged copies, one each, cannot use up
/// the allowance before the leader's proposal arrives.
pub const PROPOSAL_COPIES_PER_VIEW_MAX: u8 = 3;
/// Blocks kept per height (proposals seen, view-change blocks), at most.
pub const BLOCKS_PER_HEIGHT_MAX: usize = 64;
/// Catch-up help given per height (one per validator and height asked about), at most.
pub const HELPS_PER_HEIGHT_MAX: usize = 256;

/// Signs consensus messages. The node passes its validator key (or an HSM) in; the core never
/// sees a key file.
pub trait Signer {
    fn public_key(&self) -> PublicKey;
    fn sign(&self, message: &[u8]) -> Signature;
}

impl Signer for SecretKey {
    fn public_key(&self) -> PublicKey {
        SecretKey::public_key(self)
    }

    fn sign(&self, message: &[u8]) -> Signature {
        SecretKey::sign(self, message)
    }
}

/// A deliberate bug, for showing that the simulator finds it. Only with the `mutations` feature.
#[cfg(feature = "mutations")]
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Mutation {
    /// Count 2f votes as a quorum instead of 2f + 1.
    SmallQuorum,
    /// Leave the prepared certificate out of view changes.
    DropPreparedInViewChange,
    /// Send votes before persisting them.
    VoteBeforePersist,
}

/// Fixed for the life of a core.
#[derive(Clone, Debug)]
pub struct Config {
    pub chain_id: String,
    /// The genesis hash every vote binds (PROTOCOL.md, "Votes and commit certificates").
    pub genesis_hash: Hash32,
    pub suite: Suite,
    pub params: ChainParams,
    #[cfg(feature = "mutations")]
    mutation: Option<Mutation>,
}

impl Config {
    pub fn new(
        chain_id: impl Into<String>,
        genesis_hash: Hash32,
        suite: Suite,
        params: ChainParams,
    ) -> Self {
        Config {
            chain_id: chain_id.into(),
            genesis_hash,
            suite,
            params,
            #[cfg(feature = "mutations")]
            mutation: None,
        }
    }

    /// The same config with a planted bug (simulator tests only).
    #[cfg(feature = "mutations")]
    pub fn with_mutation(mut self, mutation: Mutation) -> Self {
        self.mutation = Some(mutation);
        self
    }
}

/// The last committed block, where a core starts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Tip {
    /// Height of the last committed block (0 = genesis).
    pub height: u64,
    pub hash: Hash32,
    /// The set that signs the next block.
    pub next_validators: ValidatorSet,
}

/// Proof that a validator signed two different things where it may sign one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Evidence {
    /// Two votes of one kind, height and view for different blocks.
    ConflictingVotes {
        first: SignedVote,
        second: SignedVote,
    },
    /// Two proposals of one leader for one height and view with different blocks.
    ConflictingProposals {
        proposer: u16,
        height: u64,
        view: u64,
        first: (Hash32, Signature),
        second: (Hash32, Signature),
    },
}

/// Everything that can happen to a core.
#[derive(Clone, Debug)]
pub enum Input {
    /// Begin (or resume after a restart): schedules the first timer, asks for a proposal if this
    /// validator leads.
    Start,
    /// A message from the network, already decoded.
    Message(Message),
    /// A timer scheduled by `Effect::ScheduleTimer` fired.
    Timeout { height: u64, view: u64 },
    /// The block asked for by `Effect::BuildProposal`.
    ProposalReady { block: Block },
    /// The result of `Effect::Execute`: valid with the validator set that signs the next block,
    /// or invalid with the reason.
    Executed {
        block_hash: Hash32,
        outcome: Result<ValidatorSet, ExecutionError>,
    },
    /// A committed block and its certificate, fetched from a peer after `Effect::RequestSync`.
    Synced {
        block: Block,
        certificate: CommitCertificate,
    },
}

/// Everything a core asks its runtime to do, in order. A `Persist` must be durable before any
/// later effect of the same step is carried out.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Effect {
    /// Send to every other validator.
    Broadcast(Message),
    /// Write durably before doing anything that follows.
    Persist(PersistedState),
    /// Deliver `Input::Timeout { height, view }` after `after_ms`.
    ScheduleTimer {
        height: u64,
        view: u64,
        after_ms: u64,
    },
    /// Build a block for (height, view) and hand it back with `Input::ProposalReady`.
    BuildProposal { height: u64, view: u64 },
    /// Check and execute the block against the committed state; answer with `Input::Executed`.
    Execute { block: Block },
    /// The block is final: store it with its certificate atomically, then apply it.
    Commit {
        block: Block,
        certificate: CommitCertificate,
    },
    /// This validator is behind: fetch committed blocks from `from_height` on.
    RequestSync { from_height: u64 },
    /// Validator `validator` is behind: send it the committed blocks from `from_height` on.
    HelpCatchUp { validator: u16, from_height: u64 },
    /// Keep this evidence of a validator's misbehaviour.
    Equivocation(Evidence),
    /// A message was ignored; the node may score down whoever relayed it.
    Ignored { error: ConsensusError },
}

/// The consensus core of one node.
pub struct Core {
    config: Config,
    signer: Box<dyn Signer + Send>,
    // The height being decided and what it builds on.
    height: u64,
    tip_hash: Hash32,
    validators: ValidatorSet,
    keys: Vec<VerifyingKey>,
    my_index: Option<u16>,
    // Persisted voting state (see `PersistedState`).
    view: u64,
    view_changing: bool,
    proposed: Option<Hash32>,
    prepare_voted: Option<Hash32>,
    commit_voted: Option<Hash32>,
    prepared: Option<(PreparedCertificate, Block)>,
    // Per-height, in memory only.
    blocks: BTreeMap<Hash32, Block>,
    executed: BTreeMap<Hash32, Result<ValidatorSet, ExecutionError>>,
    execute_requested: BTreeSet<Hash32>,
    proposals: BTreeMap<u64, (Hash32, Signature)>,
    /// Proposals stepped per view (see `PROPOSAL_COPIES_PER_VIEW_MAX`).
    proposal_copies: BTreeMap<u64, u8>,
    accepted: BTreeMap<u64, Hash32>,
    votes: BTreeMap<(VoteKind, u64), Tally>,
    view_changes: BTreeMap<u16, ViewChange>,
    decided: Option<CommitCertificate>,
    build_requested: Option<u64>,
    sync_requested_view: Option<u64>,
    future: FutureBuffer,
    helped: BTreeSet<(u16, u64)>,
}

impl std::fmt::Debug for Core {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Core")
            .field("height", &self.height)
            .field("view", &self.view)
            .field("view_changing", &self.view_changing)
            .field("my_index", &self.my_index)
            .finish_non_exhaustive()
    }
}

impl Core {
    /// A core that decides the block after `tip`, resuming from `persisted` if it is for that
    /// height (a restart), else starting fresh at view 0.
    pub fn new(
        config: Config,
        signer: Box<dyn Signer + Send>,
        tip: Tip,
        persisted: Option<PersistedState>,
    ) -> Self {
        let mut core = Core {
            config,
            signer,
            height: 0,
            tip_hash: Hash32::ZERO,
            validators: tip.next_validators.clone(),
            keys: Vec::new(),
            my_index: None,
            view: 0,
            view_changing: false,
            proposed: None,
            prepare_voted: None,
            commit_voted: None,
            prepared: None,
            blocks: BTreeMap::new(),
            executed: BTreeMap::new(),
            execute_requested: BTreeSet::new(),
            proposals: BTreeMap::new(),
            proposal_copies: BTreeMap::new(),
            accepted: BTreeMap::new(),
            votes: BTreeMap::new(),
            view_changes: BTreeMap::new(),
            decided: None,
            build_requested: None,
            sync_requested_view: None,
            future: FutureBuffer::default(),
            helped: BTreeSet::new(),
        };
        core.enter_height(tip.height + 1, tip.hash, tip.next_validators);
        if let Some(p) = persisted.filter(|p| p.height == core.height) {
            core.resume(p);
        }
        core
    }

    pub fn height(&self) -> u64 {
        self.height
    }

    /// Messages held for later heights (for tests and metrics).
    pub fn future_buffered(&self) -> usize {
        self.future.len()
    }

    pub fn view(&self) -> u64 {
        self.view
    }

    pub fn validators(&self) -> &ValidatorSet {
        &self.validators
    }

    /// This node's index in the current set, if it is a validator.
    pub fn my_index(&self) -> Option<u16> {
        self.my_index
    }

    /// The leader of (height, view): validator `(height + view) mod n`.
    pub fn leader(&self, height: u64, view: u64) -> u16 {
        let n = self.validators.len() as u64;
        (height.wrapping_add(view) % n) as u16
    }

    fn quorum(&self) -> usize {
        let q = self.validators.quorum();
        #[cfg(feature = "mutations")]
        if self.config.mutation == Some(Mutation::SmallQuorum) {
            return q - 1;
        }
        q
    }

    fn faults(&self) -> usize {
        self.validators.faults_tolerated()
    }

    /// Proposals decoded per view of the current height, at most: [`PROPOSAL_COPIES_PER_VIEW_MAX`]
    /// and one for each validator the set tolerates as faulty.
    pub fn proposal_copies_max(&self) -> u8 {
        let faults = u8::try_from(self.faults()).unwrap_or(u8::MAX);
        PROPOSAL_COPIES_PER_VIEW_MAX.saturating_add(faults)
    }

    fn i_lead(&self, view: u64) -> bool {
        self.my_index == Some(self.leader(self.height, view))
    }

    /// Feeds one input; returns what the runtime must do, in order.
    pub fn step(&mut self, input: Input) -> Vec<Effect> {
        let mut out = Vec::new();
        match input {
            Input::Start => self.on_start(&mut out),
            Input::Message(m) => self.on_message(m, &mut out),
            Input::Timeout { height, view } => self.on_timeout(height, view, &mut out),
            Input::ProposalReady { block } => self.on_proposal_ready(block, &mut out),
            Input::Executed {
                block_hash,
                outcome,
            } => self.on_executed(block_hash, outcome, &mut out),
            Input::Synced { block, certificate } => self.on_synced(block, certificate, &mut out),
        }
        out
    }

    fn enter_height(&mut self, height: u64, tip_hash: Hash32, validators: ValidatorSet) {
        self.height = height;
        self.tip_hash = tip_hash;
        self.keys = validators
            .validators
            .iter()
            .map(|v| v.key.to_verifying_key())
            .collect();
        let me = self.signer.public_key();
        self.my_index = validators.index_of(&me).map(|i| i as u16);
        self.validators = validators;
        self.view = 0;
        self.view_changing = false;
        self.proposed = None;
        self.prepare_voted = None;
        self.commit_voted = None;
        self.prepared = None;
        self.blocks.clear();
        self.executed.clear();
        self.execute_requested.clear();
        self.proposals.clear();
        self.proposal_copies.clear();
        self.accepted.clear();
        self.votes.clear();
        self.view_changes.clear();
        self.decided = None;
        self.build_requested = None;
        self.sync_requested_view = None;
        self.helped.clear();
    }

    fn timer(&self, out: &mut Vec<Effect>) {
        out.push(Effect::ScheduleTimer {
            height: self.height,
            view: self.view,
            after_ms: self.config.params.view_timeout_ms(self.view),
        });
    }

    fn on_start(&mut self, out: &mut Vec<Effect>) {
        self.timer(out);
        if self.my_index.is_none() {
            return;
        }
        if self.view_changing {
            // Resend our view change: it may have been lost with the crash.
            self.send_view_change(out);
        } else if self.view == 0 && self.i_lead(0) && self.proposed.is_none() {
            self.request_build(out);
        }
        self.resend_own_votes(out);
    }

    fn verify(
        &self,
        index: u16,
        hash: &Hash32,
        signature: &Signature,
    ) -> Result<(), ConsensusError> {
        let key = self
            .keys
            .get(usize::from(index))
            .ok_or(ConsensusError::UnknownValidator { index })?;
        key.verify(hash.as_bytes(), signature)
            .map_err(|_| ConsensusError::BadSignature { index })
    }

    pub(super) fn check_view_window(&self, view: u64) -> Result<(), ConsensusError> {
        if view > self.view + VIEW_WINDOW || view + VIEW_HISTORY < self.view {
            return Err(ConsensusError::OutOfWindow {
                height: self.height,
                view,
            });
        }
        Ok(())
    }

    /// Commits the decided block and moves to the next height.
    fn finish(&mut self, out: &mut Vec<Effect>) {
        let Some(certificate) = self.decided.take() else {
            return;
        };
        let hash = certificate.block_hash;
        let (Some(block), Some(Ok(next))) = (
            self.blocks.get(&hash).cloned(),
            self.executed.get(&hash).cloned(),
        ) else {
            self.decided = Some(certificate);
            return;
        };
        out.push(Effect::Commit { block, certificate });
        self.enter_height(self.height + 1, hash, next);
        self.persist(out);
        self.timer(out);
        if self.my_index.is_some() && self.i_lead(0) {
            self.request_build(out);
        }
        // In key order: by height, view, signer, then proposals before votes and view changes.
        for m in self.future.take() {
            self.on_message(m, out);
        }
    }
}
