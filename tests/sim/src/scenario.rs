//! What one run does, drawn from its seed: the fault mix (a "scenario"), the network, crashes,
//! partitions and Byzantine validators. Printed in full when a run fails.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

#[cfg(feature = "mutations")]
use lichen_consensus::Mutation;
use lichen_contracts::crypto::Suite;
use lichen_contracts::model::ChainParams;

use crate::rng::Rng;

/// The consensus timeouts the simulator runs with (smaller than `ChainParams::DEFAULT`, so that
/// runs are short; the simulated network's delays are at most 60 ms).
pub const SIM_PARAMS: ChainParams = ChainParams {
    view_timeout_base_ms: 300,
    view_timeout_step_ms: 150,
    view_timeout_max_ms: 2_400,
    block_interval_ms: 20,
    block_txs_max: 8,
    block_bytes_max: 1024 * 1024,
    tx_expiry_blocks_max: 1_000,
};

/// New blocks every honest node must commit after stabilisation (liveness).
pub const LIVENESS_BLOCKS: u64 = 3;

/// The family of faults a run injects.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug)]
pub enum Scenario {
    /// Delays only.
    Calm,
    /// Drops and duplicates.
    Lossy,
    /// Partitions that split the nodes for a while and heal.
    Partitions,
    /// Honest nodes crash (also in the middle of a step's effects) and restart.
    Crashes,
    /// f Byzantine validators with random behaviours.
    Byzantine,
    /// Commit votes are lost and a node that decides first is cut off: a block becomes final
    /// at a minority while the others change view.
    MinorityCommit,
    /// Equivocating leaders, and honest nodes that crash right after a vote leaves them.
    CrashAfterVote,
    /// Validator-set changes (a spare node is added and removed by council transactions),
    /// with crashes and drops.
    Reconfigure,
    /// A bit of everything.
    Chaos,
}

impl Scenario {
    pub const ALL: [Scenario; 9] = [
        Scenario::Calm,
        Scenario::Lossy,
        Scenario::Partitions,
        Scenario::Crashes,
        Scenario::Byzantine,
        Scenario::MinorityCommit,
        Scenario::CrashAfterVote,
        Scenario::Reconfigure,
        Scenario::Chaos,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Scenario::Calm => "calm",
            Scenario::Lossy => "lossy",
            Scenario::Partitions => "partitions",
            Scenario::Crashes => "crashes",
            Scenario::Byzantine => "byzantine",
            Scenario::MinorityCommit => "minority-commit",
            Scenario::CrashAfterVote => "crash-after-vote",
            Scenario::Reconfigure => "reconfigure",
            Scenario::Chaos => "chaos",
        }
    }

    pub fn from_name(name: &str) -> Option<Self> {
        Scenario::ALL.into_iter().find(|s| s.name() == name)
    }
}

/// What a Byzantine validator does. A `Silent` one sends nothing; the others run a real core
/// and distort what it sends, plus what they do on their own timer ("tick").
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug)]
pub enum Behaviour {
    /// Never sends anything.
    Silent,
    /// As leader, proposes two validly signed blocks to two halves of the network, votes for
    /// both, and keeps re-sending the other one to random peers.
    Equivocate,
    /// Votes for random block hashes at its height, views around its own.
    RandomVotes,
    /// View changes, votes and proposals for views far ahead (up to u64::MAX).
    FutureViews,
    /// Random bytes and truncated / extended / bit-flipped copies of real messages.
    Garbage,
    /// Re-sends old messages it received, to random peers.
    Replay,
    /// Answers sync requests (and pushes unasked) with forged blocks and certificates.
    ForgeSync,
    /// As leader, proposes blocks that fail execution (bad signature, replayed transaction,
    /// wrong state root).
    InvalidBlocks,
    /// Sends each message to a random subset of peers only.
    Selective,
    /// As leader of a view change, picks the quorum of view changes that hides the highest
    /// prepared certificates it can, and proposes what that subset allows.
    HidePrepared,
}

impl Behaviour {
    pub const ACTIVE: [Behaviour; 9] = [
        Behaviour::HidePrepared,
        Behaviour::Equivocate,
        Behaviour::RandomVotes,
        Behaviour::FutureViews,
        Behaviour::Garbage,
        Behaviour::Replay,
        Behaviour::ForgeSync,
        Behaviour::InvalidBlocks,
        Behaviour::Selective,
    ];
}

/// Nodes in `side` cannot talk to the others from `start_ms` until `end_ms`.
#[derive(Clone, Debug)]
pub struct Partition {
    pub start_ms: u64,
    pub end_ms: u64,
    pub side: BTreeSet<usize>,
}

