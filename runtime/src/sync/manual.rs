//! `manual` conflicts: the record is `conflict`, the server's copy waits in `_sync_conflicts`,
//! and the app lists them ([`Database::conflicts`]) and resolves each
//! ([`Database::resolve_conflict`]) by choosing a side or a merged value, which then syncs on
//! top of the server version it was resolved against.

use std::time::SystemTime;

use rusqlite::{Connection, OptionalExtension, Transaction};
use uuid::Uuid;

use crate::clock::{from_millis, to_millis};
use crate::entity::{EntityDescriptor, Syncable, quote};
use crate::payload::values_from_payload;
use crate::queue::{self, Action, Resend};
use crate::store::Database;
use crate::sync::local;
use crate::sync::protocol::{FieldTimestamps, Fields, RemoteRecord};
use crate::sync_log::{self, Direction};
use crate::{Error, Result};

/// A record in `manual` conflict: both versions.
#[derive(Debug, Clone, PartialEq)]
pub struct Conflict {
    /// The entity name.
    pub entity: String,
    /// The record.
    pub id: Uuid,
    /// The local fields (as a payload).
    pub local: Fields,
    /// Whether the local record is deleted.
    pub local_deleted: bool,
    /// The server's record.
    pub server: RemoteRecord,
    /// When the conflict was found.
    pub detected_at: SystemTime,
}

/// How the app resolves a conflict.
#[derive(Debug, Clone, PartialEq)]
pub enum Choice {
    /// Keep the local version; it is sent on top of the server's.
    Local,
    /// Keep the server's version; the local changes are dropped.
    Server,
    /// Keep these fields (fields left out keep their local value); sent on top of the
    /// server's version.
    Merged(Fields),
}

/// Stores (or refreshes) the server's copy of a record in manual conflict.
pub(crate) fn keep_server_copy(
    tx: &Transaction<'_>,
    entity: &EntityDescriptor,
    remote: &RemoteRecord,
    now_ms: i64,
) -> Result<()> {
    let sql = "INSERT INTO _sync_conflicts (entity_id, entity_type, server_record, detected_at) \
               VALUES (?1, ?2, ?3, ?4) ON CONFLICT (entity_id) DO UPDATE SET \
               server_record = excluded.server_record";
    let json = serde_json::to_string(remote).unwrap_or_else(|_| "{}".to_owned());
    tx.prepare_cached(sql)
        .and_then(|mut s| {
            s.execute((
                remote.id.hyphenated().to_string(),
                entity.name,
                json,
                now_ms,
            ))
        })
        .map_err(Error::sql(sql))?;
    Ok(())
}

/// Forgets the server's copy of record `id` (the conflict is over).
pub(crate) fn forget(tx: &Transaction<'_>, id: Uuid) -> Result<()> {
    let sql = "DELETE FROM _sync_conflicts WHERE entity_id = ?1";
    tx.prepare_cached(sql)
        .and_then(|mut s| s.execute([id.hyphenated().to_string()]))
        .map_err(Error::sql(sql))?;
    Ok(())
}

