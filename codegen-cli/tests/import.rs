//! `syncwright import` and `syncwright inspect`: specs from a live database, a Room export and
//! a Drift dump, the adoption migration, and databases left byte-for-byte as they were.

use std::path::Path;

use rusqlite::Connection;
use syncwright_codegen::import::{ExistingRows, ImportSource, import, read_source};
use syncwright_codegen::inspect::inspect;

/// A clinic app's schema: an autoincrement key, a text key, a composite key, foreign keys
/// between tables, SQL keywords and camelCase names, defaults, unique and plain indexes.
const CLINIC: &str = r#"
CREATE TABLE patients (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    displayName TEXT NOT NULL,
    email VARCHAR(200) UNIQUE,
    birthYear INTEGER,
    active BOOLEAN NOT NULL DEFAULT 1,
    createdAt DATETIME DEFAULT CURRENT_TIMESTAMP
);
CREATE TABLE rooms (
    code TEXT PRIMARY KEY NOT NULL,
    "group" TEXT NOT NULL DEFAULT 'main',
    floor INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE "order" (
    patientId INTEGER NOT NULL REFERENCES patients(id),
    "index" INTEGER NOT NULL,
    roomCode TEXT REFERENCES rooms(code),
    amount REAL NOT NULL DEFAULT 0.5,
    note TEXT DEFAULT 'it''s fine',
    photo BLOB,
    PRIMARY KEY (patientId, "index")
);
CREATE INDEX order_room_amount ON "order" (roomCode, amount);
CREATE UNIQUE INDEX rooms_group_floor ON rooms ("group", floor);
INSERT INTO patients (displayName, email, birthYear) VALUES ('Ann', 'ann@example.com', 1980), ('Bob', NULL, NULL);
INSERT INTO rooms (code, "group", floor) VALUES ('A1', 'main', 1), ('B2', 'annex', 2);
INSERT INTO "order" (patientId, "index", roomCode, amount, note) VALUES (1, 1, 'A1', 10.0, NULL), (1, 2, NULL, 2.5, 'x'), (2, 1, 'B2', 0.5, 'y');
"#;

fn clinic_db(dir: &Path) -> std::path::PathBuf {
    let path = dir.join("clinic.db");
    Connection::open(&path)
        .unwrap()
        .execute_batch(CLINIC)
        .unwrap();
    path
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn import_writes_specs_keeping_names_types_keys_indexes_and_foreign_keys() {
    let dir = tempfile::tempdir().unwrap();
    let db = clinic_db(dir.path());
    let project = dir.path().join("app");
    import(&ImportSource::Database(db), &project, ExistingRows::Pending).unwrap();
    insta::assert_snapshot!(
        "clinic_syncwright_toml",
        read(&project.join("syncwright.toml"))
    );
    insta::assert_snapshot!(
        "clinic_patients",
        read(&project.join("schema/patients.toml"))
    );
    insta::assert_snapshot!("clinic_rooms", read(&project.join("schema/rooms.toml")));
    insta::assert_snapshot!("clinic_order", read(&project.join("schema/order.toml")));
    assert!(
        !project.join("schema/adopt.sql").exists(),
        "the adoption migration is the first release, not a file of its own"
    );
    // Every spec is valid TOML whose table name is the app's, exactly.
    for (file, table) in [
        ("patients", "patients"),
        ("rooms", "rooms"),
        ("order", "order"),
    ] {
        let spec: toml::Table = read(&project.join(format!("schema/{file}.toml")))
            .parse()
            .unwrap();
        assert_eq!(spec["entity"]["table"].as_str(), Some(table));
    }
}

#[test]
fn import_snapshot_records_composite_keys_and_foreign_keys() {
    let dir = tempfile::tempdir().unwrap();
    let schema = read_source(&ImportSource::Database(clinic_db(dir.path()))).unwrap();
    let order = schema
        .table("order")
        .expect("the keyword table is imported");
    assert_eq!(order.primary_key, ["patientId", "index"]);
    assert_eq!(order.foreign_keys.len(), 2);
    assert_eq!(order.foreign_keys[0].table, "patients");
    assert_eq!(order.foreign_keys[1].table, "rooms");
    let patients = schema.table("patients").unwrap();
    assert!(patients.autoincrement);
    assert_eq!(schema.table("rooms").unwrap().primary_key, ["code"]);
}

#[test]
fn import_leaves_the_live_database_byte_identical() {
    let dir = tempfile::tempdir().unwrap();
    let db = clinic_db(dir.path());
    let before = std::fs::read(&db).unwrap();
    import(
        &ImportSource::Database(db.clone()),
        &dir.path().join("app"),
        ExistingRows::Synced,
    )
    .unwrap();
    assert!(
        std::fs::read(&db).unwrap() == before,
        "import changed the database file"
    );
    let leftovers: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("clinic.db-"))
        .collect();
    assert!(
        leftovers.is_empty(),
        "import left {leftovers:?} next to the database"
    );
}

#[test]
fn inspect_leaves_the_live_database_byte_identical() {
    let dir = tempfile::tempdir().unwrap();
    let db = clinic_db(dir.path());
    let before = std::fs::read(&db).unwrap();
    let report = inspect(&db, None).unwrap();
    assert_eq!(report.schema_version, 0);
    assert!(
        std::fs::read(&db).unwrap() == before,
        "inspect changed the database file"
    );
}

#[test]
fn inspecting_a_wal_database_leaves_no_file_behind() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("wal #1?.db");
    let conn = Connection::open(&db).unwrap();
    conn.execute_batch("PRAGMA journal_mode = WAL; CREATE TABLE t (x); INSERT INTO t VALUES (1);")
        .unwrap();
    drop(conn); // checkpoints and removes the log, as an app that closed it cleanly
    let before = std::fs::read(&db).unwrap();
    inspect(&db, None).unwrap();
    read_source(&ImportSource::Database(db.clone())).unwrap();
    let files: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(files, ["wal #1?.db"], "no -wal or -shm file may appear");
    assert!(std::fs::read(&db).unwrap() == before);
}

