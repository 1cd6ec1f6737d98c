//! The generated SQL executes, in rusqlite's bundled SQLite and in the sqlite3 program, and
//! creates exactly the tables, columns, constraints and indexes the spec describes.

use std::path::Path;
use std::process::Command;

mod support;

use rusqlite::Connection;
use support::{schema, table_names};
use syncwright_codegen::load::load_project;
use syncwright_codegen::rendered_migrations;

/// The fresh-install `schema.sql` the generator writes for a project (from its history).
fn fixture_sql(config: &str) -> String {
    let project = load_project(Path::new(config)).unwrap_or_else(|e| panic!("{e}"));
    rendered_migrations(&project)
        .unwrap_or_else(|e| panic!("{e}"))
        .schema
        .sql
}

/// `(name, type, notnull, default, pk)` of every column of `table`.
fn columns(conn: &Connection, table: &str) -> Vec<(String, String, bool, Option<String>, bool)> {
    let mut stmt = conn
        .prepare("SELECT name, type, \"notnull\", dflt_value, pk FROM pragma_table_info(?1) ORDER BY cid")
        .unwrap();
    stmt.query_map([table], |r| {
        Ok((
            r.get(0)?,
            r.get(1)?,
            r.get(2)?,
            r.get(3)?,
            r.get::<_, i64>(4)? > 0,
        ))
    })
    .unwrap()
    .map(Result::unwrap)
    .collect()
}

