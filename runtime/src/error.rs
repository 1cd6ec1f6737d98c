//! The one error type of the runtime.

use std::fmt;
use std::path::PathBuf;

/// `Result` with [`Error`] as the default error type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong in the runtime.
///
/// Variants that come from a failing SQL statement carry that statement. Nothing in the
/// runtime panics on data read from the database: a bad value is reported as
/// [`Error::Conversion`] or [`Error::CorruptRow`], naming the row.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// SQLite rejected a statement; `sql` is the statement when there is one.
    #[error("SQLite error{}: {source}", fmt_sql(.sql))]
    Sqlite {
        /// The statement that failed, if the failure belongs to one.
        sql: Option<String>,
        /// The error reported by SQLite.
        #[source]
        source: rusqlite::Error,
    },

    /// Reading migration files from a directory failed.
    #[error("cannot read migrations from `{}`: {source}", .path.display())]
    Io {
        /// The file or directory that could not be read.
        path: PathBuf,
        /// The underlying I/O error.
        #[source]
        source: std::io::Error,
    },

    /// The migration set itself is inconsistent (a bad checksum, a missing or duplicate step,
    /// a schema whose version differs from the last step, an unparsable file name).
    #[error("invalid migration set: {reason}")]
    InvalidMigrations {
        /// What is wrong with the set.
        reason: String,
    },

    /// A migration the database recorded as applied differs from the one compiled into the
    /// app: a shipped migration was edited after release. Nothing was written.
    #[error(
        "migration {version} (`{applied_name}`) applied to this database has checksum {applied_checksum}, \
         but the app's migration {version} (`{expected_name}`) has checksum {expected_checksum}; \
         a released migration was modified; nothing was written"
    )]
    ChecksumMismatch {
        /// The schema version of the migration.
        version: u32,
        /// The name recorded in `_sync_migrations`.
        applied_name: String,
        /// The checksum recorded in `_sync_migrations`.
        applied_checksum: String,
        /// The name of the app's migration.
        expected_name: String,
        /// The checksum of the app's migration.
        expected_checksum: String,
    },

    /// The database was written by a newer version of the app. Nothing was written.
    #[error(
        "database schema version {database_version} is newer than this app's version {app_version}; \
         downgrades are not supported; nothing was written"
    )]
    Downgrade {
        /// `PRAGMA user_version` of the database.
        database_version: u32,
        /// The latest version the app knows.
        app_version: u32,
    },

    /// The runtime's own tables were upgraded by a newer syncwright runtime than this one.
    /// Nothing was written.
    #[error(
        "the runtime tables of this database are at version {database_version}, newer than this \
         syncwright runtime's version {runtime_version}; update the syncwright crate; nothing was written"
    )]
    RuntimeDowngrade {
        /// The highest version recorded in `_sync_runtime`.
        database_version: u32,
        /// The latest version this runtime knows.
        runtime_version: u32,
    },

    /// `_sync_migrations` does not record exactly the versions `1..=user_version`. Nothing was
    /// written.
    #[error(
        "migration history is broken: the database is at version {database_version} but records \
         versions {recorded:?} (missing {missing:?}, unexpected {unexpected:?}); nothing was written"
    )]
    HistoryGap {
        /// `PRAGMA user_version` of the database.
        database_version: u32,
        /// The versions recorded in `_sync_migrations`.
        recorded: Vec<u32>,
        /// Versions in `1..=database_version` without a record.
        missing: Vec<u32>,
        /// Recorded versions above `database_version`.
        unexpected: Vec<u32>,
    },

    /// The file is not a SQLite database (or is encrypted). Nothing was written.
    #[error("{}is not a SQLite database: {source}; nothing was written", fmt_path(.path))]
    NotADatabase {
        /// The file, when the database was opened from one.
        path: Option<PathBuf>,
        /// The error reported by SQLite.
        #[source]
        source: rusqlite::Error,
    },

    /// The database has tables (or a `user_version`) but no syncwright bookkeeping: another
    /// app's database, which syncwright does not adopt. Nothing was written.
    #[error(
        "{}was not created by syncwright: it holds {} (user_version {user_version}) but no \
         `_sync_migrations` history; syncwright does not adopt another app's database, and \
         nothing was written. Open a new file for the syncwright database; to bring existing \
         data over, adopt it: `syncwright import --from <this file>` writes the project and \
         `syncwright::adopt` applies it",
        fmt_path(.path),
        fmt_objects(.objects)
    )]
    ForeignDatabase {
        /// The file, when the database was opened from one.
        path: Option<PathBuf>,
        /// `PRAGMA user_version` of the database.
        user_version: i64,
        /// The tables and views found (or, when there are none, the other schema objects).
        objects: Vec<String>,
    },

    /// A database offered for adoption no longer has the schema it was imported from (the app
    /// changed it since `syncwright import`). Nothing was written.
    #[error(
        "the database differs from the import snapshot, so it cannot be adopted (nothing was \
         written):\n  - {}\nrun `syncwright import` again on a current database, or adopt a \
         database of the imported version",
        .differences.join("\n  - ")
    )]
    AdoptedSchemaChanged {
        /// Each difference, one line each.
        differences: Vec<String>,
    },

    /// The adoption given to [`crate::adopt`] is unusable: its snapshot is not an import
    /// snapshot, or the database was adopted by another adoption migration.
    #[error("cannot adopt the database: {reason}")]
    InvalidAdoption {
        /// What is wrong and how to fix it.
        reason: String,
    },

    /// The database is open read-only (the file, its folder or the medium is not writable, or
    /// [`crate::OpenOptions::read_only`] asked for it) and the operation needs to write.
    #[error(
        "{}is open read-only (the file or its folder is not writable, or read-only was asked for): \
         cannot {operation}",
        fmt_path(.path)
    )]
    ReadOnly {
        /// The file, when the database was opened from one.
        path: Option<PathBuf>,
        /// What needed to write.
        operation: String,
    },

    /// A statement of a migration failed; the migration's transaction was rolled back and the
    /// database is still at `version - 1` (or empty, for the fresh-install schema).
    #[error("migration {version} (`{name}`) failed at statement `{sql}`: {source}")]
    MigrationFailed {
        /// The version the migration leads to.
        version: u32,
        /// The migration's name.
        name: String,
        /// The statement that failed.
        sql: String,
        /// The error reported by SQLite.
        #[source]
        source: rusqlite::Error,
    },

    /// The database lacks tables, columns or indexes the compiled entities need.
    #[error("{}", fmt_drift(.missing))]
    SchemaDrift {
        /// Every missing item, in entity order.
        missing: Vec<Drift>,
    },

    /// No record with this id exists in the entity's table.
    #[error("no {entity} with id {id}")]
    NotFound {
        /// The entity name.
        entity: &'static str,
        /// The record id.
        id: String,
    },

    /// The record is a tombstone (soft-deleted) and cannot be updated.
    #[error("{entity} {id} is deleted")]
    RecordDeleted {
        /// The entity name.
        entity: &'static str,
        /// The record id.
        id: String,
    },

    /// A write transaction left a reference to a record that does not exist; nothing of the
    /// transaction was written. The details name the child table, record, column and parent.
    #[error("{0}")]
    ForeignKey(Box<crate::fk_check::ForeignKeyViolation>),

    /// A query named a column the entity does not have.
    #[error("{entity} has no column `{column}`")]
    UnknownColumn {
        /// The entity name.
        entity: &'static str,
        /// The unknown column.
        column: String,
    },

    /// A `Syncable` implementation returned a number of values that does not match its
    /// descriptor's columns.
    #[error(
        "{entity}: to_values returned {found} values but the descriptor has {expected} columns"
    )]
    EntityMismatch {
        /// The entity name.
        entity: &'static str,
        /// Number of columns in the descriptor.
        expected: usize,
        /// Number of values returned.
        found: usize,
    },

    /// A domain value could not be converted between Rust and SQLite or JSON.
    #[error("column `{column}`{}: {reason}", fmt_row(.row))]
    Conversion {
        /// The column being converted.
        column: String,
        /// The id of the row, where known.
        row: Option<String>,
        /// What was wrong with the value.
        reason: String,
    },

    /// Sync metadata or a queue entry read from the database is invalid (unknown
    /// `sync_status`, corrupt JSON payload, malformed id, ...).
    #[error("corrupt row {row} in `{table}`: column `{column}`: {reason}")]
    CorruptRow {
        /// The table holding the row.
        table: String,
        /// The row's id.
        row: String,
        /// The column with the bad value.
        column: String,
        /// What is wrong.
        reason: String,
    },

    /// A queue entry names an entity this database does not know: pass it to
    /// [`crate::OpenOptions::entity`] (or use it once) before syncing.
    #[error("unknown entity `{entity}`: register it when opening the database")]
    UnknownEntity {
        /// The entity name from the queue entry.
        entity: String,
    },

    /// The queue entry is in flight in another open [`crate::Database`] (in this process or
    /// another); only the instance that took it with [`crate::Queue::next_batch`] may complete
    /// or fail it.
    #[error(
        "queue entry {id} is in flight in another open database instance ({owner}); only the \
         instance that took it with next_batch may complete or fail it"
    )]
    QueueEntryClaimed {
        /// The queue entry id.
        id: i64,
        /// The id of the instance that holds it.
        owner: String,
    },

    /// The lock file that marks this instance as the owner of the entries it hands out could
    /// not be created or locked (the database's folder must be writable to sync).
    #[error("cannot take the queue owner lock `{}`: {source}", .path.display())]
    OwnerLock {
        /// The lock file.
        path: PathBuf,
        /// The underlying I/O error.
        #[source]
        source: std::io::Error,
    },

    /// No queue entry with this id exists.
    #[error("no queue entry with id {id}")]
    QueueEntryNotFound {
        /// The queue entry id.
        id: i64,
    },

    /// A queued `create` reads its fields from its record when it is sent, and the record's
    /// row is gone (deleted by SQL that bypassed the store): the create cannot be sent.
    #[error(
        "queue entry {id} creates {entity} `{record}`, but table `{table}` has no such row \
         (deleted outside the store?): restore the row and retry the entry, or discard it"
    )]
    QueueRecordMissing {
        /// The queue entry id.
        id: i64,
        /// The entity name.
        entity: String,
        /// The entity's table.
        table: String,
        /// The record's client id.
        record: uuid::Uuid,
    },

    /// The queue entry is not in a state that allows the operation.
    #[error("queue entry {id} is {status}; {operation} needs it to be {expected}")]
    QueueEntryState {
        /// The queue entry id.
        id: i64,
        /// Its current status.
        status: String,
        /// The attempted operation.
        operation: &'static str,
        /// The status(es) the operation accepts.
        expected: &'static str,
    },

    /// A sync run stopped because the server could not be reached or refused the request.
    /// Everything the run applied before it stopped is kept (each page and each answered batch
    /// commits on its own), the queue keeps every unanswered change, and the next sync resumes.
    #[error("sync stopped: {source}; what was synced before is kept, sync again to resume")]
    SyncStopped {
        /// What the transport reported (a [`crate::sync::protocol::ProtocolError`] inside a
        /// refusal, such as `schema_too_new`).
        #[source]
        source: crate::sync::transport::TransportError,
    },

    /// The server sent something the engine cannot apply: a record of an entity the
    /// database has no table for, or a value that does not fit its column.
    #[error("the server sent {entity} {id} that cannot be applied: {reason}")]
    RemoteRecord {
        /// The entity name.
        entity: String,
        /// The record id.
        id: String,
        /// What does not fit.
        reason: String,
    },

    /// The record is not in `manual` conflict, so there is nothing to resolve.
    #[error("{entity} {id} is not in conflict; list conflicts with Database::conflicts")]
    NoConflict {
        /// The entity name.
        entity: String,
        /// The record id.
        id: String,
    },
}

