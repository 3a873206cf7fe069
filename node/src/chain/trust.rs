//! Trust packages and compact presentations built from the committed chain, and the cache that
//! makes serving a package cheap.
//!
//! A checkpoint is the latest committed block that does not change the validator set (any
//! certified block can be one; nodes need not agree on which). The package is rebuilt only when
//! the tip moved and either a licence's status or the validator set changed since the cached
//! checkpoint, or the cached one is older than [`TRUST_PACKAGE_REFRESH_MS`]: at most once per
//! block, however many clients ask. Deltas (`since` a client's checkpoint) rebuild the base
//! package from the state kept at that height and are cached per base for the current package
//! (at most [`DELTAS_CACHED_MAX`]).

use std::sync::{Arc, Mutex};

use lichen_contracts::codec::Encode;
use lichen_contracts::model::Licence;
use lichen_contracts::presentation::{
    CompactPresentation, CompactProof, TrustDelta, TrustPackage, TrustState,
};
use lichen_contracts::smt::{LEVELS_DEPTH_MAX, SparseMerkleTree, levels_for};
use lichen_contracts::state::{StateKey, decode_entry};

use super::{Chain, lock_poisoned};
use crate::error::NodeError;

/// Keys sampled to estimate the tree's depth.
const DEPTH_SAMPLES: u32 = 16;

/// Deltas kept for the current package, one per base checkpoint.
pub const DELTAS_CACHED_MAX: usize = 16;

/// How old a cached trust package may get while the tip moves on without status or set
/// changes, in milliseconds.
pub const TRUST_PACKAGE_REFRESH_MS: u64 = 10_000;

/// A built package: its bytes (what is served) and what it establishes (what the node's own
/// `POST /v1/verify` uses).
#[derive(Debug)]
pub struct BuiltPackage {
    pub package: TrustPackage,
    /// The encoding, shared by every response (a clone is a reference count, not a copy).
    pub bytes: axum::body::Bytes,
    pub state: TrustState,
    pub built_at_ms: u64,
    /// Deltas to this package, by base checkpoint height.
    deltas: Mutex<std::collections::BTreeMap<u64, axum::body::Bytes>>,
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

    /// The tree levels a package at `height` carries: the tree's depth, estimated from the
    /// proofs of a few sample keys, less `smt::COMPACT_SIBLINGS_TARGET` (`smt::levels_for`).
    fn package_levels(&self, height: u64) -> Result<u8, NodeError> {
        let tree = SparseMerkleTree::new(&self.store, self.suite);
        let mut total = 0usize;
        for i in 0..DEPTH_SAMPLES {
            let key = self.suite.hash("lichen/depth-sample", &[&i.to_be_bytes()]);
            total += tree.get_with_proof(&key, height)?.1.depth();
        }
        Ok(levels_for(total / DEPTH_SAMPLES as usize))
    }

    /// Builds a trust package at the latest checkpoint, with `levels` tree levels (default:
    /// `Chain::package_levels`).
    pub fn build_trust_package(&self, levels: Option<u8>) -> Result<TrustPackage, NodeError> {
        self.build_trust_package_at(self.checkpoint_height()?, levels)
    }

    /// Builds the trust package of checkpoint `height` (a kept state version of a block that does
    /// not change the set).
    fn build_trust_package_at(
        &self,
        height: u64,
        levels: Option<u8>,
    ) -> Result<TrustPackage, NodeError> {
        let tree = SparseMerkleTree::new(&self.store, self.suite);
        let region = tree.region(height)?;
        let levels = match levels {
            Some(k) => k.min(LEVELS_DEPTH_MAX),
            None => self.package_levels(height)?,
        };
        Ok(TrustPackage::from_region(
            &self.anchor,
            self.certified(height)?,
            region,
            tree.levels(height, levels)?,
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
        let package = self.build_trust_package(None)?;
        let state = package
            .verify(&self.anchor)
            .map_err(|e| NodeError::Internal {
                reason: format!("the trust package built here does not verify: {e}"),
            })?;
        let built = Arc::new(BuiltPackage {
            bytes: package.to_bytes().into(),
            package,
            state,
            built_at_ms: now_ms,
            deltas: Mutex::new(std::collections::BTreeMap::new()),
        });
        *latest = Some(built.clone());
        Ok(built)
    }

    /// The delta from the package of checkpoint `since` to the latest package, and the latest
    /// package's checkpoint. Refused when `since` is not a checkpoint (it changes the set, or lies
    /// ahead of the latest), or its state is no longer kept (then fetch a full package).
    pub fn trust_delta(
        &self,
        since: u64,
        now_ms: u64,
    ) -> Result<(axum::body::Bytes, Arc<BuiltPackage>), NodeError> {
        let latest = self.trust_package(now_ms)?;
        if let Some(delta) = latest
            .deltas
            .lock()
            .map_err(|_| lock_poisoned())?
            .get(&since)
        {
            return Ok((delta.clone(), latest.clone()));
        }
        let checkpoint = latest.state.checkpoint_height;
        let header = self
            .header(since)?
            .filter(|_| since > 0 && since <= checkpoint);
        if header.as_ref().is_none_or(|h| h.changes_validator_set()) {
            return Err(NodeError::NotACheckpoint {
                height: since,
                latest: checkpoint,
            });
        }
        let oldest = self.store.pruned_below()?.max(1);
        if since < oldest {
            return Err(NodeError::Pruned {
                height: since,
                oldest,
            });
        }
        let base = self.build_trust_package_at(since, Some(self.package_levels(since)?))?;
        let delta = axum::body::Bytes::from(TrustDelta::between(&base, &latest.package).to_bytes());
        let mut deltas = latest.deltas.lock().map_err(|_| lock_poisoned())?;
        if deltas.len() >= DELTAS_CACHED_MAX {
            deltas.pop_first();
        }
        deltas.insert(since, delta.clone());
        drop(deltas);
        Ok((delta, latest))
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
        let proof = CompactProof::from_state_proof(&proof, package.state.levels_depth).ok_or_else(
            || NodeError::Internal {
                reason: format!("the proof of licence '{id}' ends in no leaf"),
            },
        )?;
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
