//! The handlers: decode the protocol message, call the core on the blocking pool, answer.

use axum::Json;
use axum::extract::State;
use serde::Serialize;
use syncwright::sync::protocol::{PullRequest, PullResponse, PushRequest, PushResponse};

use super::AppState;
use super::auth::AuthenticatedUser;
use super::error::{ApiError, ProtocolJson};
use crate::{Server, ServerError};

/// `GET /health`: the process is up and serving.
pub(super) async fn health() -> Json<Health> {
    Json(Health { status: "ok" })
}

/// The body of `GET /health`.
#[derive(Serialize)]
pub(super) struct Health {
    status: &'static str,
}

/// `POST /v1/pull`.
pub(super) async fn pull(
    State(state): State<AppState>,
    AuthenticatedUser(user): AuthenticatedUser,
    ProtocolJson(request): ProtocolJson<PullRequest>,
) -> Result<Json<PullResponse>, ApiError> {
    let answer = on_blocking_pool(state, move |server| server.handle_pull(&user, &request)).await?;
    tracing::debug!(
        changes = answer.changes.len(),
        has_more = answer.has_more,
        "pulled"
    );
    Ok(Json(answer))
}

/// `POST /v1/push`.
pub(super) async fn push(
    State(state): State<AppState>,
    AuthenticatedUser(user): AuthenticatedUser,
    ProtocolJson(request): ProtocolJson<PushRequest>,
) -> Result<Json<PushResponse>, ApiError> {
    let mutations = request.mutations.len();
    let answer = on_blocking_pool(state, move |server| server.handle_push(&user, &request)).await?;
    tracing::debug!(mutations, "pushed");
    Ok(Json(answer))
}

/// Runs the synchronous core on tokio's blocking pool. Once started, the call runs to its end
/// even when the client disconnects or the request times out: its transaction then commits or
/// rolls back whole, never half.
async fn on_blocking_pool<T: Send + 'static>(
    state: AppState,
    call: impl FnOnce(&Server) -> Result<T, ServerError> + Send + 'static,
) -> Result<T, ApiError> {
    let server = state.server;
    tokio::task::spawn_blocking(move || call(&server))
        .await
        .map_err(|e| ApiError::Internal(format!("the request's worker failed: {e}")))?
        .map_err(ApiError::from)
}
