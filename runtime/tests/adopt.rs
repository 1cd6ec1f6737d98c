//! Adopting an existing app's database: `syncwright import` writes the snapshot and the
//! adoption migration, `syncwright::adopt` applies them, keeping every row and every query of
//! the app, and refuses a database whose schema changed since the import.

use std::path::{Path, PathBuf};

use rusqlite::Connection;
use rusqlite::types::Value;
use syncwright::{Adoption, Error, adopt};
use syncwright_codegen::import::{ExistingRows, ImportSource, import};

mod common;
use common::TempDir;

/// An autoincrement key, a text key, a composite key, foreign keys, keyword and camelCase names.
const CLINIC: &str = r#"
CREATE TABLE patients (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    displayName TEXT NOT NULL,
    email TEXT UNIQUE,
    active BOOLEAN NOT NULL DEFAULT 1
);
CREATE TABLE rooms (code TEXT PRIMARY KEY NOT NULL, "group" TEXT NOT NULL DEFAULT 'main');
CREATE TABLE "order" (
    patientId INTEGER NOT NULL REFERENCES patients(id),
    "index" INTEGER NOT NULL,
    roomCode TEXT REFERENCES rooms(code),
    amount REAL NOT NULL DEFAULT 0.5,
    photo BLOB,
    PRIMARY KEY (patientId, "index")
);
CREATE INDEX order_room ON "order" (roomCode);
INSERT INTO patients (displayName, email) VALUES ('Ann', 'ann@example.com'), ('Bob', NULL), ('Zoë', 'z@example.com');
INSERT INTO rooms VALUES ('A1', 'main'), ('B2', 'annex');
INSERT INTO "order" VALUES (1, 1, 'A1', 10.0, x'00ff'), (1, 2, NULL, 2.5, NULL), (3, 1, 'B2', 0.5, x'');
"#;

/// Text keys from a notes app, a self-reference, and a `WITHOUT ROWID` table.
const NOTES: &str = r#"
CREATE TABLE folders (uuid TEXT PRIMARY KEY NOT NULL, parentUuid TEXT REFERENCES folders(uuid), "name" TEXT NOT NULL);
CREATE TABLE tags (label TEXT NOT NULL, noteUuid TEXT NOT NULL, PRIMARY KEY (label, noteUuid)) WITHOUT ROWID;
INSERT INTO folders VALUES ('f1', NULL, 'Inbox'), ('f2', 'f1', 'Work'), ('f3', 'f2', 'select');
INSERT INTO tags VALUES ('red', 'n1'), ('blue', 'n1'), ('red', 'n2');
"#;

struct Adopted {
    _dir: TempDir,
    db: PathBuf,
    snapshot: String,
    migration: String,
}

/// A database built from `schema` and the project `syncwright import` writes for it.
fn imported(schema: &str, rows: ExistingRows) -> Adopted {
    let dir = TempDir::new();
    let db = dir.path("app.db");
    Connection::open(&db)
        .unwrap()
        .execute_batch(schema)
        .unwrap();
    let project = dir.path("project");
    import(&ImportSource::Database(db.clone()), &project, rows).unwrap();
    syncwright_codegen::migrate_new(project.join("syncwright.toml"), "adopt").unwrap();
    let read = |p: &str| std::fs::read_to_string(project.join(p)).unwrap();
    Adopted {
        snapshot: read("schema/import.json"),
        migration: read("migrations/0001_adopt.sql"),
        db,
        _dir: dir,
    }
}

impl Adopted {
    fn adoption(&self) -> Adoption<'_> {
        Adoption {
            snapshot: &self.snapshot,
            migration: &self.migration,
            existing_rows: "pending",
        }
    }
}

