//! Who may connect, how well each peer behaves, and when to dial again. Pure bookkeeping: time is
//! passed in (milliseconds), so every rule here is tested without a network.

use std::collections::{BTreeMap, BTreeSet};

use libp2p::{Multiaddr, PeerId, multiaddr::Protocol};

/// Points a peer loses for one invalid message (undecodable, badly signed, not its to send).
pub const PENALTY_INVALID_POINTS: u32 = 25;
/// Points at which a peer is disconnected and banned.
pub const BAN_THRESHOLD_POINTS: u32 = 100;
/// Points forgiven per second of good behaviour.
pub const FORGIVEN_POINTS_PER_S: u32 = 5;
/// How long a banned peer stays blocked.
pub const BAN_MS: u64 = 60_000;
/// The first retry after a failed dial; doubled after each failure up to the maximum.
pub const DIAL_BACKOFF_MIN_MS: u64 = 250;
pub const DIAL_BACKOFF_MAX_MS: u64 = 10_000;

/// The peers the chain admits: the validators that sign the next block, in index order, and the
/// observers. Built from chain state; a peer id that is not a valid libp2p id admits nobody.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Membership {
    pub validators: Vec<Option<PeerId>>,
    pub observers: BTreeSet<PeerId>,
}

impl Membership {
    pub fn from_bytes<'a>(
        validators: impl IntoIterator<Item = &'a [u8]>,
        observers: impl IntoIterator<Item = &'a [u8]>,
    ) -> Self {
        Membership {
            validators: validators
                .into_iter()
                .map(|b| PeerId::from_bytes(b).ok())
                .collect(),
            observers: observers
                .into_iter()
                .filter_map(|b| PeerId::from_bytes(b).ok())
                .collect(),
        }
    }

    /// Everyone admitted.
    pub fn all(&self) -> BTreeSet<PeerId> {
        self.validators
            .iter()
            .flatten()
            .chain(&self.observers)
            .copied()
            .collect()
    }

    pub fn is_validator(&self, peer: &PeerId) -> bool {
        self.validators.iter().flatten().any(|p| p == peer)
    }

    /// The validators' peer ids, `me` left out.
    pub fn other_validators(&self, me: &PeerId) -> Vec<PeerId> {
        self.validators
            .iter()
            .flatten()
            .filter(|p| *p != me)
            .copied()
            .collect()
    }

    pub fn validator(&self, index: u16) -> Option<PeerId> {
        self.validators.get(usize::from(index)).copied().flatten()
    }
}

#[derive(Clone, Debug, Default)]
struct Score {
    points: u32,
    updated_ms: u64,
}

/// What a penalty led to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Still welcome, with this many points against it.
    Warned { points: u32 },
    /// Over the threshold: disconnect and block until `until_ms`.
    Banned { until_ms: u64 },
}

#[derive(Clone, Debug)]
struct Dial {
    address: Multiaddr,
    next_ms: u64,
    backoff_ms: u64,
}

/// Scores, bans and the dial plan.
#[derive(Debug, Default)]
pub struct PeerBook {
    scores: BTreeMap<PeerId, Score>,
    banned: BTreeMap<PeerId, u64>,
    dials: BTreeMap<PeerId, Dial>,
    connections: BTreeMap<PeerId, usize>,
}

/// The peer id at the end of a `/…/p2p/<id>` address.
pub fn peer_of(address: &Multiaddr) -> Option<PeerId> {
    match address.iter().last() {
        Some(Protocol::P2p(peer)) => Some(peer),
        _ => None,
    }
}

impl PeerBook {
    /// A book that dials `addresses` (each ending in `/p2p/<peer id>`), starting at `now_ms`.
    pub fn new(addresses: &[Multiaddr], now_ms: u64) -> Self {
        let mut book = PeerBook::default();
        for address in addresses {
            if let Some(peer) = peer_of(address) {
                book.dials.insert(
                    peer,
                    Dial {
                        address: address.clone(),
                        next_ms: now_ms,
                        backoff_ms: DIAL_BACKOFF_MIN_MS,
                    },
                );
            }
        }
        book
    }

