//! A fair queue of peers' inputs for the runtime: each peer has its own bounded queue, and the
//! runtime is fed from them in turn. One peer's flood fills only its own queue (and is dropped
//! there); it cannot push honest peers' messages out of the runtime's single input channel.

use std::collections::{BTreeMap, VecDeque};

use libp2p::PeerId;

/// Inputs waiting per peer, at most; more from that peer are dropped until it drains.
pub const INPUTS_PER_PEER_MAX: usize = 256;

/// Per-peer FIFO queues, drained round-robin.
#[derive(Debug)]
pub struct FairQueue<T> {
    queues: BTreeMap<PeerId, VecDeque<T>>,
    /// The peer served last: the next turn goes to the first peer after it.
    last: Option<PeerId>,
    per_peer_max: usize,
    len: usize,
}

impl<T> Default for FairQueue<T> {
    fn default() -> Self {
        Self::new(INPUTS_PER_PEER_MAX)
    }
}

impl<T> FairQueue<T> {
    pub fn new(per_peer_max: usize) -> Self {
        FairQueue {
            queues: BTreeMap::new(),
            last: None,
            per_peer_max: per_peer_max.max(1),
            len: 0,
        }
    }

    /// Queues `item` from `peer`; false (and dropped) if that peer's queue is full.
    pub fn push(&mut self, peer: PeerId, item: T) -> bool {
        let queue = self.queues.entry(peer).or_default();
        if queue.len() >= self.per_peer_max {
            return false;
        }
        queue.push_back(item);
        self.len += 1;
        true
    }

    /// The next item: the oldest of the next peer in turn that has one.
    pub fn pop(&mut self) -> Option<(PeerId, T)> {
        let after = self.last.and_then(|last| {
            self.queues
                .range((std::ops::Bound::Excluded(last), std::ops::Bound::Unbounded))
                .map(|(p, _)| *p)
                .next()
        });
        let peer = after.or_else(|| self.queues.keys().next().copied())?;
        let queue = self.queues.get_mut(&peer)?;
        let item = queue.pop_front()?;
        if queue.is_empty() {
            self.queues.remove(&peer);
        }
        self.len -= 1;
        self.last = Some(peer);
        Some((peer, item))
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_flooding_peer_fills_only_its_own_queue_and_peers_take_turns() {
        let flooder = PeerId::random();
        let honest = PeerId::random();
        let other = PeerId::random();
        let mut q = FairQueue::new(4);
        let accepted = (0..1_000).filter(|i| q.push(flooder, *i)).count();
        assert_eq!(accepted, 4);
        for i in 0..3 {
            assert!(q.push(honest, 100 + i));
        }
        assert!(q.push(other, 200));
        let mut order = Vec::new();
        while let Some((peer, item)) = q.pop() {
            order.push((peer, item));
        }
        assert!(q.is_empty());
        assert_eq!(order.len(), 8);
        // Every honest input comes out, each peer's in its own order, and no peer is served
        // twice in a row while another waits.
        let of = |p: PeerId| -> Vec<i32> {
            order
                .iter()
                .filter(|(q, _)| *q == p)
                .map(|(_, i)| *i)
                .collect()
        };
        assert_eq!(of(honest), [100, 101, 102]);
        assert_eq!(of(other), [200]);
        assert_eq!(of(flooder), [0, 1, 2, 3]);
        let first_round: std::collections::BTreeSet<PeerId> =
            order[..3].iter().map(|(p, _)| *p).collect();
        assert_eq!(first_round.len(), 3, "{order:?}");
        // Drained, a peer may queue again.
        assert!(q.push(flooder, 5));
    }
}
