//! The bytes of a state-chunk answer (`GET /v1/snapshot/{height}/chunks`): nothing in them is
//! hashed or signed (each chunk is checked against a verified trust package's tree levels), but
//! they are specified in PROTOCOL.md, "State sync", so that any client can read them.
//!
//! `height u64 ‖ depth u8 ‖ first u32 ‖ count u32 (1..=CHUNKS_PER_ANSWER_MAX)`, then for each of
//! the `count` chunks `first..first + count`: `leaves u32`, then each leaf in key order:
//! `key (32) ‖ value length u32 (<= 64 KiB) ‖ value`. Nothing may follow.

use lichen_contracts::codec::{Decode, Encode, Reader, Writer};
use lichen_contracts::crypto::Hash32;
use lichen_contracts::error::CodecError;
use lichen_contracts::smt::{ChunkLeaves, LEVELS_DEPTH_MAX, VALUE_LEN_MAX};

/// Chunks one answer covers, at most.
pub const CHUNKS_PER_ANSWER_MAX: usize = 4_096;
/// Bytes of keys and values after which an answer stops at the end of its chunk (it always
/// holds one whole chunk, however large).
pub const CHUNK_ANSWER_BYTES_SOFT_MAX: usize = 4 * 1024 * 1024;
/// Bytes of one answer a client reads, at most: the soft limit and one chunk of a very large
/// state (a chunk at depth 16 of 10^9 leaves is ~15,000 leaves).
pub const CHUNK_ANSWER_BYTES_MAX: usize = 64 * 1024 * 1024;
/// Leaves of one chunk, at most (bounds what a decoder allocates).
pub const CHUNK_LEAVES_MAX: usize = 1 << 20;

/// Consecutive chunks of the state at `height`, cut at `depth` bits.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SnapshotChunks {
    pub height: u64,
    pub depth: u8,
    pub first: u32,
    pub chunks: ChunkLeaves,
}

impl Encode for SnapshotChunks {
    fn encode_to(&self, w: &mut Writer) {
        w.u64(self.height);
        w.u8(self.depth);
        w.u32(self.first);
        w.u32(self.chunks.len() as u32);
        for chunk in &self.chunks {
            w.u32(chunk.len() as u32);
            for (key, value) in chunk {
                key.encode_to(w);
                w.bytes(value);
            }
        }
    }
}

impl Decode for SnapshotChunks {
    fn decode_from(r: &mut Reader<'_>) -> Result<Self, CodecError> {
        let height = r.u64()?;
        let depth = r.u8()?;
        if depth > LEVELS_DEPTH_MAX {
            return Err(CodecError::InvalidValue {
                field: "chunk depth",
                reason: "deeper than the deepest tree levels (16)",
            });
        }
        let first = r.u32()?;
        let count = r.len("chunks", CHUNKS_PER_ANSWER_MAX)?;
        if count == 0 || u64::from(first) + count as u64 > 1u64 << depth {
            return Err(CodecError::InvalidValue {
                field: "chunks",
                reason: "no chunk, or chunks beyond the cut",
            });
        }
        let mut chunks = Vec::with_capacity(count);
        for _ in 0..count {
            let leaves = r.len("chunk leaves", CHUNK_LEAVES_MAX)?;
            let mut chunk = Vec::with_capacity(leaves.min(4_096));
            for _ in 0..leaves {
                let key = Hash32::decode_from(r)?;
                chunk.push((key, r.bytes("leaf value", VALUE_LEN_MAX)?));
            }
            chunks.push(chunk);
        }
        Ok(SnapshotChunks {
            height,
            depth,
            first,
            chunks,
        })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn chunks_round_trip(height in any::<u64>(), first in 0u32..8, sizes in proptest::collection::vec(0usize..4, 1..8)) {
            let chunks: ChunkLeaves = sizes
                .iter()
                .enumerate()
                .map(|(i, n)| (0..*n).map(|j| (Hash32([(i * 8 + j) as u8; 32]), vec![j as u8; j])).collect())
                .collect();
            let answer = SnapshotChunks { height, depth: 4, first, chunks };
            let bytes = answer.to_bytes();
            prop_assert_eq!(SnapshotChunks::from_bytes(&bytes).unwrap(), answer);
            // Any truncation, and any byte appended, is refused.
            prop_assert!(SnapshotChunks::from_bytes(&bytes[..bytes.len() - 1]).is_err());
            let mut longer = bytes.clone();
            longer.push(0);
            prop_assert!(SnapshotChunks::from_bytes(&longer).is_err());
        }
    }

    #[test]
    fn chunks_beyond_the_cut_are_refused() {
        let answer = SnapshotChunks {
            height: 1,
            depth: 1,
            first: 1,
            chunks: vec![Vec::new(), Vec::new()],
        };
        assert!(SnapshotChunks::from_bytes(&answer.to_bytes()).is_err());
        let deep = SnapshotChunks {
            height: 1,
            depth: 17,
            first: 0,
            chunks: vec![Vec::new()],
        };
        assert!(SnapshotChunks::from_bytes(&deep.to_bytes()).is_err());
    }
}
