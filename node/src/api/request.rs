//! Reading requests: bounded bodies, content negotiation, parameters; running CPU work on
//! blocking threads.

use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use futures::StreamExt;
use lichen_contracts::crypto::Hash32;
use serde_json::Value;

use lichen_views as views;

use super::*;

/// Bytes past the body limit read and thrown away before answering 413, at most. A client that
/// writes its whole body before reading the answer (most do) then sees the 413 instead of a
/// connection reset mid-write; beyond this the connection is simply closed.
pub const OVERSIZED_DRAIN_BYTES_MAX: usize = 16 * 1024 * 1024;

/// Reads a request body of at most `limit` bytes. An oversized body is drained (up to
/// `OVERSIZED_DRAIN_BYTES_MAX` more) and answered 413 with `Connection: close`.
pub(super) async fn read_body(body: Body, limit: usize) -> ApiResult<Bytes> {
    let mut stream = body.into_data_stream();
    // A body in one chunk (as the request limiter hands every body on, already read) is kept
    // as it is; only a body in several is copied together.
    let mut first: Option<Bytes> = None;
    let mut kept = Vec::new();
    let mut total = 0usize;
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|e| ApiError::bad_request("bad_body", e.to_string()))?;
        total = total.saturating_add(chunk.len());
        if total <= limit {
            match first.take() {
                None if kept.is_empty() => first = Some(chunk),
                earlier => {
                    if let Some(earlier) = earlier {
                        kept.extend_from_slice(&earlier);
                    }
                    kept.extend_from_slice(&chunk);
                }
            }
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
    Ok(first.unwrap_or_else(|| Bytes::from(kept)))
}

pub(super) fn wants_json(headers: &HeaderMap) -> bool {
    headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("application/json"))
}

pub(super) fn is_json_body(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"))
}

/// A binary body; `Bytes` (a cached trust package) is served without a copy.
pub(super) fn binary(bytes: impl Into<axum::body::Bytes>) -> Response {
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/octet-stream"),
        )],
        bytes.into(),
    )
        .into_response()
}

pub(super) fn parse_hash_param(what: &str, text: &str) -> ApiResult<Hash32> {
    Hash32::from_hex(text).ok_or_else(|| {
        ApiError::bad_request(
            "bad_hash",
            format!("{what} must be 64 hexadecimal characters, got '{text}'"),
        )
    })
}

/// A JSON body, parsed with a clear error.
pub(super) fn json_body(body: &Bytes) -> ApiResult<Value> {
    serde_json::from_slice(body)
        .map_err(|e| ApiError::bad_request("bad_json", format!("request body is not JSON: {e}")))
}

pub(super) fn hex_field(body: &Value, field: &str) -> ApiResult<Option<Vec<u8>>> {
    match body.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => views::parse_hex(s).map(Some).map_err(|e| {
            ApiError::bad_request("bad_hex", format!("field '{field}' is not hex: {e}"))
        }),
        Some(_) => Err(ApiError::bad_request(
            "bad_json",
            format!("field '{field}' must be a hex string"),
        )),
    }
}

/// Entries on one page of a list endpoint when the client does not say.
pub const LIST_LIMIT_DEFAULT: usize = 100;
/// The most entries one page of a list endpoint holds (below the storage's listing bound, so
/// that one more can be asked for to learn whether another page follows).
pub const LIST_LIMIT_MAX: usize = 500;
// The OpenAPI attributes (`ListQuery`, `agency_licences`) write it as a literal.
const _: () = assert!(LIST_LIMIT_MAX == 500);

/// `?limit=&cursor=` of a list endpoint (also its parameters in the OpenAPI document).
#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub(super) struct ListQuery {
    /// Entries per page (default 100).
    #[param(minimum = 1, maximum = 500)]
    limit: Option<usize>,
    /// The `next_cursor` of the previous page.
    cursor: Option<String>,
}

/// The page size (1 to [`LIST_LIMIT_MAX`], [`LIST_LIMIT_DEFAULT`] if not given) and the cursor.
pub(super) fn list_query(
    query: Result<axum::extract::Query<ListQuery>, axum::extract::rejection::QueryRejection>,
) -> ApiResult<(usize, Option<String>)> {
    let axum::extract::Query(q) =
        query.map_err(|e| ApiError::bad_request("bad_query", e.body_text()))?;
    let limit = q.limit.unwrap_or(LIST_LIMIT_DEFAULT);
    if limit == 0 || limit > LIST_LIMIT_MAX {
        return Err(ApiError::bad_request(
            "bad_limit",
            format!("limit must be 1 to {LIST_LIMIT_MAX}, got {limit}"),
        ));
    }
    Ok((limit, q.cursor))
}

pub(super) async fn blocking<T: Send + 'static>(
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
