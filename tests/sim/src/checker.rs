//! The properties every run must keep, checked as the simulation goes:
//! (a) agreement: no two honest nodes commit different blocks at one height;
//! (b) every committed block's certificate passes `CommitCertificate::verify` with the set that
//!     signs its height;
//! (c) committed blocks are valid on the committing node's chain (which includes: every
//!     transaction's signatures verify, no transaction is committed twice) and extend it;
//! (d) no honest node broadcasts two different votes of one kind for one (height, view), nor two
//!     different proposals, nor a vote in a view below one it already left with a view change
//!     (all tracked across crashes);
//! evidence of equivocation never names an honest validator and is genuine.
//! Liveness (e) is checked by the world (it needs the clock).

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use lichen_consensus::{Evidence, Message, Proposal};
use lichen_contracts::block::{Block, CommitCertificate, VoteKind};
use lichen_contracts::codec::Encode;
use lichen_contracts::crypto::{Hash32, PublicKey, Suite};
use lichen_contracts::model::ValidatorSet;

use crate::app::{CHAIN_ID, Chain, GENESIS_HASH, SigCache};

/// Which property broke.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Violation {
    Agreement,
    Certificate,
    InvalidCommit,
    ChainBreak,
    DoubleVote,
    VoteAfterViewChange,
    DoubleProposal,
    BadEvidence,
    Codec,
    Liveness,
    Panic,
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = match self {
            Violation::Agreement => "agreement (two blocks final at one height)",
            Violation::Certificate => "commit certificate does not verify",
            Violation::InvalidCommit => "committed an invalid block",
            Violation::ChainBreak => "commit does not extend the node's chain",
            Violation::DoubleVote => "honest node sent two different votes",
            Violation::VoteAfterViewChange => "honest node voted in a view it had left",
            Violation::DoubleProposal => "honest leader sent two different proposals",
            Violation::BadEvidence => "equivocation evidence against an honest node or not genuine",
            Violation::Codec => "garbage decoded as a message",
            Violation::Liveness => "liveness (no progress after stabilisation)",
            Violation::Panic => "panic",
        };
        f.write_str(s)
    }
}

pub type Check<T = ()> = Result<T, (Violation, String)>;

fn fail<T>(v: Violation, detail: String) -> Check<T> {
    Err((v, detail))
}

fn short(h: &Hash32) -> String {
    h.to_hex()[..8].to_string()
}

#[derive(Debug)]
pub struct Checker {
    suite: Suite,
    honest: BTreeSet<usize>,
    node_by_key: BTreeMap<PublicKey, usize>,
    /// Height -> (block hash, first honest node that committed it).
    canonical: BTreeMap<u64, (Hash32, usize)>,
    certificates_ok: BTreeSet<Hash32>,
    votes: BTreeMap<(usize, VoteKind, u64, u64), Hash32>,
    proposals: BTreeMap<(usize, u64, u64), Hash32>,
    /// (node, height) -> the highest view it sent a view change for.
    left_view: BTreeMap<(usize, u64), u64>,
}

impl Checker {
    pub fn new(suite: Suite, honest: BTreeSet<usize>, keys: BTreeMap<PublicKey, usize>) -> Self {
        Checker {
            suite,
            honest,
            node_by_key: keys,
            canonical: BTreeMap::new(),
            certificates_ok: BTreeSet::new(),
            votes: BTreeMap::new(),
            proposals: BTreeMap::new(),
            left_view: BTreeMap::new(),
        }
    }

    pub fn is_honest(&self, node: usize) -> bool {
        self.honest.contains(&node)
    }

    /// The highest height any honest node committed.
    pub fn highest(&self) -> u64 {
        self.canonical.keys().next_back().copied().unwrap_or(0)
    }

    /// (d): an honest node's broadcast.
    pub fn on_broadcast(&mut self, node: usize, m: &Message) -> Check {
        if !self.is_honest(node) {
            return Ok(());
        }
        match m {
            Message::Vote(sv) => {
                let v = &sv.vote;
                if let Some(left) = self.left_view.get(&(node, v.height))
                    && v.view < *left
                {
                    return fail(
                        Violation::VoteAfterViewChange,
                        format!(
                            "node {node} sent {:?} at height {} view {} after a view change to {left}",
                            v.kind, v.height, v.view
                        ),
                    );
                }
                let key = (node, v.kind, v.height, v.view);
                match self.votes.get(&key) {
                    Some(h) if *h != v.block_hash => fail(
                        Violation::DoubleVote,
                        format!(
                            "node {node} sent {:?} for {} and for {} at height {} view {}",
                            v.kind,
                            short(h),
                            short(&v.block_hash),
                            v.height,
                            v.view
                        ),
                    ),
                    Some(_) => Ok(()),
                    None => {
                        self.votes.insert(key, v.block_hash);
                        Ok(())
                    }
                }
            }
            Message::Proposal(p) => {
                let hash = p.block.header.hash(self.suite);
                let key = (node, p.height, p.view);
                match self.proposals.get(&key) {
                    Some(h) if *h != hash => fail(
                        Violation::DoubleProposal,
                        format!(
                            "node {node} proposed {} and {} at height {} view {}",
                            short(h),
                            short(&hash),
                            p.height,
                            p.view
                        ),
                    ),
                    Some(_) => Ok(()),
                    None => {
                        self.proposals.insert(key, hash);
                        Ok(())
                    }
                }
            }
            Message::ViewChange(vc) => {
                let left = self.left_view.entry((node, vc.height)).or_insert(vc.view);
                *left = (*left).max(vc.view);
                Ok(())
            }
        }
    }

