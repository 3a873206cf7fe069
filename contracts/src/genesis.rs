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

/// Where in a genesis a rule is broken: the list and the index of the entry.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum GenesisPlace {
    /// The chain configuration, its council included.
    Config,
    Validators,
    Agency {
        index: usize,
    },
    Submitter {
        index: usize,
    },
    LicenceType {
        index: usize,
    },
    /// The `agency`-th entry of licence type `index`'s authorised agencies.
    Authorised {
        index: usize,
        agency: usize,
    },
    Observer {
        index: usize,
    },
}

/// A genesis that breaks a rule: where, the rule (as the transaction that would have broken it
/// is refused), and for a repeated id the index of the entry it repeats.
#[derive(Clone, PartialEq, Eq, Debug, thiserror::Error)]
#[error("{error}")]
pub struct GenesisError {
    pub place: GenesisPlace,
    /// For a repeated id, key or peer id: the index of the first entry that has it.
    pub same_as: Option<usize>,
    pub error: TxError,
}

impl GenesisError {
    fn new(place: GenesisPlace, error: TxError) -> Self {
        GenesisError {
            place,
            same_as: None,
            error,
        }
    }

    fn repeat(place: GenesisPlace, first: usize, error: TxError) -> Self {
        GenesisError {
            place,
            same_as: Some(first),
            error,
        }
    }
}

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

    /// Checks every rule a genesis must follow, the same rules transactions follow: the
    /// configuration and validator set are valid, every key is of the suite's algorithm, entity
    /// ids are unique and valid, licence types name known agencies, observer peer ids are
    /// distinct and none is a validator's. The error says which entry broke which rule, so a
    /// file format can point at it (`lichen-views` turns it into a JSON path).
    pub fn validate(&self) -> Result<(), GenesisError> {
        use GenesisPlace as At;
        fn at<E: Into<TxError>>(place: GenesisPlace) -> impl Fn(E) -> GenesisError {
            move |error| GenesisError::new(place, error.into())
        }
        self.config.validate().map_err(at(At::Config))?;
        self.validators.validate().map_err(at(At::Validators))?;
        let algo = self.config.suite.sig_algo();
        let wrong_algo = |key: &crate::crypto::PublicKey| {
            (key.algo() != algo).then(|| TxError::WrongAlgorithm {
                key: key.clone(),
                expected: algo,
                found: key.algo(),
            })
        };
        let keys = [
            (
                At::Config,
                self.config.council.members.iter().collect::<Vec<_>>(),
            ),
            (
                At::Validators,
                self.validators.validators.iter().map(|v| &v.key).collect(),
            ),
        ];
        for (place, keys) in keys {
            if let Some(error) = keys.into_iter().find_map(wrong_algo) {
                return Err(GenesisError::new(place, error));
            }
        }
        for (index, a) in self.agencies.iter().enumerate() {
            a.validate().map_err(at(At::Agency { index }))?;
            if let Some(error) = a.keys.iter().find_map(wrong_algo) {
                return Err(GenesisError::new(At::Agency { index }, error));
            }
            if let Some(first) = self.agencies[..index].iter().position(|b| b.id == a.id) {
                let error = TxError::AgencyExists { id: a.id.clone() };
                return Err(GenesisError::repeat(At::Agency { index }, first, error));
            }
        }
        for (index, s) in self.submitters.iter().enumerate() {
            s.validate().map_err(at(At::Submitter { index }))?;
            if let Some(error) = s.keys.iter().find_map(wrong_algo) {
                return Err(GenesisError::new(At::Submitter { index }, error));
            }
            if let Some(first) = self.submitters[..index].iter().position(|b| b.id == s.id) {
                let error = TxError::SubmitterExists { id: s.id.clone() };
                return Err(GenesisError::repeat(At::Submitter { index }, first, error));
            }
        }
        for (index, t) in self.licence_types.iter().enumerate() {
            t.validate().map_err(at(At::LicenceType { index }))?;
            if let Some((agency, id)) = t
                .authorised
                .iter()
                .enumerate()
                .find(|(_, id)| !self.agencies.iter().any(|a| &a.id == *id))
            {
                let error = TxError::UnknownAgency { id: id.to_string() };
                return Err(GenesisError::new(At::Authorised { index, agency }, error));
            }
            if let Some(first) = self.licence_types[..index]
                .iter()
                .position(|b| b.code == t.code)
            {
                let error = TxError::LicenceTypeExists {
                    code: t.code.clone(),
                };
                return Err(GenesisError::repeat(
                    At::LicenceType { index },
                    first,
                    error,
                ));
            }
        }
        for (index, o) in self.observers.iter().enumerate() {
            o.validate().map_err(at(At::Observer { index }))?;
            if let Some(v) = self
                .validators
                .validators
                .iter()
                .find(|v| v.peer_id == o.peer_id)
            {
                let error = TxError::PeerIdInUse {
                    name: v.name.clone(),
                };
                return Err(GenesisError::new(At::Observer { index }, error));
            }
            if let Some(first) = self.observers[..index]
                .iter()
                .position(|b| b.peer_id == o.peer_id)
            {
                let error = TxError::ObserverExists {
                    peer_id: o.peer_id.clone(),
                };
                return Err(GenesisError::repeat(At::Observer { index }, first, error));
            }
        }
        Ok(())
    }

    /// The state at height 0, as tree writes, for a genesis that passes [`Genesis::validate`].
    pub fn state_writes(&self) -> Result<WriteSet, TxError> {
        self.validate().map_err(|e| e.error)?;
        let suite = self.config.suite;
        let mut writes = WriteSet::new();
        let mut put = |key: StateKey, bytes: Vec<u8>| {
            let fresh = writes.insert(key.hash(suite), Some(bytes)).is_none();
            // `validate` refused every repeated id, so no two entries share a state key.
            assert!(fresh, "a validated genesis writes one state key twice");
        };
        put(StateKey::Config, self.config.to_bytes());
        put(
            StateKey::RevocationSentinel,
            crate::revocation::SENTINEL_VALUE.to_vec(),
        );
        put(StateKey::Validators, self.validators.to_bytes());
        for a in &self.agencies {
            put(StateKey::Agency(a.id.clone()), a.to_bytes());
        }
        for s in &self.submitters {
            put(StateKey::Submitter(s.id.clone()), s.to_bytes());
        }
        for t in &self.licence_types {
            put(StateKey::LicenceType(t.code.clone()), t.to_bytes());
        }
        for o in &self.observers {
            put(StateKey::Observer(o.peer_id.clone()), o.to_bytes());
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

    /// The trust anchor an offline verifier holds: chain id, suite, genesis hash and the
    /// validators that sign block 1.
    pub fn trust_anchor(&self) -> crate::presentation::TrustAnchor {
        crate::presentation::TrustAnchor {
            chain_id: self.config.chain_id.clone(),
            suite: self.config.suite,
            genesis_hash: self.hash(),
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
