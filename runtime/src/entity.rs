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

    /// The sync columns of this entity's table.
    pub fn sync_columns(&self) -> impl Iterator<Item = &'static str> {
        let extra = self.is_field_merge().then_some(FIELD_TIMESTAMPS);
        SYNC_COLUMNS.iter().copied().chain(extra)
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
