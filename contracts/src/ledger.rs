//! The ledger rules: a pure function from (state, transaction, block context) to the state writes
//! the transaction makes, or the specific reason it is refused.
//!
//! Nothing here reads a clock or storage directly: the block's height and time come in a
//! [`BlockContext`], state comes through a [`StateView`], and the result is a [`TxOutcome`] the
//! caller applies. Applying the same transactions to the same state gives the same writes on
//! every node.

use alloc::string::{String, ToString};
use alloc::vec::Vec;

use crate::codec::Encode;
use crate::crypto::{Hash32, PublicKey, SigAlgo, Suite, verify_batch};
use crate::error::{CodecError, CryptoError, StorageError};
use crate::model::{
    Agency, ChainConfig, Council, EntityStatus, Evidence, Licence, LicenceDraft, LicenceStatus,
    LicenceType, Observer, Submitter, VALIDATORS_MAX, Validator, ValidatorSet, check_peer_id,
};
use crate::state::{ReplayWindow, StateKey, StateView, StateViewExt, WriteSet};
use crate::tx::{Payload, SignedTransaction, TX_SIGNATURES_MAX, TxSignature};

/// Why a transaction was refused. Each refusal has its own variant.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TxError {
    #[error("transaction is for chain '{found}', this chain is '{expected}'")]
    WrongChain { expected: String, found: String },
    #[error("transaction expired at height {expires_at_height}; the block is at height {height}")]
    Expired { expires_at_height: u64, height: u64 },
    #[error(
        "transaction expiry height {expires_at_height} is too far ahead: at most {max_height} at height {height}"
    )]
    ExpiryTooFar {
        expires_at_height: u64,
        max_height: u64,
        height: u64,
    },
    #[error("transaction {tx_id} was already executed (replay)")]
    Duplicate { tx_id: Hash32 },
    #[error("transaction carries no signature")]
    Unsigned,
    #[error("transaction carries {count} signatures, at most {max} allowed")]
    TooManySignatures { count: usize, max: usize },
    #[error("key {key} signed the transaction twice")]
    DuplicateSigner { key: PublicKey },
    #[error("signature {index} does not verify over the transaction id")]
    BadSignature { index: usize },
    #[error("key {key} is {found}, but this chain's suite uses {expected}")]
    WrongAlgorithm {
        key: PublicKey,
        expected: SigAlgo,
        found: SigAlgo,
    },
    #[error("invalid transaction field: {0}")]
    InvalidField(#[from] CodecError),
    #[error("key {key} is not a council member")]
    NotCouncilMember { key: PublicKey },
    #[error("{signers} council signatures, the threshold is {threshold}")]
    CouncilThresholdNotMet { signers: usize, threshold: u16 },
    #[error("agency '{id}' is not registered")]
    UnknownAgency { id: String },
    #[error("agency '{id}' is already registered")]
    AgencyExists { id: String },
    #[error("agency '{id}' is suspended")]
    AgencySuspended { id: String },
    #[error("key {key} is not a key of agency '{agency}'")]
    NotAgencyKey { agency: String, key: PublicKey },
    #[error("licence type '{code}' is not defined")]
    UnknownLicenceType { code: String },
    #[error("licence type '{code}' is already defined")]
    LicenceTypeExists { code: String },
    #[error("agency '{agency}' is not authorised to issue licence type '{licence_type}'")]
    NotAuthorisedForType {
        agency: String,
        licence_type: String,
    },
    #[error("licence '{id}' already exists")]
    LicenceExists { id: String },
    #[error("licence '{id}' does not exist")]
    UnknownLicence { id: String },
    #[error(
        "licence '{id}' was issued by agency '{issuer}'; only that agency or the council may change it"
    )]
    NotIssuer { id: String, issuer: String },
    #[error("licence '{id}' is {status}, which is final")]
    LicenceFinal { id: String, status: &'static str },
    #[error("licence '{id}' is already suspended")]
    AlreadySuspended { id: String },
    #[error("licence '{id}' is not suspended")]
    NotSuspended { id: String },
    #[error("a superseding licence must be issued by the old licence's agency '{issuer}'")]
    SupersedeByOtherAgency { issuer: String },
    #[error("evidence submitter '{id}' is not registered")]
    UnknownSubmitter { id: String },
    #[error("evidence submitter '{id}' is already registered")]
    SubmitterExists { id: String },
    #[error("evidence submitter '{id}' is suspended")]
    SubmitterSuspended { id: String },
    #[error("key {key} is not a key of submitter '{submitter}'")]
    NotSubmitterKey { submitter: String, key: PublicKey },
    #[error("evidence hash {hash} was already anchored")]
    EvidenceExists { hash: Hash32 },
    #[error("validator {key} is already in the set")]
    ValidatorExists { key: PublicKey },
    #[error("peer id is already used by validator '{name}'")]
    PeerIdInUse { name: String },
    #[error("peer id is already used by observer '{name}'")]
    PeerIdUsedByObserver { name: String },
    #[error("peer id {} is already an observer", crate::hex::encode(.peer_id))]
    ObserverExists { peer_id: Vec<u8> },
    #[error("peer id {} is not an observer", crate::hex::encode(.peer_id))]
    UnknownObserver { peer_id: Vec<u8> },
    #[error("validator {key} is not in the set")]
    UnknownValidator { key: PublicKey },
    #[error("the validator set would have {size} validators; allowed 1..={max}")]
    ValidatorSetSize { size: usize, max: usize },
    #[error("nothing to change: {what} already has that value")]
    Unchanged { what: &'static str },
    #[error("state is not readable: {0}")]
    State(#[from] StorageError),
}

impl TxError {
    /// A refusal caused by the state or the node, not by the transaction: the node must stop
    /// rather than treat the transaction as invalid.
    pub fn is_internal(&self) -> bool {
        matches!(self, TxError::State(_))
    }
}

/// The block a transaction executes in.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct BlockContext {
    pub height: u64,
    /// The block's time, milliseconds since the Unix epoch (UTC): the proposer's clock, agreed by
    /// the validators that certify the block.
    pub time_ms: u64,
}

/// What a transaction changed, for receipts and the node's indexes.
#[derive(Clone, PartialEq, Eq, Debug)]
pub enum Event {
    LicenceChanged {
        id: String,
        status: LicenceStatus,
    },
    EvidenceAnchored {
        hash: Hash32,
    },
    AgencyChanged {
        id: String,
    },
    LicenceTypeChanged {
        code: String,
    },
    SubmitterChanged {
        id: String,
    },
    ValidatorSetChanged {
        size: usize,
    },
    CouncilChanged,
    /// An observer was admitted (its state entry written).
    ObserverAdded {
        peer_id: Vec<u8>,
    },
    /// An observer was withdrawn (its state entry deleted).
    ObserverRemoved {
        peer_id: Vec<u8>,
    },
}

/// The effects of one accepted transaction.
#[derive(Clone, PartialEq, Eq, Debug, Default)]
pub struct TxOutcome {
    pub writes: WriteSet,
    pub events: Vec<Event>,
}

/// A transaction whose signatures have been checked against its id. Only
/// [`verify_signatures`] makes one, so [`apply_tx`] cannot be handed an unchecked transaction.
#[derive(Clone, Copy, Debug)]
pub struct VerifiedTx<'a> {
    tx: &'a SignedTransaction,
    id: Hash32,
}