    /// (a), (b), (c) when `node` commits `block`; returns the set that signs the next block.
    pub fn on_commit(
        &mut self,
        node: usize,
        chain: &Chain,
        block: &Block,
        certificate: &CommitCertificate,
        sigs: &mut SigCache,
    ) -> Check<(ValidatorSet, bool)> {
        let suite = self.suite;
        let h = &block.header;
        let hash = h.hash(suite);
        if h.height != chain.height() + 1 || h.previous_hash != chain.last().hash {
            return fail(
                Violation::ChainBreak,
                format!(
                    "node {node} at height {} committed block {} of height {}",
                    chain.height(),
                    short(&hash),
                    h.height
                ),
            );
        }
        let set = chain.signing_set(h.height);
        let cert_id = suite.hash(
            "lichen-sim/certificate",
            &[
                hash.as_bytes(),
                &certificate.to_bytes(),
                set.hash(suite).as_bytes(),
            ],
        );
        if !self.certificates_ok.contains(&cert_id) {
            if let Err(e) = certificate.verify(suite, CHAIN_ID, &GENESIS_HASH, h, set) {
                return fail(
                    Violation::Certificate,
                    format!(
                        "node {node}: certificate of block {} at height {} (view {}, {} signers of {}): {e}",
                        short(&hash),
                        h.height,
                        certificate.view,
                        certificate.signatures.len(),
                        set.len()
                    ),
                );
            }
            self.certificates_ok.insert(cert_id);
        }
        let next = match chain.check(block, sigs) {
            Ok(next) => next,
            Err(reason) => {
                return fail(
                    Violation::InvalidCommit,
                    format!(
                        "node {node}: block {} at height {}: {reason}",
                        short(&hash),
                        h.height
                    ),
                );
            }
        };
        let mut first = false;
        if self.is_honest(node) {
            match self.canonical.get(&h.height) {
                Some((other, by)) if *other != hash => {
                    return fail(
                        Violation::Agreement,
                        format!(
                            "height {}: node {by} committed {}, node {node} committed {}",
                            h.height,
                            short(other),
                            short(&hash)
                        ),
                    );
                }
                Some(_) => {}
                None => {
                    self.canonical.insert(h.height, (hash, node));
                    first = true;
                }
            }
        }
        Ok((next, first))
    }

    /// Evidence a node reported: it must be genuine and must not name an honest validator.
    pub fn on_evidence(&self, reporter: usize, evidence: &Evidence, set: &ValidatorSet) -> Check {
        let suite = self.suite;
        let (index, genuine) = match evidence {
            Evidence::ConflictingVotes { first, second } => {
                let key = set.validators.get(usize::from(first.voter)).map(|v| &v.key);
                let same_slot = first.voter == second.voter
                    && first.vote.kind == second.vote.kind
                    && first.vote.height == second.vote.height
                    && first.vote.view == second.vote.view
                    && first.vote.block_hash != second.vote.block_hash;
                let signed = key.is_some_and(|k| {
                    k.verify(first.vote.signing_hash(suite).as_bytes(), &first.signature)
                        .is_ok()
                        && k.verify(
                            second.vote.signing_hash(suite).as_bytes(),
                            &second.signature,
                        )
                        .is_ok()
                });
                (first.voter, same_slot && signed)
            }
            Evidence::ConflictingProposals {
                proposer,
                height,
                view,
                first,
                second,
            } => {
                let key = set.validators.get(usize::from(*proposer)).map(|v| &v.key);
                let ok = |(hash, sig): &(Hash32, lichen_contracts::crypto::Signature)| {
                    key.is_some_and(|k| {
                        k.verify(
                            Proposal::signing_hash(suite, CHAIN_ID, *height, *view, hash)
                                .as_bytes(),
                            sig,
                        )
                        .is_ok()
                    })
                };
                (*proposer, first.0 != second.0 && ok(first) && ok(second))
            }
        };
        let accused = set
            .validators
            .get(usize::from(index))
            .and_then(|v| self.node_by_key.get(&v.key))
            .copied();
        if !genuine {
            return fail(
                Violation::BadEvidence,
                format!("node {reporter} reported evidence that does not hold: {evidence:?}"),
            );
        }
        if let Some(a) = accused
            && self.is_honest(a)
        {
            return fail(
                Violation::BadEvidence,
                format!("node {reporter} holds genuine evidence against honest node {a}"),
            );
        }
        Ok(())
    }
}
