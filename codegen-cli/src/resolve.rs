//! Resolution: turns a validated [`Entity`] into its physical [`Table`], adding the sync
//! columns and the indexes sync needs.
//!
//! This is the only place that knows which columns and indexes sync adds; rendering, planning,
//! snapshots and the derive's static description all read the resulting [`Table`].

use crate::model::{
    ADOPTED_SYNC_PREFIX, Adopted, Column, ColumnRole, ConflictStrategy, DefaultValue, Entity,
    Field, FieldType, Index, IndexSpec, Table, sync_column_name,
};
use crate::render::sql;
use crate::symbol::{FIELD_TIMESTAMPS, SYNC_COLUMNS};

/// SQL for "now" in epoch milliseconds; works on every SQLite since 3.0 (no `unixepoch`).
pub const NOW_MS_SQL: &str = "(CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER))";

/// The values `sync_status` may take.
pub const SYNC_STATUSES: [&str; 4] = ["synced", "pending", "conflict", "error"];

/// The physical table of `entity`: sync columns first, then the fields in declaration order
/// (for an adopted entity, see [`adopted_table`]).
pub fn table(entity: &Entity) -> Table {
    if let Some(adopted) = &entity.adoption {
        return adopted_table(entity, adopted);
    }
    if entity.is_adopted() {
        // The derive sees one struct, not the import snapshot: the sync columns and their
        // indexes are known, the app's own columns and references are the generator's.
        return adopted_table(entity, &Adopted::unlinked(&entity.table.value));
    }
    let name = entity.table.value.clone();
    let mut columns = sync_columns(entity.conflict.value);
    columns.extend(entity.fields.iter().map(domain_column));
    let mut indexes = sync_indexes(&name);
    push_field_indexes(&mut indexes, &name, entity, |_| true);
    for spec in &entity.indexes {
        let columns = spec.columns.iter().map(|c| c.value.clone()).collect();
        push_index(&mut indexes, &name, columns, spec.unique);
    }
    Table {
        name,
        entity: entity.name.value.clone(),
        conflict: entity.conflict.value,
        columns,
        indexes,
        deprecated: entity.is_deprecated(),
        adopted: None,
    }
}

/// The column of a domain field.
fn domain_column(field: &Field) -> Column {
    Column {
        name: field.name.value.clone(),
        ty: field.ty.value,
        role: ColumnRole::Domain,
        nullable: field.nullable,
        primary_key: false,
        default_sql: field
            .default
            .as_ref()
            .map(|d| default_sql(&d.value, field.ty.value)),
        check_sql: None,
        references: field.references.as_ref().map(|r| r.value.clone()),
        renamed_from: field.renamed_from.as_ref().map(|r| r.value.clone()),
        backfill: field.backfill.as_ref().map(|b| b.value.clone()),
        deprecated: field.is_deprecated(),
    }
}

/// The physical table of an adopted entity, in the order its columns have in the app's
/// databases once adopted: the app's columns (its key stays the primary key), the
/// `_sync_`-prefixed sync columns, one `_sync_ref_` column per reference to another adopted
/// table, then fields added by later releases.
///
/// Indexes: the sync indexes under the adoption's names (`<table>__sync_id`, ...), one per
/// `_sync_ref_` column, and the indexes later releases declare. The app's own indexes stay
/// the app's: `index`/`unique`/`references` on a field the app already has describe them
/// and add nothing.
pub fn adopted_table(entity: &Entity, adopted: &Adopted) -> Table {
    let name = entity.table.value.clone();
    let imported = &adopted.imported;
    let is_app = |column: &str| imported.column(column).is_some();
    let mut columns: Vec<Column> = entity
        .fields
        .iter()
        .filter(|f| is_app(&f.name.value))
        .map(|field| Column {
            primary_key: imported.primary_key.len() == 1
                && imported.primary_key[0].eq_ignore_ascii_case(&field.name.value),
            ..domain_column(field)
        })
        .collect();
    columns.extend(adopted_sync_columns(entity.conflict.value));
    columns.extend(adopted.references.iter().map(|r| Column {
        name: r.column.clone(),
        ty: FieldType::Uuid,
        ..sync_column("server_id")
    }));
    columns.extend(
        entity
            .fields
            .iter()
            .filter(|f| !is_app(&f.name.value))
            .map(domain_column),
    );
    let one = |suffix: &str, column: &str, unique: bool| Index {
        name: format!("{name}_{ADOPTED_SYNC_PREFIX}{suffix}"),
        columns: vec![column.to_owned()],
        unique,
        predicate: None,
    };
    let mut indexes = vec![
        one("id", "_sync_id", true),
        one("server_id", "_sync_server_id", true),
        one("status", "_sync_status", false),
        one("updated_at", "_sync_updated_at", false),
    ];
    for reference in &adopted.references {
        indexes.push(Index {
            name: format!("{name}_{}", reference.column),
            columns: vec![reference.column.clone()],
            unique: false,
            predicate: None,
        });
    }
    let app_index = |columns: &[String], unique: bool| {
        imported
            .indexes
            .iter()
            .any(|i| i.unique == unique && i.columns == columns)
            || (unique && imported.primary_key == columns)
    };
    push_field_indexes(&mut indexes, &name, entity, |f| !is_app(&f.name.value));
    for spec in &entity.indexes {
        let columns: Vec<String> = spec.columns.iter().map(|c| c.value.clone()).collect();
        if !app_index(&columns, spec.unique) {
            push_index(&mut indexes, &name, columns, spec.unique);
        }
    }
    Table {
        name,
        entity: entity.name.value.clone(),
        conflict: entity.conflict.value,
        columns,
        indexes,
        deprecated: entity.is_deprecated(),
        adopted: Some(adopted.clone()),
    }
}

