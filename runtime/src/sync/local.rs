//! The engine's view of one local record: reading its row by descriptor (no Rust type needed),
//! writing the server's version of it without queuing, and the server version the engine knows
//! for it (`_sync_records`).

use std::collections::BTreeMap;

use rusqlite::types::Value;
use rusqlite::{Connection, OptionalExtension, Transaction};
use uuid::Uuid;

use crate::entity::{EntityDescriptor, FIELD_TIMESTAMPS, quote};
use crate::payload::{to_payload, values_from_payload};
use crate::row_writer::{RowWrite, Set};
use crate::sql_cache::{self, Shape};
use crate::sync::protocol::{FieldTimestamps, Fields, RemoteRecord};
use crate::{Error, Result};

/// A local row as the engine compares it with the server's.
#[derive(Debug, Clone)]
pub(crate) struct LocalRow {
    /// The domain values, in `entity.columns` order.
    pub values: Vec<Value>,
    pub created_at: i64,
    pub updated_at: i64,
    pub deleted: bool,
    pub sync_status: String,
    /// Sparse, as stored: a field missing last changed at `created_at`.
    pub field_timestamps: FieldTimestamps,
}

impl LocalRow {
    /// The domain fields as a payload.
    pub fn fields(&self, entity: &EntityDescriptor) -> Fields {
        to_payload(entity, &self.values)
    }

    /// When `field` last changed locally.
    pub fn stamp(&self, field: &str) -> i64 {
        self.field_timestamps
            .get(field)
            .copied()
            .unwrap_or(self.created_at)
    }
}

/// When `field` of the server's record last changed (a missing entry: at its creation).
pub(crate) fn remote_stamp(remote: &RemoteRecord, field: &str) -> i64 {
    remote
        .field_timestamps
        .get(field)
        .copied()
        .unwrap_or(remote.created_at)
}

