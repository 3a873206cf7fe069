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

use std::collections::{BTreeMap, BTreeSet};

use lichen_contracts::block::{Block, CommitCertificate, IndexedSignature, Vote, VoteKind};
use lichen_contracts::codec::{Decode, Encode, Reader, Writer};
use lichen_contracts::crypto::{Hash32, PublicKey, SecretKey, Signature, Suite, VerifyingKey};
use lichen_contracts::error::CodecError;
use lichen_contracts::model::{ChainParams, ValidatorSet};

use crate::error::ConsensusError;
use crate::messages::{Message, PreparedCertificate, Proposal, SignedVote, ViewChange};

/// Views above the current one for which votes and proposals are kept.
pub const VIEW_WINDOW: u64 = 8;
/// Views below the current one whose votes are still counted (a late commit quorum).
pub const VIEW_HISTORY: u64 = 8;
/// Heights ahead of the current one whose messages are buffered until the node catches up.
pub const FUTURE_HEIGHTS_MAX: u64 = 4;
/// Messages buffered for future heights, at most.
pub const FUTURE_MESSAGES_MAX: usize = 1_024;
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
    pub suite: Suite,
    pub params: ChainParams,
    #[cfg(feature = "mutations")]
    mutation: Option<Mutation>,
}

impl Config {
    pub fn new(chain_id: impl Into<String>, suite: Suite, params: ChainParams) -> Self {
        Config {
            chain_id: chain_id.into(),
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

/// What a validator must remember across a crash so that it never contradicts a vote it sent.
/// Persisted (`Effect::Persist`) before any message that depends on it is sent.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PersistedState {
    pub height: u64,
    pub view: u64,
    /// A view change for `view` was sent; no votes in `view` until a justified proposal.
    pub view_changing: bool,
    /// The block this validator proposed in `view`, as leader.
    pub proposed: Option<Hash32>,
    /// The block it sent `Prepare` for in `view`.
    pub prepare_voted: Option<Hash32>,
    /// The block it sent `Commit` for in `view`.
    pub commit_voted: Option<Hash32>,
    /// Its highest prepared certificate at `height`, with the block.
    pub prepared: Option<(PreparedCertificate, Block)>,
}

impl Encode for PersistedState {
    fn encode_to(&self, w: &mut Writer) {
        w.u64(self.height);
        w.u64(self.view);
        w.bool(self.view_changing);
        w.option(&self.proposed);
        w.option(&self.prepare_voted);
        w.option(&self.commit_voted);
        match &self.prepared {
            None => w.u8(0),
            Some((pc, block)) => {
                w.u8(1);
                pc.encode_to(w);
                block.encode_to(w);
            }
        }
    }
}

impl Decode for PersistedState {
    fn decode_from(r: &mut Reader<'_>) -> Result<Self, CodecError> {
        Ok(PersistedState {
            height: r.u64()?,
            view: r.u64()?,
            view_changing: r.bool()?,
            proposed: r.option("proposed")?,
            prepare_voted: r.option("prepare voted")?,
            commit_voted: r.option("commit voted")?,
            prepared: match r.u8()? {
                0 => None,
                1 => Some((PreparedCertificate::decode_from(r)?, Block::decode_from(r)?)),
                tag => {
                    return Err(CodecError::InvalidTag {
                        what: "option",
                        tag,
                    });
                }
            },
        })
    }
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
        outcome: Result<ValidatorSet, String>,
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

/// Votes of one kind in one view: the first vote of each validator.
#[derive(Debug, Default)]
struct Tally {
    by_voter: BTreeMap<u16, SignedVote>,
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
    executed: BTreeMap<Hash32, Result<ValidatorSet, String>>,
    execute_requested: BTreeSet<Hash32>,
    proposals: BTreeMap<u64, (Hash32, Signature)>,
    accepted: BTreeMap<u64, Hash32>,
    votes: BTreeMap<(VoteKind, u64), Tally>,
    view_changes: BTreeMap<u16, ViewChange>,
    decided: Option<CommitCertificate>,
    build_requested: Option<u64>,
    sync_requested_view: Option<u64>,
    future: Vec<Message>,
    future_keys: BTreeSet<(u64, u64, u16, u8)>,
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
            accepted: BTreeMap::new(),
            votes: BTreeMap::new(),
            view_changes: BTreeMap::new(),
            decided: None,
            build_requested: None,
            sync_requested_view: None,
            future: Vec::new(),
            future_keys: BTreeSet::new(),
            helped: BTreeSet::new(),
        };
        core.enter_height(tip.height + 1, tip.hash, tip.next_validators);
        if let Some(p) = persisted.filter(|p| p.height == core.height) {
            core.view = p.view;
            core.view_changing = p.view_changing;
            core.proposed = p.proposed;
            core.prepare_voted = p.prepare_voted;
            core.commit_voted = p.commit_voted;
            if let Some((pc, block)) = p.prepared {
                core.blocks.insert(pc.block_hash, block.clone());
                core.prepared = Some((pc, block));
            }
        }
        core
    }

    pub fn height(&self) -> u64 {
        self.height
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

    pub fn persisted_state(&self) -> PersistedState {
        PersistedState {
            height: self.height,
            view: self.view,
            view_changing: self.view_changing,
            proposed: self.proposed,
            prepare_voted: self.prepare_voted,
            commit_voted: self.commit_voted,
            prepared: self.prepared.clone(),
        }
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

    // ---------------------------------------------------------------- heights and views

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

    /// After a restart: count the votes this validator persisted in the current view and send them
    /// again (they may have been lost with the crash). Signatures are deterministic, so these are
    /// the very votes sent before: no equivocation.
    fn resend_own_votes(&mut self, out: &mut Vec<Effect>) {
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

    fn request_build(&mut self, out: &mut Vec<Effect>) {
        if self.build_requested != Some(self.view) {
            self.build_requested = Some(self.view);
            out.push(Effect::BuildProposal {
                height: self.height,
                view: self.view,
            });
        }
    }

    fn on_timeout(&mut self, height: u64, view: u64, out: &mut Vec<Effect>) {
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

    fn leave_view_on_timeout(&mut self, out: &mut Vec<Effect>) {
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
    fn alone_in_view_change(&self) -> bool {
        self.my_index.is_some()
            && self.view_changing
            && self.view_changes_from(self.view) < self.quorum()
    }

    /// Validators whose latest view change is for `view` or a later view (this one included).
    fn view_changes_from(&self, view: u64) -> usize {
        self.view_changes
            .values()
            .filter(|vc| vc.view >= view)
            .count()
    }

    /// Leaves the current view for `view`: from now on no vote below it.
    fn start_view_change(&mut self, view: u64, out: &mut Vec<Effect>) {
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

    fn send_view_change(&mut self, out: &mut Vec<Effect>) {
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
        let vc = ViewChange {
            height: self.height,
            view: self.view,
            prepared,
            voter: me,
            signature: self.signer.sign(hash.as_bytes()),
        };
        self.view_changes.insert(me, vc.clone());
        out.push(Effect::Broadcast(Message::ViewChange(Box::new(vc))));
    }

    /// Enters `view` on a justified proposal (a quorum of view changes for it).
    fn enter_view(&mut self, view: u64, out: &mut Vec<Effect>) {
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

    fn prune_views(&mut self) {
        let low = self.view.saturating_sub(VIEW_HISTORY);
        self.votes.retain(|(_, v), _| *v >= low);
        self.proposals.retain(|v, _| *v >= low);
        self.accepted.retain(|v, _| *v >= low);
    }

    fn persist(&self, out: &mut Vec<Effect>) {
        out.push(Effect::Persist(self.persisted_state()));
    }

    fn request_sync(&mut self, out: &mut Vec<Effect>) {
        if self.sync_requested_view != Some(self.view) {
            self.sync_requested_view = Some(self.view);
            out.push(Effect::RequestSync {
                from_height: self.height,
            });
        }
    }

    // ---------------------------------------------------------------- messages

    fn on_message(&mut self, m: Message, out: &mut Vec<Effect>) {
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
            Message::Proposal(p) => self.on_proposal(*p, out),
            Message::ViewChange(vc) => self.on_view_change(*vc, out),
        };
        if let Err(error) = result {
            out.push(Effect::Ignored { error });
        }
    }

    /// Keeps a message for a later height until this node gets there: one per (height, view,
    /// signer, kind), in a window of views, at most `FUTURE_MESSAGES_MAX`, so repeated junk cannot
    /// crowd out the next proposal. Signatures are checked when the message is replayed, not
    /// here: the next height may be signed by a changed validator set this node does not know
    /// yet (checking against the current set stalled reconfiguring chains in the simulator).
    fn buffer_future(&mut self, m: Message, out: &mut Vec<Effect>) {
        // Whatever becomes of the message, someone claims to be ahead: ask for blocks (at most
        // once per view, so junk costs one request).
        self.request_sync(out);
        let kind = match &m {
            Message::Proposal(_) => 0u8,
            Message::Vote(v) => v.vote.kind.tag(),
            Message::ViewChange(_) => 3,
        };
        let key = (m.height(), m.view(), m.signer(), kind);
        let keep = m.height() <= self.height + FUTURE_HEIGHTS_MAX
            && m.view() <= VIEW_WINDOW
            && Some(m.signer()) != self.my_index
            && self.future.len() < FUTURE_MESSAGES_MAX
            && !self.future_keys.contains(&key);
        if !keep {
            return;
        }
        self.future_keys.insert(key);
        self.future.push(m);
    }

    /// A validator sent a message for a height we have committed: it is behind.
    fn help_catch_up(&mut self, m: &Message, out: &mut Vec<Effect>) {
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

    fn check_message_signature(&self, m: &Message) -> Result<(), ConsensusError> {
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

    fn check_view_window(&self, view: u64) -> Result<(), ConsensusError> {
        if view > self.view + VIEW_WINDOW || view + VIEW_HISTORY < self.view {
            return Err(ConsensusError::OutOfWindow {
                height: self.height,
                view,
            });
        }
        Ok(())
    }

    fn on_vote(&mut self, sv: SignedVote, out: &mut Vec<Effect>) -> Result<(), ConsensusError> {
        if sv.vote.chain_id != self.config.chain_id {
            return Err(ConsensusError::WrongChain {
                found: sv.vote.chain_id,
            });
        }
        self.check_view_window(sv.vote.view)?;
        self.verify(
            sv.voter,
            &sv.vote.signing_hash(self.config.suite),
            &sv.signature,
        )?;
        let view = sv.vote.view;
        let tally = self.votes.entry((sv.vote.kind, view)).or_default();
        if let Some(first) = tally.by_voter.get(&sv.voter) {
            if first.vote.block_hash != sv.vote.block_hash {
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

    fn on_proposal(&mut self, p: Proposal, out: &mut Vec<Effect>) -> Result<(), ConsensusError> {
        let suite = self.config.suite;
        let hash = p.block.header.hash(suite);
        if p.view < self.view {
            // A late proposal can still supply the block a commit quorum is waiting for.
            if self.decided.as_ref().is_some_and(|c| c.block_hash == hash)
                && !self.blocks.contains_key(&hash)
            {
                self.check_message_signature(&Message::Proposal(Box::new(p.clone())))?;
                self.store_block(hash, p.block, out);
            }
            return Ok(());
        }
        self.check_view_window(p.view)?;
        let leader = self.leader(self.height, p.view);
        if p.proposer != leader {
            return Err(ConsensusError::NotLeader {
                view: p.view,
                leader,
                found: p.proposer,
            });
        }
        let signing = Proposal::signing_hash(suite, &self.config.chain_id, p.height, p.view, &hash);
        self.verify(p.proposer, &signing, &p.signature)?;
        if let Some((first, first_sig)) = self.proposals.get(&p.view) {
            if *first != hash {
                out.push(Effect::Equivocation(Evidence::ConflictingProposals {
                    proposer: p.proposer,
                    height: p.height,
                    view: p.view,
                    first: (*first, *first_sig),
                    second: (hash, p.signature),
                }));
            } else if self.accepted.get(&p.view) == Some(&hash)
                && self.check_block_header(&p.block, hash).is_ok()
            {
                // The same block again; this copy may execute where ours did not.
                self.store_block(hash, p.block, out);
            }
            return Ok(());
        }
        self.check_block_header(&p.block, hash)?;
        if p.view == 0 {
            if !p.justification.is_empty() {
                return Err(ConsensusError::BadJustification {
                    reason: "a view-0 proposal carries no view changes",
                });
            }
        } else {
            let required = self.justified_block(p.view, &p.justification)?;
            match required {
                Some(required) if required != hash => {
                    return Err(ConsensusError::BadJustification {
                        reason: "the proposal is not the block of the highest prepared certificate",
                    });
                }
                None if p.block.header.view != p.view => {
                    return Err(ConsensusError::BadJustification {
                        reason: "a fresh block must carry the view it is proposed in",
                    });
                }
                _ => {}
            }
        }
        self.proposals.insert(p.view, (hash, p.signature));
        if p.view > self.view || (p.view == self.view && self.view_changing) {
            if p.view == 0 {
                return Err(ConsensusError::BadJustification {
                    reason: "view 0 cannot be entered by a proposal",
                });
            }
            self.enter_view(p.view, out);
        } else if p.view != self.view {
            return Ok(());
        }
        self.accepted.insert(p.view, hash);
        self.store_block(hash, p.block, out);
        self.try_prepare(out);
        Ok(())
    }

    /// Structural checks the core can make without executing: the block extends our tip at our
    /// height, names our validator set, and its proposer led the view it was first proposed in.
    fn check_block_header(&self, block: &Block, hash: Hash32) -> Result<(), ConsensusError> {
        let h = &block.header;
        let bad = |reason| Err(ConsensusError::BadBlock { reason });
        if h.chain_id != self.config.chain_id {
            return bad("chain id differs");
        }
        if h.height != self.height {
            return bad("height differs from the proposal's");
        }
        if h.previous_hash != self.tip_hash {
            return bad("does not extend the last committed block");
        }
        if h.validator_set_hash != self.validators.hash(self.config.suite) {
            return bad("names another validator set");
        }
        if h.proposer != self.leader(self.height, h.view) {
            return bad("proposer did not lead the block's view");
        }
        if !block.check_tx_root(self.config.suite) {
            return bad("tx root or count does not match the transactions");
        }
        debug_assert_eq!(h.hash(self.config.suite), hash);
        Ok(())
    }

    /// Checks a quorum of valid view changes for `view` from distinct validators and returns the
    /// block hash of the highest prepared certificate among them, if any.
    fn justified_block(
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

    fn check_view_change(&self, vc: &ViewChange) -> Result<(), ConsensusError> {
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
        if let Some((pc, block)) = &vc.prepared {
            if pc.height != vc.height || pc.view >= vc.view {
                return Err(ConsensusError::BadCertificate {
                    reason: "prepared certificate is not from an earlier view of this height",
                });
            }
            if block.header.hash(suite) != pc.block_hash {
                return Err(ConsensusError::BadCertificate {
                    reason: "the carried block is not the prepared one",
                });
            }
            self.check_block_header(block, pc.block_hash)?;
            pc.verify(
                suite,
                &self.config.chain_id,
                &self.validators,
                self.quorum(),
            )?;
        }
        Ok(())
    }

    fn on_view_change(
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
        if let Some((_, block)) = &vc.prepared {
            let hash = block.header.hash(self.config.suite);
            if self.blocks.len() < BLOCKS_PER_HEIGHT_MAX {
                self.blocks.entry(hash).or_insert_with(|| block.clone());
            }
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

    /// As the leader of a view being changed to, with a quorum of view changes: propose.
    fn try_new_view(&mut self, out: &mut Vec<Effect>) {
        if !self.view_changing || !self.i_lead(self.view) || self.proposed.is_some() {
            return;
        }
        let vcs = self.justification();
        if vcs.len() < self.quorum() {
            return;
        }
        let best = vcs
            .iter()
            .filter_map(|vc| vc.prepared.as_ref())
            .max_by_key(|(pc, _)| pc.view)
            .map(|(_, block)| block.clone());
        match best {
            Some(block) => self.propose(block, out),
            None => self.request_build(out),
        }
    }

    fn justification(&self) -> Vec<ViewChange> {
        self.view_changes
            .values()
            .filter(|vc| vc.view == self.view)
            .take(self.quorum())
            .cloned()
            .collect()
    }

    fn on_proposal_ready(&mut self, block: Block, out: &mut Vec<Effect>) {
        let ready = block.header.height == self.height
            && block.header.view == self.view
            && self.i_lead(self.view)
            && self.proposed.is_none()
            && self.build_requested == Some(self.view);
        if ready {
            self.propose(block, out);
        }
    }

    fn propose(&mut self, block: Block, out: &mut Vec<Effect>) {
        let Some(me) = self.my_index else { return };
        let suite = self.config.suite;
        let hash = block.header.hash(suite);
        let justification = if self.view == 0 {
            Vec::new()
        } else {
            let vcs = self.justification();
            if vcs.len() < self.quorum() {
                return;
            }
            vcs
        };
        let signing =
            Proposal::signing_hash(suite, &self.config.chain_id, self.height, self.view, &hash);
        let proposal = Proposal {
            height: self.height,
            view: self.view,
            block: block.clone(),
            justification,
            proposer: me,
            signature: self.signer.sign(signing.as_bytes()),
        };
        self.proposed = Some(hash);
        self.view_changing = false;
        self.persist(out);
        out.push(Effect::Broadcast(Message::Proposal(Box::new(
            proposal.clone(),
        ))));
        self.proposals.insert(self.view, (hash, proposal.signature));
        self.accepted.insert(self.view, hash);
        self.store_block(hash, block, out);
        self.try_prepare(out);
    }

    fn store_block(&mut self, hash: Hash32, block: Block, out: &mut Vec<Effect>) {
        match self.blocks.get(&hash) {
            None => {
                if self.blocks.len() >= BLOCKS_PER_HEIGHT_MAX {
                    return;
                }
                self.blocks.insert(hash, block);
            }
            // A block hash covers the transaction ids, not their signatures: a copy altered in
            // transit executes as invalid although the leader's block is valid. Another copy of
            // a block found invalid gets its own execution.
            Some(known) if *known != block && matches!(self.executed.get(&hash), Some(Err(_))) => {
                self.blocks.insert(hash, block);
                self.executed.remove(&hash);
                self.execute_requested.remove(&hash);
            }
            Some(_) => {}
        }
        if !self.executed.contains_key(&hash)
            && self.execute_requested.insert(hash)
            && let Some(block) = self.blocks.get(&hash)
        {
            out.push(Effect::Execute {
                block: block.clone(),
            });
        }
    }

    fn on_executed(
        &mut self,
        hash: Hash32,
        outcome: Result<ValidatorSet, String>,
        out: &mut Vec<Effect>,
    ) {
        if !self.execute_requested.contains(&hash) || self.executed.contains_key(&hash) {
            return;
        }
        let valid = outcome.is_ok();
        self.executed.insert(hash, outcome);
        if !valid {
            // The leader of this view proposed an invalid block: do not wait for the timer.
            if self.accepted.get(&self.view) == Some(&hash)
                && !self.view_changing
                && self.my_index.is_some()
            {
                self.start_view_change(self.view + 1, out);
            }
            return;
        }
        if self.decided.as_ref().is_some_and(|c| c.block_hash == hash) {
            self.finish(out);
            return;
        }
        self.try_prepare(out);
        // Votes may have arrived before the block was executed.
        let height = self.height;
        let views: BTreeSet<u64> = self.votes.keys().map(|(_, v)| *v).collect();
        for view in views {
            if self.height != height {
                break; // the height was decided; later views are moot
            }
            self.check_quorums(view, out);
        }
    }

    fn is_valid(&self, hash: &Hash32) -> bool {
        matches!(self.executed.get(hash), Some(Ok(_)))
    }

    fn try_prepare(&mut self, out: &mut Vec<Effect>) {
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

    fn sign_vote(&self, kind: VoteKind, hash: Hash32, me: u16) -> SignedVote {
        let vote = Vote {
            kind,
            chain_id: self.config.chain_id.clone(),
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

    fn send_vote(&mut self, kind: VoteKind, hash: Hash32, me: u16, out: &mut Vec<Effect>) {
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

    fn record_own_vote(&mut self, sv: SignedVote, out: &mut Vec<Effect>) {
        let view = sv.vote.view;
        self.votes
            .entry((sv.vote.kind, view))
            .or_default()
            .by_voter
            .insert(sv.voter, sv);
        self.check_quorums(view, out);
    }

    /// After any new vote or execution: become prepared, send commit, decide.
    fn check_quorums(&mut self, view: u64, out: &mut Vec<Effect>) {
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

    fn on_synced(&mut self, block: Block, certificate: CommitCertificate, out: &mut Vec<Effect>) {
        if block.header.height != self.height || block.header.previous_hash != self.tip_hash {
            return;
        }
        let suite = self.config.suite;
        if certificate
            .verify(
                suite,
                &self.config.chain_id,
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
        let buffered = std::mem::take(&mut self.future);
        self.future_keys.clear();
        for m in buffered {
            self.on_message(m, out);
        }
    }
}