/// Whether `field` gets an index on its column alone.
///
/// `index` and `unique` ask for one, and it is the user's. A `references` needs one for
/// SQLite's foreign-key checks (deleting a parent looks its children up by the child key) and
/// for loading a parent's children, unless a declared index of the table starts with the
/// column: SQLite uses any index whose leftmost column is the child key, so a second index
/// would only cost space and a write per row. The TOML specs and the derive both resolve
/// here, so they agree on it.
fn has_own_index(field: &Field, declared: &[IndexSpec]) -> bool {
    let covered = || {
        declared.iter().any(|spec| {
            spec.columns
                .first()
                .is_some_and(|c| c.value == field.name.value)
        })
    };
    field.is_indexed() || field.is_unique() || (field.references.is_some() && !covered())
}

/// The sync columns of an adopted table: the same definitions, `_sync_`-prefixed, as columns
/// `ALTER TABLE ... ADD COLUMN` can add to a table full of rows: `_sync_id` stays nullable
/// (the adoption fills it, a trigger fills the rows the app's own code inserts) and the
/// timestamps default to 0 (an added column's default must be a constant).
pub fn adopted_sync_columns(conflict: ConflictStrategy) -> Vec<Column> {
    sync_columns(conflict)
        .into_iter()
        .map(|column| {
            let constant_default = match column.name.as_str() {
                "created_at" | "updated_at" => Some("0".to_owned()),
                _ => column.default_sql.clone(),
            };
            let name = sync_column_name(true, &column.name);
            Column {
                check_sql: column
                    .check_sql
                    .as_ref()
                    .map(|check| check.replacen(&sql::ident(&column.name), &sql::ident(&name), 1)),
                name,
                nullable: column.nullable || column.name == "id",
                primary_key: false,
                default_sql: constant_default,
                ..column
            }
        })
        .collect()
}

/// What the partial sync index on `sync_status` holds, in its name.
const UNSYNCED: &str = "unsynced";

/// The deterministic name of an index of `table` over `columns`: `tasks(project_id,priority)`,
/// `unique tasks(server_id)`, and the partial sync index `tasks(sync_status) where unsynced`.
///
/// Computed from one table alone (the derive sees one struct at a time) and injective: the
/// parentheses, the comma and the space cannot occur in an identifier, so `a.b_c` and `a_b.c`,
/// or `["a", "b"]` and `["a_b"]`, never share a name, and unique and plain indexes differ.
/// Index and table names share one namespace in SQLite, ignoring case; an index name always
/// holds a `(`, a table name never does, and none starts with the reserved `sqlite_`.
///
/// ```
/// use syncwright_codegen::resolve::index_name;
/// let columns = |c: &[&str]| c.iter().map(|c| c.to_string()).collect::<Vec<_>>();
/// assert_eq!(index_name("a", &columns(&["b_c"]), false, None), "a(b_c)");
/// assert_eq!(index_name("a_b", &columns(&["c"]), false, None), "a_b(c)");
/// assert_eq!(index_name("t", &columns(&["a", "b"]), true, None), "unique t(a,b)");
/// ```
pub fn index_name(table: &str, columns: &[String], unique: bool, partial: Option<&str>) -> String {
    let unique = if unique { "unique " } else { "" };
    let partial = partial.map(|p| format!(" where {p}")).unwrap_or_default();
    format!("{unique}{table}({}){partial}", columns.join(","))
}

/// Adds the index over `columns` to `indexes`; the same columns declared twice (say
/// `index = true` and a one-column `[[indexes]]`) make one index, unique if either asked for
/// it.
/// Adds the own index of every live field of `entity` that `wanted` keeps and that needs one
/// ([`has_own_index`]).
fn push_field_indexes(
    indexes: &mut Vec<Index>,
    table: &str,
    entity: &Entity,
    wanted: impl Fn(&Field) -> bool,
) {
    for field in entity
        .fields
        .iter()
        .filter(|f| !f.is_deprecated() && wanted(f))
    {
        if has_own_index(field, &entity.indexes) {
            push_index(
                indexes,
                table,
                vec![field.name.value.clone()],
                field.is_unique(),
            );
        }
    }
}

fn push_index(indexes: &mut Vec<Index>, table: &str, columns: Vec<String>, unique: bool) {
    match indexes.iter_mut().find(|i| i.columns == columns) {
        Some(existing) => {
            existing.unique |= unique;
            existing.name = index_name(table, &columns, existing.unique, partial_label(existing));
        }
        None => indexes.push(Index {
            name: index_name(table, &columns, unique, None),
            columns,
            unique,
            predicate: None,
        }),
    }
}

