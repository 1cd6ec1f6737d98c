//! DDL pieces for one table: column definitions and index statements.
//!
//! Templates lay these out; the exact SQL of a column or index is decided here once, so the
//! fresh-install schema and the migrations that add the same column agree byte for byte.

use crate::model::{Column, FieldType, Index, Table};
use crate::render::sql::{ident, ident_list};

/// The definition of a column as it appears in `CREATE TABLE` and `ALTER TABLE ... ADD COLUMN`:
/// name, type, constraints, default, checks, reference.
pub fn column_definition(column: &Column) -> String {
    let mut out = format!("{} {}", ident(&column.name), column.ty.sql_type());
    if column.primary_key {
        out.push_str(" PRIMARY KEY");
    }
    if !column.nullable {
        out.push_str(" NOT NULL");
    }
    if let Some(default) = &column.default_sql {
        out.push_str(" DEFAULT ");
        out.push_str(default);
    }
    for check in checks(column) {
        out.push_str(&format!(" CHECK ({check})"));
    }
    if let Some(table) = &column.references {
        // Deferred, so a transaction may write a child before its parent (pull order is not
        // guaranteed); checked at COMMIT when the connection enforces foreign keys.
        out.push_str(&format!(
            " REFERENCES {} (\"id\") DEFERRABLE INITIALLY DEFERRED",
            ident(table)
        ));
    }
    out
}

/// The CHECK constraints of a column: the one its type implies, then any extra one.
fn checks(column: &Column) -> Vec<String> {
    let name = ident(&column.name);
    let mut out = Vec::new();
    match column.ty {
        FieldType::Bool => out.push(format!("{name} IN (0, 1)")),
        FieldType::Json => out.push(format!("json_valid({name})")),
        _ => {}
    }
    out.extend(column.check_sql.iter().cloned());
    out
}

/// A short comment describing a column for readers of the SQL.
pub fn column_comment(column: &Column) -> String {
    use crate::model::ColumnRole;
    match (column.role, column.name.as_str()) {
        (ColumnRole::Sync, "id") => "sync: client-generated UUID".to_string(),
        (ColumnRole::Sync, "server_id") => "sync: id assigned by the server".to_string(),
        (ColumnRole::Sync, "created_at") => "sync: epoch ms, UTC".to_string(),
        (ColumnRole::Sync, "updated_at") => {
            "sync: epoch ms of the last local or pulled change".to_string()
        }
        (ColumnRole::Sync, "synced_at") => "sync: epoch ms of the last successful sync".to_string(),
        (ColumnRole::Sync, "is_deleted") => "sync: tombstone (soft delete)".to_string(),
        (ColumnRole::Sync, "version") => "sync: bumped on every local write".to_string(),
        (ColumnRole::Sync, "sync_status") => {
            "sync: synced | pending | conflict | error".to_string()
        }
        (ColumnRole::Sync, _) => "sync: per-field change times (JSON, epoch ms)".to_string(),
        (ColumnRole::Domain, _) => {
            let mut s = format!("field `{}`: {}", column.name, column.ty.as_str());
            if column.ty == FieldType::Timestamp {
                s.push_str(" (epoch ms, UTC)");
            }
            if column.deprecated {
                s.push_str(", deprecated");
            }
            s
        }
    }
}

/// `CREATE [UNIQUE] INDEX IF NOT EXISTS ...;` for an index of `table`.
pub fn create_index(table: &str, index: &Index) -> String {
    let unique = if index.unique { "UNIQUE " } else { "" };
    let predicate = index
        .predicate
        .as_ref()
        .map(|p| format!(" WHERE {p}"))
        .unwrap_or_default();
    format!(
        "CREATE {unique}INDEX IF NOT EXISTS {} ON {} ({}){predicate};",
        ident(&index.name),
        ident(table),
        ident_list(&index.columns)
    )
}

/// `DROP INDEX IF EXISTS ...;`
pub fn drop_index(index: &Index) -> String {
    format!("DROP INDEX IF EXISTS {};", ident(&index.name))
}

/// Comments start at this column at most, so one long default does not push every comment off
/// the screen.
const COMMENT_COLUMN_MAX: usize = 64;

/// The lines inside `CREATE TABLE (...)`: one per column, names aligned, commas placed,
/// comments aligned.
pub fn column_lines(table: &Table) -> Vec<String> {
    let name_width = table
        .columns
        .iter()
        .map(|c| ident(&c.name).len())
        .max()
        .unwrap_or(0);
    let definitions: Vec<String> = table
        .columns
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let comma = if i + 1 < table.columns.len() { "," } else { "" };
            let definition = column_definition(c);
            let name = ident(&c.name);
            let rest = &definition[name.len()..];
            format!("{name:<name_width$}{rest}{comma}")
        })
        .collect();
    let width = definitions
        .iter()
        .map(String::len)
        .filter(|len| *len <= COMMENT_COLUMN_MAX)
        .max()
        .unwrap_or(0);
    definitions
        .iter()
        .zip(&table.columns)
        .map(|(definition, column)| format!("{definition:<width$}  -- {}", column_comment(column)))
        .collect()
}