    /// Adds `points` against `peer`, after forgiving the time since its last penalty.
    pub fn penalise(&mut self, peer: PeerId, points: u32, now_ms: u64) -> Verdict {
        let score = self.scores.entry(peer).or_default();
        let elapsed_s = now_ms.saturating_sub(score.updated_ms) / 1_000;
        let forgiven = u32::try_from(elapsed_s)
            .unwrap_or(u32::MAX)
            .saturating_mul(FORGIVEN_POINTS_PER_S);
        score.points = score.points.saturating_sub(forgiven).saturating_add(points);
        score.updated_ms = now_ms;
        if score.points >= BAN_THRESHOLD_POINTS {
            self.scores.remove(&peer);
            let until_ms = now_ms + BAN_MS;
            self.banned.insert(peer, until_ms);
            Verdict::Banned { until_ms }
        } else {
            Verdict::Warned {
                points: score.points,
            }
        }
    }

    pub fn is_banned(&self, peer: &PeerId) -> bool {
        self.banned.contains_key(peer)
    }

    /// Bans that ended by `now_ms`: the caller unblocks these peers.
    pub fn expire_bans(&mut self, now_ms: u64) -> Vec<PeerId> {
        let ended: Vec<PeerId> = self
            .banned
            .iter()
            .filter(|(_, until)| **until <= now_ms)
            .map(|(p, _)| *p)
            .collect();
        for p in &ended {
            self.banned.remove(p);
        }
        ended
    }

    pub fn connected(&mut self, peer: PeerId) {
        *self.connections.entry(peer).or_default() += 1;
        if let Some(dial) = self.dials.get_mut(&peer) {
            dial.backoff_ms = DIAL_BACKOFF_MIN_MS;
        }
    }

