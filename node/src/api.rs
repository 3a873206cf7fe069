//! The HTTP API (axum), under `/v1`. Errors are JSON `{ "error": { "code", "message" } }` with a
//! 4xx status for the client's mistakes and 5xx for the node's. Bodies and concurrent requests
//! are bounded; a request beyond the concurrency bound is refused at once (503), not queued.
//!
//! The node is not trusted: everything a verifier needs (presentations, receipts, blocks with
//! certificates) comes with its proof, and `POST /v1/verify` is a convenience that runs the same
//! `contracts` code a client can run itself.

use std::sync::Arc;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::{Path, Query, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use futures::StreamExt;
use lichen_contracts::codec::{Decode, Encode};
use lichen_contracts::crypto::Hash32;
use lichen_contracts::model::{Agency, LicenceType, Submitter};
use lichen_contracts::presentation::{Document, Policy, verify_bytes};
use lichen_contracts::state::StateKey;
use serde::Deserialize;
use serde_json::{Value, json};
use tokio::sync::Semaphore;

use crate::error::NodeError;
use lichen_views as json;
use crate::mempool::AdmitError;
use crate::runtime::{Shared, SubmitError, TxFate, now_ms};

/// Default bound on a request body, in bytes.
pub const BODY_BYTES_MAX_DEFAULT: usize = 1024 * 1024;
/// Default bound on requests being served at once.
pub const CONCURRENCY_MAX_DEFAULT: usize = 512;
/// How long `?wait=final` waits by default, in milliseconds.
pub const WAIT_TIMEOUT_DEFAULT_MS: u64 = 10_000;
/// The longest `?wait=final` may be asked to wait, in milliseconds.
pub const WAIT_TIMEOUT_MAX_MS: u64 = 60_000;
/// How old a certified header `POST /v1/verify` accepts by default, in milliseconds (24 h).
pub const PROOF_AGE_MAX_DEFAULT_MS: u64 = 24 * 3600 * 1000;

/// Bounds of the API.
#[derive(Clone, Copy, Debug)]
pub struct ApiLimits {
    pub body_bytes_max: usize,
    pub concurrency_max: usize,
}

impl Default for ApiLimits {
    fn default() -> Self {
        ApiLimits {
            body_bytes_max: BODY_BYTES_MAX_DEFAULT,
            concurrency_max: CONCURRENCY_MAX_DEFAULT,
        }
    }
}

/// An error response.
#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    /// The server will not read the rest of the request: tell the client to reconnect.
    pub close: bool,
}

impl ApiError {
    fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            code,
            message: message.into(),
            close: false,
        }
    }

    fn bad_request(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, message)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = json!({ "error": { "code": self.code, "message": self.message } });
        let mut response = (self.status, Json(body)).into_response();
        if self.close {
            response
                .headers_mut()
                .insert(header::CONNECTION, HeaderValue::from_static("close"));
        }
        response
    }
}

impl From<NodeError> for ApiError {
    fn from(e: NodeError) -> Self {
        match &e {
            NodeError::NotFound { .. } => {
                Self::new(StatusCode::NOT_FOUND, "not_found", e.to_string())
            }
            NodeError::Pruned { .. } => Self::new(StatusCode::GONE, "pruned", e.to_string()),
            NodeError::NoCertifiedBlock => {
                Self::new(StatusCode::CONFLICT, "no_certified_block", e.to_string())
            }
            NodeError::Malformed { .. } => Self::bad_request("malformed", e.to_string()),
            NodeError::Refused(_) => Self::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "tx_refused",
                e.to_string(),
            ),
            _ => {
                tracing::error!("request failed: {e}");
                Self::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", e.to_string())
            }
        }
    }
}

