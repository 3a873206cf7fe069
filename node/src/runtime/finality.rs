//! Clients waiting for their transactions to become final (`?wait=final`), and the reasons of
//! recent refusals (for queries). Admission registers waiters; the driver settles them.

use std::collections::{BTreeMap, VecDeque};
use std::sync::Mutex;

use lichen_contracts::crypto::Hash32;
use tokio::sync::oneshot;

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

/// Clients waiting for transactions to become final, and the recently refused.
#[derive(Debug, Default)]
pub struct Finality {
    waiters: Mutex<BTreeMap<Hash32, Vec<oneshot::Sender<TxFate>>>>,
    refused: Mutex<(BTreeMap<Hash32, String>, VecDeque<Hash32>)>,
}

impl Finality {
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