/// Node `node` crashes at `at_ms` and restarts `down_ms` later.
#[derive(Clone, Debug)]
pub struct Crash {
    pub node: usize,
    pub at_ms: u64,
    pub down_ms: u64,
}

/// Knobs chosen by the caller (the rest is drawn from the seed).
#[derive(Clone, Debug)]
pub struct Settings {
    pub validators: usize,
    pub suite: Suite,
    /// None: drawn from the seed.
    pub scenario: Option<Scenario>,
    /// Print every event to stderr.
    pub trace: bool,
    /// Run this long with no liveness early stop and report throughput (for `--stats`).
    pub fixed_duration_ms: Option<u64>,
    #[cfg(feature = "mutations")]
    pub mutation: Option<Mutation>,
}

impl Settings {
    pub fn new(validators: usize) -> Self {
        Settings {
            validators,
            suite: Suite::Intl,
            scenario: None,
            trace: false,
            fixed_duration_ms: None,
            #[cfg(feature = "mutations")]
            mutation: None,
        }
    }
}

/// Everything one run does, drawn from its seed.
#[derive(Clone, Debug)]
pub struct Options {
    pub seed: u64,
    pub validators: usize,
    /// Validators plus a spare node (validator-n) for `Reconfigure`.
    pub nodes: usize,
    pub suite: Suite,
    pub scenario: Scenario,
    pub params: ChainParams,
    pub delay_ms: (u64, u64),
    pub drop_per_mille: u32,
    /// Extra drop rate for commit votes.
    pub commit_drop_per_mille: u32,
    pub duplicate_per_mille: u32,
    pub partitions: Vec<Partition>,
    pub crashes: Vec<Crash>,
    /// Chance that an honest node crashes during a step, at a random point of its effect list.
    pub crash_in_step_per_mille: u32,
    /// Chance that an honest node crashes right after a vote it broadcast.
    pub crash_after_vote_per_mille: u32,
    /// Downtime of the two random crash kinds above.
    pub random_down_ms: (u64, u64),
    /// Chance that the first honest node to commit a height is cut off from all others.
    pub isolate_on_commit_per_mille: u32,
    pub isolate_ms: (u64, u64),
    /// Byzantine nodes and what they do.
    pub byzantine: BTreeMap<usize, BTreeSet<Behaviour>>,
    /// Submit a pool transaction every this many ms.
    pub tx_interval_ms: u64,
    /// Council transactions adding and removing the spare node.
    pub reconfigure: bool,
    /// From here on: no drops, partitions or new crashes, and every crashed honest node is
    /// restarted.
    pub stabilise_at_ms: u64,
    /// After stabilisation, every honest node must commit `LIVENESS_BLOCKS` blocks beyond the
    /// highest height any honest node had then, within this many ms.
    pub liveness_bound_ms: u64,
    pub trace: bool,
    pub fixed_duration_ms: Option<u64>,
    #[cfg(feature = "mutations")]
    pub mutation: Option<Mutation>,
}

