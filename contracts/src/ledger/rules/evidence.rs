//! Evidence anchoring by a registered, active submitter.

use alloc::string::ToString;

use super::check_label;
use crate::crypto::Hash32;
use crate::ledger::{Event, Rules, TxError};
use crate::model::{EntityStatus, Evidence};
use crate::state::{StateKey, StateView};

impl<S: StateView + ?Sized> Rules<'_, S> {
    pub(super) fn anchor_evidence(
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
