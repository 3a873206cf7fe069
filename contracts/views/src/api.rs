//! Typed bodies of the node's HTTP API that clients read field by field: status, health,
//! finality receipts and errors. The node builds them, `lichen-client` returns them, the CLI
//! reads them; they serialise to the same JSON the API has always answered (fields in
//! alphabetical order once turned into a `serde_json::Value`).

use lichen_contracts::crypto::Hash32;
use serde::{Deserialize, Serialize};

use crate::text::rfc3339_from_ms;

/// `GET /v1/status`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StatusResponse {
    pub chain_id: String,
    /// `"sm"` or `"intl"`.
    pub suite: String,
    pub genesis_hash: String,
    pub trust_anchor_hash: String,
    /// Height of the last committed block.
    pub height: u64,
    pub block_hash: String,
    pub state_root: String,
    pub last_block_time_ms: u64,
    pub last_block_time: String,
    /// The consensus view this node is in.
    pub view: u64,
    /// This node's index in the current validator set (`null` for an observer).
    pub validator_index: Option<u16>,
    /// Validators of the next block's set.
    pub validators: usize,
    pub tx_expiry_blocks_max: u64,
    /// `"validator"` or `"observer"`.
    pub role: String,
    /// The node's libp2p peer id (base58), `null` without a network.
    pub peer_id: Option<String>,
    /// Connected peers.
    pub peers: usize,
    pub mempool: MempoolStatus,
    pub started_ms: u64,
    pub version: String,
}

/// The mempool part of [`StatusResponse`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MempoolStatus {
    pub transactions: usize,
    pub bytes: usize,
    pub transactions_max: usize,
    pub bytes_max: usize,
}

/// `GET /v1/health`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct HealthResponse {
    /// `"ok"`.
    pub status: String,
    pub height: u64,
}

/// `GET /ready` (200): the node is synced and reaches a quorum of validators.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ReadyResponse {
    /// `"ready"`.
    pub status: String,
    pub height: u64,
    /// How long ago the last committed block was proposed, in milliseconds.
    pub tip_age_ms: u64,
    /// Validators of the current set this node reaches (itself included, if it is one).
    pub validators_reachable: usize,
    /// The votes a block needs.
    pub quorum: usize,
}

/// A transaction admitted to the mempool: the answer of `POST /v1/transactions` (202) without
/// `?wait=final`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PendingResponse {
    /// The transaction id (hex).
    pub id: String,
    /// `"pending"`.
    pub status: String,
    /// It was waiting already (a resubmission).
    pub duplicate: bool,
}

/// A transaction committed in a block: the answer of `POST /v1/transactions?wait=final` (and of
/// `GET /v1/transactions/{id}` for a committed one, which adds the transaction itself).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FinalityReceipt {
    /// The transaction id (hex).
    pub id: String,
    /// `"committed"`.
    pub status: String,
    pub height: u64,
    /// Position in the block.
    pub index: u32,
    pub block_time_ms: u64,
    pub block_time: String,
}

impl FinalityReceipt {
    pub fn committed(id: &Hash32, height: u64, index: u32, block_time_ms: u64) -> Self {
        FinalityReceipt {
            id: id.to_hex(),
            status: "committed".into(),
            height,
            index,
            block_time_ms,
            block_time: rfc3339_from_ms(block_time_ms),
        }
    }
}

/// The answer of `POST /v1/transactions/batch`: one result per submitted transaction, in order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BatchSubmitResponse {
    pub results: Vec<BatchItemResult>,
}

/// What became of one transaction of a batch. `status` is `"pending"` (admitted, or
/// `duplicate` of one already waiting), `"retry"` (not admitted for want of room: the mempool,
/// the sender's share of it, or the node's relay backlog was full; submit it again later) or
/// `"refused"` (the transaction itself is at fault, or already committed: `error` says why).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BatchItemResult {
    /// The transaction id (hex); absent when the bytes do not decode.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    pub status: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duplicate: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<ErrorDetail>,
}

/// Every 4xx / 5xx answer: `{"error": {"code", "message"}}`, some with more fields beside it
/// (`id`, `status` for a refused transaction).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ErrorResponse {
    pub error: ErrorDetail,
}

/// A stable machine-readable `code` (`not_found`, `tx_refused`, `overloaded`...) and a message
/// for people.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ErrorDetail {
    pub code: String,
    pub message: String,
}

/// `GET /v1/licences/{id}`: the record, its status changes and the height it is read at.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LicenceRecordResponse {
    pub licence: crate::LicenceView,
    /// Every status change, oldest first.
    pub history: Vec<LicenceHistoryView>,
    /// The height of the state the record was read from.
    pub as_of_height: u64,
}

/// One status change of a licence: where the transaction that made it was committed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LicenceHistoryView {
    pub height: u64,
    /// The transaction's position in its block.
    pub index: u32,
    /// The transaction id (hex).
    pub tx_id: String,
    /// The status it set (`LicenceStatus::name()`).
    pub status: String,
}

/// `GET /v1/evidence/{hash}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EvidenceResponse {
    pub evidence: crate::EvidenceView,
}

/// A page of a list endpoint (`?limit=&cursor=`): the items, and the cursor that asks for the
/// next page (`null` on the last).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ListPage {
    /// The entries, each as the single-entry endpoint or the listing describes it.
    #[cfg_attr(feature = "openapi", schema(value_type = Vec<Object>))]
    pub items: Vec<serde_json::Value>,
    /// Pass it as `cursor` for the next page; `null` when there is none.
    pub next_cursor: Option<String>,
}

/// A typed body as the JSON value the API sends (fields sorted, as every other view).
pub fn to_value<T: Serialize>(body: &T) -> serde_json::Value {
    // A struct of strings and integers always serialises; `Null` would only hide a bug.
    serde_json::to_value(body).unwrap_or(serde_json::Value::Null)
}