fn quote(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// Every row of `table` as the app's own `SELECT <its columns> ... ORDER BY <its key>` sees it.
fn app_rows(conn: &Connection, table: &str, columns: &[String], order: &str) -> Vec<Vec<Value>> {
    let list: Vec<String> = columns.iter().map(|c| quote(c)).collect();
    let sql = format!(
        "SELECT {} FROM {} ORDER BY {order}",
        list.join(", "),
        quote(table)
    );
    let mut stmt = conn.prepare(&sql).unwrap();
    stmt.query_map([], |r| (0..columns.len()).map(|i| r.get(i)).collect())
        .unwrap()
        .collect::<rusqlite::Result<_>>()
        .unwrap()
}

fn columns(conn: &Connection, table: &str) -> Vec<String> {
    let mut stmt = conn
        .prepare("SELECT name FROM pragma_table_info(?1)")
        .unwrap();
    stmt.query_map([table], |r| r.get(0))
        .unwrap()
        .collect::<rusqlite::Result<_>>()
        .unwrap()
}

fn tables(conn: &Connection) -> Vec<String> {
    let mut stmt = conn
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite%' AND name NOT LIKE '\\_sync%' ESCAPE '\\' ORDER BY name")
        .unwrap();
    stmt.query_map([], |r| r.get(0))
        .unwrap()
        .collect::<rusqlite::Result<_>>()
        .unwrap()
}

#[test]
fn adopting_real_shaped_databases_keeps_every_row_and_gives_each_a_uuid_and_sync_columns() {
    for (name, schema) in [("clinic", CLINIC), ("notes", NOTES)] {
        let adopted = imported(schema, ExistingRows::Pending);
        let mut conn = Connection::open(&adopted.db).unwrap();
        let before: Vec<(String, Vec<String>, Vec<Vec<Value>>)> = tables(&conn)
            .into_iter()
            .map(|t| {
                let cols = columns(&conn, &t);
                let rows = app_rows(&conn, &t, &cols, "1, 2");
                (t, cols, rows)
            })
            .collect();

        let report = adopt(&mut conn, &adopted.adoption()).unwrap();
        assert!(report.adopted_now, "{name}: adopted by this call");
        assert!(
            report.uncovered.is_empty(),
            "{name}: every table is covered"
        );

        for (table, cols, rows) in &before {
            // The app's old SELECTs see exactly the rows they saw.
            assert_eq!(
                &app_rows(&conn, table, cols, "1, 2"),
                rows,
                "{name}.{table}: rows changed"
            );
            let sql = format!(
                "SELECT \"_sync_id\", \"_sync_status\", \"_sync_created_at\", \"_sync_is_deleted\", \
                 \"_sync_version\" FROM {}",
                quote(table)
            );
            let mut stmt = conn.prepare(&sql).unwrap();
            let sync: Vec<(String, String, i64, i64, i64)> = stmt
                .query_map([], |r| {
                    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
                })
                .unwrap()
                .collect::<rusqlite::Result<_>>()
                .unwrap();
            assert_eq!(sync.len(), rows.len());
            let mut ids = std::collections::BTreeSet::new();
            for (id, status, created_at, is_deleted, version) in sync {
                let uuid = uuid::Uuid::parse_str(&id)
                    .unwrap_or_else(|e| panic!("{name}.{table}: `{id}` is no UUID: {e}"));
                assert_eq!(uuid.get_version_num(), 4);
                assert_eq!(id, uuid.hyphenated().to_string(), "lower-case hyphenated");
                assert!(ids.insert(id), "{name}.{table}: UUIDs are unique");
                assert_eq!(status, "pending");
                assert!(created_at > 1_600_000_000_000, "created_at is epoch ms");
                assert_eq!((is_deleted, version), (0, 1), "version 1, as every new row");
            }
        }
        let adoptions: i64 = conn
            .query_row("SELECT count(*) FROM _sync_adoption", [], |r| r.get(0))
            .unwrap();
        assert_eq!(adoptions, 1, "{name}: the adoption is recorded");
        let queue: i64 = conn
            .query_row("SELECT count(*) FROM _sync_queue", [], |r| r.get(0))
            .unwrap();
        assert_eq!(
            queue, 0,
            "{name}: the runtime's tables exist, the queue starts empty"
        );
    }
}

#[test]
fn foreign_keys_between_adopted_tables_are_mapped_to_the_referenced_rows_uuids() {
    let adopted = imported(CLINIC, ExistingRows::Pending);
    let mut conn = Connection::open(&adopted.db).unwrap();
    adopt(&mut conn, &adopted.adoption()).unwrap();
    let mismatched: i64 = conn
        .query_row(
            "SELECT count(*) FROM \"order\" AS o LEFT JOIN patients AS p ON p.id = o.patientId \
             WHERE o.\"_sync_ref_patientId\" IS NOT p.\"_sync_id\"",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(mismatched, 0, "every order points at its patient's UUID");
    let null_room: Option<String> = conn
        .query_row(
            "SELECT \"_sync_ref_roomCode\" FROM \"order\" WHERE patientId = 1 AND \"index\" = 2",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(null_room, None, "a NULL reference stays NULL");

    let adopted = imported(NOTES, ExistingRows::Pending);
    let mut conn = Connection::open(&adopted.db).unwrap();
    adopt(&mut conn, &adopted.adoption()).unwrap();
    let parent_ok: i64 = conn
        .query_row(
            "SELECT count(*) FROM folders AS f JOIN folders AS p ON p.uuid = f.parentUuid \
             WHERE f.\"_sync_ref_parentUuid\" = p.\"_sync_id\"",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(parent_ok, 2, "a self-reference is mapped too");
}

#[test]
fn the_apps_own_inserts_after_adoption_still_work_and_get_a_sync_identity() {
    for (schema, insert, table, key) in [
        (
            CLINIC,
            "INSERT INTO patients (displayName) VALUES ('Cy')",
            "patients",
            "id = 4",
        ),
        (
            CLINIC,
            "INSERT INTO \"order\" (patientId, \"index\") VALUES (2, 9)",
            "order",
            "patientId = 2",
        ),
        // Inserts name their columns (as Room's and Drift's do): an `INSERT ... VALUES` without
        // a column list breaks on any added column, adoption or not.
        (
            NOTES,
            "INSERT INTO tags (label, noteUuid) VALUES ('green', 'n3')",
            "tags",
            "label = 'green'",
        ),
    ] {
        let adopted = imported(schema, ExistingRows::Synced);
        let mut conn = Connection::open(&adopted.db).unwrap();
        adopt(&mut conn, &adopted.adoption()).unwrap();
        conn.execute_batch(insert).unwrap();
        let (id, status): (Option<String>, String) = conn
            .query_row(
                &format!(
                    "SELECT \"_sync_id\", \"_sync_status\" FROM {} WHERE {key}",
                    quote(table)
                ),
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .unwrap();
        let id = id.unwrap_or_else(|| panic!("{table}: a new row has no UUID"));
        assert!(uuid::Uuid::parse_str(&id).is_ok(), "{id}");
        assert_eq!(status, "pending", "a row the app adds later is pushed");
        if table == "order" {
            let linked: i64 = conn
                .query_row(
                    "SELECT count(*) FROM \"order\" AS o JOIN patients AS p ON p.id = o.patientId \
                     WHERE o.patientId = 2 AND o.\"_sync_ref_patientId\" = p.\"_sync_id\"",
                    [],
                    |r| r.get(0),
                )
                .unwrap();
            assert_eq!(linked, 1, "the trigger maps the new row's reference");
        }
    }
}

#[test]
fn a_reference_the_apps_own_code_changes_keeps_pointing_at_the_right_uuid() {
    let adopted = imported(CLINIC, ExistingRows::Pending);
    let mut conn = Connection::open(&adopted.db).unwrap();
    adopt(&mut conn, &adopted.adoption()).unwrap();
    conn.execute_batch(
        "UPDATE \"order\" SET roomCode = 'B2' WHERE patientId = 1 AND \"index\" = 1",
    )
    .unwrap();
    let (reference, room): (Option<String>, String) = conn
        .query_row(
            "SELECT o.\"_sync_ref_roomCode\", r.\"_sync_id\" FROM \"order\" AS o, rooms AS r \
             WHERE o.patientId = 1 AND o.\"index\" = 1 AND r.code = 'B2'",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!(reference, Some(room));
}

#[test]
fn existing_rows_start_synced_when_the_import_says_they_are_on_the_server() {
    let adopted = imported(CLINIC, ExistingRows::Synced);
    let mut conn = Connection::open(&adopted.db).unwrap();
    adopt(&mut conn, &adopted.adoption()).unwrap();
    let (synced, with_time): (i64, i64) = conn
        .query_row(
            "SELECT count(*) FILTER (WHERE \"_sync_status\" = 'synced'), \
             count(\"_sync_synced_at\") FROM patients",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!((synced, with_time), (3, 3));
}

fn sha(path: &Path) -> Vec<u8> {
    std::fs::read(path).unwrap()
}

#[test]
fn a_live_schema_changed_since_the_import_is_refused_with_the_differences_listed() {
    let adopted = imported(CLINIC, ExistingRows::Pending);
    Connection::open(&adopted.db)
        .unwrap()
        .execute_batch(
            "ALTER TABLE patients ADD COLUMN phone TEXT;
             DROP INDEX order_room;
             CREATE INDEX rooms_group ON rooms (\"group\");",
        )
        .unwrap();
    let before = sha(&adopted.db);
    let mut conn = Connection::open(&adopted.db).unwrap();
    let err = adopt(&mut conn, &adopted.adoption()).unwrap_err();
    let Error::AdoptedSchemaChanged { differences } = &err else {
        panic!("expected AdoptedSchemaChanged, got {err:?}");
    };
    assert_eq!(
        differences,
        &[
            "table `order`: index on (roomCode) was dropped",
            "table `patients`: column `phone` was added since the import",
            "table `rooms`: index on (group) was added since the import",
        ]
    );
    let message = err.to_string();
    assert!(
        message.contains("column `phone` was added") && message.contains("nothing was written"),
        "{message}"
    );
    drop(conn);
    assert!(
        sha(&adopted.db) == before,
        "a refused database is left byte-for-byte as it was"
    );
}

#[test]
fn a_retyped_column_and_a_dropped_table_are_listed_as_differences() {
    let adopted = imported(NOTES, ExistingRows::Pending);
    Connection::open(&adopted.db)
        .unwrap()
        .execute_batch(
            "PRAGMA foreign_keys = OFF;
             DROP TABLE tags;
             CREATE TABLE folders2 (uuid TEXT PRIMARY KEY NOT NULL, parentUuid TEXT REFERENCES folders(uuid), \"name\" BLOB);
             INSERT INTO folders2 SELECT * FROM folders; DROP TABLE folders; ALTER TABLE folders2 RENAME TO folders;",
        )
        .unwrap();
    let mut conn = Connection::open(&adopted.db).unwrap();
    let Err(Error::AdoptedSchemaChanged { differences }) = adopt(&mut conn, &adopted.adoption())
    else {
        panic!("expected AdoptedSchemaChanged");
    };
    assert_eq!(
        differences,
        [
            "table `folders` column `name`: imported as `TEXT`, now `BLOB`",
            "table `folders` column `name`: imported NOT NULL, now nullable",
            "table `tags` is missing",
        ]
    );
}

#[test]
fn tables_the_snapshot_does_not_cover_are_left_alone_and_named() {
    let adopted = imported(CLINIC, ExistingRows::Pending);
    let mut conn = Connection::open(&adopted.db).unwrap();
    conn.execute_batch("CREATE TABLE app_settings (k TEXT PRIMARY KEY, v TEXT); INSERT INTO app_settings VALUES ('theme', 'dark');")
        .unwrap();
    let report = adopt(&mut conn, &adopted.adoption()).unwrap();
    assert_eq!(report.uncovered, ["app_settings"]);
    assert_eq!(
        columns(&conn, "app_settings"),
        ["k", "v"],
        "an uncovered table is not touched"
    );
}

#[test]
fn adopting_an_adopted_database_again_does_nothing() {
    let adopted = imported(CLINIC, ExistingRows::Pending);
    let mut conn = Connection::open(&adopted.db).unwrap();
    adopt(&mut conn, &adopted.adoption()).unwrap();
    let ids = |conn: &Connection| app_rows(conn, "patients", &["_sync_id".to_owned()], "id");
    let first = ids(&conn);
    let again = adopt(&mut conn, &adopted.adoption()).unwrap();
    assert!(!again.adopted_now);
    assert_eq!(ids(&conn), first, "the UUIDs stay");

    let other = Adoption {
        migration: "SELECT 1;",
        ..adopted.adoption()
    };
    let err = adopt(&mut conn, &other).unwrap_err();
    assert!(matches!(err, Error::InvalidAdoption { .. }), "{err:?}");
}

#[test]
fn a_snapshot_that_is_not_an_import_snapshot_is_refused_before_anything_is_written() {
    let adopted = imported(CLINIC, ExistingRows::Pending);
    let before = sha(&adopted.db);
    let mut conn = Connection::open(&adopted.db).unwrap();
    let err = adopt(
        &mut conn,
        &Adoption {
            snapshot: "{\"tables\": 3}",
            ..adopted.adoption()
        },
    )
    .unwrap_err();
    assert!(err.to_string().contains("not an import snapshot"), "{err}");
    drop(conn);
    assert!(sha(&adopted.db) == before);
}

/// The app's rows of every imported table, as the app's own `SELECT`s see them, by table.
fn every_app_row(conn: &Connection, snapshot: &str) -> Vec<(String, Vec<Vec<Value>>)> {
    let snapshot: serde_json::Value = serde_json::from_str(snapshot).unwrap();
    snapshot["tables"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            let name = t["name"].as_str().unwrap().to_owned();
            let columns: Vec<String> = t["columns"]
                .as_array()
                .unwrap()
                .iter()
                .map(|c| c["name"].as_str().unwrap().to_owned())
                .collect();
            let order: Vec<String> = columns.iter().map(|c| quote(c)).collect();
            let rows = app_rows(conn, &name, &columns, &order.join(", "));
            (name, rows)
        })
        .collect()
}

/// Every row of every adopted table has its `_sync_id`.
fn assert_every_row_has_a_sync_id(conn: &Connection, tables: &[(String, Vec<Vec<Value>>)]) {
    for (table, rows) in tables {
        let with_id: i64 = conn
            .query_row(
                &format!(
                    "SELECT count(*) FROM {} WHERE \"_sync_id\" IS NOT NULL",
                    quote(table)
                ),
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(
            with_id,
            i64::try_from(rows.len()).unwrap(),
            "{table}: every row has its _sync_id"
        );
    }
}

/// The project's releases so far, with the import snapshot, as the runtime gets them.
fn releases(project: &Path) -> (syncwright::OwnedMigrations, String) {
    (
        syncwright::Migrations::from_dir(project.join("migrations")).unwrap(),
        std::fs::read_to_string(project.join("schema/import.json")).unwrap(),
    )
}

fn to_latest(db: &Path, project: &Path) -> syncwright::MigrationReport {
    let (migrations, snapshot) = releases(project);
    let set = syncwright::AdoptedMigrations {
        migrations,
        snapshot: &snapshot,
        existing_rows: "pending",
    };
    syncwright::migrate::to_latest(&mut Connection::open(db).unwrap(), &set).unwrap()
}

/// Releases v2 of an adopted project: a field added to the first table's spec.
fn release_v2(project: &Path, table: &str) {
    let spec = project.join(format!("schema/{table}.toml"));
    let text = std::fs::read_to_string(&spec).unwrap()
        + "addedInV2 = { type = \"text\", nullable = true }\n";
    std::fs::write(&spec, text).unwrap();
    let config = project.join("syncwright.toml");
    let text = std::fs::read_to_string(&config)
        .unwrap()
        .replace("version = 1", "version = 2");
    std::fs::write(&config, text).unwrap();
    syncwright_codegen::migrate_new(&config, "v2").unwrap();
}

#[test]
fn the_runtime_adopts_an_app_database_and_upgrades_it_like_any_other() {
    for (name, schema, first) in [("clinic", CLINIC, "patients"), ("notes", NOTES, "folders")] {
        let adopted = imported(schema, ExistingRows::Pending);
        let project = adopted.db.parent().unwrap().join("project");
        let before = every_app_row(&Connection::open(&adopted.db).unwrap(), &adopted.snapshot);
        let straight = adopted.db.with_file_name("straight.db");
        let by_hand = adopted.db.with_file_name("by_hand.db");
        std::fs::copy(&adopted.db, &straight).unwrap();
        std::fs::copy(&adopted.db, &by_hand).unwrap();

        // v1: the runtime recognises the app's tables and adopts them with step 1.
        let report = to_latest(&adopted.db, &project);
        assert_eq!(
            (report.from, report.to, report.fresh),
            (0, 1, false),
            "{name}"
        );
        let conn = Connection::open(&adopted.db).unwrap();
        assert_eq!(
            every_app_row(&conn, &adopted.snapshot),
            before,
            "{name}: rows kept at v1"
        );
        assert_every_row_has_a_sync_id(&conn, &before);
        drop(conn);
        // Opening it again at v1 does nothing.
        assert_eq!(to_latest(&adopted.db, &project).to, 1);

        // v2: a field added to an adopted table; v1 -> v2, and the app's database straight to v2.
        release_v2(&project, first);
        for db in [&adopted.db, &straight] {
            let report = to_latest(db, &project);
            assert_eq!(report.to, 2, "{name}: {}", db.display());
            let conn = Connection::open(db).unwrap();
            assert_eq!(
                every_app_row(&conn, &adopted.snapshot),
                before,
                "{name}: rows kept at v2"
            );
            assert_every_row_has_a_sync_id(&conn, &before);
            assert!(
                columns(&conn, first).contains(&"addedInV2".to_owned()),
                "{name}: v2's field is added to the app's table"
            );
            let history: i64 = conn
                .query_row("SELECT count(*) FROM _sync_migrations", [], |r| r.get(0))
                .unwrap();
            assert_eq!(history, 2, "{name}: steps 1 and 2 recorded");
        }

        // A database adopted with `syncwright::adopt` is at version 1: it upgrades to v2 too.
        let mut conn = Connection::open(&by_hand).unwrap();
        adopt(&mut conn, &adopted.adoption()).unwrap();
        drop(conn);
        assert_eq!(to_latest(&by_hand, &project).to, 2, "{name}");
        assert_eq!(
            every_app_row(&Connection::open(&by_hand).unwrap(), &adopted.snapshot),
            before
        );
    }
}

#[test]
fn the_runtime_refuses_an_app_database_changed_since_the_import_naming_the_difference() {
    let adopted = imported(CLINIC, ExistingRows::Pending);
    let project = adopted.db.parent().unwrap().join("project");
    Connection::open(&adopted.db)
        .unwrap()
        .execute_batch("ALTER TABLE rooms ADD COLUMN wing TEXT")
        .unwrap();
    let before = sha(&adopted.db);
    let (migrations, snapshot) = releases(&project);
    let set = syncwright::AdoptedMigrations {
        migrations,
        snapshot: &snapshot,
        existing_rows: "pending",
    };
    let err = syncwright::migrate::to_latest(&mut Connection::open(&adopted.db).unwrap(), &set)
        .unwrap_err();
    assert!(
        matches!(&err, Error::AdoptedSchemaChanged { differences } if differences.iter().any(|d| d.contains("wing"))),
        "{err}"
    );
    assert_eq!(sha(&adopted.db), before, "nothing written");
}

#[test]
fn a_database_adopted_before_its_adoption_was_recorded_as_migration_1_upgrades_from_version_1() {
    let adopted = imported(NOTES, ExistingRows::Pending);
    let project = adopted.db.parent().unwrap().join("project");
    let before = every_app_row(&Connection::open(&adopted.db).unwrap(), &adopted.snapshot);
    let mut conn = Connection::open(&adopted.db).unwrap();
    adopt(&mut conn, &adopted.adoption()).unwrap();
    // As `adopt` left it before the adoption became migration 1: `_sync_adoption` only.
    conn.execute_batch("DROP TABLE _sync_migrations; PRAGMA user_version = 0;")
        .unwrap();
    drop(conn);
    release_v2(&project, "folders");
    let report = to_latest(&adopted.db, &project);
    assert_eq!(report.to, 2, "recognised at version 1, then upgraded");
    let conn = Connection::open(&adopted.db).unwrap();
    assert_eq!(every_app_row(&conn, &adopted.snapshot), before);
    let recorded: Vec<i64> = conn
        .prepare("SELECT version FROM _sync_migrations ORDER BY version")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<rusqlite::Result<_>>()
        .unwrap();
    assert_eq!(recorded, [1, 2]);
}
