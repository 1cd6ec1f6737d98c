//! Transports for tests and examples: [`InProcessTransport`] calls a [`Server`] in the same
//! process, and [`FaultyTransport`] wraps any transport to inject network faults, scripted or
//! from a seed, so property tests can replay a failing schedule.
//!
//! ```
//! use std::sync::Arc;
//! use syncwright::sync::protocol::PushRequest;
//! use syncwright::sync::transport::Transport;
//! use syncwright_server::Server;
//! use syncwright_server::catalog::{Catalog, SchemaVersion};
//! use syncwright_server::storage::SqliteStorage;
//! use syncwright_server::transport::{Fault, FaultyTransport, InProcessTransport};
//!
//! let catalog = Catalog::new().with_version(SchemaVersion::new(1));
//! let server = Arc::new(Server::new(catalog, SqliteStorage::in_memory().unwrap()));
//! let transport = FaultyTransport::scripted(
//!     InProcessTransport::new(server, "ana"),
//!     [Some(Fault::ServerError), None],
//! );
//! let request = PushRequest::new(1, Vec::new());
//! assert!(transport.push(&request).unwrap_err().is_retryable()); // the scripted 500
//! assert!(transport.push(&request).is_ok()); // then the request goes through
//! ```

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::Serialize;
use serde::de::DeserializeOwned;
use syncwright::sync::protocol::{PullRequest, PullResponse, PushRequest, PushResponse};
use syncwright::sync::transport::{RetryCause, Transport, TransportError};

use crate::{Server, ServerError};

/// Calls a server core in the same process as one user. Requests and responses go through
/// their JSON encoding, as over a network.
pub struct InProcessTransport {
    server: Arc<Server>,
    user: String,
}

impl InProcessTransport {
    /// A transport acting as `user` against `server`.
    pub fn new(server: Arc<Server>, user: impl Into<String>) -> Self {
        InProcessTransport {
            server,
            user: user.into(),
        }
    }

    /// The server it calls.
    pub fn server(&self) -> &Arc<Server> {
        &self.server
    }
}

impl Transport for InProcessTransport {
    fn pull(&self, request: &PullRequest) -> Result<PullResponse, TransportError> {
        let response = self.server.handle_pull(&self.user, &over_the_wire(request));
        response.map(|r| over_the_wire(&r)).map_err(to_transport)
    }

    fn push(&self, request: &PushRequest) -> Result<PushResponse, TransportError> {
        let response = self.server.handle_push(&self.user, &over_the_wire(request));
        response.map(|r| over_the_wire(&r)).map_err(to_transport)
    }
}

/// The message after a trip through its JSON encoding.
fn over_the_wire<T: Serialize + DeserializeOwned>(message: &T) -> T {
    let json = serde_json::to_vec(message).expect("protocol messages serialize");
    serde_json::from_slice(&json).expect("protocol messages parse back")
}

fn to_transport(error: ServerError) -> TransportError {
    match error {
        ServerError::Refused(error) => TransportError::refused(error),
        ServerError::Storage(error) => {
            TransportError::retry(RetryCause::Server { status: None }, error.to_string())
        }
    }
}

/// One injected fault.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// The request never reaches the server: nothing is applied.
    DropRequest,
    /// The server applies the request, then the response is lost.
    DropResponse,
    /// The server answers 500 without applying anything.
    ServerError,
    /// The request is held this long, then goes through.
    Delay(Duration),
}

/// Where the next fault comes from.
enum Schedule {
    /// One entry per call (`None`: no fault); no fault once it is empty.
    Script(VecDeque<Option<Fault>>),
    /// A fault on `percent` of calls, chosen by a xorshift generator from the seed.
    Seeded { state: u64, percent: u64 },
}

impl Schedule {
    fn next(&mut self) -> Option<Fault> {
        match self {
            Schedule::Script(script) => script.pop_front().flatten(),
            Schedule::Seeded { state, percent } => {
                if next_random(state) % 100 >= *percent {
                    return None;
                }
                Some(match next_random(state) % 4 {
                    0 => Fault::DropRequest,
                    1 => Fault::DropResponse,
                    2 => Fault::ServerError,
                    _ => Fault::Delay(Duration::from_millis(1)),
                })
            }
        }
    }
}

/// xorshift64*: small, deterministic, good enough to spread faults.
fn next_random(state: &mut u64) -> u64 {
    *state ^= *state >> 12;
    *state ^= *state << 25;
    *state ^= *state >> 27;
    state.wrapping_mul(0x2545_f491_4f6c_dd1d)
}

/// Wraps a transport and injects faults into its calls, deterministically.
pub struct FaultyTransport<T> {
    inner: T,
    schedule: Mutex<Schedule>,
    injected: Mutex<Vec<Fault>>,
}

impl<T: Transport> FaultyTransport<T> {
    /// Injects `script[n]` into the n-th call (pull or push); `None` lets a call through, and
    /// calls after the script's end go through.
    pub fn scripted(inner: T, script: impl IntoIterator<Item = Option<Fault>>) -> Self {
        FaultyTransport::with(inner, Schedule::Script(script.into_iter().collect()))
    }

    /// Injects a fault into about `percent` of calls, chosen from `seed`: the same seed gives
    /// the same faults on the same calls.
    pub fn seeded(inner: T, seed: u64, percent: u8) -> Self {
        FaultyTransport::with(
            inner,
            Schedule::Seeded {
                // xorshift must not start at 0.
                state: seed | 1,
                percent: u64::from(percent.min(100)),
            },
        )
    }

    fn with(inner: T, schedule: Schedule) -> Self {
        FaultyTransport {
            inner,
            schedule: Mutex::new(schedule),
            injected: Mutex::new(Vec::new()),
        }
    }

    /// Appends to a scripted schedule (ignored by a seeded one).
    pub fn then(&self, fault: Option<Fault>) {
        if let Schedule::Script(script) = &mut *lock(&self.schedule) {
            script.push_back(fault);
        }
    }

    /// Every fault injected so far, in order.
    pub fn injected(&self) -> Vec<Fault> {
        lock(&self.injected).clone()
    }

    /// The wrapped transport.
    pub fn inner(&self) -> &T {
        &self.inner
    }

    fn call<R>(
        &self,
        send: impl FnOnce() -> Result<R, TransportError>,
    ) -> Result<R, TransportError> {
        let fault = lock(&self.schedule).next();
        if let Some(fault) = fault {
            lock(&self.injected).push(fault);
        }
        match fault {
            None => send(),
            Some(Fault::DropRequest) => Err(TransportError::retry(
                RetryCause::Network,
                "injected fault: the request was dropped",
            )),
            Some(Fault::DropResponse) => {
                // The server applies it; the client never learns.
                let _ = send();
                Err(TransportError::retry(
                    RetryCause::Network,
                    "injected fault: the response was dropped",
                ))
            }
            Some(Fault::ServerError) => Err(TransportError::retry(
                RetryCause::Server { status: Some(500) },
                "injected fault: 500 Internal Server Error",
            )),
            Some(Fault::Delay(delay)) => {
                std::thread::sleep(delay);
                send()
            }
        }
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|p| p.into_inner())
}

impl<T: Transport> Transport for FaultyTransport<T> {
    fn pull(&self, request: &PullRequest) -> Result<PullResponse, TransportError> {
        self.call(|| self.inner.pull(request))
    }

    fn push(&self, request: &PushRequest) -> Result<PushResponse, TransportError> {
        self.call(|| self.inner.push(request))
    }
}
