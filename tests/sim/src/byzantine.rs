//! Byzantine validators. A silent one runs nothing. The others run a real core (so they follow
//! the chain and know what to attack) and distort what it sends, and act on their own timer:
//! equivocation, votes for random blocks, views far in the future, garbage bytes, replays,
//! forged sync answers, invalid blocks, selective sending.

use std::collections::{BTreeMap, BTreeSet};

use lichen_consensus::{Message, Proposal, SignedVote, VIEW_WINDOW, ViewChange};
use lichen_contracts::block::{Block, CommitCertificate, IndexedSignature, Vote, VoteKind};
use lichen_contracts::crypto::{Hash32, SecretKey, Suite};
use lichen_contracts::testkit::test_key;

use crate::app::{CHAIN_ID, Chain, GENESIS_HASH, node_name, pool};
use crate::rng::Rng;
use crate::scenario::Behaviour;

/// Old messages kept for replays, at most.
const SEEN_MAX: usize = 256;

/// Something a Byzantine node sends.
#[derive(Debug)]
pub enum Send {
    Message(usize, Message),
    /// Raw bytes; `must_fail`: they must not decode as a message.
    Garbage {
        to: usize,
        bytes: Vec<u8>,
        must_fail: bool,
    },
    Sync(usize, Vec<(Block, CommitCertificate)>),
}

/// What the node knows when it acts.
#[derive(Debug)]
pub struct Ctx<'a> {
    pub rng: &'a mut Rng,
    pub suite: Suite,
    pub peers: &'a [usize],
    pub chain: &'a Chain,
    pub height: u64,
    pub view: u64,
    pub my_index: Option<u16>,
}

#[derive(Debug)]
struct Equivocation {
    a: Proposal,
    b: Proposal,
    hash_a: Hash32,
    hash_b: Hash32,
    group_a: BTreeSet<usize>,
}

#[derive(Debug)]
pub struct Byzantine {
    pub behaviours: BTreeSet<Behaviour>,
    key: SecretKey,
    seen: Vec<Vec<u8>>,
    equivocations: BTreeMap<(u64, u64), Equivocation>,
    /// View changes received, by (height, view) and voter.
    view_changes: BTreeMap<(u64, u64), BTreeMap<u16, ViewChange>>,
}

impl Byzantine {
    pub fn new(suite: Suite, id: usize, behaviours: BTreeSet<Behaviour>) -> Self {
        Byzantine {
            behaviours,
            key: test_key(suite, &node_name(id)),
            seen: Vec::new(),
            equivocations: BTreeMap::new(),
            view_changes: BTreeMap::new(),
        }
    }

    pub fn is_silent(&self) -> bool {
        self.behaviours.contains(&Behaviour::Silent)
    }

    fn does(&self, b: Behaviour) -> bool {
        self.behaviours.contains(&b)
    }

    /// Remembers a received message for replays.
    pub fn record(&mut self, rng: &mut Rng, bytes: &[u8]) {
        if !self.does(Behaviour::Replay) && !self.does(Behaviour::Garbage) {
            return;
        }
        if self.seen.len() < SEEN_MAX {
            self.seen.push(bytes.to_vec());
        } else {
            let i = rng.index(SEEN_MAX);
            self.seen[i] = bytes.to_vec();
        }
    }

    /// Remembers a received (decoded) message.
    pub fn observe(&mut self, m: &Message) {
        if let Message::ViewChange(vc) = m
            && self.does(Behaviour::HidePrepared)
        {
            let height = vc.height;
            self.view_changes
                .entry((vc.height, vc.view))
                .or_default()
                .insert(vc.voter, (**vc).clone());
            self.view_changes.retain(|(h, _), _| *h + 1 >= height);
            while self.view_changes.len() > 64 {
                self.view_changes.pop_first();
            }
        }
    }

    /// A justification that hides prepared certificates: of all view changes for the view, the
    /// quorum with the lowest prepared views; and the block that subset lets us propose.
    fn hide_prepared(&self, ctx: &mut Ctx<'_>, mut p: Proposal) -> Proposal {
        let suite = ctx.suite;
        let quorum = p.justification.len();
        let mut all: BTreeMap<u16, ViewChange> = self
            .view_changes
            .get(&(p.height, p.view))
            .cloned()
            .unwrap_or_default();
        for vc in &p.justification {
            all.entry(vc.voter).or_insert_with(|| vc.clone());
        }
        let mut vcs: Vec<ViewChange> = all.into_values().collect();
        vcs.sort_by_key(|vc| {
            vc.prepared_summary()
                .map_or(0, |(v, _)| v.saturating_add(1))
        });
        vcs.truncate(quorum);
        // The view changes seen on their own carry their blocks; those taken from the
        // proposal's justification do not, but then the proposal's block is the prepared one.
        let best = vcs
            .iter()
            .filter(|vc| vc.prepared.is_some())
            .max_by_key(|vc| vc.prepared_summary().map(|(v, _)| v))
            .map(|vc| vc.block.clone().unwrap_or_else(|| p.block.clone()));
        let block = match best {
            Some(block) => block,
            // Nothing prepared in our subset: a fresh block of ours, whatever was prepared.
            None if p.block.header.view != p.view => {
                let proposer = ctx.my_index.unwrap_or(0);
                ctx.chain.build(p.view, proposer, 0, &[], 0)
            }
            None => p.block.clone(),
        };
        p.justification = vcs.iter().map(ViewChange::without_block).collect();
        p.block = block;
        self.sign_proposal(suite, p)
    }

