//! Council operations: agencies, licence types, submitters, the validator set, observers and the
//! council itself. The council threshold is checked before dispatch.

use alloc::string::{String, ToString};
use alloc::vec::Vec;

use crate::crypto::PublicKey;
use crate::ledger::{Event, Rules, TxError, check_algo, check_algos};
use crate::model::{
    Agency, Council, EntityStatus, LicenceType, Observer, Submitter, VALIDATORS_MAX, Validator,
    ValidatorSet, check_peer_id,
};
use crate::state::{StateKey, StateView};

impl<S: StateView + ?Sized> Rules<'_, S> {
    pub(super) fn register_agency(&mut self, agency: &Agency) -> Result<(), TxError> {
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

    pub(super) fn update_agency(
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

    pub(super) fn set_agency_status(
        &mut self,
        id: &str,
        status: EntityStatus,
    ) -> Result<(), TxError> {
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

    pub(super) fn define_licence_type(&mut self, t: &LicenceType) -> Result<(), TxError> {
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

    pub(super) fn set_type_authorisation(
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

    pub(super) fn register_submitter(&mut self, s: &Submitter) -> Result<(), TxError> {
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

    pub(super) fn update_submitter(
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

    pub(super) fn add_validator(&mut self, v: &Validator) -> Result<(), TxError> {
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

    pub(super) fn remove_validator(&mut self, key: &PublicKey) -> Result<(), TxError> {
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

    pub(super) fn add_observer(&mut self, o: &Observer) -> Result<(), TxError> {
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

    pub(super) fn remove_observer(&mut self, peer_id: &[u8]) -> Result<(), TxError> {
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

    pub(super) fn update_council(&mut self, council: &Council) -> Result<(), TxError> {
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
}
