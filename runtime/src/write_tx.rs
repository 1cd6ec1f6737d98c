//! Write transactions: the local writes of the store (row and queue entry together) and the
//! remote apply of a sync engine's pull (row only), both through the one row writer.

use std::collections::BTreeMap;
use std::time::SystemTime;

use rusqlite::Transaction;
use rusqlite::types::{Value, ValueRef};
use uuid::Uuid;

use crate::clock::from_millis;
use crate::clock::to_millis;
use crate::entity::{EntityDescriptor, FIELD_TIMESTAMPS, Syncable};
use crate::queue::{self, Action, NewEntry};
use crate::record::{self, FieldChangeTimes, Meta, Record, SyncStatus, fetch_one};
use crate::row_writer::{RowWrite, Set};
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
        values: &[Value],
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
                values,
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
        let field_timestamps = match &sync.last() {
            Some((FIELD_TIMESTAMPS, Set::To(Value::Text(stamps)))) => {
                FieldChangeTimes::stored(entity, stamps.clone(), from_millis(ms))
            }
            _ => FieldChangeTimes::none(),
        };
        RowWrite {
            entity,
            id,
            sync,
            values: Some(&values),
            only: None,
        }
        .insert(self.tx)?;
        self.enqueue(entity, Action::Create, id, &values, ms, None)?;
        let written = Meta {
            id,
            server_id: None,
            created_at: from_millis(ms),
            updated_at: from_millis(ms),
            synced_at: None,
            is_deleted: false,
            version: 1,
            sync_status: SyncStatus::Pending,
            field_timestamps,
        };
        self.written(written, &values)
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
        let (mut meta, changed) = self.current(entity, id, &values)?;
        if changed.is_empty() {
            return self.written(meta, &values);
        }
        // Cause before effect: a change made on top of the stored version is stamped after it,
        // even when this device's clock runs behind the one that wrote it (docs/protocol.md).
        let ms = stamp_after(to_millis(self.db.clock.now()), to_millis(meta.updated_at));
        let mut sync = vec![
            ("updated_at", Set::To(Value::Integer(ms))),
            ("version", Set::Increment),
            (
                "sync_status",
                Set::To(Value::Text(SyncStatus::Pending.as_str().to_owned())),
            ),
        ];
        if let Some(stored) = meta.field_timestamps.stored_text() {
            let stamps = stamp_fields(stored, changed.iter().map(|&i| entity.columns[i].name), ms);
            meta.field_timestamps =
                FieldChangeTimes::stored(entity, stamps.clone(), meta.created_at);
            sync.push((FIELD_TIMESTAMPS, Set::To(Value::Text(stamps))));
        }
        RowWrite {
            entity,
            id,
            sync,
            values: Some(&values),
            only: Some(&changed),
        }
        .update(self.tx)?;
        let changed_names = changed.iter().map(|&i| entity.columns[i].name).collect();
        self.enqueue(
            entity,
            Action::Update,
            id,
            &values,
            to_millis(self.db.clock.now()),
            Some(changed_names),
        )?;
        meta.updated_at = from_millis(ms);
        meta.version += 1;
        meta.sync_status = SyncStatus::Pending;
        self.written(meta, &values)
    }

    /// Soft-deletes record `id`: `is_deleted = 1`, `updated_at = now`, `version + 1`,
    /// `sync_status = 'pending'`, and a `delete` queue entry with payload `{}`. Deleting a
    /// tombstone again does nothing; a missing record is [`Error::NotFound`].
    pub fn delete<T: Syncable>(&self, id: Uuid) -> Result<()> {
        let entity = T::ENTITY;
        self.register(entity)?;
        let current = match self.current(entity, id, &[]) {
            Err(Error::RecordDeleted { .. }) => return Ok(()),
            Err(e) => return Err(e),
            Ok((current, _)) => current,
        };
        let ms = stamp_after(
            to_millis(self.db.clock.now()),
            to_millis(current.updated_at),
        );
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
            only: None,
        }
        .update(self.tx)?;
        self.enqueue(
            entity,
            Action::Delete,
            id,
            &[],
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
            values: Some(&values),
            only: None,
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

    /// The stored sync metadata of live record `id`, and which of `values` (domain values in
    /// `entity.columns` order, possibly none) differ from the stored ones. Compared in place:
    /// no stored value is copied out.
    fn current(
        &self,
        entity: &'static EntityDescriptor,
        id: Uuid,
        values: &[Value],
    ) -> Result<(Meta, Vec<usize>)> {
        let sql = record::fetch_one_sql(entity, true);
        let id_text = id.hyphenated().to_string();
        let mut stmt = self.tx.prepare_cached(&sql).map_err(Error::sql(&sql))?;
        let mut rows = stmt.query([&id_text]).map_err(Error::sql(&sql))?;
        let Some(row) = rows.next().map_err(Error::sql(&sql))? else {
            return Err(Error::NotFound {
                entity: entity.name,
                id: id_text,
            });
        };
        let meta = record::read_meta(entity, row)?;
        if meta.is_deleted {
            return Err(Error::RecordDeleted {
                entity: entity.name,
                id: id_text,
            });
        }
        let first = entity.first_domain_column();
        let mut changed = Vec::new();
        for (i, value) in values.iter().enumerate() {
            if row.get_ref(first + i).map_err(Error::sql(&sql))? != ValueRef::from(value) {
                changed.push(i);
            }
        }
        Ok((meta, changed))
    }

    /// The record a write just stored: `meta` and the data of `values`, built without reading
    /// the row back (unless `T` cannot be built from values, see [`Syncable::from_values`]).
    fn written<T: Syncable>(&self, meta: Meta, values: &[Value]) -> Result<Record<T>> {
        match T::from_values(values) {
            Some(data) => {
                let data = data.map_err(|e| e.with_row(&meta.id.hyphenated().to_string()))?;
                Ok(meta.with_data(data))
            }
            None => self.stored(meta.id),
        }
    }
}

