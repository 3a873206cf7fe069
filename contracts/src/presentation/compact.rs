//! Compact presentations: a licence record and its state proof against a trust package's
//! checkpoint, without the header, certificate and set changes the verifier already holds in its
//! package. What remains fits a QR code a phone reads easily.

use super::expect_tag;
use crate::codec::{Decode, Encode, Reader, Writer};
use crate::error::CodecError;
use crate::model::Licence;
use crate::smt::StateProof;

/// Leading byte of an encoded [`CompactPresentation`].
pub const COMPACT_TAG: u8 = 0x43; // 'C'

/// A licence as of a checkpoint: verifiable only with the trust package of that checkpoint.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct CompactPresentation {
    /// The checkpoint whose state root the proof leads to.
    pub checkpoint_height: u64,
    pub licence: Licence,
    pub proof: StateProof,
}

impl Encode for CompactPresentation {
    fn encode_to(&self, w: &mut Writer) {
        w.u8(COMPACT_TAG);
        w.u64(self.checkpoint_height);
        self.licence.encode_to(w);
        self.proof.encode_to(w);
    }
}

impl Decode for CompactPresentation {
    fn decode_from(r: &mut Reader<'_>) -> Result<Self, CodecError> {
        expect_tag(r, COMPACT_TAG, "compact presentation")?;
        Ok(CompactPresentation {
            checkpoint_height: r.u64()?,
            licence: Licence::decode_from(r)?,
            proof: StateProof::decode_from(r)?,
        })
    }
}
