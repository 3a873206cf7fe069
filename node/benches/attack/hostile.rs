//! The hostile validator of the attack harness: one of the four validators keeps running its
//! honest node (so the chain keeps four voters and no leader turn is lost to silence unless the
//! others cut it off), and from threads of this process it also sends, as that node (its libp2p
//! identity, through `NetworkHandle::raw`, a hook only the `attack` feature builds) and signed
//! with its consensus key, what a Byzantine validator would:
//!
//! - `vote-flood`: prepares and commits for the current height and views, each new one for a
//!   block no one proposed (equivocation, a signature to verify the first time), each resent many
//!   times (duplicates);
//! - `future-flood`: votes, view changes and proposals (blocks of the junk transactions, about
//!   half a megabyte) for the next four heights and their views, all validly signed;
//! - `junk-block`: whenever it leads view 0, a proposal sent as soon as the previous block is
//!   committed (before its own node's), of `JUNK_BLOCK_TXS` transactions with valid signatures
//!   by keys no entity holds;
//! - `peer-flood`: block sync requests from height 1, catch-up pushes of garbage and forwarded
//!   batches of garbage transactions.
//!
//! Every attack sends at most `RATE_PER_S` requests a second: the attacker's signing runs on the
//! same two cores as the honest nodes, and a real attacker's would not.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use lichen_consensus::{Message, PreparedCertificate, Proposal, SignedVote, ViewChange};
use lichen_contracts::block::{Block, BlockHeader, HEADER_VERSION, Vote, VoteKind, tx_root};
use lichen_contracts::codec::Encode;
use lichen_contracts::crypto::{Hash32, SecretKey, Suite};
use lichen_contracts::testkit::TestChain;
use lichen_contracts::tx::{Payload, SignedTransaction, Transaction};
use lichen_node::chain::Chain;
use lichen_node::net::wire::Request;
use lichen_node::service::RunningNode;
use tokio::sync::mpsc;

use super::{bytes32, junk_bytes};

/// Requests each attack sends per second, at most.
const RATE_PER_S: u64 = 4_000;
/// Transactions in a junk block.
pub const JUNK_BLOCK_TXS: usize = 2_000;

/// The hostile validator: its node's handles and its keys.
pub struct Hostile {
    raw: mpsc::Sender<Request>,
    chain: Arc<Chain>,
    key: SecretKey,
    index: u16,
    validators: u64,
    suite: Suite,
    chain_id: String,
    genesis_hash: Hash32,
}

impl Hostile {
    /// Validator `name` of `chain`, running as `node`.
    pub fn new(chain: &TestChain, name: &str, node: &RunningNode) -> Hostile {
        let key = chain.owned_key(name);
        let set = &chain.genesis.validators;
        let index = set
            .validators
            .iter()
            .position(|v| v.key == key.public_key())
            .expect("validator in genesis") as u16;
        Hostile {
            raw: node.network.as_ref().expect("on a network").raw.clone(),
            chain: node.chain.clone(),
            key,
            index,
            validators: set.validators.len() as u64,
            suite: chain.suite,
            chain_id: chain.chain_id().to_string(),
            genesis_hash: chain.genesis.hash(),
        }
    }

    /// The height being decided now (one past its node's tip).
    fn height(&self) -> u64 {
        self.chain.tip().map(|t| t.height + 1).unwrap_or(1)
    }

    fn vote(&self, kind: VoteKind, height: u64, view: u64, block_hash: Hash32) -> Message {
        let vote = Vote {
            kind,
            chain_id: self.chain_id.clone(),
            genesis_hash: self.genesis_hash,
            height,
            view,
            block_hash,
        };
        let signature = self.key.sign(vote.signing_hash(self.suite).as_bytes());
        Message::Vote(SignedVote {
            vote,
            voter: self.index,
            signature,
        })
    }