    pub fn disconnected(&mut self, peer: PeerId, now_ms: u64) {
        if let Some(n) = self.connections.get_mut(&peer) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                self.connections.remove(&peer);
                // Redial soon, not at once: a peer that drops us right away is not hammered.
                if let Some(dial) = self.dials.get_mut(&peer) {
                    dial.next_ms = now_ms + dial.backoff_ms;
                }
            }
        }
    }

    pub fn is_connected(&self, peer: &PeerId) -> bool {
        self.connections.contains_key(peer)
    }

    pub fn connected_peers(&self) -> impl Iterator<Item = &PeerId> {
        self.connections.keys()
    }

    /// A dial to `peer` failed: try again after the (doubled) backoff.
    pub fn dial_failed(&mut self, peer: &PeerId, now_ms: u64) {
        if let Some(dial) = self.dials.get_mut(peer) {
            dial.next_ms = now_ms + dial.backoff_ms;
            dial.backoff_ms = (dial.backoff_ms * 2).min(DIAL_BACKOFF_MAX_MS);
        }
    }

    /// Configured peers to dial now: not connected, not banned, due.
    pub fn due_dials(&mut self, now_ms: u64) -> Vec<(PeerId, Multiaddr)> {
        let mut due = Vec::new();
        for (peer, dial) in &mut self.dials {
            if self.connections.contains_key(peer)
                || self.banned.contains_key(peer)
                || dial.next_ms > now_ms
            {
                continue;
            }
            // Not again while this attempt is under way; a failure pushes it further out.
            dial.next_ms = now_ms + dial.backoff_ms;
            due.push((*peer, dial.address.clone()));
        }
        due
    }

    /// The configured addresses, for the transport's address book.
    pub fn addresses(&self) -> impl Iterator<Item = (&PeerId, &Multiaddr)> {
        self.dials.iter().map(|(p, d)| (p, &d.address))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    fn addr(peer: PeerId) -> Multiaddr {
        format!("/ip4/127.0.0.1/tcp/9000/p2p/{peer}")
            .parse()
            .unwrap()
    }

    #[test]
    fn repeated_invalid_messages_ban_a_peer_and_good_time_forgives() {
        let peer = PeerId::random();
        let mut book = PeerBook::default();
        let hits = BAN_THRESHOLD_POINTS / PENALTY_INVALID_POINTS;
        for i in 1..hits {
            assert_eq!(
                book.penalise(peer, PENALTY_INVALID_POINTS, 0),
                Verdict::Warned {
                    points: i * PENALTY_INVALID_POINTS
                }
            );
        }
        // Ten quiet seconds forgive 50 points: the next hit does not ban.
        assert!(matches!(
            book.penalise(peer, PENALTY_INVALID_POINTS, 10_000),
            Verdict::Warned { .. }
        ));
        assert!(matches!(
            book.penalise(peer, PENALTY_INVALID_POINTS, 10_000),
            Verdict::Warned { .. }
        ));
        assert_eq!(
            book.penalise(peer, PENALTY_INVALID_POINTS, 10_000),
            Verdict::Banned {
                until_ms: 10_000 + BAN_MS
            }
        );
        assert!(book.is_banned(&peer));
        assert!(book.expire_bans(10_000 + BAN_MS - 1).is_empty());
        assert_eq!(book.expire_bans(10_000 + BAN_MS), vec![peer]);
        assert!(!book.is_banned(&peer));
    }

    #[test]
    fn dials_back_off_and_reset_on_connection() {
        let peer = PeerId::random();
        let mut book = PeerBook::new(&[addr(peer)], 0);
        assert_eq!(book.due_dials(0).len(), 1);
        assert!(book.due_dials(0).is_empty(), "scheduled, not due again");
        book.dial_failed(&peer, 100);
        assert!(book.due_dials(100 + DIAL_BACKOFF_MIN_MS - 1).is_empty());
        assert_eq!(book.due_dials(100 + DIAL_BACKOFF_MIN_MS).len(), 1);
        for _ in 0..10 {
            book.dial_failed(&peer, 0);
        }
        assert!(book.due_dials(DIAL_BACKOFF_MAX_MS - 1).is_empty(), "capped");
        assert_eq!(book.due_dials(DIAL_BACKOFF_MAX_MS).len(), 1);
        book.connected(peer);
        assert!(book.due_dials(u64::MAX / 2).is_empty(), "connected");
        book.disconnected(peer, 50_000);
        assert!(book.due_dials(50_000 + DIAL_BACKOFF_MIN_MS - 1).is_empty());
        assert_eq!(book.due_dials(50_000 + DIAL_BACKOFF_MIN_MS).len(), 1);
    }

    #[test]
    fn banned_peers_are_not_dialled() {
        let peer = PeerId::random();
        let mut book = PeerBook::new(&[addr(peer)], 0);
        for _ in 0..4 {
            book.penalise(peer, PENALTY_INVALID_POINTS, 0);
        }
        assert!(book.due_dials(0).is_empty());
        book.expire_bans(BAN_MS);
        assert_eq!(book.due_dials(BAN_MS).len(), 1);
    }

    #[test]
    fn membership_skips_ids_that_are_not_libp2p_ids() {
        let a = PeerId::random();
        let o = PeerId::random();
        let a_bytes = a.to_bytes();
        let o_bytes = o.to_bytes();
        let m = Membership::from_bytes(
            [a_bytes.as_slice(), b"validator-2".as_slice()],
            [o_bytes.as_slice()],
        );
        assert_eq!(m.validators, vec![Some(a), None]);
        assert_eq!(m.validator(0), Some(a));
        assert_eq!(m.validator(1), None);
        assert!(m.is_validator(&a) && !m.is_validator(&o));
        assert_eq!(m.all(), [a, o].into_iter().collect());
    }
}
