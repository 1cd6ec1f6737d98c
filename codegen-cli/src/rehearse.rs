//! Rehearsal: every release runs on scratch databases before it is frozen.
//!
//! A migration that cannot run on users' devices must never be released, and nothing short of
//! running it proves it can. `migrate new` applies the new step to an in-memory database of the
//! previous version; `check` replays every released step from an empty one. After each version
//! every table gets a few rows, and the database each step leaves is compared with a fresh
//! install of the same version (`schema.sql` rendered from its snapshot): tables, columns
//! (`pragma table_info`), indexes (`pragma index_list`/`index_info`) and foreign keys, not the
//! SQL text, which differs between `CREATE TABLE` and `ALTER TABLE`; and triggers by name and
//! SQL text, which both create with the same statement.
//!
//! Backfills are the one place where user-written SQL reaches a migration, so each one is also
//! checked to be exactly one SQL expression over the columns its table had before: SQLite itself
//! prepares `SELECT (<backfill>) FROM "<table>"` on a database of the previous version, and the
//! prepared statement must be the whole text (a `;`, a second statement or a comment swallowing
//! the closing parenthesis is refused).

use std::collections::BTreeMap;

use rusqlite::config::DbConfig;
use rusqlite::fallible_iterator::FallibleIterator;
use rusqlite::types::Value;
use rusqlite::{Batch, Connection};

use crate::diagnostic::{Diagnostic, Diagnostics, Origin};
use crate::history::Snapshot;
use crate::model::{Column, ColumnRole, FieldType, Table};
use crate::plan::{self, Step};
use crate::render;
use crate::render::sql::ident;
use crate::rendered::RenderedMigrations;

/// Rows inserted into every table after each version.
const ROWS_PER_TABLE: usize = 3;

/// Rule: the backfill of every column added from `prev` to `next` is one SQL expression that
/// SQLite accepts over the table as it was in `prev`. Problems are located by `origin_of(table,
/// column)` (the `backfill` key of the spec for a new release).
pub fn backfills_are_expressions(
    prev: Option<&Snapshot>,
    next: &Snapshot,
    origin_of: impl Fn(&str, &str) -> Origin,
    diags: &mut Diagnostics,
) {
    let prev_tables = prev.map_or(&[][..], |p| &p.tables[..]);
    let backfills: Vec<(String, Column)> = plan::plan(prev_tables, &next.tables)
        .into_iter()
        .filter_map(|step| match step {
            Step::Backfill { table, column } if column.backfill.is_some() => Some((table, column)),
            _ => None,
        })
        .collect();
    if backfills.is_empty() {
        return;
    }
    let Some(prev) = prev else { return };
    let conn = match scratch(&render::schema_sql(prev.version, "", &prev.tables)) {
        Ok(conn) => conn,
        // The previous version itself cannot be created: the step rehearsal reports it.
        Err(_) => return,
    };
    for (table, column) in backfills {
        let expression = column.backfill.as_deref().unwrap_or_default();
        if let Err(problem) = one_expression(&conn, &table, expression) {
            diags.push(
                Diagnostic::error(
                    origin_of(&table, &column.name),
                    format!(
                        "backfill of `{}.{}` must be one SQL expression over the table at v{}: {problem}",
                        table, column.name, prev.version
                    ),
                )
                .label("not one expression")
                .help(format!(
                    "a backfill is a single expression computed from the row's existing columns, for example `upper(\"title\")`; it is placed in `UPDATE {} SET {} = (<backfill>)`",
                    ident(&table),
                    ident(&column.name)
                )),
            );
        }
    }
}

/// Why `expression` is not one expression SQLite accepts over `table`.
fn one_expression(conn: &Connection, table: &str, expression: &str) -> Result<(), String> {
    let query = format!("SELECT ({expression}) FROM {}", ident(table));
    let statement = conn.prepare(&query).map_err(|error| match error {
        rusqlite::Error::MultipleStatement => {
            "it ends the statement (`;`) and continues after it".to_string()
        }
        other => describe(&other),
    })?;
    if statement.parameter_count() > 0 {
        return Err("it has a parameter (`?`, `:name`), which nothing would bind".to_string());
    }
    // SQLite stops a statement at a `;`; anything after it, even a comment, is not part of it.
    if statement.expanded_sql().as_deref().map(str::trim_end) != Some(query.trim_end()) {
        return Err("it ends the statement (`;`) and continues after it".to_string());
    }
    Ok(())
}

