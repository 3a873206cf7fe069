//! One simulated node: a consensus core (absent while crashed), its disk, mempool and the blocks
//! it fetched but has not fed to the core yet.

use std::collections::BTreeMap;

use lichen_consensus::{Config, Core, PersistedState};
use lichen_contracts::block::{Block, CommitCertificate};
use lichen_contracts::crypto::{Hash32, PublicKey, Suite};
use lichen_contracts::testkit::test_key;
use lichen_contracts::tx::SignedTransaction;

use crate::app::{Chain, node_name};
use crate::byzantine::Byzantine;

/// Heights of synced blocks a node holds until its core reaches them, at most.
pub const SYNC_QUEUE_MAX: usize = 64;
/// Candidate blocks (from different peers) held per height, at most.
pub const SYNC_CANDIDATES_MAX: usize = 4;

/// What survives a crash.
#[derive(Clone, Debug)]
pub struct Disk {
    /// The last `Effect::Persist`.
    pub persisted: Option<PersistedState>,
    pub chain: Chain,
}

#[derive(Debug)]
pub struct Node {
    pub id: usize,
    pub name: String,
    pub key: PublicKey,
    /// None while crashed (or for a silent Byzantine node).
    pub core: Option<Core>,
    /// Bumped at every crash: events scheduled by an earlier life are void.
    pub incarnation: u64,
    pub disk: Disk,
    pub mempool: BTreeMap<Hash32, SignedTransaction>,
    /// Fetched committed blocks by height, fed to the core one at a time as it reaches them.
    pub sync_queue: BTreeMap<u64, Vec<(Block, CommitCertificate)>>,
    pub byzantine: Option<Byzantine>,
    pub crashes: u64,
}

impl Node {
    pub fn new(id: usize, suite: Suite, chain: Chain, byzantine: Option<Byzantine>) -> Self {
        let name = node_name(id);
        Node {
            id,
            key: test_key(suite, &name).public_key(),
            name,
            core: None,
            incarnation: 0,
            disk: Disk {
                persisted: None,
                chain,
            },
            mempool: BTreeMap::new(),
            sync_queue: BTreeMap::new(),
            byzantine,
            crashes: 0,
        }
    }

    pub fn is_up(&self) -> bool {
        self.core.is_some()
    }

    /// A core resuming from this node's disk (as after a restart).
    pub fn boot(&mut self, config: &Config) {
        let signer = test_key(config.suite, &self.name);
        self.core = Some(Core::new(
            config.clone(),
            Box::new(signer),
            self.disk.chain.tip(),
            self.disk.persisted.clone(),
        ));
    }

    /// Loses everything but the disk.
    pub fn crash(&mut self) {
        self.core = None;
        self.incarnation += 1;
        self.crashes += 1;
        self.mempool.clear();
        self.sync_queue.clear();
    }

    pub fn height(&self) -> u64 {
        self.disk.chain.height()
    }
}
