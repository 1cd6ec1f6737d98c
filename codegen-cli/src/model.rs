//! The one schema model every front end parses into and every later stage reads.
//!
//! Two layers:
//! - [`Entity`] and [`Field`]: what the user wrote (TOML spec, Rust struct), with origins so
//!   validation can point at the exact key.
//! - [`Table`], [`Column`] and [`Index`]: the physical SQLite layout, sync columns and sync
//!   indexes included, in column order. Rendering and migration planning read only this layer,
//!   and schema snapshots store it.
//!
//! The model does no I/O.

use serde::{Deserialize, Serialize};

use crate::diagnostic::Origin;

/// A value together with where it was written.
#[derive(Clone, Debug)]
pub struct Located<T> {
    /// The value.
    pub value: T,
    /// Where it was written.
    pub origin: Origin,
}

impl<T> Located<T> {
    /// Wraps a value with its origin.
    pub fn new(value: T, origin: Origin) -> Self {
        Located { value, origin }
    }
}

impl<T: PartialEq> PartialEq for Located<T> {
    fn eq(&self, other: &Self) -> bool {
        self.value == other.value
    }
}

/// A whole project's schema as the user describes it now.
#[derive(Clone, Debug, Default)]
pub struct Schema {
    /// The schema version from `syncwright.toml`.
    pub version: u32,
    /// Where `version` is set, for messages about the version as a whole (a removed entity has
    /// no spec left to point at).
    pub version_origin: Origin,
    /// Every entity, in the order the spec files were read (sorted by path).
    pub entities: Vec<Entity>,
}

/// One synced entity: a table with the sync columns plus the user's fields.
#[derive(Clone, Debug)]
pub struct Entity {
    /// Singular snake_case name, such as `task`.
    pub name: Located<String>,
    /// Table name; defaults to the plural of `name`.
    pub table: Located<String>,
    /// How conflicts between local and server versions are resolved.
    pub conflict: Located<ConflictStrategy>,
    /// The domain fields in declaration order.
    pub fields: Vec<Field>,
    /// Composite (or explicitly declared) indexes.
    pub indexes: Vec<IndexSpec>,
    /// Kept in the database but dropped from generated code; may be removed in a later version.
    pub deprecated: Option<Located<bool>>,
    /// `adopted = true`: the table exists in the app's databases and the first release adopts
    /// it (docs/adoption.md).
    pub adopted: Option<Located<bool>>,
    /// The adopted table as the import snapshot has it, linked when the project is loaded
    /// (`None` for entities syncwright creates, and before linking).
    pub adoption: Option<Adopted>,
    /// The whole declaration (the `[entity]` table or the struct).
    pub origin: Origin,
}

impl Entity {
    /// The Rust type name: `field_note` becomes `FieldNote`.
    pub fn rust_name(&self) -> String {
        crate::naming::pascal_case(&self.name.value)
    }

    /// Looks a field up by column name.
    pub fn field(&self, name: &str) -> Option<&Field> {
        self.fields.iter().find(|f| f.name.value == name)
    }

    /// True when `deprecated = true` in `[entity]`.
    pub fn is_deprecated(&self) -> bool {
        self.deprecated.as_ref().is_some_and(|v| v.value)
    }

    /// True when `adopted = true` in `[entity]`.
    pub fn is_adopted(&self) -> bool {
        self.adopted.as_ref().is_some_and(|v| v.value)
    }
}

/// One domain field of an entity.
#[derive(Clone, Debug)]
pub struct Field {
    /// Column name.
    pub name: Located<String>,
    /// Column type.
    pub ty: Located<FieldType>,
    /// Whether NULL is allowed (`Option<T>` in Rust).
    pub nullable: bool,
    /// Default for rows that do not set the field.
    pub default: Option<Located<DefaultValue>>,
    /// Whether the field gets its own index.
    pub index: Option<Located<bool>>,
    /// Whether the field gets a unique index.
    pub unique: Option<Located<bool>>,
    /// Table this field references by `id`.
    pub references: Option<Located<String>>,
    /// The column this one replaces (expand/contract rename).
    pub renamed_from: Option<Located<String>>,
    /// SQL expression over existing columns that fills the column when it is added.
    pub backfill: Option<Located<String>>,
    /// Kept in the database but dropped from generated code; may be removed in a later version.
    pub deprecated: Option<Located<bool>>,
    /// The whole field declaration.
    pub origin: Origin,
}

