//! Fixtures for the consensus core tests: four `Suite::Intl` validators, a genesis tip, valid
//! blocks, and messages signed as any validator. Signatures are deterministic (Ed25519), so a
//! test can rebuild the exact message a core is expected to broadcast.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use lichen_consensus::{
    Config, Core, Effect, Input, Message, PersistedState, PreparedCertificate, Proposal,
    SignedVote, Tip, ViewChange,
};
use lichen_contracts::block::{
    Block, BlockHeader, CommitCertificate, HEADER_VERSION, IndexedSignature, Vote, VoteKind,
    tx_root,
};
use lichen_contracts::crypto::{Hash32, SecretKey, Suite};
use lichen_contracts::model::{ChainParams, Validator, ValidatorSet};
use lichen_contracts::testkit::{GENESIS_TIME_MS, test_key};

pub const CHAIN: &str = "lichen-test";
pub const SUITE: Suite = Suite::Intl;
/// The hash of the (imaginary) genesis block the cores build on.
pub const GENESIS: Hash32 = Hash32([0x6e; 32]);
/// The test chain's genesis hash (`H(genesis)`), which every vote binds.
pub const GENESIS_HASH: Hash32 = Hash32([0x67; 32]);
/// Small, round timeouts: view v times out after (v + 1) seconds, at most 30.
pub const PARAMS: ChainParams = ChainParams {
    view_timeout_base_ms: 1_000,
    view_timeout_step_ms: 1_000,
    view_timeout_max_ms: 30_000,
    ..ChainParams::DEFAULT
};

/// Four validators. Indices are positions in the set (sorted by key), not the numbers in the
/// key names; every helper takes an index.
#[derive(Debug)]
pub struct Net {
    pub set: ValidatorSet,
    /// Key name of the validator at each index.
    names: Vec<String>,
}

impl Net {
    pub fn new() -> Self {
        Self::with_validators(4)
    }

    /// `n` validators (the helpers' "four" become `n`; tests that need a larger set, and so
    /// more faults tolerated, use this).
    pub fn with_validators(n: usize) -> Self {
        let validators: Vec<Validator> = (0..n)
            .map(|i| Validator {
                name: format!("validator-{i}"),
                key: test_key(SUITE, &format!("validator-{i}")).public_key(),
                peer_id: format!("peer-{i}").into_bytes(),
            })
            .collect();
        let set = ValidatorSet::new(validators).unwrap();
        let names = set.validators.iter().map(|v| v.name.clone()).collect();
        Net { set, names }
    }

    pub fn n(&self) -> u16 {
        self.set.len() as u16
    }

    /// The secret key of validator `index`.
    pub fn key(&self, index: u16) -> SecretKey {
        test_key(SUITE, &self.names[usize::from(index)])
    }

    pub fn leader(&self, height: u64, view: u64) -> u16 {
        ((height + view) % self.set.len() as u64) as u16
    }

    pub fn tip(&self) -> Tip {
        self.tip_at(0, GENESIS)
    }

    pub fn tip_at(&self, height: u64, hash: Hash32) -> Tip {
        Tip {
            height,
            hash,
            next_validators: self.set.clone(),
        }
    }

    /// A core for validator `index` on top of genesis, fresh.
    pub fn core(&self, index: u16) -> Core {
        self.core_with(index, self.tip(), None, PARAMS)
    }

    pub fn core_with(
        &self,
        index: u16,
        tip: Tip,
        persisted: Option<PersistedState>,
        params: ChainParams,
    ) -> Core {
        let core = Core::new(
            Config::new(CHAIN, GENESIS_HASH, SUITE, params),
            Box::new(self.key(index)),
            tip,
            persisted,
        );
        assert_eq!(core.my_index(), Some(index));
        core
    }

    /// A valid empty block for (height, view) on `previous`, proposed by that view's leader.
    pub fn block(&self, height: u64, view: u64, previous: Hash32) -> Block {
        self.block_with_root(height, view, previous, 0x11)
    }

