//! The static description of an entity and the [`Syncable`] trait the derive implements.

use rusqlite::Row;
use rusqlite::types::Value;

use crate::Result;

/// A type stored in an entity table and synced through the mutation queue.
///
/// `#[derive(Syncable)]` implements it; hand-written impls are fine too (the runtime's own tests
/// use them). The domain values cross the boundary as [`rusqlite::types::Value`] (re-exported as
/// [`crate::Value`]): `TEXT` as `Value::Text`, integers, booleans (0/1) and timestamps (epoch
/// milliseconds) as `Value::Integer`, reals as `Value::Real`, UUIDs as hyphenated `Value::Text`,
/// JSON as `Value::Text`, blobs as `Value::Blob`, `None` as `Value::Null`. The conversions live
/// in [`crate::ColumnValue`].
pub trait Syncable: Sized {
    /// Static description of the entity, emitted by the derive.
    const ENTITY: &'static EntityDescriptor;

    /// The domain (non-sync, non-deprecated) column values, in `ENTITY.columns` order.
    fn to_values(&self) -> Vec<Value>;

    /// Builds the value from a row that contains at least the domain columns. The derive reads
    /// them by index where the row has the store's SELECT list shape (domain columns from
    /// [`EntityDescriptor::first_domain_column`] on, in `ENTITY.columns` order), by name
    /// otherwise.
    fn from_row(row: &Row<'_>) -> Result<Self>;

    /// Builds the value from its domain values in `ENTITY.columns` order (what
    /// [`Syncable::to_values`] returns), so a write can return the record it wrote without
    /// reading it back. `None`, the default for hand-written impls, makes the store read the
    /// row back instead.
    fn from_values(values: &[Value]) -> Option<Result<Self>> {
        let _ = values;
        None
    }

    /// The JSON payload of a mutation: an object with one member per domain column, converted
    /// by [`crate::payload::to_payload`].
    fn to_payload(&self) -> serde_json::Map<String, serde_json::Value> {
        crate::payload::to_payload(Self::ENTITY, &self.to_values())
    }
}

/// Everything the runtime needs to know about an entity and its table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EntityDescriptor {
    /// The entity name used in the queue (`"task"`).
    pub name: &'static str,
    /// The table holding it (`"tasks"`).
    pub table: &'static str,
    /// How conflicts on this entity are resolved.
    pub conflict: ConflictStrategy,
    /// The domain columns, in the order of [`Syncable::to_values`].
    pub columns: &'static [ColumnDescriptor],
    /// Every index the table must have (sync indexes included); the drift check matches them by
    /// columns (in order) and uniqueness, not by name.
    pub indexes: &'static [IndexDescriptor],
    /// The names of the table's sync columns: [`SyncColumns::STANDARD`], or
    /// [`SyncColumns::ADOPTED`] for a table adopted from an existing app (docs/adoption.md).
    pub sync: &'static SyncColumns,
}

/// The names of an entity table's sync columns: the one place the store, the queue and the
/// sync engine take them from, so an adopted table's `_sync_`-prefixed ones work like the
/// standard ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SyncColumns {
    /// The client UUID, the record id the queue and the server see.
    pub id: &'static str,
    /// The id the server assigned.
    pub server_id: &'static str,
    /// Epoch ms of the record's creation.
    pub created_at: &'static str,
    /// Epoch ms of its last local or pulled change.
    pub updated_at: &'static str,
    /// Epoch ms of its last successful sync.
    pub synced_at: &'static str,
    /// The tombstone flag.
    pub is_deleted: &'static str,
    /// Bumped on every local write.
    pub version: &'static str,
    /// `synced`, `pending`, `conflict` or `error`.
    pub sync_status: &'static str,
    /// Per-field change times (`field_merge` entities only).
    pub field_timestamps: &'static str,
    /// Whether the app's own key, not `id`, is the table's primary key (an adopted table):
    /// `id` is then a unique column beside it.
    pub app_key: bool,
}

impl SyncColumns {
    /// The sync columns of a table syncwright created (docs/contracts.md).
    pub const STANDARD: SyncColumns = SyncColumns {
        id: "id",
        server_id: "server_id",
        created_at: "created_at",
        updated_at: "updated_at",
        synced_at: "synced_at",
        is_deleted: "is_deleted",
        version: "version",
        sync_status: "sync_status",
        field_timestamps: FIELD_TIMESTAMPS,
        app_key: false,
    };

    /// The sync columns of a table adopted from an existing app: `_sync_`-prefixed, beside the
    /// app's own columns and key (docs/adoption.md).
    pub const ADOPTED: SyncColumns = SyncColumns {
        id: "_sync_id",
        server_id: "_sync_server_id",
        created_at: "_sync_created_at",
        updated_at: "_sync_updated_at",
        synced_at: "_sync_synced_at",
        is_deleted: "_sync_is_deleted",
        version: "_sync_version",
        sync_status: "_sync_status",
        field_timestamps: "_sync_field_timestamps",
        app_key: true,
    };

