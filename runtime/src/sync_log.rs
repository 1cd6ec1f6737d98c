//! The sync log (`_sync_log`): what each sync round did, for support and the UI.

use std::time::SystemTime;

use rusqlite::Connection;

use crate::clock::{from_millis, to_millis};
use crate::store::Database;
use crate::{Error, Result};

/// The direction of a sync round recorded in `_sync_log`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// Server to client.
    Pull,
    /// Client to server.
    Push,
}

/// One row of `_sync_log`, written by the sync engine with [`Database::log_sync`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyncLogEntry {
    /// Pull or push.
    pub direction: Direction,
    /// The entity type, if the round was for one.
    pub entity_type: Option<String>,
    /// Records pulled.
    pub pulled: u64,
    /// Records pushed.
    pub pushed: u64,
    /// Conflicts met.
    pub conflicts: u64,
    /// How conflicts were resolved.
    pub resolution: Option<String>,
    /// The error, if the round failed.
    pub error: Option<String>,
}

/// When the last round without an error ran.
pub(crate) fn last_success(conn: &Connection) -> Result<Option<SystemTime>> {
    let sql = "SELECT max(at) FROM _sync_log WHERE error IS NULL";
    let last: Option<i64> = conn
        .query_row(sql, [], |r| r.get(0))
        .map_err(Error::sql(sql))?;
    Ok(last.map(from_millis))
}

impl Database {
    /// Appends a row to `_sync_log` at the clock's now; rows without an error count as the last
    /// successful sync in [`Database::status`].
    pub fn log_sync(&self, entry: &SyncLogEntry) -> Result<()> {
        let now = to_millis(self.clock.now());
        let direction = match entry.direction {
            Direction::Pull => "pull",
            Direction::Push => "push",
        };
        let n = |v: u64| i64::try_from(v).unwrap_or(i64::MAX);
        self.with_writer(|tx| {
            let sql = "INSERT INTO _sync_log (at, direction, entity_type, pulled, pushed, conflicts, resolution, error) \
                       VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)";
            tx.execute(
                sql,
                (
                    now,
                    direction,
                    &entry.entity_type,
                    n(entry.pulled),
                    n(entry.pushed),
                    n(entry.conflicts),
                    &entry.resolution,
                    &entry.error,
                ),
            )
            .map_err(Error::sql(sql))?;
            Ok(())
        })
    }
}

/// Writes one conflict and its resolution to `_sync_log`, inside the engine's transaction.
pub(crate) fn log_conflict(
    tx: &rusqlite::Transaction<'_>,
    direction: Direction,
    entity_type: &str,
    entity_id: &str,
    resolution: &str,
    now_ms: i64,
) -> Result<()> {
    let direction = match direction {
        Direction::Pull => "pull",
        Direction::Push => "push",
    };
    let sql = "INSERT INTO _sync_log (at, direction, entity_type, conflicts, resolution, entity_id) \
               VALUES (?1, ?2, ?3, 1, ?4, ?5)";
    tx.prepare_cached(sql)
        .and_then(|mut s| s.execute((now_ms, direction, entity_type, resolution, entity_id)))
        .map_err(Error::sql(sql))?;
    Ok(())
}

impl Database {
    /// The conflicts and resolutions `_sync_log` recorded for record `id`, oldest first (as
    /// `lww: server kept`, `manual: waiting for the app`, `manual: merged`, ...).
    pub fn conflict_log(&self, id: uuid::Uuid) -> Result<Vec<String>> {
        self.with_reader(|conn| {
            let sql = "SELECT resolution FROM _sync_log WHERE entity_id = ?1 \
                       AND resolution IS NOT NULL ORDER BY id";
            conn.prepare(sql)
                .and_then(|mut s| {
                    s.query_map([id.hyphenated().to_string()], |r| r.get(0))?
                        .collect()
                })
                .map_err(Error::sql(sql))
        })
    }
}
