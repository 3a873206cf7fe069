//! The registered parties: issuing agencies, evidence submitters and licence types.

use alloc::string::String;
use alloc::vec::Vec;

use super::{
    ENTITY_KEYS_MAX, EntityStatus, ID_LEN_MAX, NAME_LEN_MAX, TYPE_AGENCIES_MAX, check_key_list,
    check_name, read_keys,
};
use crate::codec::{Decode, Encode, Reader, Writer};
use crate::crypto::PublicKey;
use crate::error::CodecError;
use crate::ids;

/// An issuing agency: may issue licences of the types it is authorised for.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Agency {
    pub id: String,
    pub name: String,
    pub keys: Vec<PublicKey>,
    pub status: EntityStatus,
}

impl Agency {
    pub fn validate(&self) -> Result<(), CodecError> {
        ids::check_identifier("agency id", &self.id, ID_LEN_MAX)?;
        check_name("agency name", &self.name, NAME_LEN_MAX)?;
        check_key_list("agency keys", &self.keys, ENTITY_KEYS_MAX)
    }
}

impl Encode for Agency {
    fn encode_to(&self, w: &mut Writer) {
        w.str(&self.id);
        w.str(&self.name);
        w.seq(&self.keys);
        self.status.encode_to(w);
    }
}

impl Decode for Agency {
    fn decode_from(r: &mut Reader<'_>) -> Result<Self, CodecError> {
        let agency = Agency {
            id: r.str("agency id", ID_LEN_MAX)?,
            name: r.str("agency name", NAME_LEN_MAX)?,
            keys: read_keys(r, "agency keys", ENTITY_KEYS_MAX)?,
            status: EntityStatus::decode_from(r)?,
        };
        agency.validate()?;
        Ok(agency)
    }
}

/// A court, notary or other party allowed to anchor evidence hashes.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Submitter {
    pub id: String,
    pub name: String,
    pub keys: Vec<PublicKey>,
    pub status: EntityStatus,
}

impl Submitter {
    pub fn validate(&self) -> Result<(), CodecError> {
        ids::check_identifier("submitter id", &self.id, ID_LEN_MAX)?;
        check_name("submitter name", &self.name, NAME_LEN_MAX)?;
        check_key_list("submitter keys", &self.keys, ENTITY_KEYS_MAX)
    }
}

impl Encode for Submitter {
    fn encode_to(&self, w: &mut Writer) {
        w.str(&self.id);
        w.str(&self.name);
        w.seq(&self.keys);
        self.status.encode_to(w);
    }
}

impl Decode for Submitter {
    fn decode_from(r: &mut Reader<'_>) -> Result<Self, CodecError> {
        let s = Submitter {
            id: r.str("submitter id", ID_LEN_MAX)?,
            name: r.str("submitter name", NAME_LEN_MAX)?,
            keys: read_keys(r, "submitter keys", ENTITY_KEYS_MAX)?,
            status: EntityStatus::decode_from(r)?,
        };
        s.validate()?;
        Ok(s)
    }
}

/// A kind of licence (business licence, food permit...) and the agencies that may issue it.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct LicenceType {
    pub code: String,
    pub name: String,
    /// Agency ids, sorted and distinct.
    pub authorised: Vec<String>,
}

impl LicenceType {
    pub fn validate(&self) -> Result<(), CodecError> {
        ids::check_identifier("licence type code", &self.code, ID_LEN_MAX)?;
        check_name("licence type name", &self.name, NAME_LEN_MAX)?;
        if self.authorised.len() > TYPE_AGENCIES_MAX {
            return Err(CodecError::TooLong {
                field: "authorised agencies",
                len: self.authorised.len(),
                max: TYPE_AGENCIES_MAX,
            });
        }
        for id in &self.authorised {
            ids::check_identifier("agency id", id, ID_LEN_MAX)?;
        }
        if self.authorised.windows(2).any(|w| w[0] >= w[1]) {
            return Err(CodecError::InvalidValue {
                field: "authorised agencies",
                reason: "must be sorted and distinct",
            });
        }
        Ok(())
    }

    pub fn is_authorised(&self, agency: &str) -> bool {
        self.authorised
            .binary_search_by(|a| a.as_str().cmp(agency))
            .is_ok()
    }
}

impl Encode for LicenceType {
    fn encode_to(&self, w: &mut Writer) {
        w.str(&self.code);
        w.str(&self.name);
        w.len(self.authorised.len());
        for a in &self.authorised {
            w.str(a);
        }
    }
}

impl Decode for LicenceType {
    fn decode_from(r: &mut Reader<'_>) -> Result<Self, CodecError> {
        let code = r.str("licence type code", ID_LEN_MAX)?;
        let name = r.str("licence type name", NAME_LEN_MAX)?;
        let count = r.len("authorised agencies", TYPE_AGENCIES_MAX)?;
        let mut authorised = Vec::with_capacity(count.min(r.remaining()));
        for _ in 0..count {
            authorised.push(r.str("agency id", ID_LEN_MAX)?);
        }
        let t = LicenceType {
            code,
            name,
            authorised,
        };
        t.validate()?;
        Ok(t)
    }
}
