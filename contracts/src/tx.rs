//! Transactions: what an agency, the council or an evidence submitter asks the chain to do.
//!
//! A transaction's id is `H("lichen/tx/v1", encode(Transaction))`; every signer signs the 32-byte
//! id. The id covers the chain id, a sender-chosen nonce and an expiry height, so one agency can
//! have any number of transactions in flight at once and a replay is refused until the expiry
//! height (the ledger remembers ids that long).

use alloc::string::String;
use alloc::vec::Vec;

use crate::codec::{Decode, Encode, Reader, Writer};
use crate::crypto::{Hash32, PublicKey, SecretKey, Signature, Suite, domain};
use crate::error::CodecError;
use crate::ids::{read_identifier, read_licence_id};
use crate::model::{
    Agency, CHAIN_ID_LEN_MAX, Council, ENTITY_KEYS_MAX, EntityStatus, ID_LEN_MAX,
    LICENCE_ID_LEN_MAX, LicenceDraft, LicenceType, NAME_LEN_MAX, Observer, Submitter, TEXT_LEN_MAX,
    Validator, check_key_list, check_name, read_peer_id,
};

/// Maximum signatures on one transaction (a council of up to 32 members signs at most 32).
pub const TX_SIGNATURES_MAX: usize = 32;
/// Maximum encoded size of one signed transaction, in bytes.
pub const TX_BYTES_MAX: usize = 64 * 1024;

/// What a transaction does. The tag byte of each variant is given in PROTOCOL.md.
#[derive(Clone, PartialEq, Eq, Debug)]
pub enum Payload {
    // --- council operations (threshold of council signatures) ---
    /// Tag 1.
    RegisterAgency(Agency),
    /// Tag 2. Rename an agency and/or replace its keys (key rotation).
    UpdateAgency {
        id: String,
        name: Option<String>,
        keys: Option<Vec<PublicKey>>,
    },
    /// Tag 3.
    SetAgencyStatus { id: String, status: EntityStatus },
    /// Tag 4.
    DefineLicenceType(LicenceType),
    /// Tag 5. Grant or withdraw an agency's authorisation for a licence type.
    SetTypeAuthorisation {
        licence_type: String,
        agency: String,
        authorised: bool,
    },
    /// Tag 6.
    RegisterSubmitter(Submitter),
    /// Tag 7. Replace a submitter's keys and/or status.
    UpdateSubmitter {
        id: String,
        keys: Option<Vec<PublicKey>>,
        status: Option<EntityStatus>,
    },
    /// Tag 8. Effective for the block after the one that carries it.
    AddValidator(Validator),
    /// Tag 9. Effective for the block after the one that carries it.
    RemoveValidator { key: PublicKey },
    /// Tag 10. Replace the council (members, threshold): rotates council keys.
    UpdateCouncil(Council),
    /// Tag 11. Admit a non-voting node to the validators' network by its peer id.
    AddObserver(Observer),
    /// Tag 12. Withdraw an observer, by its peer id.
    RemoveObserver { peer_id: Vec<u8> },
    // --- agency operations (a key of the issuing agency; suspend, reinstate and revoke also by a
    // council threshold) ---
    /// Tag 20.
    IssueLicence(LicenceDraft),
    /// Tag 21.
    SuspendLicence { id: String, reason: String },
    /// Tag 22.
    ReinstateLicence { id: String, reason: String },
    /// Tag 23. Final.
    RevokeLicence { id: String, reason: String },
    /// Tag 24. Issues `new` and marks `old_id` superseded by it, linking both ways. Final for the
    /// old licence.
    SupersedeLicence {
        old_id: String,
        reason: String,
        new: LicenceDraft,
    },
    // --- evidence (a key of a registered submitter) ---
    /// Tag 30.
    AnchorEvidence {
        hash: Hash32,
        submitter: String,
        label: String,
    },
}

impl Payload {
    pub fn tag(&self) -> u8 {
        match self {
            Payload::RegisterAgency(_) => 1,
            Payload::UpdateAgency { .. } => 2,
            Payload::SetAgencyStatus { .. } => 3,
            Payload::DefineLicenceType(_) => 4,
            Payload::SetTypeAuthorisation { .. } => 5,
            Payload::RegisterSubmitter(_) => 6,
            Payload::UpdateSubmitter { .. } => 7,
            Payload::AddValidator(_) => 8,
            Payload::RemoveValidator { .. } => 9,
            Payload::UpdateCouncil(_) => 10,
            Payload::AddObserver(_) => 11,
            Payload::RemoveObserver { .. } => 12,
            Payload::IssueLicence(_) => 20,
            Payload::SuspendLicence { .. } => 21,
            Payload::ReinstateLicence { .. } => 22,
            Payload::RevokeLicence { .. } => 23,
            Payload::SupersedeLicence { .. } => 24,
            Payload::AnchorEvidence { .. } => 30,
        }
    }

