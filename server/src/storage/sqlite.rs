//! The embedded backend: one SQLite database (a file, or in memory for tests).

use std::path::Path;
use std::sync::Mutex;

use rusqlite::{Connection, OptionalExtension, Row, TransactionBehavior, params};
use syncwright::sync::protocol::Outcome;
use uuid::Uuid;

use super::steps::{STEPS_TABLE, Step, latest, pending};
use super::{ReadPage, Scan, Storage, StorageError, StoredRecord, WriteTx};

/// The steps of the server's own tables on SQLite (see [`super::steps`]). `PRAGMA user_version`
/// mirrors the latest applied step, which is how servers before the steps table recorded it.
pub(super) const STEPS: &[Step] = &[Step {
    version: 1,
    purpose: "records, the per-user change sequences, the answers to idempotency keys",
    sql: STEP_1,
}];

const STEP_1: &str = r#"
CREATE TABLE server_meta (
    key   TEXT PRIMARY KEY NOT NULL,
    value BLOB NOT NULL
);
-- One change sequence per user: the last number taken.
CREATE TABLE user_sequences (
    user     TEXT PRIMARY KEY NOT NULL,
    last_seq INTEGER NOT NULL
);
CREATE TABLE records (
    user             TEXT NOT NULL,
    entity           TEXT NOT NULL,
    id               TEXT NOT NULL,
    server_id        TEXT NOT NULL UNIQUE,
    version          INTEGER NOT NULL,
    schema_version   INTEGER NOT NULL,
    deleted          INTEGER NOT NULL CHECK (deleted IN (0, 1)),
    created_at       INTEGER NOT NULL,
    updated_at       INTEGER NOT NULL,
    fields           TEXT NOT NULL CHECK (json_valid(fields)),
    field_timestamps TEXT NOT NULL CHECK (json_valid(field_timestamps)),
    created_seq      INTEGER NOT NULL,
    seq              INTEGER NOT NULL,
    PRIMARY KEY (user, entity, id)
);
-- A pull reads records the client has not seen by their create, and records it has seen by
-- their latest change.
CREATE INDEX records_by_created_seq ON records (user, entity, created_seq);
CREATE INDEX records_by_seq ON records (user, entity, seq);
-- The first answer to every idempotency key, written in the transaction that applied it.
CREATE TABLE answers (
    user            TEXT NOT NULL,
    idempotency_key TEXT NOT NULL,
    outcome         TEXT NOT NULL CHECK (json_valid(outcome)),
    PRIMARY KEY (user, idempotency_key)
);
"#;

const RECORD_COLUMNS: &str = "entity, id, server_id, version, schema_version, deleted, created_at, \
     updated_at, fields, field_timestamps, created_seq, seq";

/// Server state in one SQLite database.
///
/// ```
/// use syncwright_server::storage::{SqliteStorage, Storage};
///
/// let storage = SqliteStorage::in_memory().unwrap();
/// assert_eq!(storage.secret().len(), 32);
/// ```
pub struct SqliteStorage {
    conn: Mutex<Connection>,
    secret: Vec<u8>,
}

