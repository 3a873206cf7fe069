//! `POST /v1/transactions` (optionally waiting for finality) and `GET /v1/transactions/{id}`.

use std::time::Duration;

use axum::Json;
use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use lichen_contracts::crypto::Hash32;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::error::NodeError;
use crate::runtime::TxFate;
use lichen_views as views;
use lichen_views::api::{FinalityReceipt, to_value};

use super::*;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct SubmitQuery {
    wait: Option<String>,
    timeout_ms: Option<u64>,
}

pub(super) fn fate_json(id: &Hash32, fate: &TxFate) -> (StatusCode, Value) {
    match fate {
        TxFate::Committed {
            height,
            index,
            block_time_ms,
        } => (
            StatusCode::OK,
            to_value(&FinalityReceipt::committed(
                id,
                *height,
                *index,
                *block_time_ms,
            )),
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
pub(super) async fn submit_tx(
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
    let admission = state.node.admission.clone();
    let (admitted, receiver) = blocking(move || Ok(admission.submit(&bytes, wait)?)).await?;
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

pub(super) fn committed_fate(state: &AppState, id: &Hash32) -> ApiResult<Option<TxFate>> {
    let chain = &state.node.chain;
    let Some(loc) = chain.tx_location(id)? else {
        return Ok(None);
    };
    let time = chain.header(loc.height)?.map(|h| h.time_ms).unwrap_or(0);
    Ok(Some(TxFate::Committed {
        height: loc.height,
        index: loc.index,
        block_time_ms: time,
    }))
}

pub(super) async fn get_tx(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let id = parse_hash_param("transaction id", &id)?;
    let chain = state.node.chain.clone();
    if let Some((loc, tx)) = chain.transaction(&id)? {
        let time = chain.header(loc.height)?;
        let time_ms = time.map(|h| h.time_ms).unwrap_or(0);
        let mut body = to_value(&FinalityReceipt::committed(
            &id, loc.height, loc.index, time_ms,
        ));
        body["transaction"] = views::signed_transaction_to_json(&tx, chain.suite());
        return Ok(Json(body).into_response());
    }
    let pending = state
        .node
        .admission
        .mempool()
        .map(|m| m.contains(&id))
        .unwrap_or(false);
    if pending {
        return Ok(Json(json!({ "id": id.to_hex(), "status": "pending" })).into_response());
    }
    if let Some(reason) = state.node.finality.refused_reason(&id) {
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