impl From<SubmitError> for ApiError {
    fn from(e: SubmitError) -> Self {
        let admit = match e {
            SubmitError::Node(n) => return n.into(),
            SubmitError::Admit(a) => a,
            SubmitError::TooManyWaiters => {
                return Self::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "too_many_waiters",
                    "too many clients are waiting for finality; submit without wait and poll",
                );
            }
            e @ SubmitError::Overloaded { .. } => {
                return Self::new(StatusCode::SERVICE_UNAVAILABLE, "overloaded", e.to_string());
            }
        };
        let (status, code) = match &admit {
            AdmitError::TooLarge { .. } => (StatusCode::PAYLOAD_TOO_LARGE, "tx_too_large"),
            AdmitError::Malformed { .. } => (StatusCode::BAD_REQUEST, "malformed_tx"),
            AdmitError::WrongChain { .. } => (StatusCode::UNPROCESSABLE_ENTITY, "wrong_chain"),
            AdmitError::Expired { .. } => (StatusCode::UNPROCESSABLE_ENTITY, "tx_expired"),
            AdmitError::ExpiryTooFar { .. } => {
                (StatusCode::UNPROCESSABLE_ENTITY, "tx_expiry_too_far")
            }
            AdmitError::Signature(_) => (StatusCode::UNPROCESSABLE_ENTITY, "bad_signature"),
            AdmitError::AlreadyCommitted { .. } => (StatusCode::CONFLICT, "already_committed"),
            AdmitError::Full { .. } => (StatusCode::SERVICE_UNAVAILABLE, "mempool_full"),
        };
        Self::new(status, code, admit.to_string())
    }
}

/// Bytes past the body limit read and thrown away before answering 413, at most. A client that
/// writes its whole body before reading the answer (most do) then sees the 413 instead of a
/// connection reset mid-write; beyond this the connection is simply closed.
pub const OVERSIZED_DRAIN_BYTES_MAX: usize = 16 * 1024 * 1024;

/// Reads a request body of at most `limit` bytes. An oversized body is drained (up to
/// `OVERSIZED_DRAIN_BYTES_MAX` more) and answered 413 with `Connection: close`.
async fn read_body(body: Body, limit: usize) -> ApiResult<Bytes> {
    let mut stream = body.into_data_stream();
    let mut kept = Vec::new();
    let mut total = 0usize;
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|e| ApiError::bad_request("bad_body", e.to_string()))?;
        total = total.saturating_add(chunk.len());
        if total <= limit {
            kept.extend_from_slice(&chunk);
        } else if total > limit.saturating_add(OVERSIZED_DRAIN_BYTES_MAX) {
            break;
        }
    }
    if total > limit {
        let mut error = ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "body_too_large",
            format!("the body is over the limit of {limit} bytes"),
        );
        // What is left unread makes the connection unusable: say so, or clients reuse it.
        error.close = true;
        return Err(error);
    }
    Ok(Bytes::from(kept))
}

type ApiResult<T> = Result<T, ApiError>;

#[derive(Clone)]
struct AppState {
    shared: Arc<Shared>,
    permits: Arc<Semaphore>,
    body_bytes_max: usize,
}

/// The API's routes over the node's shared state.
pub fn router(shared: Arc<Shared>, limits: ApiLimits) -> Router {
    let state = AppState {
        shared,
        permits: Arc::new(Semaphore::new(limits.concurrency_max)),
        body_bytes_max: limits.body_bytes_max,
    };
    Router::new()
        .route("/health", get(health))
        .route("/v1/status", get(status))
        .route("/v1/transactions", post(submit_tx))
        .route("/v1/transactions/{id}", get(get_tx))
        .route("/v1/licences/{id}", get(get_licence))
        .route("/v1/licences/{id}/presentation", get(get_presentation))
        .route("/v1/verify", post(verify))
        .route("/v1/evidence/{hash}", get(get_evidence))
        .route("/v1/evidence/{hash}/receipt", get(get_receipt))
        .route("/v1/blocks/{height}", get(get_block))
        .route("/v1/validators", get(validators))
        .route("/v1/agencies", get(agencies))
        .route("/v1/licence-types", get(licence_types))
        .route("/v1/submitters", get(submitters))
        .route("/v1/trust-anchor", get(trust_anchor))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(middleware::from_fn_with_state(
            state.clone(),
            limit_concurrency,
        ))
        .layer(middleware::map_response(allow_any_origin))
        .with_state(state)
}

async fn limit_concurrency(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    match state.permits.clone().try_acquire_owned() {
        Ok(_permit) => next.run(request).await,
        Err(_) => ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "overloaded",
            "too many requests in progress; retry shortly",
        )
        .into_response(),
    }
}

/// Everything the API serves is public (presentations carry their own proof), so any page may
/// read it: a scanner page fetches a fresh presentation from a node on another origin. Only
/// simple requests (GET, or POST of a body without custom headers) work across origins: no
/// preflight is answered.
async fn allow_any_origin(mut response: Response) -> Response {
    response.headers_mut().insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        HeaderValue::from_static("*"),
    );
    response
}