/// Runs the steps of versions `from` and above on one scratch database, starting from a fresh
/// install of version `from - 1` (empty for `from = 1`, so `check` replays every step), filling
/// every table after each version and comparing each version with its fresh install.
pub fn steps(
    snapshots: &[&Snapshot],
    set: &RenderedMigrations,
    from: u32,
    diags: &mut Diagnostics,
) {
    let mut rows = Rows::default();
    let start = match snapshots.iter().find(|s| s.version + 1 == from) {
        // The previous version as users have it, with rows: earlier steps were rehearsed when
        // they were released.
        Some(prev) => fresh_install(prev).and_then(|conn| {
            fill_any(&conn, &prev.tables, &mut rows)?;
            Ok(conn)
        }),
        None => empty(),
    };
    let conn = match start {
        Ok(conn) => conn,
        Err(error) => {
            diags.push(Diagnostic::error(
                Origin::Generated,
                format!(
                    "cannot build a scratch database of v{} to rehearse the migrations: {error}",
                    from - 1
                ),
            ));
            return;
        }
    };
    let mut prev_tables: &[Table] = snapshots
        .iter()
        .find(|s| s.version + 1 == from)
        .map_or(&[], |s| &s.tables[..]);
    for (step, snapshot) in set.steps.iter().zip(snapshots) {
        if step.version < from {
            continue;
        }
        // The app's tables that this step adopts exist already on users' devices, with rows.
        let adopted = adopted_here(prev_tables, &snapshot.tables);
        prev_tables = &snapshot.tables;
        if let Err(problem) = app_tables(&conn, &adopted, &mut rows) {
            diags.push(Diagnostic::error(
                Origin::Generated,
                format!(
                    "cannot build the app's tables from the import snapshot to rehearse migration `{}` on: {problem}",
                    step.file_name
                ),
            ));
            return;
        }
        let fail = |diags: &mut Diagnostics, what: String| {
            diags.push(
                Diagnostic::error(
                    Origin::Generated,
                    format!(
                        "migration `{}` (v{}) fails on a scratch database: {what}",
                        step.file_name, step.version
                    ),
                )
                .help(format!(
                    "every release is run on a database of the version before, with rows in every table, before it is written; change the specs of v{} so that its SQL runs",
                    step.version
                )),
            );
        };
        if let Err(problem) = run_script(&conn, &step.sql) {
            fail(diags, problem);
            return;
        }
        match fresh_install(snapshot).and_then(|fresh| Ok((shape(&conn)?, shape(&fresh)?))) {
            Ok((upgraded, fresh)) if upgraded != fresh => {
                fail(
                    diags,
                    format!(
                        "the upgraded database differs from a fresh install of v{}: {}",
                        step.version,
                        differences(&upgraded, &fresh).join("; ")
                    ),
                );
                return;
            }
            Ok(_) => {}
            Err(problem) => {
                fail(
                    diags,
                    format!("`schema.sql` of v{}: {problem}", step.version),
                );
                return;
            }
        }
        if let Err(problem) = fill_any(&conn, &snapshot.tables, &mut rows) {
            fail(diags, problem);
            return;
        }
    }
}

/// The tables of `next` that are adopted in the step from `prev`, as the app has them before:
/// only their app columns.
fn adopted_here(prev: &[Table], next: &[Table]) -> Vec<Table> {
    next.iter()
        .filter(|t| t.adopted.is_some() && !prev.iter().any(|p| p.name == t.name))
        .map(|t| Table {
            columns: t
                .columns
                .iter()
                .filter(|c| {
                    t.adopted
                        .as_ref()
                        .is_some_and(|a| a.imported.column(&c.name).is_some())
                })
                .cloned()
                .collect(),
            ..t.clone()
        })
        .collect()
}

/// Creates `tables` as the import snapshot has them and fills them with rows.
fn app_tables(conn: &Connection, tables: &[Table], rows: &mut Rows) -> Result<(), String> {
    for table in tables {
        let imported = &table
            .adopted
            .as_ref()
            .expect("adopted tables only")
            .imported;
        run_script(
            conn,
            &render::adoption::imported_table_sql(imported).join("\n"),
        )?;
    }
    fill_any(conn, tables, rows)
}

