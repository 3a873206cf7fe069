//! The chain itself: health, status, blocks with certificates, validators, registered entities,
//! the trust anchor.

use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use lichen_contracts::codec::{Decode, Encode};
use lichen_contracts::model::{Agency, LicenceType, Submitter};
use lichen_contracts::state::{StateKey, StateKind};
use serde_json::{Value, json};

use crate::error::NodeError;
use crate::runtime::now_ms;
use lichen_views as views;
use lichen_views::api::{HealthResponse, ListPage, MempoolStatus, StatusResponse, to_value};

use super::*;

#[utoipa::path(
    get,
    path = "/health",
    tag = "chain",
    summary = "Liveness: the height, or 503 if a task has stopped",
    responses(
        (status = 200, description = "The node runs", body = HealthResponse),
        CommonErrors,
    )
)]
pub(super) async fn health(State(state): State<AppState>) -> ApiResult<Json<HealthResponse>> {
    if let Some((task, reason)) = state.node.status.snapshot().stopped {
        return Err(ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "task_stopped",
            format!("{reason}: the {task} task is not running; restart the node"),
        ));
    }
    let tip = state.node.chain.tip()?;
    Ok(Json(HealthResponse {
        status: "ok".into(),
        height: tip.height,
    }))
}

#[utoipa::path(
    get,
    path = "/v1/status",
    tag = "chain",
    summary = "The chain and this node",
    responses(
        (status = 200, description = "Chain id, suite, height, view, role, peers, mempool", body = StatusResponse),
        CommonErrors,
    )
)]
pub(super) async fn status(State(state): State<AppState>) -> ApiResult<Json<Value>> {
    let node = &state.node;
    let chain = &node.chain;
    let header = chain.tip_header()?;
    let runtime = node.status.snapshot();
    let (pending, pending_bytes, limits) = node
        .admission
        .mempool()
        .map(|m| (m.len(), m.bytes(), m.limits()))?;
    let body = StatusResponse {
        chain_id: chain.chain_id().to_string(),
        suite: chain.suite().name().to_string(),
        genesis_hash: chain.genesis().hash().to_hex(),
        trust_anchor_hash: chain.trust_anchor().hash().to_hex(),
        height: header.height,
        block_hash: header.hash(chain.suite()).to_hex(),
        state_root: header.state_root.to_hex(),
        last_block_time_ms: header.time_ms,
        last_block_time: views::rfc3339_from_ms(header.time_ms),
        view: runtime.view,
        validator_index: runtime.validator_index,
        validators: chain.next_validators()?.len(),
        tx_expiry_blocks_max: chain.params().tx_expiry_blocks_max,
        role: runtime.role.to_string(),
        peer_id: runtime.peer_id,
        peers: runtime.peers,
        mempool: MempoolStatus {
            transactions: pending,
            bytes: pending_bytes,
            transactions_max: limits.txs_max,
            bytes_max: limits.bytes_max,
        },
        started_ms: runtime.started_ms,
        version: env!("CARGO_PKG_VERSION").to_string(),
    };
    // As a sorted JSON object, like every other body.
    Ok(Json(to_value(&body)))
}

#[utoipa::path(
    get,
    path = "/v1/blocks/{height}",
    tag = "chain",
    summary = "A committed block with its commit certificate",
    params(
        ("height" = u64, Path, description = "The block height"),
    ),
    responses(
        (status = 200, description = "`{block: {header, txs}, certificate}`", body = Object),
        (status = 404, description = "Not found (`not_found`)", body = ErrorResponse),
        CommonErrors,
    )
)]
pub(super) async fn get_block(
    State(state): State<AppState>,
    Path(height): Path<String>,
) -> ApiResult<Json<Value>> {
    let height: u64 = height.parse().map_err(|_| {
        ApiError::bad_request(
            "bad_height",
            format!("height must be a number, got '{height}'"),
        )
    })?;
    let chain = &state.node.chain;
    let block = chain.block(height)?.ok_or(NodeError::NotFound {
        what: "block",
        id: height.to_string(),
    })?;
    let certificate = chain.certificate(height)?;
    Ok(Json(json!({
        "block": views::block_to_json(&block, chain.suite()),
        "certificate": certificate.as_ref().map(views::commit_certificate_to_json),
    })))
}

#[utoipa::path(
    get,
    path = "/v1/validators",
    tag = "registry",
    summary = "The next block's validator set",
    responses(
        (status = 200, description = "`{validators, quorum, hash}`", body = Object),
        CommonErrors,
    )
)]
pub(super) async fn validators(State(state): State<AppState>) -> ApiResult<Json<Value>> {
    let chain = &state.node.chain;
    let set = chain.next_validators()?;
    Ok(Json(views::validator_set_to_json(&set, chain.suite())))
}

/// One page of the registered entities of one kind, in id order, each read from state on a
/// blocking thread.
async fn list_entities<T: Decode + 'static>(
    state: &AppState,
    query: Result<Query<ListQuery>, QueryRejection>,
    kind: StateKind,
    make_key: fn(String) -> StateKey,
    to_json: fn(&T) -> Value,
) -> ApiResult<Json<ListPage>> {
    let (limit, cursor) = list_query(query)?;
    let chain = state.node.chain.clone();
    blocking(move || {
        // One more than the page, to learn whether another follows.
        let ids = chain.entity_ids(kind, cursor.as_deref(), limit + 1)?;
        let mut items = Vec::with_capacity(limit.min(ids.len()));
        for id in ids.iter().take(limit) {
            if let Some(entry) = chain.entry::<T>(&make_key(id.clone()))? {
                items.push(to_json(&entry));
            }
        }
        let next_cursor = (ids.len() > limit).then(|| ids[limit - 1].clone());
        Ok(Json(ListPage { items, next_cursor }))
    })
    .await
}

