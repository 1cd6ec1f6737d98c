//! The connections of a [`crate::Database`]: one writer behind a mutex, a small pool of
//! readers.
//!
//! Writes go through the one writer, each in a `BEGIN IMMEDIATE` transaction, so a write and
//! its queue entry commit together and writers never see `SQLITE_BUSY` from each other. Reads
//! use separate read-only connections; with WAL they run concurrently with the writer and see
//! the last committed state. An in-memory database has no separate readers: reads use the
//! writer.

use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use rusqlite::{Connection, OpenFlags, Transaction, TransactionBehavior};

use crate::{Error, Result};

/// Prepared statements each connection keeps. Every statement of the hot paths is prepared once
/// and reused (a handful per entity plus the queue's); rusqlite's default of 16 would evict
/// them as soon as an app has a few entities, and re-preparing costs more than running them.
const STATEMENT_CACHE: usize = 256;

/// The writer and the idle readers of one database.
#[derive(Debug)]
pub(crate) struct Pool {
    writer: Mutex<Connection>,
    readers: Mutex<Vec<Connection>>,
    path: Option<PathBuf>,
    busy_timeout: Duration,
    max_readers: usize,
    read_only: bool,
}

impl Pool {
    /// A pool around the (already migrated) `writer`; `path` is `None` in memory.
    pub fn new(
        writer: Connection,
        path: Option<PathBuf>,
        busy_timeout: Duration,
        max_readers: usize,
        read_only: bool,
    ) -> Pool {
        writer.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
        Pool {
            writer: Mutex::new(writer),
            readers: Mutex::new(Vec::new()),
            path,
            busy_timeout,
            max_readers,
            read_only,
        }
    }

    /// The database file, if any.
    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    /// Whether the database is open read-only.
    pub fn read_only(&self) -> bool {
        self.read_only
    }

    fn lock_writer(&self) -> MutexGuard<'_, Connection> {
        // A panic while holding the lock dropped (rolled back) its transaction; the
        // connection itself is still sound.
        self.writer.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Runs `f` with a read connection (WAL snapshot of the last commit).
    pub fn read<R>(&self, f: impl FnOnce(&Connection) -> Result<R>) -> Result<R> {
        let Some(path) = &self.path else {
            return f(&self.lock_writer());
        };
        let pooled = self.readers.lock().unwrap_or_else(|e| e.into_inner()).pop();
        let conn = match pooled {
            Some(conn) => conn,
            None => {
                let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
                let conn = Connection::open_with_flags(path, flags)?;
                conn.busy_timeout(self.busy_timeout)?;
                conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
                conn
            }
        };
        let result = f(&conn);
        let mut pool = self.readers.lock().unwrap_or_else(|e| e.into_inner());
        if pool.len() < self.max_readers {
            pool.push(conn);
        }
        result
    }

    /// Runs `f` in one `BEGIN IMMEDIATE` transaction on the writer, committed when `f` returns
    /// `Ok` and rolled back otherwise. A read-only database refuses with [`Error::ReadOnly`].
    pub fn write<R>(&self, f: impl FnOnce(&Transaction<'_>) -> Result<R>) -> Result<R> {
        if self.read_only {
            return Err(Error::ReadOnly {
                path: self.path.clone(),
                operation: "write to it".to_owned(),
            });
        }
        let mut conn = self.lock_writer();
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(Error::sql("BEGIN IMMEDIATE"))?;
        let result = f(&tx)?;
        tx.commit().map_err(Error::sql("COMMIT"))?;
        Ok(result)
    }
}
