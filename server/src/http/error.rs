//! One error type for every failure of a request, each mapped to its status and a JSON body:
//! the protocol's [`ErrorResponse`] for refusals (4xx), so a client parses one shape whatever
//! refused it (the core, the JSON decoder, the body limit, the router).

use axum::Json;
use axum::body::Body;
use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, Request, State};
use axum::http::header::{CONNECTION, CONTENT_TYPE};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::de::DeserializeOwned;
use syncwright::sync::protocol::{ErrorResponse, ProtocolError};

use super::AppState;
use crate::ServerError;

/// Why a request got no answer.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ApiError {
    /// No token, a malformed `Authorization` header, or a token not in the tokens file (401).
    #[error("unauthorized: {0}")]
    Unauthorized(&'static str),
    /// The core refused the request (4xx): nothing was applied.
    #[error(transparent)]
    Refused(ProtocolError),
    /// The body is not the protocol message (malformed JSON, a missing or mistyped member, an
    /// unknown action, the wrong content type, over the size limit).
    #[error("{reason}")]
    BadBody {
        /// axum's status for the rejection (400, 413, 415, 422).
        status: StatusCode,
        /// What is wrong with the body.
        reason: String,
    },
    /// The server failed (500): nothing was applied; retry later.
    #[error("{0}")]
    Internal(String),
}

impl From<ServerError> for ApiError {
    fn from(error: ServerError) -> Self {
        match error {
            ServerError::Refused(error) => ApiError::Refused(error),
            ServerError::Storage(error) => ApiError::Internal(error.to_string()),
        }
    }
}

impl From<JsonRejection> for ApiError {
    fn from(rejection: JsonRejection) -> Self {
        ApiError::BadBody {
            status: rejection.status(),
            reason: rejection.body_text(),
        }
    }
}

/// The status a core refusal is answered with.
fn refusal_status(error: &ProtocolError) -> StatusCode {
    match error {
        ProtocolError::InvalidMutations { .. } => StatusCode::UNPROCESSABLE_ENTITY,
        ProtocolError::SchemaTooNew { .. } => StatusCode::CONFLICT,
        _ => StatusCode::BAD_REQUEST,
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, error) = match self {
            ApiError::Unauthorized(reason) => (
                StatusCode::UNAUTHORIZED,
                ProtocolError::Unauthorized {
                    reason: format!(
                        "{reason}; send `Authorization: Bearer <token>` with a token the server \
                         knows"
                    ),
                },
            ),
            ApiError::Refused(error) => (refusal_status(&error), error),
            ApiError::BadBody { status, reason } => {
                (status, ProtocolError::InvalidRequest { reason })
            }
            ApiError::Internal(message) => {
                // The details go to the log, not to the client.
                tracing::error!(%message, "request failed");
                return (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "the sync server failed; nothing was applied, retry later",
                )
                    .into_response();
            }
        };
        tracing::info!(%status, refusal = %error, "refused");
        (status, Json(ErrorResponse::from(error))).into_response()
    }
}

/// `axum::Json` whose rejection is an [`ApiError`], so a body that is not the protocol message
/// is answered in the protocol's error shape.
pub(super) struct ProtocolJson<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for ProtocolJson<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, ApiError> {
        let Json(value) = Json::<T>::from_request(request, state).await?;
        Ok(ProtocolJson(value))
    }
}

/// Rewrites the 4xx answers produced outside the handlers (the body limit's 413, an unknown
/// route's 404, a wrong method's 405) into the protocol's JSON error shape.
pub(super) async fn refusals_as_protocol_errors(
    State(state): State<AppState>,
    response: Response,
) -> Response {
    let status = response.status();
    let is_json = response
        .headers()
        .get(CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/json"));
    if !status.is_client_error() || is_json {
        return response;
    }
    let reason = match status {
        StatusCode::PAYLOAD_TOO_LARGE => format!(
            "the request body is larger than this server's limit of {} bytes; send smaller \
             batches",
            state.config.body_limit
        ),
        StatusCode::NOT_FOUND => {
            "no such endpoint; the server serves POST /v1/pull, POST /v1/push and GET /health"
                .to_string()
        }
        StatusCode::METHOD_NOT_ALLOWED => {
            "wrong method; /v1/pull and /v1/push take POST, /health takes GET".to_string()
        }
        other => other
            .canonical_reason()
            .unwrap_or("the request was refused")
            .to_string(),
    };
    let body = ErrorResponse::from(ProtocolError::InvalidRequest { reason });
    let mut response = Response::new(Body::from(
        serde_json::to_vec(&body).expect("protocol messages serialize"),
    ));
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response
}

/// Marks every error answer `Connection: close`.
///
/// A refusal is often sent before the request body was read (a 401 from the token check, a 413
/// from the body limit, a 503 from the timeout), and hyper then closes the connection rather
/// than read an unknown amount of body. Without the header the client would keep the
/// connection in its pool and send its next request into a socket the server has closed, so a
/// second sync after a 401 failed with "peer disconnected" instead of its own 401. Errors are
/// rare, so reconnecting after one costs nothing that matters.
pub(super) async fn close_after_errors(mut response: Response) -> Response {
    if response.status().is_client_error() || response.status().is_server_error() {
        response
            .headers_mut()
            .insert(CONNECTION, HeaderValue::from_static("close"));
    }
    response
}