/// `(name, unique, partial, columns)` of every index of `table`, sorted by name.
fn indexes(conn: &Connection, table: &str) -> Vec<(String, bool, bool, Vec<String>)> {
    let mut stmt = conn
        .prepare("SELECT name, \"unique\", partial FROM pragma_index_list(?1) WHERE origin = 'c' ORDER BY name")
        .unwrap();
    let list: Vec<(String, bool, bool)> = stmt
        .query_map([table], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    list.into_iter()
        .map(|(name, unique, partial)| {
            let mut cols = conn
                .prepare("SELECT name FROM pragma_index_info(?1) ORDER BY seqno")
                .unwrap();
            let columns = cols
                .query_map([&name], |r| r.get(0))
                .unwrap()
                .map(Result::unwrap)
                .collect();
            (name, unique, partial, columns)
        })
        .collect()
}

/// `(column, referenced table, referenced column)` of every foreign key of `table`.
fn foreign_keys(conn: &Connection, table: &str) -> Vec<(String, String, String)> {
    let mut stmt = conn
        .prepare(
            "SELECT \"from\", \"table\", \"to\" FROM pragma_foreign_key_list(?1) ORDER BY \"from\"",
        )
        .unwrap();
    stmt.query_map([table], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

fn fresh(sql: &str) -> Connection {
    let conn = Connection::open_in_memory().unwrap();
    conn.execute_batch(sql)
        .unwrap_or_else(|e| panic!("generated SQL must execute: {e}"));
    conn
}

#[test]
fn fixture_schema_creates_every_table_column_and_index() {
    let conn = fresh(&fixture_sql("fixtures/field-service/syncwright.toml"));
    assert_eq!(
        table_names(&conn),
        // The runtime's own tables are the runtime's: generated SQL never creates them.
        ["comments", "inspections", "photos", "projects", "tasks"]
    );
    let version: i64 = conn
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap();
    assert_eq!(version, 5);

    let task_columns = columns(&conn, "tasks");
    let names: Vec<&str> = task_columns.iter().map(|c| c.0.as_str()).collect();
    assert_eq!(
        names,
        [
            "id",
            "server_id",
            "created_at",
            "updated_at",
            "synced_at",
            "is_deleted",
            "version",
            "sync_status",
            "field_timestamps",
            "title",
            // v4 renamed `notes` to `details` by expand/contract: the old column stays, the
            // new one is appended, as an upgraded database has it.
            "notes",
            "project_id",
            "due_on",
            "done",
            "priority",
            "details"
        ]
    );
    let id = &task_columns[0];
    assert_eq!(
        (id.1.as_str(), id.2, id.4),
        ("TEXT", true, true),
        "id is the NOT NULL TEXT primary key"
    );
    let sync_status = task_columns.iter().find(|c| c.0 == "sync_status").unwrap();
    assert_eq!(sync_status.3.as_deref(), Some("'pending'"));
    let priority = task_columns.iter().find(|c| c.0 == "priority").unwrap();
    assert_eq!(
        (priority.1.as_str(), priority.2, priority.3.as_deref()),
        ("INTEGER", true, Some("0"))
    );
    let details = task_columns.iter().find(|c| c.0 == "details").unwrap();
    assert!(!details.2, "nullable fields have no NOT NULL");

    let task_indexes = indexes(&conn, "tasks");
    let expect = |name: &str, unique: bool, partial: bool, cols: &[&str]| {
        let found = task_indexes
            .iter()
            .find(|i| i.0 == name)
            .unwrap_or_else(|| panic!("missing index {name}: {task_indexes:?}"));
        assert_eq!(
            (
                found.1,
                found.2,
                found.3.iter().map(String::as_str).collect::<Vec<_>>()
            ),
            (unique, partial, cols.to_vec()),
            "{name}"
        );
    };
    expect("unique tasks(server_id)", true, false, &["server_id"]);
    expect(
        "tasks(sync_status) where unsynced",
        false,
        true,
        &["sync_status"],
    );
    expect("tasks(updated_at)", false, false, &["updated_at"]);
    expect("tasks(is_deleted)", false, false, &["is_deleted"]);
    // The foreign key `project_id` is served by `tasks(project_id,priority)`, which starts
    // with it: no index of its own.
    assert!(
        task_indexes.iter().all(|i| i.0 != "tasks(project_id)"),
        "{task_indexes:?}"
    );
    expect("tasks(priority)", false, false, &["priority"]);
    expect(
        "tasks(project_id,priority)",
        false,
        false,
        &["project_id", "priority"],
    );
    assert_eq!(
        foreign_keys(&conn, "tasks"),
        [("project_id".into(), "projects".into(), "id".into())]
    );
    assert_eq!(
        foreign_keys(&conn, "photos"),
        [("inspection_id".into(), "inspections".into(), "id".into())]
    );
    expect_unique(&conn, "photos", "unique photos(sha256)");
}

fn expect_unique(conn: &Connection, table: &str, index: &str) {
    assert!(
        indexes(conn, table).iter().any(|i| i.0 == index && i.1),
        "{index} must be unique"
    );
}

#[test]
fn constraints_reject_bad_rows_and_defaults_fill_sync_columns() {
    let conn = fresh(&fixture_sql("fixtures/field-service/syncwright.toml"));
    conn.execute("INSERT INTO projects (id, name) VALUES ('p1', 'Depot')", [])
        .unwrap();
    let (created, status, version, deleted): (i64, String, i64, i64) = conn
        .query_row(
            "SELECT created_at, sync_status, version, is_deleted FROM projects",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
        )
        .unwrap();
    assert!(
        created > 1_600_000_000_000,
        "created_at defaults to now in epoch ms, got {created}"
    );
    assert_eq!((status.as_str(), version, deleted), ("pending", 1, 0));
    for (sql, why) in [
        (
            "INSERT INTO projects (id, name, sync_status) VALUES ('p2', 'x', 'dirty')",
            "unknown sync_status",
        ),
        (
            "INSERT INTO projects (id, name, is_deleted) VALUES ('p3', 'x', 2)",
            "is_deleted not 0/1",
        ),
        (
            "INSERT INTO projects (id) VALUES ('p4')",
            "NOT NULL field without default",
        ),
        (
            "INSERT INTO projects (id, name, archived) VALUES ('p5', 'x', 7)",
            "bool not 0/1",
        ),
        (
            "INSERT INTO inspections (id, task_id, inspector, inspected_at, checklist) VALUES ('i1', 't', 'a', 0, 'not json')",
            "invalid JSON",
        ),
        (
            "INSERT INTO tasks (id, title, project_id, field_timestamps) VALUES ('t1', 'x', 'p1', '{')",
            "invalid field_timestamps",
        ),
    ] {
        assert!(
            conn.execute(sql, []).is_err(),
            "must be rejected ({why}): {sql}"
        );
    }
    conn.execute(
        "INSERT INTO projects (id, name, server_id) VALUES ('p6', 'x', 's1')",
        [],
    )
    .unwrap();
    assert!(
        conn.execute(
            "INSERT INTO projects (id, name, server_id) VALUES ('p7', 'y', 's1')",
            []
        )
        .is_err(),
        "server_id is unique"
    );
    conn.execute_batch("PRAGMA foreign_keys = ON").unwrap();
    let dangling = conn.execute(
        "INSERT INTO tasks (id, title, project_id) VALUES ('t2', 'x', 'nope')",
        [],
    );
    assert!(
        dangling.is_err(),
        "foreign keys are declared and enforced when the connection turns them on"
    );
}

#[test]
fn sql_keywords_and_camel_case_names_work_when_quoted() {
    let sql = fixture_sql("codegen-cli/tests/keywords/syncwright.toml");
    let conn = fresh(&sql);
    let names: Vec<String> = columns(&conn, "groups").into_iter().map(|c| c.0).collect();
    assert!(
        names.ends_with(&["order", "type", "query", "displayName", "select"].map(String::from))
    );
    conn.execute(
        "INSERT INTO \"groups\" (\"id\", \"order\", \"displayName\") VALUES ('g1', 3, 'Crew A')",
        [],
    )
    .unwrap();
    let (order, ty): (i64, String) = conn
        .query_row("SELECT \"order\", \"type\" FROM \"groups\"", [], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .unwrap();
    assert_eq!((order, ty.as_str()), (3, "team"));
}

fn sqlite3_available() -> bool {
    Command::new("sqlite3")
        .arg("-version")
        .output()
        .is_ok_and(|o| o.status.success())
}

#[test]
#[ignore = "needs the sqlite3 program; .ci/run installs it"]
fn sqlite3_program_runs_the_same_files_to_the_same_schema() {
    assert!(
        sqlite3_available(),
        "the sqlite3 program is required (Debian: apt-get install sqlite3); .ci/run installs it"
    );
    for config in [
        "fixtures/field-service/syncwright.toml",
        "codegen-cli/tests/keywords/syncwright.toml",
    ] {
        let sql = fixture_sql(config);
        let dir = tempfile::tempdir().unwrap();
        let script = dir.path().join("schema.sql");
        std::fs::write(&script, &sql).unwrap();
        let db = dir.path().join("cli.db");
        let output = Command::new("sqlite3")
            .arg("-bail")
            .arg(&db)
            .arg(format!(".read {}", script.display()))
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "sqlite3 rejected the SQL of {config}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        let by_cli = Connection::open(&db).unwrap();
        let by_rusqlite = fresh(&sql);
        support::schema_description::assert_same(
            &schema(&by_cli),
            "the sqlite3 program",
            &schema(&by_rusqlite),
            "rusqlite",
            &format!("{config}: both engines must build the same schema"),
        );
        let version: i64 = by_cli
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .unwrap();
        assert!(version >= 1);
    }
}