    fn sign_vote(&self, suite: Suite, vote: Vote, voter: u16) -> SignedVote {
        let signature = self.key.sign(vote.signing_hash(suite).as_bytes());
        SignedVote {
            vote,
            voter,
            signature,
        }
    }

    fn sign_proposal(&self, suite: Suite, mut p: Proposal) -> Proposal {
        let hash = p.block.header.hash(suite);
        p.signature = self
            .key
            .sign(Proposal::signing_hash(suite, CHAIN_ID, p.height, p.view, &hash).as_bytes());
        p
    }

    fn recipients(&self, ctx: &mut Ctx<'_>) -> Vec<usize> {
        if self.does(Behaviour::Selective) {
            ctx.peers
                .iter()
                .copied()
                .filter(|_| ctx.rng.coin())
                .collect()
        } else {
            ctx.peers.to_vec()
        }
    }

    /// What the node sends instead of what its core broadcast.
    pub fn on_broadcast(&mut self, ctx: &mut Ctx<'_>, m: Message) -> Vec<Send> {
        let suite = ctx.suite;
        let mut out = Vec::new();
        match m {
            Message::Proposal(p) if Some(p.proposer) == ctx.my_index => {
                let mut p = *p;
                if p.view > 0 && self.does(Behaviour::HidePrepared) {
                    p = self.hide_prepared(ctx, p);
                }
                let fresh = p.block.header.view == p.view;
                if fresh && self.does(Behaviour::InvalidBlocks) && ctx.rng.coin() {
                    p.block = self.invalid_block(ctx, p.block);
                    p = self.sign_proposal(suite, p);
                }
                if self.does(Behaviour::Equivocate) && ctx.peers.len() >= 2 {
                    let mut b = p.clone();
                    b.block.header.time_ms += 1 + ctx.rng.below(5);
                    let mut txs = b.block.txs.clone();
                    txs.pop();
                    let fewer = ctx.chain.apply(b.block.header.height, &txs);
                    if fresh
                        && !b.block.txs.is_empty()
                        && ctx.rng.coin()
                        && let Ok((next, root)) = fewer
                    {
                        // A different, still valid, set of transactions.
                        let h = &b.block.header;
                        b.block = ctx.chain.block_with(
                            h.view,
                            h.proposer,
                            h.time_ms - lichen_contracts::testkit::GENESIS_TIME_MS,
                            txs,
                            root,
                            &next,
                        );
                    }
                    let b = self.sign_proposal(suite, b);
                    let mut peers = ctx.peers.to_vec();
                    ctx.rng.shuffle(&mut peers);
                    let cut = ctx.rng.range(1, peers.len() as u64 - 1) as usize;
                    let group_a: BTreeSet<usize> = peers[..cut].iter().copied().collect();
                    for to in self.recipients(ctx) {
                        let which = if group_a.contains(&to) { &p } else { &b };
                        out.push(Send::Message(
                            to,
                            Message::Proposal(Box::new(which.clone())),
                        ));
                    }
                    let eq = Equivocation {
                        hash_a: p.block.header.hash(suite),
                        hash_b: b.block.header.hash(suite),
                        a: p,
                        b,
                        group_a,
                    };
                    self.equivocations.insert((eq.a.height, eq.a.view), eq);
                    self.equivocations.retain(|(h, _), _| *h + 2 >= ctx.height);
                } else {
                    for to in self.recipients(ctx) {
                        out.push(Send::Message(to, Message::Proposal(Box::new(p.clone()))));
                    }
                }
            }
            Message::Vote(sv)
                if self
                    .equivocations
                    .get(&(sv.vote.height, sv.vote.view))
                    .is_some_and(|e| e.hash_a == sv.vote.block_hash) =>
            {
                // Vote for both of our blocks, each half seeing the one it was shown.
                let Some(eq) = self.equivocations.get(&(sv.vote.height, sv.vote.view)) else {
                    return out;
                };
                let mut other = sv.vote.clone();
                other.block_hash = eq.hash_b;
                let sv_b = self.sign_vote(suite, other, sv.voter);
                let group_a = eq.group_a.clone();
                for to in self.recipients(ctx) {
                    let which = if group_a.contains(&to) { &sv } else { &sv_b };
                    out.push(Send::Message(to, Message::Vote(which.clone())));
                }
            }
            m => {
                for to in self.recipients(ctx) {
                    out.push(Send::Message(to, m.clone()));
                }
            }
        }
        out
    }

