//! Simulated time and the network: an event queue ordered by (time, sequence number), and a
//! message layer with seeded delays, drops, duplicates, partitions and isolated nodes.

use std::cmp::Ordering;
use std::collections::{BTreeMap, BinaryHeap};

use lichen_consensus::ExecutionError;
use lichen_contracts::block::{Block, CommitCertificate};
use lichen_contracts::crypto::Hash32;
use lichen_contracts::model::ValidatorSet;

use crate::rng::Rng;
use crate::scenario::{Options, Partition};

/// What travels between nodes.
#[derive(Clone, Debug)]
pub enum Packet {
    /// An encoded consensus message (decoded by the receiver with `Message::from_wire`).
    Consensus(Vec<u8>),
    /// "Send me your committed blocks from this height on."
    SyncRequest { from_height: u64 },
    /// Committed blocks with their certificates (an answer, or pushed by `HelpCatchUp`).
    SyncResponse(Vec<(Block, CommitCertificate)>),
}

/// Everything that can happen at a simulated instant.
#[derive(Clone, Debug)]
pub enum Event {
    Deliver {
        from: usize,
        to: usize,
        packet: Packet,
    },
    Timer {
        node: usize,
        incarnation: u64,
        height: u64,
        view: u64,
    },
    BuildProposal {
        node: usize,
        incarnation: u64,
        height: u64,
        view: u64,
    },
    Executed {
        node: usize,
        incarnation: u64,
        block_hash: Hash32,
        outcome: Result<ValidatorSet, ExecutionError>,
    },
    Crash {
        node: usize,
        down_ms: u64,
    },
    Restart {
        node: usize,
        incarnation: u64,
    },
    /// A client submits the next pool transaction.
    Submit,
    /// A Byzantine node acts on its own.
    ByzantineTick {
        node: usize,
    },
    /// The end of the fault period.
    Stabilise,
}

impl Event {
    /// A small code for the trace digest.
    pub fn code(&self) -> u64 {
        match self {
            Event::Deliver { .. } => 1,
            Event::Timer { .. } => 2,
            Event::BuildProposal { .. } => 3,
            Event::Executed { .. } => 4,
            Event::Crash { .. } => 5,
            Event::Restart { .. } => 6,
            Event::Submit => 7,
            Event::ByzantineTick { .. } => 8,
            Event::Stabilise => 9,
        }
    }
}

struct Scheduled {
    time: u64,
    seq: u64,
    event: Event,
}

impl PartialEq for Scheduled {
    fn eq(&self, other: &Self) -> bool {
        (self.time, self.seq) == (other.time, other.seq)
    }
}

impl Eq for Scheduled {}

impl PartialOrd for Scheduled {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Scheduled {
    // Reversed: `BinaryHeap` is a max-heap and the earliest (time, seq) must come out first.
    fn cmp(&self, other: &Self) -> Ordering {
        (other.time, other.seq).cmp(&(self.time, self.seq))
    }
}

/// Events by (time, sequence number): ties break by insertion order, so runs are deterministic.
#[derive(Default)]
pub struct Queue {
    heap: BinaryHeap<Scheduled>,
    seq: u64,
}

impl std::fmt::Debug for Queue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Queue({} events)", self.heap.len())
    }
}

impl Queue {
    pub fn push(&mut self, time: u64, event: Event) {
        self.seq += 1;
        self.heap.push(Scheduled {
            time,
            seq: self.seq,
            event,
        });
    }

    pub fn pop(&mut self) -> Option<(u64, Event)> {
        self.heap.pop().map(|s| (s.time, s.event))
    }

    pub fn len(&self) -> usize {
        self.heap.len()
    }

    pub fn is_empty(&self) -> bool {
        self.heap.is_empty()
    }
}

/// Counters of what the network did.
#[derive(Clone, Debug, Default)]
pub struct NetStats {
    pub sent: u64,
    pub dropped: u64,
    pub cut_off: u64,
    pub duplicated: u64,
}

/// The network's fault model. After `stabilise` it only delays (and duplicates).
#[derive(Debug)]
pub struct Network {
    delay_ms: (u64, u64),
    drop_per_mille: u32,
    commit_drop_per_mille: u32,
    duplicate_per_mille: u32,
    partitions: Vec<Partition>,
    /// Node -> cut off from everyone until this time.
    isolated: BTreeMap<usize, u64>,
    stable: bool,
    pub stats: NetStats,
}

impl Network {
    pub fn new(o: &Options) -> Self {
        Network {
            delay_ms: o.delay_ms,
            drop_per_mille: o.drop_per_mille,
            commit_drop_per_mille: o.commit_drop_per_mille,
            duplicate_per_mille: o.duplicate_per_mille,
            partitions: o.partitions.clone(),
            isolated: BTreeMap::new(),
            stable: false,
            stats: NetStats::default(),
        }
    }

    /// Heals every partition and stops drops.
    pub fn stabilise(&mut self) {
        self.stable = true;
        self.isolated.clear();
    }

    pub fn is_stable(&self) -> bool {
        self.stable
    }

    pub fn isolate(&mut self, node: usize, until: u64) {
        if !self.stable {
            self.isolated.insert(node, until);
        }
    }

    pub fn connected(&self, now: u64, a: usize, b: usize) -> bool {
        if self.stable {
            return true;
        }
        let cut = |n: &usize| self.isolated.get(n).is_some_and(|until| now < *until);
        if cut(&a) || cut(&b) {
            return false;
        }
        !self.partitions.iter().any(|p| {
            p.start_ms <= now && now < p.end_ms && p.side.contains(&a) != p.side.contains(&b)
        })
    }

    pub fn delay(&self, rng: &mut Rng) -> u64 {
        rng.range(self.delay_ms.0, self.delay_ms.1)
    }

    /// Sends `packet`; `commit_vote` marks packets subject to the extra commit-vote drop rate.
    #[allow(clippy::too_many_arguments)]
    pub fn send(
        &mut self,
        rng: &mut Rng,
        queue: &mut Queue,
        now: u64,
        from: usize,
        to: usize,
        packet: Packet,
        commit_vote: bool,
    ) {
        self.stats.sent += 1;
        if !self.connected(now, from, to) {
            self.stats.cut_off += 1;
            return;
        }
        if !self.stable
            && (rng.chance(self.drop_per_mille)
                || (commit_vote && rng.chance(self.commit_drop_per_mille)))
        {
            self.stats.dropped += 1;
            return;
        }
        if rng.chance(self.duplicate_per_mille) {
            self.stats.duplicated += 1;
            let later = now + self.delay(rng) + self.delay(rng);
            queue.push(
                later,
                Event::Deliver {
                    from,
                    to,
                    packet: packet.clone(),
                },
            );
        }
        let at = now + self.delay(rng);
        queue.push(at, Event::Deliver { from, to, packet });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queue_orders_by_time_then_insertion() {
        let mut q = Queue::default();
        q.push(5, Event::Submit);
        q.push(1, Event::Stabilise);
        q.push(5, Event::ByzantineTick { node: 1 });
        q.push(1, Event::ByzantineTick { node: 2 });
        let order: Vec<(u64, u64)> = std::iter::from_fn(|| q.pop())
            .map(|(t, e)| (t, e.code()))
            .collect();
        assert_eq!(order, vec![(1, 9), (1, 8), (5, 7), (5, 8)]);
    }
}
