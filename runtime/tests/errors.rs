//! One example of every error variant, with its message snapshotted.

use syncwright::{Drift, Error};

fn sqlite_error() -> rusqlite::Error {
    let conn = rusqlite::Connection::open_in_memory().unwrap();
    conn.execute("INSERT INTO missing VALUES (1)", [])
        .unwrap_err()
}

#[test]
fn every_error_message() {
    let examples: Vec<(&str, Error)> = vec![
        (
            "sqlite",
            Error::Sqlite {
                sql: Some("INSERT INTO missing VALUES (1)".into()),
                source: sqlite_error(),
            },
        ),
        (
            "io",
            Error::Io {
                path: "migrations".into(),
                source: std::io::Error::new(std::io::ErrorKind::NotFound, "not found"),
            },
        ),
        (
            "invalid_migrations",
            Error::InvalidMigrations {
                reason: "step 3 (`notes`) found where step 2 was expected".into(),
            },
        ),
        (
            "checksum_mismatch",
            Error::ChecksumMismatch {
                version: 2,
                applied_name: "priority".into(),
                applied_checksum: "aa".into(),
                expected_name: "priority".into(),
                expected_checksum: "bb".into(),
            },
        ),
        (
            "downgrade",
            Error::Downgrade {
                database_version: 5,
                app_version: 3,
            },
        ),
        (
            "not_a_database",
            Error::NotADatabase {
                path: Some("notes.txt".into()),
                source: rusqlite::Error::SqliteFailure(
                    rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_NOTADB),
                    None,
                ),
            },
        ),
        (
            "foreign_database",
            Error::ForeignDatabase {
                path: Some("clinic.db".into()),
                user_version: 0,
                objects: vec!["tasks".into(), "visits".into()],
            },
        ),
        (
            "adopted_schema_changed",
            Error::AdoptedSchemaChanged {
                differences: vec![
                    "table `patients`: column `phone` was added since the import".into(),
                    "table `tags` is missing".into(),
                ],
            },
        ),
        (
            "invalid_adoption",
            Error::InvalidAdoption {
                reason: "the snapshot is not an import snapshot written by `syncwright import` (line 1, column 12): invalid type".into(),
            },
        ),
        (
            "read_only",
            Error::ReadOnly {
                path: Some("app.db".into()),
                operation: "write to it".into(),
            },
        ),
        (
            "runtime_downgrade",
            Error::RuntimeDowngrade {
                database_version: 3,
                runtime_version: 2,
            },
        ),
        (
            "queue_entry_claimed",
            Error::QueueEntryClaimed {
                id: 7,
                owner: "0f8fad5b-d9cb-469f-a165-70867728950e".into(),
            },
        ),
        (
            "owner_lock",
            Error::OwnerLock {
                path: "app.db.queue-owner.0f8fad5b-d9cb-469f-a165-70867728950e".into(),
                source: std::io::Error::new(
                    std::io::ErrorKind::PermissionDenied,
                    "permission denied",
                ),
            },
        ),
        (
            "sync_stopped",
            Error::SyncStopped {
                source: syncwright::sync::transport::TransportError::refused(
                    syncwright::sync::protocol::ProtocolError::SchemaTooNew {
                        client_schema_version: 3,
                        server_schema_version: 2,
                    },
                ),
            },
        ),
        (
            "remote_record",
            Error::RemoteRecord {
                entity: "task".into(),
                id: "0f8fad5b-d9cb-469f-a165-70867728950e".into(),
                reason: "`title`: payload value 42 does not fit a Text column".into(),
            },
        ),
        (
            "no_conflict",
            Error::NoConflict {
                entity: "task".into(),
                id: "0f8fad5b-d9cb-469f-a165-70867728950e".into(),
            },
        ),
        (
            "history_gap",
            Error::HistoryGap {
                database_version: 3,
                recorded: vec![1, 3],
                missing: vec![2],
                unexpected: vec![],
            },
        ),
        (
            "migration_failed",
            Error::MigrationFailed {
                version: 2,
                name: "priority".into(),
                sql: "UPDATE tasks SET x = 1;".into(),
                source: sqlite_error(),
            },
        ),
        (
            "schema_drift",
            Error::SchemaDrift {
                missing: vec![
                    Drift::Table {
                        table: "projects".into(),
                    },
                    Drift::Column {
                        table: "tasks".into(),
                        column: "estimate".into(),
                    },
                    Drift::Index {
                        table: "tasks".into(),
                        index: "idx_tasks_estimate".into(),
                    },
                ],
            },
        ),
        (
            "not_found",
            Error::NotFound {
                entity: "task",
                id: "0b6f…".into(),
            },
        ),
        (
            "record_deleted",
            Error::RecordDeleted {
                entity: "task",
                id: "0b6f…".into(),
            },
        ),
        (
            "unknown_column",
            Error::UnknownColumn {
                entity: "task",
                column: "titel".into(),
            },
        ),
        (
            "entity_mismatch",
            Error::EntityMismatch {
                entity: "task",
                expected: 4,
                found: 3,
            },
        ),
        (
            "conversion",
            Error::Conversion {
                column: "done".into(),
                row: Some("0b6f…".into()),
                reason: "7 is not a boolean (0 or 1)".into(),
            },
        ),
        (
            "corrupt_row",
            Error::CorruptRow {
                table: "tasks".into(),
                row: "0b6f…".into(),
                column: "sync_status".into(),
                reason: "unknown sync status \"weird\"".into(),
            },
        ),
        (
            "unknown_entity",
            Error::UnknownEntity {
                entity: "project".into(),
            },
        ),
        (
            "queue_entry_not_found",
            Error::QueueEntryNotFound { id: 42 },
        ),
        (
            "queue_record_missing",
            Error::QueueRecordMissing {
                id: 42,
                entity: "task".into(),
                table: "tasks".into(),
                record: uuid::Uuid::from_u128(7),
            },
        ),
        (
            "queue_entry_state",
            Error::QueueEntryState {
                id: 42,
                status: "pending".into(),
                operation: "complete",
                expected: "in_flight",
            },
        ),
    ];
    let table: String = examples
        .iter()
        .map(|(name, e)| format!("{name}: {e}\n"))
        .collect();
    insta::assert_snapshot!(table);
}
