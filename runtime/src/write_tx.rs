//! Write transactions: the local writes of the store (row and queue entry together) and the
//! remote apply of a sync engine's pull (row only), both through the one row writer.

use std::collections::BTreeMap;
use std::time::SystemTime;

use rusqlite::types::Value;
use rusqlite::{OptionalExtension, Transaction};
use uuid::Uuid;

use crate::clock::to_millis;
use crate::entity::{EntityDescriptor, FIELD_TIMESTAMPS, Syncable, quote};
use crate::queue::{self, Action, NewEntry};
use crate::record::{self, Record, SyncStatus, fetch_one};
use crate::row_writer::{RowWrite, Set};
use crate::sql_cache::{self, Shape};
use crate::store::Database;
use crate::{Error, Result};

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

/// A write transaction, see [`Database::transaction`].
pub struct WriteTx<'db> {
    tx: &'db Transaction<'db>,
    db: &'db Database,
}

impl<'db> WriteTx<'db> {
    pub(crate) fn new(tx: &'db Transaction<'db>, db: &'db Database) -> Self {
        WriteTx { tx, db }
    }
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
        if self.db.registry.get(entity.name).is_some() {
            return Ok(());
        }
        self.db.registry.register(self.tx, entity)?;
        // An adopted table's unqueued rows are created on the server before this write.
        crate::adopted_rows::enqueue_unqueued(self.tx, entity, &self.db.adopted_stamp())?;
        Ok(())
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
        // The clock's now (the queue's own times), not the record's stamp.
        now_ms: i64,
        changed_fields: Option<Vec<&str>>,
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
                changed_fields,
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
        self.enqueue(entity, Action::Create, id, &value.to_payload(), ms, None)?;
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
        // Cause before effect: a change made on top of the stored version is stamped after it,
        // even when this device's clock runs behind the one that wrote it (docs/protocol.md).
        let ms = stamp_after(to_millis(self.db.clock.now()), current.updated_at);
        let now = crate::clock::from_millis(ms);
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
        let changed_names = changed.iter().map(|&i| entity.columns[i].name).collect();
        self.enqueue(
            entity,
            Action::Update,
            id,
            &value.to_payload(),
            to_millis(self.db.clock.now()),
            Some(changed_names),
        )?;
        self.stored(id)
    }

    /// Soft-deletes record `id`: `is_deleted = 1`, `updated_at = now`, `version + 1`,
    /// `sync_status = 'pending'`, and a `delete` queue entry with payload `{}`. Deleting a
    /// tombstone again does nothing; a missing record is [`Error::NotFound`].
    pub fn delete<T: Syncable>(&self, id: Uuid) -> Result<()> {
        let entity = T::ENTITY;
        self.register(entity)?;
        let current = match self.current(entity, id) {
            Err(Error::RecordDeleted { .. }) => return Ok(()),
            Err(e) => return Err(e),
            Ok(current) => current,
        };
        let ms = stamp_after(to_millis(self.db.clock.now()), current.updated_at);
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
        self.enqueue(
            entity,
            Action::Delete,
            id,
            &serde_json::Map::new(),
            to_millis(self.db.clock.now()),
            Some(Vec::new()),
        )
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

    /// The escape hatch for writes: the transaction's own connection, to run SQL that commits
    /// (or rolls back) together with the typed writes of this transaction, and notifies
    /// subscriptions like them.
    ///
    /// It **bypasses the queue and the sync metadata**: rows changed here are not stamped, get
    /// no queue entry and never reach the server, unless the same transaction also writes them
    /// through the typed API. Use it for app-local tables (caches, FTS indexes) and read-side
    /// SQL; change synced entities through [`WriteTx::insert`]/[`WriteTx::update`]/
    /// [`WriteTx::delete`]. Do not `COMMIT`, `ROLLBACK` or `BEGIN` through it.
    pub fn sql(&self) -> &rusqlite::Connection {
        self.tx
    }

    /// Reads record `id` (tombstones included) inside the transaction.
    pub fn get<T: Syncable>(&self, id: Uuid) -> Result<Option<Record<T>>> {
        self.register(T::ENTITY)?;
        fetch_one::<T>(self.tx, id, true)
    }

    /// The stored domain values and field timestamps of live record `id`.
    fn current(&self, entity: &'static EntityDescriptor, id: Uuid) -> Result<Current> {
        let sql = sql_cache::sql(entity, Shape::Current, || {
            let list = ["is_deleted", "updated_at"]
                .into_iter()
                .chain(entity.is_field_merge().then_some(FIELD_TIMESTAMPS))
                .map(|logical| entity.sync_column(logical))
                .chain(entity.columns.iter().map(|c| c.name))
                .map(quote)
                .collect::<Vec<_>>()
                .join(", ");
            format!(
                "SELECT {list} FROM {} WHERE {} = ?1",
                quote(entity.table),
                entity.quoted("id")
            )
        });
        let id_text = id.hyphenated().to_string();
        let row = self
            .tx
            .prepare_cached(&sql)
            .and_then(|mut stmt| {
                stmt.query_row([&id_text], |row| {
                    let n = row.as_ref().column_count();
                    (0..n)
                        .map(|i| row.get::<_, Value>(i))
                        .collect::<rusqlite::Result<Vec<_>>>()
                })
                .optional()
            })
            .map_err(Error::sql(&sql))?;
        let Some(mut values) = row else {
            return Err(Error::NotFound {
                entity: entity.name,
                id: id_text,
            });
        };
        let rest = values.split_off(if entity.is_field_merge() { 3 } else { 2 });
        if values[0] != Value::Integer(0) {
            return Err(Error::RecordDeleted {
                entity: entity.name,
                id: id_text,
            });
        }
        let updated_at = match values[1] {
            Value::Integer(ms) => ms,
            _ => i64::MIN,
        };
        let field_timestamps = match values.get(2) {
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
            updated_at,
            field_timestamps,
        })
    }
}

struct Current {
    values: Vec<Value>,
    /// The stored `updated_at`, epoch ms.
    updated_at: i64,
    field_timestamps: BTreeMap<String, SystemTime>,
}

/// The time to stamp a change made on top of a version written at `base_ms`:
/// `max(now, base + 1)`.
fn stamp_after(now_ms: i64, base_ms: i64) -> i64 {
    now_ms.max(base_ms.saturating_add(1))
}

pub(crate) fn encode_field_timestamps(stamps: &BTreeMap<String, SystemTime>) -> String {
    let map: BTreeMap<&str, i64> = stamps
        .iter()
        .map(|(k, v)| (k.as_str(), to_millis(*v)))
        .collect();
    serde_json::to_string(&map).unwrap_or_else(|_| "{}".to_owned())
}