    /// A short name for logs and receipts.
    pub fn kind(&self) -> &'static str {
        match self {
            Payload::RegisterAgency(_) => "register-agency",
            Payload::UpdateAgency { .. } => "update-agency",
            Payload::SetAgencyStatus { .. } => "set-agency-status",
            Payload::DefineLicenceType(_) => "define-licence-type",
            Payload::SetTypeAuthorisation { .. } => "set-type-authorisation",
            Payload::RegisterSubmitter(_) => "register-submitter",
            Payload::UpdateSubmitter { .. } => "update-submitter",
            Payload::AddValidator(_) => "add-validator",
            Payload::RemoveValidator { .. } => "remove-validator",
            Payload::UpdateCouncil(_) => "update-council",
            Payload::AddObserver(_) => "add-observer",
            Payload::RemoveObserver { .. } => "remove-observer",
            Payload::IssueLicence(_) => "issue",
            Payload::SuspendLicence { .. } => "suspend",
            Payload::ReinstateLicence { .. } => "reinstate",
            Payload::RevokeLicence { .. } => "revoke",
            Payload::SupersedeLicence { .. } => "supersede",
            Payload::AnchorEvidence { .. } => "anchor-evidence",
        }
    }

    /// Council operations (tags 1-19) need a threshold of council signatures.
    pub fn is_council_operation(&self) -> bool {
        self.tag() < 20
    }
}

fn write_opt_str(w: &mut Writer, s: &Option<String>) {
    match s {
        None => w.u8(0),
        Some(s) => {
            w.u8(1);
            w.str(s);
        }
    }
}

fn read_opt_str(
    r: &mut Reader<'_>,
    field: &'static str,
    max: usize,
) -> Result<Option<String>, CodecError> {
    match r.u8()? {
        0 => Ok(None),
        1 => Ok(Some(r.str(field, max)?)),
        tag => Err(CodecError::InvalidTag {
            what: "option",
            tag,
        }),
    }
}

fn write_opt_keys(w: &mut Writer, keys: &Option<Vec<PublicKey>>) {
    match keys {
        None => w.u8(0),
        Some(keys) => {
            w.u8(1);
            w.seq(keys);
        }
    }
}

fn read_opt_keys(
    r: &mut Reader<'_>,
    field: &'static str,
) -> Result<Option<Vec<PublicKey>>, CodecError> {
    match r.u8()? {
        0 => Ok(None),
        1 => {
            let keys: Vec<PublicKey> = r.seq(field, ENTITY_KEYS_MAX)?;
            check_key_list(field, &keys, ENTITY_KEYS_MAX)?;
            Ok(Some(keys))
        }
        tag => Err(CodecError::InvalidTag {
            what: "option",
            tag,
        }),
    }
}

fn read_reason(r: &mut Reader<'_>) -> Result<String, CodecError> {
    let reason = r.str("reason", TEXT_LEN_MAX)?;
    crate::ids::check_text("reason", &reason)?;
    if reason.chars().any(char::is_control) {
        return Err(CodecError::InvalidValue {
            field: "reason",
            reason: "must not contain control characters",
        });
    }
    Ok(reason)
}

impl Encode for Payload {
    fn encode_to(&self, w: &mut Writer) {
        w.u8(self.tag());
        match self {
            Payload::RegisterAgency(a) => a.encode_to(w),
            Payload::UpdateAgency { id, name, keys } => {
                w.str(id);
                write_opt_str(w, name);
                write_opt_keys(w, keys);
            }
            Payload::SetAgencyStatus { id, status } => {
                w.str(id);
                status.encode_to(w);
            }
            Payload::DefineLicenceType(t) => t.encode_to(w),
            Payload::SetTypeAuthorisation {
                licence_type,
                agency,
                authorised,
            } => {
                w.str(licence_type);
                w.str(agency);
                w.bool(*authorised);
            }
            Payload::RegisterSubmitter(s) => s.encode_to(w),
            Payload::UpdateSubmitter { id, keys, status } => {
                w.str(id);
                write_opt_keys(w, keys);
                w.option(status);
            }
            Payload::AddValidator(v) => v.encode_to(w),
            Payload::RemoveValidator { key } => key.encode_to(w),
            Payload::UpdateCouncil(c) => c.encode_to(w),
            Payload::AddObserver(o) => o.encode_to(w),
            Payload::RemoveObserver { peer_id } => w.bytes(peer_id),
            Payload::IssueLicence(d) => d.encode_to(w),
            Payload::SuspendLicence { id, reason }
            | Payload::ReinstateLicence { id, reason }
            | Payload::RevokeLicence { id, reason } => {
                w.str(id);
                w.str(reason);
            }
            Payload::SupersedeLicence {
                old_id,
                reason,
                new,
            } => {
                w.str(old_id);
                w.str(reason);
                new.encode_to(w);
            }
            Payload::AnchorEvidence {
                hash,
                submitter,
                label,
            } => {
                hash.encode_to(w);
                w.str(submitter);
                w.str(label);
            }
        }
    }
}

