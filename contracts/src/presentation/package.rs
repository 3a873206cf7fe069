//! Trust packages: how an offline verifier moves its trust forward from the pinned genesis
//! without trusting whoever hands the package over.
//!
//! A package is a certified *checkpoint* header reached from the genesis anchor through every
//! validator-set change (each certified by the set before it), plus the complete revocation
//! region of the checkpoint's state ([`crate::revocation`]): every licence that is not active,
//! proved complete because the region's leaves and 16 siblings rebuild the checkpoint's state
//! root. Verifying a package gives a [`TrustState`]: the validator set in force at the checkpoint
//! (validators retired before it can no longer vouch for anything) and the status of every
//! licence as of the checkpoint.

use alloc::string::String;
use alloc::vec::Vec;

use super::{Certified, TrustAnchor, expect_tag};
use crate::codec::{Decode, Encode, Reader, Writer};
use crate::crypto::{Hash32, Suite};
use crate::error::{CodecError, PackageError};
use crate::model::{CHAIN_ID_LEN_MAX, LicenceStatus};
use crate::revocation::{
    self, MARK_TAG_BYTES, REGION_DEPTH_BITS, RevocationMark, fold_region, region_leaves,
    subtree_hash,
};
use crate::smt::{Keys, LEVELS_DEPTH_MAX, LevelNode, fold_levels};

/// Leading byte of an encoded [`TrustPackage`].
pub const TRUST_PACKAGE_TAG: u8 = 0x54; // 'T'
/// Marks one package may list (17 bytes each: ~17 MiB at the limit).
pub const MARKS_MAX: usize = 1 << 20;
/// Foreign leaves one package may list (about one in 65,536 state entries).
pub const FOREIGN_LEAVES_MAX: usize = 1 << 16;
/// Maximum size of an encoded package, in bytes (checked before decoding).
pub const TRUST_PACKAGE_BYTES_MAX: usize = 24 * 1024 * 1024;
/// Domain tag of a package's fingerprint.
pub const TRUST_PACKAGE_DOMAIN: &str = "lichen/trust-package/v1";

/// A checkpoint and the revocation state at it, checkable from the genesis anchor alone.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct TrustPackage {
    pub chain_id: String,
    pub suite: Suite,
    pub genesis_hash: Hash32,
    /// The checkpoint header, its certificate and every validator-set change since genesis. The
    /// checkpoint does not itself change the set.
    pub checkpoint: Certified,
    /// The 16 siblings from the checkpoint's state root down to the revocation region.
    pub region_siblings: [Hash32; REGION_DEPTH_BITS],
    /// Every mark in the region: (tag, status), tags strictly increasing.
    pub marks: Vec<([u8; MARK_TAG_BYTES], LicenceStatus)>,
    /// Other leaves that fall in the region: (key, value hash), keys strictly increasing.
    pub foreign: Vec<(Hash32, Hash32)>,
    /// The checkpoint's tree cut at depth `levels_depth` (`2^depth` nodes; none at depth 0), so
    /// that compact presentations leave out their top siblings.
    pub levels_depth: u8,
    pub levels: Vec<LevelNode>,
}

/// Bit `j` of a bitmap: byte `j / 8`, mask `0x80 >> (j % 8)`.
fn bit(bitmap: &[u8], j: usize) -> bool {
    bitmap[j / 8] & (0x80 >> (j % 8)) != 0
}

impl Encode for TrustPackage {
    fn encode_to(&self, w: &mut Writer) {
        w.u8(TRUST_PACKAGE_TAG);
        w.str(&self.chain_id);
        self.suite.encode_to(w);
        self.genesis_hash.encode_to(w);
        self.checkpoint.encode_to(w);
        encode_siblings(&self.region_siblings, w);
        w.len(self.marks.len());
        for (tag, status) in &self.marks {
            w.raw(tag);
            status.encode_to(w);
        }
        w.len(self.foreign.len());
        for (key, value_hash) in &self.foreign {
            key.encode_to(w);
            value_hash.encode_to(w);
        }
        encode_levels(self.levels_depth, &self.levels, w);
    }
}

fn invalid(field: &'static str, reason: &'static str) -> CodecError {
    CodecError::InvalidValue { field, reason }
}

