//! The local store: typed reads, and writes that enqueue their mutation atomically.
//!
//! # Threads
//!
//! [`Database`] is `Send + Sync`; share it with an `Arc`. Writes go through one connection,
//! each in a `BEGIN IMMEDIATE` transaction, so a write and its queue entry commit together;
//! reads use the writer when it is idle and a small pool of read-only connections otherwise
//! (see the `pool` module). Other processes opening the same file are handled by the busy
//! timeout.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use rusqlite::types::Value;
use rusqlite::{Connection, Transaction, params_from_iter};
use uuid::Uuid;

use crate::clock::{Clock, to_millis};
use crate::entity::{EntityDescriptor, Syncable};
use crate::jitter::Jitter;
use crate::migrate::MigrationReport;
use crate::migration::MigrationSource;
use crate::open::OpenOptions;
use crate::owner::Owner;
use crate::pool::Pool;
use crate::query::Query;
use crate::queue::{self, PurgeReport, Queue};
use crate::record::{self, Record, fetch_one};
use crate::registry::Registry;
use crate::retry::RetryPolicy;
use crate::subscribe::Hub;
use crate::write_tx::{RemoteVersion, WriteTx};
use crate::{Error, Result};

/// How long tombstones stay after they synced, unless configured otherwise: 30 days.
pub const DEFAULT_TOMBSTONE_AGE: Duration = Duration::from_secs(30 * 24 * 60 * 60);

/// What [`OpenOptions`] hands to a new [`Database`].
pub(crate) struct Settings<'a> {
    pub clock: Arc<dyn Clock>,
    pub retry: RetryPolicy,
    pub coalesce: bool,
    pub busy_timeout: Duration,
    pub max_readers: usize,
    pub jitter_seed: Option<u64>,
    pub schema_version: u32,
    pub report: MigrationReport,
    pub entities: &'a [&'static EntityDescriptor],
    pub read_only: bool,
}

/// An open syncwright database: the app's tables, the mutation queue and the sync bookkeeping.
pub struct Database {
    pool: Pool,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) retry: RetryPolicy,
    pub(crate) coalesce: bool,
    pub(crate) jitter: Jitter,
    pub(crate) schema_version: u32,
    report: MigrationReport,
    pub(crate) registry: Registry,
    /// This instance, as the owner of the queue entries it hands out.
    pub(crate) owner: Owner,
    /// The change subscriptions (see the `subscribe` module).
    pub(crate) hub: Arc<Hub>,
}

impl std::fmt::Debug for Database {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Database")
            .field("path", &self.pool.path())
            .field("schema_version", &self.schema_version)
            .finish_non_exhaustive()
    }
}

impl Database {
    /// A database around the migrated, drift-checked connection `conn`.
    pub(crate) fn new(
        conn: Connection,
        path: Option<PathBuf>,
        settings: Settings<'_>,
    ) -> Result<Self> {
        let owner = Owner::new(path.as_deref());
        let hub = Arc::new(Hub::default());
        Ok(Database {
            pool: Pool::new(
                conn,
                path,
                settings.busy_timeout,
                settings.max_readers,
                settings.read_only,
                Arc::clone(&hub),
            )?,
            clock: settings.clock,
            retry: settings.retry,
            coalesce: settings.coalesce,
            jitter: Jitter::new(settings.jitter_seed),
            schema_version: settings.schema_version,
            report: settings.report,
            registry: Registry::new(settings.entities),
            owner,
            hub,
        })
    }

    /// Default options, to chain setters on before [`OpenOptions::open`].
    pub fn options<'a>() -> OpenOptions<'a> {
        OpenOptions::new()
    }

    /// Opens (or creates) the database at `path` with default options: WAL mode, busy
    /// timeout, migrations to the latest version, recovery of abandoned `in_flight` entries.
    pub fn open(path: impl AsRef<Path>, migrations: &impl MigrationSource) -> Result<Database> {
        OpenOptions::new().open(path, migrations)
    }