/// One item the drift check found missing.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Drift {
    /// A whole table is missing.
    Table {
        /// The table name.
        table: String,
    },
    /// A column is missing from an existing table.
    Column {
        /// The table name.
        table: String,
        /// The column name.
        column: String,
    },
    /// An index is missing.
    Index {
        /// The table name.
        table: String,
        /// The index name.
        index: String,
    },
}

impl fmt::Display for Drift {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Drift::Table { table } => write!(f, "missing table `{table}`"),
            Drift::Column { table, column } => write!(f, "missing column `{table}.{column}`"),
            Drift::Index { table, index } => write!(f, "missing index `{index}` on `{table}`"),
        }
    }
}

fn fmt_sql(sql: &Option<String>) -> String {
    match sql {
        Some(sql) => format!(" in `{sql}`"),
        None => String::new(),
    }
}

fn fmt_path(path: &Option<PathBuf>) -> String {
    match path {
        Some(path) => format!("`{}` ", path.display()),
        None => "the database ".to_owned(),
    }
}

fn fmt_objects(objects: &[String]) -> String {
    if objects.is_empty() {
        return "no tables".to_owned();
    }
    let names: Vec<String> = objects.iter().map(|o| format!("`{o}`")).collect();
    names.join(", ")
}

fn fmt_row(row: &Option<String>) -> String {
    match row {
        Some(row) => format!(" of row {row}"),
        None => String::new(),
    }
}

