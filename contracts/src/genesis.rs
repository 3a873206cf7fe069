//! Genesis: the chain's first state and the trust anchor every offline verifier starts from.

use alloc::string::ToString;
use alloc::vec::Vec;

use crate::block::{BlockHeader, HEADER_VERSION};
use crate::codec::{Decode, Encode, Reader, Writer};
use crate::crypto::{Hash32, Suite, domain};
use crate::error::CodecError;
use crate::ledger::TxError;
use crate::model::{Agency, ChainConfig, LicenceType, Observer, Submitter, ValidatorSet};
use crate::state::{StateKey, WriteSet};

/// Maximum number of agencies, licence types, submitters or observers listed in a genesis.
pub const GENESIS_ENTRIES_MAX: usize = 10_000;

/// Everything the chain starts with.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Genesis {
    pub config: ChainConfig,
    /// The genesis time, milliseconds since the Unix epoch (UTC): the time of block 0.
    pub time_ms: u64,
    pub validators: ValidatorSet,
    pub agencies: Vec<Agency>,
    pub licence_types: Vec<LicenceType>,
    pub submitters: Vec<Submitter>,
    /// Non-voting nodes the validators' network admits, by peer id.
    pub observers: Vec<Observer>,
}

impl Genesis {
    /// `H("lichen/genesis/v1", encode(genesis))`: names the exact genesis a node runs.
    pub fn hash(&self) -> Hash32 {
        self.config.suite.hash(domain::GENESIS, &[&self.to_bytes()])
    }

    /// The state at height 0, as tree writes. Refuses a genesis that breaks any rule a transaction
    /// would have to follow (duplicate ids, unknown agencies, keys of the wrong algorithm, an
    /// observer peer id listed twice or used by a validator...).
    pub fn state_writes(&self) -> Result<WriteSet, TxError> {
        let suite = self.config.suite;
        self.config.validate()?;
        self.validators.validate()?;
        let algo = suite.sig_algo();
        let wrong_algo = |key: &crate::crypto::PublicKey| {
            (key.algo() != algo).then(|| TxError::WrongAlgorithm {
                key: key.clone(),
                expected: algo,
                found: key.algo(),
            })
        };
        let all_keys = self
            .config
            .council
            .members
            .iter()
            .chain(self.validators.validators.iter().map(|v| &v.key))
            .chain(self.agencies.iter().flat_map(|a| a.keys.iter()))
            .chain(self.submitters.iter().flat_map(|s| s.keys.iter()));
        if let Some(err) = all_keys.filter_map(wrong_algo).next() {
            return Err(err);
        }
        let mut writes = WriteSet::new();
        let mut put =
            |key: StateKey, bytes: Vec<u8>| writes.insert(key.hash(suite), Some(bytes)).is_none();
        put(StateKey::Config, self.config.to_bytes());
        put(StateKey::Validators, self.validators.to_bytes());
        for a in &self.agencies {
            a.validate()?;
            if !put(StateKey::Agency(a.id.clone()), a.to_bytes()) {
                return Err(TxError::AgencyExists { id: a.id.clone() });
            }
        }
        for s in &self.submitters {
            s.validate()?;
            if !put(StateKey::Submitter(s.id.clone()), s.to_bytes()) {
                return Err(TxError::SubmitterExists { id: s.id.clone() });
            }
        }
        for t in &self.licence_types {
            t.validate()?;
            if let Some(missing) = t
                .authorised
                .iter()
                .find(|id| !self.agencies.iter().any(|a| &a.id == *id))
            {
                return Err(TxError::UnknownAgency {
                    id: missing.to_string(),
                });
            }
            if !put(StateKey::LicenceType(t.code.clone()), t.to_bytes()) {
                return Err(TxError::LicenceTypeExists {
                    code: t.code.clone(),
                });
            }
        }
        for o in &self.observers {
            o.validate()?;
            if let Some(v) = self
                .validators
                .validators
                .iter()
                .find(|v| v.peer_id == o.peer_id)
            {
                return Err(TxError::PeerIdInUse {
                    name: v.name.clone(),
                });
            }
            if !put(StateKey::Observer(o.peer_id.clone()), o.to_bytes()) {
                return Err(TxError::ObserverExists {
                    peer_id: o.peer_id.clone(),
                });
            }
        }
        Ok(writes)
    }

    /// The header of block 0 over the genesis state root: no transactions, no previous block, the
    /// genesis validators signing the block after it.
    pub fn header(&self, state_root: Hash32) -> BlockHeader {
        let set_hash = self.validators.hash(self.config.suite);
        BlockHeader {
            version: HEADER_VERSION,
            chain_id: self.config.chain_id.clone(),
            height: 0,
            time_ms: self.time_ms,
            view: 0,
            previous_hash: Hash32::ZERO,
            tx_count: 0,
            tx_root: Hash32::ZERO,
            state_root,
            validator_set_hash: set_hash,
            next_validator_set_hash: set_hash,
            proposer: 0,
        }
    }

    /// The trust anchor an offline verifier holds: chain id, suite and the validators that sign
    /// block 1.
    pub fn trust_anchor(&self) -> crate::presentation::TrustAnchor {
        crate::presentation::TrustAnchor {
            chain_id: self.config.chain_id.clone(),
            suite: self.config.suite,
            height: 0,
            validators: self.validators.clone(),
        }
    }
}

impl Encode for Genesis {
    fn encode_to(&self, w: &mut Writer) {
        self.config.encode_to(w);
        w.u64(self.time_ms);
        self.validators.encode_to(w);
        w.seq(&self.agencies);
        w.seq(&self.licence_types);
        w.seq(&self.submitters);
        w.seq(&self.observers);
    }
}

impl Decode for Genesis {
    fn decode_from(r: &mut Reader<'_>) -> Result<Self, CodecError> {
        Ok(Genesis {
            config: ChainConfig::decode_from(r)?,
            time_ms: r.u64()?,
            validators: ValidatorSet::decode_from(r)?,
            agencies: r.seq("agencies", GENESIS_ENTRIES_MAX)?,
            licence_types: r.seq("licence types", GENESIS_ENTRIES_MAX)?,
            submitters: r.seq("submitters", GENESIS_ENTRIES_MAX)?,
            observers: r.seq("observers", GENESIS_ENTRIES_MAX)?,
        })
    }
}

/// Suite helper so callers need not reach into the config.
impl Genesis {
    pub fn suite(&self) -> Suite {
        self.config.suite
    }
}
