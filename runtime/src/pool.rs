//! The connections of a [`crate::Database`]: one writer behind a mutex, a small pool of
//! readers.
//!
//! Writes go through the one writer, each in a `BEGIN IMMEDIATE` transaction, so a write and
//! its queue entry commit together and writers never see `SQLITE_BUSY` from each other. A read
//! borrows the writer when no write holds it (its page cache is the warm one, see
//! [`Pool::read`]); otherwise it uses one of the separate read-only connections, which with
//! WAL run concurrently with the writer and see the last committed state. An in-memory
//! database has no separate readers: reads use the writer.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, TryLockError};
use std::time::Duration;

use rusqlite::{Connection, OpenFlags, Transaction, TransactionBehavior};

use crate::fk_check;
use crate::subscribe::Hub;
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
    /// The change subscriptions, told after each commit of the writer.
    hub: Arc<Hub>,
}

impl Pool {
    /// A pool around the (already migrated) `writer`, whose commits `hub` hears of; `path` is
    /// `None` in memory.
    pub fn new(
        mut writer: Connection,
        path: Option<PathBuf>,
        busy_timeout: Duration,
        max_readers: usize,
        read_only: bool,
        hub: Arc<Hub>,
    ) -> Result<Pool> {
        writer.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
        hub.install(&mut writer)?;
        Ok(Pool {
            writer: Mutex::new(writer),
            readers: Mutex::new(Vec::new()),
            path,
            busy_timeout,
            max_readers,
            read_only,
            hub,
        })
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

    /// Runs `f` with a read connection (WAL snapshot of the last commit): the writer when no
    /// write holds it, else a pooled reader.
    ///
    /// Any commit makes SQLite drop every other connection's page cache (WAL: a reader that
    /// sees the changed wal-index resets its pager), so right after a write a reader reads every
    /// page again from the file while the writer, which made the commit, still holds them
    /// (measured: a point read 15 % slower, a list of 1,000 rows 1.8x). A read never waits
    /// for a write: when a write (on any thread, or this thread's own open transaction) holds
    /// the writer, the read goes to a reader and sees the last commit. A write may wait for a
    /// read that borrowed the idle writer, for as long as that read takes.
    pub fn read<R>(&self, f: impl FnOnce(&Connection) -> Result<R>) -> Result<R> {
        let Some(path) = &self.path else {
            return f(&self.lock_writer());
        };
        match self.writer.try_lock() {
            Ok(writer) => return f(&writer),
            // A panic while holding the lock dropped (rolled back) its transaction; the
            // connection itself is still sound.
            Err(TryLockError::Poisoned(poisoned)) => return f(&poisoned.into_inner()),
            Err(TryLockError::WouldBlock) => {}
        }
        self.read_on_reader(path, f)
    }

    /// Runs the app's own SQL `f` on a connection that refuses writes: a pooled read-only
    /// reader, never the borrowed writer ([`Pool::read`] is for the store's own SELECTs). In
    /// memory, where the writer is the only connection, with `PRAGMA query_only` on for the
    /// call.
    pub fn read_refusing_writes<R>(&self, f: impl FnOnce(&Connection) -> Result<R>) -> Result<R> {
        let Some(path) = &self.path else {
            let writer = self.lock_writer();
            let guard = QueryOnly::on(&writer)?;
            return f(guard.0);
        };
        self.read_on_reader(path, f)
    }

    /// Runs `f` on an idle pooled reader, opening one when none is idle.
    fn read_on_reader<R>(
        &self,
        path: &Path,
        f: impl FnOnce(&Connection) -> Result<R>,
    ) -> Result<R> {
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
    /// A commit refused for a dangling foreign key is reported as [`Error::ForeignKey`]; after
    /// a commit, the subscriptions to the tables it wrote are told (never after a rollback).
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
        self.hub.take(); // nothing recorded before this transaction is part of it
        let result = f(&tx).and_then(|result| {
            // COMMIT by hand: when it fails the transaction is still open, so the foreign key
            // check can name the offending row before the drop rolls it back.
            match tx.execute_batch("COMMIT") {
                Ok(()) => Ok(result),
                Err(e) if fk_check::is_foreign_key_failure(&e) => {
                    Err(fk_check::describe(&tx).unwrap_or_else(|| Error::sql("COMMIT")(e)))
                }
                Err(e) => Err(Error::sql("COMMIT")(e)),
            }
        });
        drop(tx);
        let touched = self.hub.take();
        drop(conn);
        if result.is_ok() {
            self.hub.publish(&touched);
        }
        result
    }
}

/// `PRAGMA query_only` on a connection while it lives, off again when dropped (also when the
/// code reading through it panics).
struct QueryOnly<'c>(&'c Connection);

impl<'c> QueryOnly<'c> {
    fn on(conn: &'c Connection) -> Result<Self> {
        conn.pragma_update(None, "query_only", true)
            .map_err(Error::sql("PRAGMA query_only = ON"))?;
        Ok(QueryOnly(conn))
    }
}

impl Drop for QueryOnly<'_> {
    fn drop(&mut self) {
        // Setting a pragma on an open connection does not fail short of a misuse.
        let _ = self.0.pragma_update(None, "query_only", false);
    }
}