#[test]
fn import_refuses_a_folder_that_already_holds_a_project() {
    let dir = tempfile::tempdir().unwrap();
    let db = clinic_db(dir.path());
    std::fs::write(
        dir.path().join("syncwright.toml"),
        "[schema]\nversion = 3\n",
    )
    .unwrap();
    let err = import(
        &ImportSource::Database(db),
        dir.path(),
        ExistingRows::Pending,
    )
    .unwrap_err();
    assert!(err.to_string().contains("already exists"), "{err}");
    assert_eq!(
        read(&dir.path().join("syncwright.toml")),
        "[schema]\nversion = 3\n"
    );
    assert!(
        !dir.path().join("schema").exists(),
        "nothing may be written"
    );
}

#[test]
fn import_refuses_a_file_that_is_not_a_database_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("notes.txt");
    std::fs::write(&path, "hello, not SQLite at all, just some text to read").unwrap();
    let err = read_source(&ImportSource::Database(path)).unwrap_err();
    let message = err.to_string();
    assert!(
        message.contains("notes.txt") && message.contains("not a readable SQLite database"),
        "{message}"
    );
}

#[test]
fn import_from_a_room_export_reads_its_tables_keys_indexes_and_foreign_keys() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/import/room_notes_v3.json");
    let schema = read_source(&ImportSource::Room(path.clone())).unwrap();
    let names: Vec<&str> = schema.tables.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(
        names,
        ["folders", "notes"],
        "room_master_table is Room's, not the app's"
    );
    let notes = schema.table("notes").unwrap();
    assert_eq!(notes.primary_key, ["uuid"]);
    assert_eq!(notes.foreign_keys[0].table, "folders");
    assert!(schema.table("folders").unwrap().indexes[0].unique);
    let dir = tempfile::tempdir().unwrap();
    import(&ImportSource::Room(path), dir.path(), ExistingRows::Pending).unwrap();
    insta::assert_snapshot!("room_notes", read(&dir.path().join("schema/notes.toml")));
    insta::assert_snapshot!(
        "room_folders",
        read(&dir.path().join("schema/folders.toml"))
    );
}

