//! The local store: opening, typed writes that enqueue their mutation atomically, reads.
//!
//! # Threads
//!
//! [`Database`] is `Send + Sync`; share it with an `Arc`. Writes go through one connection
//! behind a mutex, each in a `BEGIN IMMEDIATE` transaction, so a write and its queue entry
//! commit together and writers never see `SQLITE_BUSY` from each other. Reads use a small pool
//! of separate connections; with WAL they run concurrently with the writer and see the last
//! committed state. (An in-memory database has no separate readers: reads use the writer.)
//! Other processes opening the same file are handled by the busy timeout.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, RwLock};
use std::time::{Duration, SystemTime};

use rusqlite::types::Value;
use rusqlite::{
    Connection, MAIN_DB, OpenFlags, OptionalExtension, TransactionBehavior, params_from_iter,
};
use uuid::Uuid;

use crate::clock::{Clock, SystemClock, to_millis};
use crate::entity::{EntityDescriptor, FIELD_TIMESTAMPS, Syncable, quote};
use crate::migrate::{self, MigrationReport, Progress};
use crate::migration::MigrationSource;
use crate::owner::Owner;
use crate::query::Query;
use crate::queue::{Action, Queue, RetryPolicy};
use crate::record::{self, Record, SyncStatus};
use crate::runtime_tables::{self, RUNTIME_TABLES_VERSION};
use crate::{Error, Result};

/// How long tombstones stay after they synced, unless configured otherwise: 30 days.
pub const DEFAULT_TOMBSTONE_AGE: Duration = Duration::from_secs(30 * 24 * 60 * 60);

/// Options for [`Database`], built with [`Database::options`].
pub struct OpenOptions<'a> {
    clock: Arc<dyn Clock>,
    retry: RetryPolicy,
    coalesce: bool,
    busy_timeout: Duration,
    entities: Vec<&'static EntityDescriptor>,
    progress: Option<&'a mut dyn FnMut(&Progress<'_>)>,
    readers: usize,
    jitter_seed: Option<u64>,
    read_only: bool,
}

