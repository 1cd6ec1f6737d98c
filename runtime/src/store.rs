//! The local store: typed reads, and writes that enqueue their mutation atomically.
//!
//! # Threads
//!
//! [`Database`] is `Send + Sync`; share it with an `Arc`. Writes go through one connection,
//! each in a `BEGIN IMMEDIATE` transaction, so a write and its queue entry commit together;
//! reads use a small pool of read-only connections (see the `pool` module). Other processes
//! opening the same file are handled by the busy timeout.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use rusqlite::types::Value;
use rusqlite::{Connection, OptionalExtension, Transaction, params_from_iter};
use uuid::Uuid;

use crate::clock::{Clock, to_millis};
use crate::entity::{EntityDescriptor, FIELD_TIMESTAMPS, Syncable, quote};
use crate::jitter::Jitter;
use crate::migrate::MigrationReport;
use crate::migration::MigrationSource;
use crate::open::OpenOptions;
use crate::owner::Owner;
use crate::pool::Pool;
use crate::query::Query;
use crate::queue::{self, Action, NewEntry, PurgeReport, Queue};
use crate::record::{self, Record, SyncStatus};
use crate::registry::Registry;
use crate::retry::RetryPolicy;
use crate::row_writer::{RowWrite, Set};
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
    coalesce: bool,
    pub(crate) jitter: Jitter,
    schema_version: u32,
    report: MigrationReport,
    registry: Registry,
    /// This instance, as the owner of the queue entries it hands out.
    pub(crate) owner: Owner,
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
    pub(crate) fn new(conn: Connection, path: Option<PathBuf>, settings: Settings<'_>) -> Self {
        let owner = Owner::new(path.as_deref());
        Database {
            pool: Pool::new(
                conn,
                path,
                settings.busy_timeout,
                settings.max_readers,
                settings.read_only,
            ),
            clock: settings.clock,
            retry: settings.retry,
            coalesce: settings.coalesce,
            jitter: Jitter::new(settings.jitter_seed),
            schema_version: settings.schema_version,
            report: settings.report,
            registry: Registry::new(settings.entities),
            owner,
        }
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
        self.read_raw(|conn| self.registry.register(conn, entity))
    }

    /// Runs `f` with a read connection (WAL snapshot of the last commit).
    pub(crate) fn read_raw<R>(&self, f: impl FnOnce(&Connection) -> Result<R>) -> Result<R> {
        self.pool.read(f)
    }

    /// Runs `f` in one write transaction on the writer connection.
    pub(crate) fn write_raw<R>(&self, f: impl FnOnce(&Transaction<'_>) -> Result<R>) -> Result<R> {
        self.pool.write(f)
    }

    /// Runs `f` in one write transaction (`BEGIN IMMEDIATE`): every write made through the
    /// [`WriteTx`] commits together with its queue entries when `f` returns `Ok`, and none does
    /// when it returns `Err`.
    pub fn transaction<R>(&self, f: impl FnOnce(&WriteTx<'_>) -> Result<R>) -> Result<R> {
        self.write_raw(|tx| f(&WriteTx { tx, db: self }))
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
        self.read_raw(|conn| fetch_one::<T>(conn, id, false))
    }

    /// Record `id` even if it is a tombstone.
    pub fn get_including_deleted<T: Syncable>(&self, id: Uuid) -> Result<Option<Record<T>>> {
        self.ensure_registered(T::ENTITY)?;
        self.read_raw(|conn| fetch_one::<T>(conn, id, true))
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
        self.read_raw(|conn| {
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
        self.read_raw(|conn| {
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
        self.write_raw(|tx| queue::purge(tx, &entities, cutoff))
    }

    /// [`Database::purge_tombstones`] with [`DEFAULT_TOMBSTONE_AGE`].
    pub fn purge_old_tombstones(&self) -> Result<PurgeReport> {
        self.purge_tombstones(DEFAULT_TOMBSTONE_AGE)
    }
}

/// The server's version of a record, stored by [`Database::apply_remote`].
#[doc(hidden)]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemoteVersion {
    /// The server's id of the record.
    pub server_id: String,
    /// The server's version number of the record (stored as `version`).
    pub version: i64,
    /// When the record last changed on the server (stored as `updated_at`).
    pub updated_at: SystemTime,
    /// Whether the server has it deleted (a tombstone).
    pub is_deleted: bool,
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
    tx: &'db Transaction<'db>,
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

    fn register(&self, entity: &'static EntityDescriptor) -> Result<()> {
        self.db.registry.register(self.tx, entity)
    }

    fn stored<T: Syncable>(&self, id: Uuid) -> Result<Record<T>> {
        fetch_one::<T>(self.tx, id, true)?.ok_or_else(|| Error::NotFound {
            entity: T::ENTITY.name,
            id: id.to_string(),
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
        queue::enqueue(
            self.tx,
            &NewEntry {
                entity,
                action,
                entity_id: id,
                payload,
                schema_version: self.db.schema_version,
                max_retries: self.db.retry.max_retries,
                now_ms,
                coalesce: self.db.coalesce,
            },
        )
    }

    /// Inserts `value` under a fresh client UUID (v4) and enqueues its `create`.
    pub fn insert<T: Syncable>(&self, value: &T) -> Result<Record<T>> {
        self.insert_with_id(Uuid::new_v4(), value)
    }

    /// Inserts `value` under `id`: `version = 1`, `sync_status = 'pending'`, timestamps from
    /// the clock, and a `create` queue entry in the same transaction.
    pub fn insert_with_id<T: Syncable>(&self, id: Uuid, value: &T) -> Result<Record<T>> {
        let entity = T::ENTITY;
        self.register(entity)?;
        let values = Self::values(value)?;
        let ms = to_millis(self.db.clock.now());
        let mut sync = vec![
            ("created_at", Set::To(Value::Integer(ms))),
            ("updated_at", Set::To(Value::Integer(ms))),
            ("is_deleted", Set::To(Value::Integer(0))),
            ("version", Set::To(Value::Integer(1))),
            (
                "sync_status",
                Set::To(Value::Text(SyncStatus::Pending.as_str().to_owned())),
            ),
        ];
        if entity.is_field_merge() {
            // Per-field timestamps are sparse: a field absent from the map last changed at
            // `created_at` (see docs/contracts.md), which keeps every fresh row small.
            sync.push((FIELD_TIMESTAMPS, Set::To(Value::Text("{}".to_owned()))));
        }
        RowWrite {
            entity,
            id,
            sync,
            values: Some(values),
        }
        .insert(self.tx)?;
        self.enqueue(entity, Action::Create, id, &value.to_payload(), ms)?;
        self.stored(id)
    }

    /// Replaces the domain fields of live record `id` with `value`: `updated_at = now`,
    /// `version + 1`, `sync_status = 'pending'`, per-field timestamps of the changed fields for
    /// `field_merge` entities, and an `update` queue entry (possibly coalesced). An update that
    /// changes no field writes nothing and returns the stored record. Updating a tombstone is
    /// [`Error::RecordDeleted`].
    pub fn update<T: Syncable>(&self, id: Uuid, value: &T) -> Result<Record<T>> {
        let entity = T::ENTITY;
        self.register(entity)?;
        let values = Self::values(value)?;
        let current = self.current(entity, id)?;
        let changed: Vec<usize> = (0..values.len())
            .filter(|&i| values[i] != current.values[i])
            .collect();
        if changed.is_empty() {
            return self.stored(id);
        }
        let now = self.db.clock.now();
        let ms = to_millis(now);
        let mut sync = vec![
            ("updated_at", Set::To(Value::Integer(ms))),
            ("version", Set::Increment),
            (
                "sync_status",
                Set::To(Value::Text(SyncStatus::Pending.as_str().to_owned())),
            ),
        ];
        if entity.is_field_merge() {
            let mut stamps = current.field_timestamps;
            for &i in &changed {
                stamps.insert(entity.columns[i].name.to_owned(), now);
            }
            sync.push((
                FIELD_TIMESTAMPS,
                Set::To(Value::Text(encode_field_timestamps(&stamps))),
            ));
        }
        RowWrite {
            entity,
            id,
            sync,
            values: Some(values),
        }
        .update(self.tx)?;
        self.enqueue(entity, Action::Update, id, &value.to_payload(), ms)?;
        self.stored(id)
    }

    /// Soft-deletes record `id`: `is_deleted = 1`, `updated_at = now`, `version + 1`,
    /// `sync_status = 'pending'`, and a `delete` queue entry with payload `{}`. Deleting a
    /// tombstone again does nothing; a missing record is [`Error::NotFound`].
    pub fn delete<T: Syncable>(&self, id: Uuid) -> Result<()> {
        let entity = T::ENTITY;
        self.register(entity)?;
        match self.current(entity, id) {
            Err(Error::RecordDeleted { .. }) => return Ok(()),
            Err(e) => return Err(e),
            Ok(_) => {}
        }
        let ms = to_millis(self.db.clock.now());
        RowWrite {
            entity,
            id,
            sync: vec![
                ("is_deleted", Set::To(Value::Integer(1))),
                ("updated_at", Set::To(Value::Integer(ms))),
                ("version", Set::Increment),
                (
                    "sync_status",
                    Set::To(Value::Text(SyncStatus::Pending.as_str().to_owned())),
                ),
            ],
            values: None,
        }
        .update(self.tx)?;
        self.enqueue(entity, Action::Delete, id, &serde_json::Map::new(), ms)
    }

    /// Stores record `id` as the server sent it: the domain values of `value` and the server's
    /// metadata (`server_id`, `version`, `updated_at`, `is_deleted`), `sync_status = 'synced'`
    /// and `synced_at = now`; inserts the row when it is new. Nothing is queued: the server
    /// already has this state. Per-field timestamps stay as they are (a new row gets `{}`).
    /// Resolving a conflict with local changes is the caller's job, done before this call.
    #[doc(hidden)]
    pub fn apply_remote<T: Syncable>(
        &self,
        id: Uuid,
        value: &T,
        remote: &RemoteVersion,
    ) -> Result<Record<T>> {
        let entity = T::ENTITY;
        self.register(entity)?;
        let values = Self::values(value)?;
        let now = to_millis(self.db.clock.now());
        let updated_at = to_millis(remote.updated_at);
        let sync = vec![
            ("server_id", Set::To(Value::Text(remote.server_id.clone()))),
            ("updated_at", Set::To(Value::Integer(updated_at))),
            ("synced_at", Set::To(Value::Integer(now))),
            (
                "is_deleted",
                Set::To(Value::Integer(i64::from(remote.is_deleted))),
            ),
            ("version", Set::To(Value::Integer(remote.version))),
            (
                "sync_status",
                Set::To(Value::Text(SyncStatus::Synced.as_str().to_owned())),
            ),
        ];
        let mut write = RowWrite {
            entity,
            id,
            sync,
            values: Some(values),
        };
        if !write.update(self.tx)? {
            write
                .sync
                .push(("created_at", Set::To(Value::Integer(updated_at))));
            if entity.is_field_merge() {
                write
                    .sync
                    .push((FIELD_TIMESTAMPS, Set::To(Value::Text("{}".to_owned()))));
            }
            write.insert(self.tx)?;
        }
        self.stored(id)
    }

    /// Reads record `id` (tombstones included) inside the transaction.
    pub fn get<T: Syncable>(&self, id: Uuid) -> Result<Option<Record<T>>> {
        self.register(T::ENTITY)?;
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