#[utoipa::path(
    get,
    path = "/v1/agencies",
    tag = "registry",
    summary = "Registered agencies, a page at a time",
    params(ListQuery),
    responses(
        (status = 200, description = "A page of agencies (`{id, name, keys, status, ...}`), in id order", body = ListPage),
        CommonErrors,
    )
)]
pub(super) async fn agencies(
    State(state): State<AppState>,
    query: Result<Query<ListQuery>, QueryRejection>,
) -> ApiResult<Json<ListPage>> {
    list_entities::<Agency>(
        &state,
        query,
        StateKind::Agency,
        StateKey::Agency,
        views::agency_to_json,
    )
    .await
}

#[utoipa::path(
    get,
    path = "/v1/licence-types",
    tag = "registry",
    summary = "Registered licence types, a page at a time",
    params(ListQuery),
    responses(
        (status = 200, description = "A page of licence types, in id order", body = ListPage),
        CommonErrors,
    )
)]
pub(super) async fn licence_types(
    State(state): State<AppState>,
    query: Result<Query<ListQuery>, QueryRejection>,
) -> ApiResult<Json<ListPage>> {
    list_entities::<LicenceType>(
        &state,
        query,
        StateKind::LicenceType,
        StateKey::LicenceType,
        views::licence_type_to_json,
    )
    .await
}

#[utoipa::path(
    get,
    path = "/v1/submitters",
    tag = "registry",
    summary = "Registered evidence submitters, a page at a time",
    params(ListQuery),
    responses(
        (status = 200, description = "A page of submitters, in id order", body = ListPage),
        CommonErrors,
    )
)]
pub(super) async fn submitters(
    State(state): State<AppState>,
    query: Result<Query<ListQuery>, QueryRejection>,
) -> ApiResult<Json<ListPage>> {
    list_entities::<Submitter>(
        &state,
        query,
        StateKind::Submitter,
        StateKey::Submitter,
        views::submitter_to_json,
    )
    .await
}

#[utoipa::path(
    get,
    path = "/v1/trust-anchor",
    tag = "trust",
    summary = "The genesis trust anchor, for offline verifiers",
    responses(
        (status = 200, description = "Binary by default; with `Accept: application/json`, its summary", content(
            (Binary = "application/octet-stream"),
            (Object = "application/json"),
        )),
        CommonErrors,
    )
)]
pub(super) async fn trust_anchor(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let anchor = state.node.chain.trust_anchor();
    if wants_json(&headers) {
        return Json(views::trust_anchor_to_json(anchor)).into_response();
    }
    binary(anchor.to_bytes())
}

/// `GET /v1/trust-package`: the latest trust package (binary), cached; the checkpoint's height
/// in `X-Lichen-Checkpoint-Height`. With `Accept: application/json`, its summary instead.
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct PackageQuery {
    /// The checkpoint of the package the client holds: answer with a delta from it.
    since: Option<u64>,
}

#[utoipa::path(
    get,
    path = "/v1/trust-package",
    tag = "trust",
    summary = "The latest trust package, or a delta to it",
    params(
        ("since" = Option<u64>, Query, description = "The checkpoint height of the package the client holds: answer with a delta from it"),
    ),
    responses(
        (status = 200, description = "Binary by default (the checkpoint height in `X-Lichen-Checkpoint-Height`); with `Accept: application/json`, its summary", content(
            (Binary = "application/octet-stream"),
            (Object = "application/json"),
        ), headers(("x-lichen-checkpoint-height" = u64, description = "The package's checkpoint height"))),
        (status = 404, description = "`since` is not a checkpoint (`not_a_checkpoint`)", body = ErrorResponse),
        (status = 410, description = "The state at that height is no longer kept (`pruned`)", body = ErrorResponse),
        (status = 409, description = "No certified block yet (`no_certified_block`)", body = ErrorResponse),
        CommonErrors,
    )
)]
pub(super) async fn trust_package(
    State(state): State<AppState>,
    query: Result<axum::extract::Query<PackageQuery>, axum::extract::rejection::QueryRejection>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let axum::extract::Query(query) =
        query.map_err(|e| ApiError::bad_request("bad_query", e.body_text()))?;
    let chain = state.node.chain.clone();
    if let Some(since) = query.since {
        let (delta, latest) = blocking(move || Ok(chain.trust_delta(since, now_ms())?)).await?;
        if wants_json(&headers) {
            return Ok(Json(json!({
                "since": since,
                "checkpoint_height": latest.state.checkpoint_height,
                "size": delta.len(),
                "package_size": latest.bytes.len(),
            }))
            .into_response());
        }
        return Ok(with_checkpoint(
            binary(delta),
            latest.state.checkpoint_height,
        ));
    }
    let package = blocking(move || Ok(chain.trust_package(now_ms())?)).await?;
    if wants_json(&headers) {
        let mut v = views::trust_state_to_json(&package.state);
        v["size"] = json!(package.bytes.len());
        return Ok(Json(v).into_response());
    }
    Ok(with_checkpoint(
        binary(package.bytes.clone()),
        package.state.checkpoint_height,
    ))
}

/// `response` with the checkpoint's height in `X-Lichen-Checkpoint-Height`.
fn with_checkpoint(mut response: Response, height: u64) -> Response {
    response.headers_mut().insert(
        super::CHECKPOINT_HEIGHT_HEADER,
        axum::http::HeaderValue::from(height),
    );
    response
}