impl<'a> OpenOptions<'a> {
    /// The clock for every timestamp (default: [`SystemClock`]).
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// Retry policy for failed pushes (default: [`RetryPolicy::default`]).
    pub fn retry_policy(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    /// Seed of the backoff jitter, for reproducible tests (default: random).
    pub fn jitter_seed(mut self, seed: u64) -> Self {
        self.jitter_seed = Some(seed);
        self
    }

    /// Whether updates are coalesced into the queue's last entry (default: `true`); see
    /// [`crate::queue`] for the rule.
    pub fn coalesce(mut self, coalesce: bool) -> Self {
        self.coalesce = coalesce;
        self
    }

    /// How long a connection waits for a lock held by another connection (default: 5 s).
    pub fn busy_timeout(mut self, timeout: Duration) -> Self {
        self.busy_timeout = timeout;
        self
    }

    /// Registers an entity: the drift check at open verifies its table, columns and indexes.
    /// Entities are also registered on first use, but only registered entities take part in
    /// [`Queue::complete`], [`Database::status`] conflict counts and [`Database::purge_tombstones`].
    pub fn entity(mut self, entity: &'static EntityDescriptor) -> Self {
        self.entities.push(entity);
        self
    }

    /// Registers several entities, see [`OpenOptions::entity`].
    pub fn entities(mut self, entities: &[&'static EntityDescriptor]) -> Self {
        self.entities.extend_from_slice(entities);
        self
    }

    /// A callback reporting migration progress after every statement.
    pub fn on_progress<'b>(self, progress: &'b mut dyn FnMut(&Progress<'_>)) -> OpenOptions<'b> {
        OpenOptions {
            clock: self.clock,
            retry: self.retry,
            coalesce: self.coalesce,
            busy_timeout: self.busy_timeout,
            entities: self.entities,
            progress: Some(progress),
            readers: self.readers,
            jitter_seed: self.jitter_seed,
            read_only: self.read_only,
        }
    }

    /// Opens the database for reading only (default: `false`). An up-to-date database then
    /// opens even on a read-only file or medium, and every write fails with
    /// [`Error::ReadOnly`]. A file the process cannot write is opened this way by itself.
    pub fn read_only(mut self, read_only: bool) -> Self {
        self.read_only = read_only;
        self
    }

    /// How many idle read connections to keep (default: 4).
    pub fn read_connections(mut self, n: usize) -> Self {
        self.readers = n;
        self
    }

    /// Opens (or creates) the database file at `path`, migrates it and recovers the queue.
    pub fn open(
        self,
        path: impl AsRef<Path>,
        migrations: &impl MigrationSource,
    ) -> Result<Database> {
        let path = path.as_ref().to_path_buf();
        let flags = if self.read_only {
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX
        } else {
            OpenFlags::default()
        };
        let conn = Connection::open_with_flags(&path, flags).map_err(|source| Error::Sqlite {
            sql: Some(format!("open {}", path.display())),
            source,
        })?;
        self.finish(conn, Some(path), migrations)
    }

    /// Opens a private in-memory database (for tests and previews).
    pub fn open_in_memory(self, migrations: &impl MigrationSource) -> Result<Database> {
        self.finish(Connection::open_in_memory()?, None, migrations)
    }

    fn finish(
        self,
        mut conn: Connection,
        path: Option<PathBuf>,
        migrations: &impl MigrationSource,
    ) -> Result<Database> {
        conn.busy_timeout(self.busy_timeout)?;
        let set = migrations.migration_set();
        set.check()?;
        // Refusals come before anything is written, including the journal mode.
        let from = migrate::verify(&conn, &set).map_err(|e| match &path {
            Some(path) => e.in_file(path),
            None => e,
        })?;
        // SQLite opens a file it cannot write read-only by itself; such a database opens only
        // when it needs no migration, and then for reading.
        let read_only = conn.is_readonly(MAIN_DB)?;
        if read_only && from < set.version {
            return Err(Error::ReadOnly {
                path,
                operation: format!("migrate it from version {from} to {}", set.version),
            });
        }
        let runtime_from = runtime_tables::current_version(&conn)?;
        if read_only && runtime_from < RUNTIME_TABLES_VERSION {
            return Err(Error::ReadOnly {
                path,
                operation: format!(
                    "upgrade the runtime's tables from version {runtime_from} to {RUNTIME_TABLES_VERSION}"
                ),
            });
        }
        if path.is_some() && !read_only {
            let sql = "PRAGMA journal_mode = WAL";
            conn.query_row(sql, [], |r| r.get::<_, String>(0))
                .map_err(Error::sql(sql))?;
        }
        let mut ignore = |_: &Progress<'_>| {};
        let progress = self.progress.unwrap_or(&mut ignore);
        let report = migrate::run(&mut conn, &set, self.clock.now(), progress)?;
        migrate::check_drift(&conn, &self.entities)?;
        let seed = self.jitter_seed.unwrap_or_else(|| {
            let bytes = Uuid::new_v4().into_bytes();
            u64::from_le_bytes(bytes[..8].try_into().unwrap_or_default())
        });
        let path_for_owner = path.clone();
        let db = Database {
            writer: Mutex::new(conn),
            readers: Mutex::new(Vec::new()),
            path,
            clock: self.clock,
            retry: self.retry,
            coalesce: self.coalesce,
            busy_timeout: self.busy_timeout,
            max_readers: self.readers,
            rng: Mutex::new(seed | 1),
            schema_version: set.version,
            report,
            entities: RwLock::new(self.entities.iter().map(|e| (e.name, *e)).collect()),
            read_only,
            owner: Owner::new(path_for_owner.as_deref()),
        };
        if !read_only {
            db.queue().recover_in_flight()?;
        }
        Ok(db)
    }
}

/// An open syncwright database: the app's tables, the mutation queue and the sync bookkeeping.
pub struct Database {
    writer: Mutex<Connection>,
    readers: Mutex<Vec<Connection>>,
    path: Option<PathBuf>,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) retry: RetryPolicy,
    coalesce: bool,
    busy_timeout: Duration,
    max_readers: usize,
    rng: Mutex<u64>,
    schema_version: u32,
    report: MigrationReport,
    entities: RwLock<BTreeMap<&'static str, &'static EntityDescriptor>>,
    read_only: bool,
    /// This instance, as the owner of the queue entries it hands out.
    pub(crate) owner: Owner,
}

impl std::fmt::Debug for Database {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Database")
            .field("path", &self.path)
            .field("schema_version", &self.schema_version)
            .finish_non_exhaustive()
    }
}

impl Database {
    /// Default options: system clock, default retry policy, coalescing on, 5 s busy timeout.
    pub fn options() -> OpenOptions<'static> {
        OpenOptions {
            clock: Arc::new(SystemClock),
            retry: RetryPolicy::default(),
            coalesce: true,
            busy_timeout: Duration::from_secs(5),
            entities: Vec::new(),
            progress: None,
            readers: 4,
            jitter_seed: None,
            read_only: false,
        }
    }