/// The time to stamp a change made on top of a version written at `base_ms`:
/// `max(now, base + 1)`.
fn stamp_after(now_ms: i64, base_ms: i64) -> i64 {
    now_ms.max(base_ms.saturating_add(1))
}

/// The stored (sparse) per-field timestamps `stored` with `fields` stamped at `ms`.
fn stamp_fields<'a>(stored: &str, fields: impl Iterator<Item = &'a str>, ms: i64) -> String {
    // `stored` was checked when the row was read (see `record::check_field_timestamps`).
    let mut stamps: BTreeMap<&str, i64> = serde_json::from_str(stored).unwrap_or_default();
    for field in fields {
        stamps.insert(field, ms);
    }
    serde_json::to_string(&stamps).unwrap_or_else(|_| "{}".to_owned())
}

#[cfg(test)]
mod tests {
    use rusqlite::{Row, StatementStatus};

    use super::*;
    use crate::entity::{ColumnDescriptor, ColumnType, ConflictStrategy};
    use crate::value::{ColumnValue, DomainValues, RowColumns};
    use crate::{Migrations, OwnedMigrations};

    /// The runtime tests' `field_merge` entity, implemented by hand as the derive would.
    #[derive(Debug, Clone, PartialEq)]
    struct Note {
        task_id: Option<Uuid>,
        body: String,
        pinned: bool,
    }

    impl Note {
        fn read(src: &(impl DomainValues + ?Sized)) -> Result<Self> {
            Ok(Note {
                task_id: ColumnValue::from_value(src.value(0, "task_id")?, "task_id")?,
                body: ColumnValue::from_value(src.value(1, "body")?, "body")?,
                pinned: ColumnValue::from_value(src.value(2, "pinned")?, "pinned")?,
            })
        }
    }

