//! The runtime owns its tables: it creates and upgrades them with its own versioned steps,
//! and databases made by release 0.1.0 (whose generated SQL created them) upgrade in place.

mod common;

use std::path::{Path, PathBuf};

use common::*;
use rusqlite::Connection;
use syncwright::{
    Database, Error, Migrations, OwnedMigrations, QueueStatus, RUNTIME_TABLES_VERSION, Syncable,
    runtime_tables_sql,
};

fn release_0_1_0() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/made-by-release-0.1.0")
}

/// The app's migrations as released with syncwright 0.1.0, cut at `version`.
fn released_migrations(version: u32) -> OwnedMigrations {
    let mut all = Migrations::from_dir(release_0_1_0()).expect("release 0.1.0 fixture loads");
    all.steps.retain(|s| s.version <= version);
    all.version = version;
    all.schema = syncwright::OwnedMigration::new(
        version,
        "schema",
        all.steps.iter().map(|s| s.sql.as_str()).collect::<String>(),
    );
    all
}

/// A database as the 0.1.0 runtime left it at schema v1: step 0001 (which created the runtime
/// tables), its `_sync_migrations` row, and rows in the app table, the queue (pending, in flight
/// and failed), the cursors and the log.
fn database_made_by_release_0_1_0(path: &Path) {
    let v1 = released_migrations(1);
    let conn = Connection::open(path).unwrap();
    conn.execute_batch(&v1.steps[0].sql).unwrap();
    conn.execute_batch(
        "CREATE TABLE IF NOT EXISTS \"_sync_migrations\" (\"version\" INTEGER PRIMARY KEY, \
         \"name\" TEXT NOT NULL, \"checksum\" TEXT NOT NULL, \"applied_at\" INTEGER NOT NULL)",
    )
    .unwrap();
    conn.execute(
        "INSERT INTO _sync_migrations VALUES (1, 'init', ?1, 1700000000000)",
        [&v1.steps[0].checksum],
    )
    .unwrap();
    conn.execute_batch(
        "INSERT INTO tasks (id, title, done) VALUES
             ('00000000-0000-4000-8000-000000000001', 'open', 0),
             ('00000000-0000-4000-8000-000000000002', 'done', 1),
             ('00000000-0000-4000-8000-000000000003', 'sent', 0);
         INSERT INTO _sync_queue (idempotency_key, entity_type, action, entity_id, payload, schema_version, next_attempt_at, created_at)
             VALUES ('00000000-0000-4000-8000-00000000000a', 'task', 'create', '00000000-0000-4000-8000-000000000001', '{\"title\":\"open\",\"done\":false}', 1, 1700000000000, 1700000000000);
         INSERT INTO _sync_queue (idempotency_key, entity_type, action, entity_id, payload, schema_version, next_attempt_at, created_at, status, retry_count, error)
             VALUES ('00000000-0000-4000-8000-00000000000b', 'task', 'create', '00000000-0000-4000-8000-000000000002', '{\"title\":\"done\",\"done\":true}', 1, 1700000000500, 1700000000001, 'failed', 10, 'HTTP 500');
         INSERT INTO _sync_queue (idempotency_key, entity_type, action, entity_id, payload, schema_version, next_attempt_at, created_at, status)
             VALUES ('00000000-0000-4000-8000-00000000000c', 'task', 'create', '00000000-0000-4000-8000-000000000003', '{\"title\":\"sent\",\"done\":false}', 1, 1700000000000, 1700000000002, 'in_flight');
         INSERT INTO _sync_cursors (entity_type, cursor, updated_at) VALUES ('task', 'c-42', 1700000000000);
         INSERT INTO _sync_log (at, direction, entity_type, pulled, pushed, conflicts, resolution, error)
             VALUES (1700000000000, 'pull', 'task', 3, 0, 1, 'lww', NULL), (1700000000100, 'push', NULL, 0, 2, 0, NULL, 'offline');",
    )
    .unwrap();
}