#[test]
fn import_from_a_drift_dump_reads_its_tables_keys_indexes_and_foreign_keys() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/import/drift_schema_v2.json");
    let schema = read_source(&ImportSource::Drift(path.clone())).unwrap();
    let items = schema.table("todo_items").unwrap();
    assert_eq!(items.primary_key, ["id"]);
    assert!(items.autoincrement);
    assert_eq!(items.foreign_keys[0].table, "todo_categories");
    assert!(items.indexes.iter().any(|i| i.name == "items_category"));
    let dir = tempfile::tempdir().unwrap();
    import(
        &ImportSource::Drift(path),
        dir.path(),
        ExistingRows::Pending,
    )
    .unwrap();
    insta::assert_snapshot!(
        "drift_todo_items",
        read(&dir.path().join("schema/todo_items.toml"))
    );
    insta::assert_snapshot!(
        "drift_todo_categories",
        read(&dir.path().join("schema/todo_categories.toml"))
    );
}

#[test]
fn a_malformed_room_export_is_refused_with_file_line_and_column() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("3.json");
    std::fs::write(
        &path,
        "{\n  \"database\": {\n    \"entities\": [ { \"tableName\": 3 } ]\n  }\n}\n",
    )
    .unwrap();
    let message = read_source(&ImportSource::Room(path))
        .unwrap_err()
        .to_string();
    assert!(
        message.contains("3.json") && message.contains("line 3"),
        "{message}"
    );
}

#[test]
fn inspect_reports_statuses_queue_failures_and_drift_of_an_adopted_database() {
    let dir = tempfile::tempdir().unwrap();
    let db = clinic_db(dir.path());
    let project = dir.path().join("app");
    import(
        &ImportSource::Database(db.clone()),
        &project,
        ExistingRows::Pending,
    )
    .unwrap();
    syncwright_codegen::migrate_new(project.join("syncwright.toml"), "adopt").unwrap();
    let conn = Connection::open(&db).unwrap();
    conn.execute_batch(&read(&project.join("migrations/0001_adopt.sql")))
        .unwrap();
    conn.execute_batch(
        "CREATE TABLE _sync_queue (id INTEGER PRIMARY KEY, idempotency_key TEXT, entity_type TEXT, \
         action TEXT, entity_id TEXT, payload TEXT, schema_version INTEGER, retry_count INTEGER, \
         max_retries INTEGER, next_attempt_at INTEGER, created_at INTEGER, status TEXT, error TEXT);
         INSERT INTO _sync_queue VALUES (1, 'k1', 'patient', 'update', 'u1', '{}', 1, 0, 10, 5, 1, 'pending', NULL);
         INSERT INTO _sync_queue VALUES (2, 'k2', 'patient', 'create', 'u2', '{}', 1, 10, 10, 9, 2, 'failed', 'HTTP 500');",
    )
    .unwrap();
    drop(conn);
    let config = project.join("syncwright.toml");
    let report = inspect(&db, Some(&config)).unwrap();
    assert_eq!(
        report.drift.as_deref(),
        Some(&[][..]),
        "the adopted database matches its snapshot"
    );
    let patients = report
        .entities
        .iter()
        .find(|e| e.table == "patients")
        .unwrap();
    assert!(patients.adopted);
    assert_eq!(patients.by_status.get("pending"), Some(&2));
    assert_eq!(report.queue.oldest_pending.as_ref().map(|e| e.id), Some(1));
    assert_eq!(report.queue.failed[0].error.as_deref(), Some("HTTP 500"));
    assert_eq!(report.queue.failed[0].retry_count, 10);
    let json: serde_json::Value = serde_json::from_str(&report.to_json()).unwrap();
    assert_eq!(json["queue"]["by_status"]["failed"], 1);
    assert!(
        report
            .to_text()
            .contains("failed: #2 create patient u2 retries=10")
    );

    // The app changes its table behind syncwright's back: inspect shows it as drift.
    Connection::open(&db)
        .unwrap()
        .execute_batch("ALTER TABLE rooms ADD COLUMN wing TEXT")
        .unwrap();
    let drift = inspect(&db, Some(&config)).unwrap().drift.unwrap();
    assert_eq!(drift, ["table `rooms`: column `wing` is not expected"]);
}