impl Decode for TrustPackage {
    fn decode_from(r: &mut Reader<'_>) -> Result<Self, CodecError> {
        expect_tag(r, TRUST_PACKAGE_TAG, "trust package")?;
        let chain_id = crate::ids::read_identifier(r, "chain id", CHAIN_ID_LEN_MAX)?;
        let suite = Suite::decode_from(r)?;
        let genesis_hash = Hash32::decode_from(r)?;
        let checkpoint = Certified::decode_from(r)?;
        let region_siblings = decode_siblings(r)?;
        let count = r.len("revocation marks", MARKS_MAX)?;
        let mut marks: Vec<([u8; MARK_TAG_BYTES], LicenceStatus)> = Vec::with_capacity(count);
        for _ in 0..count {
            let tag = r.array::<MARK_TAG_BYTES>()?;
            let status = RevocationMark::decode_from(r)?.status;
            if marks.last().is_some_and(|(last, _)| *last >= tag) {
                return Err(invalid("revocation marks", "tags not strictly increasing"));
            }
            marks.push((tag, status));
        }
        let foreign = decode_foreign(r, FOREIGN_LEAVES_MAX)?;
        let (levels_depth, levels) = decode_levels(r)?;
        Ok(TrustPackage {
            chain_id,
            suite,
            genesis_hash,
            checkpoint,
            region_siblings,
            marks,
            foreign,
            levels_depth,
            levels,
        })
    }
}

/// The 16 region siblings: `bitmap u16` (mask `0x8000 >> i` for sibling `i`), then the non-zero
/// ones.
pub(super) fn encode_siblings(siblings: &[Hash32; REGION_DEPTH_BITS], w: &mut Writer) {
    let bitmap = siblings
        .iter()
        .enumerate()
        .filter(|(_, s)| **s != Hash32::ZERO)
        .fold(0u16, |acc, (i, _)| acc | (0x8000 >> i));
    w.u16(bitmap);
    for s in siblings.iter().filter(|s| **s != Hash32::ZERO) {
        s.encode_to(w);
    }
}

pub(super) fn decode_siblings(
    r: &mut Reader<'_>,
) -> Result<[Hash32; REGION_DEPTH_BITS], CodecError> {
    let bitmap = r.u16()?;
    let mut siblings = [Hash32::ZERO; REGION_DEPTH_BITS];
    for (i, s) in siblings.iter_mut().enumerate() {
        if bitmap & (0x8000 >> i) != 0 {
            *s = Hash32::decode_from(r)?;
            if *s == Hash32::ZERO {
                return Err(invalid(
                    "region siblings",
                    "a sibling marked present is zero",
                ));
            }
        }
    }
    Ok(siblings)
}

/// Foreign leaves: `u32` count, then `key || value_hash`, keys strictly increasing, in the region,
/// not shaped like a mark or the sentinel.
pub(super) fn decode_foreign(
    r: &mut Reader<'_>,
    max: usize,
) -> Result<Vec<(Hash32, Hash32)>, CodecError> {
    let count = r.len("foreign leaves", max)?;
    let mut foreign: Vec<(Hash32, Hash32)> = Vec::with_capacity(count);
    for _ in 0..count {
        let key = Hash32::decode_from(r)?;
        let value_hash = Hash32::decode_from(r)?;
        if !revocation::in_region(&key) {
            return Err(invalid("foreign leaves", "a key outside the region"));
        }
        if revocation::is_mark_shaped(&key) || key == revocation::sentinel_key() {
            return Err(invalid(
                "foreign leaves",
                "a key shaped like a mark or the sentinel",
            ));
        }
        if foreign.last().is_some_and(|(last, _)| *last >= key) {
            return Err(invalid("foreign leaves", "keys not strictly increasing"));
        }
        foreign.push((key, value_hash));
    }
    Ok(foreign)
}

/// Tree levels: `depth u8`, then (depth > 0) the present and multi bitmaps and present hashes.
pub(super) fn encode_levels(depth: u8, levels: &[LevelNode], w: &mut Writer) {
    w.u8(depth);
    if depth > 0 {
        let bytes = (levels.len() / 8).max(1);
        let mut present = alloc::vec![0u8; bytes];
        let mut multi = alloc::vec![0u8; bytes];
        for (j, node) in levels.iter().enumerate() {
            if node.keys != Keys::None {
                present[j / 8] |= 0x80 >> (j % 8);
            }
            if node.keys == Keys::Many {
                multi[j / 8] |= 0x80 >> (j % 8);
            }
        }
        w.raw(&present);
        w.raw(&multi);
        for node in levels.iter().filter(|n| n.keys != Keys::None) {
            node.hash.encode_to(w);
        }
    }
}

