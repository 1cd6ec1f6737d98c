//! The reference server over HTTP: `POST /v1/pull`, `POST /v1/push` (JSON bodies, the protocol's
//! messages) and `GET /health`, every sync request authenticated by a bearer token.
//!
//! The router wraps the synchronous [`Server`] core, calling it on tokio's blocking pool. A push
//! is applied in one storage transaction, so whatever happens to the connection or the process,
//! a batch is applied whole or not at all, and a client that got no answer sends it again with
//! the same idempotency keys.
//!
//! Statuses: `200` with the answer; `401` (no or an unknown token); `4xx` with the protocol's
//! [`ErrorResponse`](syncwright::sync::protocol::ErrorResponse) body for every refusal
//! (nothing applied); `5xx` when the server failed (retry later).
//!
//! ```no_run
//! use std::sync::Arc;
//! use syncwright_server::Server;
//! use syncwright_server::catalog::Catalog;
//! use syncwright_server::http::{HttpConfig, router, serve, shutdown_signal};
//! use syncwright_server::storage::SqliteStorage;
//! use syncwright_server::tokens::Tokens;
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let catalog = Catalog::from_project("fixtures/field-service/syncwright.toml")?;
//! let server = Arc::new(Server::new(catalog, SqliteStorage::open("server.db")?));
//! let app = router(server, Tokens::load("tokens.toml")?, HttpConfig::default());
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:8787").await?;
//! serve(listener, app, shutdown_signal()?).await?;
//! # Ok(()) }
//! ```

mod auth;
mod error;
mod routes;

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::Request;
use axum::http::StatusCode;
use axum::middleware;
use axum::routing::{get, post};
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::{DefaultOnResponse, TraceLayer};
use tracing::{Level, Span};

pub use auth::AuthenticatedUser;
pub use error::ApiError;

use crate::Server;
use crate::tokens::Tokens;

/// The HTTP layer's limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HttpConfig {
    /// The largest request body accepted, in bytes; a larger one is answered `413`.
    pub body_limit: usize,
    /// How long one request may take before it is answered `503` (the client retries; a push
    /// still running then is applied whole or not at all, and the retry is deduplicated).
    pub request_timeout: Duration,
}

impl Default for HttpConfig {
    fn default() -> Self {
        HttpConfig {
            // 1000 mutations (the core's batch limit) of a few KiB each.
            body_limit: 8 * 1024 * 1024,
            request_timeout: Duration::from_secs(30),
        }
    }
}

/// What every handler shares.
#[derive(Clone)]
pub struct AppState {
    /// The server core.
    pub server: Arc<Server>,
    /// Who may sync.
    pub tokens: Arc<Tokens>,
    /// The limits, for error messages.
    pub config: HttpConfig,
}

/// The service: the routes, the auth, the limits, the timeout and one tracing span per request.
pub fn router(server: Arc<Server>, tokens: Tokens, config: HttpConfig) -> Router {
    let state = AppState {
        server,
        tokens: Arc::new(tokens),
        config,
    };
    Router::new()
        .route("/health", get(routes::health))
        .route("/v1/pull", post(routes::pull))
        .route("/v1/push", post(routes::push))
        // The last layer added is the outermost: a request meets the span first, then the
        // `Connection: close` of error answers, then the timeout, then the JSON shape for the
        // refusals that axum and the body limit produce themselves (the limit's 413 included),
        // then the body limit.
        .layer(RequestBodyLimitLayer::new(config.body_limit))
        .layer(middleware::map_response_with_state(
            state.clone(),
            error::refusals_as_protocol_errors,
        ))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::SERVICE_UNAVAILABLE,
            config.request_timeout,
        ))
        .layer(middleware::map_response(error::close_after_errors))
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(request_span)
                .on_response(DefaultOnResponse::new().level(Level::INFO)),
        )
        .with_state(state)
}

/// One span per request: method and path only. Headers (the bearer token) are never recorded;
/// the user is filled in once authenticated.
fn request_span(request: &Request) -> Span {
    tracing::info_span!(
        "request",
        method = %request.method(),
        path = %request.uri().path(),
        user = tracing::field::Empty,
    )
}

/// Serves `app` on `listener` until `shutdown` completes, then stops accepting connections
/// and lets the requests in progress finish.
pub async fn serve(
    listener: tokio::net::TcpListener,
    app: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await
}

/// Registers the SIGINT (Ctrl-C) and, on Unix, SIGTERM handlers *now*, and returns the future
/// that completes on the first of them. Call it before announcing that the server listens: a
/// signal sent right after the announcement then stops the server gracefully instead of
/// killing it with the default action. Must be called inside a tokio runtime.
pub fn shutdown_signal() -> std::io::Result<impl Future<Output = ()> + Send + 'static> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let mut interrupt = signal(SignalKind::interrupt())?;
        let mut terminate = signal(SignalKind::terminate())?;
        Ok(async move {
            tokio::select! {
                _ = interrupt.recv() => tracing::info!("SIGINT received, finishing the requests in progress"),
                _ = terminate.recv() => tracing::info!("SIGTERM received, finishing the requests in progress"),
            }
        })
    }
    #[cfg(not(unix))]
    {
        Ok(async {
            if tokio::signal::ctrl_c().await.is_ok() {
                tracing::info!("Ctrl-C received, finishing the requests in progress");
            } else {
                std::future::pending::<()>().await;
            }
        })
    }
}
