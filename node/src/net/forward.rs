//! Transactions between validators: those admitted here from clients are forwarded, batched, to
//! every other validator (each leads in turn); those other nodes forwarded are checked and
//! admitted by a worker off the swarm task, which reports peers that sent invalid ones.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, PoisonError};

use libp2p::PeerId;
use tokio::sync::mpsc;

use super::wire::{self, PushLane, Request};
use super::{FORWARD_INTERVAL_MIN_MS, Network, RELAY_BATCHES_PER_PEER_MAX};
use crate::mempool::AdmitError;
use crate::runtime::{Admission, SubmitError};

impl Network {
    /// Forwards an admitted transaction to every other validator (each leads in turn), in the
    /// next batch: at once if none left in the last `FORWARD_INTERVAL_MIN_MS` or the batch is
    /// full, else when that period is over (see `run`).
    pub(super) fn forward(&mut self, tx: Vec<u8>) {
        self.forward_pending.push(tx);
        if self.forward_pending.len() >= wire::TX_BATCH_MAX
            || tokio::time::Instant::now() >= self.forward_next_at
        {
            self.forward_batch();
        }
    }

    /// Sends the waiting transactions, with whatever else is already queued, as one request to
    /// each other validator.
    pub(super) fn forward_batch(&mut self) {
        let mut batch = std::mem::take(&mut self.forward_pending);
        while batch.len() < wire::TX_BATCH_MAX {
            match self.forward_rx.try_recv() {
                Ok(tx) => batch.push(tx),
                Err(_) => break,
            }
        }
        self.forward_next_at =
            tokio::time::Instant::now() + std::time::Duration::from_millis(FORWARD_INTERVAL_MIN_MS);
        for part in split_by_bytes(batch, wire::TX_BATCH_BYTES_MAX) {
            self.send_to_other_validators(&Request::Transactions(part));
        }
    }

    /// Pushes `request` to every validator of the current set but this node that it is
    /// connected to (the others are redialled on the tick, and catch up by sync).
    pub(super) fn send_to_other_validators(&mut self, request: &Request) {
        let Some(lane) = PushLane::of(request) else {
            return; // a request, not a push: see `send_raw`
        };
        let peers: Vec<PeerId> = self
            .membership
            .other_validators(&self.me)
            .into_iter()
            .filter(|peer| self.book.is_connected(peer))
            .collect();
        if !peers.is_empty() {
            self.pushes.send(peers, lane, request.to_bytes());
        }
    }

    /// The attack harness's hostile request, sent the way the protocol carries its kind: a
    /// `SyncFrom` as a request (its answer is ignored), anything else on the push streams.
    pub(super) fn send_raw(&mut self, request: Request) {
        if matches!(request, Request::SyncFrom { .. }) {
            for peer in self.membership.other_validators(&self.me) {
                self.swarm
                    .behaviour_mut()
                    .wire
                    .send_request(&peer, request.clone());
            }
        } else {
            self.send_to_other_validators(&request);
        }
    }

    /// Queues a batch `peer` forwarded for the relay worker (dropped if its queue is full, or
    /// holds `RELAY_BATCHES_PER_PEER_MAX` of this peer's already).
    pub(super) fn queue_relayed(&mut self, peer: PeerId, txs: Vec<Vec<u8>>) {
        if !self.relay_shares.take(peer) {
            tracing::debug!(%peer, "peer's share of the relay queue full; batch dropped");
            return;
        }
        // Counted before it is queued: the worker may check it (and count it off) at once.
        self.admission.relay_queued();
        if self.relay_tx.try_send((peer, txs)).is_err() {
            self.admission.relay_checked();
            self.relay_shares.give_back(peer);
            tracing::debug!(%peer, "relay queue full; forwarded transactions dropped");
        }
    }
}

/// How many batches each peer has waiting for the relay worker: shared by the network task,
/// which takes a place, and the worker, which gives it back (entries at zero are removed, so it
/// holds at most the peers with batches queued).
#[derive(Clone, Default)]
pub(super) struct RelayShares(Arc<Mutex<BTreeMap<PeerId, usize>>>);

impl RelayShares {
    /// Takes a place for one of `peer`'s batches; false if it holds its share already.
    fn take(&self, peer: PeerId) -> bool {
        let mut shares = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        let held = shares.entry(peer).or_default();
        if *held >= RELAY_BATCHES_PER_PEER_MAX {
            return false;
        }
        *held += 1;
        true
    }

