//! The chain-wide configuration: the council and the parameters fixed at genesis.

use alloc::string::String;
use alloc::vec::Vec;

use super::{CHAIN_ID_LEN_MAX, COUNCIL_MEMBERS_MAX, check_key_list};
use crate::codec::{Decode, Encode, Reader, Writer};
use crate::crypto::{PublicKey, Suite};
use crate::error::CodecError;
use crate::ids;

/// The council: `threshold` of `members` must sign a governance transaction.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Council {
    /// Sorted and distinct.
    pub members: Vec<PublicKey>,
    pub threshold: u16,
}

impl Council {
    pub fn validate(&self) -> Result<(), CodecError> {
        check_key_list("council members", &self.members, COUNCIL_MEMBERS_MAX)?;
        if self.threshold == 0 || usize::from(self.threshold) > self.members.len() {
            return Err(CodecError::InvalidValue {
                field: "council threshold",
                reason: "must be between 1 and the number of members",
            });
        }
        Ok(())
    }

    pub fn is_member(&self, key: &PublicKey) -> bool {
        self.members.binary_search(key).is_ok()
    }
}

impl Encode for Council {
    fn encode_to(&self, w: &mut Writer) {
        w.seq(&self.members);
        w.u16(self.threshold);
    }
}

impl Decode for Council {
    fn decode_from(r: &mut Reader<'_>) -> Result<Self, CodecError> {
        let c = Council {
            members: r.seq("council members", COUNCIL_MEMBERS_MAX)?,
            threshold: r.u16()?,
        };
        c.validate()?;
        Ok(c)
    }
}

/// Consensus and block limits, fixed at genesis (changing them is future governance work).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct ChainParams {
    /// Timeout of view 0 at a height, in milliseconds.
    pub view_timeout_base_ms: u64,
    /// Added to the timeout for each further view at the same height, in milliseconds.
    pub view_timeout_step_ms: u64,
    /// Upper bound of any view timeout, in milliseconds.
    pub view_timeout_max_ms: u64,
    /// Target pause between blocks when transactions are waiting, in milliseconds.
    pub block_interval_ms: u64,
    /// Maximum transactions in one block.
    pub block_txs_max: u32,
    /// Maximum encoded size of one block's transactions, in bytes.
    pub block_bytes_max: u32,
    /// A transaction may name an expiry height at most this many blocks ahead; its id is
    /// remembered until then, so replays are refused.
    pub tx_expiry_blocks_max: u64,
}

impl ChainParams {
    pub const DEFAULT: ChainParams = ChainParams {
        view_timeout_base_ms: 1_000,
        view_timeout_step_ms: 1_000,
        view_timeout_max_ms: 30_000,
        block_interval_ms: 100,
        block_txs_max: 5_000,
        block_bytes_max: 8 * 1024 * 1024,
        tx_expiry_blocks_max: 1_000,
    };

    /// The timeout of `view` at any height: `min(base + view * step, max)`.
    pub fn view_timeout_ms(&self, view: u64) -> u64 {
        self.view_timeout_base_ms
            .saturating_add(view.saturating_mul(self.view_timeout_step_ms))
            .min(self.view_timeout_max_ms)
    }

    pub fn validate(&self) -> Result<(), CodecError> {
        let bad = |reason| {
            Err(CodecError::InvalidValue {
                field: "chain params",
                reason,
            })
        };
        if self.view_timeout_base_ms == 0 || self.view_timeout_max_ms < self.view_timeout_base_ms {
            return bad("view timeouts must be positive with max >= base");
        }
        if self.block_txs_max == 0 || self.block_bytes_max == 0 {
            return bad("block limits must be positive");
        }
        // Larger blocks could not be decoded, or would not fit a consensus message.
        if self.block_txs_max as usize > crate::block::BLOCK_TXS_LIMIT {
            return bad("block_txs_max is above 100000");
        }
        if self.block_bytes_max > crate::block::BLOCK_BYTES_LIMIT {
            return bad("block_bytes_max is above 8388608 (8 MiB)");
        }
        // A smaller bound would leave the largest valid transaction in the pool forever.
        if (self.block_bytes_max as usize) < crate::tx::TX_BYTES_MAX {
            return bad(
                "block_bytes_max must hold one transaction of the largest size (65536 bytes)",
            );
        }
        if self.tx_expiry_blocks_max == 0 {
            return bad("tx_expiry_blocks_max must be positive");
        }
        Ok(())
    }
}