impl<'a> VerifiedTx<'a> {
    pub fn id(&self) -> Hash32 {
        self.id
    }

    pub fn tx(&self) -> &'a SignedTransaction {
        self.tx
    }
}

/// Stateless checks: signature count, distinct signers, the suite's algorithm, and every
/// signature over the transaction id.
pub fn verify_signatures(suite: Suite, tx: &SignedTransaction) -> Result<VerifiedTx<'_>, TxError> {
    check_signers(suite, &tx.signatures)?;
    let id = tx.id(suite);
    let items: Vec<(&PublicKey, &[u8], &crate::crypto::Signature)> = tx
        .signatures
        .iter()
        .map(|s| (&s.key, id.as_bytes().as_slice(), &s.signature))
        .collect();
    verify_batch(&items).map_err(|e| match e {
        CryptoError::BatchItemInvalid { index } => TxError::BadSignature { index },
        _ => TxError::BadSignature { index: 0 },
    })?;
    Ok(VerifiedTx { tx, id })
}

/// Like [`verify_signatures`], but trusts an earlier check of this very signed transaction:
/// `already_verified` is asked about its witness hash (which covers the body and every
/// signature), and on `true` only the cheap signer checks run. The node passes the witness hashes
/// it verified at mempool admission, so a transaction's signatures are checked once per node.
pub fn verify_signatures_known<'a>(
    suite: Suite,
    tx: &'a SignedTransaction,
    already_verified: &dyn Fn(&Hash32) -> bool,
) -> Result<VerifiedTx<'a>, TxError> {
    if already_verified(&tx.witness_hash(suite)) {
        check_signers(suite, &tx.signatures)?;
        return Ok(VerifiedTx {
            tx,
            id: tx.id(suite),
        });
    }
    verify_signatures(suite, tx)
}