    /// A block that passes the core's header checks but fails execution.
    fn invalid_block(&self, ctx: &mut Ctx<'_>, mut block: Block) -> Block {
        let suite = ctx.suite;
        match ctx.rng.below(4) {
            0 => block.header.state_root = Hash32(ctx.rng.bytes32()),
            1 => block.header.next_validator_set_hash = Hash32(ctx.rng.bytes32()),
            2 => {
                // A transaction whose signatures do not match its (changed) body.
                let mut tx = ctx.rng.pick(&pool(suite).evidence).clone();
                tx.tx.nonce ^= 1 << 40;
                block.txs.push(tx);
            }
            _ => {
                // A transaction committed before, replayed (or, if none, one twice).
                let old = ctx
                    .chain
                    .entries
                    .iter()
                    .flat_map(|e| e.block.txs.iter())
                    .next()
                    .cloned()
                    .unwrap_or_else(|| pool(suite).evidence[0].clone());
                block.txs.push(old.clone());
                if block.txs.len() == 1 {
                    block.txs.push(old);
                }
            }
        }
        block.header.tx_count = block.txs.len() as u32;
        block.header.tx_root = lichen_contracts::block::tx_root(suite, &block.txs);
        block
    }

    /// Acts on its own.
    pub fn on_tick(&mut self, ctx: &mut Ctx<'_>) -> Vec<Send> {
        let suite = ctx.suite;
        let mut out = Vec::new();
        if ctx.peers.is_empty() {
            return out;
        }
        let voter = ctx.my_index.unwrap_or(0);
        if self.does(Behaviour::RandomVotes) {
            let kind = if ctx.rng.coin() {
                VoteKind::Prepare
            } else {
                VoteKind::Commit
            };
            let vote = Vote {
                kind,
                chain_id: CHAIN_ID.into(),
                genesis_hash: GENESIS_HASH,
                height: ctx.height,
                view: (ctx.view + ctx.rng.below(3)).saturating_sub(1),
                block_hash: Hash32(ctx.rng.bytes32()),
            };
            let sv = self.sign_vote(suite, vote, voter);
            for to in self.recipients(ctx) {
                out.push(Send::Message(to, Message::Vote(sv.clone())));
            }
        }
        if self.does(Behaviour::FutureViews) {
            let choices = [
                u64::MAX,
                u64::MAX - 1,
                1 << 63,
                ctx.view + VIEW_WINDOW + 1,
                ctx.view + 1_000,
                ctx.view + 2 + ctx.rng.below(6),
            ];
            let view = *ctx.rng.pick(&choices);
            let height = if ctx.rng.chance(200) {
                ctx.height + 1 + ctx.rng.below(3)
            } else {
                ctx.height
            };
            let hash = ViewChange::signing_hash(suite, CHAIN_ID, height, view, None);
            let vc = ViewChange {
                height,
                view,
                prepared: None,
                block: None,
                voter,
                signature: self.key.sign(hash.as_bytes()),
            };
            let to = *ctx.rng.pick(ctx.peers);
            out.push(Send::Message(to, Message::ViewChange(Box::new(vc))));
            let vote = Vote {
                kind: VoteKind::Commit,
                chain_id: CHAIN_ID.into(),
                genesis_hash: GENESIS_HASH,
                height,
                view,
                block_hash: Hash32(ctx.rng.bytes32()),
            };
            let to = *ctx.rng.pick(ctx.peers);
            out.push(Send::Message(
                to,
                Message::Vote(self.sign_vote(suite, vote, voter)),
            ));
            let block = ctx.chain.build(view, voter, 0, &[], 0);
            let p = self.sign_proposal(
                suite,
                Proposal {
                    height: block.header.height,
                    view,
                    block,
                    justification: Vec::new(),
                    proposer: voter,
                    signature: self.key.sign(&[]),
                },
            );
            let to = *ctx.rng.pick(ctx.peers);
            out.push(Send::Message(to, Message::Proposal(Box::new(p))));
        }
        if self.does(Behaviour::Garbage) {
            let to = *ctx.rng.pick(ctx.peers);
            let len = ctx.rng.index(300);
            out.push(Send::Garbage {
                to,
                bytes: ctx.rng.bytes(len),
                must_fail: true,
            });
            if !self.seen.is_empty() {
                let real = ctx.rng.pick(&self.seen).clone();
                let to = *ctx.rng.pick(ctx.peers);
                let (bytes, must_fail) = match ctx.rng.below(3) {
                    0 if !real.is_empty() => {
                        let cut = ctx.rng.index(real.len());
                        (real[..cut].to_vec(), true)
                    }
                    1 => {
                        let mut b = real;
                        let extra = 1 + ctx.rng.index(8);
                        b.extend(ctx.rng.bytes(extra));
                        (b, true)
                    }
                    _ => {
                        let mut b = real;
                        if !b.is_empty() {
                            let i = ctx.rng.index(b.len());
                            b[i] ^= 1 << ctx.rng.below(8);
                        }
                        (b, false)
                    }
                };
                out.push(Send::Garbage {
                    to,
                    bytes,
                    must_fail,
                });
            }
        }
        if self.does(Behaviour::Replay) && !self.seen.is_empty() {
            for _ in 0..3 {
                let to = *ctx.rng.pick(ctx.peers);
                let bytes = ctx.rng.pick(&self.seen).clone();
                out.push(Send::Garbage {
                    to,
                    bytes,
                    must_fail: false,
                });
            }
        }
        if self.does(Behaviour::Equivocate) {
            // Keep offering the other block of our latest equivocation (e.g. to a node that
            // restarted and forgot what it was shown).
            let current: Vec<&Equivocation> = self
                .equivocations
                .values()
                .filter(|e| e.a.height == ctx.height)
                .collect();
            if !current.is_empty() {
                let eq = *ctx.rng.pick(&current);
                let p = if ctx.rng.coin() { &eq.a } else { &eq.b };
                let to = *ctx.rng.pick(ctx.peers);
                out.push(Send::Message(to, Message::Proposal(Box::new(p.clone()))));
            }
        }
        if self.does(Behaviour::ForgeSync) && ctx.rng.chance(300) {
            let from = ctx.chain.height().saturating_sub(ctx.rng.below(2));
            let blocks = self.forge(ctx, ctx.chain.range(from, 2));
            if !blocks.is_empty() {
                let to = *ctx.rng.pick(ctx.peers);
                out.push(Send::Sync(to, blocks));
            }
        }
        out
    }

