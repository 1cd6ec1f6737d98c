//! The bearer-token extractor: a handler that takes an [`AuthenticatedUser`] runs only for a
//! request whose token is in the tokens file.

use axum::extract::FromRequestParts;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;

use super::AppState;
use super::error::ApiError;

/// The user a request's `Authorization: Bearer <token>` belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthenticatedUser(pub String);

impl FromRequestParts<AppState> for AuthenticatedUser {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let header = parts
            .headers
            .get(AUTHORIZATION)
            .ok_or(ApiError::Unauthorized(
                "the request has no `Authorization` header",
            ))?;
        let token = header
            .to_str()
            .ok()
            .and_then(|value| value.strip_prefix("Bearer "))
            .map(str::trim)
            .filter(|token| !token.is_empty())
            .ok_or(ApiError::Unauthorized(
                "the `Authorization` header is not `Bearer <token>`",
            ))?;
        let user = state.tokens.user_of(token).ok_or(ApiError::Unauthorized(
            "the token is not in the server's tokens file",
        ))?;
        tracing::Span::current().record("user", user);
        Ok(AuthenticatedUser(user.to_string()))
    }
}
