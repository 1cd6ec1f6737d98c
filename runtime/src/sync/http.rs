//! [`HttpTransport`]: the engine's [`Transport`] over HTTP, to the reference server (or any
//! server speaking `docs/protocol.md` over `POST {base}/v1/pull` and `POST {base}/v1/push`).
//!
//! It is a blocking client (ureq) with a connect timeout and a read timeout, sending the user's
//! bearer token on every request. Its errors tell the engine what to do next:
//!
//! | what happened | error |
//! | --- | --- |
//! | no connection, a broken one, an unreadable answer | [`TransportError::RetryLater`] ([`RetryCause::Network`]) |
//! | no answer within the timeouts | [`TransportError::RetryLater`] ([`RetryCause::Timeout`]) |
//! | 5xx (or another non-2xx, non-4xx status) | [`TransportError::RetryLater`] ([`RetryCause::Server`]) |
//! | 401 | [`TransportError::Refused`] with [`ProtocolError::Unauthorized`] (not retried: the same token gets the same answer) |
//! | another 4xx | [`TransportError::Refused`] with the server's [`ProtocolError`] and status |
//!
//! ```no_run
//! use std::time::Duration;
//! use syncwright::sync::http::HttpTransport;
//! use syncwright::sync::protocol::PullRequest;
//! use syncwright::sync::transport::Transport;
//!
//! let transport = HttpTransport::new("http://127.0.0.1:8787", "ana's token")
//!     .connect_timeout(Duration::from_secs(5))
//!     .read_timeout(Duration::from_secs(20));
//! let page = transport.pull(&PullRequest::new(5, [("task".to_string(), None)].into(), 500));
//! ```

use std::io::ErrorKind;
use std::time::Duration;

use serde::Serialize;
use serde::de::DeserializeOwned;

use super::protocol::{
    ErrorResponse, ProtocolError, PullRequest, PullResponse, PushRequest, PushResponse,
};
use super::transport::{RetryCause, Transport, TransportError};

/// The largest answer read (a pull page of the reference server's 1000 records fits easily).
const MAX_RESPONSE_BYTES: u64 = 256 * 1024 * 1024;

/// A [`Transport`] over HTTP with a bearer token.
pub struct HttpTransport {
    agent: ureq::Agent,
    base_url: String,
    authorization: String,
    connect_timeout: Duration,
    read_timeout: Duration,
}

// The token stays out of debug output.
impl std::fmt::Debug for HttpTransport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpTransport")
            .field("base_url", &self.base_url)
            .field("connect_timeout", &self.connect_timeout)
            .field("read_timeout", &self.read_timeout)
            .finish_non_exhaustive()
    }
}

impl HttpTransport {
    /// A transport to the server at `base_url` (e.g. `http://127.0.0.1:8787`), authenticating
    /// with `token`. Timeouts: 10 s to connect, 60 s to read an answer.
    pub fn new(base_url: impl Into<String>, token: impl AsRef<str>) -> Self {
        let connect_timeout = Duration::from_secs(10);
        let read_timeout = Duration::from_secs(60);
        HttpTransport {
            agent: agent(connect_timeout, read_timeout),
            base_url: base_url.into().trim_end_matches('/').to_string(),
            authorization: format!("Bearer {}", token.as_ref()),
            connect_timeout,
            read_timeout,
        }
    }

    /// How long to wait for the connection (then [`RetryCause::Timeout`]).
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self.agent = agent(self.connect_timeout, self.read_timeout);
        self
    }

    /// How long to wait for the answer, and again for its body, once the request is sent
    /// (then [`RetryCause::Timeout`]).
    pub fn read_timeout(mut self, timeout: Duration) -> Self {
        self.read_timeout = timeout;
        self.agent = agent(self.connect_timeout, self.read_timeout);
        self
    }

    /// The server's base URL.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    fn post<Req: Serialize, Resp: DeserializeOwned>(
        &self,
        path: &str,
        request: &Req,
    ) -> Result<Resp, TransportError> {
        let body = serde_json::to_vec(request).expect("protocol messages serialize");
        let mut response = self
            .agent
            .post(format!("{}{path}", self.base_url))
            .header("Authorization", &self.authorization)
            .content_type("application/json")
            .send(&body[..])
            .map_err(|e| retry_after(&e))?;
        let status = response.status().as_u16();
        let body = response
            .body_mut()
            .with_config()
            .limit(MAX_RESPONSE_BYTES)
            .read_to_vec()
            .map_err(|e| retry_after(&e))?;
        match status {
            200..=299 => serde_json::from_slice(&body).map_err(|e| {
                TransportError::retry(
                    RetryCause::Server {
                        status: Some(status),
                    },
                    format!("the server's answer to {path} is not the protocol's: {e}"),
                )
            }),
            400..=499 => Err(TransportError::Refused {
                status: Some(status),
                error: refusal(status, &body),
            }),
            _ => Err(TransportError::retry(
                RetryCause::Server {
                    status: Some(status),
                },
                format!("HTTP {status}: {}", String::from_utf8_lossy(&body)),
            )),
        }
    }
}

impl Transport for HttpTransport {
    fn pull(&self, request: &PullRequest) -> Result<PullResponse, TransportError> {
        self.post("/v1/pull", request)
    }

    fn push(&self, request: &PushRequest) -> Result<PushResponse, TransportError> {
        self.post("/v1/push", request)
    }
}

fn agent(connect: Duration, read: Duration) -> ureq::Agent {
    ureq::Agent::config_builder()
        // Statuses are mapped here, not turned into errors by ureq.
        .http_status_as_error(false)
        .timeout_connect(Some(connect))
        .timeout_recv_response(Some(read))
        .timeout_recv_body(Some(read))
        .build()
        .into()
}

/// The error for a request whose answer never arrived whole: it may or may not have been
/// applied, so the engine sends the same keys again later.
fn retry_after(error: &ureq::Error) -> TransportError {
    let cause = match error {
        ureq::Error::Timeout(_) => RetryCause::Timeout,
        ureq::Error::Io(io) if matches!(io.kind(), ErrorKind::TimedOut | ErrorKind::WouldBlock) => {
            RetryCause::Timeout
        }
        _ => RetryCause::Network,
    };
    TransportError::retry(cause, error.to_string())
}

/// The server's refusal in a 4xx body, or, when the body is not the protocol's error (a proxy
/// answered), an `unauthorized` for a 401 and an `invalid_request` otherwise, saying what came
/// back.
fn refusal(status: u16, body: &[u8]) -> ProtocolError {
    match serde_json::from_slice::<ErrorResponse>(body) {
        Ok(response) => response.error,
        Err(_) if status == 401 => ProtocolError::Unauthorized {
            reason: format!(
                "HTTP 401 without a protocol error body: {}",
                String::from_utf8_lossy(body)
            ),
        },
        Err(_) => ProtocolError::InvalidRequest {
            reason: format!(
                "HTTP {status} without a protocol error body: {}",
                String::from_utf8_lossy(body)
            ),
        },
    }
}