    /// [`Database::open`], drift-checking `entities` at open.
    pub fn open_with(
        path: impl AsRef<Path>,
        migrations: &impl MigrationSource,
        entities: &[&'static EntityDescriptor],
    ) -> Result<Database> {
        OpenOptions::new().entities(entities).open(path, migrations)
    }

    /// Opens a private in-memory database with default options.
    pub fn open_in_memory(migrations: &impl MigrationSource) -> Result<Database> {
        OpenOptions::new().open_in_memory(migrations)
    }

    /// Drift-checks `T`'s table and registers it (see [`OpenOptions::entity`]).
    pub fn register<T: Syncable>(&self) -> Result<()> {
        self.ensure_registered(T::ENTITY)
    }

    /// The schema version the app runs (the latest migration).
    pub fn schema_version(&self) -> u32 {
        self.schema_version
    }

    /// What the migration run at open did.
    pub fn migration_report(&self) -> MigrationReport {
        self.report
    }

    /// The current time of the database's clock.
    pub fn now(&self) -> SystemTime {
        self.clock.now()
    }

    /// Whether the database was opened read-only (see [`OpenOptions::read_only`]).
    pub fn is_read_only(&self) -> bool {
        self.pool.read_only()
    }

    pub(crate) fn entity(&self, name: &str) -> Option<&'static EntityDescriptor> {
        self.registry.get(name)
    }

