//! `GET /v1/commits`: committed blocks and transaction outcomes as server-sent events, as they
//! happen, so that clients follow commits instead of polling. Each follower has its own bounded
//! buffer (`COMMIT_STREAM_BUFFER_MAX` events): one that falls behind is sent `lagged` with how
//! many it missed and the stream ends (reconnect, and catch up from `GET /v1/blocks/{height}`);
//! nobody waits for a slow follower. Streams hold no request slot; at most
//! [`COMMIT_STREAMS_MAX`] are open at once.

use std::convert::Infallible;
use std::time::Duration;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::sse::{Event, KeepAlive, Sse};
use futures::Stream;
use serde_json::json;
use tokio::sync::broadcast::error::RecvError;

use crate::runtime::CommitEvent;
use lichen_views as views;
use lichen_views::api::ErrorResponse;

use super::{ApiError, ApiResult, AppState};

/// Commit streams open at once, at most (503 `too_many_streams` beyond).
pub const COMMIT_STREAMS_MAX: usize = 256;
/// How often an idle stream sends a comment line, so that proxies keep it open, in seconds.
pub const COMMIT_STREAM_KEEPALIVE_S: u64 = 15;

/// Follows commits: `event: block` with `{height, time_ms, time, txs: [id...]}` (the block's
/// transactions in order), `event: refused` with `{id, reason}` (refused by the block builder),
/// `event: expired` with `{id}`; `event: lagged` with `{missed}` or `event: stopping` (the node
/// stops) before the stream ends.
#[utoipa::path(
    get,
    path = "/v1/commits",
    tag = "transactions",
    summary = "Committed blocks and transaction outcomes as server-sent events",
    responses(
        (status = 200, description = "An endless `text/event-stream`: events `block`, `refused`, `expired`; `lagged` or `stopping` before it ends", content_type = "text/event-stream", body = String),
        (status = 503, description = "Too many streams open (`too_many_streams`)", body = ErrorResponse),
    )
)]
pub(super) async fn commits(
    State(state): State<AppState>,
) -> ApiResult<Sse<impl Stream<Item = Result<Event, Infallible>>>> {
    let permit = state.streams.clone().try_acquire_owned().map_err(|_| {
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "too_many_streams",
            format!("{COMMIT_STREAMS_MAX} commit streams are open; retry later"),
        )
    })?;
    let events = state.node.finality.follow();
    // The permit lives as long as the stream; after `lagged` the state is gone and it ends.
    let stream = futures::stream::unfold(Some((events, permit)), |followed| async move {
        let (mut events, permit) = followed?;
        match events.recv().await {
            Ok(event) if *event == CommitEvent::Stopping => {
                Some((Ok(Event::default().event("stopping").data("{}")), None))
            }
            Ok(event) => Some((Ok(to_event(&event)), Some((events, permit)))),
            Err(RecvError::Lagged(missed)) => Some((
                Ok(Event::default()
                    .event("lagged")
                    .data(json!({ "missed": missed }).to_string())),
                None,
            )),
            Err(RecvError::Closed) => None,
        }
    });
    Ok(Sse::new(stream)
        .keep_alive(KeepAlive::new().interval(Duration::from_secs(COMMIT_STREAM_KEEPALIVE_S))))
}

fn to_event(event: &CommitEvent) -> Event {
    let (name, data) = match event {
        CommitEvent::Block {
            height,
            time_ms,
            txs,
        } => (
            "block",
            json!({
                "height": height,
                "time_ms": time_ms,
                "time": views::rfc3339_from_ms(*time_ms),
                "txs": txs.iter().map(|id| id.to_hex()).collect::<Vec<_>>(),
            }),
        ),
        CommitEvent::Refused { id, reason } => {
            ("refused", json!({ "id": id.to_hex(), "reason": reason }))
        }
        CommitEvent::Expired { id } => ("expired", json!({ "id": id.to_hex() })),
        CommitEvent::Stopping => ("stopping", json!({})),
    };
    Event::default().event(name).data(data.to_string())
}
