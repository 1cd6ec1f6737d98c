//! Per-entity pull cursors (`_sync_cursors`): where the next incremental pull starts.

use std::time::SystemTime;

use rusqlite::{Connection, OptionalExtension};

use crate::clock::{from_millis, to_millis};
use crate::store::Database;
use crate::{Error, Result};

/// A per-entity pull cursor (`_sync_cursors`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cursor {
    /// The entity name.
    pub entity_type: String,
    /// The opaque cursor the server gave.
    pub cursor: Option<String>,
    /// When it was stored.
    pub updated_at: SystemTime,
}

/// Every stored cursor, by entity type.
pub(crate) fn all(conn: &Connection) -> Result<Vec<Cursor>> {
    let sql = "SELECT entity_type, cursor, updated_at FROM _sync_cursors ORDER BY entity_type";
    let mut stmt = conn.prepare(sql).map_err(Error::sql(sql))?;
    stmt.query_map([], |r| {
        Ok(Cursor {
            entity_type: r.get(0)?,
            cursor: r.get(1)?,
            updated_at: from_millis(r.get(2)?),
        })
    })
    .and_then(Iterator::collect)
    .map_err(Error::sql(sql))
}

impl Database {
    /// Stores the pull cursor of `entity_type`.
    pub fn set_cursor(&self, entity_type: &str, cursor: Option<&str>) -> Result<()> {
        let now = to_millis(self.clock.now());
        self.with_writer(|tx| {
            let sql = "INSERT INTO _sync_cursors (entity_type, cursor, updated_at) VALUES (?1, ?2, ?3) \
                       ON CONFLICT (entity_type) DO UPDATE SET cursor = excluded.cursor, updated_at = excluded.updated_at";
            tx.execute(sql, (entity_type, cursor, now))
                .map_err(Error::sql(sql))?;
            Ok(())
        })
    }

    /// The pull cursor of `entity_type`, if one was stored.
    pub fn cursor(&self, entity_type: &str) -> Result<Option<String>> {
        self.with_reader(|conn| {
            let sql = "SELECT cursor FROM _sync_cursors WHERE entity_type = ?1";
            let cursor: Option<Option<String>> = conn
                .query_row(sql, [entity_type], |r| r.get(0))
                .optional()
                .map_err(Error::sql(sql))?;
            Ok(cursor.flatten())
        })
    }
}

/// A stored cursor with the entity's field list when it was stored.
pub(crate) struct StoredCursor {
    pub cursor: Option<String>,
    pub fields: Option<String>,
}

/// Every stored cursor with its field list, by entity type.
pub(crate) fn stored(
    conn: &Connection,
) -> Result<std::collections::BTreeMap<String, StoredCursor>> {
    let sql = "SELECT entity_type, cursor, fields FROM _sync_cursors";
    let mut stmt = conn.prepare_cached(sql).map_err(Error::sql(sql))?;
    stmt.query_map([], |r| {
        Ok((
            r.get::<_, String>(0)?,
            StoredCursor {
                cursor: r.get(1)?,
                fields: r.get(2)?,
            },
        ))
    })
    .and_then(Iterator::collect)
    .map_err(Error::sql(sql))
}

/// Stores `entity_type`'s cursor and field list inside the engine's transaction (the one
/// applying the page the cursor follows).
pub(crate) fn store_in(
    tx: &rusqlite::Transaction<'_>,
    entity_type: &str,
    cursor: &str,
    fields: &str,
    now_ms: i64,
) -> Result<()> {
    let sql = "INSERT INTO _sync_cursors (entity_type, cursor, updated_at, fields) VALUES (?1, ?2, ?3, ?4) \
               ON CONFLICT (entity_type) DO UPDATE SET cursor = excluded.cursor, \
               updated_at = excluded.updated_at, fields = excluded.fields";
    tx.prepare_cached(sql)
        .and_then(|mut s| s.execute((entity_type, cursor, now_ms, fields)))
        .map_err(Error::sql(sql))?;
    Ok(())
}