    /// Answers a sync request: `None` means answer honestly.
    pub fn on_sync_request(
        &mut self,
        ctx: &mut Ctx<'_>,
        honest: Vec<(Block, CommitCertificate)>,
    ) -> Vec<(Block, CommitCertificate)> {
        if self.does(Behaviour::ForgeSync) && ctx.rng.chance(700) {
            self.forge(ctx, honest)
        } else {
            honest
        }
    }

    /// Tampers with committed blocks or their certificates; none of it may be accepted.
    fn forge(
        &self,
        ctx: &mut Ctx<'_>,
        blocks: Vec<(Block, CommitCertificate)>,
    ) -> Vec<(Block, CommitCertificate)> {
        let suite = ctx.suite;
        let me = ctx.my_index.unwrap_or(0);
        blocks
            .into_iter()
            .map(|(mut block, mut cert)| {
                match ctx.rng.below(6) {
                    // The real header and certificate, a transaction signature altered (the
                    // block hash does not cover signatures).
                    5 if !block.txs.is_empty() => {
                        let i = ctx.rng.index(block.txs.len());
                        if let Some(sig) = block.txs[i].signatures.first_mut() {
                            let mut bytes = *sig.signature.as_bytes();
                            bytes[ctx.rng.index(32)] ^= 1;
                            if let Ok(s) = lichen_contracts::crypto::Signature::from_bytes(
                                sig.signature.algo(),
                                &bytes,
                            ) {
                                sig.signature = s;
                            }
                        }
                    }
                    // Another block under the real certificate.
                    0 => block.header.state_root = Hash32(ctx.rng.bytes32()),
                    // Too few signatures.
                    1 => {
                        let keep = cert
                            .signatures
                            .len()
                            .saturating_sub(ctx.rng.range(1, 2) as usize);
                        cert.signatures.truncate(keep);
                    }
                    // Our own signature, repeated to look like a quorum.
                    2 => {
                        let vote = cert.vote(CHAIN_ID, &GENESIS_HASH);
                        let sig = self.key.sign(vote.signing_hash(suite).as_bytes());
                        cert.signatures = (0..4)
                            .map(|_| IndexedSignature {
                                index: me,
                                signature: sig,
                            })
                            .collect();
                    }
                    // Signatures for another view.
                    3 => cert.view += 1,
                    // A different block, certified by us alone.
                    _ => {
                        block.header.time_ms += 1;
                        let hash = block.header.hash(suite);
                        cert.block_hash = hash;
                        let vote = cert.vote(CHAIN_ID, &GENESIS_HASH);
                        cert.signatures = vec![IndexedSignature {
                            index: me,
                            signature: self.key.sign(vote.signing_hash(suite).as_bytes()),
                        }];
                    }
                }
                (block, cert)
            })
            .collect()
    }
}