/// [`fill`], with foreign keys not enforced when an adopted table is among `tables`: the app's
/// own foreign keys are its business (often immediate, over its own keys, which the sample
/// rows do not follow); the rows only need to be there for the steps to run over.
fn fill_any(conn: &Connection, tables: &[Table], rows: &mut Rows) -> Result<(), String> {
    if !tables.iter().any(|t| t.adopted.is_some()) {
        return fill(conn, tables, rows);
    }
    run_script(conn, "PRAGMA foreign_keys = OFF;")?;
    let filled = fill(conn, tables, rows);
    run_script(conn, "PRAGMA foreign_keys = ON;")?;
    filled
}

/// An empty in-memory database that reads `"name"` only as an identifier: by default SQLite
/// takes a double-quoted name that matches no column for a string, so a backfill naming an
/// unknown column would silently write its name into every row.
fn empty() -> Result<Connection, String> {
    let conn = Connection::open_in_memory().map_err(|e| e.to_string())?;
    for config in [
        DbConfig::SQLITE_DBCONFIG_DQS_DML,
        DbConfig::SQLITE_DBCONFIG_DQS_DDL,
    ] {
        conn.set_db_config(config, false)
            .map_err(|e| e.to_string())?;
    }
    Ok(conn)
}

/// An in-memory database with `sql` applied.
fn scratch(sql: &str) -> Result<Connection, String> {
    let conn = empty()?;
    run_script(&conn, sql)?;
    Ok(conn)
}

/// A fresh install of `snapshot`, from the `schema.sql` rendered for it.
fn fresh_install(snapshot: &Snapshot) -> Result<Connection, String> {
    scratch(&render::schema_sql(snapshot.version, "", &snapshot.tables))
}

/// Runs every statement of `sql`, and says which one failed and why.
fn run_script(conn: &Connection, sql: &str) -> Result<(), String> {
    // SQLite reads a NUL as the end of the text: the rest would silently not run.
    if let Some(line) = sql.lines().find(|l| l.contains('\0')) {
        return Err(format!(
            "the SQL contains a NUL character (`\\0`), which SQLite cannot read, in `{}`",
            shorten(&line.replace('\0', "\\0"))
        ));
    }
    let mut batch = Batch::new(conn, sql);
    loop {
        match batch.next() {
            Ok(Some(mut statement)) => {
                if let Err(error) = statement.raw_execute() {
                    let text = statement.expanded_sql().unwrap_or_default();
                    return Err(format!("{} in `{}`", describe(&error), shorten(&text)));
                }
            }
            Ok(None) => return Ok(()),
            Err(error) => return Err(describe(&error)),
        }
    }
}

/// SQLite's message, with the statement around a syntax error rather than the whole script.
fn describe(error: &rusqlite::Error) -> String {
    match error {
        rusqlite::Error::SqlInputError {
            msg, sql, offset, ..
        } => {
            let at = usize::try_from(*offset).unwrap_or(0).min(sql.len());
            let start = sql[..at].rfind('\n').map_or(0, |i| i + 1);
            let end = sql[at..].find('\n').map_or(sql.len(), |i| at + i);
            format!("{msg} in `{}`", shorten(&sql[start..end]))
        }
        rusqlite::Error::NulError(_) => {
            "the SQL contains a NUL character (`\\0`), which SQLite cannot read".to_string()
        }
        other => other.to_string(),
    }
}

/// A statement for a message: without its comment lines, cut after a few words.
fn shorten(text: &str) -> String {
    const MAX: usize = 160;
    let code: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.starts_with("--") && !l.is_empty())
        .collect();
    let text = code.join(" ");
    match text.char_indices().nth(MAX) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text,
    }
}

/// The rows inserted so far: a counter that keeps values unique across the rehearsal (unique
/// indexes), and the ids of each table's rows (for foreign keys).
#[derive(Default)]
struct Rows {
    counter: i64,
    ids: BTreeMap<String, Vec<String>>,
}

