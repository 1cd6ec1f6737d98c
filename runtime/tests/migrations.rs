//! The migration runner: fresh installs, upgrades, refusals and the drift check.

mod common;

use common::*;
use rusqlite::Connection;
use syncwright::{
    ColumnDescriptor, ColumnType, ConflictStrategy, Database, EntityDescriptor, Error,
    OwnedMigration, Syncable, checksum,
};

fn file_digest(path: &std::path::Path) -> String {
    checksum(&String::from_utf8_lossy(
        &std::fs::read(path).expect("read db file"),
    ))
}

/// A v1 database with `rows` tasks, written the way the v1 app would have.
fn v1_database(path: &std::path::Path, rows: usize) {
    let db = Database::open(path, &migrations_up_to(1)).expect("open v1");
    for i in 0..rows {
        db.insert(&TaskV1 {
            title: format!("task {i}"),
            done: i % 2 == 0,
        })
        .expect("insert v1 task");
    }
}

#[test]
fn fresh_database_gets_latest_schema_and_records_every_step() {
    let dir = TempDir::new();
    let db = Database::open_with(
        dir.path("app.db"),
        &migrations(),
        &[Task::ENTITY, Note::ENTITY],
    )
    .unwrap();
    let report = db.migration_report();
    assert!(report.fresh);
    assert_eq!((report.from, report.to), (0, 3));
    drop(db);
    let conn = Connection::open(dir.path("app.db")).unwrap();
    let rows: Vec<(u32, String, String)> = conn
        .prepare("SELECT version, name, checksum FROM _sync_migrations ORDER BY version")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let expected: Vec<(u32, String, String)> = migrations()
        .steps
        .iter()
        .map(|s| (s.version, s.name.clone(), s.checksum.clone()))
        .collect();
    assert_eq!(rows, expected);
    let mode: String = conn
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .unwrap();
    assert_eq!(mode, "wal");
}

#[test]
fn upgrade_v1_to_v3_keeps_every_row_and_backfills() {
    let dir = TempDir::new();
    let path = dir.path("app.db");
    v1_database(&path, 10);
    let mut seen = Vec::new();
    let mut progress =
        |p: &syncwright::Progress<'_>| seen.push((p.version, p.statements_done, p.committed));
    let db = Database::options()
        .on_progress(&mut progress)
        .open(&path, &migrations())
        .unwrap();
    assert_eq!(
        (db.migration_report().from, db.migration_report().to),
        (1, 3)
    );
    let tasks = db.query::<Task>().fetch().unwrap();
    assert_eq!(tasks.len(), 10, "every v1 row survives the upgrade");
    for t in &tasks {
        let expected = if t.done { 0 } else { 1 };
        assert_eq!(t.priority, expected, "{} backfilled", t.title);
        assert_eq!(t.due_at, None);
    }
    drop(db);
    assert!(seen.contains(&(2, 0, false)), "{seen:?}");
    assert!(
        seen.iter().any(|&(v, done, _)| v == 2 && done == 3),
        "a progress event per statement: {seen:?}"
    );
    let queue_entries = count(
        &Connection::open(&path).unwrap(),
        "SELECT count(*) FROM _sync_queue",
    );
    assert_eq!(queue_entries, 10, "the v1 queue survives the upgrade");
}

#[test]
fn upgrade_v2_to_v3_runs_only_the_missing_step() {
    let dir = TempDir::new();
    let path = dir.path("app.db");
    Database::open(&path, &migrations_up_to(2)).unwrap();
    let db = Database::open(&path, &migrations()).unwrap();
    assert_eq!(
        (db.migration_report().from, db.migration_report().to),
        (2, 3)
    );
    db.register::<Note>().unwrap();
    db.register::<Task>().unwrap();
}

