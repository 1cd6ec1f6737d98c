//! Queuing the rows of adopted tables that no store write queued: the rows the app had when
//! its database was adopted with `existing_rows = "pending"`, and the rows its own old code
//! inserts afterwards (the adoption's trigger marks them `pending`). Each gets one `create`,
//! so the server learns it before any later change of it is pushed.

use rusqlite::Transaction;
use rusqlite::types::Value;
use uuid::Uuid;

use crate::entity::{EntityDescriptor, quote};
use crate::queue::{Action, NewEntry, enqueue};
use crate::{Error, Result};

/// What a `create` for an unqueued row is stamped with.
pub(crate) struct Stamp {
    pub schema_version: u32,
    pub max_retries: u32,
    pub now_ms: i64,
}

/// Enqueues a `create` for every live `pending` row of the adopted `entity` that has no queue
/// entry; returns how many. Does nothing for an entity syncwright created (its rows are only
/// ever written through the store, which queues them).
pub(crate) fn enqueue_unqueued(
    tx: &Transaction<'_>,
    entity: &'static EntityDescriptor,
    stamp: &Stamp,
) -> Result<usize> {
    if !entity.sync.app_key {
        return Ok(0);
    }
    let t = quote(entity.table);
    let id = entity.quoted("id");
    let columns: Vec<String> = entity.columns.iter().map(|c| quote(c.name)).collect();
    let sql = format!(
        "SELECT {id}{}{} FROM {t} WHERE {} = 'pending' AND {} = 0 AND {id} IS NOT NULL \
         AND NOT EXISTS (SELECT 1 FROM _sync_queue q WHERE q.entity_type = ?1 \
         AND q.entity_id = {t}.{id}) ORDER BY {}, {id}",
        if columns.is_empty() { "" } else { ", " },
        columns.join(", "),
        entity.quoted("sync_status"),
        entity.quoted("is_deleted"),
        entity.quoted("created_at"),
    );
    let rows: Vec<(String, Vec<Value>)> = tx
        .prepare(&sql)
        .and_then(|mut stmt| {
            stmt.query_map([entity.name], |r| {
                let values = (1..=entity.columns.len())
                    .map(|i| r.get::<_, Value>(i))
                    .collect::<rusqlite::Result<Vec<_>>>()?;
                Ok((r.get(0)?, values))
            })?
            .collect()
        })
        .map_err(Error::sql(&sql))?;
    for (raw_id, values) in &rows {
        let entity_id = Uuid::parse_str(raw_id).map_err(|e| Error::InvalidAdoption {
            reason: format!(
                "`{}`.`{}` holds `{raw_id}`, which is not a UUID: {e}",
                entity.table, entity.sync.id
            ),
        })?;
        enqueue(
            tx,
            &NewEntry {
                entity,
                action: Action::Create,
                entity_id,
                values,
                schema_version: stamp.schema_version,
                max_retries: stamp.max_retries,
                now_ms: stamp.now_ms,
                coalesce: false,
                changed_fields: None,
            },
        )?;
    }
    Ok(rows.len())
}
