//! Shared by the cross-crate tests: the field-service history, databases filled with rows at
//! any version, and normalized descriptions of a database's schema and data.

#![allow(dead_code)]

pub mod schema_description;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use rusqlite::Connection;
use rusqlite::types::Value;
use syncwright_codegen::diagnostic::{Diagnostics, SourceMap};
use syncwright_codegen::history::{self, History};
use syncwright_codegen::load_project;
use syncwright_codegen::model::{ColumnRole, FieldType, Table};
use syncwright_codegen::render;

pub const CONFIG: &str = "fixtures/field-service/syncwright.toml";
pub const MIGRATIONS: &str = "fixtures/field-service/migrations";

/// The fixture's released history.
pub fn history() -> History {
    let project = load_project(Path::new(CONFIG)).unwrap_or_else(|e| panic!("{e}"));
    let mut diags = Diagnostics::new();
    let history = history::load(&project.config, &mut SourceMap::default(), &mut diags)
        .expect("the history reads");
    assert!(
        diags.is_empty(),
        "the fixture history has problems: {diags:?}"
    );
    history
}

/// The checked-in migration file of `version`, with its path.
pub fn step_file(version: u32) -> PathBuf {
    let prefix = format!("{version:04}_");
    std::fs::read_dir(MIGRATIONS)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| {
            p.file_name()
                .unwrap()
                .to_str()
                .unwrap()
                .starts_with(&prefix)
        })
        .unwrap_or_else(|| panic!("no migration file for version {version} in {MIGRATIONS}"))
}

/// The fresh-install script of `version`: the checked-in `schema.sql` for the latest, rendered
/// from the snapshot otherwise (what the app released at that version shipped).
pub fn fresh_sql(history: &History, version: u32) -> String {
    if version == history.latest_version() {
        return std::fs::read_to_string(Path::new(MIGRATIONS).join("schema.sql")).unwrap();
    }
    let snapshot = history.get(version).unwrap();
    render::schema_sql(version, &format!("snapshot v{version}"), &snapshot.tables)
}

/// What a program without the Rust runtime runs on a new database at `version`: the runtime's
/// tables (`syncwright::runtime_tables_sql`, see docs/contracts.md), then the fresh schema.
pub fn sqlite3_fresh_sql(history: &History, version: u32) -> String {
    syncwright::runtime_tables_sql() + &fresh_sql(history, version)
}

/// A connection that enforces foreign keys, as apps open it.
pub fn open(path: &Path) -> Connection {
    let conn = Connection::open(path).unwrap();
    conn.pragma_update(None, "foreign_keys", true).unwrap();
    conn
}

const STATUSES: [(&str, bool); 5] = [
    ("synced", false),
    ("pending", false),
    ("conflict", false),
    ("pending", true), // deleted locally, tombstone not pushed yet
    ("synced", true),  // tombstone the server knows
];

/// Inserts rows into every table of `tables` (the schema the database is at), covering every
/// sync status, soft-deleted rows, NULLs in nullable fields and foreign keys to earlier rows;
/// plus queue, cursor and log rows for the runtime tables when the schema has them.
pub fn fill(conn: &Connection, tables: &[Table]) {
    for (t, table) in tables.iter().enumerate() {
        for (n, (status, deleted)) in STATUSES.iter().enumerate() {
            let mut names = Vec::new();
            let mut values: Vec<Value> = Vec::new();
            for column in &table.columns {
                names.push(format!("\"{}\"", column.name));
                values.push(value(tables, table, column, t, n, status, *deleted));
            }
            let placeholders = vec!["?"; names.len()].join(", ");
            conn.execute(
                &format!(
                    "INSERT INTO \"{}\" ({}) VALUES ({placeholders})",
                    table.name,
                    names.join(", ")
                ),
                rusqlite::params_from_iter(values),
            )
            .unwrap_or_else(|e| panic!("insert into {}: {e}", table.name));
        }
    }
    // The runtime's tables, where the schema has them (issue 9 moves them out of the
    // generated SQL, into the runtime).
    if !table_names(conn).iter().any(|t| t == "_sync_queue") {
        return;
    }
    conn.execute_batch(
        "INSERT INTO _sync_queue (idempotency_key, entity_type, action, entity_id, payload, schema_version, next_attempt_at, created_at)
             VALUES ('k1', 'task', 'update', 'x', '{\"title\":\"t\"}', 1, 1700000000000, 1700000000000);
         INSERT INTO _sync_queue (idempotency_key, entity_type, action, entity_id, payload, schema_version, next_attempt_at, created_at, status, retry_count, error)
             VALUES ('k2', 'project', 'delete', 'y', '{}', 1, 1700000000500, 1700000000001, 'failed', 10, 'HTTP 500');
         INSERT INTO _sync_cursors (entity_type, cursor, updated_at) VALUES ('task', 'c-42', 1700000000000);
         INSERT INTO _sync_log (at, direction, entity_type, pulled, pushed, conflicts) VALUES (1700000000000, 'pull', 'task', 3, 0, 1);",
    )
    .unwrap();
}

