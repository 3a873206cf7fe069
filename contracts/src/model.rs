//! The ledger's entities: what lives in state, their limits and canonical encodings.
//!
//! Field order in each struct is its byte order (PROTOCOL.md, "State entries"). Every variable
//! field has a named maximum, checked on decode and by the ledger rules.

use alloc::string::String;
use alloc::vec::Vec;

use crate::codec::{Decode, Encode, Reader, Writer};
use crate::crypto::{Hash32, PublicKey, Suite, domain};
use crate::error::CodecError;
use crate::ids;

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
            chain_id: r.str("chain id", CHAIN_ID_LEN_MAX)?,
            suite: Suite::decode_from(r)?,
            council: Council::decode_from(r)?,
            params: ChainParams::decode_from(r)?,
        };
        c.validate()?;
        Ok(c)
    }
}

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