    impl Syncable for Note {
        const ENTITY: &'static EntityDescriptor = &EntityDescriptor {
            name: "note",
            table: "notes",
            conflict: ConflictStrategy::FieldMerge,
            columns: &[
                ColumnDescriptor {
                    name: "task_id",
                    ty: ColumnType::Uuid,
                    nullable: true,
                    references: Some("tasks"),
                },
                ColumnDescriptor {
                    name: "body",
                    ty: ColumnType::Text,
                    nullable: false,
                    references: None,
                },
                ColumnDescriptor {
                    name: "pinned",
                    ty: ColumnType::Bool,
                    nullable: false,
                    references: None,
                },
            ],
            indexes: &[],
            sync: &crate::SyncColumns::STANDARD,
        };

        fn to_values(&self) -> Vec<Value> {
            vec![
                self.task_id.to_value(),
                self.body.to_value(),
                self.pinned.to_value(),
            ]
        }

        fn from_row(row: &Row<'_>) -> Result<Self> {
            Note::read(&RowColumns::new(row, Self::ENTITY.first_domain_column()))
        }

        fn from_values(values: &[Value]) -> Option<Result<Self>> {
            Some(Note::read(values))
        }
    }

    fn migrations() -> OwnedMigrations {
        Migrations::from_dir(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/tasks-notes/migrations"
        ))
        .expect("fixture migrations load")
    }

    /// How many times the store's statement reading one record (tombstones included) has run
    /// on `tx`'s connection.
    fn record_reads(tx: &WriteTx<'_>) -> i32 {
        let sql = record::fetch_one_sql(Note::ENTITY, true);
        tx.sql()
            .prepare_cached(&sql)
            .expect("the record read prepares")
            .get_status(StatementStatus::Run)
    }

    #[test]
    fn writes_return_the_record_without_reading_it_back() {
        let db = Database::open_in_memory(&migrations()).unwrap();
        db.transaction(|tx| {
            let before = record_reads(tx);
            let note = Note {
                task_id: None,
                body: "hello".into(),
                pinned: false,
            };
            let inserted = tx.insert(&note)?;
            assert_eq!(record_reads(tx), before, "insert read its row back");
            let pinned = Note {
                pinned: true,
                ..note
            };
            let updated = tx.update(inserted.id, &pinned)?;
            assert_eq!(
                record_reads(tx),
                before + 1,
                "update read its row more than once (the read before the write)"
            );
            let unchanged = tx.update(inserted.id, &pinned)?;
            assert_eq!(record_reads(tx), before + 2, "a no-op update read twice");

            // What the writes returned is what a read gives.
            let stored = tx.get::<Note>(inserted.id)?.expect("the note is stored");
            assert_eq!(updated, stored);
            assert_eq!(unchanged, stored);
            assert_eq!(stored.version, 2);
            assert_eq!(stored.field_timestamps.len(), 3);
            Ok(())
        })
        .unwrap();
    }

    #[test]
    fn an_update_sets_only_the_columns_that_changed() {
        let db = Database::open_in_memory(&migrations()).unwrap();
        db.transaction(|tx| {
            // `UPDATE OF body` fires only for UPDATEs whose SET list names `body`.
            tx.sql()
                .execute_batch(
                    "CREATE TEMP TABLE body_sets (n INTEGER); \
                     CREATE TEMP TRIGGER body_set AFTER UPDATE OF body ON notes \
                     BEGIN INSERT INTO body_sets VALUES (1); END;",
                )
                .unwrap();
            let body_sets = || -> i64 {
                tx.sql()
                    .query_row("SELECT count(*) FROM body_sets", [], |r| r.get(0))
                    .unwrap()
            };
            let note = Note {
                task_id: None,
                body: "hello".into(),
                pinned: false,
            };
            let id = tx.insert(&note)?.id;
            let pinned = Note {
                pinned: true,
                ..note.clone()
            };
            tx.update(id, &pinned)?;
            assert_eq!(body_sets(), 0, "an update of `pinned` set `body` too");
            let edited = Note {
                body: "hello again".into(),
                ..pinned
            };
            tx.update(id, &edited)?;
            assert_eq!(body_sets(), 1);
            assert_eq!(tx.get::<Note>(id)?.unwrap().data, edited);
            Ok(())
        })
        .unwrap();
    }
}
