//! DDL pieces for one table: column definitions, index statements and the triggers that check
//! the values of typed fields.
//!
//! Templates lay these out; the exact SQL of a column, index or trigger is decided here once,
//! so the fresh-install schema and the migrations that add the same column agree byte for byte.
//!
//! A field's type check (`bool` is 0 or 1, `json` is valid JSON) is a pair of triggers, not a
//! `CHECK`: SQLite verifies every row of the table when `ALTER TABLE ... ADD COLUMN` adds a
//! column that carries a `CHECK` (issue 13: 186x slower on a million rows than on a thousand),
//! while creating a trigger reads no row. Each column has its own triggers, so adding a column
//! adds its triggers and touches nothing else, and dropping one drops only its own. The sync
//! columns keep their `CHECK`s: they are created with the table and never added later.

use crate::model::{Column, ColumnRole, FieldType, Index, Table};
use crate::render::sql::{ident, ident_list, string_literal};

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

/// The CHECK constraints of a column: for a sync column the one its type implies, then any
/// extra one. A field's type is checked by triggers instead ([`type_triggers`]).
fn checks(column: &Column) -> Vec<String> {
    let name = ident(&column.name);
    let mut out = Vec::new();
    if column.role == ColumnRole::Sync {
        match column.ty {
            FieldType::Bool => out.push(format!("{name} IN (0, 1)")),
            FieldType::Json => out.push(format!("json_valid({name})")),
            _ => {}
        }
    }
    out.extend(column.check_sql.iter().cloned());
    out
}

/// A write a type-check trigger runs before.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TriggerEvent {
    /// `INSERT` of a row.
    Insert,
    /// `UPDATE` that sets the column.
    Update,
}

impl TriggerEvent {
    /// Both events, in the order their triggers are created.
    pub const ALL: [TriggerEvent; 2] = [TriggerEvent::Insert, TriggerEvent::Update];

    /// The spelling in trigger names: `insert`, `update`.
    pub fn as_str(self) -> &'static str {
        match self {
            TriggerEvent::Insert => "insert",
            TriggerEvent::Update => "update",
        }
    }
}

/// What a field's type demands of its values: the condition on `NEW.<column>` that breaks it,
/// and what the error says. `None` for a sync column (checked by its `CHECK`) and for types
/// SQLite's storage already keeps to. A NULL never breaks a type check; `NOT NULL` is the
/// column's own constraint.
fn type_rule(column: &Column) -> Option<(String, &'static str)> {
    if column.role != ColumnRole::Domain {
        return None;
    }
    let new = format!("NEW.{}", ident(&column.name));
    match column.ty {
        FieldType::Bool => Some((format!("{new} NOT IN (0, 1)"), "must be 0 or 1")),
        FieldType::Json => Some((format!("NOT json_valid({new})"), "must be valid JSON")),
        _ => None,
    }
}

/// The deterministic name of the trigger checking `column` of `table` on `event`:
/// `tasks.done is bool on insert`.
///
/// Injective and computed from the table alone, like [`crate::resolve::index_name`]: the `.`
/// and the spaces cannot occur in an identifier, so `a.b_c` and `a_b.c` never share a name; a
/// trigger name never holds a `(` (every index name does) and always a space (no table name
/// does), so the three kinds of names never collide in SQLite's one namespace.
///
/// ```
/// use syncwright_codegen::model::FieldType;
/// use syncwright_codegen::render::ddl::{TriggerEvent, trigger_name};
/// assert_eq!(
///     trigger_name("tasks", "done", FieldType::Bool, TriggerEvent::Insert),
///     "tasks.done is bool on insert"
/// );
/// ```
pub fn trigger_name(table: &str, column: &str, ty: FieldType, event: TriggerEvent) -> String {
    format!("{table}.{column} is {} on {}", ty.as_str(), event.as_str())
}

/// `CREATE TRIGGER IF NOT EXISTS ...;` for each trigger checking the type of `column` of
/// `table` (none for a sync column or a type without a rule): a `BEFORE INSERT` one and a
/// `BEFORE UPDATE OF <column>` one, each aborting the statement with `<table>.<column> must be
/// ...`.
pub fn type_triggers(table: &str, column: &Column) -> Vec<String> {
    let Some((breaks, must)) = type_rule(column) else {
        return Vec::new();
    };
    let message = string_literal(&format!("{table}.{} {must}", column.name));
    TriggerEvent::ALL
        .into_iter()
        .map(|event| {
            let when = match event {
                TriggerEvent::Insert => "INSERT".to_string(),
                TriggerEvent::Update => format!("UPDATE OF {}", ident(&column.name)),
            };
            format!(
                "CREATE TRIGGER IF NOT EXISTS {} BEFORE {when} ON {}\n    WHEN {breaks} BEGIN SELECT RAISE(ABORT, {message}); END;",
                ident(&trigger_name(table, &column.name, column.ty, event)),
                ident(table)
            )
        })
        .collect()
}

/// `DROP TRIGGER IF EXISTS ...;` for each trigger [`type_triggers`] creates for `column`: SQLite
/// refuses to drop a column a trigger reads.
pub fn drop_type_triggers(table: &str, column: &Column) -> Vec<String> {
    if type_rule(column).is_none() {
        return Vec::new();
    }
    TriggerEvent::ALL
        .into_iter()
        .map(|event| {
            format!(
                "DROP TRIGGER IF EXISTS {};",
                ident(&trigger_name(table, &column.name, column.ty, event))
            )
        })
        .collect()
}

/// The type-check triggers of every column of `table`, in column order.
pub fn table_triggers(table: &Table) -> Vec<String> {
    table
        .columns
        .iter()
        .flat_map(|c| type_triggers(&table.name, c))
        .collect()
}

/// A short comment describing a column for readers of the SQL.
pub fn column_comment(column: &Column) -> String {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resolve::index_name;

    #[test]
    fn trigger_names_are_injective_and_never_an_index_or_table_name() {
        let name =
            |table, column| trigger_name(table, column, FieldType::Bool, TriggerEvent::Insert);
        assert_ne!(name("a", "b_c"), name("a_b", "c"));
        assert_ne!(
            trigger_name("t", "c", FieldType::Bool, TriggerEvent::Insert),
            trigger_name("t", "c", FieldType::Bool, TriggerEvent::Update)
        );
        let trigger = name("t", "c");
        assert!(!trigger.contains('('), "index names hold a `(`: {trigger}");
        assert_ne!(trigger, index_name("t", &["c".to_string()], false, None));
        assert!(
            trigger.contains(' '),
            "identifiers hold no space: {trigger}"
        );
    }

    #[test]
    fn sync_columns_keep_their_check_and_get_no_trigger() {
        let typed = crate::resolve::sync_columns(crate::model::ConflictStrategy::FieldMerge)
            .into_iter()
            .filter(|c| matches!(c.ty, FieldType::Bool | FieldType::Json))
            .collect::<Vec<_>>();
        assert_eq!(typed.len(), 2, "is_deleted and field_timestamps");
        for column in &typed {
            assert!(column_definition(column).contains(" CHECK ("), "{column:?}");
            assert!(type_triggers("t", column).is_empty(), "{column:?}");
            assert!(drop_type_triggers("t", column).is_empty(), "{column:?}");
        }
    }
}
