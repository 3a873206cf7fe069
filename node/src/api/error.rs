//! API errors: a status, a stable code and a message, as `{"error": {"code", "message"}}`;
//! how the node's and the mempool's errors map to them.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::error::NodeError;
use crate::mempool::AdmitError;
use crate::runtime::SubmitError;
use lichen_views::api::{ErrorDetail, ErrorResponse};

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
    pub(super) fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            code,
            message: message.into(),
            close: false,
        }
    }

    pub(super) fn bad_request(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, message)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = ErrorResponse {
            error: ErrorDetail {
                code: self.code.to_string(),
                message: self.message,
            },
        };
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
            NodeError::NotACheckpoint { .. } => {
                Self::new(StatusCode::NOT_FOUND, "not_a_checkpoint", e.to_string())
            }
            NodeError::NotInCheckpoint { .. } => {
                Self::new(StatusCode::CONFLICT, "not_in_checkpoint", e.to_string())
            }
            NodeError::Malformed { .. } => Self::bad_request("malformed", e.to_string()),
            NodeError::BadRequest { code, reason } => Self::bad_request(code, reason.clone()),
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
            AdmitError::Unauthorised(_) => (StatusCode::UNPROCESSABLE_ENTITY, "tx_refused"),
            AdmitError::AlreadyCommitted { .. } => (StatusCode::CONFLICT, "already_committed"),
            AdmitError::Full { .. } => (StatusCode::SERVICE_UNAVAILABLE, "mempool_full"),
            AdmitError::SenderFull { .. } => (StatusCode::TOO_MANY_REQUESTS, "sender_busy"),
        };
        Self::new(status, code, admit.to_string())
    }
}

pub(super) type ApiResult<T> = Result<T, ApiError>;