impl Field {
    /// A field of `ty` with every option unset, as a starting point for front ends.
    pub fn new(name: Located<String>, ty: Located<FieldType>, origin: Origin) -> Self {
        Field {
            name,
            ty,
            nullable: false,
            default: None,
            index: None,
            unique: None,
            references: None,
            renamed_from: None,
            backfill: None,
            deprecated: None,
            origin,
        }
    }

    /// True when `index = true`.
    pub fn is_indexed(&self) -> bool {
        self.index.as_ref().is_some_and(|v| v.value)
    }

    /// True when `unique = true`.
    pub fn is_unique(&self) -> bool {
        self.unique.as_ref().is_some_and(|v| v.value)
    }

    /// True when `deprecated = true`.
    pub fn is_deprecated(&self) -> bool {
        self.deprecated.as_ref().is_some_and(|v| v.value)
    }
}

/// A declared index over one or more fields.
#[derive(Clone, Debug)]
pub struct IndexSpec {
    /// Column names, in index order.
    pub columns: Vec<Located<String>>,
    /// Whether the index enforces uniqueness.
    pub unique: bool,
    /// The `[[indexes]]` entry.
    pub origin: Origin,
}

/// The column types a field can have.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FieldType {
    /// UTF-8 text.
    Text,
    /// 64-bit signed integer.
    Integer,
    /// 64-bit float.
    Real,
    /// 0 or 1.
    Bool,
    /// A UUID as hyphenated lower-case text.
    Uuid,
    /// Milliseconds since the Unix epoch, UTC.
    Timestamp,
    /// JSON text, checked with `json_valid`.
    Json,
    /// Raw bytes.
    Blob,
}

impl FieldType {
    /// Every type, in documentation order.
    pub const ALL: [FieldType; 8] = [
        FieldType::Text,
        FieldType::Integer,
        FieldType::Real,
        FieldType::Bool,
        FieldType::Uuid,
        FieldType::Timestamp,
        FieldType::Json,
        FieldType::Blob,
    ];

    /// The spelling in specs (`text`, `integer`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            FieldType::Text => "text",
            FieldType::Integer => "integer",
            FieldType::Real => "real",
            FieldType::Bool => "bool",
            FieldType::Uuid => "uuid",
            FieldType::Timestamp => "timestamp",
            FieldType::Json => "json",
            FieldType::Blob => "blob",
        }
    }

    /// Parses the spelling used in specs.
    pub fn parse(s: &str) -> Option<FieldType> {
        FieldType::ALL.into_iter().find(|t| t.as_str() == s)
    }

    /// The SQLite column type (storage class affinity).
    pub fn sql_type(self) -> &'static str {
        match self {
            FieldType::Text | FieldType::Uuid | FieldType::Json => "TEXT",
            FieldType::Integer | FieldType::Bool | FieldType::Timestamp => "INTEGER",
            FieldType::Real => "REAL",
            FieldType::Blob => "BLOB",
        }
    }
}

/// How a conflict between a local change and a server change is resolved.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ConflictStrategy {
    /// The change with the later `updated_at` wins (the default).
    #[default]
    #[serde(rename = "lww")]
    LastWriteWins,
    /// The server's version always wins.
    #[serde(rename = "server_wins")]
    ServerWins,
    /// The local version always wins.
    #[serde(rename = "client_wins")]
    ClientWins,
    /// Each field is merged on its own, by per-field timestamps.
    #[serde(rename = "field_merge")]
    FieldMerge,
    /// The record is marked `conflict` and the app decides.
    #[serde(rename = "manual")]
    Manual,
}

impl ConflictStrategy {
    /// Every strategy, in documentation order.
    pub const ALL: [ConflictStrategy; 5] = [
        ConflictStrategy::LastWriteWins,
        ConflictStrategy::ServerWins,
        ConflictStrategy::ClientWins,
        ConflictStrategy::FieldMerge,
        ConflictStrategy::Manual,
    ];

    /// The spelling in specs.
    pub fn as_str(self) -> &'static str {
        match self {
            ConflictStrategy::LastWriteWins => "lww",
            ConflictStrategy::ServerWins => "server_wins",
            ConflictStrategy::ClientWins => "client_wins",
            ConflictStrategy::FieldMerge => "field_merge",
            ConflictStrategy::Manual => "manual",
        }
    }

    /// Parses the spelling used in specs.
    pub fn parse(s: &str) -> Option<ConflictStrategy> {
        ConflictStrategy::ALL.into_iter().find(|c| c.as_str() == s)
    }

    /// The variant name of the runtime's `ConflictStrategy` enum.
    pub fn runtime_variant(self) -> &'static str {
        match self {
            ConflictStrategy::LastWriteWins => "LastWriteWins",
            ConflictStrategy::ServerWins => "ServerWins",
            ConflictStrategy::ClientWins => "ClientWins",
            ConflictStrategy::FieldMerge => "FieldMerge",
            ConflictStrategy::Manual => "Manual",
        }
    }
}