impl Options {
    pub fn draw(seed: u64, settings: &Settings) -> Options {
        let mut r = Rng::new(seed ^ 0x6F70_7469_6F6E_7321);
        let n = settings.validators.max(1);
        let f = (n - 1) / 3;
        // Drawn even when the caller names a scenario, so that naming the drawn one replays
        // exactly the same run.
        let drawn = {
            // Chaos and the targeted scenarios get more weight.
            const WEIGHTED: [Scenario; 15] = [
                Scenario::Calm,
                Scenario::Lossy,
                Scenario::Partitions,
                Scenario::Crashes,
                Scenario::Byzantine,
                Scenario::Byzantine,
                Scenario::MinorityCommit,
                Scenario::MinorityCommit,
                Scenario::MinorityCommit,
                Scenario::CrashAfterVote,
                Scenario::CrashAfterVote,
                Scenario::Reconfigure,
                Scenario::Chaos,
                Scenario::Chaos,
                Scenario::Chaos,
            ];
            *r.pick(&WEIGHTED)
        };
        let scenario = settings.scenario.unwrap_or(drawn);
        let params = SIM_PARAMS;
        let stabilise_at_ms = r.range(2_000, 6_000);
        let mut o = Options {
            seed,
            validators: n,
            nodes: n,
            suite: settings.suite,
            scenario,
            params,
            delay_ms: (1, r.range(5, 60)),
            drop_per_mille: 0,
            commit_drop_per_mille: 0,
            duplicate_per_mille: 0,
            partitions: Vec::new(),
            crashes: Vec::new(),
            crash_in_step_per_mille: 0,
            crash_after_vote_per_mille: 0,
            random_down_ms: (20, 1_000),
            isolate_on_commit_per_mille: 0,
            isolate_ms: (300, 2_000),
            byzantine: BTreeMap::new(),
            tx_interval_ms: r.range(5, 40),
            reconfigure: false,
            stabilise_at_ms,
            liveness_bound_ms: 0,
            trace: settings.trace,
            fixed_duration_ms: settings.fixed_duration_ms,
            #[cfg(feature = "mutations")]
            mutation: settings.mutation,
        };
        match scenario {
            Scenario::Calm => {
                o.delay_ms = (1, r.range(2, 20));
            }
            Scenario::Lossy => {
                o.drop_per_mille = r.range(20, 250) as u32;
                o.duplicate_per_mille = r.range(0, 150) as u32;
            }
            Scenario::Partitions => {
                o.drop_per_mille = r.range(0, 30) as u32;
                o.partitions = draw_partitions(&mut r, n, stabilise_at_ms, 1, 4);
                // Half the time f validators are silent, so that a quorum needs every honest
                // node: views that drift apart during a partition must converge after it.
                if r.coin() {
                    o.byzantine = draw_byzantine(&mut r, n, f, Some(Behaviour::Silent));
                }
            }
            Scenario::Crashes => {
                o.drop_per_mille = r.range(0, 30) as u32;
                o.crashes = draw_crashes(&mut r, n, stabilise_at_ms, 1, 2 * n);
                o.crash_in_step_per_mille = r.range(1, 15) as u32;
            }
            Scenario::Byzantine => {
                o.drop_per_mille = r.range(0, 50) as u32;
                o.duplicate_per_mille = r.range(0, 100) as u32;
                o.byzantine = draw_byzantine(&mut r, n, f.max(usize::from(f > 0)), None);
            }
            Scenario::MinorityCommit => {
                o.commit_drop_per_mille = r.range(300, 700) as u32;
                o.isolate_on_commit_per_mille = r.range(700, 1000) as u32;
                o.isolate_ms = (300, r.range(500, 4_000));
                // A quarter of the runs have f silent validators: the others cannot move on
                // without the cut-off node, which meanwhile runs ahead alone through the views
                // of the next height; after the heal, views must converge. Otherwise, with 7
                // validators, Byzantine ones that send to some peers only make minority quorums
                // likelier (with 4 validators they make them rarer).
                if r.below(4) == 0 {
                    o.byzantine = draw_byzantine(&mut r, n, f, Some(Behaviour::Silent));
                } else if n >= 7 && r.coin() {
                    o.byzantine = draw_byzantine(&mut r, n, f, Some(Behaviour::Selective));
                    for b in o.byzantine.values_mut() {
                        b.insert(Behaviour::HidePrepared);
                    }
                }
            }
            Scenario::CrashAfterVote => {
                o.drop_per_mille = r.range(0, 30) as u32;
                o.byzantine = draw_byzantine(&mut r, n, f, Some(Behaviour::Equivocate));
                o.crash_after_vote_per_mille = r.range(30, 150) as u32;
                o.random_down_ms = (5, r.range(20, 150));
            }
            Scenario::Reconfigure => {
                o.reconfigure = true;
                o.drop_per_mille = r.range(0, 50) as u32;
                o.crashes = draw_crashes(&mut r, n + 1, stabilise_at_ms, 0, n);
                o.crash_in_step_per_mille = r.range(0, 5) as u32;
                let count = r.below(f as u64 + 1) as usize;
                o.byzantine = draw_byzantine(&mut r, n, count, None);
            }
            Scenario::Chaos => {
                o.reconfigure = r.chance(300);
                o.drop_per_mille = r.range(0, 100) as u32;
                o.duplicate_per_mille = r.range(0, 100) as u32;
                o.commit_drop_per_mille = r.range(0, 300) as u32;
                let nodes = n + usize::from(o.reconfigure);
                o.partitions = draw_partitions(&mut r, nodes, stabilise_at_ms, 0, 2);
                o.crashes = draw_crashes(&mut r, nodes, stabilise_at_ms, 0, n);
                o.crash_in_step_per_mille = r.range(0, 5) as u32;
                o.crash_after_vote_per_mille = r.range(0, 30) as u32;
                o.isolate_on_commit_per_mille = r.range(0, 300) as u32;
                o.byzantine = draw_byzantine(&mut r, n, f, None);
            }
        }
        if o.reconfigure {
            o.nodes = n + 1;
        }
        // Byzantine nodes do not crash (a silent one is as good as crashed).
        o.crashes.retain(|c| !o.byzantine.contains_key(&c.node));
        let max = params.view_timeout_max_ms;
        o.liveness_bound_ms = (LIVENESS_BLOCKS + 2) * (f as u64 + 2) * max + 2_000;
        o
    }

