//! Admission: the one door into the mempool. Clients' transactions (through the API) and
//! transactions other nodes forwarded (through the network) are checked here; the driver takes
//! candidates out of the same pool when it builds a block.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use tokio::sync::futures::Notified;
use tokio::sync::{Notify, mpsc, oneshot};

use super::finality::{Finality, TxFate};
use crate::chain::Chain;
use crate::error::NodeError;
use crate::mempool::{AdmitContext, AdmitError, Admitted, Mempool};
use lichen_contracts::ledger::verify_digested_known;

/// Batches of transactions other nodes forwarded, still waiting for their signature checks, at
/// which this node stops admitting from clients (503 `overloaded`). Every validator checks every
/// transaction, so a backlog here means the chain as a whole takes transactions faster than its
/// validators can check them; admitting more would only push checks onto the consensus path
/// (a block with unchecked transactions is checked as it executes) and stall it.
pub const RELAY_BACKLOG_ADMIT_MAX: usize = 16;

/// Checks and admits transactions into the mempool, and wakes the driver when one arrives.
#[derive(Debug)]
pub struct Admission {
    chain: Arc<Chain>,
    mempool: Mutex<Mempool>,
    finality: Arc<Finality>,
    /// Signalled when the mempool receives a transaction.
    wake: Notify,
    /// Where transactions admitted from clients go to be forwarded to the validators (the
    /// network's queue; a node without a network keeps them to itself).
    forward: Option<mpsc::Sender<Vec<u8>>>,
    /// Forwarded batches waiting for their signature checks (counted by the network).
    relay_backlog: AtomicUsize,
    /// Forwarded batches checked since the node started.
    relay_checked_total: AtomicU64,
    /// Transactions whose signatures admission checked since the node started (an exact copy
    /// of one checked before is not checked again).
    signature_checks_total: AtomicU64,
}

impl Admission {
    /// Admission into `mempool` for `chain`; `forward`: the network's queue of transactions to
    /// forward to the validators, if the node is on a network.
    pub fn new(
        chain: Arc<Chain>,
        mempool: Mempool,
        finality: Arc<Finality>,
        forward: Option<mpsc::Sender<Vec<u8>>>,
    ) -> Self {
        Admission {
            chain,
            mempool: Mutex::new(mempool),
            finality,
            wake: Notify::new(),
            forward,
            relay_backlog: AtomicUsize::new(0),
            relay_checked_total: AtomicU64::new(0),
            signature_checks_total: AtomicU64::new(0),
        }
    }

    /// Checks and admits an encoded transaction. With `watch`, the returned receiver learns the
    /// transaction's fate: it is registered before the transaction enters the mempool, so no
    /// outcome can slip between admission and waiting.
    pub fn submit(
        &self,
        bytes: &[u8],
        watch: bool,
    ) -> Result<(Admitted, Option<oneshot::Receiver<TxFate>>), SubmitError> {
        let backlog = self.relay_backlog();
        if backlog >= RELAY_BACKLOG_ADMIT_MAX {
            return Err(SubmitError::Overloaded { backlog });
        }
        let admitted = self.admit(bytes, watch)?;
        if let Some(forward) = &self.forward
            && forward.try_send(bytes.to_vec()).is_err()
        {
            // The local mempool has it: if this node leads, it is proposed; otherwise the client
            // learns of the delay from the finality wait and may resubmit.
            tracing::warn!("forward queue full; transaction kept locally only");
        }
        Ok(admitted)
    }

    /// Checks and admits a client's batch of encoded transactions, one by one and in order:
    /// one outcome per transaction. Stops at a fault of the node itself (storage), returning
    /// it: the transactions before it were admitted (a resubmission of them is a duplicate).
    pub fn submit_batch(
        &self,
        txs: &[Vec<u8>],
    ) -> Result<Vec<Result<Admitted, SubmitError>>, NodeError> {
        let mut outcomes = Vec::with_capacity(txs.len());
        for bytes in txs {
            match self.submit(bytes, false) {
                Err(SubmitError::Node(e)) => return Err(e),
                outcome => outcomes.push(outcome.map(|(admitted, _)| admitted)),
            }
        }
        Ok(outcomes)
    }

    /// Admits a transaction another node forwarded: checked like any other, not forwarded again.
    pub fn admit_relayed(&self, bytes: &[u8]) -> Result<Admitted, SubmitError> {
        self.admit(bytes, false).map(|(admitted, _)| admitted)
    }

