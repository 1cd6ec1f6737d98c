//! Writes through the store to an adopted app's tables queue as usual, with the row's
//! `_sync_id` as the record id, and reach the server: the app's database is imported,
//! released, adopted by the runtime at open, written through the typed store and synced
//! through the in-process server.

use std::path::Path;
use std::sync::Arc;

use rusqlite::Connection;
use syncwright::{
    Action, AdoptedMigrations, Database, Migrations, QueueStatus, SyncStatus, Syncable,
};
use syncwright_codegen::import::{ExistingRows, ImportSource, import};
use syncwright_server::Server;
use syncwright_server::catalog::Catalog;
use syncwright_server::storage::SqliteStorage;
use syncwright_server::transport::InProcessTransport;

/// An app's table: an autoincrement key of its own and camelCase names.
const APP: &str = r#"
CREATE TABLE patients (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    displayName TEXT NOT NULL,
    email TEXT UNIQUE
);
INSERT INTO patients (displayName, email) VALUES ('Ann', 'ann@example.com'), ('Bob', NULL);
"#;

/// The struct the generator writes for the adopted spec (checked below against its output).
#[allow(non_snake_case)]
#[derive(Debug, Clone, PartialEq, syncwright::Syncable)]
#[syncwright(table = "patients", adopted)]
pub struct Patients {
    pub id: i64,
    pub displayName: String,
    pub email: Option<String>,
}

/// The app's database, imported (existing rows already on the server) and released (the
/// adoption is v1), in `dir`.
fn adopted_project(dir: &Path) -> (std::path::PathBuf, std::path::PathBuf) {
    adopted_project_with(dir, ExistingRows::Synced)
}

/// [`adopted_project`], existing rows starting as `rows` says.
fn adopted_project_with(
    dir: &Path,
    rows: ExistingRows,
) -> (std::path::PathBuf, std::path::PathBuf) {
    let db = dir.join("app.db");
    Connection::open(&db).unwrap().execute_batch(APP).unwrap();
    let project = dir.join("sync");
    import(&ImportSource::Database(db.clone()), &project, rows).unwrap();
    let config = project.join("syncwright.toml");
    syncwright_codegen::migrate_new(&config, "adopt").unwrap();
    (db, config)
}

#[test]
fn the_generator_writes_the_adopted_struct_the_store_uses() {
    let dir = tempfile::tempdir().unwrap();
    let (_, config) = adopted_project(dir.path());
    let project = syncwright_codegen::load_project(&config).unwrap();
    let entities = project.schema.entities.iter().collect::<Vec<_>>();
    let rust = syncwright_codegen::render::rust::entities_rs(
        "test",
        &entities,
        &project.sources,
        config.parent().unwrap(),
    );
    assert!(
        rust.contains(
            "#[allow(non_snake_case)]\n#[derive(Debug, Clone, PartialEq, ::syncwright::Syncable)]\n\
             #[syncwright(table = \"patients\", adopted)]\npub struct Patients {\n    \
             pub id: i64,\n    pub displayName: String,\n    pub email: Option<String>,\n}"
        ),
        "{rust}"
    );
}