/// The id of row `n` of table number `t`.
pub fn row_id(t: usize, n: usize) -> String {
    format!("00000000-0000-4000-8000-{:06}{:06}", t, n)
}

fn value(
    tables: &[Table],
    table: &Table,
    column: &syncwright_codegen::model::Column,
    t: usize,
    n: usize,
    status: &str,
    deleted: bool,
) -> Value {
    let synced = status == "synced";
    let ms = 1_700_000_000_000 + (t * 1000 + n) as i64;
    if column.role == ColumnRole::Sync {
        return match column.name.as_str() {
            "id" => Value::Text(row_id(t, n)),
            "server_id" if synced => Value::Text(format!("srv-{t}-{n}")),
            "server_id" => Value::Null,
            "created_at" => Value::Integer(ms),
            "updated_at" => Value::Integer(ms + 10),
            "synced_at" if synced => Value::Integer(ms + 20),
            "synced_at" => Value::Null,
            "is_deleted" => Value::Integer(deleted.into()),
            "version" => Value::Integer(n as i64 + 1),
            "sync_status" => Value::Text(status.to_string()),
            "field_timestamps" => Value::Text(format!("{{\"title\":{ms}}}")),
            other => panic!("unknown sync column {other}"),
        };
    }
    if column.nullable && n % 3 == 2 {
        return Value::Null;
    }
    if let Some(target) = &column.references {
        // Row `n` of the referenced table, which is filled first (tables reference earlier ones).
        let target = tables.iter().position(|x| &x.name == target).unwrap();
        return Value::Text(row_id(target, n));
    }
    match column.ty {
        FieldType::Text => Value::Text(format!("{} {} {n}", table.entity, column.name)),
        FieldType::Integer => Value::Integer((n * 7) as i64),
        FieldType::Real => Value::Real(n as f64 + 0.5),
        FieldType::Bool => Value::Integer((n % 2) as i64),
        FieldType::Uuid => Value::Text(row_id(99, n)),
        FieldType::Timestamp => Value::Integer(ms + 100),
        FieldType::Json => Value::Text(format!("[{n}]")),
        FieldType::Blob => Value::Blob(vec![n as u8; 3]),
    }
}

/// Every row of every table (user and runtime), by table, ordered by rowid, as `column → value`.
pub type Rows = BTreeMap<String, Vec<BTreeMap<String, Value>>>;

pub fn rows(conn: &Connection) -> Rows {
    let mut out = Rows::new();
    for table in table_names(conn) {
        let mut stmt = conn
            .prepare(&format!("SELECT * FROM \"{table}\" ORDER BY rowid"))
            .unwrap();
        let names: Vec<String> = stmt.column_names().map(|s| s.to_string()).collect();
        let rows = stmt
            .query_map([], |row| {
                let mut map = BTreeMap::new();
                for (i, name) in names.iter().enumerate() {
                    map.insert(name.clone(), row.get::<_, Value>(i)?);
                }
                Ok(map)
            })
            .unwrap()
            .map(Result::unwrap)
            .collect();
        out.insert(table, rows);
    }
    out
}

