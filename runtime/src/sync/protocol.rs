//! The sync protocol's messages, defined once for the client and the server.
//!
//! Two requests, each answered by one response or one [`ErrorResponse`]:
//! - [`PullRequest`] -> [`PullResponse`]: the records changed after the client's cursors, in
//!   the order of the user's one change sequence, one page at a time.
//! - [`PushRequest`] -> [`PushResponse`]: a batch of [`Mutation`]s, each answered under its
//!   idempotency key by an [`Outcome`] (accepted, conflict or rejected).
//!
//! Every request carries [`PROTOCOL_VERSION`] and the client's schema version; every record and
//! mutation carries the schema version it was written under. `docs/protocol.md` explains the
//! rules (cursors, idempotency, conflicts, schema versions, ordering) with a JSON example of
//! each message.
//!
//! ```
//! use syncwright::sync::protocol::{Mutation, PushRequest, PROTOCOL_VERSION};
//! use syncwright::Uuid;
//!
//! let mut fields = serde_json::Map::new();
//! fields.insert("name".into(), serde_json::json!("Harbour bridge"));
//! let id = Uuid::parse_str("3f2b8e7a-1c4d-4e5f-9a6b-7c8d9e0f1a2b").unwrap();
//! let key = Uuid::parse_str("9a1b2c3d-4e5f-4a6b-8c7d-0e1f2a3b4c5d").unwrap();
//! let request = PushRequest::new(5, vec![Mutation::create(key, "project", id, 5, 1_764_000_000_000, fields)]);
//! let json = serde_json::to_string(&request).unwrap();
//! assert_eq!(serde_json::from_str::<PushRequest>(&json).unwrap(), request);
//! assert_eq!(request.protocol_version, PROTOCOL_VERSION);
//! ```

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value as Json};
use uuid::Uuid;

/// The protocol version this crate speaks; sent in every request and response.
pub const PROTOCOL_VERSION: u32 = 1;

/// A record's domain fields by column name, encoded as the mutation payload is
/// ([`crate::payload`]): text and uuids as strings, integers and timestamps (epoch ms) as
/// numbers, bools as `true`/`false`, json as itself, blobs as base64, NULL as `null`.
pub type Fields = Map<String, Json>;

/// When each field last changed, in epoch ms, by column name (`field_merge` entities only).
pub type FieldTimestamps = BTreeMap<String, i64>;

/// Where a client stands in one entity's changes. Opaque to the client: it stores what the
/// server returned and sends it back unchanged; `None` (JSON `null`) starts from the beginning.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Cursor(pub String);

impl fmt::Display for Cursor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Asks for the records changed after the client's cursors.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PullRequest {
    /// [`PROTOCOL_VERSION`] of the client.
    pub protocol_version: u32,
    /// The client's schema version; records come back with the fields that version knows.
    pub schema_version: u32,
    /// Every entity to pull, with the cursor the server last returned for it (`null` for an
    /// entity never pulled, such as one added by a schema upgrade). Entities pulled together
    /// come back merged in one commit order, so a parent always arrives before its child.
    pub cursors: BTreeMap<String, Option<Cursor>>,
    /// The most records one page may hold (at least 1; the server may cap it lower).
    pub limit: u32,
}

impl PullRequest {
    /// A request at [`PROTOCOL_VERSION`].
    pub fn new(schema_version: u32, cursors: BTreeMap<String, Option<Cursor>>, limit: u32) -> Self {
        PullRequest {
            protocol_version: PROTOCOL_VERSION,
            schema_version,
            cursors,
            limit,
        }
    }
}

/// One page of changes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PullResponse {
    /// [`PROTOCOL_VERSION`] of the server.
    pub protocol_version: u32,
    /// The current state of each changed record, in the order the client must apply them.
    /// A record may appear again in a later page or pull (with the same or a newer
    /// `server_version`); applying the same version twice changes nothing.
    pub changes: Vec<RemoteRecord>,
    /// The next cursor of every requested entity. Store each in the same transaction that
    /// applies `changes`.
    pub cursors: BTreeMap<String, Cursor>,
    /// True when more changes wait: pull again with the new cursors.
    pub has_more: bool,
}