impl Decode for Payload {
    fn decode_from(r: &mut Reader<'_>) -> Result<Self, CodecError> {
        let tag = r.u8()?;
        Ok(match tag {
            1 => Payload::RegisterAgency(Agency::decode_from(r)?),
            2 => {
                let id = read_identifier(r, "agency id", ID_LEN_MAX)?;
                let name = read_opt_str(r, "agency name", NAME_LEN_MAX)?;
                if let Some(name) = &name {
                    check_name("agency name", name, NAME_LEN_MAX)?;
                }
                Payload::UpdateAgency {
                    id,
                    name,
                    keys: read_opt_keys(r, "agency keys")?,
                }
            }
            3 => Payload::SetAgencyStatus {
                id: read_identifier(r, "agency id", ID_LEN_MAX)?,
                status: EntityStatus::decode_from(r)?,
            },
            4 => Payload::DefineLicenceType(LicenceType::decode_from(r)?),
            5 => Payload::SetTypeAuthorisation {
                licence_type: read_identifier(r, "licence type code", ID_LEN_MAX)?,
                agency: read_identifier(r, "agency id", ID_LEN_MAX)?,
                authorised: r.bool()?,
            },
            6 => Payload::RegisterSubmitter(Submitter::decode_from(r)?),
            7 => Payload::UpdateSubmitter {
                id: read_identifier(r, "submitter id", ID_LEN_MAX)?,
                keys: read_opt_keys(r, "submitter keys")?,
                status: r.option("submitter status")?,
            },
            8 => Payload::AddValidator(Validator::decode_from(r)?),
            9 => Payload::RemoveValidator {
                key: PublicKey::decode_from(r)?,
            },
            10 => Payload::UpdateCouncil(Council::decode_from(r)?),
            11 => Payload::AddObserver(Observer::decode_from(r)?),
            12 => Payload::RemoveObserver {
                peer_id: read_peer_id(r)?,
            },
            20 => Payload::IssueLicence(LicenceDraft::decode_from(r)?),
            21 => Payload::SuspendLicence {
                id: read_licence_id(r, LICENCE_ID_LEN_MAX)?,
                reason: read_reason(r)?,
            },
            22 => Payload::ReinstateLicence {
                id: read_licence_id(r, LICENCE_ID_LEN_MAX)?,
                reason: read_reason(r)?,
            },
            23 => Payload::RevokeLicence {
                id: read_licence_id(r, LICENCE_ID_LEN_MAX)?,
                reason: read_reason(r)?,
            },
            24 => Payload::SupersedeLicence {
                old_id: read_licence_id(r, LICENCE_ID_LEN_MAX)?,
                reason: read_reason(r)?,
                new: LicenceDraft::decode_from(r)?,
            },
            30 => {
                let hash = Hash32::decode_from(r)?;
                let submitter = read_identifier(r, "submitter id", ID_LEN_MAX)?;
                let label = r.str("evidence label", TEXT_LEN_MAX)?;
                if label.chars().any(char::is_control) {
                    return Err(CodecError::InvalidValue {
                        field: "evidence label",
                        reason: "must not contain control characters",
                    });
                }
                Payload::AnchorEvidence {
                    hash,
                    submitter,
                    label,
                }
            }
            tag => {
                return Err(CodecError::InvalidTag {
                    what: "payload",
                    tag,
                });
            }
        })
    }
}

/// The unsigned body of a transaction: everything its id covers.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Transaction {
    pub chain_id: String,
    /// Any value the sender picks; makes otherwise identical transactions distinct.
    pub nonce: u64,
    /// The last block height at which this transaction may be included.
    pub expires_at_height: u64,
    pub payload: Payload,
}

impl Transaction {
    /// `H("lichen/tx/v1", encode(self))`.
    pub fn id(&self, suite: Suite) -> Hash32 {
        suite.hash(domain::TX, &[&self.to_bytes()])
    }

    /// Signs the transaction id with `key`, returning the signature entry to attach.
    pub fn sign(&self, suite: Suite, key: &SecretKey) -> TxSignature {
        let id = self.id(suite);
        TxSignature {
            key: key.public_key(),
            signature: key.sign(id.as_bytes()),
        }
    }
}