impl SqliteStorage {
    /// Opens (creating when missing) the database file at `path`.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, StorageError> {
        let path = path.as_ref();
        let conn = Connection::open(path)
            .map_err(|e| StorageError::new(format!("cannot open `{}`: {e}", path.display())))?;
        // WAL with full sync: a committed push survives a crash or power loss.
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        SqliteStorage::init(conn)
    }

    /// A database in memory, gone when dropped (tests).
    pub fn in_memory() -> Result<Self, StorageError> {
        SqliteStorage::init(Connection::open_in_memory()?)
    }

    fn init(mut conn: Connection) -> Result<Self, StorageError> {
        // Immediate: two servers opening one file apply the steps one after the other.
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        migrate(&tx)?;
        tx.execute(
            "INSERT OR IGNORE INTO server_meta (key, value) VALUES ('cursor_secret', ?1)",
            [new_secret()],
        )?;
        let secret: Vec<u8> = tx.query_row(
            "SELECT value FROM server_meta WHERE key = 'cursor_secret'",
            [],
            |r| r.get(0),
        )?;
        tx.commit()?;
        Ok(SqliteStorage {
            conn: Mutex::new(conn),
            secret,
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Connection> {
        // A panic while holding the lock leaves no open transaction (rusqlite rolls back on
        // drop), so the connection is still usable.
        self.conn.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// Brings the server's tables to the latest step, inside the caller's transaction.
fn migrate(tx: &rusqlite::Transaction<'_>) -> Result<(), StorageError> {
    tx.execute_batch(&format!(
        "CREATE TABLE IF NOT EXISTS {STEPS_TABLE} (
             version    INTEGER PRIMARY KEY NOT NULL,
             purpose    TEXT NOT NULL,
             applied_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP
         )"
    ))?;
    let recorded: i64 = tx.query_row(
        &format!("SELECT COALESCE(MAX(version), 0) FROM {STEPS_TABLE}"),
        [],
        |r| r.get(0),
    )?;
    // Servers before the steps table kept the version in `user_version` alone.
    let legacy: i64 = tx.pragma_query_value(None, "user_version", |r| r.get(0))?;
    let applied = u32::try_from(recorded.max(legacy)).unwrap_or(u32::MAX);
    let record = format!("INSERT OR IGNORE INTO {STEPS_TABLE} (version, purpose) VALUES (?1, ?2)");
    for step in &STEPS[..(applied as usize).min(STEPS.len())] {
        tx.execute(&record, params![step.version, step.purpose])?;
    }
    for step in pending(STEPS, applied)? {
        tx.execute_batch(step.sql).map_err(|e| {
            StorageError::new(format!("server tables step {} failed: {e}", step.version))
        })?;
        tx.execute(&record, params![step.version, step.purpose])?;
    }
    tx.pragma_update(None, "user_version", latest(STEPS))?;
    Ok(())
}

fn new_secret() -> Vec<u8> {
    [Uuid::new_v4(), Uuid::new_v4()]
        .iter()
        .flat_map(|u| u.into_bytes())
        .collect()
}

impl Storage for SqliteStorage {
    fn write(
        &self,
        user: &str,
        work: &mut dyn FnMut(&mut dyn WriteTx) -> Result<(), StorageError>,
    ) -> Result<(), StorageError> {
        let mut conn = self.lock();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        work(&mut SqliteTx { tx: &tx, user })?;
        tx.commit()?;
        Ok(())
    }

    fn read(&self, user: &str, scans: &[Scan], limit: usize) -> Result<ReadPage, StorageError> {
        let mut conn = self.lock();
        let tx = conn.transaction()?;
        let latest_seq = latest_seq(&tx, user)?;
        let mut records = Vec::new();
        for scan in scans {
            records.extend(scan_records(&tx, user, scan, limit)?);
        }
        tx.commit()?;
        Ok(ReadPage {
            latest_seq,
            records,
        })
    }

    fn secret(&self) -> &[u8] {
        &self.secret
    }
}

fn latest_seq(conn: &Connection, user: &str) -> Result<u64, StorageError> {
    let seq: Option<i64> = conn
        .query_row(
            "SELECT last_seq FROM user_sequences WHERE user = ?1",
            [user],
            |r| r.get(0),
        )
        .optional()?;
    Ok(seq.map_or(0, to_u64))
}

/// The scan's first `limit` records by position: records new to the client by their create,
/// records it has seen by their latest change, merged. Each half reads one index range.
fn scan_records(
    conn: &Connection,
    user: &str,
    scan: &Scan,
    limit: usize,
) -> Result<Vec<StoredRecord>, StorageError> {
    let from = to_i64(scan.since.max(scan.after));
    let since = to_i64(scan.since);
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    let new_sql = format!(
        "SELECT {RECORD_COLUMNS} FROM records WHERE user = ?1 AND entity = ?2 AND created_seq > ?3 \
         ORDER BY created_seq LIMIT ?4"
    );
    let seen_sql = format!(
        "SELECT {RECORD_COLUMNS} FROM records WHERE user = ?1 AND entity = ?2 AND seq > ?3 \
         AND created_seq <= ?4 ORDER BY seq LIMIT ?5"
    );
    let mut records = query_records(conn, &new_sql, params![user, scan.entity, from, limit])?;
    records.extend(query_records(
        conn,
        &seen_sql,
        params![user, scan.entity, from, since, limit],
    )?);
    records.sort_by_key(|r| r.position(scan.since));
    records.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
    Ok(records)
}

fn query_records(
    conn: &Connection,
    sql: &str,
    params: impl rusqlite::Params,
) -> Result<Vec<StoredRecord>, StorageError> {
    let mut stmt = conn.prepare_cached(sql)?;
    let rows = stmt.query_map(params, |row| Ok(read_record(row)))?;
    let mut records = Vec::new();
    for row in rows {
        records.push(row??);
    }
    Ok(records)
}

/// Reads a row of [`RECORD_COLUMNS`].
fn read_record(row: &Row<'_>) -> Result<StoredRecord, StorageError> {
    let id: String = row.get(1)?;
    let fields: String = row.get(8)?;
    let field_timestamps: String = row.get(9)?;
    let corrupt = |what: &str, e: &dyn std::fmt::Display| {
        StorageError::new(format!("corrupt record `{id}`: {what}: {e}"))
    };
    Ok(StoredRecord {
        entity: row.get(0)?,
        id: Uuid::parse_str(&id).map_err(|e| corrupt("id", &e))?,
        server_id: row.get(2)?,
        version: to_u64(row.get(3)?),
        schema_version: u32::try_from(row.get::<_, i64>(4)?)
            .map_err(|e| corrupt("schema_version", &e))?,
        deleted: row.get(5)?,
        created_at: row.get(6)?,
        updated_at: row.get(7)?,
        fields: serde_json::from_str(&fields).map_err(|e| corrupt("fields", &e))?,
        field_timestamps: serde_json::from_str(&field_timestamps)
            .map_err(|e| corrupt("field_timestamps", &e))?,
        created_seq: to_u64(row.get(10)?),
        seq: to_u64(row.get(11)?),
    })
}

struct SqliteTx<'a> {
    tx: &'a rusqlite::Transaction<'a>,
    user: &'a str,
}

impl WriteTx for SqliteTx<'_> {
    fn answer(&mut self, key: Uuid) -> Result<Option<Outcome>, StorageError> {
        let text: Option<String> = self
            .tx
            .prepare_cached("SELECT outcome FROM answers WHERE user = ?1 AND idempotency_key = ?2")?
            .query_row(params![self.user, key.to_string()], |r| r.get(0))
            .optional()?;
        text.map(|t| {
            serde_json::from_str(&t)
                .map_err(|e| StorageError::new(format!("corrupt answer to key {key}: {e}")))
        })
        .transpose()
    }

    fn put_answer(&mut self, key: Uuid, outcome: &Outcome) -> Result<(), StorageError> {
        let text = serde_json::to_string(outcome)
            .map_err(|e| StorageError::new(format!("cannot encode the answer to {key}: {e}")))?;
        self.tx
            .prepare_cached(
                "INSERT INTO answers (user, idempotency_key, outcome) VALUES (?1, ?2, ?3)",
            )?
            .execute(params![self.user, key.to_string(), text])?;
        Ok(())
    }

    fn record(&mut self, entity: &str, id: Uuid) -> Result<Option<StoredRecord>, StorageError> {
        let sql = format!(
            "SELECT {RECORD_COLUMNS} FROM records WHERE user = ?1 AND entity = ?2 AND id = ?3"
        );
        query_records(self.tx, &sql, params![self.user, entity, id.to_string()])
            .map(|mut r| r.pop())
    }

    fn put_record(&mut self, r: &StoredRecord) -> Result<(), StorageError> {
        self.tx
            .prepare_cached(&format!(
                "INSERT OR REPLACE INTO records (user, {RECORD_COLUMNS}) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)"
            ))?
            .execute(params![
                self.user,
                r.entity,
                r.id.to_string(),
                r.server_id,
                to_i64(r.version),
                r.schema_version,
                r.deleted,
                r.created_at,
                r.updated_at,
                json_text(&r.fields),
                json_text(&r.field_timestamps),
                to_i64(r.created_seq),
                to_i64(r.seq),
            ])?;
        Ok(())
    }

    fn next_seq(&mut self) -> Result<u64, StorageError> {
        let seq: i64 = self
            .tx
            .prepare_cached(
                "INSERT INTO user_sequences (user, last_seq) VALUES (?1, 1) \
                 ON CONFLICT (user) DO UPDATE SET last_seq = last_seq + 1 RETURNING last_seq",
            )?
            .query_row([self.user], |r| r.get(0))?;
        Ok(to_u64(seq))
    }
}

/// JSON text of a stored map (maps of JSON values always serialize).
fn json_text<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_string(value).expect("maps of JSON values serialize")
}

