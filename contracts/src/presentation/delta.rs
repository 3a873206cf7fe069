//! Trust-package deltas: what changed between a verifier's package and a newer checkpoint, so a
//! scanner refreshes its trust with a small download. A delta is not trusted either: applied to
//! the base package it gives a full package, which is then verified from the genesis anchor like
//! any other (PROTOCOL.md, "Trust packages").

use alloc::string::String;
use alloc::vec::Vec;

use super::{Certified, SET_CHANGES_MAX, SetChange, TrustPackage, expect_tag};
use crate::block::{BlockHeader, CommitCertificate};
use crate::codec::{Decode, Encode, Reader, Writer};
use crate::crypto::{Hash32, Suite};
use crate::error::{CodecError, PackageError};
use crate::model::{CHAIN_ID_LEN_MAX, LicenceStatus};
use crate::revocation::{MARK_TAG_BYTES, RevocationMark};
use crate::smt::{Keys, LEVELS_DEPTH_MAX, LevelNode};

use super::package::{
    FOREIGN_LEAVES_MAX, MARKS_MAX, decode_foreign, decode_levels, decode_siblings, encode_levels,
    encode_siblings,
};

/// Leading byte of an encoded [`TrustDelta`].
pub const TRUST_DELTA_TAG: u8 = 0x64; // 'd'
/// Changed tree-level nodes one delta may list.
pub const LEVEL_CHANGES_MAX: usize = 1 << LEVELS_DEPTH_MAX;

/// How the tree levels change: node by node at the same depth, or all of them anew.
#[derive(Clone, PartialEq, Eq, Debug)]
pub enum LevelsUpdate {
    /// `(index, node)` for each node that changed, indices strictly increasing.
    Changed(Vec<(u32, LevelNode)>),
    /// A new depth: every node.
    Full { depth: u8, nodes: Vec<LevelNode> },
}

/// The changes from the package of checkpoint `base_height` (block hash `base_hash`) to a newer
/// checkpoint.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct TrustDelta {
    pub chain_id: String,
    pub suite: Suite,
    pub genesis_hash: Hash32,
    pub base_height: u64,
    pub base_hash: Hash32,
    /// The new checkpoint and its certificate.
    pub header: BlockHeader,
    pub certificate: CommitCertificate,
    /// The validator-set changes after the base checkpoint, before the new one.
    pub set_changes: Vec<SetChange>,
    pub region_siblings: [Hash32; crate::revocation::REGION_DEPTH_BITS],
    /// `(tag, status)` of every mark that appeared, changed or went (`None`), tags strictly
    /// increasing.
    pub mark_changes: Vec<([u8; MARK_TAG_BYTES], Option<LicenceStatus>)>,
    /// Every foreign leaf of the new region (they are few).
    pub foreign: Vec<(Hash32, Hash32)>,
    pub levels: LevelsUpdate,
}

impl Encode for TrustDelta {
    fn encode_to(&self, w: &mut Writer) {
        w.u8(TRUST_DELTA_TAG);
        w.str(&self.chain_id);
        self.suite.encode_to(w);
        self.genesis_hash.encode_to(w);
        w.u64(self.base_height);
        self.base_hash.encode_to(w);
        self.header.encode_to(w);
        self.certificate.encode_to(w);
        w.seq(&self.set_changes);
        encode_siblings(&self.region_siblings, w);
        w.len(self.mark_changes.len());
        for (tag, status) in &self.mark_changes {
            w.raw(tag);
            w.u8(status.map_or(0, |s| s.to_bytes()[0]));
        }
        w.len(self.foreign.len());
        for (key, value_hash) in &self.foreign {
            key.encode_to(w);
            value_hash.encode_to(w);
        }
        match &self.levels {
            LevelsUpdate::Changed(changes) => {
                w.u8(0);
                w.len(changes.len());
                for (index, node) in changes {
                    w.u32(*index);
                    w.u8(match node.keys {
                        Keys::None => 0,
                        Keys::One => 1,
                        Keys::Many => 2,
                    });
                    if node.keys != Keys::None {
                        node.hash.encode_to(w);
                    }
                }
            }
            LevelsUpdate::Full { depth, nodes } => {
                w.u8(1);
                encode_levels(*depth, nodes, w);
            }
        }
    }
}

fn invalid(field: &'static str, reason: &'static str) -> CodecError {
    CodecError::InvalidValue { field, reason }
}

