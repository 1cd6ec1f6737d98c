//! Hand-written entities, migration sets and temp directories shared by the integration tests.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use syncwright::{
    Database, ManualClock, Migrations, OwnedMigration, OwnedMigrations, RetryPolicy, Syncable,
};

pub fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/tasks-notes/migrations")
}

/// The fixture migrations (version 3).
pub fn migrations() -> OwnedMigrations {
    Migrations::from_dir(fixtures()).expect("fixture migrations load")
}

/// The fixture history cut at `version`, as an older app would embed it; its schema is the
/// concatenation of the steps.
pub fn migrations_up_to(version: u32) -> OwnedMigrations {
    let all = migrations();
    let steps: Vec<OwnedMigration> = all
        .steps
        .into_iter()
        .filter(|s| s.version <= version)
        .collect();
    let schema_sql: String = steps
        .iter()
        .map(|s| s.sql.as_str())
        .collect::<Vec<_>>()
        .join("\n");
    OwnedMigrations {
        version,
        schema: OwnedMigration::new(version, "schema", schema_sql),
        steps,
    }
}

/// A directory removed on drop.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new() -> Self {
        let dir = std::env::temp_dir().join(format!("syncwright-test-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).expect("create temp dir");
        TempDir(dir)
    }
    pub fn path(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

pub fn start() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(1_700_000_000)
}

/// An in-memory database at v3 with a manual clock and no jitter.
pub fn memory_db() -> (Database, Arc<ManualClock>) {
    memory_db_with(
        RetryPolicy {
            jitter: 0.0,
            ..RetryPolicy::default()
        },
        true,
    )
}

pub fn memory_db_with(retry: RetryPolicy, coalesce: bool) -> (Database, Arc<ManualClock>) {
    let clock = Arc::new(ManualClock::new(start()));
    let db = Database::options()
        .clock(clock.clone())
        .retry_policy(retry)
        .coalesce(coalesce)
        .jitter_seed(7)
        .entities(&[Task::ENTITY, Note::ENTITY])
        .open_in_memory(&migrations())
        .expect("open in-memory database");
    (db, clock)
}

/// A task as the fixture's v3 has it.
#[derive(Debug, Clone, PartialEq, Syncable)]
pub struct Task {
    pub title: String,
    #[syncwright(default = false)]
    pub done: bool,
    #[syncwright(default = 0, index)]
    pub priority: i64,
    pub due_at: Option<SystemTime>,
}

impl Task {
    pub fn new(title: &str) -> Self {
        Task {
            title: title.to_owned(),
            done: false,
            priority: 1,
            due_at: None,
        }
    }
}

/// The v1 shape of a task (before `priority` and `due_at`).
#[derive(Debug, Clone, PartialEq, Syncable)]
#[syncwright(name = "task")]
pub struct TaskV1 {
    pub title: String,
    #[syncwright(default = false)]
    pub done: bool,
}

/// A `field_merge` entity with a foreign key.
#[derive(Debug, Clone, PartialEq, Syncable)]
#[syncwright(conflict = "field_merge")]
pub struct Note {
    #[syncwright(references = "tasks")]
    pub task_id: Option<uuid::Uuid>,
    pub body: String,
    #[syncwright(default = false)]
    pub pinned: bool,
}

/// Number of rows `sql` counts.
pub fn count(conn: &rusqlite::Connection, sql: &str) -> i64 {
    conn.query_row(sql, [], |r| r.get(0))
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
}

pub fn integrity_ok(conn: &rusqlite::Connection) {
    let result: String = conn
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .expect("integrity_check");
    assert_eq!(result, "ok", "PRAGMA integrity_check");
}

/// The runtime tables' SQL of steps 1 to `version`, as `syncwright::runtime_tables_sql()`
/// prints them: what a database made by an older runtime ran.
pub fn runtime_steps_up_to(version: u32) -> String {
    let sql = syncwright::runtime_tables_sql();
    match sql.find(&format!("-- Runtime tables, step {}.", version + 1)) {
        Some(end) => sql[..end].to_owned(),
        None => sql,
    }
}
