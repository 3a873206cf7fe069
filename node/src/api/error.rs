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
            // The API decodes what clients send itself (and answers 400 for it): bytes that do
            // not decode here came from this node's own storage.
            NodeError::Malformed { .. } => {
                tracing::error!("stored data does not decode: {e}");
                Self::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "storage_corrupt",
                    e.to_string(),
                )
            }
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

/// The stable code of an error response that did not come from [`ApiError`] (axum's own
/// rejections: a path that is not UTF-8 or not a number, a missing content type...).
fn code_of(status: StatusCode) -> &'static str {
    match status {
        StatusCode::BAD_REQUEST => "bad_request",
        StatusCode::NOT_FOUND => "not_found",
        StatusCode::METHOD_NOT_ALLOWED => "method_not_allowed",
        StatusCode::PAYLOAD_TOO_LARGE => "body_too_large",
        StatusCode::UNSUPPORTED_MEDIA_TYPE => "unsupported_media_type",
        StatusCode::UNPROCESSABLE_ENTITY => "unprocessable",
        s if s.is_client_error() => "client_error",
        _ => "internal",
    }
}

/// The longest plain-text error body carried over into the JSON error's message, in bytes.
const REJECTION_TEXT_BYTES_MAX: usize = 4_096;

/// Every error answers `{"error": {"code", "message"}}`: an error response that is not JSON
/// (axum's rejections are plain text) is rewritten into that shape, its text as the message.
pub(super) async fn json_errors(response: Response) -> Response {
    let status = response.status();
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|t| t.as_bytes().starts_with(b"application/json"));
    if !(status.is_client_error() || status.is_server_error()) || is_json {
        return response;
    }
    let (parts, body) = response.into_parts();
    let text = axum::body::to_bytes(body, REJECTION_TEXT_BYTES_MAX)
        .await
        .map(|b| String::from_utf8_lossy(&b).trim().to_string())
        .unwrap_or_default();
    let message = if text.is_empty() {
        status.canonical_reason().unwrap_or("error").to_string()
    } else {
        text
    };
    let mut error = ApiError::new(status, code_of(status), message);
    error.close = parts
        .headers
        .get(header::CONNECTION)
        .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"close"));
    let mut rewritten = error.into_response();
    for (name, value) in &parts.headers {
        if name != header::CONTENT_TYPE && name != header::CONTENT_LENGTH {
            rewritten.headers_mut().append(name.clone(), value.clone());
        }
    }
    rewritten
}

#[cfg(test)]
mod tests {
    use super::*;
    use lichen_contracts::error::CodecError;

    /// Bytes from the node's own storage that do not decode are the node's fault (500), not
    /// the client's.
    #[test]
    fn corrupt_storage_is_a_server_error() {
        let e = ApiError::from(NodeError::from(CodecError::UnexpectedEnd {
            needed: 8,
            remaining: 3,
        }));
        assert_eq!(e.status, StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(e.code, "storage_corrupt");
    }
}