fn check_signers(suite: Suite, sigs: &[TxSignature]) -> Result<(), TxError> {
    if sigs.is_empty() {
        return Err(TxError::Unsigned);
    }
    if sigs.len() > TX_SIGNATURES_MAX {
        return Err(TxError::TooManySignatures {
            count: sigs.len(),
            max: TX_SIGNATURES_MAX,
        });
    }
    for (i, s) in sigs.iter().enumerate() {
        check_algo(suite, &s.key)?;
        if sigs[..i].iter().any(|earlier| earlier.key == s.key) {
            return Err(TxError::DuplicateSigner { key: s.key.clone() });
        }
    }
    Ok(())
}

fn check_algo(suite: Suite, key: &PublicKey) -> Result<(), TxError> {
    if key.algo() != suite.sig_algo() {
        return Err(TxError::WrongAlgorithm {
            key: key.clone(),
            expected: suite.sig_algo(),
            found: key.algo(),
        });
    }
    Ok(())
}

fn check_algos(suite: Suite, keys: &[PublicKey]) -> Result<(), TxError> {
    keys.iter().try_for_each(|k| check_algo(suite, k))
}

/// Reads the chain configuration, which genesis always writes.
pub fn chain_config<S: StateView + ?Sized>(
    state: &S,
    suite: Suite,
) -> Result<ChainConfig, TxError> {
    state
        .get_entry(suite, &StateKey::Config)?
        .ok_or(TxError::State(StorageError::Backend {
            reason: "chain configuration missing from state (no genesis?)".to_string(),
        }))
}

/// Applies one verified transaction to `state`, returning its writes and events.
pub fn apply_tx<S: StateView + ?Sized>(
    suite: Suite,
    state: &S,
    replay: &ReplayWindow,
    tx: VerifiedTx<'_>,
    ctx: &BlockContext,
) -> Result<TxOutcome, TxError> {
    let config = chain_config(state, suite)?;
    let body = &tx.tx.tx;
    if body.chain_id != config.chain_id {
        return Err(TxError::WrongChain {
            expected: config.chain_id,
            found: body.chain_id.clone(),
        });
    }
    if body.expires_at_height < ctx.height {
        return Err(TxError::Expired {
            expires_at_height: body.expires_at_height,
            height: ctx.height,
        });
    }
    let max_height = ctx
        .height
        .saturating_add(config.params.tx_expiry_blocks_max);
    if body.expires_at_height > max_height {
        return Err(TxError::ExpiryTooFar {
            expires_at_height: body.expires_at_height,
            max_height,
            height: ctx.height,
        });
    }
    if replay.contains(&tx.id) {
        return Err(TxError::Duplicate { tx_id: tx.id });
    }
    let mut rules = Rules {
        suite,
        state,
        config,
        ctx,
        tx_id: tx.id,
        signers: &tx.tx.signatures,
        out: TxOutcome::default(),
    };
    rules.apply(&body.payload)?;
    Ok(rules.out)
}

