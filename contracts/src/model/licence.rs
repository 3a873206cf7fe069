//! Licence records (the draft an agency states, the record kept in state, its status), the
//! holder commitment, and anchored evidence.

use alloc::string::String;

use super::{ID_LEN_MAX, LICENCE_ID_LEN_MAX, TEXT_LEN_MAX};
use crate::codec::{Decode, Encode, Reader, Writer};
use crate::crypto::{Hash32, Suite, domain};
use crate::error::CodecError;
use crate::ids;

/// Where a licence stands. Revoked and superseded are final.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
pub enum LicenceStatus {
    Active,
    Suspended,
    Revoked,
    Superseded,
}

impl LicenceStatus {
    pub fn name(self) -> &'static str {
        match self {
            LicenceStatus::Active => "active",
            LicenceStatus::Suspended => "suspended",
            LicenceStatus::Revoked => "revoked",
            LicenceStatus::Superseded => "superseded",
        }
    }

    pub fn is_final(self) -> bool {
        matches!(self, LicenceStatus::Revoked | LicenceStatus::Superseded)
    }
}

impl Encode for LicenceStatus {
    fn encode_to(&self, w: &mut Writer) {
        w.u8(match self {
            LicenceStatus::Active => 0,
            LicenceStatus::Suspended => 1,
            LicenceStatus::Revoked => 2,
            LicenceStatus::Superseded => 3,
        });
    }
}

impl Decode for LicenceStatus {
    fn decode_from(r: &mut Reader<'_>) -> Result<Self, CodecError> {
        match r.u8()? {
            0 => Ok(LicenceStatus::Active),
            1 => Ok(LicenceStatus::Suspended),
            2 => Ok(LicenceStatus::Revoked),
            3 => Ok(LicenceStatus::Superseded),
            tag => Err(CodecError::InvalidTag {
                what: "licence status",
                tag,
            }),
        }
    }
}

/// What an agency states when it issues a licence. No personal data: the holder appears only as a
/// salted commitment (see [`holder_commitment`]).
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct LicenceDraft {
    pub id: String,
    pub licence_type: String,
    pub issuer: String,
    /// The chain hash (SM3 or SHA-256, untagged) of the licence file.
    pub document_hash: Hash32,
    pub holder_commitment: Hash32,
    /// Start of validity, milliseconds since the Unix epoch (UTC).
    pub valid_from_ms: u64,
    /// End of validity (exclusive), if the licence expires.
    pub valid_until_ms: Option<u64>,
}

impl LicenceDraft {
    pub fn validate(&self) -> Result<(), CodecError> {
        ids::check_licence_id(&self.id, LICENCE_ID_LEN_MAX)?;
        ids::check_identifier("licence type code", &self.licence_type, ID_LEN_MAX)?;
        ids::check_identifier("agency id", &self.issuer, ID_LEN_MAX)?;
        if let Some(until) = self.valid_until_ms
            && until <= self.valid_from_ms
        {
            return Err(CodecError::InvalidValue {
                field: "validity window",
                reason: "valid_until must be after valid_from",
            });
        }
        Ok(())
    }
}

impl Encode for LicenceDraft {
    fn encode_to(&self, w: &mut Writer) {
        w.str(&self.id);
        w.str(&self.licence_type);
        w.str(&self.issuer);
        self.document_hash.encode_to(w);
        self.holder_commitment.encode_to(w);
        w.u64(self.valid_from_ms);
        w.option(&self.valid_until_ms);
    }
}

impl Decode for LicenceDraft {
    fn decode_from(r: &mut Reader<'_>) -> Result<Self, CodecError> {
        let d = LicenceDraft {
            id: r.str("licence id", LICENCE_ID_LEN_MAX)?,
            licence_type: r.str("licence type code", ID_LEN_MAX)?,
            issuer: r.str("agency id", ID_LEN_MAX)?,
            document_hash: Hash32::decode_from(r)?,
            holder_commitment: Hash32::decode_from(r)?,
            valid_from_ms: r.u64()?,
            valid_until_ms: r.option("valid until")?,
        };
        d.validate()?;
        Ok(d)
    }
}

