//! Validators and their set (who signs blocks), and observers (who may follow the chain).

use alloc::string::String;
use alloc::vec::Vec;

use super::{NAME_LEN_MAX, PEER_ID_LEN_MAX, VALIDATORS_MAX, check_name};
use crate::codec::{Decode, Encode, Reader, Writer};
use crate::crypto::{Hash32, PublicKey, Suite, domain};
use crate::error::CodecError;

/// A validator: its consensus key and the libp2p peer id its node connects with.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Validator {
    pub name: String,
    pub key: PublicKey,
    pub peer_id: Vec<u8>,
}

/// A libp2p peer id as the chain keeps it: 1..=`PEER_ID_LEN_MAX` bytes (its binary multihash form).
pub fn check_peer_id(peer_id: &[u8]) -> Result<(), CodecError> {
    if peer_id.is_empty() {
        return Err(CodecError::InvalidValue {
            field: "peer id",
            reason: "must not be empty",
        });
    }
    if peer_id.len() > PEER_ID_LEN_MAX {
        return Err(CodecError::TooLong {
            field: "peer id",
            len: peer_id.len(),
            max: PEER_ID_LEN_MAX,
        });
    }
    Ok(())
}

/// Reads a peer id: `bytes` of 1..=`PEER_ID_LEN_MAX`.
pub(crate) fn read_peer_id(r: &mut Reader<'_>) -> Result<Vec<u8>, CodecError> {
    let peer_id = r.bytes("peer id", PEER_ID_LEN_MAX)?;
    check_peer_id(&peer_id)?;
    Ok(peer_id)
}

impl Validator {
    /// A non-blank name and a peer id of 1..=`PEER_ID_LEN_MAX` bytes: what decoding requires, so
    /// that a set built in memory (a transaction, a genesis) is never written in a form that
    /// cannot be read back.
    pub fn validate(&self) -> Result<(), CodecError> {
        check_name("validator name", &self.name, NAME_LEN_MAX)?;
        check_peer_id(&self.peer_id)
    }
}

impl Encode for Validator {
    fn encode_to(&self, w: &mut Writer) {
        w.str(&self.name);
        self.key.encode_to(w);
        w.bytes(&self.peer_id);
    }
}

impl Decode for Validator {
    fn decode_from(r: &mut Reader<'_>) -> Result<Self, CodecError> {
        let v = Validator {
            name: r.str("validator name", NAME_LEN_MAX)?,
            key: PublicKey::decode_from(r)?,
            peer_id: r.bytes("peer id", PEER_ID_LEN_MAX)?,
        };
        v.validate()?;
        Ok(v)
    }
}

/// An observer: a node that follows the chain and serves reads but does not vote. The
/// validators' network admits it by its libp2p peer id, the key of its state entry.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Observer {
    pub name: String,
    pub peer_id: Vec<u8>,
}

impl Observer {
    /// A non-blank name (the rule of validator names) and a peer id of 1..=`PEER_ID_LEN_MAX`
    /// bytes: what decoding requires.
    pub fn validate(&self) -> Result<(), CodecError> {
        check_name("observer name", &self.name, NAME_LEN_MAX)?;
        check_peer_id(&self.peer_id)
    }
}

impl Encode for Observer {
    fn encode_to(&self, w: &mut Writer) {
        w.str(&self.name);
        w.bytes(&self.peer_id);
    }
}

impl Decode for Observer {
    fn decode_from(r: &mut Reader<'_>) -> Result<Self, CodecError> {
        let o = Observer {
            name: r.str("observer name", NAME_LEN_MAX)?,
            peer_id: r.bytes("peer id", PEER_ID_LEN_MAX)?,
        };
        o.validate()?;
        Ok(o)
    }
}

/// The validators that sign blocks, sorted by key: a validator's index in this list is how
/// certificates name it.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct ValidatorSet {
    pub validators: Vec<Validator>,
}

impl ValidatorSet {
    /// Builds a set, sorting by key and refusing duplicates (keys or peer ids) and empty sets.
    pub fn new(mut validators: Vec<Validator>) -> Result<Self, CodecError> {
        validators.sort_by(|a, b| a.key.cmp(&b.key));
        let set = ValidatorSet { validators };
        set.validate()?;
        Ok(set)
    }

    pub fn validate(&self) -> Result<(), CodecError> {
        let n = self.validators.len();
        if n == 0 {
            return Err(CodecError::InvalidValue {
                field: "validator set",
                reason: "needs at least one validator",
            });
        }
        if n > VALIDATORS_MAX {
            return Err(CodecError::TooLong {
                field: "validator set",
                len: n,
                max: VALIDATORS_MAX,
            });
        }
        for v in &self.validators {
            v.validate()?;
        }
        if self.validators.windows(2).any(|w| w[0].key >= w[1].key) {
            return Err(CodecError::InvalidValue {
                field: "validator set",
                reason: "validators must be sorted by key with no duplicate key",
            });
        }
        let mut peers: Vec<&[u8]> = self
            .validators
            .iter()
            .map(|v| v.peer_id.as_slice())
            .collect();
        peers.sort();
        if peers.windows(2).any(|w| w[0] == w[1]) {
            return Err(CodecError::InvalidValue {
                field: "validator set",
                reason: "two validators share a peer id",
            });
        }
        Ok(())
    }

    pub fn len(&self) -> usize {
        self.validators.len()
    }

    pub fn is_empty(&self) -> bool {
        self.validators.is_empty()
    }

    /// f: the most Byzantine validators the set tolerates, `(n - 1) / 3`.
    pub fn faults_tolerated(&self) -> usize {
        (self.len().saturating_sub(1)) / 3
    }

    /// The quorum: `floor(2n / 3) + 1` distinct validators (2f + 1 when n = 3f + 1). Any two
    /// quorums share more than n / 3 validators, so at least one honest one.
    pub fn quorum(&self) -> usize {
        2 * self.len() / 3 + 1
    }

    pub fn index_of(&self, key: &PublicKey) -> Option<usize> {
        self.validators.binary_search_by(|v| v.key.cmp(key)).ok()
    }

    /// `H("lichen/validator-set/v1", encoding)`: what headers commit to.
    pub fn hash(&self, suite: Suite) -> Hash32 {
        suite.hash(domain::VALIDATOR_SET, &[&self.to_bytes()])
    }
}

impl Encode for ValidatorSet {
    fn encode_to(&self, w: &mut Writer) {
        w.seq(&self.validators);
    }
}

impl Decode for ValidatorSet {
    fn decode_from(r: &mut Reader<'_>) -> Result<Self, CodecError> {
        let set = ValidatorSet {
            validators: r.seq("validators", VALIDATORS_MAX)?,
        };
        set.validate()?;
        Ok(set)
    }
}
