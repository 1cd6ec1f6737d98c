//! The SQL of adopted tables: the app's table as imported (to rehearse on, and for a fresh
//! install), and the adoption itself, rendered from the model's [`Table`] and its
//! [`Adopted`](crate::model::Adopted) part.
//!
//! # Identity of adopted tables
//!
//! The app's own key stays the table's primary key, and nothing of the app's is renamed or
//! dropped, so every existing `SELECT`, `INSERT` and join keeps working. The sync columns are
//! added next to the app's columns with a `_sync_` prefix (`_sync_id`, `_sync_server_id`, ...):
//! apps commonly have their own `id`, `version` or `created_at` columns, and the `_sync`
//! prefix is already syncwright's.
//!
//! - `_sync_id` is the row's client UUID (v4, lower-case, hyphenated): added, backfilled for
//!   every existing row, and unique.
//! - A foreign key between adopted tables gets a `_sync_ref_<columns>` UUID column, backfilled
//!   from the referenced row's `_sync_id`, so the server can link rows without the app's local
//!   keys (an autoincrement key means nothing on another device).
//! - Existing rows start `pending` (each is pushed once) or `synced` (already on the server,
//!   `_sync_synced_at` set), by the flag chosen at import. Rows inserted later by the app's own
//!   old code get their UUID and timestamps from an `AFTER INSERT` trigger and start
//!   `pending`; `_sync_ref_` columns follow every insert and every change of the reference.

use std::fmt::Write as _;

use super::ddl;
use super::sql::{ident, ident_list};
use crate::model::{ImportedTable, SyncReference, Table};

/// A new v4 UUID as one SQL expression (SQLite has no UUID function).
pub const UUID_SQL: &str = "lower(hex(randomblob(4)) || '-' || hex(randomblob(2)) || '-4' || \
     substr(hex(randomblob(2)), 2) || '-' || substr('89ab', 1 + (abs(random()) % 4), 1) || \
     substr(hex(randomblob(2)), 2) || '-' || hex(randomblob(6)))";

/// The current time in epoch milliseconds as one SQL expression.
pub const NOW_MS_SQL: &str = "CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER)";

/// Whether an index of the import snapshot can be created again from its columns: SQLite names
/// the indexes of `UNIQUE` constraints itself, and expression terms have no column name.
fn recreatable(name: &str, columns: &[String]) -> bool {
    !name.starts_with("sqlite_") && !columns.iter().any(|c| c == "<expression>")
}

/// The app's table exactly as the import snapshot has it: `CREATE TABLE IF NOT EXISTS` with
/// its declared types, `NOT NULL`, defaults, key, unique constraints and foreign keys, then its
/// indexes. What rehearsals adopt, and what a fresh install starts from.
pub fn imported_table_sql(table: &ImportedTable) -> Vec<String> {
    let single_key = (table.primary_key.len() == 1).then(|| &table.primary_key[0]);
    let mut lines: Vec<String> = table
        .columns
        .iter()
        .map(|c| {
            let mut line = ident(&c.name);
            if !c.declared_type.is_empty() {
                let _ = write!(line, " {}", c.declared_type);
            }
            if single_key == Some(&c.name) {
                line.push_str(" PRIMARY KEY");
                if table.autoincrement {
                    line.push_str(" AUTOINCREMENT");
                }
            }
            if c.not_null {
                line.push_str(" NOT NULL");
            }
            if let Some(default) = &c.default_sql {
                let _ = write!(line, " DEFAULT {default}");
            }
            line
        })
        .collect();
    if table.primary_key.len() > 1 {
        lines.push(format!("PRIMARY KEY ({})", ident_list(&table.primary_key)));
    }
    for index in &table.indexes {
        if index.unique && index.name.starts_with("sqlite_autoindex_") {
            lines.push(format!("UNIQUE ({})", ident_list(&index.columns)));
        }
    }
    for fk in &table.foreign_keys {
        let to = if fk.to_columns.is_empty() {
            String::new()
        } else {
            format!(" ({})", ident_list(&fk.to_columns))
        };
        lines.push(format!(
            "FOREIGN KEY ({}) REFERENCES {}{to}",
            ident_list(&fk.columns),
            ident(&fk.table)
        ));
    }
    let rowid = if table.without_rowid {
        " WITHOUT ROWID"
    } else {
        ""
    };
    let mut out = vec![format!(
        "CREATE TABLE IF NOT EXISTS {} (\n    {}\n){rowid};",
        ident(&table.name),
        lines.join(",\n    ")
    )];
    for index in table
        .indexes
        .iter()
        .filter(|i| recreatable(&i.name, &i.columns))
    {
        out.push(format!(
            "CREATE {}INDEX IF NOT EXISTS {} ON {} ({});",
            if index.unique { "UNIQUE " } else { "" },
            ident(&index.name),
            ident(&table.name),
            ident_list(&index.columns)
        ));
    }
    out
}