    fn view_change(&self, height: u64, view: u64) -> Message {
        let hash = ViewChange::signing_hash(self.suite, &self.chain_id, height, view, None);
        Message::ViewChange(Box::new(ViewChange {
            height,
            view,
            prepared: None::<PreparedCertificate>,
            block: None,
            voter: self.index,
            signature: self.key.sign(hash.as_bytes()),
        }))
    }

    /// A block at `height` in `view` with `txs`, on top of its node's tip (for a later height,
    /// on top of a made-up parent), proposed and signed by it.
    fn proposal(&self, height: u64, view: u64, txs: Vec<SignedTransaction>) -> Message {
        let tip = self.chain.tip_header().ok();
        let (previous_hash, parent_time) = match &tip {
            Some(t) if t.height + 1 == height => (t.hash(self.suite), t.time_ms),
            _ => (Hash32(bytes32(height)), 0),
        };
        let set_hash = self
            .chain
            .next_validators()
            .map(|s| s.hash(self.suite))
            .unwrap_or(Hash32([0; 32]));
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis() as u64)
            .unwrap_or(0);
        let header = BlockHeader {
            version: HEADER_VERSION,
            chain_id: self.chain_id.clone(),
            height,
            time_ms: now.max(parent_time + 1),
            view,
            previous_hash,
            tx_count: txs.len() as u32,
            tx_root: tx_root(self.suite, &txs),
            state_root: Hash32([0x5a; 32]),
            validator_set_hash: set_hash,
            next_validator_set_hash: set_hash,
            proposer: self.index,
        };
        let block = Block { header, txs };
        let hash = block.header.hash(self.suite);
        let signing = Proposal::signing_hash(self.suite, &self.chain_id, height, view, &hash);
        Message::Proposal(Box::new(Proposal {
            height,
            view,
            block,
            justification: Vec::new(),
            proposer: self.index,
            signature: self.key.sign(signing.as_bytes()),
        }))
    }

    /// Sends `request` as its node; false once the node is gone.
    fn send(&self, request: Request) -> bool {
        self.raw.blocking_send(request).is_ok()
    }

    fn send_message(&self, message: &Message) -> bool {
        self.send(Request::Consensus(message.to_bytes()))
    }
}

/// Evidence anchors each signed by a key no entity holds (valid signatures): `count` of them,
/// distinct by `seed`.
pub fn unregistered_txs(chain: &TestChain, count: usize, seed: u64) -> Vec<SignedTransaction> {
    let suite = chain.suite;
    (0..count as u64)
        .map(|i| {
            let key = SecretKey::from_bytes(suite.sig_algo(), &bytes32(seed + i + 1)).unwrap();
            let tx = Transaction {
                chain_id: chain.chain_id().to_string(),
                nonce: i,
                expires_at_height: 1_000_000,
                payload: Payload::AnchorEvidence {
                    hash: Hash32(bytes32(seed + 1_000_000 + i)),
                    submitter: "court-1".into(),
                    label: String::new(),
                },
            };
            SignedTransaction {
                signatures: vec![tx.sign(suite, &key)],
                tx,
            }
        })
        .collect()
}

/// Sends as the hostile validator at most `RATE_PER_S` requests a second, counting them.
struct Paced<'a> {
    hostile: &'a Hostile,
    started: Instant,
    sent: u64,
}

impl Paced<'_> {
    /// Sends `request` (waiting for its turn); false once the node is gone.
    fn send(&mut self, request: Request) -> bool {
        if !self.hostile.send(request) {
            return false;
        }
        self.sent += 1;
        let due = self.started + Duration::from_micros(self.sent * 1_000_000 / RATE_PER_S);
        if let Some(wait) = due.checked_duration_since(Instant::now()) {
            std::thread::sleep(wait);
        }
        true
    }

    /// Sends each message in turn; false once the node is gone.
    fn send_all<'m>(&mut self, messages: impl IntoIterator<Item = &'m Message>) -> bool {
        messages
            .into_iter()
            .all(|m| self.send(Request::Consensus(m.to_bytes())))
    }
}

