//! What the node reports about itself: written by the driver (view, commits), the network
//! (peers) and at start (role, peer id); read by the API and the network.

use std::collections::BTreeSet;
use std::sync::RwLock;
use std::sync::atomic::{AtomicU64, Ordering};

use super::clock::now_ms;
use super::metrics::Metrics;

/// A snapshot of what the node reports about itself.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RuntimeStatus {
    pub view: u64,
    /// This node's index in the current validator set, if it is a validator.
    pub validator_index: Option<u16>,
    pub started_ms: u64,
    pub last_commit_ms: Option<u64>,
    /// Connected peers.
    pub peers: usize,
    /// The indices of the validators this node has a connection to (None without a network).
    pub reachable_validators: Option<BTreeSet<u16>>,
    /// The libp2p peer id, if the node is on a network.
    pub peer_id: Option<String>,
    /// "validator" or "observer".
    pub role: &'static str,
    /// A task the node cannot work without ended while it was running: which, and why.
    pub stopped: Option<(&'static str, String)>,
    /// The last sync answer was full: peers have more blocks than this node.
    pub catching_up: bool,
}

/// The node's status, shared by the tasks that write and read it.
#[derive(Debug)]
pub struct Status {
    reported: RwLock<RuntimeStatus>,
    /// How often the consensus driver woke up (for an input, a timer or an admitted
    /// transaction): an idle node must not spin.
    driver_wakeups: AtomicU64,
    /// What `GET /metrics` exports; every task that has the status can count.
    metrics: Metrics,
}

impl Status {
    /// The status of a node starting now as `role`, with `peer_id` if it is on a network.
    pub fn new(role: &'static str, peer_id: Option<String>) -> Self {
        Status {
            reported: RwLock::new(RuntimeStatus {
                started_ms: now_ms(),
                role,
                peer_id,
                ..RuntimeStatus::default()
            }),
            driver_wakeups: AtomicU64::new(0),
            metrics: Metrics::new(),
        }
    }

    pub fn metrics(&self) -> &Metrics {
        &self.metrics
    }

    /// How many times the consensus driver has woken up since the node started.
    pub fn driver_wakeups(&self) -> u64 {
        self.driver_wakeups.load(Ordering::Relaxed)
    }

    pub(crate) fn count_driver_wakeup(&self) {
        self.driver_wakeups.fetch_add(1, Ordering::Relaxed);
    }

    /// The status now (the default if a writer panicked).
    pub fn snapshot(&self) -> RuntimeStatus {
        self.reported.read().map(|s| s.clone()).unwrap_or_default()
    }

    /// When the node last committed a block, or started if it has not (0 if unreadable).
    pub fn last_progress_ms(&self) -> u64 {
        self.reported
            .read()
            .map(|s| s.last_commit_ms.unwrap_or(s.started_ms))
            .unwrap_or(0)
    }

    /// Records that `task` ended while the node was running (the first such end is kept): the
    /// node still answers queries, but `/health` says it is broken.
    pub fn set_stopped(&self, task: &'static str, reason: String) {
        tracing::error!(task, "{reason}; the node must be restarted");
        if let Ok(mut status) = self.reported.write()
            && status.stopped.is_none()
        {
            status.stopped = Some((task, reason));
        }
    }

    pub(crate) fn set_consensus(&self, view: u64, validator_index: Option<u16>) {
        if let Ok(mut status) = self.reported.write() {
            // A higher view is a view change at this height (a new height starts at view 0).
            if view > status.view {
                self.metrics.view_changes.inc_by(view - status.view);
            }
            status.view = view;
            status.validator_index = validator_index;
        }
    }

    /// Whether consensus saw peers ahead and no sync answer has yet said this node caught up.
    pub fn catching_up(&self) -> bool {
        self.reported.read().is_ok_and(|s| s.catching_up)
    }

    pub(crate) fn set_catching_up(&self, catching_up: bool) {
        if let Ok(mut status) = self.reported.write() {
            status.catching_up = catching_up;
        }
    }

    pub(crate) fn set_last_commit(&self, at_ms: u64) {
        if let Ok(mut status) = self.reported.write() {
            status.last_commit_ms = Some(at_ms);
        }
    }

    pub(crate) fn set_peers(&self, peers: usize, reachable_validators: BTreeSet<u16>) {
        if let Ok(mut status) = self.reported.write() {
            status.peers = peers;
            status.reachable_validators = Some(reachable_validators);
        }
    }

    /// Whether validator `index` is known to be out of reach (no connection to it), while this
    /// node reaches at least `others_min` other validators (so it is not the one cut off).
    pub fn is_unreachable(&self, index: u16, others_min: usize) -> bool {
        self.reported.read().is_ok_and(|s| {
            s.reachable_validators
                .as_ref()
                .is_some_and(|r| !r.contains(&index) && r.len() >= others_min)
        })
    }
}
