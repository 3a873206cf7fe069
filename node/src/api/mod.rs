//! The HTTP API (axum), under `/v1`. Errors are JSON `{ "error": { "code", "message" } }` with a
//! 4xx status for the client's mistakes and 5xx for the node's. Bodies and concurrent requests
//! are bounded; a request beyond the concurrency bound is refused at once (503), not queued.
//!
//! The node is not trusted: everything a verifier needs (presentations, receipts, blocks with
//! certificates) comes with its proof, and `POST /v1/verify` is a convenience that runs the same
//! `contracts` code a client can run itself.

use std::sync::Arc;

use axum::Router;
use axum::extract::{Request, State};
use axum::http::{HeaderName, Method, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use tokio::sync::Semaphore;
use tower_http::cors::{Any, CorsLayer};

use crate::chain::Chain;
use crate::runtime::{Admission, Finality, Metrics, Status};

mod chain_info;
mod commits;
mod error;
mod openapi;
mod ops;
mod records;
mod request;
mod scanner;
mod serve;
mod snapshot;
mod transactions;

use chain_info::*;
pub use commits::{COMMIT_STREAM_KEEPALIVE_S, COMMIT_STREAMS_MAX};
pub use error::ApiError;
use error::ApiResult;
#[allow(unused_imports)] // named by the handlers' `#[utoipa::path]` attributes
use lichen_views::api::ErrorResponse;
pub use openapi::openapi_document;
use openapi::{
    BatchJson, Binary, CommonErrors, ExpectParam, SubmitJson, TrustPackageParam, VerifyJson,
    WaitParam, openapi_json,
};
use records::*;
use request::*;
pub use scanner::{SCANNER_BYTES_MAX, SCANNER_FILES_MAX, ScannerSite, ScannerSiteError};
use scanner::{scanner_file, scanner_index, scanner_redirect};
pub use serve::{BODY_READ_TIMEOUT_MS, HEADER_READ_TIMEOUT_MS, SHUTDOWN_GRACE_MS, serve};
use snapshot::{certified_blocks, snapshot_chunks};
use transactions::*;

/// Default bound on a request body, in bytes.
pub const BODY_BYTES_MAX_DEFAULT: usize = 1024 * 1024;
/// Default bound on requests being served at once.
pub const CONCURRENCY_MAX_DEFAULT: usize = 512;
/// Default bound on open HTTP connections (a connection beyond it is closed at once).
pub const CONNECTIONS_MAX_DEFAULT: usize = 2_048;
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
    pub connections_max: usize,
}

impl Default for ApiLimits {
    fn default() -> Self {
        ApiLimits {
            body_bytes_max: BODY_BYTES_MAX_DEFAULT,
            concurrency_max: CONCURRENCY_MAX_DEFAULT,
            connections_max: CONNECTIONS_MAX_DEFAULT,
        }
    }
}

/// What the API reaches of the node: handles made in `service::start`.
#[derive(Clone, Debug)]
pub struct Handles {
    /// The committed chain and its queries (the API reaches storage only through these).
    pub chain: Arc<Chain>,
    /// Where submitted transactions enter, and the mempool.
    pub admission: Arc<Admission>,
    /// Waiters for finality and the reasons of recent refusals.
    pub finality: Arc<Finality>,
    pub status: Arc<Status>,
    /// A synced node on a live chain has a block proposed at least this recently (the
    /// heartbeat, plus two first-view timeouts): `GET /ready` says "behind" beyond it.
    pub tip_age_max_ms: u64,
}

#[derive(Clone)]
struct AppState {
    node: Handles,
    permits: Arc<Semaphore>,
    body_bytes_max: usize,
    /// The scanner page served at `/scanner/`, if the node has one.
    scanner: Option<Arc<ScannerSite>>,
    /// Commit streams open (`GET /v1/commits`), bounded apart from the request slots.
    streams: Arc<Semaphore>,
}