    fn admit(
        &self,
        bytes: &[u8],
        watch: bool,
    ) -> Result<(Admitted, Option<oneshot::Receiver<TxFate>>), SubmitError> {
        let chain = &self.chain;
        let tip = chain.tip()?;
        let ctx = AdmitContext {
            suite: chain.suite(),
            chain_id: chain.chain_id(),
            next_height: tip.height + 1,
            expiry_blocks_max: chain.params().tx_expiry_blocks_max,
        };
        // The cheap refusals first (decoding, chain, expiry, the committed index, a full pool),
        // the signature check after them: a client or peer that floods a full pool or replays
        // committed transactions costs no signature checks.
        let tx = Mempool::screen(&ctx, bytes)?;
        // The id and the witness hash from one encoding (the node hashes each transaction in
        // several places; here it is done once).
        let digested = tx.digested(chain.suite());
        let id = digested.id();
        // `screen` refused an expired transaction: one that has not expired is committed only
        // if this says so.
        if chain.committed_unexpired(&id, tx.tx.expires_at_height)? {
            return Err(AdmitError::AlreadyCommitted { id }.into());
        }
        self.mempool()?.precheck(&id, &tx, bytes.len())?;
        // An exact copy of a transaction this node checked already (the witness hash covers the
        // body and every signature): a client's retry, a second forward. Its signatures are not
        // checked again, so resending a waiting transaction costs hashes, not a signature check.
        let known = chain.was_verified(&digested.witness());
        if !known {
            self.signature_checks_total.fetch_add(1, Ordering::Relaxed);
        }
        let verified = verify_digested_known(chain.suite(), digested, &|_| known)
            .map_err(AdmitError::Signature)?;
        if !known {
            chain.note_verified(digested.witness());
        }
        // Nobody may fill the pool with transactions no registered entity may send (say,
        // self-signed anchors from fresh keys): refused here, not left for the block builder.
        if let Some(refusal) = chain.authority_refusal(verified)? {
            return Err(AdmitError::Unauthorised(refusal).into());
        }
        let receiver = if watch {
            Some(self.finality.watch(id).ok_or(SubmitError::TooManyWaiters)?)
        } else {
            None
        };
        // A resubmission (e.g. a proposal with more approvals: same id, more signatures) gets a
        // fresh fate.
        self.finality.forget_refusal(&id);
        let admitted = self.mempool()?.insert(id, tx, bytes.len())?;
        self.wake.notify_one();
        Ok((admitted, receiver))
    }

    /// The pool, locked.
    pub fn mempool(&self) -> Result<MutexGuard<'_, Mempool>, NodeError> {
        self.mempool.lock().map_err(|_| NodeError::Internal {
            reason: "mempool lock poisoned".into(),
        })
    }

    /// Completes when a transaction was admitted since the last completion (or now, if one was
    /// admitted while nobody waited).
    pub(super) fn admitted(&self) -> Notified<'_> {
        self.wake.notified()
    }

    /// Batches of forwarded transactions waiting for their checks.
    pub fn relay_backlog(&self) -> usize {
        self.relay_backlog.load(Ordering::Relaxed)
    }

    /// A batch of forwarded transactions was queued for its signature checks.
    pub fn relay_queued(&self) {
        self.relay_backlog.fetch_add(1, Ordering::Relaxed);
    }

    /// Batches of forwarded transactions checked since the node started.
    pub fn relay_checked_total(&self) -> u64 {
        self.relay_checked_total.load(Ordering::Relaxed)
    }

    /// Transactions whose signatures admission checked since the node started.
    pub fn signature_checks_total(&self) -> u64 {
        self.signature_checks_total.load(Ordering::Relaxed)
    }

    /// A queued batch of forwarded transactions was checked (or dropped unchecked).
    pub fn relay_checked(&self) {
        self.relay_checked_total.fetch_add(1, Ordering::Relaxed);
        // Never below zero, whatever the order of the calls (a wrapped count would refuse
        // every client with a spurious 503).
        let _ = self
            .relay_backlog
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| {
                Some(n.saturating_sub(1))
            });
    }
}