    /// The name of the sync column called `logical` in [`SYNC_COLUMNS`] (or
    /// [`FIELD_TIMESTAMPS`]) in this table.
    pub fn name(&self, logical: &str) -> &'static str {
        match logical {
            "id" => self.id,
            "server_id" => self.server_id,
            "created_at" => self.created_at,
            "updated_at" => self.updated_at,
            "synced_at" => self.synced_at,
            "is_deleted" => self.is_deleted,
            "version" => self.version,
            "sync_status" => self.sync_status,
            FIELD_TIMESTAMPS => self.field_timestamps,
            other => unreachable!("`{other}` is not a sync column"),
        }
    }
}

/// One domain column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ColumnDescriptor {
    /// The column name.
    pub name: &'static str,
    /// The column's type.
    pub ty: ColumnType,
    /// Whether the column accepts `NULL`.
    pub nullable: bool,
    /// The table this column references, if it is a foreign key.
    pub references: Option<&'static str>,
}

/// One index of an entity table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IndexDescriptor {
    /// The index name (`idx_tasks_sync_status`).
    pub name: &'static str,
    /// The indexed columns.
    pub columns: &'static [&'static str],
    /// Whether the index is unique.
    pub unique: bool,
}

/// How a conflict between a local and a remote change of the same record is resolved.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ConflictStrategy {
    /// The change with the later `updated_at` wins.
    LastWriteWins,
    /// The server's version always wins.
    ServerWins,
    /// The local version always wins.
    ClientWins,
    /// Fields are merged one by one using the per-field timestamps in `field_timestamps`.
    FieldMerge,
    /// The record is marked `conflict` and the app decides.
    Manual,
}

/// The type of a domain column, which fixes its SQLite and JSON encodings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ColumnType {
    /// `TEXT`; a JSON string.
    Text,
    /// `INTEGER`; a JSON number.
    Integer,
    /// `REAL`; a JSON number.
    Real,
    /// `INTEGER` 0/1; a JSON boolean.
    Bool,
    /// `TEXT`, hyphenated lower-case; a JSON string.
    Uuid,
    /// `INTEGER` epoch milliseconds; a JSON number.
    Timestamp,
    /// `TEXT` holding JSON; the JSON value itself in payloads.
    Json,
    /// `BLOB`; a base64 (standard alphabet, padded) JSON string.
    Blob,
}

impl ColumnType {
    /// The type's name in specs, snapshots and messages (`text`, `integer`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            ColumnType::Text => "text",
            ColumnType::Integer => "integer",
            ColumnType::Real => "real",
            ColumnType::Bool => "bool",
            ColumnType::Uuid => "uuid",
            ColumnType::Timestamp => "timestamp",
            ColumnType::Json => "json",
            ColumnType::Blob => "blob",
        }
    }
}

/// The sync columns every entity table has, in table order (`field_timestamps` only for
/// [`ConflictStrategy::FieldMerge`] entities, see [`EntityDescriptor::sync_columns`]).
pub const SYNC_COLUMNS: &[&str] = &[
    "id",
    "server_id",
    "created_at",
    "updated_at",
    "synced_at",
    "is_deleted",
    "version",
    "sync_status",
];

/// The per-field timestamp column of `field_merge` entities.
pub const FIELD_TIMESTAMPS: &str = "field_timestamps";

impl EntityDescriptor {
    /// Whether the entity keeps per-field timestamps.
    pub fn is_field_merge(&self) -> bool {
        self.conflict == ConflictStrategy::FieldMerge
    }

    /// The sync columns of this entity's table, as named there, in [`SYNC_COLUMNS`] order.
    pub fn sync_columns(&self) -> impl Iterator<Item = &'static str> {
        let extra = self.is_field_merge().then_some(FIELD_TIMESTAMPS);
        let sync = self.sync;
        SYNC_COLUMNS
            .iter()
            .copied()
            .chain(extra)
            .map(move |logical| sync.name(logical))
    }

    /// The name in this entity's table of the sync column `logical` (`"id"`, `"sync_status"`).
    pub fn sync_column(&self, logical: &str) -> &'static str {
        self.sync.name(logical)
    }

    /// The quoted name of the sync column `logical`, for SQL text.
    pub(crate) fn quoted(&self, logical: &str) -> String {
        quote(self.sync.name(logical))
    }

    /// Where the domain columns start in the store's SELECT list of a record: after the sync
    /// columns.
    pub fn first_domain_column(&self) -> usize {
        self.sync_columns().count()
    }

    /// The domain column called `name`.
    pub fn column(&self, name: &str) -> Option<&'static ColumnDescriptor> {
        self.columns.iter().find(|c| c.name == name)
    }

    /// Whether `name` is a sync or domain column of this entity.
    pub fn has_column(&self, name: &str) -> bool {
        self.sync_columns().any(|c| c == name) || self.column(name).is_some()
    }
}

/// Quotes an SQL identifier.
pub(crate) fn quote(ident: &str) -> String {
    format!("\"{}\"", ident.replace('"', "\"\""))
}