/// The API's routes over the node's handles, and the scanner page if there is one.
pub fn router(node: Handles, limits: ApiLimits, scanner: Option<Arc<ScannerSite>>) -> Router {
    let state = AppState {
        node,
        permits: Arc::new(Semaphore::new(limits.concurrency_max)),
        body_bytes_max: limits.body_bytes_max,
        scanner,
        streams: Arc::new(Semaphore::new(COMMIT_STREAMS_MAX)),
    };
    // Behind the request slots: everything but `/health`, `/ready` and `/metrics`, which must
    // answer while the node is busy (that is when operators and load balancers ask).
    let limited = Router::new()
        .route("/v1/status", get(status))
        .route("/v1/transactions", post(submit_tx))
        .route("/v1/transactions/batch", post(submit_batch))
        .route("/v1/transactions/{id}", get(get_tx))
        .route("/v1/licences/{id}", get(get_licence))
        .route("/v1/licences/{id}/presentation", get(get_presentation))
        .route("/v1/verify", post(verify))
        .route("/v1/evidence/{hash}", get(get_evidence))
        .route("/v1/evidence/{hash}/receipt", get(get_receipt))
        .route("/v1/blocks", get(certified_blocks))
        .route("/v1/blocks/{height}", get(get_block))
        .route("/v1/snapshot/{height}/chunks", get(snapshot_chunks))
        .route("/v1/validators", get(validators))
        .route("/v1/agencies", get(agencies))
        .route("/v1/agencies/{id}/licences", get(agency_licences))
        .route("/v1/licence-types", get(licence_types))
        .route("/v1/submitters", get(submitters))
        .route("/v1/trust-anchor", get(trust_anchor))
        .route("/v1/trust-package", get(trust_package))
        .route("/v1/openapi.json", get(openapi_json))
        .route("/scanner", get(scanner_redirect))
        .route("/scanner/", get(scanner_index))
        .route("/scanner/{name}", get(scanner_file))
        .route_layer(middleware::from_fn_with_state(
            state.clone(),
            limit_concurrency,
        ));
    Router::new()
        .route("/health", get(health))
        .route("/ready", get(ops::ready))
        .route("/metrics", get(ops::metrics))
        // A stream lasts as long as its follower: it has its own bound, not a request slot.
        .route("/v1/commits", get(commits::commits))
        .merge(limited)
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(middleware::map_response(error::json_errors))
        .layer(middleware::from_fn(ops::access_log))
        .layer(cors())
        .with_state(state)
}

/// Reads the request's body (bounded, within [`BODY_READ_TIMEOUT_MS`]) and only then takes a
/// request slot: a client that sends its body slowly holds its connection (capped and timed by
/// [`serve`]), never a slot. Without a free slot the answer is 503 at once, not a queue.
async fn limit_concurrency(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let (parts, body) = request.into_parts();
    let read = tokio::time::timeout(
        std::time::Duration::from_millis(BODY_READ_TIMEOUT_MS),
        read_body(body, state.body_bytes_max),
    )
    .await;
    let body = match read {
        Ok(Ok(bytes)) => bytes,
        Ok(Err(error)) => return error.into_response(),
        Err(_) => {
            let mut error = ApiError::new(
                StatusCode::REQUEST_TIMEOUT,
                "body_timeout",
                format!("the request body did not arrive within {BODY_READ_TIMEOUT_MS} ms"),
            );
            error.close = true;
            return error.into_response();
        }
    };
    let request = Request::from_parts(parts, axum::body::Body::from(body));
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

/// The header that carries a trust package's checkpoint height.
const CHECKPOINT_HEIGHT_HEADER: &str = "x-lichen-checkpoint-height";

/// How long a browser may keep a CORS preflight's answer, in seconds.
pub const CORS_PREFLIGHT_MAX_AGE_S: u64 = 3_600;

/// Everything the API serves is public (presentations carry their own proof), so any page may
/// read it: a scanner page on another origin fetches a fresh presentation, or POSTs JSON to
/// `/v1/verify`. Preflights (`OPTIONS` with `Access-Control-Request-Method`) are answered here,
/// before routing and without a request slot; no credentials are involved, so `*` is safe.
fn cors() -> CorsLayer {
    CorsLayer::new()
        .allow_origin(Any)
        .allow_methods([Method::GET, Method::POST])
        .allow_headers([header::CONTENT_TYPE, header::ACCEPT])
        .expose_headers([HeaderName::from_static(CHECKPOINT_HEIGHT_HEADER)])
        .max_age(std::time::Duration::from_secs(CORS_PREFLIGHT_MAX_AGE_S))
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
