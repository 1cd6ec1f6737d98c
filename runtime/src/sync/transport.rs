//! How the engine reaches a server: the [`Transport`] trait and its error.
//!
//! A transport carries one [`PullRequest`] or [`PushRequest`] and returns the server's answer.
//! Its error says what the engine should do next: [`TransportError::RetryLater`] (the network
//! failed, the request timed out, the server answered 5xx: the request may or may not have been
//! applied, so send the same idempotency keys again later) or [`TransportError::Refused`] (the
//! server answered 4xx: nothing was applied, and sending the same request again gets the same
//! refusal).
//!
//! ```
//! use syncwright::sync::protocol::*;
//! use syncwright::sync::transport::{RetryCause, Transport, TransportError};
//!
//! /// A transport whose network is always down.
//! struct Offline;
//!
//! impl Transport for Offline {
//!     fn pull(&self, _: &PullRequest) -> Result<PullResponse, TransportError> {
//!         Err(TransportError::retry(RetryCause::Network, "no route to host"))
//!     }
//!     fn push(&self, _: &PushRequest) -> Result<PushResponse, TransportError> {
//!         Err(TransportError::retry(RetryCause::Network, "no route to host"))
//!     }
//! }
//!
//! let error = Offline.push(&PushRequest::new(1, Vec::new())).unwrap_err();
//! assert!(error.is_retryable());
//! ```

use std::fmt;

use super::protocol::{ProtocolError, PullRequest, PullResponse, PushRequest, PushResponse};

/// Carries requests to a sync server. Implementations: the in-process transport of
/// `syncwright-server` (tests, examples), its fault-injecting wrapper, an HTTP client.
pub trait Transport {
    /// Sends a pull request and returns the page of changes.
    fn pull(&self, request: &PullRequest) -> Result<PullResponse, TransportError>;

    /// Sends a batch of mutations and returns the answer to each.
    fn push(&self, request: &PushRequest) -> Result<PushResponse, TransportError>;
}

impl<T: Transport + ?Sized> Transport for &T {
    fn pull(&self, request: &PullRequest) -> Result<PullResponse, TransportError> {
        (**self).pull(request)
    }

    fn push(&self, request: &PushRequest) -> Result<PushResponse, TransportError> {
        (**self).push(request)
    }
}

/// Why a request did not get an answer the engine can apply.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum TransportError {
    /// Try again later with the same idempotency keys: the request may or may not have been
    /// applied (the network failed, the request timed out, the server answered 5xx).
    #[error("sync server unavailable ({cause}), retry later: {message}")]
    RetryLater {
        /// What failed.
        cause: RetryCause,
        /// Details for logs.
        message: String,
    },
    /// The server refused the request (4xx): nothing was applied, and the same request would
    /// be refused again. `error` says why; the engine shows it and keeps its queue.
    #[error("the sync server refused the request: {error}")]
    Refused {
        /// The HTTP status, when the transport has one.
        status: Option<u16>,
        /// The server's typed refusal.
        error: ProtocolError,
    },
}

impl TransportError {
    /// A [`TransportError::RetryLater`].
    pub fn retry(cause: RetryCause, message: impl Into<String>) -> Self {
        TransportError::RetryLater {
            cause,
            message: message.into(),
        }
    }

    /// A [`TransportError::Refused`] without an HTTP status (in-process transports).
    pub fn refused(error: ProtocolError) -> Self {
        TransportError::Refused {
            status: None,
            error,
        }
    }

    /// True when sending the same request later may succeed.
    pub fn is_retryable(&self) -> bool {
        matches!(self, TransportError::RetryLater { .. })
    }
}

/// What kind of failure a [`TransportError::RetryLater`] was.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum RetryCause {
    /// No connection, or the connection broke (the answer, if any, was lost).
    Network,
    /// No answer within the transport's timeout.
    Timeout,
    /// The server failed (HTTP 5xx, or an internal error of an in-process server).
    Server {
        /// The HTTP status, when there is one.
        status: Option<u16>,
    },
}

impl fmt::Display for RetryCause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RetryCause::Network => f.write_str("network error"),
            RetryCause::Timeout => f.write_str("timeout"),
            RetryCause::Server { status: Some(s) } => write!(f, "server error {s}"),
            RetryCause::Server { status: None } => f.write_str("server error"),
        }
    }
}