fn server_copy(conn: &Connection, id: Uuid) -> Result<Option<(RemoteRecord, i64)>> {
    let sql = "SELECT server_record, detected_at FROM _sync_conflicts WHERE entity_id = ?1";
    let row: Option<(String, i64)> = conn
        .query_row(sql, [id.hyphenated().to_string()], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .optional()
        .map_err(Error::sql(sql))?;
    row.map(|(json, at)| {
        serde_json::from_str(&json)
            .map(|r| (r, at))
            .map_err(|e| Error::CorruptRow {
                table: "_sync_conflicts".to_owned(),
                row: id.to_string(),
                column: "server_record".to_owned(),
                reason: e.to_string(),
            })
    })
    .transpose()
}

impl Database {
    /// Every record waiting in `manual` conflict, of the registered entities.
    pub fn conflicts(&self) -> Result<Vec<Conflict>> {
        let entities = self.registered();
        self.with_reader(|conn| {
            let mut out = Vec::new();
            for entity in &entities {
                let sql = format!(
                    "SELECT {id} FROM {} WHERE {} = 'conflict' ORDER BY {id}",
                    quote(entity.table),
                    entity.quoted("sync_status"),
                    id = entity.quoted("id"),
                );
                let ids: Vec<String> = conn
                    .prepare(&sql)
                    .and_then(|mut s| s.query_map([], |r| r.get(0))?.collect())
                    .map_err(Error::sql(&sql))?;
                for id in ids {
                    let Ok(id) = Uuid::parse_str(&id) else {
                        continue;
                    };
                    let (Some(row), Some((server, at))) =
                        (local::read(conn, entity, id)?, server_copy(conn, id)?)
                    else {
                        continue;
                    };
                    out.push(Conflict {
                        entity: entity.name.to_owned(),
                        id,
                        local: row.fields(entity),
                        local_deleted: row.deleted,
                        server,
                        detected_at: from_millis(at),
                    });
                }
            }
            Ok(out)
        })
    }

    /// Resolves the `manual` conflict of `T` record `id` by `choice`. A local or merged
    /// resolution is queued on top of the server version it was resolved against and syncs
    /// with the next [`Database::sync`]; the resolution is written to `_sync_log`.
    pub fn resolve_conflict<T: Syncable>(&self, id: Uuid, choice: Choice) -> Result<()> {
        self.register::<T>()?;
        self.resolve_conflict_of(T::ENTITY, id, choice)
    }

    fn resolve_conflict_of(
        &self,
        entity: &'static EntityDescriptor,
        id: Uuid,
        choice: Choice,
    ) -> Result<()> {
        let now_ms = to_millis(self.clock.now());
        let not_in_conflict = || Error::NoConflict {
            entity: entity.name.to_owned(),
            id: id.to_string(),
        };
        self.with_writer(|tx| {
            let local = local::read(tx, entity, id)?.ok_or_else(not_in_conflict)?;
            let (server, _) = server_copy(tx, id)?.ok_or_else(not_in_conflict)?;
            if local.sync_status != "conflict" {
                return Err(not_in_conflict());
            }
            let id_text = id.hyphenated().to_string();
            queue::drop_open_entries_of(tx, entity.name, &id_text)?;
            forget(tx, id)?;
            let resend = |action: Action, payload: &Fields| {
                queue::enqueue_resend(
                    tx,
                    &Resend {
                        entity,
                        action,
                        entity_id: id,
                        payload,
                        changed_fields: (action == Action::Delete).then_some(&[][..]),
                        base_version: server.server_version,
                        schema_version: self.schema_version,
                        max_retries: self.retry.max_retries,
                        now_ms,
                    },
                )
            };
            // Stamped after the server's version, so `lww` elsewhere never prefers the older.
            let stamp = now_ms.max(server.updated_at.saturating_add(1));
            let resolution = match choice {
                Choice::Server => {
                    local::write_remote(tx, entity, &server, now_ms)?;
                    "manual: server chosen"
                }
                Choice::Local if local.deleted => {
                    resend(Action::Delete, &Fields::new())?;
                    local::set_status(tx, entity, id, "pending", now_ms)?;
                    "manual: local chosen"
                }
                Choice::Local => {
                    let payload = local.fields(entity);
                    local::write_local(
                        tx,
                        entity,
                        id,
                        local.values.clone(),
                        stamp,
                        &stamps(entity, stamp),
                    )?;
                    resend(Action::Update, &payload)?;
                    "manual: local chosen"
                }
                Choice::Merged(fields) => {
                    let mut payload = local.fields(entity);
                    payload.extend(fields);
                    let values =
                        values_from_payload(entity, &payload).map_err(|e| Error::RemoteRecord {
                            entity: entity.name.to_owned(),
                            id: id_text.clone(),
                            reason: format!("the merged value does not fit: {e}"),
                        })?;
                    local::write_local(tx, entity, id, values, stamp, &stamps(entity, stamp))?;
                    resend(Action::Update, &payload)?;
                    "manual: merged"
                }
            };
            sync_log::log_conflict(
                tx,
                Direction::Pull,
                entity.name,
                &id_text,
                resolution,
                now_ms,
            )
        })
    }
}

/// Every field stamped `at` (a resolution changes the whole record).
fn stamps(entity: &EntityDescriptor, at: i64) -> FieldTimestamps {
    entity
        .columns
        .iter()
        .map(|c| (c.name.to_owned(), at))
        .collect()
}
