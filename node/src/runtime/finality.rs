//! Clients waiting for their transactions to become final (`?wait=final`), and the reasons of
//! recent refusals (for queries). Admission registers waiters; the driver settles them.

use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, Mutex};

use lichen_contracts::crypto::Hash32;
use tokio::sync::{broadcast, oneshot};

/// Clients waiting for finality of transactions, at most.
pub const FINALITY_WAITERS_MAX: usize = 10_000;
/// Refused transactions whose reason is remembered for queries, at most.
pub const REFUSED_REMEMBERED_MAX: usize = 10_000;

/// What became of a submitted transaction.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TxFate {
    Committed {
        height: u64,
        index: u32,
        block_time_ms: u64,
    },
    Refused {
        reason: String,
    },
    Expired,
}

/// Outcomes kept for each follower of the commit stream (`GET /v1/commits`), at most: one that
/// falls further behind is told how many it missed and cut off, never waited for.
pub const COMMIT_STREAM_BUFFER_MAX: usize = 1_024;

/// What the commit stream tells its followers, in the order it happened.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CommitEvent {
    /// A block was committed: its transactions, in block order.
    Block {
        height: u64,
        time_ms: u64,
        txs: Vec<Hash32>,
    },
    /// A transaction was refused by the block builder (rules that depend on state).
    Refused { id: Hash32, reason: String },
    /// A transaction expired in the pool.
    Expired { id: Hash32 },
    /// The node is stopping: streams end.
    Stopping,
}

/// Clients waiting for transactions to become final, the recently refused, and the commit
/// stream's followers.
#[derive(Debug)]
pub struct Finality {
    waiters: Mutex<BTreeMap<Hash32, Vec<oneshot::Sender<TxFate>>>>,
    refused: Mutex<(BTreeMap<Hash32, String>, VecDeque<Hash32>)>,
    outcomes: broadcast::Sender<Arc<CommitEvent>>,
}

impl Default for Finality {
    fn default() -> Self {
        Finality {
            waiters: Mutex::default(),
            refused: Mutex::default(),
            outcomes: broadcast::channel(COMMIT_STREAM_BUFFER_MAX).0,
        }
    }
}

impl Finality {
    /// Follows outcomes from now on (each follower has its own bounded buffer).
    pub fn follow(&self) -> broadcast::Receiver<Arc<CommitEvent>> {
        self.outcomes.subscribe()
    }

    /// Ends the commit streams (the node is stopping): each gets `Stopping` and ends.
    pub fn stop_streams(&self) {
        self.announce(CommitEvent::Stopping);
    }

    /// Tells the commit stream's followers (nobody waits if none follow).
    pub(super) fn announce(&self, event: CommitEvent) {
        let _ = self.outcomes.send(Arc::new(event));
    }

    /// Registers interest in `id`'s fate; `None` if too many clients already wait.
    pub fn watch(&self, id: Hash32) -> Option<oneshot::Receiver<TxFate>> {
        let mut waiters = self.waiters.lock().ok()?;
        let count: usize = waiters.values().map(Vec::len).sum();
        if count >= FINALITY_WAITERS_MAX {
            return None;
        }
        let (tx, rx) = oneshot::channel();
        waiters.entry(id).or_default().push(tx);
        Some(rx)
    }

    /// Tells `id`'s waiters its fate (and remembers a refusal's reason).
    pub(super) fn settle(&self, id: &Hash32, fate: TxFate) {
        match &fate {
            TxFate::Refused { reason } => self.announce(CommitEvent::Refused {
                id: *id,
                reason: reason.clone(),
            }),
            TxFate::Expired => self.announce(CommitEvent::Expired { id: *id }),
            // Committed transactions are announced once per block, by `announce`.
            TxFate::Committed { .. } => {}
        }
        if let TxFate::Refused { reason } = &fate
            && let Ok(mut refused) = self.refused.lock()
        {
            let (map, order) = &mut *refused;
            if map.insert(*id, reason.clone()).is_none() {
                order.push_back(*id);
            }
            while order.len() > REFUSED_REMEMBERED_MAX {
                if let Some(old) = order.pop_front() {
                    map.remove(&old);
                }
            }
        }
        let senders = self.waiters.lock().ok().and_then(|mut w| w.remove(id));
        for s in senders.into_iter().flatten() {
            let _ = s.send(fate.clone());
        }
    }

    pub(super) fn forget_refusal(&self, id: &Hash32) {
        if let Ok(mut refused) = self.refused.lock() {
            refused.0.remove(id);
        }
    }

    /// Why `id` was refused, if it was recently.
    pub fn refused_reason(&self, id: &Hash32) -> Option<String> {
        self.refused.lock().ok()?.0.get(id).cloned()
    }

    /// Drops waiters whose clients went away.
    pub(super) fn prune_closed(&self) {
        if let Ok(mut w) = self.waiters.lock() {
            w.retain(|_, senders| {
                senders.retain(|s| !s.is_closed());
                !senders.is_empty()
            });
        }
    }
}