/// Who authorised a licence operation.
enum Authority {
    Agency,
    Council,
}

struct Rules<'a, S: StateView + ?Sized> {
    suite: Suite,
    state: &'a S,
    config: ChainConfig,
    ctx: &'a BlockContext,
    tx_id: Hash32,
    signers: &'a [TxSignature],
    out: TxOutcome,
}

impl<S: StateView + ?Sized> Rules<'_, S> {
    fn apply(&mut self, payload: &Payload) -> Result<(), TxError> {
        if payload.is_council_operation() {
            self.require_council()?;
        }
        match payload {
            Payload::RegisterAgency(agency) => self.register_agency(agency),
            Payload::UpdateAgency { id, name, keys } => self.update_agency(id, name, keys),
            Payload::SetAgencyStatus { id, status } => self.set_agency_status(id, *status),
            Payload::DefineLicenceType(t) => self.define_licence_type(t),
            Payload::SetTypeAuthorisation {
                licence_type,
                agency,
                authorised,
            } => self.set_type_authorisation(licence_type, agency, *authorised),
            Payload::RegisterSubmitter(s) => self.register_submitter(s),
            Payload::UpdateSubmitter { id, keys, status } => {
                self.update_submitter(id, keys, status)
            }
            Payload::AddValidator(v) => self.add_validator(v),
            Payload::RemoveValidator { key } => self.remove_validator(key),
            Payload::UpdateCouncil(c) => self.update_council(c),
            Payload::AddObserver(o) => self.add_observer(o),
            Payload::RemoveObserver { peer_id } => self.remove_observer(peer_id),
            Payload::IssueLicence(draft) => self.issue(draft, None),
            Payload::SuspendLicence { id, reason } => {
                self.change_status(id, reason, LicenceStatus::Suspended)
            }
            Payload::ReinstateLicence { id, reason } => {
                self.change_status(id, reason, LicenceStatus::Active)
            }
            Payload::RevokeLicence { id, reason } => {
                self.change_status(id, reason, LicenceStatus::Revoked)
            }
            Payload::SupersedeLicence {
                old_id,
                reason,
                new,
            } => self.supersede(old_id, reason, new),
            Payload::AnchorEvidence {
                hash,
                submitter,
                label,
            } => self.anchor_evidence(hash, submitter, label),
        }
    }

    // --- reads and writes ---

    fn get<T: crate::codec::Decode>(&self, key: &StateKey) -> Result<Option<T>, TxError> {
        // Earlier writes of this same transaction are visible (supersede writes twice).
        let hash = key.hash(self.suite);
        if let Some(value) = self.out.writes.get(&hash) {
            return match value {
                None => Ok(None),
                Some(bytes) => Ok(Some(crate::state::decode_entry(bytes)?)),
            };
        }
        Ok(self.state.get_entry(self.suite, key)?)
    }

    fn put<T: Encode>(&mut self, key: &StateKey, value: &T) {
        self.out
            .writes
            .insert(key.hash(self.suite), Some(value.to_bytes()));
    }

    fn delete(&mut self, key: &StateKey) {
        self.out.writes.insert(key.hash(self.suite), None);
    }

    fn agency(&self, id: &str) -> Result<Agency, TxError> {
        self.get(&StateKey::Agency(id.to_string()))?
            .ok_or_else(|| TxError::UnknownAgency { id: id.to_string() })
    }

    fn licence_type(&self, code: &str) -> Result<LicenceType, TxError> {
        self.get(&StateKey::LicenceType(code.to_string()))?
            .ok_or_else(|| TxError::UnknownLicenceType {
                code: code.to_string(),
            })
    }

    fn licence(&self, id: &str) -> Result<Licence, TxError> {
        self.get(&StateKey::Licence(id.to_string()))?
            .ok_or_else(|| TxError::UnknownLicence { id: id.to_string() })
    }

    fn submitter(&self, id: &str) -> Result<Submitter, TxError> {
        self.get(&StateKey::Submitter(id.to_string()))?
            .ok_or_else(|| TxError::UnknownSubmitter { id: id.to_string() })
    }

    fn validators(&self) -> Result<ValidatorSet, TxError> {
        self.get(&StateKey::Validators)?
            .ok_or(TxError::State(StorageError::Backend {
                reason: "validator set missing from state".to_string(),
            }))
    }

    // --- authorisation ---

    fn require_council(&self) -> Result<(), TxError> {
        let council = &self.config.council;
        if let Some(outsider) = self.signers.iter().find(|s| !council.is_member(&s.key)) {
            return Err(TxError::NotCouncilMember {
                key: outsider.key.clone(),
            });
        }
        if self.signers.len() < usize::from(council.threshold) {
            return Err(TxError::CouncilThresholdNotMet {
                signers: self.signers.len(),
                threshold: council.threshold,
            });
        }
        Ok(())
    }

    fn is_council_signed(&self) -> bool {
        self.require_council().is_ok()
    }

    /// One signature by a key of `agency`, which must be active.
    fn require_agency_key(&self, agency: &Agency) -> Result<(), TxError> {
        let signer = &self.signers[0].key;
        if self.signers.len() != 1 || !agency.keys.contains(signer) {
            let key = self
                .signers
                .iter()
                .find(|s| !agency.keys.contains(&s.key))
                .unwrap_or(&self.signers[0])
                .key
                .clone();
            return Err(TxError::NotAgencyKey {
                agency: agency.id.clone(),
                key,
            });
        }
        if agency.status != EntityStatus::Active {
            return Err(TxError::AgencySuspended {
                id: agency.id.clone(),
            });
        }
        Ok(())
    }

    /// The issuing agency (one of its keys, agency active) or a council threshold.
    fn require_issuer_or_council(&self, licence: &Licence) -> Result<Authority, TxError> {
        if self.is_council_signed() {
            return Ok(Authority::Council);
        }
        let issuer = self.agency(&licence.draft.issuer)?;
        if self.signers.len() == 1 && issuer.keys.contains(&self.signers[0].key) {
            self.require_agency_key(&issuer)?;
            return Ok(Authority::Agency);
        }
        Err(TxError::NotIssuer {
            id: licence.draft.id.clone(),
            issuer: licence.draft.issuer.clone(),
        })
    }

    // --- council operations ---

    fn register_agency(&mut self, agency: &Agency) -> Result<(), TxError> {
        agency.validate()?;
        check_algos(self.suite, &agency.keys)?;
        if self
            .get::<Agency>(&StateKey::Agency(agency.id.clone()))?
            .is_some()
        {
            return Err(TxError::AgencyExists {
                id: agency.id.clone(),
            });
        }
        self.put(&StateKey::Agency(agency.id.clone()), agency);
        self.out.events.push(Event::AgencyChanged {
            id: agency.id.clone(),
        });
        Ok(())
    }

    fn update_agency(
        &mut self,
        id: &str,
        name: &Option<String>,
        keys: &Option<Vec<PublicKey>>,
    ) -> Result<(), TxError> {
        let mut agency = self.agency(id)?;
        let before = agency.clone();
        if let Some(name) = name {
            agency.name = name.clone();
        }
        if let Some(keys) = keys {
            check_algos(self.suite, keys)?;
            agency.keys = keys.clone();
        }
        agency.validate()?;
        if agency == before {
            return Err(TxError::Unchanged { what: "agency" });
        }
        self.put(&StateKey::Agency(agency.id.clone()), &agency);
        self.out.events.push(Event::AgencyChanged { id: agency.id });
        Ok(())
    }

    fn set_agency_status(&mut self, id: &str, status: EntityStatus) -> Result<(), TxError> {
        let mut agency = self.agency(id)?;
        if agency.status == status {
            return Err(TxError::Unchanged {
                what: "agency status",
            });
        }
        agency.status = status;
        self.put(&StateKey::Agency(agency.id.clone()), &agency);
        self.out.events.push(Event::AgencyChanged { id: agency.id });
        Ok(())
    }

    fn define_licence_type(&mut self, t: &LicenceType) -> Result<(), TxError> {
        t.validate()?;
        if self
            .get::<LicenceType>(&StateKey::LicenceType(t.code.clone()))?
            .is_some()
        {
            return Err(TxError::LicenceTypeExists {
                code: t.code.clone(),
            });
        }
        for agency in &t.authorised {
            self.agency(agency)?;
        }
        self.put(&StateKey::LicenceType(t.code.clone()), t);
        self.out.events.push(Event::LicenceTypeChanged {
            code: t.code.clone(),
        });
        Ok(())
    }

    fn set_type_authorisation(
        &mut self,
        code: &str,
        agency: &str,
        authorised: bool,
    ) -> Result<(), TxError> {
        let mut t = self.licence_type(code)?;
        self.agency(agency)?;
        match (
            t.authorised.binary_search_by(|a| a.as_str().cmp(agency)),
            authorised,
        ) {
            (Ok(_), true) | (Err(_), false) => {
                return Err(TxError::Unchanged {
                    what: "type authorisation",
                });
            }
            (Err(at), true) => t.authorised.insert(at, agency.to_string()),
            (Ok(at), false) => {
                t.authorised.remove(at);
            }
        }
        t.validate()?;
        self.put(&StateKey::LicenceType(t.code.clone()), &t);
        self.out
            .events
            .push(Event::LicenceTypeChanged { code: t.code });
        Ok(())
    }

    fn register_submitter(&mut self, s: &Submitter) -> Result<(), TxError> {
        s.validate()?;
        check_algos(self.suite, &s.keys)?;
        if self
            .get::<Submitter>(&StateKey::Submitter(s.id.clone()))?
            .is_some()
        {
            return Err(TxError::SubmitterExists { id: s.id.clone() });
        }
        self.put(&StateKey::Submitter(s.id.clone()), s);
        self.out
            .events
            .push(Event::SubmitterChanged { id: s.id.clone() });
        Ok(())
    }

    fn update_submitter(
        &mut self,
        id: &str,
        keys: &Option<Vec<PublicKey>>,
        status: &Option<EntityStatus>,
    ) -> Result<(), TxError> {
        let mut s = self.submitter(id)?;
        let before = s.clone();
        if let Some(keys) = keys {
            check_algos(self.suite, keys)?;
            s.keys = keys.clone();
        }
        if let Some(status) = status {
            s.status = *status;
        }
        s.validate()?;
        if s == before {
            return Err(TxError::Unchanged { what: "submitter" });
        }
        self.put(&StateKey::Submitter(s.id.clone()), &s);
        self.out.events.push(Event::SubmitterChanged { id: s.id });
        Ok(())
    }

    fn add_validator(&mut self, v: &Validator) -> Result<(), TxError> {
        check_algo(self.suite, &v.key)?;
        let set = self.validators()?;
        if set.index_of(&v.key).is_some() {
            return Err(TxError::ValidatorExists { key: v.key.clone() });
        }
        if let Some(other) = set.validators.iter().find(|o| o.peer_id == v.peer_id) {
            return Err(TxError::PeerIdInUse {
                name: other.name.clone(),
            });
        }
        if let Some(observer) = self.get::<Observer>(&StateKey::Observer(v.peer_id.clone()))? {
            return Err(TxError::PeerIdUsedByObserver {
                name: observer.name,
            });
        }
        let size = set.len() + 1;
        if size > VALIDATORS_MAX {
            return Err(TxError::ValidatorSetSize {
                size,
                max: VALIDATORS_MAX,
            });
        }
        let mut validators = set.validators;
        validators.push(v.clone());
        let set = ValidatorSet::new(validators)?;
        self.put(&StateKey::Validators, &set);
        self.out
            .events
            .push(Event::ValidatorSetChanged { size: set.len() });
        Ok(())
    }

    fn remove_validator(&mut self, key: &PublicKey) -> Result<(), TxError> {
        let set = self.validators()?;
        let index = set
            .index_of(key)
            .ok_or_else(|| TxError::UnknownValidator { key: key.clone() })?;
        if set.len() == 1 {
            return Err(TxError::ValidatorSetSize {
                size: 0,
                max: VALIDATORS_MAX,
            });
        }
        let mut validators = set.validators;
        validators.remove(index);
        let set = ValidatorSet::new(validators)?;
        self.put(&StateKey::Validators, &set);
        self.out
            .events
            .push(Event::ValidatorSetChanged { size: set.len() });
        Ok(())
    }

    fn add_observer(&mut self, o: &Observer) -> Result<(), TxError> {
        o.validate()?;
        let key = StateKey::Observer(o.peer_id.clone());
        if self.get::<Observer>(&key)?.is_some() {
            return Err(TxError::ObserverExists {
                peer_id: o.peer_id.clone(),
            });
        }
        if let Some(v) = self
            .validators()?
            .validators
            .into_iter()
            .find(|v| v.peer_id == o.peer_id)
        {
            return Err(TxError::PeerIdInUse { name: v.name });
        }
        self.put(&key, o);
        self.out.events.push(Event::ObserverAdded {
            peer_id: o.peer_id.clone(),
        });
        Ok(())
    }

    fn remove_observer(&mut self, peer_id: &[u8]) -> Result<(), TxError> {
        check_peer_id(peer_id)?;
        let key = StateKey::Observer(peer_id.to_vec());
        if self.get::<Observer>(&key)?.is_none() {
            return Err(TxError::UnknownObserver {
                peer_id: peer_id.to_vec(),
            });
        }
        self.delete(&key);
        self.out.events.push(Event::ObserverRemoved {
            peer_id: peer_id.to_vec(),
        });
        Ok(())
    }

    fn update_council(&mut self, council: &Council) -> Result<(), TxError> {
        council.validate()?;
        check_algos(self.suite, &council.members)?;
        if *council == self.config.council {
            return Err(TxError::Unchanged { what: "council" });
        }
        let mut config = self.config.clone();
        config.council = council.clone();
        self.put(&StateKey::Config, &config);
        self.out.events.push(Event::CouncilChanged);
        Ok(())
    }

    // --- agency operations ---

    fn issue(&mut self, draft: &LicenceDraft, supersedes: Option<&str>) -> Result<(), TxError> {
        draft.validate()?;
        let agency = self.agency(&draft.issuer)?;
        self.require_agency_key(&agency)?;
        let t = self.licence_type(&draft.licence_type)?;
        if !t.is_authorised(&agency.id) {
            return Err(TxError::NotAuthorisedForType {
                agency: agency.id,
                licence_type: t.code,
            });
        }
        let key = StateKey::Licence(draft.id.clone());
        if self.get::<Licence>(&key)?.is_some() {
            return Err(TxError::LicenceExists {
                id: draft.id.clone(),
            });
        }
        let licence = Licence {
            draft: draft.clone(),
            status: LicenceStatus::Active,
            status_reason: String::new(),
            supersedes: supersedes.map(str::to_string),
            superseded_by: None,
            issued_height: self.ctx.height,
            issued_time_ms: self.ctx.time_ms,
            updated_height: self.ctx.height,
            updated_time_ms: self.ctx.time_ms,
        };
        self.put(&key, &licence);
        self.out.events.push(Event::LicenceChanged {
            id: draft.id.clone(),
            status: LicenceStatus::Active,
        });
        Ok(())
    }

    fn change_status(&mut self, id: &str, reason: &str, to: LicenceStatus) -> Result<(), TxError> {
        check_reason(reason)?;
        let mut licence = self.licence(id)?;
        self.require_issuer_or_council(&licence)?;
        if licence.status.is_final() {
            return Err(TxError::LicenceFinal {
                id: id.to_string(),
                status: licence.status.name(),
            });
        }
        match (licence.status, to) {
            (LicenceStatus::Suspended, LicenceStatus::Suspended) => {
                return Err(TxError::AlreadySuspended { id: id.to_string() });
            }
            (LicenceStatus::Active, LicenceStatus::Active) => {
                return Err(TxError::NotSuspended { id: id.to_string() });
            }
            _ => {}
        }
        licence.status = to;
        licence.status_reason = reason.to_string();
        licence.updated_height = self.ctx.height;
        licence.updated_time_ms = self.ctx.time_ms;
        self.put(&StateKey::Licence(id.to_string()), &licence);
        self.out.events.push(Event::LicenceChanged {
            id: id.to_string(),
            status: to,
        });
        Ok(())
    }

    fn supersede(&mut self, old_id: &str, reason: &str, new: &LicenceDraft) -> Result<(), TxError> {
        check_reason(reason)?;
        let mut old = self.licence(old_id)?;
        if new.issuer != old.draft.issuer {
            return Err(TxError::SupersedeByOtherAgency {
                issuer: old.draft.issuer,
            });
        }
        if old.status.is_final() {
            return Err(TxError::LicenceFinal {
                id: old_id.to_string(),
                status: old.status.name(),
            });
        }
        // Issuing the new licence checks the agency key, its status and its authorisation.
        self.issue(new, Some(old_id))?;
        old.status = LicenceStatus::Superseded;
        old.status_reason = reason.to_string();
        old.superseded_by = Some(new.id.clone());
        old.updated_height = self.ctx.height;
        old.updated_time_ms = self.ctx.time_ms;
        self.put(&StateKey::Licence(old_id.to_string()), &old);
        self.out.events.push(Event::LicenceChanged {
            id: old_id.to_string(),
            status: LicenceStatus::Superseded,
        });
        Ok(())
    }

    // --- evidence ---

    fn anchor_evidence(
        &mut self,
        hash: &Hash32,
        submitter: &str,
        label: &str,
    ) -> Result<(), TxError> {
        check_label(label)?;
        let s = self.submitter(submitter)?;
        if self.signers.len() != 1 || !s.keys.contains(&self.signers[0].key) {
            // Name a signer that is not the submitter's (as for agencies), not merely the first.
            let key = self
                .signers
                .iter()
                .find(|sig| !s.keys.contains(&sig.key))
                .unwrap_or(&self.signers[0])
                .key
                .clone();
            return Err(TxError::NotSubmitterKey {
                submitter: s.id,
                key,
            });
        }
        if s.status != EntityStatus::Active {
            return Err(TxError::SubmitterSuspended { id: s.id });
        }
        let key = StateKey::Evidence(*hash);
        if self.get::<Evidence>(&key)?.is_some() {
            return Err(TxError::EvidenceExists { hash: *hash });
        }
        let evidence = Evidence {
            hash: *hash,
            submitter: s.id,
            label: label.to_string(),
            height: self.ctx.height,
            time_ms: self.ctx.time_ms,
            tx_id: self.tx_id,
        };
        self.put(&key, &evidence);
        self.out
            .events
            .push(Event::EvidenceAnchored { hash: *hash });
        Ok(())
    }
}

fn check_reason(reason: &str) -> Result<(), TxError> {
    check_text("reason", reason)
}

fn check_label(label: &str) -> Result<(), TxError> {
    check_text("evidence label", label)
}

fn check_text(field: &'static str, text: &str) -> Result<(), TxError> {
    if text.len() > crate::model::TEXT_LEN_MAX {
        return Err(TxError::InvalidField(CodecError::TooLong {
            field,
            len: text.len(),
            max: crate::model::TEXT_LEN_MAX,
        }));
    }
    if text.chars().any(char::is_control) {
        return Err(TxError::InvalidField(CodecError::InvalidValue {
            field,
            reason: "must not contain control characters",
        }));
    }
    Ok(())
}
