//! The ledger's entities: what lives in state, their limits and canonical encodings.
//!
//! Field order in each struct is its byte order (PROTOCOL.md, "State entries"). Every variable
//! field has a named maximum, checked on decode and by the ledger rules.
//!
//! `entities` holds the registered parties (agencies, submitters, licence types); `validators`
//! the validators, their set and the observers; `chain_config` the council and the chain's
//! parameters; `licence` the licence records and anchored evidence.

mod chain_config;
mod entities;
mod licence;
mod validators;

pub use chain_config::{ChainConfig, ChainParams, Council};
pub use entities::{Agency, LicenceType, Submitter};
pub use licence::{Evidence, Licence, LicenceDraft, LicenceStatus, holder_commitment};
pub(crate) use validators::read_peer_id;
pub use validators::{Observer, Validator, ValidatorSet, check_peer_id};

use alloc::vec::Vec;

use crate::codec::{Decode, Encode, Reader, Writer};
use crate::crypto::PublicKey;
use crate::error::CodecError;

/// Maximum length of a chain id, in bytes.
pub const CHAIN_ID_LEN_MAX: usize = 64;
/// Maximum length of agency, submitter and validator ids and licence-type codes, in bytes.
pub const ID_LEN_MAX: usize = 64;
/// Maximum length of a licence id, in bytes (GB/T 36904 ids are ~75).
pub const LICENCE_ID_LEN_MAX: usize = 128;
/// Maximum length of a human-readable name, in bytes of UTF-8.
pub const NAME_LEN_MAX: usize = 256;
/// Maximum length of a reason or an evidence label, in bytes of UTF-8.
pub const TEXT_LEN_MAX: usize = 512;
/// Maximum length of a libp2p peer id, in bytes (an Ed25519 identity peer id is 38).
pub const PEER_ID_LEN_MAX: usize = 64;
/// Maximum number of validators in one set.
pub const VALIDATORS_MAX: usize = 128;
/// Maximum number of council members.
pub const COUNCIL_MEMBERS_MAX: usize = 32;
/// Maximum number of keys one agency or submitter holds at once.
pub const ENTITY_KEYS_MAX: usize = 16;
/// Maximum number of agencies authorised for one licence type.
pub const TYPE_AGENCIES_MAX: usize = 1024;

pub(crate) fn check_name(field: &'static str, name: &str, max: usize) -> Result<(), CodecError> {
    if name.trim().is_empty() {
        return Err(CodecError::InvalidValue {
            field,
            reason: "must not be blank",
        });
    }
    if name.len() > max {
        return Err(CodecError::TooLong {
            field,
            len: name.len(),
            max,
        });
    }
    if name.chars().any(char::is_control) {
        return Err(CodecError::InvalidValue {
            field,
            reason: "must not contain control characters",
        });
    }
    Ok(())
}

/// Keys of one entity: 1..=`ENTITY_KEYS_MAX`, strictly increasing (so no duplicates, one order).
pub(crate) fn check_key_list(
    field: &'static str,
    keys: &[PublicKey],
    max: usize,
) -> Result<(), CodecError> {
    if keys.is_empty() {
        return Err(CodecError::InvalidValue {
            field,
            reason: "needs at least one key",
        });
    }
    if keys.len() > max {
        return Err(CodecError::TooLong {
            field,
            len: keys.len(),
            max,
        });
    }
    if keys.windows(2).any(|w| w[0] >= w[1]) {
        return Err(CodecError::InvalidValue {
            field,
            reason: "keys must be sorted and distinct",
        });
    }
    Ok(())
}

fn read_keys(
    r: &mut Reader<'_>,
    field: &'static str,
    max: usize,
) -> Result<Vec<PublicKey>, CodecError> {
    let keys: Vec<PublicKey> = r.seq(field, max)?;
    check_key_list(field, &keys, max)?;
    Ok(keys)
}

/// Active or suspended, for agencies and evidence submitters.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
pub enum EntityStatus {
    Active,
    Suspended,
}

impl EntityStatus {
    pub fn name(self) -> &'static str {
        match self {
            EntityStatus::Active => "active",
            EntityStatus::Suspended => "suspended",
        }
    }
}

impl Encode for EntityStatus {
    fn encode_to(&self, w: &mut Writer) {
        w.u8(match self {
            EntityStatus::Active => 0,
            EntityStatus::Suspended => 1,
        });
    }
}

impl Decode for EntityStatus {
    fn decode_from(r: &mut Reader<'_>) -> Result<Self, CodecError> {
        match r.u8()? {
            0 => Ok(EntityStatus::Active),
            1 => Ok(EntityStatus::Suspended),
            tag => Err(CodecError::InvalidTag {
                what: "entity status",
                tag,
            }),
        }
    }
}