    pub fn is_honest(&self, node: usize) -> bool {
        !self.byzantine.contains_key(&node)
    }

    pub fn faults(&self) -> usize {
        (self.validators - 1) / 3
    }
}

fn draw_partitions(
    r: &mut Rng,
    nodes: usize,
    until: u64,
    min: usize,
    max: usize,
) -> Vec<Partition> {
    if nodes < 2 {
        return Vec::new();
    }
    let count = r.range(min as u64, max as u64);
    (0..count)
        .map(|_| {
            let start_ms = r.below(until);
            let end_ms = (start_ms + r.range(200, 4_000)).min(until);
            let mut ids: Vec<usize> = (0..nodes).collect();
            r.shuffle(&mut ids);
            let cut = r.range(1, nodes as u64 - 1) as usize;
            Partition {
                start_ms,
                end_ms,
                side: ids[..cut].iter().copied().collect(),
            }
        })
        .collect()
}

fn draw_crashes(r: &mut Rng, nodes: usize, until: u64, min: usize, max: usize) -> Vec<Crash> {
    let count = r.range(min as u64, max as u64);
    let mut crashes: Vec<Crash> = (0..count)
        .map(|_| Crash {
            node: r.index(nodes),
            at_ms: r.below(until),
            down_ms: r.range(20, 1_500),
        })
        .collect();
    crashes.sort_by_key(|c| c.at_ms);
    crashes
}

fn draw_byzantine(
    r: &mut Rng,
    validators: usize,
    count: usize,
    only: Option<Behaviour>,
) -> BTreeMap<usize, BTreeSet<Behaviour>> {
    let mut ids: Vec<usize> = (0..validators).collect();
    r.shuffle(&mut ids);
    ids.into_iter()
        .take(count)
        .map(|id| {
            let behaviours = match only {
                Some(b) => {
                    let mut set = BTreeSet::from([b]);
                    if b == Behaviour::Equivocate && r.coin() {
                        set.insert(Behaviour::Replay);
                    }
                    set
                }
                None if r.chance(200) => BTreeSet::from([Behaviour::Silent]),
                None => {
                    let mut set: BTreeSet<Behaviour> =
                        Behaviour::ACTIVE.into_iter().filter(|_| r.coin()).collect();
                    if set.is_empty() {
                        set.insert(*r.pick(&Behaviour::ACTIVE));
                    }
                    set
                }
            };
            (id, behaviours)
        })
        .collect()
}

impl fmt::Display for Options {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "seed {} | {} validators ({} nodes), suite {}, scenario {}",
            self.seed,
            self.validators,
            self.nodes,
            self.suite.name(),
            self.scenario.name()
        )?;
        #[cfg(feature = "mutations")]
        if let Some(m) = self.mutation {
            writeln!(f, "  planted bug: {m:?}")?;
        }
        writeln!(
            f,
            "  delay {}..={} ms, drop {}‰, commit-vote drop {}‰, duplicate {}‰, tx every {} ms",
            self.delay_ms.0,
            self.delay_ms.1,
            self.drop_per_mille,
            self.commit_drop_per_mille,
            self.duplicate_per_mille,
            self.tx_interval_ms
        )?;
        for p in &self.partitions {
            writeln!(
                f,
                "  partition {:?} | rest, {}..{} ms",
                p.side, p.start_ms, p.end_ms
            )?;
        }
        for c in &self.crashes {
            writeln!(
                f,
                "  crash node {} at {} ms for {} ms",
                c.node, c.at_ms, c.down_ms
            )?;
        }
        writeln!(
            f,
            "  crash in step {}‰, crash after vote {}‰ (down {}..={} ms), isolate first committer {}‰ ({}..={} ms)",
            self.crash_in_step_per_mille,
            self.crash_after_vote_per_mille,
            self.random_down_ms.0,
            self.random_down_ms.1,
            self.isolate_on_commit_per_mille,
            self.isolate_ms.0,
            self.isolate_ms.1
        )?;
        for (node, b) in &self.byzantine {
            writeln!(f, "  byzantine node {node}: {b:?}")?;
        }
        if self.reconfigure {
            writeln!(
                f,
                "  reconfigure: node {} is added and removed by council transactions",
                self.validators
            )?;
        }
        write!(
            f,
            "  stabilise at {} ms, then {} new blocks within {} ms",
            self.stabilise_at_ms, LIVENESS_BLOCKS, self.liveness_bound_ms
        )
    }
}