    pub(crate) fn registered(&self) -> Vec<&'static EntityDescriptor> {
        self.registry.all()
    }

    fn ensure_registered(&self, entity: &'static EntityDescriptor) -> Result<()> {
        if self.entity(entity.name).is_some() {
            return Ok(());
        }
        self.with_reader(|conn| self.registry.register(conn, entity))?;
        self.queue_adopted_rows(&[entity])
    }

    /// Queues a `create` for each row of the adopted `entities` that no store write queued
    /// (see `adopted_rows`); nothing for other entities or a read-only database.
    pub(crate) fn queue_adopted_rows(&self, entities: &[&'static EntityDescriptor]) -> Result<()> {
        if self.is_read_only() || entities.iter().all(|e| !e.sync.app_key) {
            return Ok(());
        }
        let stamp = self.adopted_stamp();
        self.with_writer(|tx| {
            for entity in entities {
                crate::adopted_rows::enqueue_unqueued(tx, entity, &stamp)?;
            }
            Ok(())
        })
    }

    /// What queue entries for adopted rows are stamped with.
    pub(crate) fn adopted_stamp(&self) -> crate::adopted_rows::Stamp {
        crate::adopted_rows::Stamp {
            schema_version: self.schema_version,
            max_retries: self.retry.max_retries,
            now_ms: to_millis(self.clock.now()),
        }
    }

    /// Runs `f` on a pooled read connection (a WAL snapshot of the last commit).
    pub(crate) fn with_reader<R>(&self, f: impl FnOnce(&Connection) -> Result<R>) -> Result<R> {
        self.pool.read(f)
    }

    /// Runs `f` in one write transaction on the writer connection.
    pub(crate) fn with_writer<R>(
        &self,
        f: impl FnOnce(&Transaction<'_>) -> Result<R>,
    ) -> Result<R> {
        self.pool.write(f)
    }

    /// Runs `f` in one write transaction (`BEGIN IMMEDIATE`): every write made through the
    /// [`WriteTx`] commits together with its queue entries when `f` returns `Ok`, and none does
    /// when it returns `Err`.
    pub fn transaction<R>(&self, f: impl FnOnce(&WriteTx<'_>) -> Result<R>) -> Result<R> {
        self.with_writer(|tx| f(&WriteTx::new(tx, self)))
    }

    /// Inserts `value` under a fresh client UUID and enqueues its `create`.
    pub fn insert<T: Syncable>(&self, value: &T) -> Result<Record<T>> {
        self.transaction(|tx| tx.insert(value))
    }

    /// Inserts `value` under `id` and enqueues its `create`.
    pub fn insert_with_id<T: Syncable>(&self, id: Uuid, value: &T) -> Result<Record<T>> {
        self.transaction(|tx| tx.insert_with_id(id, value))
    }

    /// Replaces the domain fields of record `id` and enqueues an `update`; see
    /// [`WriteTx::update`].
    pub fn update<T: Syncable>(&self, id: Uuid, value: &T) -> Result<Record<T>> {
        self.transaction(|tx| tx.update(id, value))
    }

    /// Reads live record `id`, lets `change` edit its fields, and writes the result back (an
    /// `update` queued like [`Database::update`]), all in one write transaction: no other
    /// write can slip in between the read and the write. `db.modify::<Task>(id, |t| t.done =
    /// true)?`. A missing or deleted record is [`Error::NotFound`].
    pub fn modify<T: Syncable>(&self, id: Uuid, change: impl FnOnce(&mut T)) -> Result<Record<T>> {
        self.transaction(|tx| {
            let mut value = match tx.get::<T>(id)? {
                Some(record) if !record.is_deleted => record.data,
                _ => {
                    return Err(Error::NotFound {
                        entity: T::ENTITY.name,
                        id: id.to_string(),
                    });
                }
            };
            change(&mut value);
            tx.update(id, &value)
        })
    }

    /// The escape hatch for reads: runs `f` on a read-only connection (a snapshot of the last
    /// commit) for reports, joins or full-text search the typed API does not cover. Entity
    /// tables are plain tables (`docs/contracts.md` lists their sync columns); remember to
    /// leave out tombstones (`is_deleted = 0`). Writes through it are refused by SQLite; use
    /// [`WriteTx::sql`] for those.
    pub fn read_sql<R>(&self, f: impl FnOnce(&Connection) -> rusqlite::Result<R>) -> Result<R> {
        self.pool.read_refusing_writes(|conn| {
            f(conn).map_err(|source| Error::Sqlite { sql: None, source })
        })
    }

    /// Soft-deletes record `id` (a tombstone that syncs) and enqueues a `delete`; see
    /// [`WriteTx::delete`].
    pub fn delete<T: Syncable>(&self, id: Uuid) -> Result<()> {
        self.transaction(|tx| tx.delete::<T>(id))
    }

    /// Stores record `id` as the server sent it, without queueing anything: the write path of
    /// a sync engine's pull. See [`WriteTx::apply_remote`].
    #[doc(hidden)]
    pub fn apply_remote<T: Syncable>(
        &self,
        id: Uuid,
        value: &T,
        remote: &RemoteVersion,
    ) -> Result<Record<T>> {
        self.transaction(|tx| tx.apply_remote(id, value, remote))
    }

    /// The live (not deleted) record `id`, if any.
    pub fn get<T: Syncable>(&self, id: Uuid) -> Result<Option<Record<T>>> {
        self.ensure_registered(T::ENTITY)?;
        self.with_reader(|conn| fetch_one::<T>(conn, id, false))
    }

    /// Record `id` even if it is a tombstone.
    pub fn get_including_deleted<T: Syncable>(&self, id: Uuid) -> Result<Option<Record<T>>> {
        self.ensure_registered(T::ENTITY)?;
        self.with_reader(|conn| fetch_one::<T>(conn, id, true))
    }

    /// A query over `T`'s records; tombstones are excluded unless asked for.
    pub fn query<T: Syncable>(&self) -> Query<'_, T> {
        Query::new(self)
    }

    pub(crate) fn run_query<T: Syncable>(
        &self,
        sql: &str,
        params: &[Value],
    ) -> Result<Vec<Record<T>>> {
        self.ensure_registered(T::ENTITY)?;
        self.with_reader(|conn| {
            let mut stmt = conn.prepare_cached(sql).map_err(Error::sql(sql))?;
            let mut rows = stmt
                .query(params_from_iter(params))
                .map_err(Error::sql(sql))?;
            let mut out = Vec::new();
            while let Some(row) = rows.next().map_err(Error::sql(sql))? {
                out.push(record::read::<T>(row)?);
            }
            Ok(out)
        })
    }

    pub(crate) fn run_count(
        &self,
        entity: &'static EntityDescriptor,
        sql: &str,
        params: &[Value],
    ) -> Result<u64> {
        self.ensure_registered(entity)?;
        self.with_reader(|conn| {
            let n: i64 = conn
                .prepare_cached(sql)
                .and_then(|mut stmt| stmt.query_row(params_from_iter(params), |r| r.get(0)))
                .map_err(Error::sql(sql))?;
            Ok(n.unsigned_abs())
        })
    }

    /// The mutation queue, for the sync engine.
    pub fn queue(&self) -> Queue<'_> {
        Queue::new(self)
    }

    /// Removes tombstones that synced more than `older_than` ago (and have no open queue
    /// entry), plus completed queue entries older than that. Unsynced tombstones are never
    /// removed. This is the only hard delete the store performs. Returns what was removed.
    pub fn purge_tombstones(&self, older_than: Duration) -> Result<PurgeReport> {
        let cutoff = to_millis(
            self.clock
                .now()
                .checked_sub(older_than)
                .unwrap_or(std::time::UNIX_EPOCH),
        );
        let entities = self.registered();
        self.with_writer(|tx| queue::purge(tx, &entities, cutoff))
    }

    /// [`Database::purge_tombstones`] with [`DEFAULT_TOMBSTONE_AGE`].
    pub fn purge_old_tombstones(&self) -> Result<PurgeReport> {
        self.purge_tombstones(DEFAULT_TOMBSTONE_AGE)
    }
}