impl Encode for ChainParams {
    fn encode_to(&self, w: &mut Writer) {
        w.u64(self.view_timeout_base_ms);
        w.u64(self.view_timeout_step_ms);
        w.u64(self.view_timeout_max_ms);
        w.u64(self.block_interval_ms);
        w.u32(self.block_txs_max);
        w.u32(self.block_bytes_max);
        w.u64(self.tx_expiry_blocks_max);
    }
}

impl Decode for ChainParams {
    fn decode_from(r: &mut Reader<'_>) -> Result<Self, CodecError> {
        let p = ChainParams {
            view_timeout_base_ms: r.u64()?,
            view_timeout_step_ms: r.u64()?,
            view_timeout_max_ms: r.u64()?,
            block_interval_ms: r.u64()?,
            block_txs_max: r.u32()?,
            block_bytes_max: r.u32()?,
            tx_expiry_blocks_max: r.u64()?,
        };
        p.validate()?;
        Ok(p)
    }
}

/// Chain-wide configuration kept in state: identity, suite, council and parameters.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct ChainConfig {
    pub chain_id: String,
    pub suite: Suite,
    pub council: Council,
    pub params: ChainParams,
}

impl ChainConfig {
    pub fn validate(&self) -> Result<(), CodecError> {
        ids::check_identifier("chain id", &self.chain_id, CHAIN_ID_LEN_MAX)?;
        self.council.validate()?;
        self.params.validate()
    }
}

impl Encode for ChainConfig {
    fn encode_to(&self, w: &mut Writer) {
        w.str(&self.chain_id);
        self.suite.encode_to(w);
        self.council.encode_to(w);
        self.params.encode_to(w);
    }
}

impl Decode for ChainConfig {
    fn decode_from(r: &mut Reader<'_>) -> Result<Self, CodecError> {
        let c = ChainConfig {
            chain_id: crate::ids::read_identifier(r, "chain id", CHAIN_ID_LEN_MAX)?,
            suite: Suite::decode_from(r)?,
            council: Council::decode_from(r)?,
            params: ChainParams::decode_from(r)?,
        };
        c.validate()?;
        Ok(c)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn blocks_must_fit_a_consensus_message() {
        let mut p = ChainParams::DEFAULT;
        p.block_bytes_max = crate::block::BLOCK_BYTES_LIMIT;
        p.block_txs_max = crate::block::BLOCK_TXS_LIMIT as u32;
        assert!(p.validate().is_ok());
        for (bytes, txs, reason) in [
            (p.block_bytes_max + 1, p.block_txs_max, "8 MiB"),
            (p.block_bytes_max, p.block_txs_max + 1, "100000"),
        ] {
            let q = ChainParams {
                block_bytes_max: bytes,
                block_txs_max: txs,
                ..p
            };
            let err = q.validate().unwrap_err();
            assert!(
                matches!(err, CodecError::InvalidValue { reason: r, .. } if r.contains(reason)),
                "{err:?}"
            );
        }
    }

    #[test]
    fn a_block_must_hold_the_largest_transaction() {
        let mut p = ChainParams::DEFAULT;
        p.block_bytes_max = crate::tx::TX_BYTES_MAX as u32;
        assert!(p.validate().is_ok());
        p.block_bytes_max -= 1;
        let err = p.validate().unwrap_err();
        assert!(
            matches!(err, CodecError::InvalidValue { reason, .. } if reason.contains("largest size")),
            "{err:?}"
        );
    }
}