pub(super) fn decode_levels(r: &mut Reader<'_>) -> Result<(u8, Vec<LevelNode>), CodecError> {
    let levels_depth = r.u8()?;
    if levels_depth > LEVELS_DEPTH_MAX {
        return Err(CodecError::TooLong {
            field: "levels depth",
            len: usize::from(levels_depth),
            max: usize::from(LEVELS_DEPTH_MAX),
        });
    }
    let mut levels = Vec::new();
    if levels_depth > 0 {
        let count = 1usize << levels_depth;
        let bytes = (count / 8).max(1);
        let present = r.take(bytes)?;
        let multi = r.take(bytes)?;
        for j in 0..bytes * 8 {
            let (p, m) = (bit(present, j), bit(multi, j));
            if (j >= count && p) || (m && !p) {
                return Err(invalid(
                    "levels",
                    "a bit set past the last node, or multi on an absent node",
                ));
            }
        }
        levels.reserve(count);
        for j in 0..count {
            if !bit(present, j) {
                levels.push(LevelNode::EMPTY);
                continue;
            }
            let hash = Hash32::decode_from(r)?;
            if hash == Hash32::ZERO {
                return Err(invalid("levels", "a present node is zero"));
            }
            let keys = if bit(multi, j) { Keys::Many } else { Keys::One };
            levels.push(LevelNode { hash, keys });
        }
    }
    Ok((levels_depth, levels))
}

/// What a verified package establishes.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct TrustState {
    /// The trust anchor moved forward: the set in force at the checkpoint, which signs the blocks
    /// after `anchor.height` (the last set change at or before the checkpoint, or genesis).
    pub anchor: TrustAnchor,
    /// The checkpoint header's height, time, hash and state root.
    pub checkpoint_height: u64,
    pub checkpoint_time_ms: u64,
    pub checkpoint_hash: Hash32,
    pub checkpoint_state_root: Hash32,
    /// Every non-active licence at the checkpoint, by mark tag (sorted).
    pub marks: Vec<([u8; MARK_TAG_BYTES], LicenceStatus)>,
    /// `H("lichen/trust-package/v1", package)`: names the package in reports.
    pub package_hash: Hash32,
    /// The checkpoint's tree cut (see [`TrustPackage::levels`]).
    pub levels_depth: u8,
    pub levels: Vec<LevelNode>,
    /// Validator-set changes between genesis and the checkpoint.
    pub set_changes: usize,
}

impl TrustState {
    /// The status of licence `id` as of the checkpoint, if it existed then: its mark's status,
    /// or active when it has none.
    pub fn status_at_checkpoint(&self, id: &str) -> LicenceStatus {
        let tag = revocation::mark_tag(self.anchor.suite, id);
        match self.marks.binary_search_by(|(t, _)| t.cmp(&tag)) {
            Ok(i) => self.marks[i].1,
            Err(_) => LicenceStatus::Active,
        }
    }

    /// Marks by status: (suspended, revoked, superseded).
    pub fn counts(&self) -> (usize, usize, usize) {
        let of = |s| self.marks.iter().filter(|(_, m)| *m == s).count();
        (
            of(LicenceStatus::Suspended),
            of(LicenceStatus::Revoked),
            of(LicenceStatus::Superseded),
        )
    }
}

impl TrustPackage {
    /// The package of the checkpoint `checkpoint` (certified from genesis) whose state holds
    /// `region` ([`crate::smt::SparseMerkleTree::region`] at the checkpoint's height): the
    /// region's leaves sorted into marks and foreign leaves, the sentinel left out. A mark that
    /// does not decode is corrupt state.
    pub fn from_region(
        anchor: &TrustAnchor,
        checkpoint: Certified,
        region: crate::smt::Region,
        levels: Vec<LevelNode>,
    ) -> Result<TrustPackage, CodecError> {
        assert!(
            levels.len().is_power_of_two() && levels.len() <= 1 << LEVELS_DEPTH_MAX,
            "a cut has 2^k nodes"
        );
        let levels_depth = levels.len().trailing_zeros() as u8;
        let levels = if levels_depth == 0 {
            Vec::new()
        } else {
            levels
        };
        let suite = anchor.suite;
        let sentinel = revocation::sentinel_key();
        let mut marks = Vec::new();
        let mut foreign = Vec::new();
        for (key, value) in &region.leaves {
            if *key == sentinel {
                continue;
            }
            if revocation::is_mark_shaped(key) {
                let mark = RevocationMark::from_bytes(value)?;
                let mut tag = [0u8; MARK_TAG_BYTES];
                tag.copy_from_slice(&key.0[2..2 + MARK_TAG_BYTES]);
                marks.push((tag, mark.status));
            } else {
                foreign.push((*key, crate::smt::value_hash(suite, value)));
            }
        }
        Ok(TrustPackage {
            chain_id: anchor.chain_id.clone(),
            suite,
            genesis_hash: anchor.genesis_hash,
            checkpoint,
            region_siblings: region.siblings,
            marks,
            foreign,
            levels_depth,
            levels,
        })
    }

