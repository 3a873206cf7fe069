//! The mempool: transactions waiting for a block, bounded in count and bytes.
//!
//! Admission runs the checks that do not depend on state, once: size, decoding, chain id,
//! expiry window, signatures. Whether the rules accept a transaction (an authorised agency, a
//! licence that exists...) is decided when a block is built, against the state of that moment;
//! a transaction refused then leaves the pool with its reason.

use std::collections::{BTreeMap, HashMap, VecDeque};

use foldhash::fast::RandomState;
use lichen_contracts::codec::Encode;
use lichen_contracts::crypto::{Hash32, Suite};
use lichen_contracts::error::CodecError;
use lichen_contracts::ledger::TxError;
use lichen_contracts::replay::expiry_window;
use lichen_contracts::tx::{SignedTransaction, TX_BYTES_MAX};

/// Default bound on pending transactions.
pub const MEMPOOL_TXS_MAX_DEFAULT: usize = 50_000;
/// Default bound on the encoded bytes of pending transactions.
pub const MEMPOOL_BYTES_MAX_DEFAULT: usize = 64 * 1024 * 1024;
/// One sender (the key of a transaction's first signature) may hold at most this fraction
/// (1/`SENDER_SHARES`) of the pool's count and of its bytes: one agency's runaway import or
/// stolen key fills its share and gets back-pressure, and the others still get in.
pub const SENDER_SHARES: usize = 4;

/// Why a transaction was not admitted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AdmitError {
    #[error("transaction is {size} bytes; at most {max} are accepted")]
    TooLarge { size: usize, max: usize },
    #[error("transaction does not decode: {reason}")]
    Malformed { reason: String },
    #[error("transaction is for chain '{found}', this node runs '{expected}'")]
    WrongChain { expected: String, found: String },
    #[error("transaction expired at height {expires_at_height}; the next block is {next_height}")]
    Expired {
        expires_at_height: u64,
        next_height: u64,
    },
    #[error(
        "transaction expires at height {expires_at_height}, more than {max_ahead} blocks after the next block {next_height}"
    )]
    ExpiryTooFar {
        expires_at_height: u64,
        next_height: u64,
        max_ahead: u64,
    },
    #[error("signatures: {0}")]
    Signature(TxError),
    #[error("refused: {0}")]
    Unauthorised(TxError),
    #[error("transaction {id} is already committed")]
    AlreadyCommitted { id: Hash32 },
    #[error("the mempool is full ({txs} transactions, {bytes} bytes); retry later")]
    Full { txs: usize, bytes: usize },
    #[error(
        "this signer already has {txs} transactions ({bytes} bytes) waiting, its share of the mempool; retry later"
    )]
    SenderFull { txs: usize, bytes: usize },
}

/// Bounds of the pool.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    pub txs_max: usize,
    pub bytes_max: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            txs_max: MEMPOOL_TXS_MAX_DEFAULT,
            bytes_max: MEMPOOL_BYTES_MAX_DEFAULT,
        }
    }
}

/// What the pool knows of the chain when admitting.
#[derive(Clone, Copy, Debug)]
pub struct AdmitContext<'a> {
    pub suite: Suite,
    pub chain_id: &'a str,
    pub next_height: u64,
    pub expiry_blocks_max: u64,
}

/// The outcome of a successful admission.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Admitted {
    pub id: Hash32,
    /// The same transaction was already waiting.
    pub duplicate: bool,
}

#[derive(Debug)]
struct Pending {
    tx: SignedTransaction,
    bytes: usize,
}

/// Pending transactions in arrival order.
#[derive(Debug)]
pub struct Mempool {
    limits: Limits,
    /// Only looked up by id (every walk goes through `order`), so hashed.
    by_id: HashMap<Hash32, Pending, RandomState>,
    order: VecDeque<Hash32>,
    bytes: usize,
    /// Per sender (its first signature's key, encoded): transactions and bytes waiting.
    by_sender: BTreeMap<Vec<u8>, (usize, usize)>,
}

/// Who a transaction counts against: the key of its first signature.
fn sender(tx: &SignedTransaction) -> Vec<u8> {
    tx.signatures
        .first()
        .map(|s| s.key.to_bytes())
        .unwrap_or_default()
}