/// Why a submission failed: the transaction (client's fault) or the node.
#[derive(Debug, thiserror::Error)]
pub enum SubmitError {
    #[error(transparent)]
    Admit(#[from] AdmitError),
    #[error(transparent)]
    Node(#[from] NodeError),
    #[error("too many clients are waiting for finality; submit without waiting and poll")]
    TooManyWaiters,
    #[error(
        "the validators are checking {backlog} batches of forwarded transactions; retry shortly"
    )]
    Overloaded { backlog: usize },
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;
    use crate::mempool::Limits;
    use lichen_contracts::codec::Encode;
    use lichen_contracts::crypto::Suite;
    use lichen_contracts::testkit::TestChain;
    use lichen_contracts::tx::{Payload, SignedTransaction};
    use lichen_storage::MemoryKv;

    fn anchor(chain: &mut TestChain, label: &str) -> SignedTransaction {
        let hash = chain.suite.digest(label.as_bytes());
        chain.signed(
            Payload::AnchorEvidence {
                hash,
                submitter: "court-1".into(),
                label: label.into(),
            },
            "court-1",
        )
    }

    /// Admission to a pool with `limits` over a new in-memory chain from `test_chain`'s genesis.
    fn admission(test_chain: &TestChain, limits: Limits) -> Admission {
        let chain = Chain::open(Arc::new(MemoryKv::new()), test_chain.genesis.clone(), 4).unwrap();
        Admission::new(
            Arc::new(chain),
            Mempool::new(limits),
            Arc::new(Finality::default()),
            None,
        )
    }

    /// A full pool refuses before any signature is checked: a forged transaction gets
    /// `Full`, not `Signature` (the cheap refusal first), while a copy of one already waiting
    /// is still a duplicate, and a forged one is refused for its signature once there is room.
    #[test]
    fn a_full_pool_refuses_before_the_signature_check() {
        for suite in [Suite::Intl, Suite::Sm] {
            let mut test_chain = TestChain::new(suite, 1);
            let limits = Limits {
                txs_max: 1,
                bytes_max: 1 << 20,
            };
            let admission = admission(&test_chain, limits);
            let first = anchor(&mut test_chain, "first").to_bytes();
            let (admitted, _) = admission.submit(&first, false).unwrap();
            assert!(!admitted.duplicate);

            let mut forged = anchor(&mut test_chain, "forged");
            forged.tx.nonce += 1;
            let forged = forged.to_bytes();
            let full = |bytes: &[u8]| match admission.submit(bytes, false) {
                Err(SubmitError::Admit(AdmitError::Full { txs, .. })) => txs,
                other => panic!("{suite:?}: expected Full, got {other:?}"),
            };
            assert_eq!(full(&forged), 1);
            assert_eq!(full(&anchor(&mut test_chain, "second").to_bytes()), 1);
            let (again, _) = admission.submit(&first, false).unwrap();
            assert!(again.duplicate);

            let id = admitted.id;
            admission.mempool().unwrap().remove([id]);
            assert!(matches!(
                admission.submit(&forged, false),
                Err(SubmitError::Admit(AdmitError::Signature(_)))
            ));
            assert!(admission.mempool().unwrap().is_empty());
        }
    }

    /// A copy of a transaction already checked (a client's retry, a second forward) is a
    /// duplicate at the cost of hashes: no second signature check. The same body with other
    /// signatures is checked (its witness hash differs), and a forged copy is still refused.
    #[test]
    fn an_exact_copy_is_not_checked_again() {
        for suite in [Suite::Intl, Suite::Sm] {
            let mut test_chain = TestChain::new(suite, 1);
            let admission = admission(&test_chain, Limits::default());
            let tx = anchor(&mut test_chain, "once");
            let bytes = tx.to_bytes();
            let (first, _) = admission.submit(&bytes, false).unwrap();
            assert!(!first.duplicate);
            assert_eq!(admission.signature_checks_total(), 1);
            for _ in 0..3 {
                let (again, _) = admission.submit(&bytes, false).unwrap();
                assert!(again.duplicate);
            }
            assert_eq!(
                admission.signature_checks_total(),
                1,
                "{suite:?}: no check again"
            );

            // The same body, its signature replaced by another's over the same id: checked.
            let mut forged = tx.clone();
            let other = anchor(&mut test_chain, "other");
            forged.signatures[0].signature = other.signatures[0].signature;
            assert!(matches!(
                admission.submit(&forged.to_bytes(), false),
                Err(SubmitError::Admit(AdmitError::Signature(_)))
            ));
            assert_eq!(admission.signature_checks_total(), 2);
            // And a copy of the refused one is checked (and refused) again: only what verified
            // is remembered.
            assert!(admission.submit(&forged.to_bytes(), false).is_err());
            assert_eq!(admission.signature_checks_total(), 3);
        }
    }
}