/// A database of the field-service fixture at its latest version, its history recorded with
/// the project's checksums except for `tampered` (0 for none).
fn field_service_db(dir: &Path, tampered: i64) -> (std::path::PathBuf, std::path::PathBuf) {
    let config =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/field-service/syncwright.toml");
    let project = syncwright_codegen::load_project(&config).unwrap();
    let rendered = syncwright_codegen::rendered_migrations(&project).unwrap();
    let db = dir.join("field.db");
    let conn = Connection::open(&db).unwrap();
    conn.execute_batch(&rendered.schema.sql).unwrap();
    conn.execute_batch(
        "CREATE TABLE _sync_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, \
         checksum TEXT NOT NULL, applied_at INTEGER NOT NULL)",
    )
    .unwrap();
    for step in &rendered.steps {
        let sum = if i64::from(step.version) == tampered {
            "0".repeat(64)
        } else {
            step.checksum.clone()
        };
        conn.execute(
            "INSERT INTO _sync_migrations VALUES (?1, ?2, ?3, 1700000000000)",
            (step.version, &step.name, sum),
        )
        .unwrap();
    }
    conn.pragma_update(None, "user_version", rendered.version)
        .unwrap();
    (db, config)
}

#[test]
fn inspect_verifies_each_applied_migrations_checksum_against_the_project() {
    let dir = tempfile::tempdir().unwrap();
    let (db, config) = field_service_db(dir.path(), 2);
    let report = inspect(&db, Some(&config)).unwrap();
    assert_eq!(report.schema_version, 5);
    let verified: Vec<(i64, Option<bool>)> = report
        .migrations
        .iter()
        .map(|m| (m.version, m.checksum_verified))
        .collect();
    assert_eq!(
        verified,
        [
            (1, Some(true)),
            (2, Some(false)),
            (3, Some(true)),
            (4, Some(true)),
            (5, Some(true))
        ]
    );
    assert_eq!(
        report.drift.as_deref(),
        Some(&[][..]),
        "a fresh install matches its specs"
    );
    assert!(report.to_text().contains("CHECKSUM DIFFERS"));
}

#[test]
fn the_cli_imports_and_inspects_without_touching_the_database() {
    let dir = tempfile::tempdir().unwrap();
    let db = clinic_db(dir.path());
    let before = std::fs::read(&db).unwrap();
    let syncwright = || std::process::Command::new(env!("CARGO_BIN_EXE_syncwright"));
    let project = dir.path().join("app");
    let output = syncwright()
        .args(["import", "--rows-synced", "--from"])
        .arg(&db)
        .arg("--into")
        .arg(&project)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(read(&project.join("syncwright.toml")).contains("existing_rows = \"synced\""));
    assert!(
        String::from_utf8_lossy(&output.stdout).contains("migrate new adopt"),
        "names the next step: releasing the adoption"
    );

    let output = syncwright()
        .arg("inspect")
        .arg(&db)
        .arg("--json")
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(json["schema_version"], 0);
    assert!(json["drift"].is_null(), "no project, no drift check");
    assert!(
        std::fs::read(&db).unwrap() == before,
        "the CLI changed the database"
    );

    // A second import into the same folder is refused, exit code 1.
    let output = syncwright()
        .args(["import", "--from"])
        .arg(&db)
        .arg("--into")
        .arg(&project)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&output.stderr).contains("already exists"));
}

#[test]
fn tables_that_would_share_an_entity_name_are_refused_before_anything_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("app.db");
    Connection::open(&db)
        .unwrap()
        .execute_batch("CREATE TABLE UserData (k INTEGER PRIMARY KEY); CREATE TABLE user_data (k INTEGER PRIMARY KEY);")
        .unwrap();
    let project = dir.path().join("app");
    let message = import(&ImportSource::Database(db), &project, ExistingRows::Pending)
        .unwrap_err()
        .to_string();
    assert!(
        message.contains("`UserData` and `user_data` would both be the entity `user_data`"),
        "{message}"
    );
    assert!(!project.exists(), "nothing is written");
}