/// A record as the server holds it: in a pull page, and as the current record of a conflict.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RemoteRecord {
    /// The entity name (`task`).
    pub entity: String,
    /// The client-generated UUID: the record's identity on every side and in every foreign key.
    pub id: Uuid,
    /// The extra id the server assigned when the record was created.
    pub server_id: String,
    /// Incremented by every accepted change; a mutation's `base_version` is compared with it.
    pub server_version: u64,
    /// The schema version of the mutation that last wrote the record.
    pub schema_version: u32,
    /// True for a tombstone: the record was deleted (its fields are its last values).
    pub deleted: bool,
    /// When the record was created, epoch ms, as the creating client reported it.
    pub created_at: i64,
    /// When the record last changed, epoch ms, as the writing client reported it (`lww`).
    pub updated_at: i64,
    /// The fields the requesting client's schema version knows.
    pub fields: Fields,
    /// Per-field change times (`field_merge` entities; empty and omitted otherwise).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub field_timestamps: FieldTimestamps,
}

/// Sends a batch of local changes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PushRequest {
    /// [`PROTOCOL_VERSION`] of the client.
    pub protocol_version: u32,
    /// The client's schema version.
    pub schema_version: u32,
    /// The changes, applied in this order; answered in this order.
    pub mutations: Vec<Mutation>,
}

impl PushRequest {
    /// A request at [`PROTOCOL_VERSION`].
    pub fn new(schema_version: u32, mutations: Vec<Mutation>) -> Self {
        PushRequest {
            protocol_version: PROTOCOL_VERSION,
            schema_version,
            mutations,
        }
    }
}

/// What a mutation does to its record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// Creates the record with `id`.
    Create,
    /// Changes the fields sent; the others keep their server values.
    Update,
    /// Turns the record into a tombstone.
    Delete,
}

/// One local change.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Mutation {
    /// Unique per change (the queue entry's key): a retried key is answered with its first
    /// answer and applied at most once.
    pub idempotency_key: Uuid,
    /// The entity name (`task`).
    pub entity: String,
    /// Create, update or delete.
    pub action: Action,
    /// The record's client-generated UUID.
    pub id: Uuid,
    /// The `server_version` this change was made on; `null` for a create. A mismatch with the
    /// server's current version answers [`Outcome::Conflict`].
    pub base_version: Option<u64>,
    /// The schema version the change was written under.
    pub schema_version: u32,
    /// When the change was made, epoch ms, on the client's clock (`lww` compares it).
    pub updated_at: i64,
    /// The fields the change sets (every required field for a create; none for a delete).
    #[serde(default)]
    pub fields: Fields,
    /// When each sent field changed, epoch ms (`field_merge` entities).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub field_timestamps: FieldTimestamps,
}

impl Mutation {
    /// A create of `id` with `fields`.
    pub fn create(
        idempotency_key: Uuid,
        entity: impl Into<String>,
        id: Uuid,
        schema_version: u32,
        updated_at: i64,
        fields: Fields,
    ) -> Self {
        Mutation {
            idempotency_key,
            entity: entity.into(),
            action: Action::Create,
            id,
            base_version: None,
            schema_version,
            updated_at,
            fields,
            field_timestamps: FieldTimestamps::new(),
        }
    }

    /// An update of `fields` of `id`, made on `base_version`.
    pub fn update(
        idempotency_key: Uuid,
        entity: impl Into<String>,
        id: Uuid,
        base_version: u64,
        schema_version: u32,
        updated_at: i64,
        fields: Fields,
    ) -> Self {
        Mutation {
            action: Action::Update,
            base_version: Some(base_version),
            ..Mutation::create(
                idempotency_key,
                entity,
                id,
                schema_version,
                updated_at,
                fields,
            )
        }
    }

    /// A delete of `id`, made on `base_version`.
    pub fn delete(
        idempotency_key: Uuid,
        entity: impl Into<String>,
        id: Uuid,
        base_version: u64,
        schema_version: u32,
        updated_at: i64,
    ) -> Self {
        Mutation {
            action: Action::Delete,
            base_version: Some(base_version),
            ..Mutation::create(
                idempotency_key,
                entity,
                id,
                schema_version,
                updated_at,
                Fields::new(),
            )
        }
    }
}

/// The answers to a push, one per mutation, in request order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PushResponse {
    /// [`PROTOCOL_VERSION`] of the server.
    pub protocol_version: u32,
    /// One answer per mutation of the request.
    pub results: Vec<MutationResult>,
}

/// The answer to one mutation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MutationResult {
    /// The mutation's idempotency key.
    pub idempotency_key: Uuid,
    /// What happened to it.
    #[serde(flatten)]
    pub outcome: Outcome,
}