    /// Opens (or creates) the database at `path` with default options: WAL mode, busy
    /// timeout, migrations to the latest version, recovery of `in_flight` queue entries.
    pub fn open(path: impl AsRef<Path>, migrations: &impl MigrationSource) -> Result<Database> {
        Database::options().open(path, migrations)
    }

    /// [`Database::open`], drift-checking `entities` at open.
    pub fn open_with(
        path: impl AsRef<Path>,
        migrations: &impl MigrationSource,
        entities: &[&'static EntityDescriptor],
    ) -> Result<Database> {
        Database::options()
            .entities(entities)
            .open(path, migrations)
    }

    /// Opens a private in-memory database with default options.
    pub fn open_in_memory(migrations: &impl MigrationSource) -> Result<Database> {
        Database::options().open_in_memory(migrations)
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

    pub(crate) fn entity(&self, name: &str) -> Option<&'static EntityDescriptor> {
        self.entities
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(name)
            .copied()
    }

    pub(crate) fn registered(&self) -> Vec<&'static EntityDescriptor> {
        self.entities
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .values()
            .copied()
            .collect()
    }

    fn ensure_registered(&self, entity: &'static EntityDescriptor) -> Result<()> {
        if self.entity(entity.name).is_some() {
            return Ok(());
        }
        self.read(|conn| self.register_on(conn, entity))
    }

    /// Drift-checks `entity` on `conn` (already locked by the caller) and registers it.
    fn register_on(&self, conn: &Connection, entity: &'static EntityDescriptor) -> Result<()> {
        if self.entity(entity.name).is_some() {
            return Ok(());
        }
        migrate::check_drift(conn, &[entity])?;
        self.entities
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .insert(entity.name, entity);
        Ok(())
    }

