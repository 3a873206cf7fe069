//! `POST /v1/transactions` (optionally waiting for finality) and `GET /v1/transactions/{id}`.

use std::time::Duration;

use axum::Json;
use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use lichen_contracts::codec::Reader;
use lichen_contracts::crypto::Hash32;
use lichen_contracts::tx::SignedTransaction;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::error::NodeError;
use crate::runtime::TxFate;
use lichen_views as views;
use lichen_views::api::{
    BatchItemResult, BatchSubmitResponse, ErrorDetail, ErrorResponse, FinalityReceipt,
    PendingResponse, to_value,
};

use super::*;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct SubmitQuery {
    wait: Option<String>,
    timeout_ms: Option<u64>,
}

/// The answer for a transaction's fate after `?wait=final`: the receipt, or the refusal as
/// every other error (`ApiError`, the one place the error body is built).
fn fate_response(id: &Hash32, fate: &TxFate) -> Response {
    match fate {
        TxFate::Committed {
            height,
            index,
            block_time_ms,
        } => Json(FinalityReceipt::committed(
            id,
            *height,
            *index,
            *block_time_ms,
        ))
        .into_response(),
        TxFate::Refused { reason } => ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "tx_refused",
            format!("transaction {id} refused by the block: {reason}"),
        )
        .into_response(),
        TxFate::Expired => ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "tx_expired",
            format!("transaction {id} expired before a block included it"),
        )
        .into_response(),
    }
}

/// `POST /v1/transactions`: an encoded signed transaction (`application/octet-stream`) or
/// `{"tx": "<hex>"}`. `?wait=final` waits for the block that includes it.
#[utoipa::path(
    post,
    path = "/v1/transactions",
    tag = "transactions",
    summary = "Submit a signed transaction",
    params(
        ("wait" = Option<WaitParam>, Query, description = "`final`: answer once a block includes it"),
        ("timeout_ms" = Option<u64>, Query, minimum = 0, description = "How long `wait=final` waits (default 10,000, at most 60,000)"),
    ),
    request_body(content((Binary = "application/octet-stream"), (SubmitJson = "application/json")), description = "The encoded signed transaction, or `{\"tx\": hex}`"),
    responses(
        (status = 200, description = "With `wait=final`: committed", body = FinalityReceipt),
        (status = 202, description = "Admitted to the mempool", body = PendingResponse),
        (status = 409, description = "Already committed (`already_committed`)", body = ErrorResponse),
        (status = 422, description = "Refused: bad signature, wrong chain, expired, not authorised (or, after `wait=final`, refused by the block)", content((ErrorResponse = "application/json"))),
        (status = 429, description = "The signer already has its share of the mempool (`sender_busy`)", body = ErrorResponse),
        (status = 504, description = "Admitted but not final within the wait (`finality_timeout`)", body = ErrorResponse),
        CommonErrors,
    )
)]
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
    let started = std::time::Instant::now();
    let submitted = blocking(move || Ok(admission.submit(&bytes, wait)?)).await;
    let metrics = state.node.status.metrics();
    let (admitted, receiver) = submitted.inspect_err(|e| count_refused(metrics, e.code))?;
    metrics.txs_admitted.inc();
    let id = admitted.id;
    let Some(receiver) = receiver else {
        let body = PendingResponse {
            id: id.to_hex(),
            status: "pending".into(),
            duplicate: admitted.duplicate,
        };
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
        return Ok(fate_response(&id, &fate));
    }
    let waited = tokio::time::timeout(Duration::from_millis(timeout_ms), receiver).await;
    metrics
        .finality_wait
        .observe(started.elapsed().as_secs_f64());
    match waited {
        Ok(Ok(fate)) => Ok(fate_response(&id, &fate)),
        Ok(Err(_)) | Err(_) => Err(ApiError::new(
            StatusCode::GATEWAY_TIMEOUT,
            "finality_timeout",
            format!(
                "transaction {id} was accepted but is not final after {timeout_ms} ms; query GET /v1/transactions/{id}"
            ),
        )),
    }
}

/// Transactions in one `POST /v1/transactions/batch`, at most (the request body's byte limit
/// applies too).
pub const SUBMIT_BATCH_TXS_MAX: usize = 256;