/// Inserts a few rows into every table, in one transaction (foreign keys are deferred, so a
/// row may reference one inserted after it): every domain column gets a value valid for its
/// type, some NULL where allowed, a reference the id of an existing row; the sync columns keep
/// their defaults.
fn fill(conn: &Connection, tables: &[Table], rows: &mut Rows) -> Result<(), String> {
    let mut planned = Vec::new();
    for table in tables {
        for row in 0..ROWS_PER_TABLE {
            rows.counter += 1;
            let id = uuid(rows.counter);
            rows.ids
                .entry(table.name.clone())
                .or_default()
                .push(id.clone());
            planned.push((table, id, rows.counter, row == ROWS_PER_TABLE - 1));
        }
    }
    conn.execute_batch("BEGIN").map_err(|e| describe(&e))?;
    let inserted = planned.iter().try_for_each(|(table, id, n, null)| {
        insert(conn, table, id, *n, *null, &rows.ids)
            .map_err(|e| format!("inserting a row into `{}`: {e}", table.name))
    });
    let done = inserted.and_then(|()| {
        conn.execute_batch("COMMIT")
            .map_err(|e| format!("committing rows: {}", describe(&e)))
    });
    if done.is_err() {
        let _ = conn.execute_batch("ROLLBACK");
    }
    done
}

fn insert(
    conn: &Connection,
    table: &Table,
    id: &str,
    n: i64,
    null: bool,
    ids: &BTreeMap<String, Vec<String>>,
) -> Result<(), String> {
    let columns: Vec<&Column> = table
        .columns
        .iter()
        .filter(|c| c.role == ColumnRole::Domain)
        .collect();
    // An adopted table's rows get their `_sync_id` as the app's rows do: from the adoption
    // or its insert trigger.
    let own_id = table.adopted.is_none().then(|| ident("id"));
    let names: Vec<String> = own_id
        .clone()
        .into_iter()
        .chain(columns.iter().map(|c| ident(&c.name)))
        .collect();
    let marks = vec!["?"; names.len()].join(", ");
    let sql = format!(
        "INSERT INTO {} ({}) VALUES ({marks})",
        ident(&table.name),
        names.join(", ")
    );
    let values: Vec<Value> = own_id
        .map(|_| Value::Text(id.to_string()))
        .into_iter()
        .chain(columns.iter().map(|c| sample(c, n, null, ids)))
        .collect();
    conn.execute(&sql, rusqlite::params_from_iter(values))
        .map(drop)
        .map_err(|e| describe(&e))
}

fn uuid(n: i64) -> String {
    format!("00000000-0000-4000-8000-{n:012}")
}

/// A value of `column`'s type for row `n`; NULL for a nullable column when `null` is asked; for
/// a reference, the id of a row of the referenced table.
fn sample(column: &Column, n: i64, null: bool, ids: &BTreeMap<String, Vec<String>>) -> Value {
    if null && column.nullable {
        return Value::Null;
    }
    if let Some(parent) = &column.references
        && let Some(parents) = ids.get(parent).filter(|p| !p.is_empty())
    {
        return Value::Text(parents[n as usize % parents.len()].clone());
    }
    match column.ty {
        FieldType::Text => Value::Text(format!("{} {n}", column.name)),
        FieldType::Integer => Value::Integer(n),
        FieldType::Real => Value::Real(n as f64 + 0.5),
        FieldType::Bool => Value::Integer(n % 2),
        FieldType::Uuid => Value::Text(uuid(n)),
        FieldType::Timestamp => Value::Integer(1_700_000_000_000 + n),
        FieldType::Json => Value::Text(format!("{{\"n\": {n}}}")),
        FieldType::Blob => Value::Blob(n.to_le_bytes().to_vec()),
    }
}

/// What a database's schema is made of, as SQLite reports it.
#[derive(Debug, PartialEq, Eq)]
struct TableShape {
    /// `(name, type, not null, default, primary key)` in column order.
    columns: Vec<(String, String, bool, Option<String>, i64)>,
    /// Index name → `(unique, partial, columns)`.
    indexes: BTreeMap<String, (bool, bool, Vec<String>)>,
    /// `(column, referenced table, referenced column)`.
    foreign_keys: Vec<(String, String, String)>,
    /// Trigger name → its SQL as `sqlite_schema` keeps it.
    triggers: BTreeMap<String, String>,
}