/// Every row of `table` over the columns release 0.1.0 had, as text.
fn rows(conn: &Connection, table: &str, columns: &str) -> Vec<String> {
    conn.prepare(&format!("SELECT {columns} FROM {table} ORDER BY 1"))
        .unwrap()
        .query_map([], |r| {
            let n = r.as_ref().column_count();
            Ok((0..n)
                .map(|i| format!("{:?}", r.get::<_, rusqlite::types::Value>(i).unwrap()))
                .collect::<Vec<_>>()
                .join("|"))
        })
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

const QUEUE_0_1_0: &str = "id, idempotency_key, entity_type, action, entity_id, payload, schema_version, \
                           retry_count, max_retries, next_attempt_at, created_at, status, error";

/// The UUID text of a 16-byte key (step 5 stores keys so), in SQL.
const KEY_AS_TEXT: &str = "CASE WHEN typeof(idempotency_key) = 'blob' THEN lower(substr(hex(idempotency_key), 1, 8) \
     || '-' || substr(hex(idempotency_key), 9, 4) || '-' || substr(hex(idempotency_key), 13, 4) || '-' \
     || substr(hex(idempotency_key), 17, 4) || '-' || substr(hex(idempotency_key), 21)) \
     ELSE 'not converted: ' || typeof(idempotency_key) END";

/// [`QUEUE_0_1_0`] with the key read back as UUID text.
fn queue_0_1_0_keys_as_text() -> String {
    QUEUE_0_1_0.replacen("idempotency_key", KEY_AS_TEXT, 1)
}

#[test]
fn a_database_made_by_release_0_1_0_upgrades_in_place_keeping_queue_cursors_and_log() {
    let dir = TempDir::new();
    let path = dir.path("app.db");
    database_made_by_release_0_1_0(&path);
    let conn = Connection::open(&path).unwrap();
    let queue_before = rows(&conn, "_sync_queue", QUEUE_0_1_0);
    let cursors_before = rows(&conn, "_sync_cursors", "*");
    let log_before = rows(&conn, "_sync_log", "*");
    drop(conn);

    // The app, rebuilt against this runtime, still ships its 0.1.0 migration files.
    let db = Database::open_with(
        &path,
        &released_migrations(3),
        &[Task::ENTITY, Note::ENTITY],
    )
    .expect("a 0.1.0 database opens and upgrades");
    assert_eq!(
        (db.migration_report().from, db.migration_report().to),
        (1, 3)
    );
    let conn = Connection::open(&path).unwrap();
    let versions: Vec<i64> = conn
        .prepare("SELECT version FROM _sync_runtime ORDER BY version")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(
        versions,
        (1..=i64::from(RUNTIME_TABLES_VERSION)).collect::<Vec<_>>()
    );
    // The in-flight entry's owner (a 0.1.0 process) is gone: recovery put it back in line.
    let expected_queue: Vec<String> = queue_before
        .iter()
        .map(|row| {
            row.replace(
                "Text(\"in_flight\")|Null",
                "Text(\"pending\")|Text(\"interrupted while in flight\")",
            )
        })
        .collect();
    // Step 5 stored each key as its 16 bytes: the same UUIDs.
    assert_eq!(
        rows(&conn, "_sync_queue", &queue_0_1_0_keys_as_text()),
        expected_queue
    );
    // Step 3 added a column to each (NULL on the old rows).
    let with_null =
        |rows: &[String]| -> Vec<String> { rows.iter().map(|r| format!("{r}|Null")).collect() };
    assert_eq!(
        rows(&conn, "_sync_cursors", "*"),
        with_null(&cursors_before)
    );
    assert_eq!(rows(&conn, "_sync_log", "*"), with_null(&log_before));
    drop(conn);

    // The upgraded queue works.
    let status = db.status().unwrap();
    assert_eq!((status.pending, status.failed), (2, 1));
    assert_eq!(db.cursor("task").unwrap().as_deref(), Some("c-42"));
    let batch = db.queue().next_batch(10).unwrap();
    assert_eq!(batch.len(), 2);
    // Their keys read back as the UUIDs queued, and their creates send the payload 0.1.0
    // stored, unchanged.
    let sent: Vec<(String, serde_json::Value)> = batch
        .iter()
        .map(|e| {
            (
                e.idempotency_key.to_string(),
                serde_json::Value::Object(e.payload.clone()),
            )
        })
        .collect();
    assert_eq!(
        sent,
        [
            (
                "00000000-0000-4000-8000-00000000000a".to_owned(),
                serde_json::json!({"title": "open", "done": false})
            ),
            (
                "00000000-0000-4000-8000-00000000000c".to_owned(),
                serde_json::json!({"title": "sent", "done": false})
            ),
        ]
    );
    for entry in batch {
        db.queue().complete(entry.id).unwrap();
    }
    assert_eq!(
        db.queue()
            .all_entries()
            .unwrap()
            .iter()
            .filter(|e| e.status == QueueStatus::Completed)
            .count(),
        2
    );
}

#[test]
fn runtime_table_steps_are_frozen() {
    insta::assert_snapshot!(runtime_tables_sql());
}

#[test]
fn the_contract_prints_the_runtime_tables_sql() {
    let contracts =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/contracts.md"))
            .unwrap();
    assert!(
        contracts.contains(&runtime_tables_sql()),
        "docs/contracts.md must print syncwright::runtime_tables_sql() verbatim:\n{}",
        runtime_tables_sql()
    );
}

/// The runtime tables' columns and indexes, as SQLite reports them.
fn runtime_shape(conn: &Connection) -> Vec<String> {
    rows(
        conn,
        "(SELECT m.name AS t, p.name AS c, p.type, p.\"notnull\", p.dflt_value, p.pk \
          FROM sqlite_master AS m, pragma_table_info(m.name) AS p \
          WHERE m.type = 'table' AND m.name IN ('_sync_queue', '_sync_cursors', '_sync_log', '_sync_runtime') \
          UNION ALL SELECT m.tbl_name, m.name, NULL, NULL, NULL, NULL FROM sqlite_master AS m \
          WHERE m.type = 'index' AND m.tbl_name LIKE '\\_sync\\_%' ESCAPE '\\')",
        "*",
    )
}

#[test]
fn the_sqlite3_path_gets_the_same_runtime_tables_as_the_runtime() {
    let by_sql = Connection::open_in_memory().unwrap();
    by_sql.execute_batch(&runtime_tables_sql()).unwrap();
    by_sql.execute_batch(&migrations().schema.sql).unwrap();
    let dir = TempDir::new();
    drop(Database::open(dir.path("app.db"), &migrations()).unwrap());
    let by_runtime = Connection::open(dir.path("app.db")).unwrap();
    let mut a = runtime_shape(&by_sql);
    let mut b = runtime_shape(&by_runtime);
    a.sort();
    b.sort();
    assert!(!a.is_empty());
    assert_eq!(a, b);
}

#[test]
fn runtime_tables_newer_than_the_runtime_are_refused_without_writing() {
    let dir = TempDir::new();
    let path = dir.path("app.db");
    drop(Database::open(&path, &migrations()).unwrap());
    let conn = Connection::open(&path).unwrap();
    conn.execute("INSERT INTO _sync_runtime VALUES (99, 0)", [])
        .unwrap();
    conn.query_row("PRAGMA journal_mode = DELETE", [], |r| {
        r.get::<_, String>(0)
    })
    .unwrap();
    drop(conn);
    let before = std::fs::read(&path).unwrap();
    let err = Database::open(&path, &migrations()).expect_err("refused");
    assert!(
        matches!(
            err,
            Error::RuntimeDowngrade {
                database_version: 99,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(
        std::fs::read(&path).unwrap() == before,
        "nothing was written"
    );
}

/// Every column of the queue at step 4, in table order.
const QUEUE_AT_STEP_4: &str = "id, idempotency_key, entity_type, action, entity_id, payload, schema_version, \
     retry_count, max_retries, next_attempt_at, created_at, status, error, claimed_by, base_version, \
     changed_fields";

/// A database whose runtime tables are at step 4, with a queue entry in every status (retry
/// counts, errors, an owner, bases and changed fields set), a gap at the end of the ids (the
/// last entry was discarded) and a view of the app that reads the queue.
fn database_at_runtime_step_4(path: &Path) {
    let conn = Connection::open(path).unwrap();
    conn.execute_batch(&runtime_steps_up_to(4)).unwrap();
    conn.execute_batch(
        "INSERT INTO _sync_queue (id, idempotency_key, entity_type, action, entity_id, payload, schema_version, retry_count, max_retries, next_attempt_at, created_at, status, error, claimed_by, base_version, changed_fields) VALUES
             (1, '5f0c6a7e-1d2b-4c3d-8e4f-a1b2c3d4e5f6', 'task', 'create', '00000000-0000-4000-8000-000000000001', '{\"title\":\"a\",\"done\":false}', 3, 0, 10, 1700000000000, 1700000000000, 'completed', NULL, NULL, NULL, NULL),
             (2, '6a1d7b8f-2e3c-4d4e-9f50-b2c3d4e5f607', 'task', 'update', '00000000-0000-4000-8000-000000000001', '{\"title\":\"b\"}', 3, 2, 10, 1700000004000, 1700000001000, 'pending', 'HTTP 503', NULL, 7, '[\"title\"]'),
             (3, '7b2e8c90-3f4d-4e5f-a061-c3d4e5f60718', 'task', 'create', '00000000-0000-4000-8000-000000000002', '{\"title\":\"c\",\"done\":true}', 3, 0, 10, 1700000000000, 1700000002000, 'in_flight', 'lost answer', 'gone-instance', NULL, NULL),
             (4, '8c3f9da1-4051-4f60-b172-d4e5f6071829', 'task', 'delete', '00000000-0000-4000-8000-000000000003', '{}', 2, 10, 10, 1700000009000, 1700000003000, 'failed', 'rejected: locked', NULL, 12, NULL),
             (5, '9d40aeb2-5162-4071-8283-e5f60718293a', 'note', 'update', '00000000-0000-4000-8000-000000000004', '{\"body\":\"x\",\"pinned\":null}', 3, 1, 5, 1700000005000, 1700000004000, 'pending', NULL, NULL, 2, '[\"body\",\"pinned\"]'),
             (6, 'ae51bfc3-6273-4182-9394-f6071829304b', 'task', 'create', '00000000-0000-4000-8000-000000000005', '{\"title\":\"gone\",\"done\":false}', 3, 0, 10, 1700000000000, 1700000005000, 'pending', NULL, NULL, NULL, NULL);
         DELETE FROM _sync_queue WHERE id = 6;
         CREATE VIEW app_pending_count AS SELECT count(*) AS n FROM _sync_queue WHERE status = 'pending';",
    )
    .unwrap();
}

#[test]
fn runtime_step_5_rebuilds_the_queue_keeping_every_entry_and_converting_keys() {
    let dir = TempDir::new();
    let path = dir.path("app.db");
    database_at_runtime_step_4(&path);
    let conn = Connection::open(&path).unwrap();
    let before = rows(&conn, "_sync_queue", QUEUE_AT_STEP_4);
    drop(conn);

    let db = Database::open_with(&path, &migrations(), &[Task::ENTITY, Note::ENTITY])
        .expect("a database at runtime step 4 opens and upgrades");
    let conn = Connection::open(&path).unwrap();
    assert_eq!(
        count(&conn, "SELECT max(version) FROM _sync_runtime"),
        i64::from(RUNTIME_TABLES_VERSION)
    );
    // Every entry and field as it was; the in-flight entry's owner is gone, so recovery at
    // open put it back in line (as for any in-flight entry of a dead instance).
    let expected: Vec<String> = before
        .iter()
        .map(|row| {
            row.replace(
                "Text(\"in_flight\")|Text(\"lost answer\")|Text(\"gone-instance\")",
                "Text(\"pending\")|Text(\"lost answer\")|Null",
            )
        })
        .collect();
    assert_ne!(expected, before, "the in-flight entry is in the fixture");
    let after = QUEUE_AT_STEP_4.replacen("idempotency_key", KEY_AS_TEXT, 1);
    assert_eq!(rows(&conn, "_sync_queue", &after), expected);
    assert_eq!(
        count(
            &conn,
            "SELECT count(*) FROM _sync_queue WHERE typeof(idempotency_key) <> 'blob' \
             OR length(idempotency_key) <> 16"
        ),
        0,
        "every key is stored as its 16 bytes"
    );
    // The new shape: a BLOB key, a nullable payload, only the indexes the queue's queries use.
    assert_eq!(
        rows(
            &conn,
            "pragma_table_info('_sync_queue')",
            "cid, name, type, \"notnull\""
        )
        .iter()
        .filter(|r| r.contains("idempotency_key") || r.contains("payload"))
        .cloned()
        .collect::<Vec<_>>(),
        [
            "Integer(1)|Text(\"idempotency_key\")|Text(\"BLOB\")|Integer(1)",
            "Integer(5)|Text(\"payload\")|Text(\"TEXT\")|Integer(0)",
        ]
    );
    assert_eq!(
        rows(
            &conn,
            "(SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = '_sync_queue')",
            "name"
        ),
        [
            "Text(\"idx__sync_queue_entity_type_entity_id\")",
            "Text(\"idx__sync_queue_status_id\")",
            "Text(\"sqlite_autoindex__sync_queue_1\")",
        ]
    );
    // The app's view still reads the queue, and the rebuilt table is the only one.
    assert_eq!(count(&conn, "SELECT n FROM app_pending_count"), 3);
    assert_eq!(
        count(
            &conn,
            "SELECT count(*) FROM sqlite_master WHERE name LIKE '\\_sync\\_queue\\_new%' ESCAPE '\\'"
        ),
        0
    );
    integrity_ok(&conn);
    drop(conn);

    // Through the API: the same keys, and no id handed out twice (6 was used, then discarded).
    let entries = db.queue().all_entries().unwrap();
    assert_eq!(
        entries
            .iter()
            .map(|e| e.idempotency_key.to_string())
            .collect::<Vec<_>>(),
        [
            "5f0c6a7e-1d2b-4c3d-8e4f-a1b2c3d4e5f6",
            "6a1d7b8f-2e3c-4d4e-9f50-b2c3d4e5f607",
            "7b2e8c90-3f4d-4e5f-a061-c3d4e5f60718",
            "8c3f9da1-4051-4f60-b172-d4e5f6071829",
            "9d40aeb2-5162-4071-8283-e5f60718293a",
        ]
    );
    let new = db.insert(&Task::new("after the upgrade")).unwrap();
    let queued = db.queue().open_entries().unwrap();
    let last = queued.last().unwrap();
    assert_eq!((last.id, last.entity_id), (7, new.id));
}

#[test]
fn a_key_the_portable_step_left_as_text_reads_as_its_uuid() {
    // A program without the runtime ran step 5 (an SQLite older than 3.41 has no `unhex`, so
    // the portable SQL copies keys as they are): the runtime reads a text key as well.
    let dir = TempDir::new();
    let path = dir.path("app.db");
    database_at_runtime_step_4(&path);
    let conn = Connection::open(&path).unwrap();
    let all = runtime_tables_sql();
    conn.execute_batch(&all[runtime_steps_up_to(4).len()..])
        .unwrap();
    assert_eq!(
        count(
            &conn,
            "SELECT count(*) FROM _sync_queue WHERE typeof(idempotency_key) = 'text'"
        ),
        5
    );
    drop(conn);
    let db = Database::open_with(&path, &migrations(), &[Task::ENTITY, Note::ENTITY]).unwrap();
    let keys: Vec<String> = db
        .queue()
        .all_entries()
        .unwrap()
        .iter()
        .map(|e| e.idempotency_key.to_string())
        .collect();
    assert_eq!(keys[0], "5f0c6a7e-1d2b-4c3d-8e4f-a1b2c3d4e5f6");
    assert_eq!(keys.len(), 5);
}