/// `POST /v1/transactions/batch`: up to [`SUBMIT_BATCH_TXS_MAX`] encoded signed transactions,
/// as `seq<bytes>` (`application/octet-stream`: a `u32` count, then each a `u32` length and the
/// bytes) or `{"txs": ["<hex>", ...]}`. Each is admitted as by `POST /v1/transactions`; the
/// answer (200) has one result per transaction, in order. Bulk loaders pay one request for
/// many transactions: per request, HTTP took as much CPU as a transaction's admission.
#[utoipa::path(
    post,
    path = "/v1/transactions/batch",
    tag = "transactions",
    summary = "Submit up to 256 signed transactions",
    request_body(content((Binary = "application/octet-stream"), (BatchJson = "application/json")), description = "`seq<bytes>` (a big-endian u32 count, then each a u32 length and the bytes), or `{\"txs\": [hex, ...]}`"),
    responses(
        (status = 200, description = "One result per transaction, in order", body = BatchSubmitResponse),
        CommonErrors,
    )
)]
pub(super) async fn submit_batch(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Body,
) -> ApiResult<Response> {
    let body = read_body(body, state.body_bytes_max).await?;
    let txs = if is_json_body(&headers) {
        batch_from_json(&json_body(&body)?)?
    } else {
        batch_from_bytes(&body)?
    };
    if txs.is_empty() {
        return Err(ApiError::bad_request(
            "empty_batch",
            "the batch holds no transaction",
        ));
    }
    let admission = state.node.admission.clone();
    let suite = state.node.chain.suite();
    // Refused transactions' ids are worked out here too: decoding is CPU work (each signer's
    // key), not for the async worker.
    let outcomes = blocking(move || {
        let outcomes = admission.submit_batch(&txs)?;
        Ok(outcomes
            .into_iter()
            .zip(&txs)
            .map(|(outcome, bytes)| {
                let id = match &outcome {
                    Ok(admitted) => Some(admitted.id),
                    // For the client's records; the bytes may not decode at all.
                    Err(_) => SignedTransaction::from_wire(bytes)
                        .ok()
                        .map(|tx| tx.id(suite)),
                };
                (outcome, id)
            })
            .collect::<Vec<_>>())
    })
    .await?;
    let metrics = state.node.status.metrics();
    let results = outcomes
        .into_iter()
        .map(|(outcome, id)| {
            let id = id.map(|id| id.to_hex());
            match outcome {
                Ok(admitted) => {
                    metrics.txs_admitted.inc();
                    BatchItemResult {
                        id,
                        status: "pending".into(),
                        duplicate: Some(admitted.duplicate),
                        error: None,
                    }
                }
                Err(e) => {
                    let error = ApiError::from(e);
                    count_refused(metrics, error.code);
                    let retry = error.status == StatusCode::SERVICE_UNAVAILABLE
                        || error.status == StatusCode::TOO_MANY_REQUESTS;
                    BatchItemResult {
                        id,
                        status: if retry { "retry" } else { "refused" }.into(),
                        duplicate: None,
                        error: Some(ErrorDetail {
                            code: error.code.into(),
                            message: error.message,
                        }),
                    }
                }
            }
        })
        .collect();
    Ok(Json(to_value(&BatchSubmitResponse { results })).into_response())
}

/// A client's transaction refused at admission, by the error code it was answered with.
fn count_refused(metrics: &Metrics, code: &'static str) {
    Metrics::inc(&metrics.txs_refused, "code", code);
}

fn batch_from_bytes(body: &[u8]) -> ApiResult<Vec<Vec<u8>>> {
    let malformed = |e: lichen_contracts::CodecError| {
        ApiError::bad_request("malformed_batch", format!("batch does not decode: {e}"))
    };
    let mut r = Reader::new(body);
    let count = r
        .len("transactions", SUBMIT_BATCH_TXS_MAX)
        .map_err(malformed)?;
    let mut txs = Vec::with_capacity(count);
    for _ in 0..count {
        // Each is at most the body's size here; admission refuses one over its own limit.
        txs.push(r.bytes("transaction", body.len()).map_err(malformed)?);
    }
    r.finish().map_err(malformed)?;
    Ok(txs)
}

fn batch_from_json(body: &Value) -> ApiResult<Vec<Vec<u8>>> {
    let Some(items) = body.get("txs").and_then(Value::as_array) else {
        return Err(ApiError::bad_request(
            "bad_json",
            "missing field 'txs' (an array of hex strings)",
        ));
    };
    if items.len() > SUBMIT_BATCH_TXS_MAX {
        return Err(ApiError::bad_request(
            "malformed_batch",
            format!(
                "the batch holds {} transactions; at most {SUBMIT_BATCH_TXS_MAX} are accepted",
                items.len()
            ),
        ));
    }
    items
        .iter()
        .enumerate()
        .map(|(i, item)| {
            let hex = item.as_str().ok_or_else(|| {
                ApiError::bad_request("bad_json", format!("txs[{i}] must be a hex string"))
            })?;
            views::parse_hex(hex)
                .map_err(|e| ApiError::bad_request("bad_hex", format!("txs[{i}] is not hex: {e}")))
        })
        .collect()
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

#[utoipa::path(
    get,
    path = "/v1/transactions/{id}",
    tag = "transactions",
    summary = "A transaction: committed, pending or refused",
    params(
        ("id" = String, Path, pattern = "^[0-9a-fA-F]{64}$", description = "The transaction id, 64 hex digits"),
    ),
    responses(
        (status = 200, description = "Committed (a finality receipt with the `transaction`), or `{id, status: \"pending\"}`, or `{id, status: \"refused\", reason}`", body = Object),
        (status = 404, description = "Not found (`not_found`)", body = ErrorResponse),
        CommonErrors,
    )
)]
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