pub fn table_names(conn: &Connection) -> Vec<String> {
    let mut stmt = conn
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")
        .unwrap();
    stmt.query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

/// The normalized description of a database's schema ([`schema_description::describe`]):
/// equal for two databases with the same tables, columns, indexes, foreign keys, triggers and
/// views.
pub fn schema(conn: &Connection) -> Vec<String> {
    schema_description::describe(conn)
}

/// `PRAGMA integrity_check` says ok and `foreign_key_check` finds nothing.
pub fn assert_consistent(conn: &Connection, context: &str) {
    let integrity: String = conn
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(integrity, "ok", "{context}: integrity_check");
    let mut stmt = conn.prepare("PRAGMA foreign_key_check").unwrap();
    let problems: Vec<String> = stmt
        .query_map([], |r| Ok(format!("{:?}", r.get::<_, Value>(0)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert!(
        problems.is_empty(),
        "{context}: foreign_key_check: {problems:?}"
    );
}

pub fn user_version(conn: &Connection) -> u32 {
    conn.query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap()
}

/// Asserts that upgrading from `from` kept every row and value (`before` was read at `from`),
/// that columns added on the way hold their backfill, the value they were renamed from, or
/// their default, and that nothing else appeared in the old tables.
pub fn assert_rows_survived(
    conn: &Connection,
    history: &History,
    from: u32,
    to: u32,
    before: &Rows,
) {
    let after = rows(conn);
    let old_tables = &history.get(from).unwrap().tables;
    let new_tables = &history.get(to).unwrap().tables;
    for (table, old_rows) in before {
        let context = format!("v{from} -> v{to}, table `{table}`");
        let Some(new_rows) = after.get(table) else {
            assert!(
                new_tables.iter().all(|t| &t.name != table),
                "{context}: table disappeared"
            );
            continue;
        };
        assert_eq!(old_rows.len(), new_rows.len(), "{context}: row count");
        let old_table = old_tables.iter().find(|t| &t.name == table);
        let new_table = new_tables.iter().find(|t| &t.name == table);
        for (old, new) in old_rows.iter().zip(new_rows) {
            for (column, value) in old {
                if let Some(after) = new.get(column) {
                    assert_eq!(after, value, "{context}: column `{column}` of row {old:?}");
                } else {
                    let dropped = new_table.is_some_and(|t| t.column(column).is_none());
                    assert!(dropped, "{context}: column `{column}` vanished");
                }
            }
            let (Some(old_table), Some(new_table)) = (old_table, new_table) else {
                continue;
            };
            for column in new_table
                .columns
                .iter()
                .filter(|c| old_table.column(&c.name).is_none())
            {
                let expected = expected_added_value(conn, table, column, old, &new["id"]);
                assert_eq!(
                    new[&column.name], expected,
                    "{context}: added column `{}` of row {:?}",
                    column.name, new["id"]
                );
            }
        }
    }
}

/// What a column added by an upgrade holds in an old row.
fn expected_added_value(
    conn: &Connection,
    table: &str,
    column: &syncwright_codegen::model::Column,
    old_row: &BTreeMap<String, Value>,
    id: &Value,
) -> Value {
    let default = || match &column.default_sql {
        Some(sql) => conn
            .query_row(&format!("SELECT {sql}"), [], |r| r.get::<_, Value>(0))
            .unwrap(),
        None => Value::Null,
    };
    if let Some(expression) = &column.backfill {
        // Computed independently of the migration's UPDATE, on the upgraded row (whose other
        // columns are unchanged).
        let computed: Value = conn
            .query_row(
                &format!("SELECT ({expression}) FROM \"{table}\" WHERE \"id\" = ?1"),
                [id],
                |r| r.get(0),
            )
            .unwrap();
        return match computed {
            Value::Null if !column.nullable => default(),
            other => other,
        };
    }
    if let Some(old) = &column.renamed_from {
        return match old_row.get(old) {
            Some(Value::Null) | None => default(),
            Some(value) => value.clone(),
        };
    }
    default()
}

/// Runs a migration file as the runtime does on a re-run: a statement that adds a column that
/// already exists, or drops one that no longer does, is skipped.
pub fn apply_skipping_done(conn: &Connection, sql: &str) {
    let body: Vec<&str> = sql
        .lines()
        .filter(|l| l.trim() != "BEGIN;" && l.trim() != "COMMIT;")
        .collect();
    let mut pending = String::new();
    for line in body {
        if let Some((table, column, adds)) = alter_column(line) {
            conn.execute_batch(&pending).unwrap();
            pending.clear();
            let exists: bool = conn
                .query_row(
                    "SELECT count(*) FROM pragma_table_info(?1) WHERE name = ?2",
                    [&table, &column],
                    |r| r.get::<_, i64>(0),
                )
                .unwrap()
                > 0;
            if exists == adds {
                continue;
            }
            conn.execute_batch(line).unwrap();
            continue;
        }
        pending.push_str(line);
        pending.push('\n');
    }
    conn.execute_batch(&pending).unwrap();
}

/// `(table, column, true)` for an `ALTER TABLE "t" ADD COLUMN "c" ...` line, `false` for
/// `DROP COLUMN`.
fn alter_column(line: &str) -> Option<(String, String, bool)> {
    let rest = line.strip_prefix("ALTER TABLE \"")?;
    let (table, rest) = rest.split_once('"')?;
    let (adds, rest) = if let Some(rest) = rest.strip_prefix(" ADD COLUMN \"") {
        (true, rest)
    } else {
        (false, rest.strip_prefix(" DROP COLUMN \"")?)
    };
    let (column, _) = rest.split_once('"')?;
    Some((table.to_string(), column.to_string(), adds))
}