/// Runs attack `name` from `hostile` until `stop` (or its node is gone); returns what it sent,
/// by kind.
pub fn run(
    name: &'static str,
    hostile: Arc<Hostile>,
    junk_block: Arc<Vec<SignedTransaction>>,
    stop: Arc<AtomicBool>,
) -> std::thread::JoinHandle<Vec<(String, u64)>> {
    std::thread::spawn(move || {
        let mut tally: std::collections::BTreeMap<String, u64> = Default::default();
        let mut note = |what: &str, n: u64| *tally.entry(what.to_string()).or_default() += n;
        let mut paced = Paced {
            hostile: &hostile,
            started: Instant::now(),
            sent: 0,
        };
        let mut seed = 1u64;
        let mut last_led = 0u64;
        while !stop.load(Ordering::Relaxed) {
            let height = hostile.height();
            seed += 1;
            let alive = match name {
                "vote-flood" => {
                    // Two fresh conflicting votes (a signature each to verify, the first time),
                    // then each resent 20 times.
                    let fresh = [
                        hostile.vote(VoteKind::Prepare, height, 0, Hash32(bytes32(seed))),
                        hostile.vote(VoteKind::Commit, height, 0, Hash32(bytes32(seed))),
                    ];
                    note("conflicting votes", 2);
                    note("resent votes", 38);
                    (0..20).all(|_| paced.send_all(&fresh))
                }
                "future-flood" => {
                    let (ahead, view) = (1 + seed % 4, seed % 9);
                    let hash = Hash32(bytes32(seed));
                    let mut messages = vec![
                        hostile.vote(VoteKind::Prepare, height + ahead, view, hash),
                        hostile.vote(VoteKind::Commit, height + ahead, view, hash),
                        hostile.view_change(height + ahead, view + 1),
                    ];
                    note("future votes and view changes", 3);
                    if seed.is_multiple_of(16) {
                        // A large block for a later height (never executed: it can only wait
                        // in the buffer, within its signer's share).
                        messages.push(hostile.proposal(height + ahead, view, junk_block.to_vec()));
                        note("future proposals", 1);
                    }
                    paced.send_all(&messages)
                }
                "junk-block" => {
                    let leads = (height % hostile.validators) as u16 == hostile.index;
                    let mut alive = true;
                    if leads && last_led != height {
                        last_led = height;
                        note("junk blocks proposed", 1);
                        alive =
                            hostile.send_message(&hostile.proposal(height, 0, junk_block.to_vec()));
                    }
                    std::thread::sleep(Duration::from_millis(2));
                    alive
                }
                "forged-proposals" => {
                    // At each new height it does not lead: three copies of "the leader's"
                    // proposal (the leader's index, this validator's signature), sent as soon
                    // as its node moves on, to use up the view's allowance of decoded copies
                    // before the leader's own proposal arrives.
                    let leader = (height % hostile.validators) as u16;
                    let mut alive = true;
                    if leader != hostile.index && last_led != height {
                        last_led = height;
                        let Message::Proposal(mut forged) = hostile.proposal(height, 0, Vec::new())
                        else {
                            unreachable!("a proposal")
                        };
                        forged.proposer = leader;
                        let forged = Message::Proposal(forged);
                        note("forged proposals", 3);
                        alive = (0..3).all(|_| hostile.send_message(&forged));
                    }
                    std::thread::sleep(Duration::from_millis(1));
                    alive
                }
                "peer-flood" => {
                    note("sync requests, junk catch-ups, junk batches", 3);
                    [
                        Request::SyncFrom {
                            from_height: 1,
                            blocks_max: 32,
                        },
                        Request::CatchUp(junk_bytes(64 * 1024, seed)),
                        Request::Transactions(
                            (0..16).map(|i| junk_bytes(512, seed * 16 + i)).collect(),
                        ),
                    ]
                    .into_iter()
                    .all(|r| paced.send(r))
                }
                other => panic!("no hostile-validator attack named {other}"),
            };
            if !alive {
                break;
            }
        }
        tally.into_iter().collect()
    })
}