fn fmt_drift(missing: &[Drift]) -> String {
    let mut out = String::from(
        "the database schema does not match the compiled entities (is a migration missing?):",
    );
    for item in missing {
        out.push_str("\n  - ");
        out.push_str(&item.to_string());
    }
    out
}

impl Error {
    /// Wraps a SQLite error with the statement that caused it.
    ///
    /// The text is copied only when the error happens: this wraps every statement of the hot
    /// paths, whose success must not pay for a copy of their SQL.
    pub(crate) fn sql<S: AsRef<str> + ?Sized>(
        sql: &S,
    ) -> impl FnOnce(rusqlite::Error) -> Error + '_ {
        move |source| Error::Sqlite {
            sql: Some(sql.as_ref().to_owned()),
            source,
        }
    }

    /// Names the database file in an error about the file itself.
    pub(crate) fn in_file(self, file: &std::path::Path) -> Error {
        match self {
            Error::NotADatabase { path: None, source } => Error::NotADatabase {
                path: Some(file.to_path_buf()),
                source,
            },
            Error::ForeignDatabase {
                path: None,
                user_version,
                objects,
            } => Error::ForeignDatabase {
                path: Some(file.to_path_buf()),
                user_version,
                objects,
            },
            other => other,
        }
    }

    /// Fills in the row id of a conversion error that did not know it.
    pub(crate) fn with_row(self, id: &str) -> Error {
        match self {
            Error::Conversion {
                column,
                row: None,
                reason,
            } => Error::Conversion {
                column,
                row: Some(id.to_owned()),
                reason,
            },
            other => other,
        }
    }
}

impl From<rusqlite::Error> for Error {
    fn from(source: rusqlite::Error) -> Self {
        Error::Sqlite { sql: None, source }
    }
}