impl Decode for TrustDelta {
    fn decode_from(r: &mut Reader<'_>) -> Result<Self, CodecError> {
        expect_tag(r, TRUST_DELTA_TAG, "trust package delta")?;
        let chain_id = crate::ids::read_identifier(r, "chain id", CHAIN_ID_LEN_MAX)?;
        let suite = Suite::decode_from(r)?;
        let genesis_hash = Hash32::decode_from(r)?;
        let base_height = r.u64()?;
        let base_hash = Hash32::decode_from(r)?;
        let header = BlockHeader::decode_from(r)?;
        let certificate = CommitCertificate::decode_from(r)?;
        let set_changes = r.seq("set changes", SET_CHANGES_MAX)?;
        let region_siblings = decode_siblings(r)?;
        let count = r.len("revocation mark changes", MARKS_MAX)?;
        let mut mark_changes: Vec<([u8; MARK_TAG_BYTES], Option<LicenceStatus>)> =
            Vec::with_capacity(count);
        for _ in 0..count {
            let tag = r.array::<MARK_TAG_BYTES>()?;
            let status = match r.u8()? {
                0 => None,
                byte => Some(RevocationMark::from_bytes(&[byte])?.status),
            };
            if mark_changes.last().is_some_and(|(last, _)| *last >= tag) {
                return Err(invalid(
                    "revocation mark changes",
                    "tags not strictly increasing",
                ));
            }
            mark_changes.push((tag, status));
        }
        let foreign = decode_foreign(r, FOREIGN_LEAVES_MAX)?;
        let levels = match r.u8()? {
            0 => {
                let count = r.len("level changes", LEVEL_CHANGES_MAX)?;
                let mut changes: Vec<(u32, LevelNode)> = Vec::with_capacity(count);
                for _ in 0..count {
                    let index = r.u32()?;
                    if changes.last().is_some_and(|(last, _)| *last >= index) {
                        return Err(invalid("level changes", "indices not strictly increasing"));
                    }
                    let keys = match r.u8()? {
                        0 => Keys::None,
                        1 => Keys::One,
                        2 => Keys::Many,
                        tag => {
                            return Err(CodecError::InvalidTag {
                                what: "level node",
                                tag,
                            });
                        }
                    };
                    let hash = if keys == Keys::None {
                        Hash32::ZERO
                    } else {
                        let h = Hash32::decode_from(r)?;
                        if h == Hash32::ZERO {
                            return Err(invalid("level changes", "a present node is zero"));
                        }
                        h
                    };
                    changes.push((index, LevelNode { hash, keys }));
                }
                LevelsUpdate::Changed(changes)
            }
            1 => {
                let (depth, nodes) = decode_levels(r)?;
                LevelsUpdate::Full { depth, nodes }
            }
            tag => {
                return Err(CodecError::InvalidTag {
                    what: "levels update",
                    tag,
                });
            }
        };
        Ok(TrustDelta {
            chain_id,
            suite,
            genesis_hash,
            base_height,
            base_hash,
            header,
            certificate,
            set_changes,
            region_siblings,
            mark_changes,
            foreign,
            levels,
        })
    }
}

/// Decodes a delta, refusing more than [`super::TRUST_PACKAGE_BYTES_MAX`] bytes before parsing.
pub fn decode_delta_bytes(bytes: &[u8]) -> Result<TrustDelta, PackageError> {
    if bytes.len() > super::TRUST_PACKAGE_BYTES_MAX {
        return Err(PackageError::Encoding(CodecError::TooLong {
            field: "trust package delta",
            len: bytes.len(),
            max: super::TRUST_PACKAGE_BYTES_MAX,
        }));
    }
    TrustDelta::from_bytes(bytes).map_err(PackageError::Encoding)
}