impl Encode for Transaction {
    fn encode_to(&self, w: &mut Writer) {
        w.str(&self.chain_id);
        w.u64(self.nonce);
        w.u64(self.expires_at_height);
        self.payload.encode_to(w);
    }
}

impl Decode for Transaction {
    fn decode_from(r: &mut Reader<'_>) -> Result<Self, CodecError> {
        Ok(Transaction {
            chain_id: crate::ids::read_identifier(r, "chain id", CHAIN_ID_LEN_MAX)?,
            nonce: r.u64()?,
            expires_at_height: r.u64()?,
            payload: Payload::decode_from(r)?,
        })
    }
}

/// One signature on a transaction: the signer's public key and its signature over the tx id.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct TxSignature {
    pub key: PublicKey,
    pub signature: Signature,
}

impl Encode for TxSignature {
    fn encode_to(&self, w: &mut Writer) {
        self.key.encode_to(w);
        self.signature.encode_to(w);
    }
}

impl Decode for TxSignature {
    fn decode_from(r: &mut Reader<'_>) -> Result<Self, CodecError> {
        Ok(TxSignature {
            key: PublicKey::decode_from(r)?,
            signature: Signature::decode_from(r)?,
        })
    }
}

/// A signed transaction with its id, witness hash and encoded length, computed together. Only
/// [`SignedTransaction::digested`] makes one, so the three always belong to the transaction it
/// holds.
#[derive(Clone, Copy, Debug)]
pub struct DigestedTx<'a> {
    tx: &'a SignedTransaction,
    id: Hash32,
    witness: Hash32,
    len: usize,
}

impl<'a> DigestedTx<'a> {
    pub fn tx(&self) -> &'a SignedTransaction {
        self.tx
    }

    /// [`SignedTransaction::id`].
    pub fn id(&self) -> Hash32 {
        self.id
    }

    /// [`SignedTransaction::witness_hash`].
    pub fn witness(&self) -> Hash32 {
        self.witness
    }

    /// The length of the transaction's encoding.
    pub fn encoded_len(&self) -> usize {
        self.len
    }
}

/// A transaction with its signatures, as submitted and as stored in blocks.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct SignedTransaction {
    pub tx: Transaction,
    pub signatures: Vec<TxSignature>,
}

impl SignedTransaction {
    pub fn id(&self, suite: Suite) -> Hash32 {
        self.tx.id(suite)
    }

    /// `H("lichen/tx-witness/v1", encode(self))`: covers the signatures as well as the body, so
    /// a block's tx root commits to who signed each transaction.
    pub fn witness_hash(&self, suite: Suite) -> Hash32 {
        self.witness_hash_and_len(suite).0
    }

    /// The witness hash and the encoded length, from one encoding.
    pub fn witness_hash_and_len(&self, suite: Suite) -> (Hash32, usize) {
        let bytes = self.to_bytes();
        (suite.hash(domain::TX_WITNESS, &[&bytes]), bytes.len())
    }

    /// The id, the witness hash and the encoded length, from one encoding: the body's encoding
    /// is the first part of the signed transaction's, so both hashes read the same bytes.
    pub fn digested(&self, suite: Suite) -> DigestedTx<'_> {
        // Transient: room for a usual transaction at once, not grown from nothing.
        let mut w = Writer::with_capacity(512);
        self.tx.encode_to(&mut w);
        let body_len = w.as_bytes().len();
        w.seq(&self.signatures);
        let bytes = w.into_bytes();
        DigestedTx {
            tx: self,
            id: suite.hash(domain::TX, &[&bytes[..body_len]]),
            witness: suite.hash(domain::TX_WITNESS, &[&bytes]),
            len: bytes.len(),
        }
    }

    /// Decodes a submitted transaction, refusing oversized input before parsing it.
    pub fn from_wire(bytes: &[u8]) -> Result<Self, CodecError> {
        if bytes.len() > TX_BYTES_MAX {
            return Err(CodecError::TooLong {
                field: "transaction",
                len: bytes.len(),
                max: TX_BYTES_MAX,
            });
        }
        Self::from_bytes(bytes)
    }
}

impl Encode for SignedTransaction {
    fn encode_to(&self, w: &mut Writer) {
        self.tx.encode_to(w);
        w.seq(&self.signatures);
    }
}

impl Decode for SignedTransaction {
    fn decode_from(r: &mut Reader<'_>) -> Result<Self, CodecError> {
        Ok(SignedTransaction {
            tx: Transaction::decode_from(r)?,
            signatures: r.seq("signatures", TX_SIGNATURES_MAX)?,
        })
    }
}
