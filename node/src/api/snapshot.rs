//! State sync, served: chunks of a checkpoint's state and runs of certified blocks, binary, for
//! a node joining from a certified checkpoint (`lichen node sync`). Everything here is public
//! chain data a joiner checks against the genesis trust anchor; both reads run on blocking
//! threads behind the request slots, and both answers are bounded (PROTOCOL.md, "State sync").

use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use serde::Deserialize;

use crate::net::wire::{SYNC_BLOCKS_MAX, SYNC_BYTES_SOFT_MAX, encode_blocks};
use crate::runtime::now_ms;

use super::*;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct ChunksQuery {
    /// The cut's depth in bits (the trust package's `levels_depth`).
    depth: u8,
    /// The first chunk wanted.
    first: u32,
    /// How many chunks, at most (the answer may hold fewer, never none).
    count: u32,
}

/// `GET /v1/snapshot/{height}/chunks?depth=&first=&count=`.
#[utoipa::path(
    get,
    path = "/v1/snapshot/{height}/chunks",
    tag = "sync",
    summary = "State chunks at a checkpoint, for state sync",
    params(
        ("height" = u64, Path, description = "A checkpoint height"),
        ("depth" = u8, Query, description = "The cut's depth in bits (the trust package's levels_depth)"),
        ("first" = u32, Query, description = "The first chunk wanted"),
        ("count" = u32, Query, description = "How many chunks, at most"),
    ),
    responses(
        (status = 200, description = "The chunks (PROTOCOL.md, State sync)", content((Binary = "application/octet-stream"))),
        (status = 404, description = "Not a checkpoint (`not_a_checkpoint`)", body = ErrorResponse),
        (status = 410, description = "The state at that height is no longer kept (`pruned`)", body = ErrorResponse),
        CommonErrors,
    )
)]
pub(super) async fn snapshot_chunks(
    State(state): State<AppState>,
    Path(height): Path<String>,
    query: Result<Query<ChunksQuery>, QueryRejection>,
) -> ApiResult<Response> {
    let height = parse_height(&height)?;
    let Query(q) = query.map_err(|e| ApiError::bad_request("bad_query", e.body_text()))?;
    let chain = state.node.chain.clone();
    let bytes =
        blocking(move || Ok(chain.snapshot_chunks(height, q.depth, q.first, q.count, now_ms())?))
            .await?;
    Ok(binary(bytes))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct BlocksQuery {
    /// The first height wanted (at least 1).
    from: u64,
    /// How many blocks, at most (capped at 32; the answer stops sooner past 16 MiB).
    count: u16,
}

/// `GET /v1/blocks?from=&count=`: committed blocks with their certificates from `from` on, as
/// far as this node holds them without a gap, in the network's `Blocks` form.
#[utoipa::path(
    get,
    path = "/v1/blocks",
    tag = "sync",
    summary = "Committed blocks with certificates, for state sync",
    params(
        ("from" = u64, Query, minimum = 1, description = "The first height wanted (at least 1)"),
        ("count" = u16, Query, minimum = 1, maximum = 65535, description = "How many blocks, at most (the answer holds at most 32)"),
    ),
    responses(
        (status = 200, description = "The blocks in the network's `Blocks` form", content((Binary = "application/octet-stream"))),
        CommonErrors,
    )
)]
pub(super) async fn certified_blocks(
    State(state): State<AppState>,
    query: Result<Query<BlocksQuery>, QueryRejection>,
) -> ApiResult<Response> {
    let Query(q) = query.map_err(|e| ApiError::bad_request("bad_query", e.body_text()))?;
    if q.from == 0 || q.count == 0 {
        return Err(ApiError::bad_request(
            "bad_query",
            "from and count must be at least 1 (block 0 has no certificate)",
        ));
    }
    // Heights are 64-bit signed integers in the OpenAPI document (JSON Schema's int64), which
    // no chain reaches; a larger one is a client's mistake, not an empty answer.
    if q.from > i64::MAX as u64 {
        return Err(ApiError::bad_request(
            "bad_query",
            format!("from must be at most {}, got {}", i64::MAX, q.from),
        ));
    }
    let chain = state.node.chain.clone();
    let max = usize::from(q.count).min(SYNC_BLOCKS_MAX);
    let blocks = blocking(move || {
        Ok(crate::net::read_blocks(
            &chain,
            q.from,
            max,
            SYNC_BYTES_SOFT_MAX,
            true,
        ))
    })
    .await?;
    Ok(binary(encode_blocks(&blocks)))
}

fn parse_height(text: &str) -> ApiResult<u64> {
    text.parse().map_err(|_| {
        ApiError::bad_request(
            "bad_height",
            format!("height must be a number, got '{text}'"),
        )
    })
}
