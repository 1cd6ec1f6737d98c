//! Every key of the spec formats, named once (serde_derive's `internals/symbol.rs`).
//!
//! The TOML parser and the Rust attribute parser use the same constants, so the two front ends
//! accept exactly the same keys and report them with the same words.

/// `[entity]` in an entity spec.
pub const ENTITY: &str = "entity";
/// `[fields]` in an entity spec.
pub const FIELDS: &str = "fields";
/// `[[indexes]]` in an entity spec.
pub const INDEXES: &str = "indexes";

/// Entity keys.
pub const NAME: &str = "name";
/// Entity key: table name.
pub const TABLE: &str = "table";
/// Entity key: conflict strategy.
pub const CONFLICT: &str = "conflict";
/// Every key allowed in `[entity]` (`deprecated` as on fields; `adopted`, written by
/// `syncwright import`, marks a table that exists in the app's databases).
pub const ENTITY_KEYS: &[&str] = &[NAME, TABLE, CONFLICT, DEPRECATED, ADOPTED];
/// Every top-level table of an entity spec.
pub const TOP_LEVEL_KEYS: &[&str] = &[ENTITY, FIELDS, INDEXES];

/// Field key: column type.
pub const TYPE: &str = "type";
/// Field key: NULL allowed.
pub const NULLABLE: &str = "nullable";
/// Field key: default value.
pub const DEFAULT: &str = "default";
/// Field key: own index.
pub const INDEX: &str = "index";
/// Field (and index) key: uniqueness.
pub const UNIQUE: &str = "unique";
/// Field key: referenced table.
pub const REFERENCES: &str = "references";
/// Field key: the column this one replaces.
pub const RENAMED_FROM: &str = "renamed_from";
/// Field key: SQL expression filling a new column.
pub const BACKFILL: &str = "backfill";
/// Field key: kept in the database, dropped from code.
pub const DEPRECATED: &str = "deprecated";
/// Every key allowed on a field.
pub const FIELD_KEYS: &[&str] = &[
    TYPE,
    NULLABLE,
    DEFAULT,
    INDEX,
    UNIQUE,
    REFERENCES,
    RENAMED_FROM,
    BACKFILL,
    DEPRECATED,
];

/// Rust field key: shorthand for `type = "json"` (any serde type, stored as JSON text).
pub const JSON: &str = "json";
/// The attribute holding every key in Rust sources: `#[syncwright(...)]`.
pub const ATTRIBUTE: &str = "syncwright";
/// The derive that marks a struct as an entity, how the source front end finds entities.
pub const DERIVE: &str = "Syncable";
/// Every key allowed in a struct's `#[syncwright(...)]`: the `[entity]` keys, plus one
/// `index(columns = [...], unique)` per `[[indexes]]` entry.
pub const RUST_ENTITY_KEYS: &[&str] = &[NAME, TABLE, CONFLICT, DEPRECATED, INDEX, ADOPTED];
/// Every key allowed in a field's `#[syncwright(...)]`: the TOML field keys except `nullable`
/// (a Rust field is nullable when its type is `Option<T>`), plus `json`. `type` overrides the
/// column type inferred from the Rust type.
pub const RUST_FIELD_KEYS: &[&str] = &[
    TYPE,
    JSON,
    DEFAULT,
    INDEX,
    UNIQUE,
    REFERENCES,
    RENAMED_FROM,
    BACKFILL,
    DEPRECATED,
];

/// Index key: indexed columns.
pub const COLUMNS: &str = "columns";
/// Every key allowed in `[[indexes]]`.
pub const INDEX_KEYS: &[&str] = &[COLUMNS, UNIQUE];

/// `syncwright.toml`: `[schema]`.
pub const SCHEMA: &str = "schema";
/// `syncwright.toml`: `[output]`.
pub const OUTPUT: &str = "output";
/// `[schema]` key: current version.
pub const VERSION: &str = "version";
/// `[schema]` key: entity spec globs.
pub const ENTITIES: &str = "entities";
/// `[schema]` key: Rust source globs with `#[derive(Syncable)]` structs.
pub const SOURCES: &str = "sources";
/// `[schema]` key: snapshot directory.
pub const HISTORY: &str = "history";
/// `[schema]` key: let paths and globs point outside the project folder.
pub const ALLOW_OUTSIDE_PROJECT: &str = "allow_outside_project";
/// `[output]` key: migrations directory.
pub const MIGRATIONS: &str = "migrations";
/// `[output]` key: directory for generated Rust structs.
pub const RUST: &str = "rust";
/// Every key allowed in `[schema]`.
pub const SCHEMA_KEYS: &[&str] = &[VERSION, ENTITIES, SOURCES, HISTORY, ALLOW_OUTSIDE_PROJECT];
/// Every key allowed in `[output]`.
pub const OUTPUT_KEYS: &[&str] = &[MIGRATIONS, RUST];
/// Every top-level table of `syncwright.toml`.
pub const PROJECT_KEYS: &[&str] = &[SCHEMA, OUTPUT, ADOPTED];
/// `[adopted]` in `syncwright.toml`: the project adopts an existing app's tables
/// (`syncwright import` writes it); also the `[entity]` key `adopted = true` of each adopted
/// table's spec.
pub const ADOPTED: &str = "adopted";
/// `[adopted]` key: the file or export the schema was imported from (for people).
pub const FROM: &str = "from";
/// `[adopted]` key: the import snapshot, `schema/import.json`.
pub const SNAPSHOT: &str = "snapshot";
/// `[adopted]` key: how existing rows start, `pending` or `synced`.
pub const EXISTING_ROWS: &str = "existing_rows";
/// Keys of `[adopted]`.
pub const ADOPTED_KEYS: &[&str] = &[FROM, SNAPSHOT, EXISTING_ROWS];
/// The values `[adopted] existing_rows` may take.
pub const EXISTING_ROWS_VALUES: &[&str] = &["pending", "synced"];

/// The sync columns every entity gets, in table order (`field_timestamps` only for
/// `field_merge` entities); user fields may not use these names. The one list:
/// [`crate::resolve::sync_columns`] defines each of them in this order.
pub const SYNC_COLUMNS: &[&str] = &[
    "id",
    "server_id",
    "created_at",
    "updated_at",
    "synced_at",
    "is_deleted",
    "version",
    "sync_status",
    FIELD_TIMESTAMPS,
];
/// Per-field timestamps column of `field_merge` entities.
pub const FIELD_TIMESTAMPS: &str = "field_timestamps";