/// A default value as written in a spec; validation checks it fits the field type.
#[derive(Clone, Debug, PartialEq)]
pub enum DefaultValue {
    /// A string.
    Text(String),
    /// An integer.
    Integer(i64),
    /// A float.
    Real(f64),
    /// A boolean.
    Bool(bool),
    /// An array or table, stored as JSON text (json fields only).
    Json(String),
}

impl DefaultValue {
    /// The name of the value's kind, for messages.
    pub fn kind(&self) -> &'static str {
        match self {
            DefaultValue::Text(_) => "a string",
            DefaultValue::Integer(_) => "an integer",
            DefaultValue::Real(_) => "a float",
            DefaultValue::Bool(_) => "a boolean",
            DefaultValue::Json(_) => "an array or table",
        }
    }
}

/// The physical table of an entity, sync columns included: what SQL is rendered from and what
/// snapshots store.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Table {
    /// Table name.
    pub name: String,
    /// Entity name (singular).
    pub entity: String,
    /// Conflict strategy of the entity.
    pub conflict: ConflictStrategy,
    /// Columns in physical order.
    pub columns: Vec<Column>,
    /// Every index of the table, sync indexes first.
    pub indexes: Vec<Index>,
    /// Kept in the database, dropped from generated code; a later version may drop the table.
    #[serde(default, skip_serializing_if = "is_false")]
    pub deprecated: bool,
    /// For a table adopted from an existing app: the app's table as imported. Its sync columns
    /// are then the `_sync_`-prefixed ones and the app's key stays the primary key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub adopted: Option<Adopted>,
}

impl Table {
    /// Looks a column up by name.
    pub fn column(&self, name: &str) -> Option<&Column> {
        self.columns.iter().find(|c| c.name == name)
    }

    /// The name of the sync column `logical` (`id`, `sync_status`, ...) in this table:
    /// `_sync_<logical>` for an adopted table, `logical` otherwise.
    pub fn sync_column_name(&self, logical: &str) -> String {
        sync_column_name(self.adopted.is_some(), logical)
    }
}

/// The prefix of every sync column of an adopted table (docs/adoption.md).
pub const ADOPTED_SYNC_PREFIX: &str = "_sync_";

/// The name of the sync column `logical` of a table, adopted or not: `_sync_id`,
/// `_sync_status` (not `_sync_sync_status`), `_sync_field_timestamps`.
pub fn sync_column_name(adopted: bool, logical: &str) -> String {
    if adopted {
        let bare = logical.strip_prefix("sync_").unwrap_or(logical);
        format!("{ADOPTED_SYNC_PREFIX}{bare}")
    } else {
        logical.to_owned()
    }
}

/// The runtime's `syncwright::SyncColumns` constant naming the sync columns of a table,
/// adopted or not (what the derive and the build.rs module put in an entity's descriptor).
pub fn sync_columns_const(adopted: bool) -> &'static str {
    if adopted { "ADOPTED" } else { "STANDARD" }
}

/// An adopted table: what the app's table was when it was imported, how its existing rows
/// start, and its references to other adopted tables.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Adopted {
    /// `pending` (each existing row is pushed once) or `synced` (already on the server).
    pub existing_rows: String,
    /// The app's table exactly as imported (the import snapshot's entry).
    pub imported: ImportedTable,
    /// One `_sync_ref_<columns>` column per foreign key to another adopted table.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub references: Vec<SyncReference>,
}

impl Adopted {
    /// An adopted table known only by its spec (the derive, which cannot read the import
    /// snapshot): no app columns, no references.
    pub fn unlinked(table: &str) -> Adopted {
        Adopted {
            existing_rows: "pending".to_owned(),
            imported: ImportedTable {
                name: table.to_owned(),
                columns: Vec::new(),
                primary_key: Vec::new(),
                autoincrement: false,
                without_rowid: false,
                indexes: Vec::new(),
                foreign_keys: Vec::new(),
            },
            references: Vec::new(),
        }
    }

    /// The app's primary key columns (empty: the rowid).
    pub fn key(&self) -> &[String] {
        &self.imported.primary_key
    }
}