impl Mempool {
    pub fn new(limits: Limits) -> Self {
        Mempool {
            limits,
            by_id: HashMap::default(),
            order: VecDeque::new(),
            bytes: 0,
            by_sender: BTreeMap::new(),
        }
    }

    pub fn len(&self) -> usize {
        self.by_id.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_id.is_empty()
    }

    pub fn bytes(&self) -> usize {
        self.bytes
    }

    pub fn limits(&self) -> Limits {
        self.limits
    }

    pub fn contains(&self, id: &Hash32) -> bool {
        self.by_id.contains_key(id)
    }

    /// Decodes and checks `bytes` without touching the pool: [`Mempool::screen`], then the
    /// signature check, as admission runs them (with its lookups between).
    #[cfg(test)]
    pub fn check(ctx: &AdmitContext<'_>, bytes: &[u8]) -> Result<SignedTransaction, AdmitError> {
        let tx = Self::screen(ctx, bytes)?;
        lichen_contracts::ledger::verify_signatures(ctx.suite, &tx)
            .map_err(AdmitError::Signature)?;
        Ok(tx)
    }

    /// The checks before the signature check: decoding, the chain and the expiry window,
    /// which cost a few microseconds against a signature check's tens (Ed25519) or hundreds (SM2).
    pub fn screen(ctx: &AdmitContext<'_>, bytes: &[u8]) -> Result<SignedTransaction, AdmitError> {
        let tx = SignedTransaction::from_wire(bytes).map_err(|e| match e {
            CodecError::TooLong {
                field: "transaction",
                len,
                max,
            } => AdmitError::TooLarge { size: len, max },
            other => AdmitError::Malformed {
                reason: other.to_string(),
            },
        })?;
        if tx.tx.chain_id != ctx.chain_id {
            return Err(AdmitError::WrongChain {
                expected: ctx.chain_id.to_string(),
                found: tx.tx.chain_id.clone(),
            });
        }
        let expires = tx.tx.expires_at_height;
        let window = expiry_window(ctx.next_height, ctx.expiry_blocks_max);
        if expires < *window.start() {
            return Err(AdmitError::Expired {
                expires_at_height: expires,
                next_height: ctx.next_height,
            });
        }
        if expires > *window.end() {
            return Err(AdmitError::ExpiryTooFar {
                expires_at_height: expires,
                next_height: ctx.next_height,
                max_ahead: ctx.expiry_blocks_max,
            });
        }
        Ok(tx)
    }

    /// Adds a checked transaction, given with its id and encoded length as admission computed
    /// them (each a hash or an encoding of the transaction, not done twice). A transaction
    /// already waiting is not added twice.
    pub fn insert(
        &mut self,
        id: Hash32,
        tx: SignedTransaction,
        bytes: usize,
    ) -> Result<Admitted, AdmitError> {
        if self.by_id.contains_key(&id) {
            return Ok(Admitted {
                id,
                duplicate: true,
            });
        }
        let who = sender(&tx);
        let (txs, sender_bytes) = self.room_for(&who, bytes)?;
        self.by_sender.insert(who, (txs + 1, sender_bytes + bytes));
        self.bytes += bytes;
        self.by_id.insert(id, Pending { tx, bytes });
        self.order.push_back(id);
        Ok(Admitted {
            id,
            duplicate: false,
        })
    }

    /// Refuses at once a transaction the pool could not take (full, or its sender's share
    /// full), so that admission spends no signature check on it: `Ok` if `tx` is waiting
    /// already (a duplicate) or there is room for it now. [`Mempool::insert`] decides again.
    pub fn precheck(
        &self,
        id: &Hash32,
        tx: &SignedTransaction,
        bytes: usize,
    ) -> Result<(), AdmitError> {
        if self.by_id.contains_key(id) {
            return Ok(());
        }
        self.room_for(&sender(tx), bytes).map(|_| ())
    }