impl TrustDelta {
    /// The full package this delta leads to from `base`. Nothing here is trusted: verify the
    /// result ([`TrustPackage::verify`]) before using it.
    pub fn apply(&self, base: &TrustPackage) -> Result<TrustPackage, PackageError> {
        let base_header = &base.checkpoint.header;
        if self.chain_id != base.chain_id
            || self.suite != base.suite
            || self.genesis_hash != base.genesis_hash
        {
            return Err(PackageError::WrongChain {
                expected: base.chain_id.clone(),
                expected_genesis: base.genesis_hash,
                found: self.chain_id.clone(),
                found_genesis: self.genesis_hash,
            });
        }
        if self.base_height != base_header.height || self.base_hash != base_header.hash(base.suite)
        {
            return Err(PackageError::WrongBase {
                delta_base: self.base_height,
                package: base_header.height,
            });
        }
        // Merge the mark changes into the base's sorted marks.
        let mut marks = Vec::with_capacity(base.marks.len() + self.mark_changes.len());
        let mut changes = self.mark_changes.iter().peekable();
        for (tag, status) in &base.marks {
            while let Some((t, s)) = changes.next_if(|(t, _)| t < tag) {
                if let Some(s) = s {
                    marks.push((*t, *s));
                }
            }
            match changes.next_if(|(t, _)| t == tag) {
                Some((_, Some(s))) => marks.push((*tag, *s)),
                Some((_, None)) => {}
                None => marks.push((*tag, *status)),
            }
        }
        for (t, s) in changes {
            if let Some(s) = s {
                marks.push((*t, *s));
            }
        }
        if marks.len() > MARKS_MAX {
            return Err(PackageError::Encoding(CodecError::TooLong {
                field: "revocation marks",
                len: marks.len(),
                max: MARKS_MAX,
            }));
        }
        let (levels_depth, levels) = match &self.levels {
            LevelsUpdate::Full { depth, nodes } => (*depth, nodes.clone()),
            LevelsUpdate::Changed(changes) => {
                let mut levels = base.levels.clone();
                for (index, node) in changes {
                    let slot = levels
                        .get_mut(*index as usize)
                        .ok_or(PackageError::Encoding(invalid(
                            "level changes",
                            "an index past the base's levels",
                        )))?;
                    *slot = *node;
                }
                (base.levels_depth, levels)
            }
        };
        let mut set_changes = base.checkpoint.set_changes.clone();
        set_changes.extend(self.set_changes.iter().cloned());
        if set_changes.len() > SET_CHANGES_MAX {
            return Err(PackageError::Encoding(CodecError::TooLong {
                field: "set changes",
                len: set_changes.len(),
                max: SET_CHANGES_MAX,
            }));
        }
        Ok(TrustPackage {
            chain_id: self.chain_id.clone(),
            suite: self.suite,
            genesis_hash: self.genesis_hash,
            checkpoint: Certified {
                header: self.header.clone(),
                certificate: self.certificate.clone(),
                set_changes,
            },
            region_siblings: self.region_siblings,
            marks,
            foreign: self.foreign.clone(),
            levels_depth,
            levels,
        })
    }

    /// The delta from `base` to `new` (both built by the caller from certified state).
    pub fn between(base: &TrustPackage, new: &TrustPackage) -> TrustDelta {
        let base_header = &base.checkpoint.header;
        let mut mark_changes = Vec::new();
        let (mut a, mut b) = (base.marks.iter().peekable(), new.marks.iter().peekable());
        loop {
            match (a.peek(), b.peek()) {
                (None, None) => break,
                (Some((ta, _)), None) => {
                    mark_changes.push((*ta, None));
                    a.next();
                }
                (None, Some((tb, sb))) => {
                    mark_changes.push((*tb, Some(*sb)));
                    b.next();
                }
                (Some((ta, sa)), Some((tb, sb))) => {
                    if ta < tb {
                        mark_changes.push((*ta, None));
                        a.next();
                    } else if tb < ta {
                        mark_changes.push((*tb, Some(*sb)));
                        b.next();
                    } else {
                        if sa != sb {
                            mark_changes.push((*tb, Some(*sb)));
                        }
                        a.next();
                        b.next();
                    }
                }
            }
        }
        let levels = if base.levels_depth == new.levels_depth {
            LevelsUpdate::Changed(
                base.levels
                    .iter()
                    .zip(&new.levels)
                    .enumerate()
                    .filter(|(_, (x, y))| x != y)
                    .map(|(i, (_, y))| (i as u32, *y))
                    .collect(),
            )
        } else {
            LevelsUpdate::Full {
                depth: new.levels_depth,
                nodes: new.levels.clone(),
            }
        };
        TrustDelta {
            chain_id: new.chain_id.clone(),
            suite: new.suite,
            genesis_hash: new.genesis_hash,
            base_height: base_header.height,
            base_hash: base_header.hash(base.suite),
            header: new.checkpoint.header.clone(),
            certificate: new.checkpoint.certificate.clone(),
            set_changes: new
                .checkpoint
                .set_changes
                .iter()
                .filter(|c| c.header.height > base_header.height)
                .cloned()
                .collect(),
            region_siblings: new.region_siblings,
            mark_changes,
            foreign: new.foreign.clone(),
            levels,
        }
    }
}
