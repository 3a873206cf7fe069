//! A fair queue of peers' inputs for the runtime: each peer has its own queue, bounded in
//! messages and in bytes, and the runtime is fed from them in turn. One peer's flood fills only
//! its own queue (and is dropped there); it cannot push honest peers' messages out of the
//! runtime's single input channel, nor hold more than its share of memory.

use std::collections::{BTreeMap, VecDeque};

use libp2p::PeerId;

/// Inputs waiting per peer, at most; more from that peer are dropped until it drains.
pub const INPUTS_PER_PEER_MAX: usize = 256;
/// Their bytes (as they came off the wire), at most; an input alone in its peer's queue is
/// taken whatever its size (up to a frame's limit).
pub const INPUT_BYTES_PER_PEER_MAX: usize = 64 * 1024 * 1024;

/// Per-peer FIFO queues, drained round-robin.
#[derive(Debug)]
pub struct FairQueue<T> {
    queues: BTreeMap<PeerId, PeerQueue<T>>,
    /// The peer served last: the next turn goes to the first peer after it.
    last: Option<PeerId>,
    per_peer_max: usize,
    per_peer_bytes_max: usize,
}

/// One peer's inputs, each with its bytes, and their sum.
#[derive(Debug)]
struct PeerQueue<T> {
    items: VecDeque<(T, usize)>,
    bytes: usize,
}

impl<T> Default for FairQueue<T> {
    fn default() -> Self {
        Self::new(INPUTS_PER_PEER_MAX, INPUT_BYTES_PER_PEER_MAX)
    }
}

impl<T> FairQueue<T> {
    pub fn new(per_peer_max: usize, per_peer_bytes_max: usize) -> Self {
        FairQueue {
            queues: BTreeMap::new(),
            last: None,
            per_peer_max: per_peer_max.max(1),
            per_peer_bytes_max,
        }
    }

    /// Queues `item` of `bytes` from `peer`; false (and dropped) if that peer's queue is full,
    /// in count or in bytes.
    pub fn push(&mut self, peer: PeerId, item: T, bytes: usize) -> bool {
        let queue = self.queues.entry(peer).or_insert_with(|| PeerQueue {
            items: VecDeque::new(),
            bytes: 0,
        });
        let over_bytes =
            !queue.items.is_empty() && queue.bytes.saturating_add(bytes) > self.per_peer_bytes_max;
        if queue.items.len() >= self.per_peer_max || over_bytes {
            return false;
        }
        queue.items.push_back((item, bytes));
        queue.bytes += bytes;
        true
    }

    /// The peer whose turn is next (the first after the one served last that has an item).
    fn next_peer(&self) -> Option<PeerId> {
        let after = self.last.and_then(|last| {
            self.queues
                .range((std::ops::Bound::Excluded(last), std::ops::Bound::Unbounded))
                .map(|(p, _)| *p)
                .next()
        });
        after.or_else(|| self.queues.keys().next().copied())
    }

    /// The bytes of the item [`FairQueue::pop`] would return.
    pub fn next_bytes(&self) -> Option<usize> {
        let peer = self.next_peer()?;
        self.queues
            .get(&peer)?
            .items
            .front()
            .map(|(_, bytes)| *bytes)
    }

    /// The next item: the oldest of the next peer in turn that has one.
    pub fn pop(&mut self) -> Option<(PeerId, T)> {
        let peer = self.next_peer()?;
        let queue = self.queues.get_mut(&peer)?;
        let (item, bytes) = queue.items.pop_front()?;
        queue.bytes -= bytes;
        if queue.items.is_empty() {
            self.queues.remove(&peer);
        }
        self.last = Some(peer);
        Some((peer, item))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    #[test]
    fn a_flooding_peer_fills_only_its_own_queue_and_peers_take_turns() {
        let flooder = PeerId::random();
        let honest = PeerId::random();
        let other = PeerId::random();
        let mut q = FairQueue::new(4, 1_000);
        let accepted = (0..1_000).filter(|i| q.push(flooder, *i, 1)).count();
        assert_eq!(accepted, 4);
        for i in 0..3 {
            assert!(q.push(honest, 100 + i, 1));
        }
        assert!(q.push(other, 200, 1));
        let mut order = Vec::new();
        while let Some((peer, item)) = q.pop() {
            order.push((peer, item));
        }
        assert_eq!(q.next_bytes(), None);
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
        assert!(q.push(flooder, 5, 1));
    }

    #[test]
    fn a_peer_holds_at_most_its_bytes_but_always_one_input() {
        let flooder = PeerId::random();
        let honest = PeerId::random();
        let mut q = FairQueue::new(100, 64);
        // Alone, an input over the bound is taken; nothing beside it.
        assert!(q.push(flooder, 1, 100));
        assert!(!q.push(flooder, 2, 1));
        // Another peer's bytes are its own.
        assert!(q.push(honest, 10, 40));
        assert!(q.push(honest, 11, 24));
        assert!(!q.push(honest, 12, 1));
        // Served, a peer may queue again, within its bytes (the order of peers is their ids').
        let mut served = Vec::new();
        while let Some(bytes) = q.next_bytes() {
            let (peer, item) = q.pop().expect("an item behind next_bytes");
            served.push((peer, item, bytes));
            if peer == flooder && item == 1 {
                assert!(q.push(flooder, 3, 64));
                assert!(!q.push(flooder, 4, 1));
            }
        }
        let of = |p: PeerId| -> Vec<(i32, usize)> {
            served
                .iter()
                .filter(|(q, _, _)| *q == p)
                .map(|(_, i, b)| (*i, *b))
                .collect()
        };
        assert_eq!(of(flooder), [(1, 100), (3, 64)]);
        assert_eq!(of(honest), [(10, 40), (11, 24)]);
    }
}