/// The name part of a partial index's predicate (only the sync index on `sync_status` has one).
fn partial_label(index: &Index) -> Option<&'static str> {
    index.predicate.as_ref().map(|_| UNSYNCED)
}

/// The sync columns, in table order: the names and order of [`SYNC_COLUMNS`] (the one list,
/// which also reserves them as field names), `field_timestamps` only for `field_merge`.
pub fn sync_columns(conflict: ConflictStrategy) -> Vec<Column> {
    SYNC_COLUMNS
        .iter()
        .filter(|name| **name != FIELD_TIMESTAMPS || conflict == ConflictStrategy::FieldMerge)
        .map(|name| sync_column(name))
        .collect()
}

/// Everything about one sync column but its name and place (docs/contracts.md).
fn sync_column(name: &str) -> Column {
    let (ty, nullable, default_sql) = match name {
        "id" => (FieldType::Uuid, false, None),
        "server_id" => (FieldType::Text, true, None),
        "created_at" | "updated_at" => (FieldType::Timestamp, false, Some(NOW_MS_SQL)),
        "synced_at" => (FieldType::Timestamp, true, None),
        "is_deleted" => (FieldType::Bool, false, Some("0")),
        "version" => (FieldType::Integer, false, Some("1")),
        "sync_status" => (FieldType::Text, false, Some("'pending'")),
        FIELD_TIMESTAMPS => (FieldType::Json, false, Some("'{}'")),
        other => unreachable!("sync column `{other}` of `symbol::SYNC_COLUMNS` has no definition"),
    };
    let check_sql = (name == "sync_status").then(|| {
        let statuses = SYNC_STATUSES.map(sql::string_literal).join(", ");
        format!("{} IN ({statuses})", sql::ident(name))
    });
    Column {
        name: name.to_string(),
        ty,
        role: ColumnRole::Sync,
        nullable,
        primary_key: name == "id",
        default_sql: default_sql.map(str::to_string),
        check_sql,
        references: None,
        renamed_from: None,
        backfill: None,
        deprecated: false,
    }
}

/// The indexes sync reads by: pending rows for the push queue (partial, so it only holds rows
/// still to sync), change order for incremental pulls, tombstones for purge, and the server id
/// for matching pulled rows.
pub fn sync_indexes(table: &str) -> Vec<Index> {
    let one = |column: &str, unique: bool, predicate: Option<String>| {
        let columns = vec![column.to_string()];
        let partial = predicate.as_ref().map(|_| UNSYNCED);
        Index {
            name: index_name(table, &columns, unique, partial),
            columns,
            unique,
            predicate,
        }
    };
    vec![
        one("server_id", true, None),
        one(
            "sync_status",
            false,
            Some(format!("{} <> 'synced'", sql::ident("sync_status"))),
        ),
        one("updated_at", false, None),
        one("is_deleted", false, None),
    ]
}

/// The SQL literal of a default value for a column of type `ty` (validated to fit).
///
/// A line break in text stays inside the quoted literal (SQLite reads it as part of the
/// string), always as LF: a CRLF in the spec is the file's line ending, not data, and migration
/// checksums treat CRLF and LF alike.
pub fn default_sql(value: &DefaultValue, ty: FieldType) -> String {
    let text = |s: &str| s.replace("\r\n", "\n");
    if ty == FieldType::Json {
        let json = match value {
            DefaultValue::Text(s) | DefaultValue::Json(s) => text(s),
            DefaultValue::Integer(i) => i.to_string(),
            DefaultValue::Real(f) => format!("{f:?}"),
            DefaultValue::Bool(b) => b.to_string(),
        };
        return sql::string_literal(&json);
    }
    match value {
        DefaultValue::Text(s) | DefaultValue::Json(s) => sql::string_literal(&text(s)),
        DefaultValue::Integer(i) if ty == FieldType::Real => format!("{:?}", *i as f64),
        DefaultValue::Integer(i) => i.to_string(),
        DefaultValue::Real(f) => format!("{f:?}"),
        DefaultValue::Bool(b) => u8::from(*b).to_string(),
    }
}

/// Every table of `schema`, referenced tables before the tables that reference them (ties keep
/// spec order), so the SQL reads top-down from parents to children.
pub fn tables(schema: &crate::model::Schema) -> Vec<Table> {
    order_by_references(schema.entities.iter().map(table).collect())
}

/// Stable topological order by `references`; a reference cycle keeps the remaining tables in
/// their given order (SQLite accepts forward references, so the SQL stays valid).
pub fn order_by_references(mut pending: Vec<Table>) -> Vec<Table> {
    let mut ordered: Vec<Table> = Vec::with_capacity(pending.len());
    while !pending.is_empty() {
        let ready = pending.iter().position(|table| {
            table
                .columns
                .iter()
                .filter_map(|c| c.references.as_deref())
                .all(|target| {
                    target == table.name || !pending.iter().any(|other| other.name == target)
                })
        });
        ordered.push(pending.remove(ready.unwrap_or(0)));
    }
    ordered
}