fn shape(conn: &Connection) -> Result<BTreeMap<String, TableShape>, String> {
    let err = |e: rusqlite::Error| e.to_string();
    let tables: Vec<String> = conn
        .prepare("SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")
        .map_err(err)?
        .query_map([], |r| r.get(0))
        .map_err(err)?
        .collect::<Result<_, _>>()
        .map_err(err)?;
    let mut out = BTreeMap::new();
    for table in tables {
        let columns = conn
            .prepare("SELECT name, type, \"notnull\", dflt_value, pk FROM pragma_table_info(?1) ORDER BY cid")
            .map_err(err)?
            .query_map([&table], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)))
            .map_err(err)?
            .collect::<Result<_, _>>()
            .map_err(err)?;
        let list: Vec<(String, bool, bool)> = conn
            .prepare("SELECT name, \"unique\", partial FROM pragma_index_list(?1)")
            .map_err(err)?
            .query_map([&table], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .map_err(err)?
            .collect::<Result<_, _>>()
            .map_err(err)?;
        let mut indexes = BTreeMap::new();
        for (name, unique, partial) in list {
            let columns: Vec<String> = conn
                .prepare("SELECT coalesce(name, '') FROM pragma_index_info(?1) ORDER BY seqno")
                .map_err(err)?
                .query_map([&name], |r| r.get(0))
                .map_err(err)?
                .collect::<Result<_, _>>()
                .map_err(err)?;
            indexes.insert(name, (unique, partial, columns));
        }
        let mut foreign_keys: Vec<(String, String, String)> = conn
            .prepare(
                "SELECT \"from\", \"table\", coalesce(\"to\", '') FROM pragma_foreign_key_list(?1)",
            )
            .map_err(err)?
            .query_map([&table], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .map_err(err)?
            .collect::<Result<_, _>>()
            .map_err(err)?;
        foreign_keys.sort();
        let triggers = conn
            .prepare("SELECT name, sql FROM sqlite_schema WHERE type = 'trigger' AND tbl_name = ?1")
            .map_err(err)?
            .query_map([&table], |r| Ok((r.get(0)?, r.get(1)?)))
            .map_err(err)?
            .collect::<Result<_, _>>()
            .map_err(err)?;
        out.insert(
            table,
            TableShape {
                columns,
                indexes,
                foreign_keys,
                triggers,
            },
        );
    }
    Ok(out)
}

/// One line per difference between the upgraded database and the fresh install.
fn differences(
    upgraded: &BTreeMap<String, TableShape>,
    fresh: &BTreeMap<String, TableShape>,
) -> Vec<String> {
    let mut out = Vec::new();
    for name in fresh.keys().filter(|t| !upgraded.contains_key(*t)) {
        out.push(format!("table `{name}` is missing"));
    }
    for name in upgraded.keys().filter(|t| !fresh.contains_key(*t)) {
        out.push(format!("table `{name}` should not exist"));
    }
    for (name, up) in upgraded {
        let Some(fr) = fresh.get(name) else { continue };
        if up.columns != fr.columns {
            out.push(format!(
                "table `{name}` has columns {:?}, a fresh install {:?}",
                up.columns, fr.columns
            ));
        }
        if up.indexes != fr.indexes {
            out.push(format!(
                "table `{name}` has indexes {:?}, a fresh install {:?}",
                up.indexes.keys().collect::<Vec<_>>(),
                fr.indexes.keys().collect::<Vec<_>>()
            ));
        }
        if up.triggers != fr.triggers {
            out.push(trigger_differences(name, &up.triggers, &fr.triggers));
        }
        if up.foreign_keys != fr.foreign_keys {
            out.push(format!(
                "table `{name}` has other foreign keys than a fresh install"
            ));
        }
    }
    out
}