#[test]
fn rerunning_a_partially_applied_step_skips_existing_columns() {
    let dir = TempDir::new();
    let path = dir.path("app.db");
    Database::open(&path, &migrations_up_to(2)).unwrap();
    // Simulate a step applied outside the runner without its bookkeeping: the column exists.
    Connection::open(&path)
        .unwrap()
        .execute_batch(r#"ALTER TABLE "tasks" ADD COLUMN "due_at" INTEGER;"#)
        .unwrap();
    Database::open_with(&path, &migrations(), &[Task::ENTITY, Note::ENTITY])
        .expect("ALTER of an existing column is skipped");
}

#[test]
fn checksums_ignore_line_endings() {
    let all = migrations();
    let crlf = all.steps[0].sql.replace('\n', "\r\n");
    assert_eq!(checksum(&crlf), all.steps[0].checksum);
    // A database migrated from CRLF files opens with LF files.
    let mut windows = migrations_up_to(1);
    windows.steps[0] = OwnedMigration::new(1, "init", crlf);
    let dir = TempDir::new();
    Database::open(dir.path("app.db"), &windows).unwrap();
    Database::open(dir.path("app.db"), &migrations()).expect("same checksum with LF");
}

fn refused(path: &std::path::Path, migrations: &impl syncwright::MigrationSource) -> Error {
    let before = file_digest(path);
    let err = Database::open(path, migrations).expect_err("the database must be refused");
    assert_eq!(
        file_digest(path),
        before,
        "a refused database is not written"
    );
    assert!(
        !path.with_extension("db-wal").exists()
            || std::fs::metadata(path.with_extension("db-wal"))
                .unwrap()
                .len()
                == 0
    );
    err
}

/// A database closed in rollback-journal mode, so its main file is its whole content.
fn settled(path: &std::path::Path) {
    let conn = Connection::open(path).unwrap();
    conn.query_row("PRAGMA journal_mode = DELETE", [], |r| {
        r.get::<_, String>(0)
    })
    .unwrap();
}

#[test]
fn tampered_migration_is_refused_without_writing() {
    let dir = TempDir::new();
    let path = dir.path("app.db");
    Database::open(&path, &migrations()).unwrap();
    settled(&path);
    let mut tampered = migrations();
    let sql = tampered.steps[1]
        .sql
        .replace("THEN 1 ELSE 0", "THEN 2 ELSE 0");
    tampered.steps[1] = OwnedMigration::new(2, "priority", sql);
    let err = refused(&path, &tampered);
    assert!(
        matches!(err, Error::ChecksumMismatch { version: 2, .. }),
        "{err:?}"
    );
    insta::assert_snapshot!(err.to_string());
}

#[test]
fn downgrade_is_refused_without_writing() {
    let dir = TempDir::new();
    let path = dir.path("app.db");
    Database::open(&path, &migrations()).unwrap();
    settled(&path);
    let err = refused(&path, &migrations_up_to(2));
    assert!(
        matches!(
            err,
            Error::Downgrade {
                database_version: 3,
                app_version: 2
            }
        ),
        "{err:?}"
    );
    insta::assert_snapshot!(err.to_string());
}

#[test]
fn gap_in_history_is_refused_without_writing() {
    let dir = TempDir::new();
    let path = dir.path("app.db");
    Database::open(&path, &migrations_up_to(2)).unwrap();
    Connection::open(&path)
        .unwrap()
        .execute("DELETE FROM _sync_migrations WHERE version = 1", [])
        .unwrap();
    settled(&path);
    let err = refused(&path, &migrations());
    assert!(matches!(err, Error::HistoryGap { .. }), "{err:?}");
    insta::assert_snapshot!(err.to_string());
}

#[test]
fn database_versioned_outside_the_runner_is_refused() {
    let dir = TempDir::new();
    let path = dir.path("app.db");
    let conn = Connection::open(&path).unwrap();
    conn.execute_batch(&migrations().steps[0].sql).unwrap(); // as the sqlite3 program would
    drop(conn);
    let err = refused(&path, &migrations());
    assert!(
        matches!(
            err,
            Error::ForeignDatabase {
                user_version: 1,
                ..
            }
        ),
        "{err:?}"
    );
}

/// The database files SQLite may leave beside `path`.
fn side_files(path: &std::path::Path) -> Vec<std::path::PathBuf> {
    ["-wal", "-shm", "-journal"]
        .iter()
        .map(|suffix| {
            let mut name = path.as_os_str().to_owned();
            name.push(suffix);
            std::path::PathBuf::from(name)
        })
        .filter(|p| p.exists())
        .collect()
}

/// Opens `path` with the fixture migrations, expecting a refusal that leaves the file's bytes
/// as they were and creates no journal file beside it.
fn refused_untouched(path: &std::path::Path) -> Error {
    let before = std::fs::read(path).unwrap();
    let err = Database::open_with(path, &migrations(), &[Task::ENTITY])
        .expect_err("the database must be refused");
    assert!(
        std::fs::read(path).unwrap() == before,
        "the refused file's bytes changed"
    );
    assert_eq!(side_files(path), Vec::<std::path::PathBuf>::new());
    err
}

/// A database another app made, in rollback-journal mode and closed.
fn other_apps_database(path: &std::path::Path, sql: &str) {
    let conn = Connection::open(path).unwrap();
    conn.execute_batch(sql).unwrap();
    drop(conn);
    assert_eq!(side_files(path), Vec::<std::path::PathBuf>::new());
}

#[test]
fn refuses_a_foreign_database_without_touching_its_bytes() {
    let dir = TempDir::new();
    let path = dir.path("clinic.db");
    other_apps_database(
        &path,
        "CREATE TABLE visits (id INTEGER PRIMARY KEY, reason TEXT);
         CREATE TABLE tasks (id TEXT PRIMARY KEY, title TEXT);
         INSERT INTO visits (reason) VALUES ('checkup');",
    );
    let err = refused_untouched(&path);
    let Error::ForeignDatabase {
        user_version,
        objects,
        ..
    } = &err
    else {
        panic!("expected ForeignDatabase, got {err:?}")
    };
    assert_eq!(
        (*user_version, objects.as_slice()),
        (0, &["tasks".to_owned(), "visits".to_owned()][..])
    );
    let message = err.to_string();
    assert!(
        message.contains("clinic.db")
            && message.contains("`tasks`, `visits`")
            && message.contains("Open a new file"),
        "{message}"
    );
}

#[test]
fn refuses_another_apps_versioned_database_as_foreign_not_as_a_downgrade() {
    let dir = TempDir::new();
    let path = dir.path("other.db");
    other_apps_database(
        &path,
        "CREATE TABLE notes (id INTEGER); PRAGMA user_version = 7;",
    );
    let err = refused_untouched(&path);
    assert!(
        matches!(
            err,
            Error::ForeignDatabase {
                user_version: 7,
                ..
            }
        ),
        "{err:?}"
    );
}

#[test]
fn refuses_a_lone_foreign_sync_queue() {
    let dir = TempDir::new();
    let path = dir.path("queue.db");
    other_apps_database(&path, "CREATE TABLE _sync_queue (job TEXT, due INTEGER);");
    let err = refused_untouched(&path);
    assert!(
        matches!(&err, Error::ForeignDatabase { objects, .. } if objects == &["_sync_queue"]),
        "{err:?}"
    );
}

#[test]
fn refuses_a_file_that_is_not_sqlite_without_touching_it() {
    let dir = TempDir::new();
    let path = dir.path("notes.txt");
    std::fs::write(&path, "shopping list\n".repeat(100)).unwrap();
    let err = refused_untouched(&path);
    assert!(matches!(err, Error::NotADatabase { .. }), "{err:?}");
    assert!(err.to_string().contains("notes.txt"), "{err}");
}

const TASK_WITH_ESTIMATE: &EntityDescriptor = &EntityDescriptor {
    name: "task",
    table: "tasks",
    conflict: ConflictStrategy::FieldMerge,
    columns: &[
        ColumnDescriptor {
            name: "title",
            ty: ColumnType::Text,
            nullable: false,
            references: None,
        },
        ColumnDescriptor {
            name: "estimate",
            ty: ColumnType::Real,
            nullable: true,
            references: None,
        },
    ],
    indexes: &[syncwright::IndexDescriptor {
        name: "idx_tasks_estimate",
        columns: &["estimate"],
        unique: false,
    }],
    sync: &syncwright::SyncColumns::STANDARD,
};

const MISSING_TABLE: &EntityDescriptor = &EntityDescriptor {
    name: "project",
    table: "projects",
    conflict: ConflictStrategy::ServerWins,
    columns: &[],
    indexes: &[],
    sync: &syncwright::SyncColumns::STANDARD,
};

#[test]
fn missing_columns_indexes_and_tables_are_reported_at_open() {
    let dir = TempDir::new();
    let err = Database::open_with(
        dir.path("app.db"),
        &migrations(),
        &[TASK_WITH_ESTIMATE, MISSING_TABLE],
    )
    .expect_err("drift must be reported");
    let Error::SchemaDrift { missing } = &err else {
        panic!("expected SchemaDrift, got {err:?}")
    };
    assert_eq!(missing.len(), 4, "{missing:?}");
    insta::assert_snapshot!(err.to_string());
}

#[test]
fn entity_used_without_registration_is_drift_checked_before_sql_runs() {
    let (db, _) = memory_db();
    let err = db
        .insert(&TaskV3Plus {
            title: "x".into(),
            estimate: None,
        })
        .expect_err("drift");
    assert!(matches!(err, Error::SchemaDrift { .. }), "{err:?}");
}

/// A task shape the database does not have (`estimate` and its index are missing).
#[derive(Debug, Syncable)]
#[syncwright(name = "task_plus", table = "tasks", conflict = "field_merge")]
struct TaskV3Plus {
    title: String,
    #[syncwright(index)]
    estimate: Option<f64>,
}

#[test]
fn validate_accepts_the_fixture_history() {
    syncwright::validate(&migrations(), &[Task::ENTITY, Note::ENTITY])
        .expect("fixtures are consistent");
}

#[test]
fn validate_reports_a_schema_that_disagrees_with_the_steps() {
    let mut broken = migrations();
    let sql = broken
        .schema
        .sql
        .replace("\"due_at\"      INTEGER ", "\"due_at\"      TEXT    ");
    assert_ne!(sql, broken.schema.sql);
    broken.schema = OwnedMigration::new(3, "schema", sql);
    let err = syncwright::validate(&broken, &[]).expect_err("schema differs");
    assert!(
        err.to_string().contains("\"tasks\".\"due_at\" differs"),
        "{err}"
    );
}

#[test]
fn validate_reports_a_schema_whose_type_check_triggers_disagree_with_the_steps() {
    let mut broken = migrations();
    let rule = "WHEN NEW.\"pinned\" NOT IN (0, 1)";
    assert!(broken.schema.sql.contains(rule), "{}", broken.schema.sql);
    let sql = broken
        .schema
        .sql
        .replacen(rule, "WHEN NEW.\"pinned\" NOT IN (0, 1, 2)", 1);
    broken.schema = OwnedMigration::new(3, "schema", sql);
    let err = syncwright::validate(&broken, &[]).expect_err("schema differs");
    assert!(
        err.to_string()
            .contains("trigger \"notes.pinned is bool on insert\" on \"notes\" differs"),
        "{err}"
    );
}

#[test]
fn a_failing_migration_leaves_the_old_version() {
    let dir = TempDir::new();
    let path = dir.path("app.db");
    v1_database(&path, 3);
    let mut broken = migrations();
    let sql = broken.steps[2].sql.replace(
        "PRAGMA user_version = 3;",
        "INSERT INTO nowhere VALUES (1);\nPRAGMA user_version = 3;",
    );
    broken.steps[2] = OwnedMigration::new(3, "notes", sql);
    let err = Database::open(&path, &broken).expect_err("step 3 fails");
    assert!(
        matches!(err, Error::MigrationFailed { version: 3, .. }),
        "{err:?}"
    );
    assert!(err.to_string().contains("INSERT INTO nowhere"), "{err}");
    let conn = Connection::open(&path).unwrap();
    assert_eq!(
        count(&conn, "PRAGMA user_version"),
        2,
        "step 2 committed, step 3 rolled back"
    );
    assert_eq!(
        count(&conn, "SELECT count(*) FROM pragma_table_info('notes')"),
        0
    );
    assert_eq!(
        count(
            &conn,
            "SELECT count(*) FROM pragma_table_info('tasks') WHERE name = 'due_at'"
        ),
        0
    );
}

#[test]
fn progress_at_commit_reports_the_statements_of_the_migration() {
    let dir = TempDir::new();
    let path = dir.path("app.db");
    v1_database(&path, 2);
    let mut seen = Vec::new();
    let mut progress =
        |p: &syncwright::Progress<'_>| seen.push((p.version, p.statements_done, p.committed));
    Database::options()
        .on_progress(&mut progress)
        .open(&path, &migrations())
        .unwrap();
    for version in [2, 3] {
        let executed = seen
            .iter()
            .filter(|&&(v, _, committed)| v == version && !committed)
            .map(|&(_, done, _)| done)
            .max()
            .unwrap();
        let at_commit: Vec<usize> = seen
            .iter()
            .filter(|&&(v, _, committed)| v == version && committed)
            .map(|&(_, done, _)| done)
            .collect();
        assert_eq!(
            at_commit,
            [executed],
            "version {version}: the commit event repeats the statement count: {seen:?}"
        );
    }
}

/// The fixture history plus a step 4 adding a column whose text default spans lines and holds
/// `COMMIT;` and `ALTER TABLE` text.
fn with_multi_line_default() -> (syncwright::OwnedMigrations, &'static str) {
    const DEFAULT: &str =
        "first line\nCOMMIT;\nALTER TABLE \"tasks\" ADD COLUMN \"x\" INTEGER;\nlast line";
    let step = format!(
        "-- @generated by syncwright: do not edit. Version 4.\nBEGIN;\n\
         ALTER TABLE \"tasks\" ADD COLUMN \"memo\" TEXT NOT NULL DEFAULT '{DEFAULT}';\n\
         PRAGMA user_version = 4;\nCOMMIT;\n"
    );
    let mut all = migrations();
    all.steps.push(OwnedMigration::new(4, "memo", step));
    let schema: String = all.steps.iter().map(|s| s.sql.as_str()).collect();
    all.schema = OwnedMigration::new(4, "schema", schema);
    all.version = 4;
    (all, DEFAULT)
}

#[test]
fn a_multi_line_default_holding_commit_and_alter_text_survives_the_upgrade() {
    let (v4, default) = with_multi_line_default();
    syncwright::validate(&v4, &[Task::ENTITY, Note::ENTITY])
        .expect("fresh, upgraded and re-run steps agree");
    let dir = TempDir::new();
    let path = dir.path("app.db");
    v1_database(&path, 3);
    let db = Database::open(&path, &v4).expect("upgrade to v4");
    assert_eq!(db.migration_report().to, 4);
    drop(db);
    let conn = Connection::open(&path).unwrap();
    let memos: Vec<String> = conn
        .prepare("SELECT memo FROM tasks")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(
        memos,
        vec![default.to_owned(); 3],
        "the default is kept whole"
    );
    assert_eq!(
        count(
            &conn,
            "SELECT count(*) FROM pragma_table_info('tasks') WHERE name = 'x'"
        ),
        0,
        "text inside the default was not run as a statement"
    );
    drop(conn);
    // Re-running the step on a database that already has the column skips the whole statement.
    Connection::open(&path)
        .unwrap()
        .execute_batch("PRAGMA user_version = 3; DELETE FROM _sync_migrations WHERE version = 4;")
        .unwrap();
    Database::open(&path, &v4).expect("the existing column is skipped as one statement");
}

#[test]
fn an_index_under_another_name_satisfies_the_drift_check() {
    let dir = TempDir::new();
    let path = dir.path("app.db");
    drop(Database::open(&path, &migrations()).unwrap());
    Connection::open(&path)
        .unwrap()
        .execute_batch(
            r#"DROP INDEX "tasks(priority)"; CREATE INDEX "idx_tasks_priority" ON "tasks" ("priority");
               DROP INDEX "unique tasks(server_id)"; CREATE UNIQUE INDEX "tasks_server_id_key" ON "tasks" ("server_id") WHERE "server_id" IS NOT NULL;"#,
        )
        .unwrap();
    Database::open_with(&path, &migrations(), &[Task::ENTITY])
        .expect("indexes are matched by table, columns and uniqueness");
}

#[test]
fn an_index_with_the_expected_name_but_another_shape_is_drift() {
    let dir = TempDir::new();
    let path = dir.path("app.db");
    drop(Database::open(&path, &migrations()).unwrap());
    Connection::open(&path)
        .unwrap()
        .execute_batch(
            r#"DROP INDEX "tasks(priority)"; CREATE INDEX "tasks(priority)" ON "tasks" ("priority", "title");
               DROP INDEX "unique tasks(server_id)"; CREATE INDEX "unique tasks(server_id)" ON "tasks" ("server_id");"#,
        )
        .unwrap();
    let err = Database::open_with(&path, &migrations(), &[Task::ENTITY])
        .expect_err("wrong columns and lost uniqueness are drift");
    let Error::SchemaDrift { missing } = &err else {
        panic!("expected SchemaDrift, got {err:?}")
    };
    let indexes: Vec<String> = missing.iter().map(ToString::to_string).collect();
    assert_eq!(
        indexes,
        [
            "missing index `unique tasks(server_id)` on `tasks`",
            "missing index `tasks(priority)` on `tasks`"
        ]
    );
}

#[test]
fn to_latest_with_progress_reports_each_migration_of_a_connection_it_brings_up_to_date() {
    let mut conn = Connection::open_in_memory().unwrap();
    let mut commits = Vec::new();
    let report = syncwright::migrate::to_latest_with_progress(
        &mut conn,
        &migrations(),
        &mut |p: &syncwright::Progress<'_>| {
            if p.committed {
                commits.push((p.version, p.name.to_owned(), p.migration, p.migrations));
            }
        },
    )
    .unwrap();
    assert_eq!((report.from, report.to, report.fresh), (0, 3, true));
    assert_eq!(
        commits,
        [(3, "schema".to_owned(), 1, 1)],
        "one fresh-install schema"
    );
    assert_eq!(count(&conn, "SELECT count(*) FROM _sync_migrations"), 3);
}