/// A licence record as kept in state.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Licence {
    pub draft: LicenceDraft,
    pub status: LicenceStatus,
    /// Why the status last changed (empty when issued).
    pub status_reason: String,
    /// The licence this one replaced, if it was issued by a supersede.
    pub supersedes: Option<String>,
    /// The licence that replaced this one.
    pub superseded_by: Option<String>,
    pub issued_height: u64,
    pub issued_time_ms: u64,
    pub updated_height: u64,
    pub updated_time_ms: u64,
}

impl Encode for Licence {
    fn encode_to(&self, w: &mut Writer) {
        self.draft.encode_to(w);
        self.status.encode_to(w);
        w.str(&self.status_reason);
        w.option(&self.supersedes.as_deref().map(Str));
        w.option(&self.superseded_by.as_deref().map(Str));
        w.u64(self.issued_height);
        w.u64(self.issued_time_ms);
        w.u64(self.updated_height);
        w.u64(self.updated_time_ms);
    }
}

impl Decode for Licence {
    fn decode_from(r: &mut Reader<'_>) -> Result<Self, CodecError> {
        let draft = LicenceDraft::decode_from(r)?;
        let status = LicenceStatus::decode_from(r)?;
        let status_reason = r.str("status reason", TEXT_LEN_MAX)?;
        crate::ids::check_text("status reason", &status_reason)?;
        let supersedes = read_opt_licence_id(r)?;
        let superseded_by = read_opt_licence_id(r)?;
        Ok(Licence {
            draft,
            status,
            status_reason,
            supersedes,
            superseded_by,
            issued_height: r.u64()?,
            issued_time_ms: r.u64()?,
            updated_height: r.u64()?,
            updated_time_ms: r.u64()?,
        })
    }
}

/// A borrowed string encoded like `String` (for `Option<&str>` fields).
struct Str<'a>(&'a str);

impl Encode for Str<'_> {
    fn encode_to(&self, w: &mut Writer) {
        w.str(self.0);
    }
}

fn read_opt_licence_id(r: &mut Reader<'_>) -> Result<Option<String>, CodecError> {
    match r.u8()? {
        0 => Ok(None),
        1 => {
            let id = r.str("licence id", LICENCE_ID_LEN_MAX)?;
            ids::check_licence_id(&id, LICENCE_ID_LEN_MAX)?;
            Ok(Some(id))
        }
        tag => Err(CodecError::InvalidTag {
            what: "option",
            tag,
        }),
    }
}

/// An anchored evidence hash. The block time of the anchoring block is the evidence time.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Evidence {
    pub hash: Hash32,
    pub submitter: String,
    pub label: String,
    pub height: u64,
    pub time_ms: u64,
    pub tx_id: Hash32,
}

impl Encode for Evidence {
    fn encode_to(&self, w: &mut Writer) {
        self.hash.encode_to(w);
        w.str(&self.submitter);
        w.str(&self.label);
        w.u64(self.height);
        w.u64(self.time_ms);
        self.tx_id.encode_to(w);
    }
}

impl Decode for Evidence {
    fn decode_from(r: &mut Reader<'_>) -> Result<Self, CodecError> {
        let e = Evidence {
            hash: Hash32::decode_from(r)?,
            submitter: r.str("submitter id", ID_LEN_MAX)?,
            label: r.str("evidence label", TEXT_LEN_MAX)?,
            height: r.u64()?,
            time_ms: r.u64()?,
            tx_id: Hash32::decode_from(r)?,
        };
        ids::check_text("evidence label", &e.label)?;
        ids::check_identifier("submitter id", &e.submitter, ID_LEN_MAX)?;
        Ok(e)
    }
}

/// The salted commitment to a licence holder: `H("lichen/holder-commitment/v1", salt(32) ||
/// u32 len || holder id)`. The salt stays with the holder; the chain sees only the digest.
pub fn holder_commitment(suite: Suite, salt: &[u8; 32], holder_id: &str) -> Hash32 {
    let len = (holder_id.len() as u32).to_be_bytes();
    suite.hash(
        domain::HOLDER_COMMITMENT,
        &[salt, &len, holder_id.as_bytes()],
    )
}