// Sequence numbers and versions are stored as SQLite integers; they stay far below i64::MAX.
fn to_i64(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

fn to_u64(n: i64) -> u64 {
    u64::try_from(n).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn steps_recorded(path: &Path) -> Vec<i64> {
        let conn = Connection::open(path).unwrap();
        let mut stmt = conn
            .prepare(&format!(
                "SELECT version FROM {STEPS_TABLE} ORDER BY version"
            ))
            .unwrap();
        stmt.query_map([], |r| r.get(0))
            .unwrap()
            .map(Result::unwrap)
            .collect()
    }

    #[test]
    fn a_new_database_records_each_step_once_and_reopening_applies_none() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("server.db");
        let secret = SqliteStorage::open(&path).unwrap().secret().to_vec();
        assert_eq!(steps_recorded(&path), [1]);
        let reopened = SqliteStorage::open(&path).unwrap();
        assert_eq!(reopened.secret(), secret.as_slice(), "the secret is kept");
        assert_eq!(steps_recorded(&path), [1]);
    }

    #[test]
    fn a_database_of_a_server_before_the_steps_table_is_recorded_at_step_1_and_kept() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("server.db");
        // What the server before the steps table made: step 1's tables, `user_version` 1.
        {
            let conn = Connection::open(&path).unwrap();
            conn.execute_batch(STEP_1).unwrap();
            conn.execute(
                "INSERT INTO server_meta (key, value) VALUES ('cursor_secret', x'0102')",
                [],
            )
            .unwrap();
            conn.pragma_update(None, "user_version", 1).unwrap();
        }
        let storage = SqliteStorage::open(&path).unwrap();
        assert_eq!(storage.secret(), [1, 2], "the old secret is kept");
        assert_eq!(steps_recorded(&path), [1]);
    }

    #[test]
    fn a_database_whose_tables_a_newer_server_wrote_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("server.db");
        drop(SqliteStorage::open(&path).unwrap());
        Connection::open(&path)
            .unwrap()
            .execute(
                &format!("INSERT INTO {STEPS_TABLE} (version, purpose) VALUES (2, 'future')"),
                [],
            )
            .unwrap();
        let error = SqliteStorage::open(&path).err().expect("refused").message;
        assert!(
            error.contains("version 2") && error.contains("newer"),
            "{error}"
        );
    }
}