/// What the server did with one mutation. The first answer to a key is kept: a replay returns
/// it again and applies nothing.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum Outcome {
    /// Applied. The client records the new version and the server id.
    Accepted {
        /// The record's version after this change.
        server_version: u64,
        /// The id the server assigned to the record.
        server_id: String,
    },
    /// Not applied: the record changed on the server since `base_version` (or a create named
    /// an id that already exists). The client resolves it by the entity's conflict strategy,
    /// and re-sends (under a new key) based on `current.server_version` if its change wins.
    Conflict {
        /// The server's current record (a tombstone when it was deleted).
        current: RemoteRecord,
    },
    /// Not applied and never will be: the mutation cannot apply to the server's state (an
    /// update or delete of a record the server does not have). Retrying does not help.
    Rejected {
        /// Why, in words for a developer.
        reason: String,
    },
}

/// The body of every refused request: nothing of it was applied.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ErrorResponse {
    /// [`PROTOCOL_VERSION`] of the server.
    pub protocol_version: u32,
    /// The typed refusal.
    pub error: ProtocolError,
    /// The same, in words.
    pub message: String,
}

impl From<ProtocolError> for ErrorResponse {
    fn from(error: ProtocolError) -> Self {
        ErrorResponse {
            protocol_version: PROTOCOL_VERSION,
            message: error.to_string(),
            error,
        }
    }
}

/// Why a whole request was refused. Nothing of a refused request is applied or recorded, so
/// the client keeps its queue and can send the same mutations again once the cause is fixed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[serde(tag = "code", rename_all = "snake_case")]
#[non_exhaustive]
pub enum ProtocolError {
    /// The request's `protocol_version` is not one the server speaks.
    #[error("protocol version {requested} is not supported; this server speaks {supported:?}")]
    UnsupportedProtocol {
        /// What the client sent.
        requested: u32,
        /// What the server speaks.
        supported: Vec<u32>,
    },
    /// The client's schema is newer than the server's: update the server before syncing this
    /// client. Its queue is kept.
    #[error(
        "the client's schema version {client_schema_version} is newer than the server's \
         ({server_schema_version}); deploy the new schema to the server, then sync again"
    )]
    SchemaTooNew {
        /// What the client sent.
        client_schema_version: u32,
        /// The newest version the server knows.
        server_schema_version: u32,
    },
    /// The request names a schema version the server has no snapshot of.
    #[error("schema version {schema_version} is unknown to the server")]
    UnknownSchemaVersion {
        /// The unknown version.
        schema_version: u32,
    },
    /// A cursor was not issued by this server for this user and entity (or is malformed).
    #[error(
        "the cursor of `{entity}` was not issued by this server: {reason}; pull `{entity}` again from the beginning (cursor null)"
    )]
    InvalidCursor {
        /// The entity whose cursor was refused.
        entity: String,
        /// What is wrong with it.
        reason: String,
    },
    /// Some mutations of a push do not match the entity model; none of the batch was applied.
    #[error("{} mutation(s) do not match the schema, nothing was applied: {}", .rejected.len(), fmt_rejections(.rejected))]
    InvalidMutations {
        /// Each bad mutation and why.
        rejected: Vec<InvalidMutation>,
    },
    /// The request itself is malformed (an unknown entity in a pull, a zero limit, a duplicate
    /// idempotency key in one batch, a batch over the limit).
    #[error("invalid request: {reason}")]
    InvalidRequest {
        /// What is wrong.
        reason: String,
    },
    /// The request carries no credentials the server accepts (over HTTP: status 401, no
    /// `Authorization: Bearer <token>` header or a token the server does not know). Nothing
    /// was applied; sending it again with the same credentials gets the same answer.
    #[error("unauthorized: {reason}")]
    Unauthorized {
        /// What is wrong with the credentials (never the token itself).
        reason: String,
    },
}

/// One mutation of a refused batch and why it was refused.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InvalidMutation {
    /// The mutation's key.
    pub idempotency_key: Uuid,
    /// Why, naming the entity and field: ``task.title: expected text, got 42``.
    pub reason: String,
}

fn fmt_rejections(rejected: &[InvalidMutation]) -> String {
    rejected
        .iter()
        .map(|r| format!("{} ({})", r.reason, r.idempotency_key))
        .collect::<Vec<_>>()
        .join("; ")
}

#[cfg(test)]
mod tests;