    /// Room for `bytes` more from `who`: its transactions and bytes waiting, or why not.
    fn room_for(&self, who: &[u8], bytes: usize) -> Result<(usize, usize), AdmitError> {
        if self.by_id.len() >= self.limits.txs_max || self.bytes + bytes > self.limits.bytes_max {
            return Err(AdmitError::Full {
                txs: self.by_id.len(),
                bytes: self.bytes,
            });
        }
        let (txs, sender_bytes) = self.by_sender.get(who).copied().unwrap_or((0, 0));
        let (share_txs, share_bytes) = (
            (self.limits.txs_max / SENDER_SHARES).max(1),
            (self.limits.bytes_max / SENDER_SHARES).max(TX_BYTES_MAX),
        );
        if txs >= share_txs || sender_bytes + bytes > share_bytes {
            return Err(AdmitError::SenderFull {
                txs,
                bytes: sender_bytes,
            });
        }
        Ok((txs, sender_bytes))
    }

    /// Up to `max` waiting transactions, oldest first (they stay in the pool until removed).
    pub fn candidates(&self, max: usize) -> Vec<SignedTransaction> {
        self.order
            .iter()
            .filter_map(|id| self.by_id.get(id))
            .take(max)
            .map(|p| p.tx.clone())
            .collect()
    }

    /// Removes transactions (committed or refused).
    pub fn remove(&mut self, ids: impl IntoIterator<Item = Hash32>) {
        for id in ids {
            if let Some(p) = self.by_id.remove(&id) {
                self.bytes -= p.bytes;
                let who = sender(&p.tx);
                if let Some((txs, bytes)) = self.by_sender.get_mut(&who) {
                    *txs -= 1;
                    *bytes -= p.bytes;
                    if *txs == 0 {
                        self.by_sender.remove(&who);
                    }
                }
            }
        }
        if self.order.len() > 2 * self.by_id.len() + 64 {
            self.order.retain(|id| self.by_id.contains_key(id));
        }
        while let Some(front) = self.order.front() {
            if self.by_id.contains_key(front) {
                break;
            }
            self.order.pop_front();
        }
    }

    /// Drops transactions that can no longer be included at `next_height`; returns their ids.
    pub fn expire(&mut self, next_height: u64) -> Vec<Hash32> {
        // By id, each once (`order` may hold an id twice).
        let mut gone: Vec<Hash32> = self
            .order
            .iter()
            .filter(|id| {
                self.by_id.get(id).is_some_and(|p| {
                    !expiry_window(next_height, u64::MAX).contains(&p.tx.tx.expires_at_height)
                })
            })
            .copied()
            .collect();
        gone.sort_unstable();
        gone.dedup();
        self.remove(gone.iter().copied());
        gone
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;
    use lichen_contracts::crypto::Suite;
    use lichen_contracts::testkit::TestChain;
    use lichen_contracts::tx::{Payload, TX_BYTES_MAX};

    fn evidence_tx(chain: &mut TestChain, label: &str) -> SignedTransaction {
        evidence_tx_by(chain, label, "court-1")
    }

    /// Inserts `tx` with its id and length, as admission does.
    fn put(
        pool: &mut Mempool,
        suite: Suite,
        tx: SignedTransaction,
    ) -> Result<Admitted, AdmitError> {
        let bytes = tx.to_bytes().len();
        pool.insert(tx.id(suite), tx, bytes)
    }

    /// An anchor signed by `signer`'s key (the pool checks signatures, not authority).
    fn evidence_tx_by(chain: &mut TestChain, label: &str, signer: &str) -> SignedTransaction {
        let hash = chain.suite.digest(label.as_bytes());
        chain.signed(
            Payload::AnchorEvidence {
                hash,
                submitter: "court-1".into(),
                label: label.into(),
            },
            signer,
        )
    }

    fn ctx(chain: &TestChain) -> AdmitContext<'_> {
        AdmitContext {
            suite: chain.suite,
            chain_id: chain.chain_id(),
            next_height: 1,
            expiry_blocks_max: 1_000,
        }
    }

    #[test]
    fn admits_once_and_orders_by_arrival() {
        let mut chain = TestChain::new(Suite::Intl, 1);
        let a = evidence_tx(&mut chain, "a");
        let b = evidence_tx(&mut chain, "b");
        let mut pool = Mempool::new(Limits::default());
        for tx in [&a, &b, &a] {
            let checked = Mempool::check(&ctx(&chain), &tx.to_bytes()).unwrap();
            put(&mut pool, chain.suite, checked).unwrap();
        }
        assert_eq!(pool.len(), 2);
        assert_eq!(pool.candidates(10), vec![a.clone(), b.clone()]);
        pool.remove([a.id(chain.suite)]);
        assert_eq!(pool.candidates(10), vec![b.clone()]);
        assert_eq!(pool.bytes(), b.to_bytes().len());
    }

