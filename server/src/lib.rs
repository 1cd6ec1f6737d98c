//! The core of syncwright's reference sync server: the state a server keeps, as a library a
//! transport (the in-process [`transport::InProcessTransport`] today, HTTP later) calls.
//!
//! - [`Server::handle_pull`] answers a [`PullRequest`] with the user's records changed after
//!   the client's cursors, one page at a time, in the user's one change sequence (a parent
//!   always before its child).
//! - [`Server::handle_push`] applies a [`PushRequest`]'s mutations in one transaction: each is
//!   accepted, answered with a conflict, or rejected, and the first answer to each idempotency
//!   key is stored with the change, so a replayed key applies nothing.
//!
//! Payloads are validated against the app's entity model of the schema version they were
//! written under ([`catalog`], built from the generator's frozen history); state lives behind
//! the [`storage::Storage`] interface (SQLite, or PostgreSQL shared by several processes).
//! `docs/protocol.md` is the contract.
//!
//! ```
//! use serde_json::json;
//! use syncwright::Uuid;
//! use syncwright::sync::protocol::{Mutation, Outcome, PullRequest, PushRequest};
//! use syncwright_server::Server;
//! use syncwright_server::catalog::{Catalog, EntitySchema, FieldSchema, FieldType, SchemaVersion};
//! use syncwright_server::storage::SqliteStorage;
//!
//! let catalog = Catalog::new().with_version(SchemaVersion::new(1).with_entity(
//!     EntitySchema::new("project").with_field(FieldSchema::new("name", FieldType::Text)),
//! ));
//! let server = Server::new(catalog, SqliteStorage::in_memory().unwrap());
//!
//! let id = Uuid::new_v4();
//! let fields = json!({ "name": "Harbour bridge" }).as_object().unwrap().clone();
//! let push = PushRequest::new(1, vec![Mutation::create(Uuid::new_v4(), "project", id, 1, 0, fields)]);
//! let answer = server.handle_push("ana", &push).unwrap();
//! assert!(matches!(answer.results[0].outcome, Outcome::Accepted { server_version: 1, .. }));
//!
//! let pull = PullRequest::new(1, [("project".to_string(), None)].into(), 100);
//! let page = server.handle_pull("ana", &pull).unwrap();
//! assert_eq!(page.changes[0].id, id);
//! assert!(!page.has_more);
//! // Another user sees nothing of it.
//! assert!(server.handle_pull("bob", &pull).unwrap().changes.is_empty());
//! ```

pub mod catalog;
pub mod cli;
mod cursor;
mod frozen_history;
pub mod http;
mod project;
mod pull;
mod push;
pub mod storage;
pub mod tokens;
pub mod transport;
mod validate;

pub use frozen_history::CatalogError;

use syncwright::sync::protocol::{
    PROTOCOL_VERSION, ProtocolError, PullRequest, PullResponse, PushRequest, PushResponse,
};

use crate::catalog::{Catalog, SchemaVersion};
use crate::storage::{Storage, StorageError};

/// Why a request got no answer.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    /// The request was refused whole (a 4xx): nothing of it was applied.
    #[error(transparent)]
    Refused(#[from] ProtocolError),
    /// The server's storage failed (a 5xx): nothing of it was applied; retry later.
    #[error(transparent)]
    Storage(#[from] StorageError),
}

/// How much one request may ask for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// The most records one pull page holds; a request's larger `limit` is lowered to it.
    pub max_pull_limit: u32,
    /// The most mutations one push may carry; a larger batch is refused.
    pub max_push_batch: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_pull_limit: 1000,
            max_push_batch: 1000,
        }
    }
}

/// A sync server: the app's entity model, the storage, and the limits.
pub struct Server {
    catalog: Catalog,
    storage: Box<dyn Storage>,
    limits: Limits,
}

impl Server {
    /// A server validating against `catalog` and keeping its state in `storage`.
    pub fn new(catalog: Catalog, storage: impl Storage + 'static) -> Self {
        Server {
            catalog,
            storage: Box::new(storage),
            limits: Limits::default(),
        }
    }

    /// Replaces the default [`Limits`].
    pub fn with_limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }

    /// The entity model the server validates against.
    pub fn catalog(&self) -> &Catalog {
        &self.catalog
    }

    /// Answers one page of `user`'s changes after the request's cursors.
    pub fn handle_pull(
        &self,
        user: &str,
        request: &PullRequest,
    ) -> Result<PullResponse, ServerError> {
        pull::pull(self, user, request)
    }

    /// Applies `user`'s batch of mutations, all in one transaction, and answers each.
    pub fn handle_push(
        &self,
        user: &str,
        request: &PushRequest,
    ) -> Result<PushResponse, ServerError> {
        push::push(self, user, request)
    }

    /// The schema of a request's client, after checking the protocol version and that the
    /// server knows the client's schema version.
    fn client_schema(
        &self,
        protocol_version: u32,
        schema_version: u32,
    ) -> Result<&SchemaVersion, ProtocolError> {
        if protocol_version != PROTOCOL_VERSION {
            return Err(ProtocolError::UnsupportedProtocol {
                requested: protocol_version,
                supported: vec![PROTOCOL_VERSION],
            });
        }
        let latest = self.catalog.latest_version().unwrap_or(0);
        if schema_version > latest {
            return Err(ProtocolError::SchemaTooNew {
                client_schema_version: schema_version,
                server_schema_version: latest,
            });
        }
        self.catalog
            .version(schema_version)
            .ok_or(ProtocolError::UnknownSchemaVersion { schema_version })
    }
}