    /// Like [`Self::block`], with a chosen state root byte: different bytes, different blocks.
    pub fn block_with_root(&self, height: u64, view: u64, previous: Hash32, root: u8) -> Block {
        let set_hash = self.set.hash(SUITE);
        Block {
            header: BlockHeader {
                version: HEADER_VERSION,
                chain_id: CHAIN.to_string(),
                height,
                time_ms: GENESIS_TIME_MS + height * 1_000,
                view,
                previous_hash: previous,
                tx_count: 0,
                tx_root: tx_root(SUITE, &[]),
                state_root: Hash32([root; 32]),
                validator_set_hash: set_hash,
                next_validator_set_hash: set_hash,
                proposer: self.leader(height, view),
            },
            txs: Vec::new(),
        }
    }

    pub fn signed_vote(
        &self,
        kind: VoteKind,
        voter: u16,
        height: u64,
        view: u64,
        block_hash: Hash32,
    ) -> SignedVote {
        let vote = Vote {
            kind,
            chain_id: CHAIN.to_string(),
            genesis_hash: GENESIS_HASH,
            height,
            view,
            block_hash,
        };
        let signature = self.key(voter).sign(vote.signing_hash(SUITE).as_bytes());
        SignedVote {
            vote,
            voter,
            signature,
        }
    }

    pub fn prepare(&self, voter: u16, height: u64, view: u64, hash: Hash32) -> Message {
        Message::Vote(self.signed_vote(VoteKind::Prepare, voter, height, view, hash))
    }

    pub fn commit(&self, voter: u16, height: u64, view: u64, hash: Hash32) -> Message {
        Message::Vote(self.signed_vote(VoteKind::Commit, voter, height, view, hash))
    }

    /// `proposer`'s signed proposal of `block` in `view` (height taken from the block).
    pub fn proposal(
        &self,
        proposer: u16,
        view: u64,
        block: &Block,
        justification: Vec<ViewChange>,
    ) -> Message {
        let height = block.header.height;
        let signing = Proposal::signing_hash(SUITE, CHAIN, height, view, &block.header.hash(SUITE));
        Message::Proposal(Box::new(Proposal {
            height,
            view,
            block: block.clone(),
            justification,
            proposer,
            signature: self.key(proposer).sign(signing.as_bytes()),
        }))
    }

    pub fn view_change(
        &self,
        voter: u16,
        height: u64,
        view: u64,
        prepared: Option<(PreparedCertificate, Block)>,
    ) -> ViewChange {
        let summary = prepared.as_ref().map(|(pc, _)| (pc.view, pc.block_hash));
        let signing = ViewChange::signing_hash(SUITE, CHAIN, height, view, summary);
        let (prepared, block) = prepared.map_or((None, None), |(pc, b)| (Some(pc), Some(b)));
        ViewChange {
            height,
            view,
            prepared,
            block,
            voter,
            signature: self.key(voter).sign(signing.as_bytes()),
        }
    }

    pub fn vc_message(&self, vc: &ViewChange) -> Message {
        Message::ViewChange(Box::new(vc.clone()))
    }

    fn signatures(
        &self,
        kind: VoteKind,
        height: u64,
        view: u64,
        hash: Hash32,
        voters: &[u16],
    ) -> Vec<IndexedSignature> {
        voters
            .iter()
            .map(|&v| IndexedSignature {
                index: v,
                signature: self.signed_vote(kind, v, height, view, hash).signature,
            })
            .collect()
    }

    /// A prepared certificate signed by `voters` (give them in increasing order).
    pub fn prepared_cert(
        &self,
        height: u64,
        view: u64,
        block_hash: Hash32,
        voters: &[u16],
    ) -> PreparedCertificate {
        PreparedCertificate {
            height,
            view,
            block_hash,
            prepares: self.signatures(VoteKind::Prepare, height, view, block_hash, voters),
        }
    }

    /// A commit certificate signed by `voters` (give them in increasing order).
    pub fn commit_cert(
        &self,
        height: u64,
        view: u64,
        block_hash: Hash32,
        voters: &[u16],
    ) -> CommitCertificate {
        CommitCertificate {
            height,
            view,
            block_hash,
            signatures: self.signatures(VoteKind::Commit, height, view, block_hash, voters),
        }
    }
}

