//! Hand-written entities, migration sets and temp directories shared by the integration tests.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use syncwright::__private::{ColumnValue, Row, Value, get_column};
use syncwright::{
    ColumnDescriptor, ColumnType, ConflictStrategy, Database, EntityDescriptor, IndexDescriptor,
    ManualClock, Migrations, OwnedMigration, OwnedMigrations, RetryPolicy, Syncable,
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

const fn col(name: &'static str, ty: ColumnType, nullable: bool) -> ColumnDescriptor {
    ColumnDescriptor {
        name,
        ty,
        nullable,
        references: None,
    }
}

const fn idx(name: &'static str, columns: &'static [&'static str]) -> IndexDescriptor {
    IndexDescriptor {
        name,
        columns,
        unique: false,
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Task {
    pub title: String,
    pub done: bool,
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

pub const TASK_COLUMNS: &[ColumnDescriptor] = &[
    col("title", ColumnType::Text, false),
    col("done", ColumnType::Bool, false),
    col("priority", ColumnType::Integer, false),
    col("due_at", ColumnType::Timestamp, true),
];

pub const TASK_INDEXES: &[IndexDescriptor] = &[
    idx("idx_tasks_sync_status", &["sync_status"]),
    idx("idx_tasks_updated_at", &["updated_at"]),
    idx("idx_tasks_is_deleted", &["is_deleted"]),
    IndexDescriptor {
        name: "idx_tasks_server_id",
        columns: &["server_id"],
        unique: true,
    },
    idx("idx_tasks_priority", &["priority"]),
];

impl Syncable for Task {
    const ENTITY: &'static EntityDescriptor = &EntityDescriptor {
        name: "task",
        table: "tasks",
        conflict: ConflictStrategy::LastWriteWins,
        columns: TASK_COLUMNS,
        indexes: TASK_INDEXES,
    };
    fn to_values(&self) -> Vec<Value> {
        vec![
            self.title.to_value(),
            self.done.to_value(),
            self.priority.to_value(),
            self.due_at.to_value(),
        ]
    }
    fn from_row(row: &Row<'_>) -> syncwright::Result<Self> {
        Ok(Task {
            title: get_column(row, "title")?,
            done: get_column(row, "done")?,
            priority: get_column(row, "priority")?,
            due_at: get_column(row, "due_at")?,
        })
    }
}

/// The v1 shape of a task (before `priority` and `due_at`).
#[derive(Debug, Clone, PartialEq)]
pub struct TaskV1 {
    pub title: String,
    pub done: bool,
}

impl Syncable for TaskV1 {
    const ENTITY: &'static EntityDescriptor = &EntityDescriptor {
        name: "task",
        table: "tasks",
        conflict: ConflictStrategy::LastWriteWins,
        columns: &[
            col("title", ColumnType::Text, false),
            col("done", ColumnType::Bool, false),
        ],
        indexes: &[],
    };
    fn to_values(&self) -> Vec<Value> {
        vec![self.title.to_value(), self.done.to_value()]
    }
    fn from_row(row: &Row<'_>) -> syncwright::Result<Self> {
        Ok(TaskV1 {
            title: get_column(row, "title")?,
            done: get_column(row, "done")?,
        })
    }
}

/// A `field_merge` entity with a foreign key.
#[derive(Debug, Clone, PartialEq)]
pub struct Note {
    pub task_id: Option<uuid::Uuid>,
    pub body: String,
    pub pinned: bool,
}

impl Syncable for Note {
    const ENTITY: &'static EntityDescriptor = &EntityDescriptor {
        name: "note",
        table: "notes",
        conflict: ConflictStrategy::FieldMerge,
        columns: &[
            ColumnDescriptor {
                name: "task_id",
                ty: ColumnType::Uuid,
                nullable: true,
                references: Some("tasks"),
            },
            col("body", ColumnType::Text, false),
            col("pinned", ColumnType::Bool, false),
        ],
        indexes: &[
            idx("idx_notes_sync_status", &["sync_status"]),
            idx("idx_notes_updated_at", &["updated_at"]),
            idx("idx_notes_is_deleted", &["is_deleted"]),
            IndexDescriptor {
                name: "idx_notes_server_id",
                columns: &["server_id"],
                unique: true,
            },
            idx("idx_notes_task_id", &["task_id"]),
        ],
    };
    fn to_values(&self) -> Vec<Value> {
        vec![
            self.task_id.to_value(),
            self.body.to_value(),
            self.pinned.to_value(),
        ]
    }
    fn from_row(row: &Row<'_>) -> syncwright::Result<Self> {
        Ok(Note {
            task_id: get_column(row, "task_id")?,
            body: get_column(row, "body")?,
            pinned: get_column(row, "pinned")?,
        })
    }
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