#[test]
fn writes_through_the_store_to_an_adopted_table_queue_by_sync_id() {
    let dir = tempfile::tempdir().unwrap();
    let (db_path, config) = adopted_project(dir.path());
    let snapshot = std::fs::read_to_string(config.with_file_name("schema/import.json")).unwrap();
    let migrations = AdoptedMigrations {
        migrations: Migrations::from_dir(config.with_file_name("migrations")).unwrap(),
        snapshot: &snapshot,
        existing_rows: "synced",
    };
    let db = Database::open(&db_path, &migrations).expect("the app's database is adopted");

    // Existing rows read through the store, by their `_sync_id`.
    let existing = db.query::<Patients>().fetch().unwrap();
    assert_eq!(existing.len(), 2);
    assert!(existing.iter().all(|r| r.sync_status == SyncStatus::Synced));

    // Insert, update, delete: each queued with the row's `_sync_id` as the record id.
    let cy = db
        .insert(&Patients {
            id: 10,
            displayName: "Cy".into(),
            email: None,
        })
        .unwrap();
    let bob = existing.iter().find(|r| r.displayName == "Bob").unwrap();
    let updated = Patients {
        email: Some("bob@example.com".into()),
        ..bob.data.clone()
    };
    db.update(bob.id, &updated).unwrap();
    let ann = existing.iter().find(|r| r.displayName == "Ann").unwrap().id;
    db.delete::<Patients>(ann).unwrap();
    let entries = db.queue().all_entries().unwrap();
    let actions: Vec<(Action, syncwright::Uuid)> =
        entries.iter().map(|e| (e.action, e.entity_id)).collect();
    assert_eq!(
        actions,
        [
            (Action::Create, cy.id),
            (Action::Update, bob.id),
            (Action::Delete, ann)
        ],
        "each write is queued for its record, by its `_sync_id`"
    );
    assert!(entries.iter().all(|e| e.entity_type == "patients"));
    // A create stores no payload: its fields are read from the row found by its `_sync_id`.
    assert_eq!(entries[0].payload["displayName"], "Cy");
    assert_eq!(entries[0].payload["id"], 10);
    assert_eq!(
        db.get::<Patients>(bob.id).unwrap().unwrap().data,
        updated,
        "read back by its sync id"
    );
    assert!(db.get::<Patients>(ann).unwrap().is_none(), "a tombstone");

    // The app's own SELECTs see the store's writes in its columns, under its key.
    let app = Connection::open(&db_path).unwrap();
    let (name, sync_id): (String, String) = app
        .query_row(
            "SELECT displayName, _sync_id FROM patients WHERE id = 10",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!(name, "Cy");
    assert_eq!(sync_id, cy.id.hyphenated().to_string());
    let stored: Option<String> = app
        .query_row(
            "SELECT payload FROM _sync_queue WHERE action = 'create'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(stored, None, "the create's fields are the row's");
    let email: Option<String> = app
        .query_row(
            "SELECT email FROM patients WHERE displayName = 'Bob'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(email.as_deref(), Some("bob@example.com"));

    assert_eq!(Patients::ENTITY.sync.id, "_sync_id");
}

/// The adopted app's database, opened (adopted) by the runtime.
fn open_adopted(dir: &Path) -> (Database, std::path::PathBuf, String) {
    let (db_path, config) = adopted_project(dir);
    let snapshot = std::fs::read_to_string(config.with_file_name("schema/import.json")).unwrap();
    let migrations = AdoptedMigrations {
        migrations: Migrations::from_dir(config.with_file_name("migrations")).unwrap(),
        snapshot: &snapshot,
        existing_rows: "synced",
    };
    let db = Database::open(&db_path, &migrations).unwrap();
    (db, config, snapshot)
}

#[test]
fn a_record_written_through_the_store_on_an_adopted_table_reaches_the_server_and_other_devices() {
    let dir = tempfile::tempdir().unwrap();
    let (db, config, snapshot) = open_adopted(dir.path());
    let catalog = Catalog::from_project(&config).expect("the server knows the adopted entity");
    let server = Arc::new(Server::new(catalog, SqliteStorage::in_memory().unwrap()));
    let transport = InProcessTransport::new(server.clone(), "ana");
    // Another device: a fresh install of the same app, which creates the app's table itself.
    let migrations = AdoptedMigrations {
        migrations: Migrations::from_dir(config.with_file_name("migrations")).unwrap(),
        snapshot: &snapshot,
        existing_rows: "synced",
    };
    let other = Database::options()
        .entities(&[Patients::ENTITY])
        .open_in_memory(&migrations)
        .unwrap();
    let other_transport = InProcessTransport::new(server, "ana");

    let cy = db
        .insert(&Patients {
            id: 10,
            displayName: "Cy".into(),
            email: None,
        })
        .unwrap();
    assert_eq!(
        db.sync(&transport).unwrap().pushed,
        1,
        "the create is pushed"
    );
    let settled = db.get::<Patients>(cy.id).unwrap().unwrap();
    assert_eq!(settled.sync_status, SyncStatus::Synced);
    assert!(
        settled.server_id.is_some(),
        "the server's id is stored in `_sync_server_id`"
    );
    other.sync(&other_transport).unwrap();
    assert_eq!(
        other.get::<Patients>(cy.id).unwrap().expect("pulled").data,
        cy.data
    );

    let changed = Patients {
        email: Some("cy@example.com".into()),
        ..cy.data.clone()
    };
    db.update(cy.id, &changed).unwrap();
    let report = db.sync(&transport).unwrap();
    assert_eq!((report.pushed, report.rejected.len()), (1, 0), "{report:?}");
    other.sync(&other_transport).unwrap();
    assert_eq!(other.get::<Patients>(cy.id).unwrap().unwrap().data, changed);

    db.delete::<Patients>(cy.id).unwrap();
    let report = db.sync(&transport).unwrap();
    assert_eq!((report.pushed, report.rejected.len()), (1, 0), "{report:?}");
    other.sync(&other_transport).unwrap();
    assert!(
        other.get::<Patients>(cy.id).unwrap().is_none(),
        "deleted there too"
    );
    assert!(
        db.queue()
            .all_entries()
            .unwrap()
            .iter()
            .all(|e| e.status == QueueStatus::Completed),
        "every entry is settled"
    );
}

#[test]
fn pending_existing_rows_and_the_apps_own_inserts_are_each_pushed_once_then_change_like_any_record()
{
    let dir = tempfile::tempdir().unwrap();
    let (db_path, config) = adopted_project_with(dir.path(), ExistingRows::Pending);
    let snapshot = std::fs::read_to_string(config.with_file_name("schema/import.json")).unwrap();
    let migrations = AdoptedMigrations {
        migrations: Migrations::from_dir(config.with_file_name("migrations")).unwrap(),
        snapshot: &snapshot,
        existing_rows: "pending",
    };
    let open = || {
        Database::options()
            .entities(&[Patients::ENTITY])
            .open(&db_path, &migrations)
            .unwrap()
    };
    let catalog = Catalog::from_project(&config).unwrap();
    let server = Arc::new(Server::new(catalog, SqliteStorage::in_memory().unwrap()));
    let transport = InProcessTransport::new(server.clone(), "ana");
    let other = Database::options()
        .entities(&[Patients::ENTITY])
        .open_in_memory(&migrations)
        .unwrap();
    let other_transport = InProcessTransport::new(server, "ana");

    let db = open();
    let creates: Vec<Action> = db
        .queue()
        .all_entries()
        .unwrap()
        .iter()
        .map(|e| e.action)
        .collect();
    assert_eq!(
        creates,
        [Action::Create, Action::Create],
        "one create per existing row"
    );
    let report = db.sync(&transport).unwrap();
    assert_eq!((report.pushed, report.rejected.len()), (2, 0), "{report:?}");

    // An existing row changed through the store: an ordinary update on its server version.
    let bob = db
        .query::<Patients>()
        .fetch()
        .unwrap()
        .into_iter()
        .find(|r| r.displayName == "Bob")
        .unwrap();
    let changed = Patients {
        email: Some("bob@example.com".into()),
        ..bob.data.clone()
    };
    db.update(bob.id, &changed).unwrap();
    let report = db.sync(&transport).unwrap();
    assert_eq!((report.pushed, report.rejected.len()), (1, 0), "{report:?}");

    // The app's own old code inserts a row; the next open queues it once.
    drop(db);
    Connection::open(&db_path)
        .unwrap()
        .execute_batch("INSERT INTO patients (displayName) VALUES ('Dee')")
        .unwrap();
    let db = open();
    let report = db.sync(&transport).unwrap();
    assert_eq!((report.pushed, report.rejected.len()), (1, 0), "{report:?}");
    assert!(
        db.queue()
            .all_entries()
            .unwrap()
            .iter()
            .all(|e| e.status == QueueStatus::Completed)
    );
    drop(db);
    assert_eq!(
        open().queue().all_entries().unwrap().len(),
        4,
        "reopening queues nothing again"
    );

    other.sync(&other_transport).unwrap();
    let mut names: Vec<(String, Option<String>)> = other
        .query::<Patients>()
        .fetch()
        .unwrap()
        .into_iter()
        .map(|r| (r.data.displayName, r.data.email))
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            ("Ann".to_owned(), Some("ann@example.com".to_owned())),
            ("Bob".to_owned(), Some("bob@example.com".to_owned())),
            ("Dee".to_owned(), None),
        ],
        "every row of the app reached another device"
    );
}