/// How the triggers of `table` differ: missing, extra, or with other SQL than a fresh install.
fn trigger_differences(
    table: &str,
    upgraded: &BTreeMap<String, String>,
    fresh: &BTreeMap<String, String>,
) -> String {
    let missing: Vec<&String> = fresh
        .keys()
        .filter(|n| !upgraded.contains_key(*n))
        .collect();
    let extra: Vec<&String> = upgraded
        .keys()
        .filter(|n| !fresh.contains_key(*n))
        .collect();
    let changed: Vec<&String> = upgraded
        .iter()
        .filter(|(name, sql)| fresh.get(*name).is_some_and(|f| f != *sql))
        .map(|(name, _)| name)
        .collect();
    format!(
        "table `{table}` has other triggers than a fresh install (missing {missing:?}, extra {extra:?}, other SQL {changed:?})"
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::history::{History, Released};
    use crate::load::schema_from_toml;
    use crate::{rendered, resolve};

    fn history(spec: &str) -> History {
        let schema = schema_from_toml(1, &[("task.toml", spec)]).unwrap();
        let snapshot = Snapshot {
            version: 1,
            name: "init".into(),
            tables: resolve::tables(&schema),
        };
        History {
            released: vec![Released {
                snapshot,
                path: "v1.toml".into(),
                text: String::new(),
            }],
            ..History::default()
        }
    }

    const TASK: &str = "[entity]\nname = \"task\"\n[fields]\ntitle = { type = \"text\", index = true }\nparent = { type = \"uuid\", references = \"tasks\", nullable = true }\n";

    #[test]
    fn a_step_that_leaves_another_schema_than_a_fresh_install_is_reported() {
        let history = history(TASK);
        let mut set = rendered::render_history(&history).unwrap();
        let index = "CREATE INDEX IF NOT EXISTS \"tasks(title)\" ON \"tasks\" (\"title\");";
        assert!(set.steps[0].sql.contains(index));
        set.steps[0].sql = set.steps[0].sql.replace(index, "");
        let mut diags = Diagnostics::new();
        steps(&[history.latest().unwrap()], &set, 1, &mut diags);
        let messages: Vec<&str> = diags.iter().map(|d| d.message.as_str()).collect();
        assert_eq!(messages.len(), 1, "{messages:?}");
        assert!(
            messages[0].contains("differs from a fresh install of v1")
                && messages[0].contains("tasks(title)"),
            "{messages:?}"
        );
    }

    const FLAGGED: &str = "[entity]\nname = \"task\"\n[fields]\ndone = { type = \"bool\", default = false }\nmeta = { type = \"json\", nullable = true }\n";

    #[test]
    fn a_step_that_leaves_out_a_type_check_trigger_is_reported() {
        let history = history(FLAGGED);
        let mut set = rendered::render_history(&history).unwrap();
        let sql = &set.steps[0].sql;
        let start = sql
            .find("CREATE TRIGGER IF NOT EXISTS \"tasks.meta is json on update\"")
            .expect("the json field has an update trigger");
        let end = start + sql[start..].find("END;").unwrap() + "END;".len();
        set.steps[0].sql = format!("{}{}", &sql[..start], &sql[end..]);
        let mut diags = Diagnostics::new();
        steps(&[history.latest().unwrap()], &set, 1, &mut diags);
        let messages: Vec<&str> = diags.iter().map(|d| d.message.as_str()).collect();
        assert_eq!(messages.len(), 1, "{messages:?}");
        assert!(
            messages[0].contains("other triggers than a fresh install")
                && messages[0].contains("missing [\"tasks.meta is json on update\"]"),
            "{messages:?}"
        );
    }

    #[test]
    fn a_step_whose_trigger_checks_something_else_is_reported() {
        let history = history(FLAGGED);
        let mut set = rendered::render_history(&history).unwrap();
        let rule = "NEW.\"done\" NOT IN (0, 1)";
        assert!(set.steps[0].sql.contains(rule));
        set.steps[0].sql = set.steps[0]
            .sql
            .replacen(rule, "NEW.\"done\" NOT IN (0, 1, 2)", 1);
        let mut diags = Diagnostics::new();
        steps(&[history.latest().unwrap()], &set, 1, &mut diags);
        let messages: Vec<&str> = diags.iter().map(|d| d.message.as_str()).collect();
        assert_eq!(messages.len(), 1, "{messages:?}");
        assert!(
            messages[0].contains("other SQL [\"tasks.done is bool on insert\"]"),
            "{messages:?}"
        );
    }

    #[test]
    fn a_step_that_matches_its_fresh_install_passes_with_rows_in_every_table() {
        let history = history(TASK);
        let set = rendered::render_history(&history).unwrap();
        let mut diags = Diagnostics::new();
        steps(&[history.latest().unwrap()], &set, 1, &mut diags);
        assert!(diags.is_empty(), "{diags:?}");
    }
}