/// The adoption of `table` (its `adopted` set): every column the app's table does not have,
/// in table order, added; the sync identity of existing rows filled in; the indexes; and the
/// trigger for rows the app's own code inserts. Repeatable after a partial run: added columns
/// are skipped by the runner, the fill only touches rows without a `_sync_id`, indexes and
/// triggers use `IF NOT EXISTS`.
pub fn adopt_sql(table: &Table) -> Vec<String> {
    let Some(adopted) = &table.adopted else {
        return Vec::new();
    };
    let q = ident(&table.name);
    let mut out: Vec<String> = table
        .columns
        .iter()
        .filter(|c| adopted.imported.column(&c.name).is_none())
        .map(|c| format!("ALTER TABLE {q} ADD COLUMN {};", ddl::column_definition(c)))
        .collect();
    let synced_at = match adopted.existing_rows.as_str() {
        "synced" => format!(", \"_sync_synced_at\" = {NOW_MS_SQL}"),
        _ => String::new(),
    };
    out.push(format!(
        "UPDATE {q} SET \"_sync_id\" = {UUID_SQL}, \"_sync_created_at\" = {NOW_MS_SQL}, \
         \"_sync_updated_at\" = {NOW_MS_SQL}, \"_sync_status\" = '{}'{synced_at} \
         WHERE \"_sync_id\" IS NULL;",
        adopted.existing_rows
    ));
    out.extend(
        table
            .indexes
            .iter()
            .map(|index| ddl::create_index(&table.name, index)),
    );
    out.push(format!(
        "CREATE TRIGGER IF NOT EXISTS {} AFTER INSERT ON {q} WHEN NEW.\"_sync_id\" IS NULL BEGIN\n  \
         UPDATE {q} SET \"_sync_id\" = {UUID_SQL}, \"_sync_created_at\" = {NOW_MS_SQL}, \
         \"_sync_updated_at\" = {NOW_MS_SQL} WHERE {};\nEND;",
        ident(&format!("{}__sync_adopt_insert", table.name)),
        new_row(&adopted.imported)
    ));
    out
}

/// The `_sync_ref_` columns of `table` filled from the referenced rows' `_sync_id` (every
/// adopted table has its `_sync_id`s by then), and the triggers that keep them right when a
/// row is inserted or its reference changed, by the app's own code or the store.
pub fn link_sql(table: &Table) -> Vec<String> {
    let Some(adopted) = table.adopted.as_ref().filter(|a| !a.references.is_empty()) else {
        return Vec::new();
    };
    let q = ident(&table.name);
    let mut out = Vec::new();
    for reference in &adopted.references {
        out.push(format!(
            "UPDATE {q} SET {} = {};",
            ident(&reference.column),
            referenced_id(reference, &q)
        ));
    }
    let sets: Vec<String> = adopted
        .references
        .iter()
        .map(|r| format!("{} = {}", ident(&r.column), referenced_id(r, "NEW")))
        .collect();
    let row = new_row(&adopted.imported);
    out.push(format!(
        "CREATE TRIGGER IF NOT EXISTS {} AFTER INSERT ON {q} BEGIN\n  UPDATE {q} SET {} WHERE {row};\nEND;",
        ident(&format!("{}__sync_ref_insert", table.name)),
        sets.join(", ")
    ));
    for (reference, set) in adopted.references.iter().zip(&sets) {
        out.push(format!(
            "CREATE TRIGGER IF NOT EXISTS {} AFTER UPDATE OF {} ON {q} BEGIN\n  UPDATE {q} SET {set} WHERE {row};\nEND;",
            ident(&format!("{}_{}_update", table.name, reference.column)),
            ident_list(&reference.columns)
        ));
    }
    out
}

/// The `_sync_id` of the row `reference` points at from the row named `from` (`NEW` or the
/// quoted table), as a subquery.
fn referenced_id(reference: &SyncReference, from: &str) -> String {
    let matches: Vec<String> = reference
        .columns
        .iter()
        .zip(&reference.to_columns)
        .map(|(c, t)| format!("target_row.{} = {from}.{}", ident(t), ident(c)))
        .collect();
    format!(
        "(SELECT target_row.\"_sync_id\" FROM {} AS target_row WHERE {})",
        ident(&reference.table),
        matches.join(" AND ")
    )
}

/// The row a trigger on `table` just wrote: by rowid, or by key when there is none.
fn new_row(table: &ImportedTable) -> String {
    if table.without_rowid {
        table
            .primary_key
            .iter()
            .map(|c| format!("{} = NEW.{}", ident(c), ident(c)))
            .collect::<Vec<_>>()
            .join(" AND ")
    } else {
        "rowid = NEW.rowid".to_owned()
    }
}
