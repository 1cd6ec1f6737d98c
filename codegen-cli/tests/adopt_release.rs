//! An adopted project releases like any other: its first release is the adoption migration,
//! rendered from the model, frozen, checksummed and rehearsed on a database built from the
//! import snapshot; later releases are ordinary additive steps and `check` passes on them.

use std::path::{Path, PathBuf};

use rusqlite::Connection;
use syncwright_codegen::import::{ExistingRows, ImportSource, import};

/// Integer autoincrement, text and composite keys, foreign keys (one composite, one
/// self-reference), keyword and camelCase names, a `WITHOUT ROWID` table.
const APP: &str = r#"
CREATE TABLE patients (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    displayName TEXT NOT NULL,
    email VARCHAR(200) UNIQUE,
    active BOOLEAN NOT NULL DEFAULT 1,
    createdAt DATETIME DEFAULT CURRENT_TIMESTAMP
);
CREATE TABLE rooms (code TEXT PRIMARY KEY NOT NULL, "group" TEXT NOT NULL DEFAULT 'main', parentCode TEXT REFERENCES rooms(code));
CREATE TABLE "order" (
    patientId INTEGER NOT NULL REFERENCES patients(id),
    "index" INTEGER NOT NULL,
    roomCode TEXT REFERENCES rooms(code),
    amount REAL NOT NULL DEFAULT 0.5,
    PRIMARY KEY (patientId, "index")
);
CREATE TABLE lines (patientId INTEGER NOT NULL, orderIndex INTEGER NOT NULL, label TEXT NOT NULL,
    PRIMARY KEY (patientId, orderIndex, label),
    FOREIGN KEY (patientId, orderIndex) REFERENCES "order" (patientId, "index")) WITHOUT ROWID;
CREATE INDEX order_room_amount ON "order" (roomCode, amount);
INSERT INTO patients (displayName, email) VALUES ('Ann', 'ann@example.com'), ('Bob', NULL);
"#;

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// A project imported from a database built from [`APP`].
fn imported(dir: &Path) -> PathBuf {
    let db = dir.join("app.db");
    Connection::open(&db).unwrap().execute_batch(APP).unwrap();
    let project = dir.join("sync");
    import(&ImportSource::Database(db), &project, ExistingRows::Pending).unwrap();
    project.join("syncwright.toml")
}

fn set_version(config: &Path, version: u32) {
    let text = read(config).replace("version = 1", &format!("version = {version}"));
    std::fs::write(config, text).unwrap();
}

#[test]
fn the_first_release_of_an_adopted_project_is_its_adoption_migration() {
    let dir = tempfile::tempdir().unwrap();
    let config = imported(dir.path());
    syncwright_codegen::migrate_new(&config, "adopt").expect("the adoption is released");
    let root = config.parent().unwrap();
    let adopt = read(&root.join("migrations/0001_adopt.sql"));
    insta::assert_snapshot!("adopt_0001", adopt);
    assert!(
        !adopt.contains("CREATE TABLE"),
        "the app's tables exist: adopted, never created"
    );
    let lock = read(&root.join("migrations/syncwright.lock"));
    assert!(
        lock.contains("0001_adopt.sql"),
        "frozen in the lock: {lock}"
    );
    let history = read(&root.join("schema/history/v1.toml"));
    assert!(
        history.contains("imported = "),
        "the snapshot keeps the app's table as imported: {history}"
    );
    syncwright_codegen::check(&config).expect("`check` passes on the adopted release");
}

#[test]
fn later_releases_of_an_adopted_project_are_ordinary_additive_steps() {
    let dir = tempfile::tempdir().unwrap();
    let config = imported(dir.path());
    syncwright_codegen::migrate_new(&config, "adopt").unwrap();
    let root = config.parent().unwrap();
    // v2: a field on an adopted table and a new entity.
    let patients = root.join("schema/patients.toml");
    let spec = read(&patients) + "nickname = { type = \"text\", nullable = true, index = true }\n";
    std::fs::write(&patients, spec).unwrap();
    std::fs::write(
        root.join("schema/visit.toml"),
        "[entity]\nname = \"visit\"\n\n[fields]\nnotes = { type = \"text\" }\n",
    )
    .unwrap();
    set_version(&config, 2);
    syncwright_codegen::migrate_new(&config, "nickname").expect("v2 is released");
    let step = read(&root.join("migrations/0002_nickname.sql"));
    assert!(
        step.contains("ALTER TABLE \"patients\" ADD COLUMN \"nickname\" TEXT;"),
        "{step}"
    );
    assert!(
        step.contains("CREATE TABLE IF NOT EXISTS \"visits\""),
        "{step}"
    );
    assert!(
        step.contains("\"sync_status\" TEXT NOT NULL"),
        "a new entity has standard sync columns: {step}"
    );
    insta::assert_snapshot!("adopt_schema_v2", read(&root.join("migrations/schema.sql")));
    syncwright_codegen::check(&config).expect("`check` passes on every release");
}

#[test]
fn an_adopted_spec_whose_table_is_not_in_the_import_snapshot_is_refused_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let config = imported(dir.path());
    let root = config.parent().unwrap();
    std::fs::write(
        root.join("schema/ghost.toml"),
        "[entity]\nname = \"ghost\"\nadopted = true\n\n[fields]\nname = { type = \"text\" }\n",
    )
    .unwrap();
    let message = format!(
        "{}",
        syncwright_codegen::migrate_new(&config, "adopt").unwrap_err()
    );
    assert!(message.contains("ghost.toml"), "names the file: {message}");
    assert!(
        message.contains("is not in the import snapshot"),
        "{message}"
    );
    assert!(!root.join("migrations").exists(), "nothing is written");
}

#[test]
fn a_spec_on_an_imported_table_without_adopted_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let config = imported(dir.path());
    let root = config.parent().unwrap();
    let rooms = root.join("schema/rooms.toml");
    std::fs::write(&rooms, read(&rooms).replace("adopted = true\n", "")).unwrap();
    let message = format!(
        "{}",
        syncwright_codegen::migrate_new(&config, "adopt").unwrap_err()
    );
    assert!(message.contains("rooms.toml"), "names the file: {message}");
    assert!(message.contains("add `adopted = true`"), "{message}");
}

#[test]
fn the_build_script_module_of_an_adopted_project_carries_its_import_snapshot() {
    let dir = tempfile::tempdir().unwrap();
    let config = imported(dir.path());
    syncwright_codegen::migrate_new(&config, "adopt").unwrap();
    let project = syncwright_codegen::load_project(&config).unwrap();
    let files =
        syncwright_codegen::build_config::out_dir_files(&project, Path::new("out")).unwrap();
    let module = &files[0].contents;
    assert!(
        module.contains("pub const RELEASES: ::syncwright::Migrations"),
        "{module}"
    );
    assert!(
        module.contains(
            "pub const MIGRATIONS: ::syncwright::AdoptedMigrations<'static, ::syncwright::Migrations>"
        ),
        "{module}"
    );
    let snapshot = read(&config.parent().unwrap().join("schema/import.json"));
    assert!(
        module.contains(&format!("snapshot: r#\"{snapshot}\"#")),
        "the snapshot is embedded verbatim"
    );
    assert!(module.contains("existing_rows: \"pending\""), "{module}");
}
