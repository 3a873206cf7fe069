//! Byte budgets for queues whose messages vary in size (a vote is a few hundred bytes, a
//! proposal or a batch up to a frame's 16 MiB): a count bound alone would let a queue of a
//! thousand messages hold gigabytes.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Bytes of messages waiting in a queue, shared by its two ends: the sender takes room before it
/// queues a message, the receiver gives it back once it has the message in hand.
#[derive(Clone, Debug, Default)]
pub struct QueuedBytes(Arc<AtomicUsize>);

impl QueuedBytes {
    /// Takes room for `len` bytes within `max`; false if there is none (a message alone is
    /// always taken: one larger than `max` is still under a frame's limit).
    pub fn take(&self, len: usize, max: usize) -> bool {
        self.0
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |queued| {
                (queued == 0 || queued + len <= max).then_some(queued + len)
            })
            .is_ok()
    }

    /// Takes room for `len` bytes within `max` as a [`Held`] that gives it back when dropped.
    pub fn hold(&self, len: usize, max: usize) -> Option<Held> {
        self.take(len, max).then(|| Held {
            queued: self.clone(),
            len,
        })
    }

    pub fn give_back(&self, len: usize) {
        // Never below zero, whatever the order of the calls.
        let _ = self
            .0
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |queued| {
                Some(queued.saturating_sub(len))
            });
    }

    /// The bytes held now.
    pub fn get(&self) -> usize {
        self.0.load(Ordering::Relaxed)
    }
}

/// Room taken in a [`QueuedBytes`], travelling with its message: given back when the message is
/// dropped, wherever that happens (handled, refused, or lost with a closed channel).
#[derive(Debug)]
pub struct Held {
    queued: QueuedBytes,
    len: usize,
}

impl Drop for Held {
    fn drop(&mut self) {
        self.queued.give_back(self.len);
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    #[test]
    fn a_queue_holds_at_most_its_bytes_but_always_one_message() {
        let queued = QueuedBytes::default();
        // Alone, a message over the bound is taken...
        assert!(queued.take(100, 64));
        // ...but nothing beside it.
        assert!(!queued.take(1, 64));
        queued.give_back(100);
        // Within the bound, messages add up to it and no further.
        assert!(queued.take(40, 64));
        assert!(queued.take(24, 64));
        assert!(!queued.take(1, 64));
        queued.give_back(24);
        assert!(queued.take(10, 64));
        // Giving back more than was taken never wraps below zero (nor refuses forever after).
        queued.give_back(1_000);
        assert_eq!(queued.get(), 0);
        assert!(queued.take(64, 64));
    }

    #[test]
    fn held_room_is_given_back_when_its_message_is_dropped() {
        let queued = QueuedBytes::default();
        let first = queued.hold(40, 64).expect("room");
        let second = queued.hold(24, 64).expect("room");
        assert!(queued.hold(1, 64).is_none());
        drop(first);
        assert_eq!(queued.get(), 24);
        // Dropped unhandled in a closed channel: still given back.
        let (tx, rx) = std::sync::mpsc::sync_channel(1);
        tx.send(second).expect("room in the channel");
        drop(rx);
        drop(tx);
        assert_eq!(queued.get(), 0);
    }
}