async fn not_found() -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "no_such_route",
        "no such endpoint; see the README's API section",
    )
}

async fn method_not_allowed() -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        "this endpoint does not accept that method",
    )
}

fn wants_json(headers: &HeaderMap) -> bool {
    headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("application/json"))
}

fn is_json_body(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"))
}

fn binary(bytes: Vec<u8>) -> Response {
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/octet-stream"),
        )],
        bytes,
    )
        .into_response()
}

fn parse_hash_param(what: &str, text: &str) -> ApiResult<Hash32> {
    Hash32::from_hex(text).ok_or_else(|| {
        ApiError::bad_request(
            "bad_hash",
            format!("{what} must be 64 hexadecimal characters, got '{text}'"),
        )
    })
}

/// A JSON body, parsed with a clear error.
fn json_body(body: &Bytes) -> ApiResult<Value> {
    serde_json::from_slice(body)
        .map_err(|e| ApiError::bad_request("bad_json", format!("request body is not JSON: {e}")))
}

fn hex_field(body: &Value, field: &str) -> ApiResult<Option<Vec<u8>>> {
    match body.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => json::parse_hex(s).map(Some).map_err(|e| {
            ApiError::bad_request("bad_hex", format!("field '{field}' is not hex: {e}"))
        }),
        Some(_) => Err(ApiError::bad_request(
            "bad_json",
            format!("field '{field}' must be a hex string"),
        )),
    }
}

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> ApiResult<T> + Send + 'static,
) -> ApiResult<T> {
    tokio::task::spawn_blocking(f).await.map_err(|e| {
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            format!("worker failed: {e}"),
        )
    })?
}

// ------------------------------------------------------------------------------- handlers

async fn health(State(state): State<AppState>) -> ApiResult<Json<Value>> {
    let tip = state.shared.chain.tip()?;
    Ok(Json(json!({ "status": "ok", "height": tip.height })))
}