    fn lock_writer(&self) -> MutexGuard<'_, Connection> {
        // A panic while holding the lock dropped (rolled back) its transaction; the
        // connection itself is still sound.
        self.writer.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Runs `f` with a read connection (WAL snapshot of the last commit).
    pub(crate) fn read<R>(&self, f: impl FnOnce(&Connection) -> Result<R>) -> Result<R> {
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

    /// Runs `f` in one write transaction (`BEGIN IMMEDIATE`): every write made through the
    /// [`WriteTx`] commits together with its queue entries when `f` returns `Ok`, and none does
    /// when it returns `Err`.
    pub fn transaction<R>(&self, f: impl FnOnce(&WriteTx<'_>) -> Result<R>) -> Result<R> {
        self.refuse_if_read_only()?;
        let mut conn = self.lock_writer();
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(Error::sql("BEGIN IMMEDIATE"))?;
        let result = f(&WriteTx { tx: &tx, db: self })?;
        tx.commit().map_err(Error::sql("COMMIT"))?;
        Ok(result)
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

    /// Soft-deletes record `id` (a tombstone that syncs) and enqueues a `delete`; see
    /// [`WriteTx::delete`].
    pub fn delete<T: Syncable>(&self, id: Uuid) -> Result<()> {
        self.transaction(|tx| tx.delete::<T>(id))
    }

    /// The live (not deleted) record `id`, if any.
    pub fn get<T: Syncable>(&self, id: Uuid) -> Result<Option<Record<T>>> {
        self.ensure_registered(T::ENTITY)?;
        self.read(|conn| fetch_one::<T>(conn, id, false))
    }

    /// Record `id` even if it is a tombstone.
    pub fn get_including_deleted<T: Syncable>(&self, id: Uuid) -> Result<Option<Record<T>>> {
        self.ensure_registered(T::ENTITY)?;
        self.read(|conn| fetch_one::<T>(conn, id, true))
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
        self.read(|conn| {
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
        self.read(|conn| {
            let n: i64 = conn
                .query_row(sql, params_from_iter(params), |r| r.get(0))
                .map_err(Error::sql(sql))?;
            Ok(n.unsigned_abs())
        })
    }

    /// The mutation queue, for the sync engine.
    pub fn queue(&self) -> Queue<'_> {
        Queue::new(self)
    }

    /// Runs `f` on the writer connection inside an immediate transaction (queue operations).
    pub(crate) fn write_raw<R>(
        &self,
        f: impl FnOnce(&rusqlite::Transaction<'_>) -> Result<R>,
    ) -> Result<R> {
        self.refuse_if_read_only()?;
        let mut conn = self.lock_writer();
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(Error::sql("BEGIN IMMEDIATE"))?;
        let result = f(&tx)?;
        tx.commit().map_err(Error::sql("COMMIT"))?;
        Ok(result)
    }

    /// Whether the database was opened read-only (see [`OpenOptions::read_only`]).
    pub fn is_read_only(&self) -> bool {
        self.read_only
    }

    fn refuse_if_read_only(&self) -> Result<()> {
        if self.read_only {
            return Err(Error::ReadOnly {
                path: self.path.clone(),
                operation: "write to it".to_owned(),
            });
        }
        Ok(())
    }

    pub(crate) fn read_raw<R>(&self, f: impl FnOnce(&Connection) -> Result<R>) -> Result<R> {
        self.read(f)
    }

    /// A uniform random number in `[0, 1)` for backoff jitter (xorshift64*).
    pub(crate) fn random_unit(&self) -> f64 {
        let mut state = self.rng.lock().unwrap_or_else(|e| e.into_inner());
        let mut x = *state;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        *state = x;
        let bits = x.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 11;
        #[allow(clippy::cast_precision_loss)]
        let unit = bits as f64 / (1u64 << 53) as f64;
        unit
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
        self.write_raw(|tx| {
            let mut report = PurgeReport::default();
            for entity in entities {
                let sql = format!(
                    "DELETE FROM {t} WHERE \"is_deleted\" = 1 AND \"sync_status\" = 'synced' \
                     AND \"synced_at\" IS NOT NULL AND \"synced_at\" <= ?1 AND NOT EXISTS \
                     (SELECT 1 FROM _sync_queue q WHERE q.entity_type = ?2 AND q.entity_id = {t}.\"id\" \
                     AND q.status <> 'completed')",
                    t = quote(entity.table)
                );
                report.tombstones += tx.execute(&sql, (cutoff, entity.name)).map_err(Error::sql(&sql))?;
            }
            let sql = "DELETE FROM _sync_queue WHERE status = 'completed' AND created_at <= ?1";
            report.queue_entries = tx.execute(sql, [cutoff]).map_err(Error::sql(sql))?;
            Ok(report)
        })
    }

    /// [`Database::purge_tombstones`] with [`DEFAULT_TOMBSTONE_AGE`].
    pub fn purge_old_tombstones(&self) -> Result<PurgeReport> {
        self.purge_tombstones(DEFAULT_TOMBSTONE_AGE)
    }
}

/// What [`Database::purge_tombstones`] removed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PurgeReport {
    /// Tombstone rows removed.
    pub tombstones: usize,
    /// Completed queue entries removed.
    pub queue_entries: usize,
}

fn fetch_one<T: Syncable>(
    conn: &Connection,
    id: Uuid,
    include_deleted: bool,
) -> Result<Option<Record<T>>> {
    let entity = T::ENTITY;
    let sql = format!(
        "SELECT {} FROM {} WHERE \"id\" = ?1{}",
        record::select_list(entity),
        quote(entity.table),
        if include_deleted {
            ""
        } else {
            " AND \"is_deleted\" = 0"
        }
    );
    let mut stmt = conn.prepare_cached(&sql).map_err(Error::sql(&sql))?;
    let mut rows = stmt
        .query([id.hyphenated().to_string()])
        .map_err(Error::sql(&sql))?;
    match rows.next().map_err(Error::sql(&sql))? {
        Some(row) => record::read::<T>(row).map(Some),
        None => Ok(None),
    }
}

/// A write transaction, see [`Database::transaction`].
pub struct WriteTx<'db> {
    tx: &'db rusqlite::Transaction<'db>,
    db: &'db Database,
}

impl WriteTx<'_> {
    fn values<T: Syncable>(value: &T) -> Result<Vec<Value>> {
        let values = value.to_values();
        let expected = T::ENTITY.columns.len();
        if values.len() != expected {
            return Err(Error::EntityMismatch {
                entity: T::ENTITY.name,
                expected,
                found: values.len(),
            });
        }
        Ok(values)
    }

    /// Inserts `value` under a fresh client UUID (v4) and enqueues its `create`.
    pub fn insert<T: Syncable>(&self, value: &T) -> Result<Record<T>> {
        self.insert_with_id(Uuid::new_v4(), value)
    }

    /// Inserts `value` under `id`: `version = 1`, `sync_status = 'pending'`, timestamps from
    /// the clock (all per-field timestamps for `field_merge` entities), and a `create` queue
    /// entry in the same transaction.
    pub fn insert_with_id<T: Syncable>(&self, id: Uuid, value: &T) -> Result<Record<T>> {
        let entity = T::ENTITY;
        self.db.register_on(self.tx, entity)?;
        let values = Self::values(value)?;
        let now = self.db.clock.now();
        let ms = to_millis(now);
        let mut columns: Vec<&str> = vec![
            "id",
            "created_at",
            "updated_at",
            "is_deleted",
            "version",
            "sync_status",
        ];
        let mut params: Vec<Value> = vec![
            Value::Text(id.hyphenated().to_string()),
            Value::Integer(ms),
            Value::Integer(ms),
            Value::Integer(0),
            Value::Integer(1),
            Value::Text(SyncStatus::Pending.as_str().to_owned()),
        ];
        if entity.is_field_merge() {
            // Per-field timestamps are sparse: a field absent from the map last changed at
            // `created_at` (see docs/contracts.md), which keeps every fresh row small.
            columns.push(FIELD_TIMESTAMPS);
            params.push(Value::Text("{}".to_owned()));
        }
        columns.extend(entity.columns.iter().map(|c| c.name));
        params.extend(values);
        let sql = format!(
            "INSERT INTO {} ({}) VALUES ({})",
            quote(entity.table),
            columns
                .iter()
                .map(|c| quote(c))
                .collect::<Vec<_>>()
                .join(", "),
            (1..=columns.len())
                .map(|i| format!("?{i}"))
                .collect::<Vec<_>>()
                .join(", ")
        );
        self.tx
            .prepare_cached(&sql)
            .and_then(|mut s| s.execute(params_from_iter(&params)))
            .map_err(Error::sql(&sql))?;
        let payload = value.to_payload();
        self.enqueue(entity, Action::Create, id, &payload, ms)?;
        fetch_one::<T>(self.tx, id, true)?.ok_or_else(|| Error::NotFound {
            entity: entity.name,
            id: id.to_string(),
        })
    }

    /// Replaces the domain fields of live record `id` with `value`: `updated_at = now`,
    /// `version + 1`, `sync_status = 'pending'`, per-field timestamps of the changed fields for
    /// `field_merge` entities, and an `update` queue entry (possibly coalesced). An update that
    /// changes no field writes nothing and returns the stored record. Updating a tombstone is
    /// [`Error::RecordDeleted`].
    pub fn update<T: Syncable>(&self, id: Uuid, value: &T) -> Result<Record<T>> {
        let entity = T::ENTITY;
        self.db.register_on(self.tx, entity)?;
        let values = Self::values(value)?;
        let current = self.current(entity, id)?;
        let changed: Vec<usize> = (0..values.len())
            .filter(|&i| values[i] != current.values[i])
            .collect();
        if changed.is_empty() {
            return fetch_one::<T>(self.tx, id, true)?.ok_or_else(|| Error::NotFound {
                entity: entity.name,
                id: id.to_string(),
            });
        }
        let now = self.db.clock.now();
        let ms = to_millis(now);
        let mut sets = vec![
            "\"updated_at\" = ?1".to_owned(),
            "\"version\" = \"version\" + 1".to_owned(),
            "\"sync_status\" = 'pending'".to_owned(),
        ];
        let mut params = vec![Value::Integer(ms)];
        if entity.is_field_merge() {
            let mut stamps = current.field_timestamps;
            for &i in &changed {
                stamps.insert(entity.columns[i].name.to_owned(), now);
            }
            params.push(Value::Text(encode_field_timestamps(&stamps)));
            sets.push(format!("{} = ?{}", quote(FIELD_TIMESTAMPS), params.len()));
        }
        for (column, value) in entity.columns.iter().zip(values) {
            params.push(value);
            sets.push(format!("{} = ?{}", quote(column.name), params.len()));
        }
        params.push(Value::Text(id.hyphenated().to_string()));
        let sql = format!(
            "UPDATE {} SET {} WHERE \"id\" = ?{}",
            quote(entity.table),
            sets.join(", "),
            params.len()
        );
        self.tx
            .prepare_cached(&sql)
            .and_then(|mut s| s.execute(params_from_iter(&params)))
            .map_err(Error::sql(&sql))?;
        self.enqueue(entity, Action::Update, id, &value.to_payload(), ms)?;
        fetch_one::<T>(self.tx, id, true)?.ok_or_else(|| Error::NotFound {
            entity: entity.name,
            id: id.to_string(),
        })
    }

    /// Soft-deletes record `id`: `is_deleted = 1`, `updated_at = now`, `version + 1`,
    /// `sync_status = 'pending'`, and a `delete` queue entry with payload `{}`. Deleting a
    /// tombstone again does nothing; a missing record is [`Error::NotFound`].
    pub fn delete<T: Syncable>(&self, id: Uuid) -> Result<()> {
        let entity = T::ENTITY;
        self.db.register_on(self.tx, entity)?;
        match self.current(entity, id) {
            Err(Error::RecordDeleted { .. }) => return Ok(()),
            Err(e) => return Err(e),
            Ok(_) => {}
        }
        let ms = to_millis(self.db.clock.now());
        let sql = format!(
            "UPDATE {} SET \"is_deleted\" = 1, \"updated_at\" = ?1, \"version\" = \"version\" + 1, \
             \"sync_status\" = 'pending' WHERE \"id\" = ?2",
            quote(entity.table)
        );
        self.tx
            .execute(&sql, (ms, id.hyphenated().to_string()))
            .map_err(Error::sql(&sql))?;
        self.enqueue(entity, Action::Delete, id, &serde_json::Map::new(), ms)
    }

    /// Reads record `id` (tombstones included) inside the transaction.
    pub fn get<T: Syncable>(&self, id: Uuid) -> Result<Option<Record<T>>> {
        self.db.register_on(self.tx, T::ENTITY)?;
        fetch_one::<T>(self.tx, id, true)
    }

    /// The stored domain values and field timestamps of live record `id`.
    fn current(&self, entity: &'static EntityDescriptor, id: Uuid) -> Result<Current> {
        let list = std::iter::once("is_deleted")
            .chain(entity.is_field_merge().then_some(FIELD_TIMESTAMPS))
            .chain(entity.columns.iter().map(|c| c.name))
            .map(quote)
            .collect::<Vec<_>>()
            .join(", ");
        let sql = format!(
            "SELECT {list} FROM {} WHERE \"id\" = ?1",
            quote(entity.table)
        );
        let id_text = id.hyphenated().to_string();
        let row = self
            .tx
            .query_row(&sql, [&id_text], |row| {
                let n = row.as_ref().column_count();
                let values = (0..n)
                    .map(|i| row.get::<_, Value>(i))
                    .collect::<rusqlite::Result<Vec<_>>>()?;
                Ok(values)
            })
            .optional()
            .map_err(Error::sql(&sql))?;
        let Some(mut values) = row else {
            return Err(Error::NotFound {
                entity: entity.name,
                id: id_text,
            });
        };
        let rest = values.split_off(if entity.is_field_merge() { 2 } else { 1 });
        if values[0] != Value::Integer(0) {
            return Err(Error::RecordDeleted {
                entity: entity.name,
                id: id_text,
            });
        }
        let field_timestamps = match values.get(1) {
            Some(Value::Text(text)) => {
                record::parse_field_timestamps(text).map_err(|reason| Error::CorruptRow {
                    table: entity.table.to_owned(),
                    row: id_text.clone(),
                    column: FIELD_TIMESTAMPS.to_owned(),
                    reason,
                })?
            }
            _ => BTreeMap::new(),
        };
        Ok(Current {
            values: rest,
            field_timestamps,
        })
    }

    fn enqueue(
        &self,
        entity: &EntityDescriptor,
        action: Action,
        id: Uuid,
        payload: &serde_json::Map<String, serde_json::Value>,
        now_ms: i64,
    ) -> Result<()> {
        let payload = serde_json::Value::Object(payload.clone()).to_string();
        let id = id.hyphenated().to_string();
        if self.db.coalesce && action == Action::Update {
            // The queue's tail, if it is an unsent create/update of the same record.
            let sql = "SELECT id FROM _sync_queue WHERE id = (SELECT max(id) FROM _sync_queue) \
                       AND entity_type = ?1 AND entity_id = ?2 AND status = 'pending' \
                       AND retry_count = 0 AND error IS NULL AND action IN ('create', 'update')";
            let tail: Option<i64> = self
                .tx
                .query_row(sql, (entity.name, &id), |r| r.get(0))
                .optional()
                .map_err(Error::sql(sql))?;
            if let Some(tail) = tail {
                let sql = "UPDATE _sync_queue SET payload = ?1, schema_version = ?2 WHERE id = ?3";
                self.tx
                    .execute(sql, (&payload, self.db.schema_version, tail))
                    .map_err(Error::sql(sql))?;
                return Ok(());
            }
        }
        let sql = "INSERT INTO _sync_queue (idempotency_key, entity_type, action, entity_id, payload, \
                   schema_version, retry_count, max_retries, next_attempt_at, created_at, status) \
                   VALUES (?1, ?2, ?3, ?4, ?5, ?6, 0, ?7, ?8, ?8, 'pending')";
        self.tx
            .prepare_cached(sql)
            .and_then(|mut s| {
                s.execute((
                    Uuid::new_v4().hyphenated().to_string(),
                    entity.name,
                    action.as_str(),
                    &id,
                    &payload,
                    self.db.schema_version,
                    self.db.retry.max_retries,
                    now_ms,
                ))
            })
            .map_err(Error::sql(sql))?;
        Ok(())
    }
}

struct Current {
    values: Vec<Value>,
    field_timestamps: BTreeMap<String, SystemTime>,
}

fn encode_field_timestamps(stamps: &BTreeMap<String, SystemTime>) -> String {
    let map: BTreeMap<&str, i64> = stamps
        .iter()
        .map(|(k, v)| (k.as_str(), to_millis(*v)))
        .collect();
    serde_json::to_string(&map).unwrap_or_else(|_| "{}".to_owned())
}
