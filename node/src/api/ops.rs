//! What operators and their tools ask, outside the request slots (like `/health`, they must
//! answer while the node is busy): `GET /ready` (synced and in reach of a quorum) and
//! `GET /metrics` (Prometheus text). The access log is here too.

use std::time::Instant;

use axum::Json;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use lichen_views::api::ReadyResponse;

use crate::runtime::{METRICS_CONTENT_TYPE, now_ms};

use super::*;

/// Why a node is not ready, or what it reports when it is.
struct Readiness {
    height: u64,
    tip_age_ms: u64,
    validators_reachable: usize,
    quorum: usize,
    /// Empty when ready.
    problems: Vec<String>,
}

fn readiness(node: &Handles) -> Result<Readiness, ApiError> {
    let status = node.status.snapshot();
    let header = node.chain.tip_header()?;
    let set = node.chain.next_validators()?;
    let quorum = set.quorum();
    let now = now_ms();
    // Before the first block the tip is the genesis, whose time is the key ceremony's, possibly
    // long before the network started: its age counts from this node's start then (a node that
    // has run a heartbeat and two view timeouts without a first block is behind all the same).
    let tip_age_ms = match header.height {
        0 => now.saturating_sub(header.time_ms.max(status.started_ms)),
        _ => now.saturating_sub(header.time_ms),
    };
    let own = usize::from(status.validator_index.is_some());
    // Without a network (a one-node chain) only this node can vote.
    let validators_reachable = match &status.reachable_validators {
        Some(others) => {
            others.len()
                + usize::from(
                    status
                        .validator_index
                        .is_some_and(|own| !others.contains(&own)),
                )
        }
        None => own,
    };
    let mut problems = Vec::new();
    if let Some((task, reason)) = &status.stopped {
        problems.push(format!("the {task} task stopped: {reason}"));
    }
    if status.catching_up {
        problems.push("catching up: peers have more blocks than this node".into());
    }
    if tip_age_ms > node.tip_age_max_ms {
        problems.push(format!(
            "behind: the last block was proposed {tip_age_ms} ms ago (a synced node on a live \
             chain sees one at least every {} ms)",
            node.tip_age_max_ms
        ));
    }
    if validators_reachable < quorum {
        problems.push(format!(
            "{validators_reachable} validators in reach, a quorum is {quorum}"
        ));
    }
    Ok(Readiness {
        height: header.height,
        tip_age_ms,
        validators_reachable,
        quorum,
        problems,
    })
}

/// `GET /ready`: 200 when this node is synced (not catching up, its last block recent) and
/// reaches a quorum of validators; else 503 `not_ready` saying why. `/health` says the node
/// runs; this says whether to send it traffic.
#[utoipa::path(
    get,
    path = "/ready",
    tag = "chain",
    summary = "Readiness: synced and in reach of a quorum, or 503 saying why",
    responses(
        (status = 200, description = "Synced, a quorum in reach", body = ReadyResponse),
        (status = 503, description = "Not ready (`not_ready`, or `task_stopped`)", body = ErrorResponse),
        CommonErrors,
    )
)]
pub(super) async fn ready(State(state): State<AppState>) -> ApiResult<Json<ReadyResponse>> {
    let r = readiness(&state.node)?;
    state
        .node
        .status
        .metrics()
        .ready
        .set(i64::from(r.problems.is_empty()));
    if !r.problems.is_empty() {
        return Err(ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "not_ready",
            r.problems.join("; "),
        ));
    }
    Ok(Json(ReadyResponse {
        status: "ready".into(),
        height: r.height,
        tip_age_ms: r.tip_age_ms,
        validators_reachable: r.validators_reachable,
        quorum: r.quorum,
    }))
}

/// `GET /metrics`: every `lichen_*` metric in the Prometheus text format; the gauges that
/// mirror state are read now.
#[utoipa::path(
    get,
    path = "/metrics",
    tag = "chain",
    summary = "Prometheus metrics (text format)",
    responses(
        (status = 200, description = "`lichen_*` metrics", content_type = "text/plain", body = String),
        CommonErrors,
    )
)]
pub(super) async fn metrics(State(state): State<AppState>) -> ApiResult<Response> {
    let node = state.node.clone();
    let text = blocking(move || {
        let m = node.status.metrics();
        let status = node.status.snapshot();
        let r = readiness(&node)?;
        m.height.set(saturating(r.height));
        m.view.set(saturating(status.view));
        m.peers.set(saturating(status.peers));
        m.validators_reachable
            .set(saturating(r.validators_reachable));
        m.ready.set(i64::from(r.problems.is_empty()));
        let (txs, bytes) = node.admission.mempool().map(|p| (p.len(), p.bytes()))?;
        m.mempool_txs.set(saturating(txs));
        m.mempool_bytes.set(saturating(bytes));
        m.committed_ids_covered_above
            .set(node.chain.recent_ids_cover_above().map_or(-1, saturating));
        if let Some(bytes) = node.chain.disk_bytes() {
            m.storage_bytes.set(saturating(bytes));
        }
        if let Some(e) = node.chain.engine_stats() {
            m.storage_memtable_bytes.set(saturating(e.memtable_bytes));
            m.storage_cache_bytes.set(saturating(e.cache_bytes));
            m.storage_tables.set(saturating(e.tables));
            m.storage_level0_tables.set(saturating(e.level0_tables));
            m.storage_flushes_pending.set(saturating(e.flushes_pending));
            m.storage_compactions_running
                .set(saturating(e.compactions_running));
        }
        Ok(m.encode())
    })
    .await?;
    let mut response = text.into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(METRICS_CONTENT_TYPE),
    );
    Ok(response)
}

/// A count or size as a Prometheus gauge's `i64`, the largest one if it does not fit.
fn saturating(v: impl TryInto<i64>) -> i64 {
    v.try_into().unwrap_or(i64::MAX)
}

/// The access log: one line per request at debug level (`LICHEN_LOG=lichen_node::access=debug`),
/// method, path (not the query: it may hold a holder id), status and time taken.
pub(super) async fn access_log(request: Request, next: Next) -> Response {
    if !tracing::enabled!(target: "lichen_node::access", tracing::Level::DEBUG) {
        return next.run(request).await;
    }
    let started = Instant::now();
    let method = request.method().clone();
    let path = request.uri().path().to_owned();
    let response = next.run(request).await;
    tracing::debug!(
        target: "lichen_node::access",
        %method,
        path,
        status = response.status().as_u16(),
        micros = started.elapsed().as_micros() as u64,
        "request"
    );
    response
}
