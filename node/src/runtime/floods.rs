//! Counting a peer's messages that consensus refused cheaply (resent, out of its window, over
//! a share): one is no fault (an honest node resends and runs early or late), a flood is. And
//! who sent a proposal for each view, so that one peer's proposals are decoded once a view.

use std::collections::{BTreeMap, BTreeSet};

use libp2p::PeerId;

/// Cheap refusals one peer may cause in a second before it is penalised. An honest validator
/// sends about three messages per block, and its resends and early or late messages are a few
/// of those: at 20 blocks a second that is ~60, a quarter of this.
pub const CHEAP_REFUSALS_PER_S_MAX: u32 = 256;
/// Peers counted at once, at most (consensus messages come only from validators, at most 128;
/// past this the oldest windows are forgotten).
const PEERS_MAX: usize = 1_024;
const WINDOW_MS: u64 = 1_000;

/// Per peer: the current one-second window and the cheap refusals in it.
#[derive(Debug, Default)]
pub struct FloodMeter {
    windows: BTreeMap<PeerId, (u64, u32)>,
}

impl FloodMeter {
    /// Counts one cheap refusal of `peer`'s message at `now_ms`. Returns the count when it first
    /// passes [`CHEAP_REFUSALS_PER_S_MAX`] in the current window (once per window: one penalty
    /// per second of flooding).
    pub fn note(&mut self, peer: PeerId, now_ms: u64) -> Option<u32> {
        if self.windows.len() >= PEERS_MAX && !self.windows.contains_key(&peer) {
            self.windows
                .retain(|_, (start, _)| now_ms.saturating_sub(*start) < WINDOW_MS);
            if self.windows.len() >= PEERS_MAX {
                return None;
            }
        }
        let (start, count) = self.windows.entry(peer).or_insert((now_ms, 0));
        if now_ms.saturating_sub(*start) >= WINDOW_MS {
            (*start, *count) = (now_ms, 0);
        }
        *count += 1;
        (*count == CHEAP_REFUSALS_PER_S_MAX + 1).then_some(*count)
    }
}

/// Views (height, view) whose proposal senders are remembered, at most: the core wants
/// proposals only for its height in the view window and for the next height, so few are live.
const PROPOSAL_VIEWS_MAX: usize = 256;

/// Which peers sent a proposal for each (height, view). The core decodes a few proposals per view
/// (`Core::proposal_copies_max`) and refuses later ones undecoded; one peer is let through once
/// per view, so a validator sending forged copies of the leader's proposal early in a view cannot
/// use up the view's allowance before the leader's own arrives (an honest leader sends its
/// proposal once, straight to every validator).
#[derive(Debug, Default)]
pub struct ProposalSenders {
    seen: BTreeMap<(u64, u64), BTreeSet<PeerId>>,
}

impl ProposalSenders {
    /// Notes `peer`'s proposal for (`height`, `view`): true the first time, false after.
    /// Views below `current_height` are forgotten.
    pub fn first_from(
        &mut self,
        peer: PeerId,
        height: u64,
        view: u64,
        current_height: u64,
    ) -> bool {
        while let Some(entry) = self.seen.first_entry()
            && entry.key().0 < current_height
        {
            entry.remove();
        }
        if self.seen.len() >= PROPOSAL_VIEWS_MAX && !self.seen.contains_key(&(height, view)) {
            self.seen.pop_first();
        }
        self.seen.entry((height, view)).or_default().insert(peer)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_proposal_per_peer_and_view_and_old_heights_forgotten() {
        let mut senders = ProposalSenders::default();
        let (a, b) = (PeerId::random(), PeerId::random());
        assert!(senders.first_from(a, 5, 0, 5));
        assert!(
            !senders.first_from(a, 5, 0, 5),
            "a second copy from the same peer"
        );
        assert!(senders.first_from(b, 5, 0, 5), "another peer");
        assert!(senders.first_from(a, 5, 1, 5), "another view");
        assert!(senders.first_from(a, 6, 0, 5), "the next height");
        // Height 5 committed: its views are forgotten, the next height's kept.
        assert!(!senders.first_from(a, 6, 0, 6));
        assert_eq!(senders.seen.len(), 1);
        for view in 0..2 * PROPOSAL_VIEWS_MAX as u64 {
            senders.first_from(a, 7, view, 6);
        }
        assert!(senders.seen.len() <= PROPOSAL_VIEWS_MAX);
    }

    #[test]
    fn a_flood_is_penalised_once_a_second_and_a_trickle_never() {
        let mut meter = FloodMeter::default();
        let (flooder, honest) = (PeerId::random(), PeerId::random());
        let mut penalties = Vec::new();
        // 3 seconds: the flooder 1,000 a second, the honest peer 100 a second.
        for ms in 0..3_000u64 {
            if let Some(n) = meter.note(flooder, ms) {
                penalties.push((ms, n));
            }
            if ms % 10 == 0 {
                assert_eq!(meter.note(honest, ms), None);
            }
        }
        assert_eq!(
            penalties,
            vec![(256, 257), (1_256, 257), (2_256, 257)],
            "one penalty in each second, when the count passes the limit"
        );
    }
}