    #[test]
    fn refuses_bad_input_with_specific_errors() {
        let mut chain = TestChain::new(Suite::Intl, 1);
        let good = evidence_tx(&mut chain, "x");
        let c = ctx(&chain);
        assert!(matches!(
            Mempool::check(&c, &[1, 2, 3]),
            Err(AdmitError::Malformed { .. })
        ));
        assert!(matches!(
            Mempool::check(&c, &vec![0u8; TX_BYTES_MAX + 1]),
            Err(AdmitError::TooLarge { .. })
        ));
        let mut forged = good.clone();
        forged.tx.nonce += 1;
        assert!(matches!(
            Mempool::check(&c, &forged.to_bytes()),
            Err(AdmitError::Signature(TxError::BadSignature { .. }))
        ));
        let other = AdmitContext {
            chain_id: "other-chain",
            ..c
        };
        assert!(matches!(
            Mempool::check(&other, &good.to_bytes()),
            Err(AdmitError::WrongChain { .. })
        ));
        let late = AdmitContext {
            next_height: good.tx.expires_at_height + 1,
            ..c
        };
        assert!(matches!(
            Mempool::check(&late, &good.to_bytes()),
            Err(AdmitError::Expired { .. })
        ));
        let near = AdmitContext {
            expiry_blocks_max: 0,
            ..c
        };
        if good.tx.expires_at_height > 1 {
            assert!(matches!(
                Mempool::check(&near, &good.to_bytes()),
                Err(AdmitError::ExpiryTooFar { .. })
            ));
        }
    }

    #[test]
    fn full_pool_says_so_and_expiry_frees_it() {
        let mut chain = TestChain::new(Suite::Intl, 1);
        let mut pool = Mempool::new(Limits {
            txs_max: 4,
            bytes_max: 1 << 20,
        });
        // Four senders, one each (a sender's share is a quarter of the pool).
        for signer in ["court-1", "agency-a", "agency-b", "council-0"] {
            put(
                &mut pool,
                chain.suite,
                evidence_tx_by(&mut chain, signer, signer),
            )
            .unwrap();
        }
        let fifth = evidence_tx_by(&mut chain, "5", "council-1");
        assert!(matches!(
            put(&mut pool, chain.suite, fifth.clone()),
            Err(AdmitError::Full { txs: 4, .. })
        ));
        let expiry = fifth.tx.expires_at_height;
        assert_eq!(pool.expire(expiry + 1).len(), 4);
        assert!(pool.is_empty());
        assert_eq!(pool.bytes(), 0);
        put(&mut pool, chain.suite, fifth).unwrap();
        assert_eq!(pool.len(), 1);
    }

    #[test]
    fn one_sender_fills_only_its_share_and_others_still_get_in() {
        let mut chain = TestChain::new(Suite::Intl, 1);
        let mut pool = Mempool::new(Limits {
            txs_max: 8,
            bytes_max: 1 << 20,
        });
        let mine: Vec<SignedTransaction> = (0..3)
            .map(|i| evidence_tx(&mut chain, &format!("mine {i}")))
            .collect();
        for tx in &mine[..2] {
            put(&mut pool, chain.suite, tx.clone()).unwrap();
        }
        assert!(matches!(
            put(&mut pool, chain.suite, mine[2].clone()),
            Err(AdmitError::SenderFull { txs: 2, .. })
        ));
        // Another sender is not held up by it...
        put(
            &mut pool,
            chain.suite,
            evidence_tx_by(&mut chain, "theirs", "agency-a"),
        )
        .unwrap();
        // ...and one of the sender's own leaving (committed) makes room for its next.
        pool.remove([mine[0].id(chain.suite)]);
        put(&mut pool, chain.suite, mine[2].clone()).unwrap();
        assert_eq!(pool.len(), 3);
    }
}
