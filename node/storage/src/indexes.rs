//! The indexes the API lists and looks up beside the state: evidence by hash, a licence's
//! history, licences per agency, registered entities by kind. Written by `commit_block` (and a
//! restore, for the entities), read here.

use lichen_contracts::crypto::Hash32;
use lichen_contracts::state::StateKind;

use crate::chain::{
    ChainStore, LISTING_MAX, LicenceHistoryEntry, TxLocation, corrupt, decode, key, location_bytes,
    prefix_end, read_hash, read_location,
};
use crate::error::StoreError;
use crate::kv::KvStore;
use crate::layout::{self, ENTITY_ID_AT, LICENCE_HISTORY_BYTES, TX_ID_BYTES};

impl<K: KvStore> ChainStore<K> {
    /// Where evidence `hash` was anchored.
    pub fn evidence_location(&self, hash: &Hash32) -> Result<Option<TxLocation>, StoreError> {
        self.kv()
            .get(&key(layout::EVIDENCE, &[hash.as_bytes()]))?
            .map(|b| read_location("evidence index", &b))
            .transpose()
    }

    /// Status changes of licence `id`, oldest first, at most [`LISTING_MAX`].
    pub fn licence_history(&self, id: &str) -> Result<Vec<LicenceHistoryEntry>, StoreError> {
        let start = key(layout::LICENCE, &[id.as_bytes(), &[0]]);
        let rows = self
            .kv()
            .scan(&start, &prefix_end(&start), LISTING_MAX, false)?;
        rows.into_iter()
            .map(|(k, v)| {
                let location = read_location("licence history", &k[start.len()..])?;
                if v.len() != LICENCE_HISTORY_BYTES {
                    return Err(corrupt("licence history", "an entry is 33 bytes"));
                }
                Ok(LicenceHistoryEntry {
                    location,
                    tx_id: read_hash("licence history", &v)?,
                    status: decode("licence status", &v[TX_ID_BYTES..])?,
                })
            })
            .collect()
    }

    /// Licences issued by `agency`, newest first, with where each was issued: those issued
    /// before `before` (all with `None`), at most `limit` (capped at [`LISTING_MAX`]). The last
    /// one's location is the `before` of the next page.
    pub fn agency_licences(
        &self,
        agency: &str,
        before: Option<TxLocation>,
        limit: usize,
    ) -> Result<Vec<(TxLocation, String)>, StoreError> {
        let start = key(layout::AGENCY, &[agency.as_bytes(), &[0]]);
        let end = match before {
            Some(loc) => key(
                layout::AGENCY,
                &[agency.as_bytes(), &[0], &location_bytes(loc)],
            ),
            None => prefix_end(&start),
        };
        let rows = self.kv().scan(&start, &end, limit.min(LISTING_MAX), true)?;
        rows.into_iter()
            .map(|(k, v)| {
                let location = read_location("agency index", &k[start.len()..])?;
                let id = String::from_utf8(v)
                    .map_err(|_| corrupt("agency index", "licence id not UTF-8"))?;
                Ok((location, id))
            })
            .collect()
    }

    /// Ids of the registered entities of one kind (agencies, licence types, submitters) after
    /// `after` (from the first with `None`), in id order, at most `limit` (capped at
    /// [`LISTING_MAX`]). Their entries live in state.
    pub fn entity_ids(
        &self,
        kind: StateKind,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<String>, StoreError> {
        let prefix = [layout::ENTITY, kind.as_u8()];
        // Ids hold no NUL byte: `id` followed by 0 is the first key after `id` and every key
        // that extends it.
        let start = match after {
            Some(id) => key(layout::ENTITY, &[&[kind.as_u8()], id.as_bytes(), &[0]]),
            None => prefix.to_vec(),
        };
        let rows = self
            .kv()
            .scan(&start, &prefix_end(&prefix), limit.min(LISTING_MAX), false)?;
        rows.into_iter()
            .map(|(k, _)| {
                String::from_utf8(k[ENTITY_ID_AT..].to_vec())
                    .map_err(|_| corrupt("entity index", "id not UTF-8"))
            })
            .collect()
    }

    /// Ids of the entities of one kind as bytes, in byte order, at most `limit`: for
    /// [`StateKind::Observer`] these are peer ids, which need not be UTF-8.
    pub fn entity_raw_ids(
        &self,
        kind: StateKind,
        limit: usize,
    ) -> Result<Vec<Vec<u8>>, StoreError> {
        let start = [layout::ENTITY, kind.as_u8()];
        let rows = self.kv().scan(&start, &prefix_end(&start), limit, false)?;
        Ok(rows
            .into_iter()
            .map(|(k, _)| k[ENTITY_ID_AT..].to_vec())
            .collect())
    }

    /// Peer ids of every current observer (entity kind [`StateKind::Observer`]), in byte order. Not capped at
    /// [`LISTING_MAX`]: the network admits peers by this list, so it must be whole (its length
    /// is what genesis and the council made it).
    pub fn observer_peer_ids(&self) -> Result<Vec<Vec<u8>>, StoreError> {
        self.entity_raw_ids(StateKind::Observer, usize::MAX)
    }
}
