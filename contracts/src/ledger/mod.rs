//! The ledger rules: a pure function from (state, transaction, block context) to the state writes
//! the transaction makes, or the specific reason it is refused.
//!
//! Nothing here reads a clock or storage directly: the block's height and time come in a
//! [`BlockContext`], state comes through a [`StateView`], and the result is a [`TxOutcome`] the
//! caller applies. Applying the same transactions to the same state gives the same writes on
//! every node.
//!
//! This module holds the entry points (signature checks, [`apply_tx`]); `rules` the checks and
//! writes of each payload, grouped as council operations, licence operations and evidence; and
//! `events` what an accepted transaction reports. [`TxError`] lives in [`crate::error`].

mod events;
mod rules;

use alloc::string::ToString;
use alloc::vec::Vec;

use crate::crypto::{Hash32, PublicKey, Suite, verify_batch};
use crate::error::{CryptoError, StorageError};
use crate::model::ChainConfig;
use crate::replay::{ReplayLookup, expiry_window};
use crate::state::{StateKey, StateView, StateViewExt};
use crate::tx::{DigestedTx, SignedTransaction, TX_SIGNATURES_MAX, TxSignature};

pub use crate::error::TxError;
pub use events::{Event, TxOutcome};

/// The block a transaction executes in.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct BlockContext {
    pub height: u64,
    /// The block's time, milliseconds since the Unix epoch (UTC): the proposer's clock, agreed by
    /// the validators that certify the block.
    pub time_ms: u64,
}

/// A transaction whose signatures have been checked against its id. Only [`verify_signatures`] and
/// its variants make one, so [`apply_tx`] cannot be handed an unchecked transaction.
#[derive(Clone, Copy, Debug)]
pub struct VerifiedTx<'a> {
    tx: &'a SignedTransaction,
    id: Hash32,
}

impl<'a> VerifiedTx<'a> {
    pub fn id(&self) -> Hash32 {
        self.id
    }

    pub fn tx(&self) -> &'a SignedTransaction {
        self.tx
    }
}

/// Stateless checks: signature count, distinct signers, the suite's algorithm, and every
/// signature over the transaction id.
pub fn verify_signatures(suite: Suite, tx: &SignedTransaction) -> Result<VerifiedTx<'_>, TxError> {
    verify_signatures_of(suite, tx, tx.id(suite))
}

/// [`verify_signatures`] for a transaction whose id is already computed.
pub fn verify_digested<'a>(suite: Suite, tx: DigestedTx<'a>) -> Result<VerifiedTx<'a>, TxError> {
    verify_signatures_of(suite, tx.tx(), tx.id())
}

/// The checks of [`verify_signatures`] over `id`, which is `tx`'s (the callers above make sure).
fn verify_signatures_of(
    suite: Suite,
    tx: &SignedTransaction,
    id: Hash32,
) -> Result<VerifiedTx<'_>, TxError> {
    check_signers(suite, &tx.signatures)?;
    let items: Vec<(&PublicKey, &[u8], &crate::crypto::Signature)> = tx
        .signatures
        .iter()
        .map(|s| (&s.key, id.as_bytes().as_slice(), &s.signature))
        .collect();
    verify_batch(&items).map_err(|e| match e {
        CryptoError::BatchItemInvalid { index } => TxError::BadSignature { index },
        _ => TxError::BadSignature { index: 0 },
    })?;
    Ok(VerifiedTx { tx, id })
}

/// Like [`verify_signatures`], but trusts an earlier check of this very signed transaction:
/// `already_verified` is asked about its witness hash (which covers the body and every
/// signature), and on `true` only the cheap signer checks run. The node passes the witness hashes
/// it verified at mempool admission, so a transaction's signatures are checked once per node.
pub fn verify_signatures_known<'a>(
    suite: Suite,
    tx: &'a SignedTransaction,
    already_verified: &dyn Fn(&Hash32) -> bool,
) -> Result<VerifiedTx<'a>, TxError> {
    verify_digested_known(suite, tx.digested(suite), already_verified)
}

/// [`verify_signatures_known`] for a transaction whose digests are already computed.
pub fn verify_digested_known<'a>(
    suite: Suite,
    tx: DigestedTx<'a>,
    already_verified: &dyn Fn(&Hash32) -> bool,
) -> Result<VerifiedTx<'a>, TxError> {
    if already_verified(&tx.witness()) {
        check_signers(suite, &tx.tx().signatures)?;
        return Ok(VerifiedTx {
            tx: tx.tx(),
            id: tx.id(),
        });
    }
    verify_digested(suite, tx)
}