async fn status(State(state): State<AppState>) -> ApiResult<Json<Value>> {
    let shared = &state.shared;
    let chain = &shared.chain;
    let header = chain.tip_header()?;
    let runtime = shared.status.read().map(|s| s.clone()).unwrap_or_default();
    let (pending, pending_bytes, limits) = shared
        .mempool
        .lock()
        .map(|m| (m.len(), m.bytes(), m.limits()))
        .map_err(|_| NodeError::Internal {
            reason: "mempool lock poisoned".into(),
        })?;
    Ok(Json(json!({
        "chain_id": chain.chain_id(),
        "suite": chain.suite().name(),
        "genesis_hash": chain.genesis().hash().to_hex(),
        "trust_anchor_hash": chain.trust_anchor().hash().to_hex(),
        "height": header.height,
        "block_hash": header.hash(chain.suite()).to_hex(),
        "state_root": header.state_root.to_hex(),
        "last_block_time_ms": header.time_ms,
        "last_block_time": json::rfc3339_from_ms(header.time_ms),
        "view": runtime.view,
        "validator_index": runtime.validator_index,
        "validators": chain.next_validators()?.len(),
        "tx_expiry_blocks_max": chain.params().tx_expiry_blocks_max,
        "role": runtime.role,
        "peer_id": runtime.peer_id,
        "peers": runtime.peers,
        "mempool": { "transactions": pending, "bytes": pending_bytes,
                     "transactions_max": limits.txs_max, "bytes_max": limits.bytes_max },
        "started_ms": runtime.started_ms,
        "version": env!("CARGO_PKG_VERSION"),
    })))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SubmitQuery {
    wait: Option<String>,
    timeout_ms: Option<u64>,
}

fn fate_json(id: &Hash32, fate: &TxFate) -> (StatusCode, Value) {
    match fate {
        TxFate::Committed {
            height,
            index,
            block_time_ms,
        } => (
            StatusCode::OK,
            json!({ "id": id.to_hex(), "status": "committed", "height": height, "index": index,
                    "block_time_ms": block_time_ms,
                    "block_time": json::rfc3339_from_ms(*block_time_ms) }),
        ),
        TxFate::Refused { reason } => (
            StatusCode::UNPROCESSABLE_ENTITY,
            json!({ "error": { "code": "tx_refused", "message": reason }, "id": id.to_hex(),
                    "status": "refused" }),
        ),
        TxFate::Expired => (
            StatusCode::UNPROCESSABLE_ENTITY,
            json!({ "error": { "code": "tx_expired",
                               "message": "the transaction expired before a block included it" },
                    "id": id.to_hex(), "status": "expired" }),
        ),
    }
}

/// `POST /v1/transactions`: an encoded signed transaction (`application/octet-stream`) or
/// `{"tx": "<hex>"}`. `?wait=final` waits for the block that includes it.
async fn submit_tx(
    State(state): State<AppState>,
    query: Result<Query<SubmitQuery>, axum::extract::rejection::QueryRejection>,
    headers: HeaderMap,
    body: Body,
) -> ApiResult<Response> {
    let Query(query) = query.map_err(|e| ApiError::bad_request("bad_query", e.body_text()))?;
    let body = read_body(body, state.body_bytes_max).await?;
    let bytes = if is_json_body(&headers) {
        let v = json_body(&body)?;
        hex_field(&v, "tx")?
            .ok_or_else(|| ApiError::bad_request("bad_json", "missing field 'tx' (hex bytes)"))?
    } else {
        body.to_vec()
    };
    let wait = match query.wait.as_deref() {
        None => false,
        Some("final") => true,
        Some(other) => {
            return Err(ApiError::bad_request(
                "bad_query",
                format!("wait must be 'final', got '{other}'"),
            ));
        }
    };
    let shared = state.shared.clone();
    let (admitted, receiver) = blocking(move || Ok(shared.submit(&bytes, wait)?)).await?;
    let id = admitted.id;
    let Some(receiver) = receiver else {
        let body =
            json!({ "id": id.to_hex(), "status": "pending", "duplicate": admitted.duplicate });
        return Ok((StatusCode::ACCEPTED, Json(body)).into_response());
    };
    let timeout_ms = query
        .timeout_ms
        .unwrap_or(WAIT_TIMEOUT_DEFAULT_MS)
        .min(WAIT_TIMEOUT_MAX_MS);
    // A duplicate may have become final before we started watching.
    if admitted.duplicate
        && let Some(fate) = committed_fate(&state, &id)?
    {
        let (status, body) = fate_json(&id, &fate);
        return Ok((status, Json(body)).into_response());
    }
    match tokio::time::timeout(Duration::from_millis(timeout_ms), receiver).await {
        Ok(Ok(fate)) => {
            let (status, body) = fate_json(&id, &fate);
            Ok((status, Json(body)).into_response())
        }
        Ok(Err(_)) | Err(_) => Err(ApiError::new(
            StatusCode::GATEWAY_TIMEOUT,
            "finality_timeout",
            format!(
                "transaction {id} was accepted but is not final after {timeout_ms} ms; query GET /v1/transactions/{id}"
            ),
        )),
    }
}

fn committed_fate(state: &AppState, id: &Hash32) -> ApiResult<Option<TxFate>> {
    let chain = &state.shared.chain;
    let Some(loc) = chain.store().tx_location(id).map_err(NodeError::from)? else {
        return Ok(None);
    };
    let time = chain
        .store()
        .header(loc.height)
        .map_err(NodeError::from)?
        .map(|h| h.time_ms)
        .unwrap_or(0);
    Ok(Some(TxFate::Committed {
        height: loc.height,
        index: loc.index,
        block_time_ms: time,
    }))
}

async fn get_tx(State(state): State<AppState>, Path(id): Path<String>) -> ApiResult<Response> {
    let id = parse_hash_param("transaction id", &id)?;
    let chain = state.shared.chain.clone();
    if let Some((loc, tx)) = chain.transaction(&id)? {
        let time = chain.store().header(loc.height).map_err(NodeError::from)?;
        let time_ms = time.map(|h| h.time_ms).unwrap_or(0);
        let body = json!({
            "id": id.to_hex(), "status": "committed", "height": loc.height, "index": loc.index,
            "block_time_ms": time_ms, "block_time": json::rfc3339_from_ms(time_ms),
            "transaction": json::signed_transaction_to_json(&tx, chain.suite()),
        });
        return Ok(Json(body).into_response());
    }
    let pending = state
        .shared
        .mempool
        .lock()
        .map(|m| m.contains(&id))
        .unwrap_or(false);
    if pending {
        return Ok(Json(json!({ "id": id.to_hex(), "status": "pending" })).into_response());
    }
    if let Some(reason) = state.shared.finality.refused_reason(&id) {
        return Ok(
            Json(json!({ "id": id.to_hex(), "status": "refused", "reason": reason }))
                .into_response(),
        );
    }
    Err(NodeError::NotFound {
        what: "transaction",
        id: id.to_hex(),
    }
    .into())
}

async fn get_licence(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let chain = &state.shared.chain;
    let tip = chain.tip()?;
    let licence: Option<lichen_contracts::model::Licence> =
        chain.entry(&StateKey::Licence(id.clone()))?;
    let licence = licence.ok_or(NodeError::NotFound {
        what: "licence",
        id: id.clone(),
    })?;
    let history = chain
        .store()
        .licence_history(&id)
        .map_err(NodeError::from)?
        .into_iter()
        .map(|h| {
            json!({ "height": h.location.height, "index": h.location.index,
                    "tx_id": h.tx_id.to_hex(), "status": h.status.name() })
        })
        .collect::<Vec<_>>();
    Ok(Json(json!({
        "licence": json::licence_to_json(&licence),
        "history": history,
        "as_of_height": tip.height,
    })))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct AtHeight {
    /// Build the proof at this height (default: the latest), within the kept state window.
    height: Option<u64>,
}

fn at_height(
    query: Result<Query<AtHeight>, axum::extract::rejection::QueryRejection>,
) -> ApiResult<Option<u64>> {
    let Query(q) = query.map_err(|e| ApiError::bad_request("bad_query", e.body_text()))?;
    Ok(q.height)
}

async fn get_presentation(
    State(state): State<AppState>,
    Path(id): Path<String>,
    query: Result<Query<AtHeight>, axum::extract::rejection::QueryRejection>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let height = at_height(query)?;
    let chain = state.shared.chain.clone();
    let p = blocking(move || Ok(chain.presentation(&id, height)?)).await?;
    let bytes = p.to_bytes();
    if wants_json(&headers) {
        let h = &p.certified.header;
        return Ok(Json(json!({
            "presentation": json::hex_string(&bytes),
            "size": bytes.len(),
            "licence": json::licence_to_json(&p.licence),
            "height": h.height,
            "status_as_of_ms": h.time_ms,
            "status_as_of": json::rfc3339_from_ms(h.time_ms),
            "set_changes": p.certified.set_changes.len(),
        }))
        .into_response());
    }
    Ok(binary(bytes))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct VerifyQuery {
    document_hash: Option<String>,
    proof_age_max_ms: Option<u64>,
}

/// `POST /v1/verify`: a presentation or evidence receipt (binary, or `{"presentation": hex,
/// "document_hash": hex, "proof_age_max_ms": n}`) checked against this chain's genesis anchor.
async fn verify(
    State(state): State<AppState>,
    query: Result<Query<VerifyQuery>, axum::extract::rejection::QueryRejection>,
    headers: HeaderMap,
    body: Body,
) -> ApiResult<Json<Value>> {
    let Query(query) = query.map_err(|e| ApiError::bad_request("bad_query", e.body_text()))?;
    let body = read_body(body, state.body_bytes_max).await?;
    let (bytes, doc_hex, age) = if is_json_body(&headers) {
        let v = json_body(&body)?;
        if let Some(obj) = v.as_object()
            && let Some(unknown) = obj.keys().find(|k| {
                !["presentation", "document_hash", "proof_age_max_ms"].contains(&k.as_str())
            })
        {
            return Err(ApiError::bad_request(
                "bad_json",
                format!("unknown field '{unknown}'"),
            ));
        }
        let bytes = hex_field(&v, "presentation")?.ok_or_else(|| {
            ApiError::bad_request("bad_json", "missing field 'presentation' (hex bytes)")
        })?;
        let doc = v
            .get("document_hash")
            .and_then(Value::as_str)
            .map(str::to_string);
        (
            bytes,
            doc,
            v.get("proof_age_max_ms").and_then(Value::as_u64),
        )
    } else {
        (
            body.to_vec(),
            query.document_hash.clone(),
            query.proof_age_max_ms,
        )
    };
    if bytes.is_empty() {
        return Err(ApiError::bad_request(
            "empty_body",
            "no presentation was sent",
        ));
    }
    let document = doc_hex
        .as_deref()
        .map(|h| parse_hash_param("document_hash", h))
        .transpose()?;
    let policy = Policy {
        now_ms: now_ms(),
        proof_age_max_ms: age
            .or(query.proof_age_max_ms)
            .unwrap_or(PROOF_AGE_MAX_DEFAULT_MS),
    };
    let anchor = state.shared.chain.trust_anchor().clone();
    let report = blocking(move || {
        let document = document.map(Document::Hash);
        Ok(verify_bytes(&anchor, &bytes, document, &policy))
    })
    .await?;
    Ok(Json(json::report_to_json(&report)))
}

async fn get_evidence(
    State(state): State<AppState>,
    Path(hash): Path<String>,
) -> ApiResult<Json<Value>> {
    let hash = parse_hash_param("evidence hash", &hash)?;
    let chain = &state.shared.chain;
    let evidence: Option<lichen_contracts::model::Evidence> =
        chain.entry(&StateKey::Evidence(hash))?;
    let evidence = evidence.ok_or(NodeError::NotFound {
        what: "evidence",
        id: hash.to_hex(),
    })?;
    Ok(Json(
        json!({ "evidence": json::evidence_to_json(&evidence) }),
    ))
}

async fn get_receipt(
    State(state): State<AppState>,
    Path(hash): Path<String>,
    query: Result<Query<AtHeight>, axum::extract::rejection::QueryRejection>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let hash = parse_hash_param("evidence hash", &hash)?;
    let height = at_height(query)?;
    let chain = state.shared.chain.clone();
    let r = blocking(move || Ok(chain.receipt(&hash, height)?)).await?;
    let bytes = r.to_bytes();
    if wants_json(&headers) {
        let h = &r.certified.header;
        return Ok(Json(json!({
            "receipt": json::hex_string(&bytes),
            "size": bytes.len(),
            "evidence": json::evidence_to_json(&r.evidence),
            "height": h.height,
        }))
        .into_response());
    }
    Ok(binary(bytes))
}

async fn get_block(
    State(state): State<AppState>,
    Path(height): Path<String>,
) -> ApiResult<Json<Value>> {
    let height: u64 = height.parse().map_err(|_| {
        ApiError::bad_request(
            "bad_height",
            format!("height must be a number, got '{height}'"),
        )
    })?;
    let chain = &state.shared.chain;
    let block = chain
        .store()
        .block(height)
        .map_err(NodeError::from)?
        .ok_or(NodeError::NotFound {
            what: "block",
            id: height.to_string(),
        })?;
    let certificate = chain.store().certificate(height).map_err(NodeError::from)?;
    Ok(Json(json!({
        "block": json::block_to_json(&block, chain.suite()),
        "certificate": certificate.as_ref().map(json::commit_certificate_to_json),
    })))
}

async fn validators(State(state): State<AppState>) -> ApiResult<Json<Value>> {
    let chain = &state.shared.chain;
    let set = chain.next_validators()?;
    Ok(Json(json::validator_set_to_json(&set, chain.suite())))
}

fn list_entities<T: Decode>(
    state: &AppState,
    kind: u8,
    make_key: impl Fn(String) -> StateKey,
    to_json: impl Fn(&T) -> Value,
) -> ApiResult<Json<Value>> {
    let chain = &state.shared.chain;
    let ids = chain.store().entity_ids(kind).map_err(NodeError::from)?;
    let mut out = Vec::with_capacity(ids.len());
    for id in ids {
        if let Some(entry) = chain.entry::<T>(&make_key(id))? {
            out.push(to_json(&entry));
        }
    }
    Ok(Json(Value::Array(out)))
}

async fn agencies(State(state): State<AppState>) -> ApiResult<Json<Value>> {
    list_entities::<Agency>(&state, 3, StateKey::Agency, json::agency_to_json)
}

async fn licence_types(State(state): State<AppState>) -> ApiResult<Json<Value>> {
    list_entities::<LicenceType>(&state, 4, StateKey::LicenceType, json::licence_type_to_json)
}

async fn submitters(State(state): State<AppState>) -> ApiResult<Json<Value>> {
    list_entities::<Submitter>(&state, 5, StateKey::Submitter, json::submitter_to_json)
}

async fn trust_anchor(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let anchor = state.shared.chain.trust_anchor();
    if wants_json(&headers) {
        return Json(json::trust_anchor_to_json(anchor)).into_response();
    }
    binary(anchor.to_bytes())
}
