//! The rules of each payload, as methods of [`Rules`]: the dispatch, the reads and writes a
//! transaction makes (its own earlier writes visible), and the authorisation checks. The
//! operations themselves are grouped in `council`, `licences` and `evidence`.

mod council;
mod evidence;
mod licences;

use alloc::string::ToString;

use super::{Authority, Rules, TxError};
use crate::codec::Encode;
use crate::error::{CodecError, StorageError};
use crate::model::{
    Agency, EntityStatus, Licence, LicenceStatus, LicenceType, Submitter, ValidatorSet,
};
use crate::state::{StateKey, StateView, StateViewExt};
use crate::tx::Payload;

impl<S: StateView + ?Sized> Rules<'_, S> {
    pub(super) fn apply(&mut self, payload: &Payload) -> Result<(), TxError> {
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
    crate::ids::check_text(field, text).map_err(TxError::InvalidField)
}