    fn give_back(&self, peer: PeerId) {
        let mut shares = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(held) = shares.get_mut(&peer) {
            *held = held.saturating_sub(1);
            if *held == 0 {
                shares.remove(&peer);
            }
        }
    }
}

/// `txs` in order, in parts whose transactions and length prefixes fit `bytes_max` (a
/// transaction larger than that alone would be a part of its own; none is: `TX_BYTES_MAX` is far
/// below a frame).
fn split_by_bytes(txs: Vec<Vec<u8>>, bytes_max: usize) -> Vec<Vec<Vec<u8>>> {
    let mut parts = Vec::new();
    let mut part = Vec::new();
    let mut bytes = 0;
    for tx in txs {
        let size = tx.len() + 4;
        if !part.is_empty() && bytes + size > bytes_max {
            parts.push(std::mem::take(&mut part));
            bytes = 0;
        }
        bytes += size;
        part.push(tx);
    }
    if !part.is_empty() {
        parts.push(part);
    }
    parts
}

/// Checks and admits transactions other nodes forwarded, off the network task. A peer whose
/// batch holds a transaction no honest node would have admitted at any height (undecodable,
/// oversized, badly signed, another chain's) is reported; duplicates, the already committed and
/// those the rules refuse at this node's height are not.
pub(super) async fn relay_worker(
    admission: Arc<Admission>,
    mut batches: mpsc::Receiver<(PeerId, Vec<Vec<u8>>)>,
    shares: RelayShares,
    penalties: mpsc::Sender<(PeerId, String)>,
) {
    while let Some((peer, txs)) = batches.recv().await {
        shares.give_back(peer);
        let checker = admission.clone();
        let verdict = tokio::task::spawn_blocking(move || {
            let mut bad = None;
            for tx in &txs {
                match checker.admit_relayed(tx) {
                    Ok(_) => {}
                    // Only what is wrong at any height: who may sign (`Unauthorised`) depends
                    // on the state, and the forwarder may be a block ahead of or behind this
                    // node (a submitter registered or suspended in between), so an honest peer
                    // can forward what this node refuses.
                    Err(SubmitError::Admit(
                        e @ (AdmitError::TooLarge { .. }
                        | AdmitError::Malformed { .. }
                        | AdmitError::WrongChain { .. }
                        | AdmitError::Signature(_)),
                    )) => bad = Some(e.to_string()),
                    Err(e) => tracing::trace!("relayed transaction not admitted: {e}"),
                }
            }
            bad
        })
        .await;
        admission.relay_checked();
        if let Ok(Some(reason)) = verdict {
            let _ =
                penalties.try_send((peer, format!("forwarded an invalid transaction: {reason}")));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use lichen_contracts::tx::TX_BYTES_MAX;

    #[test]
    fn each_peer_holds_at_most_its_share_of_the_relay_queue() {
        let shares = RelayShares::default();
        let (a, b) = (PeerId::random(), PeerId::random());
        for _ in 0..RELAY_BATCHES_PER_PEER_MAX {
            assert!(shares.take(a));
        }
        assert!(!shares.take(a), "a peer over its share");
        assert!(shares.take(b), "another peer keeps its own");
        shares.give_back(a);
        assert!(shares.take(a));
        for _ in 0..=RELAY_BATCHES_PER_PEER_MAX {
            shares.give_back(a);
        }
        shares.give_back(b);
        assert!(
            shares.0.lock().is_ok_and(|s| s.is_empty()),
            "entries at zero are removed"
        );
    }

    #[test]
    fn a_batch_of_the_largest_transactions_is_cut_to_fit_a_frame() {
        let txs = vec![vec![7u8; TX_BYTES_MAX]; wire::TX_BATCH_MAX];
        let parts = split_by_bytes(txs.clone(), wire::TX_BATCH_BYTES_MAX);
        assert!(parts.len() >= 2);
        assert_eq!(parts.concat(), txs);
        for part in &parts {
            let bytes = Request::Transactions(part.clone()).to_bytes();
            assert!(
                bytes.len() <= wire::REQUEST_BYTES_MAX,
                "{} bytes",
                bytes.len()
            );
        }
        // Small ones stay in one part; nothing makes an empty part.
        assert_eq!(split_by_bytes(vec![vec![1; 100]; 10], 2_000).len(), 1);
        assert!(split_by_bytes(Vec::new(), 2_000).is_empty());
    }
}