/// Reads record `id` of `entity`, tombstones included.
pub(crate) fn read(
    conn: &Connection,
    entity: &'static EntityDescriptor,
    id: Uuid,
) -> Result<Option<LocalRow>> {
    let merge = entity.is_field_merge();
    let sql = sql_cache::sql(entity, Shape::LocalRow, || {
        let list = ["created_at", "updated_at", "is_deleted", "sync_status"]
            .into_iter()
            .chain(merge.then_some(FIELD_TIMESTAMPS))
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
    let row = conn
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
        return Ok(None);
    };
    let domain = values.split_off(if merge { 5 } else { 4 });
    let int = |v: &Value| match v {
        Value::Integer(i) => *i,
        _ => 0,
    };
    let field_timestamps = match values.get(4) {
        Some(Value::Text(text)) => serde_json::from_str(text).map_err(|e| Error::CorruptRow {
            table: entity.table.to_owned(),
            row: id_text.clone(),
            column: FIELD_TIMESTAMPS.to_owned(),
            reason: format!("not a JSON object of integers: {e}"),
        })?,
        _ => BTreeMap::new(),
    };
    Ok(Some(LocalRow {
        values: domain,
        created_at: int(&values[0]),
        updated_at: int(&values[1]),
        deleted: int(&values[2]) != 0,
        sync_status: match &values[3] {
            Value::Text(s) => s.clone(),
            _ => String::new(),
        },
        field_timestamps,
    }))
}

/// Whether record `id` waits in manual conflict (`sync_status = 'conflict'`): what a pull
/// checks for every record it applies, without reading the row's values.
pub(crate) fn in_conflict(
    conn: &Connection,
    entity: &'static EntityDescriptor,
    id: Uuid,
) -> Result<bool> {
    let sql = sql_cache::sql(entity, Shape::InConflict, || {
        format!(
            "SELECT EXISTS (SELECT 1 FROM {} WHERE {} = ?1 AND {} = 'conflict')",
            quote(entity.table),
            entity.quoted("id"),
            entity.quoted("sync_status")
        )
    });
    conn.prepare_cached(&sql)
        .and_then(|mut stmt| stmt.query_row([id.hyphenated().to_string()], |row| row.get(0)))
        .map_err(Error::sql(&sql))
}

/// The domain values of the server's record for this database's columns (fields it does not
/// know are skipped).
pub(crate) fn remote_values(
    entity: &EntityDescriptor,
    remote: &RemoteRecord,
) -> Result<Vec<Value>> {
    values_from_payload(entity, &remote.fields).map_err(|e| Error::RemoteRecord {
        entity: remote.entity.clone(),
        id: remote.id.to_string(),
        reason: e.to_string(),
    })
}

/// Stores the server's record as the local row (inserting it when new): its values and
/// metadata, `sync_status = 'synced'`, `synced_at = now`. Nothing is queued, and the server
/// version becomes the record's known version.
pub(crate) fn write_remote(
    tx: &Transaction<'_>,
    entity: &'static EntityDescriptor,
    remote: &RemoteRecord,
    now_ms: i64,
) -> Result<()> {
    let values = remote_values(entity, remote)?;
    write_row(
        tx,
        entity,
        remote,
        values,
        &remote.field_timestamps,
        "synced",
        now_ms,
    )?;
    set_known(tx, entity, remote.id, remote.server_version)
}

/// Writes `values` and the server's metadata of `remote` into the row, with `sync_status`.
pub(crate) fn write_row(
    tx: &Transaction<'_>,
    entity: &'static EntityDescriptor,
    remote: &RemoteRecord,
    values: Vec<Value>,
    field_timestamps: &FieldTimestamps,
    sync_status: &str,
    now_ms: i64,
) -> Result<()> {
    let version = i64::try_from(remote.server_version).unwrap_or(i64::MAX);
    let mut sync = vec![
        ("server_id", Set::To(Value::Text(remote.server_id.clone()))),
        ("created_at", Set::To(Value::Integer(remote.created_at))),
        ("updated_at", Set::To(Value::Integer(remote.updated_at))),
        ("synced_at", Set::To(Value::Integer(now_ms))),
        (
            "is_deleted",
            Set::To(Value::Integer(i64::from(remote.deleted))),
        ),
        ("version", Set::To(Value::Integer(version))),
        ("sync_status", Set::To(Value::Text(sync_status.to_owned()))),
    ];
    if entity.is_field_merge() {
        let stamps = serde_json::to_string(field_timestamps).unwrap_or_else(|_| "{}".to_owned());
        sync.push((FIELD_TIMESTAMPS, Set::To(Value::Text(stamps))));
    }
    let write = RowWrite {
        entity,
        id: remote.id,
        sync,
        values: Some(&values),
        only: None,
    };
    if !write.update(tx)? {
        write.insert(tx)?;
    }
    Ok(())
}

/// The server accepted the record's last open change: its id, `sync_status = 'synced'`,
/// `synced_at = now`, in one statement.
pub(crate) fn set_synced(
    tx: &Transaction<'_>,
    entity: &'static EntityDescriptor,
    id: Uuid,
    server_id: &str,
    now_ms: i64,
) -> Result<()> {
    let sql = sql_cache::sql(entity, Shape::SetSynced, || {
        format!(
            "UPDATE {} SET {} = ?1, {} = 'synced', {} = ?2 WHERE {} = ?3",
            quote(entity.table),
            entity.quoted("server_id"),
            entity.quoted("sync_status"),
            entity.quoted("synced_at"),
            entity.quoted("id")
        )
    });
    tx.prepare_cached(&sql)
        .and_then(|mut s| s.execute((server_id, now_ms, id.hyphenated().to_string())))
        .map_err(Error::sql(&sql))?;
    Ok(())
}

/// Sets the row's `sync_status` (and `synced_at = now` when it becomes `synced`).
pub(crate) fn set_status(
    tx: &Transaction<'_>,
    entity: &'static EntityDescriptor,
    id: Uuid,
    status: &str,
    now_ms: i64,
) -> Result<()> {
    let sql = sql_cache::sql(entity, Shape::SetStatus, || {
        format!(
            "UPDATE {} SET {} = ?1, {synced} = CASE WHEN ?1 = 'synced' THEN ?2 \
             ELSE {synced} END WHERE {} = ?3",
            quote(entity.table),
            entity.quoted("sync_status"),
            entity.quoted("id"),
            synced = entity.quoted("synced_at"),
        )
    });
    tx.prepare_cached(&sql)
        .and_then(|mut s| s.execute((status, now_ms, id.hyphenated().to_string())))
        .map_err(Error::sql(&sql))?;
    Ok(())
}

/// Writes local `values` (a merge or the app's resolution) with `updated_at`, per-field
/// timestamps and `sync_status = 'pending'`, without queuing (the caller queues the change).
pub(crate) fn write_local(
    tx: &Transaction<'_>,
    entity: &'static EntityDescriptor,
    id: Uuid,
    values: Vec<Value>,
    updated_at: i64,
    field_timestamps: &FieldTimestamps,
) -> Result<()> {
    let mut sync = vec![
        ("updated_at", Set::To(Value::Integer(updated_at))),
        ("is_deleted", Set::To(Value::Integer(0))),
        ("version", Set::Increment),
        ("sync_status", Set::To(Value::Text("pending".to_owned()))),
    ];
    if entity.is_field_merge() {
        let stamps = serde_json::to_string(field_timestamps).unwrap_or_else(|_| "{}".to_owned());
        sync.push((FIELD_TIMESTAMPS, Set::To(Value::Text(stamps))));
    }
    RowWrite {
        entity,
        id,
        sync,
        values: Some(&values),
        only: None,
    }
    .update(tx)?;
    Ok(())
}

/// The server version the engine last learned for record `id`.
pub(crate) fn known(conn: &Connection, id: Uuid) -> Result<Option<u64>> {
    Ok(
        crate::queue::known_server_version(conn, &id.hyphenated().to_string())?
            .map(i64::unsigned_abs),
    )
}

/// Records `server_version` as the server's version of record `id`.
pub(crate) fn set_known(
    tx: &Transaction<'_>,
    entity: &EntityDescriptor,
    id: Uuid,
    server_version: u64,
) -> Result<()> {
    let sql = "INSERT INTO _sync_records (entity_id, entity_type, server_version) VALUES (?1, ?2, ?3) \
               ON CONFLICT (entity_id) DO UPDATE SET server_version = excluded.server_version";
    tx.prepare_cached(sql)
        .and_then(|mut s| {
            s.execute((
                id.hyphenated().to_string(),
                entity.name,
                i64::try_from(server_version).unwrap_or(i64::MAX),
            ))
        })
        .map_err(Error::sql(sql))?;
    Ok(())
}
