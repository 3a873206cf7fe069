//! Licence operations: issue, suspend, reinstate, revoke and supersede, by the issuing agency (or
//! the council for status changes).

use alloc::string::{String, ToString};

use super::check_reason;
use crate::ledger::{Event, Rules, TxError};
use crate::model::{Licence, LicenceDraft, LicenceStatus};
use crate::revocation::RevocationMark;
use crate::state::{StateKey, StateView};

impl<S: StateView + ?Sized> Rules<'_, S> {
    pub(super) fn issue(
        &mut self,
        draft: &LicenceDraft,
        supersedes: Option<&str>,
    ) -> Result<(), TxError> {
        draft.validate()?;
        let agency = self.agency(&draft.issuer)?;
        self.require_agency_key(&agency)?;
        if self.authority_only {
            return Ok(()); // nothing below checks who signed
        }
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

    pub(super) fn change_status(
        &mut self,
        id: &str,
        reason: &str,
        to: LicenceStatus,
    ) -> Result<(), TxError> {
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
        self.mark(id, to);
        self.out.events.push(Event::LicenceChanged {
            id: id.to_string(),
            status: to,
        });
        Ok(())
    }

    pub(super) fn supersede(
        &mut self,
        old_id: &str,
        reason: &str,
        new: &LicenceDraft,
    ) -> Result<(), TxError> {
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
        self.mark(old_id, LicenceStatus::Superseded);
        self.out.events.push(Event::LicenceChanged {
            id: old_id.to_string(),
            status: LicenceStatus::Superseded,
        });
        Ok(())
    }

    /// Keeps the licence's revocation mark in step with its status: a mark for every status but
    /// active ([`crate::revocation`]).
    fn mark(&mut self, id: &str, status: LicenceStatus) {
        let key = StateKey::RevocationMark(id.to_string());
        if status == LicenceStatus::Active {
            self.delete(&key);
        } else {
            self.put(&key, &RevocationMark { status });
        }
    }
}
