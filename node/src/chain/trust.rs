//! Trust packages and compact presentations built from the committed chain, and the cache that
//! makes serving a package cheap.
//!
//! A checkpoint is the latest committed block that does not change the validator set (any
//! certified block can be one; nodes need not agree on which). The package is rebuilt only when
//! the tip moved and either a licence's status or the validator set changed since the cached
//! checkpoint, or the cached one is older than [`TRUST_PACKAGE_REFRESH_MS`]: at most once per
//! block, however many clients ask.

use std::sync::{Arc, Mutex};

use lichen_contracts::codec::Encode;
use lichen_contracts::model::Licence;
use lichen_contracts::presentation::{CompactPresentation, TrustPackage, TrustState};
use lichen_contracts::smt::SparseMerkleTree;
use lichen_contracts::state::{StateKey, decode_entry};

use super::{Chain, lock_poisoned};
use crate::error::NodeError;

/// How old a cached trust package may get while the tip moves on without status or set
/// changes, in milliseconds.
pub const TRUST_PACKAGE_REFRESH_MS: u64 = 10_000;

/// A built package: its bytes (what is served) and what it establishes (what the node's own
/// `POST /v1/verify` uses).
#[derive(Debug)]
pub struct BuiltPackage {
    pub bytes: Vec<u8>,
    pub state: TrustState,
    pub built_at_ms: u64,
}

/// The latest package, and whether a commit since made it out of date.
#[derive(Debug, Default)]
pub(super) struct PackageCache {
    latest: Mutex<Option<Arc<BuiltPackage>>>,
    /// Set by a commit that changed a licence's status or the validator set.
    stale: std::sync::atomic::AtomicBool,
}

impl PackageCache {
    pub(super) fn mark_stale(&self) {
        self.stale.store(true, std::sync::atomic::Ordering::Release);
    }
}

impl Chain {
    /// The latest committed block that does not change the validator set.
    fn checkpoint_height(&self) -> Result<u64, NodeError> {
        let mut height = self.tip()?.height;
        while height > 0 {
            let header = self.header(height)?.ok_or_else(|| NodeError::Internal {
                reason: format!("header of block {height} missing from storage"),
            })?;
            if !header.changes_validator_set() {
                return Ok(height);
            }
            height -= 1;
        }
        Err(NodeError::NoCertifiedBlock)
    }

    /// Builds a trust package at the latest checkpoint.
    pub fn build_trust_package(&self) -> Result<TrustPackage, NodeError> {
        let height = self.checkpoint_height()?;
        let region = SparseMerkleTree::new(&self.store, self.suite).region(height)?;
        Ok(TrustPackage::from_region(
            &self.anchor,
            self.certified(height)?,
            region,
        )?)
    }

    /// The latest trust package, from the cache unless it is out of date (see the module
    /// documentation). The package is verified against the genesis anchor before it is kept, as
    /// any verifier would: a bug that built a wrong one is refused here, not served.
    pub fn trust_package(&self, now_ms: u64) -> Result<Arc<BuiltPackage>, NodeError> {
        let mut latest = self.packages.latest.lock().map_err(|_| lock_poisoned())?;
        let tip = self.tip()?.height;
        if let Some(cached) = latest.as_ref() {
            let moved = tip > cached.state.checkpoint_height;
            let stale = self
                .packages
                .stale
                .load(std::sync::atomic::Ordering::Acquire);
            let old = now_ms.saturating_sub(cached.built_at_ms) >= TRUST_PACKAGE_REFRESH_MS;
            if !moved || !(stale || old) {
                return Ok(cached.clone());
            }
        }
        self.packages
            .stale
            .store(false, std::sync::atomic::Ordering::Release);
        let package = self.build_trust_package()?;
        let state = package
            .verify(&self.anchor)
            .map_err(|e| NodeError::Internal {
                reason: format!("the trust package built here does not verify: {e}"),
            })?;
        let built = Arc::new(BuiltPackage {
            bytes: package.to_bytes(),
            state,
            built_at_ms: now_ms,
        });
        *latest = Some(built.clone());
        Ok(built)
    }

    /// A compact presentation of licence `id` at the checkpoint of the latest trust package
    /// (which the verifier must hold). Refused for a licence issued after that checkpoint.
    pub fn compact_presentation(
        &self,
        id: &str,
        now_ms: u64,
    ) -> Result<(CompactPresentation, Arc<BuiltPackage>), NodeError> {
        let package = self.trust_package(now_ms)?;
        let height = package.state.checkpoint_height;
        let key = StateKey::Licence(id.to_string());
        let (value, proof) = SparseMerkleTree::new(&self.store, self.suite)
            .get_with_proof(&key.hash(self.suite), height)?;
        let value = match value {
            Some(v) => v,
            None if self.entry::<Licence>(&key)?.is_some() => {
                return Err(NodeError::NotInCheckpoint {
                    id: id.to_string(),
                    checkpoint: height,
                });
            }
            None => {
                return Err(NodeError::NotFound {
                    what: "licence",
                    id: id.to_string(),
                });
            }
        };
        let licence: Licence = decode_entry(&value)?;
        Ok((
            CompactPresentation {
                checkpoint_height: height,
                licence,
                proof,
            },
            package,
        ))
    }
}