/// A foreign key between adopted tables, carried as the referenced row's `_sync_id`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncReference {
    /// The `_sync_ref_<columns>` column holding the referenced row's `_sync_id`.
    pub column: String,
    /// The referencing columns of the app's table.
    pub columns: Vec<String>,
    /// The referenced (adopted) table.
    pub table: String,
    /// The referenced columns (the referenced table's key when the app's key left them out).
    pub to_columns: Vec<String>,
}

impl SyncReference {
    /// The `_sync_ref_<columns>` column of a foreign key over `columns`.
    pub fn column_for(columns: &[String]) -> String {
        format!("{ADOPTED_SYNC_PREFIX}ref_{}", columns.join("_"))
    }
}

/// One table of an existing app's database, exactly as it is (the import snapshot's entry).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportedTable {
    /// The table name, exactly as the app spells it.
    pub name: String,
    /// The columns in table order.
    pub columns: Vec<ImportedColumn>,
    /// The primary key's columns in key order; empty when the table has none (rowid only).
    pub primary_key: Vec<String>,
    /// Whether the key is an `INTEGER PRIMARY KEY AUTOINCREMENT`.
    pub autoincrement: bool,
    /// Whether the table is `WITHOUT ROWID`.
    pub without_rowid: bool,
    /// The explicit indexes and the unique constraints, sorted by name.
    pub indexes: Vec<ImportedIndex>,
    /// The foreign keys, in declaration order.
    pub foreign_keys: Vec<ImportedForeignKey>,
}

impl ImportedTable {
    /// Looks a column up by name, ignoring ASCII case as SQLite does.
    pub fn column(&self, name: &str) -> Option<&ImportedColumn> {
        self.columns
            .iter()
            .find(|c| c.name.eq_ignore_ascii_case(name))
    }
}

/// One existing column.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportedColumn {
    /// The column name, exactly as the app spells it.
    pub name: String,
    /// The declared type, as written in `CREATE TABLE` (may be empty).
    pub declared_type: String,
    /// Whether the column is `NOT NULL` (a primary key column of a rowid table counts as
    /// declared).
    pub not_null: bool,
    /// The `DEFAULT` clause's SQL text, if any.
    #[serde(default)]
    pub default_sql: Option<String>,
}

/// One index, or the index SQLite made for a `UNIQUE` constraint.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportedIndex {
    /// The index name (`sqlite_autoindex_…` for a constraint).
    pub name: String,
    /// The indexed columns, in index order.
    pub columns: Vec<String>,
    /// Whether the index is unique.
    pub unique: bool,
}

/// One foreign key.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportedForeignKey {
    /// The referencing columns of this table.
    pub columns: Vec<String>,
    /// The referenced table.
    pub table: String,
    /// The referenced columns (empty means the referenced table's primary key).
    pub to_columns: Vec<String>,
}

/// Whether a column belongs to sync bookkeeping or to the user's data.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ColumnRole {
    /// One of the sync columns every entity has.
    Sync,
    /// A field the user declared.
    Domain,
}

/// One physical column.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Column {
    /// Column name.
    pub name: String,
    /// Logical type (decides the SQL type and the type check, see `render::ddl`).
    #[serde(rename = "type")]
    pub ty: FieldType,
    /// Sync bookkeeping or user data.
    pub role: ColumnRole,
    /// Whether NULL is allowed.
    pub nullable: bool,
    /// Whether this is the primary key (`id` only).
    #[serde(default, skip_serializing_if = "is_false")]
    pub primary_key: bool,
    /// The DEFAULT clause's SQL (a literal or a parenthesised expression).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_sql: Option<String>,
    /// Extra CHECK beyond the one implied by the type, as SQL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub check_sql: Option<String>,
    /// Referenced table (by its `id`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub references: Option<String>,
    /// The column this one was renamed from (copied by a backfill when added).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub renamed_from: Option<String>,
    /// SQL expression that fills the column when it is added to an existing table.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backfill: Option<String>,
    /// Kept in the database, dropped from generated code.
    #[serde(default, skip_serializing_if = "is_false")]
    pub deprecated: bool,
}

/// One index.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Index {
    /// Deterministic name: `<table>(<col>,<col>)`, see [`crate::resolve::index_name`].
    pub name: String,
    /// Indexed columns in order.
    pub columns: Vec<String>,
    /// Whether the index enforces uniqueness.
    #[serde(default, skip_serializing_if = "is_false")]
    pub unique: bool,
    /// Partial-index predicate (SQL after WHERE).
    #[serde(default, rename = "where", skip_serializing_if = "Option::is_none")]
    pub predicate: Option<String>,
}

fn is_false(b: &bool) -> bool {
    !*b
}
