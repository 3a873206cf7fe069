//! Memos of pure checks (only with the `memo` feature, which needs std): a public key that
//! passed validation, with its parsed form (per thread: the hot path of admission and votes
//! takes no lock); a certificate's signatures that verified for a vote and a validator set
//! (shared by the process: a certificate verified on any thread makes the next presentation of
//! that height cheap on every thread, which is how the HTTP API knows it may verify one without
//! leaving its worker). A node sees the same few agency and validator keys in every transaction
//! and vote, and the same certificates in every presentation of a recent height.
//!
//! Only what passed is ever put in, keyed by everything the check read, and a check's outcome
//! depends on nothing else: a memo changes no verdict, only how often the work is done. Each is
//! bounded and starts over when full, so a flood of fresh keys or certificates only empties it.

use alloc::collections::BTreeMap;
use alloc::vec::Vec;
use core::cell::RefCell;
use std::sync::RwLock;

use crate::crypto::{Hash32, SigAlgo, VerifyingKey};

/// Keys kept per thread, at most.
pub const KEYS_MAX: usize = 4_096;
/// Verified certificates kept, at most.
pub const CERTIFICATES_MAX: usize = 1_024;

/// What a certificate's signature check read: the vote's signing hash, the validator set's hash
/// and the encoded signatures.
type CertificateKey = (Hash32, Hash32, Vec<u8>);

std::thread_local! {
    static KEYS: RefCell<BTreeMap<(SigAlgo, [u8; 33]), VerifyingKey>> =
        const { RefCell::new(BTreeMap::new()) };
}

static CERTIFICATES: RwLock<BTreeMap<CertificateKey, ()>> = RwLock::new(BTreeMap::new());

fn remember<K: Ord, V>(map: &mut BTreeMap<K, V>, max: usize, key: K, value: V) {
    if map.len() >= max {
        map.clear();
    }
    map.insert(key, value);
}

/// A key that passed validation, parsed.
pub fn key(algo: SigAlgo, bytes: &[u8; 33]) -> Option<VerifyingKey> {
    KEYS.with(|k| k.borrow().get(&(algo, *bytes)).cloned())
}

/// Remembers a key that passed validation.
pub fn remember_key(algo: SigAlgo, bytes: [u8; 33], key: VerifyingKey) {
    KEYS.with(|k| remember(&mut k.borrow_mut(), KEYS_MAX, (algo, bytes), key));
}

/// Whether these signatures verified for this vote and set before (a poisoned memo remembers
/// nothing).
pub fn certificate_verified(message: &Hash32, set_hash: &Hash32, signatures: &[u8]) -> bool {
    CERTIFICATES.read().is_ok_and(|c| {
        // Keyed by an owned vector: the lookup builds one (a few hundred bytes, no hashing).
        c.contains_key(&(*message, *set_hash, signatures.to_vec()))
    })
}

/// Remembers signatures that verified for a vote and a set.
pub fn remember_certificate(message: Hash32, set_hash: Hash32, signatures: Vec<u8>) {
    if let Ok(mut c) = CERTIFICATES.write() {
        remember(
            &mut c,
            CERTIFICATES_MAX,
            (message, set_hash, signatures),
            (),
        );
    }
}
