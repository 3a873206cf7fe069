//! The node's clock and the consensus core's timers. Nothing below the runtime reads a clock:
//! `chain.rs` takes `now_ms` as an argument, and the core learns of time by `Timeout` inputs.

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tokio::time::Instant;

/// Milliseconds since the Unix epoch: the node's clock.
pub fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// View timers the core asked for: a (height, view) timeout due at an instant. Timers are not
/// unique: the core ignores a timeout that is not for its current (height, view).
#[derive(Debug, Default)]
pub(super) struct Timers {
    /// (due, sequence number) -> (height, view); the sequence keeps equal instants apart.
    due: BTreeMap<(Instant, u64), (u64, u64)>,
    seq: u64,
}

impl Timers {
    /// Schedules a timeout for (`height`, `view`) `after_ms` from now, and drops the timers of
    /// heights below `current_height` (the core ignores them).
    pub(super) fn schedule(&mut self, height: u64, view: u64, after_ms: u64, current_height: u64) {
        self.seq += 1;
        let at = Instant::now() + Duration::from_millis(after_ms);
        self.due.insert((at, self.seq), (height, view));
        self.due.retain(|_, (h, _)| *h >= current_height);
    }

    /// Schedules a timeout for (`height`, `view`) at `at`.
    pub(super) fn schedule_at(&mut self, height: u64, view: u64, at: Instant) {
        self.seq += 1;
        self.due.insert((at, self.seq), (height, view));
    }

    /// When the earliest timer is due.
    pub(super) fn next_due(&self) -> Option<Instant> {
        self.due.keys().next().map(|(at, _)| *at)
    }

    /// Removes and returns the earliest timer due by `now`.
    pub(super) fn pop_due(&mut self, now: Instant) -> Option<(u64, u64)> {
        let entry = self.due.first_entry()?;
        if entry.key().0 > now {
            return None;
        }
        Some(entry.remove())
    }
}