fn check_signers(suite: Suite, sigs: &[TxSignature]) -> Result<(), TxError> {
    if sigs.is_empty() {
        return Err(TxError::Unsigned);
    }
    if sigs.len() > TX_SIGNATURES_MAX {
        return Err(TxError::TooManySignatures {
            count: sigs.len(),
            max: TX_SIGNATURES_MAX,
        });
    }
    for (i, s) in sigs.iter().enumerate() {
        check_algo(suite, &s.key)?;
        if sigs[..i].iter().any(|earlier| earlier.key == s.key) {
            return Err(TxError::DuplicateSigner { key: s.key.clone() });
        }
    }
    Ok(())
}

fn check_algo(suite: Suite, key: &PublicKey) -> Result<(), TxError> {
    if key.algo() != suite.sig_algo() {
        return Err(TxError::WrongAlgorithm {
            key: key.clone(),
            expected: suite.sig_algo(),
            found: key.algo(),
        });
    }
    Ok(())
}

fn check_algos(suite: Suite, keys: &[PublicKey]) -> Result<(), TxError> {
    keys.iter().try_for_each(|k| check_algo(suite, k))
}

/// Reads the chain configuration, which genesis always writes.
pub fn chain_config<S: StateView + ?Sized>(
    state: &S,
    suite: Suite,
) -> Result<ChainConfig, TxError> {
    state
        .get_entry(suite, &StateKey::Config)?
        .ok_or(TxError::State(StorageError::Backend {
            reason: "chain configuration missing from state (no genesis?)".to_string(),
        }))
}

/// Applies one verified transaction to `state`, returning its writes and events.
pub fn apply_tx<S: StateView + ?Sized>(
    suite: Suite,
    state: &S,
    replay: &dyn ReplayLookup,
    tx: VerifiedTx<'_>,
    ctx: &BlockContext,
) -> Result<TxOutcome, TxError> {
    apply_tx_as(suite, state, Some(replay), tx, ctx, false).map(|rules| rules.out)
}

/// The refusals [`apply_tx`] would make up to and including its checks of who signed (those
/// [`TxError::is_unauthorised`] names): what a node's admission asks before it lets a
/// transaction wait, at less cost. It looks up no replay (a replay is no matter of authority),
/// and an issue stops once its signer is found to be the agency's, before it reads the licence
/// type and the licence. Its `Ok` means only that no check of authority refused.
pub fn check_authority<S: StateView + ?Sized>(
    suite: Suite,
    state: &S,
    tx: VerifiedTx<'_>,
    ctx: &BlockContext,
) -> Result<(), TxError> {
    apply_tx_as(suite, state, None, tx, ctx, true).map(|_| ())
}

fn apply_tx_as<'a, S: StateView + ?Sized>(
    suite: Suite,
    state: &'a S,
    replay: Option<&dyn ReplayLookup>,
    tx: VerifiedTx<'a>,
    ctx: &'a BlockContext,
    authority_only: bool,
) -> Result<Rules<'a, S>, TxError> {
    let config = chain_config(state, suite)?;
    let body = &tx.tx.tx;
    if body.chain_id != config.chain_id {
        return Err(TxError::WrongChain {
            expected: config.chain_id,
            found: body.chain_id.clone(),
        });
    }
    let window = expiry_window(ctx.height, config.params.tx_expiry_blocks_max);
    if body.expires_at_height < *window.start() {
        return Err(TxError::Expired {
            expires_at_height: body.expires_at_height,
            height: ctx.height,
        });
    }
    let max_height = *window.end();
    if body.expires_at_height > max_height {
        return Err(TxError::ExpiryTooFar {
            expires_at_height: body.expires_at_height,
            max_height,
            height: ctx.height,
        });
    }
    if let Some(replay) = replay
        && replay
            .contains(&tx.id, body.expires_at_height)
            .map_err(TxError::State)?
    {
        return Err(TxError::Duplicate { tx_id: tx.id });
    }
    let mut rules = Rules {
        suite,
        state,
        config,
        ctx,
        tx_id: tx.id,
        signers: &tx.tx.signatures,
        authority_only,
        out: TxOutcome::default(),
    };
    rules.apply(&body.payload)?;
    Ok(rules)
}

/// Who authorised a licence operation.
enum Authority {
    Agency,
    Council,
}

struct Rules<'a, S: StateView + ?Sized> {
    suite: Suite,
    state: &'a S,
    config: ChainConfig,
    ctx: &'a BlockContext,
    tx_id: Hash32,
    signers: &'a [TxSignature],
    /// Only the checks of who signed matter ([`check_authority`]): an operation may stop once
    /// they passed.
    authority_only: bool,
    out: TxOutcome,
}