    /// `H("lichen/trust-package/v1", encode(package))`.
    pub fn hash(&self) -> Hash32 {
        self.suite.hash(TRUST_PACKAGE_DOMAIN, &[&self.to_bytes()])
    }

    /// Checks the package against the genesis `anchor`: same chain and genesis; the checkpoint
    /// reached through certified set changes and certified by its signing set; the revocation
    /// region complete for its state root.
    pub fn verify(&self, anchor: &TrustAnchor) -> Result<TrustState, PackageError> {
        if self.chain_id != anchor.chain_id
            || self.suite != anchor.suite
            || self.genesis_hash != anchor.genesis_hash
        {
            return Err(PackageError::WrongChain {
                expected: anchor.chain_id.clone(),
                expected_genesis: anchor.genesis_hash,
                found: self.chain_id.clone(),
                found_genesis: self.genesis_hash,
            });
        }
        let suite = anchor.suite;
        let header = &self.checkpoint.header;
        if header.changes_validator_set() {
            return Err(PackageError::CheckpointChangesSet {
                height: header.height,
            });
        }
        let set = self
            .checkpoint
            .signing_set(anchor)
            .map_err(PackageError::Checkpoint)?;
        self.checkpoint
            .certificate
            .verify(suite, &anchor.chain_id, &anchor.genesis_hash, header, &set)
            .map_err(PackageError::Checkpoint)?;
        let leaves =
            region_leaves(suite, &self.marks, &self.foreign).ok_or(PackageError::DuplicateLeaf)?;
        let region = subtree_hash(suite, &leaves, REGION_DEPTH_BITS);
        let computed = fold_region(suite, region, leaves.len(), &self.region_siblings);
        if computed != header.state_root {
            return Err(PackageError::RegionMismatch {
                computed,
                expected: header.state_root,
            });
        }
        if self.levels_depth > 0 {
            let top = fold_levels(suite, &self.levels);
            if top.hash != header.state_root || top.keys == Keys::None {
                return Err(PackageError::LevelsMismatch {
                    computed: top.hash,
                    expected: header.state_root,
                });
            }
        }
        let set_height = self
            .checkpoint
            .set_changes
            .iter()
            .map(|c| c.header.height)
            .filter(|h| *h > anchor.height)
            .max()
            .unwrap_or(anchor.height);
        Ok(TrustState {
            anchor: TrustAnchor {
                chain_id: anchor.chain_id.clone(),
                suite,
                genesis_hash: anchor.genesis_hash,
                height: set_height,
                validators: set,
            },
            checkpoint_height: header.height,
            checkpoint_time_ms: header.time_ms,
            checkpoint_hash: header.hash(suite),
            checkpoint_state_root: header.state_root,
            marks: self.marks.clone(),
            package_hash: self.hash(),
            set_changes: self.checkpoint.set_changes.len(),
            levels_depth: self.levels_depth,
            levels: self.levels.clone(),
        })
    }
}

/// Decodes (refusing oversized input first) and verifies a package against the genesis anchor.
pub fn verify_package_bytes(
    anchor: &TrustAnchor,
    bytes: &[u8],
) -> Result<TrustState, PackageError> {
    if bytes.len() > TRUST_PACKAGE_BYTES_MAX {
        return Err(PackageError::Encoding(CodecError::TooLong {
            field: "trust package",
            len: bytes.len(),
            max: TRUST_PACKAGE_BYTES_MAX,
        }));
    }
    TrustPackage::from_bytes(bytes)
        .map_err(PackageError::Encoding)?
        .verify(anchor)
}