pub fn hash(block: &Block) -> Hash32 {
    block.header.hash(SUITE)
}

/// A fresh voting state at (height, view).
pub fn fresh(height: u64, view: u64) -> PersistedState {
    PersistedState {
        height,
        view,
        view_changing: false,
        proposed: None,
        prepare_voted: None,
        commit_voted: None,
        prepared: None,
    }
}

pub fn timer(height: u64, view: u64) -> Effect {
    Effect::ScheduleTimer {
        height,
        view,
        after_ms: PARAMS.view_timeout_ms(view),
    }
}

/// Feeds one input and checks the ordering rules every effect list must obey ("a `Persist` must
/// be durable before any later effect of the same step"):
/// - every `Broadcast` of a vote has before it a `Persist`, and the last one records that vote;
/// - every `Broadcast` of a proposal has before it a `Persist`, the last one recording it;
/// - a `Broadcast` of a view change after a `Persist` comes after one for that view change.
pub fn step(core: &mut Core, input: Input) -> Vec<Effect> {
    let effects = core.step(input);
    check_persist_before_send(&effects);
    effects
}

pub fn deliver(core: &mut Core, message: Message) -> Vec<Effect> {
    step(core, Input::Message(message))
}

/// Reports a block as executed and valid, with the same validator set next.
pub fn executed(core: &mut Core, net: &Net, block: &Block) -> Vec<Effect> {
    step(
        core,
        Input::Executed {
            block_hash: hash(block),
            outcome: Ok(net.set.clone()),
        },
    )
}

pub fn check_persist_before_send(effects: &[Effect]) {
    for (i, effect) in effects.iter().enumerate() {
        let Effect::Broadcast(message) = effect else {
            continue;
        };
        let last_persist = effects[..i].iter().rev().find_map(|e| match e {
            Effect::Persist(state) => Some(state),
            _ => None,
        });
        match message {
            Message::Vote(sv) => {
                let Some(state) = last_persist else {
                    panic!("vote broadcast at {i} not preceded by a Persist: {effects:#?}");
                };
                assert_eq!(
                    (state.height, state.view),
                    (sv.vote.height, sv.vote.view),
                    "persisted state is for another height or view than the vote"
                );
                let recorded = match sv.vote.kind {
                    VoteKind::Prepare => state.prepare_voted,
                    VoteKind::Commit => state.commit_voted,
                };
                assert_eq!(recorded, Some(sv.vote.block_hash), "vote not persisted");
                assert!(!state.view_changing, "vote persisted while view changing");
            }
            Message::Proposal(p) => {
                let Some(state) = last_persist else {
                    panic!("proposal broadcast at {i} not preceded by a Persist: {effects:#?}");
                };
                assert_eq!((state.height, state.view), (p.height, p.view));
                assert_eq!(
                    state.proposed,
                    Some(hash(&p.block)),
                    "proposal not persisted"
                );
            }
            Message::ViewChange(vc) => {
                // On `Start` a restored core resends the view change it persisted before the
                // crash: no `Persist` in that list.
                if let Some(state) = last_persist {
                    assert_eq!((state.height, state.view), (vc.height, vc.view));
                    assert!(
                        state.view_changing,
                        "view change persisted without the flag"
                    );
                    assert_eq!(
                        state.prepared.as_ref().map(|(pc, b)| (pc, b)),
                        vc.prepared.as_ref().zip(vc.block.as_ref()),
                        "view change carries another cert or block"
                    );
                }
            }
        }
    }
}

/// Positions of `Persist` and vote `Broadcast` effects, for explicit ordering assertions.
pub fn position(effects: &[Effect], pred: impl Fn(&Effect) -> bool) -> usize {
    effects
        .iter()
        .position(pred)
        .unwrap_or_else(|| panic!("effect not found in {effects:#?}"))
}

pub fn has_broadcast(effects: &[Effect]) -> bool {
    effects.iter().any(|e| matches!(e, Effect::Broadcast(_)))
}
