//! Transactions between validators: those admitted here from clients are forwarded, batched, to
//! every other validator (each leads in turn); those other nodes forwarded are checked and
//! admitted by a worker off the swarm task, which reports peers that sent invalid ones.

use std::sync::Arc;

use libp2p::PeerId;
use tokio::sync::mpsc;

use super::wire::{self, Request};
use super::{FORWARD_INTERVAL_MIN_MS, Network};
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
        if !batch.is_empty() {
            self.send_to_other_validators(&Request::Transactions(batch));
        }
    }

    /// Sends `request` to every validator of the current set but this node.
    pub(super) fn send_to_other_validators(&mut self, request: &Request) {
        for peer in self.membership.other_validators(&self.me) {
            self.swarm
                .behaviour_mut()
                .wire
                .send_request(&peer, request.clone());
        }
    }

    /// Queues a batch `peer` forwarded for the relay worker (dropped if its queue is full).
    pub(super) fn queue_relayed(&mut self, peer: PeerId, txs: Vec<Vec<u8>>) {
        // Counted before it is queued: the worker may check it (and count it off) at once.
        self.admission.relay_queued();
        if self.relay_tx.try_send((peer, txs)).is_err() {
            self.admission.relay_checked();
            tracing::debug!(%peer, "relay queue full; forwarded transactions dropped");
        }
    }
}

/// Checks and admits transactions other nodes forwarded, off the network task. A peer whose
/// batch holds a transaction no honest node would have admitted (undecodable, badly signed,
/// another chain's, signed by no one who may send it) is reported; duplicates and the already
/// committed are normal.
pub(super) async fn relay_worker(
    admission: Arc<Admission>,
    mut batches: mpsc::Receiver<(PeerId, Vec<Vec<u8>>)>,
    penalties: mpsc::Sender<(PeerId, String)>,
) {
    while let Some((peer, txs)) = batches.recv().await {
        let checker = admission.clone();
        let verdict = tokio::task::spawn_blocking(move || {
            let mut bad = None;
            for tx in &txs {
                match checker.admit_relayed(tx) {
                    Ok(_) => {}
                    Err(SubmitError::Admit(
                        e @ (AdmitError::TooLarge { .. }
                        | AdmitError::Malformed { .. }
                        | AdmitError::WrongChain { .. }
                        | AdmitError::Signature(_)
                        | AdmitError::Unauthorised(_)),
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
