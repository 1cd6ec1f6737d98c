//! The numbers behind a sync indicator: queue counts, conflicts, last sync, cursors.

use std::time::SystemTime;

use crate::cursor::{self, Cursor};
use crate::entity::quote;
use crate::queue;
use crate::store::Database;
use crate::sync_log;
use crate::{Error, Result};

/// The numbers behind a sync indicator, from [`Database::status`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyncSummary {
    /// Queue entries waiting (including backing off).
    pub pending: u64,
    /// Queue entries being pushed.
    pub in_flight: u64,
    /// Queue entries that gave up.
    pub failed: u64,
    /// Records of registered entities in `conflict`.
    pub conflicts: u64,
    /// The last `_sync_log` entry without an error.
    pub last_sync: Option<SystemTime>,
    /// The pull cursor of each entity type.
    pub cursors: Vec<Cursor>,
}

impl Database {
    /// Counts for a sync indicator.
    pub fn status(&self) -> Result<SyncSummary> {
        let entities = self.registered();
        self.with_reader(|conn| {
            let mut conflicts = 0;
            for entity in &entities {
                let sql = format!(
                    "SELECT count(*) FROM {} WHERE {} = 'conflict'",
                    quote(entity.table),
                    entity.quoted("sync_status")
                );
                let n: i64 = conn
                    .query_row(&sql, [], |r| r.get(0))
                    .map_err(Error::sql(&sql))?;
                conflicts += n.unsigned_abs();
            }
            let counts = queue::counts(conn)?;
            Ok(SyncSummary {
                pending: counts.pending,
                in_flight: counts.in_flight,
                failed: counts.failed,
                conflicts,
                last_sync: sync_log::last_success(conn)?,
                cursors: cursor::all(conn)?,
            })
        })
    }
}
