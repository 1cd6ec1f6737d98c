//! The mutation queue (`_sync_queue`) and the sync bookkeeping the UI shows.
//!
//! # Semantics
//! - **Order.** [`Queue::next_batch`] hands out entries in queue order (`id`), and never an
//!   entry while an earlier entry of the same record is not `completed` (still pending, backing
//!   off, in flight or failed): mutations of one record reach the server in the order they were
//!   made.
//! - **Coalescing.** An update is merged into the queue's *last* entry when that entry is a
//!   `create` or `update` of the same record that was never handed out (`pending`,
//!   `retry_count = 0`, no `error`): its changed fields become the union of both, its payload
//!   the new values of those fields (a create's stays the record's, below), and no entry is
//!   added. So "create, then edit while typing" syncs as one create. Only the tail is ever
//!   merged, so no mutation moves ahead of another (a child created in between keeps its place
//!   after its parent). Deletes are never coalesced. Turn it off with
//!   [`crate::OpenOptions::coalesce`].
//! - **In flight.** `next_batch` marks entries `in_flight`; [`Queue::complete`] marks them
//!   `completed` (and the record `synced` once it has no open entry), [`Queue::fail`] schedules a
//!   retry. Entries still `in_flight` when the process died go back to `pending` at open
//!   ([`Queue::recover_in_flight`]), keeping their idempotency key so the server deduplicates.
//! - **Retries.** Failure `n` (1-based) waits `min(base * 2^(n-1), max_delay)` — 1 s, 2 s, 4 s, …
//!   60 s by default — shortened by a random jitter of up to `jitter` (20 %) of the delay, stored
//!   as `next_attempt_at`. After `max_retries` failures the entry is `failed` and its record's
//!   `sync_status` is `error`; the app lists them ([`Queue::failed`]), and retries
//!   ([`Queue::retry`], [`Queue::retry_failed`]) or drops them ([`Queue::discard`]).
//! - **A create's fields.** A create stores no payload: reading the entry reads its record's
//!   fields as they are then, which is what the create must push (see [`QueueEntry::payload`]).
//!   A create whose row is gone is failed by `next_batch` with
//!   [`Error::QueueRecordMissing`], and the others go out.
//! - **Durability.** The queue is a table: it survives restarts. Completed entries stay until
//!   [`crate::Database::purge_tombstones`] removes old ones. Idempotency keys are stored as
//!   their 16 bytes.

use std::time::SystemTime;

use rusqlite::types::{Value, ValueRef};
use rusqlite::{Connection, OptionalExtension, Row, Transaction};
use uuid::Uuid;

use crate::clock::{from_millis, to_millis};
use crate::entity::{EntityDescriptor, quote};
use crate::payload::to_payload_of;
use crate::retry::FailOutcome;
use crate::row_writer;
use crate::runtime_tables::QUEUE;
use crate::sql_cache::{self, Shape};
use crate::store::Database;
use crate::sync::local;
use crate::{Error, Result};

/// What a queue entry does to its record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    /// The record was created locally.
    Create,
    /// The record's fields changed.
    Update,
    /// The record was soft-deleted.
    Delete,
}

impl Action {
    /// The stored text.
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Create => "create",
            Action::Update => "update",
            Action::Delete => "delete",
        }
    }

    fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "create" => Action::Create,
            "update" => Action::Update,
            "delete" => Action::Delete,
            _ => return None,
        })
    }
}

/// The state of a queue entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum QueueStatus {
    /// Waiting to be pushed (possibly backing off until `next_attempt_at`).
    Pending,
    /// Handed out by [`Queue::next_batch`] and not yet completed or failed.
    InFlight,
    /// Gave up after `max_retries` failures.
    Failed,
    /// Accepted by the server.
    Completed,
}

impl QueueStatus {
    /// The stored text.
    pub fn as_str(self) -> &'static str {
        match self {
            QueueStatus::Pending => "pending",
            QueueStatus::InFlight => "in_flight",
            QueueStatus::Failed => "failed",
            QueueStatus::Completed => "completed",
        }
    }

    fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "pending" => QueueStatus::Pending,
            "in_flight" => QueueStatus::InFlight,
            "failed" => QueueStatus::Failed,
            "completed" => QueueStatus::Completed,
            _ => return None,
        })
    }
}

/// One mutation waiting for (or done with) the server.
#[derive(Debug, Clone, PartialEq)]
pub struct QueueEntry {
    /// The queue position.
    pub id: i64,
    /// Sent to the server so it can deduplicate retries.
    pub idempotency_key: Uuid,
    /// The entity name (`task`).
    pub entity_type: String,
    /// The mutation.
    pub action: Action,
    /// The record's client id.
    pub entity_id: Uuid,
    /// The mutation's domain fields (see [`crate::payload`]): every field for a create, the
    /// fields it changed (`changed_fields`) with their new values for an update, `{}` for a
    /// delete. A create's fields are read from its record when the entry is read (the queue
    /// stores none for it): the record as it is then, which is what the create must push. A
    /// create whose record's row is gone (deleted outside the store, or a purged tombstone)
    /// lists with `{}`; [`Queue::next_batch`] fails it instead of sending it. Reading a
    /// create's fields needs its entity registered (as pushing it does): a listing shows `{}`
    /// without it, `next_batch` returns [`Error::UnknownEntity`].
    pub payload: serde_json::Map<String, serde_json::Value>,
    /// The schema version of the payload: the one the write was made under, or for a create
    /// read from its record, the database's current one.
    pub schema_version: u32,
    /// Failed attempts so far.
    pub retry_count: u32,
    /// Failures after which the entry is `failed`.
    pub max_retries: u32,
    /// Not handed out before this time.
    pub next_attempt_at: SystemTime,
    /// When the mutation was queued.
    pub created_at: SystemTime,
    /// The entry's state.
    pub status: QueueStatus,
    /// The last error, if any.
    pub error: Option<String>,
    /// The server version the change was made on (`None` for a create, or while the record's
    /// create has not been accepted yet).
    pub base_version: Option<u64>,
    /// The fields an update changed (`None`: every field, as for a create).
    pub changed_fields: Option<Vec<String>>,
}

/// An entry as the table stores it.
struct Stored {
    /// The entry; its payload is empty when `fields_in_record`.
    entry: QueueEntry,
    /// A create stored without a payload (since runtime step 5): its fields are its record's
    /// ([`Fields::fill`]).
    fields_in_record: bool,
}

fn read_stored(row: &Row<'_>) -> Result<Stored> {
    let id: i64 = row.get("id")?;
    let corrupt = |column: &str, reason: String| Error::CorruptRow {
        table: "_sync_queue".to_owned(),
        row: id.to_string(),
        column: column.to_owned(),
        reason,
    };
    let text = |column: &str| -> Result<String> {
        row.get::<_, String>(column)
            .map_err(|e| corrupt(column, e.to_string()))
    };
    let int = |column: &str| -> Result<i64> {
        row.get::<_, i64>(column)
            .map_err(|e| corrupt(column, e.to_string()))
    };
    let uint = |column: &str| -> Result<u32> {
        let v = int(column)?;
        u32::try_from(v).map_err(|_| corrupt(column, format!("{v} is out of range")))
    };
    let uuid = |column: &str| -> Result<Uuid> {
        let s = text(column)?;
        Uuid::parse_str(&s).map_err(|e| corrupt(column, format!("not a UUID ({s:?}): {e}")))
    };
    let key = || -> Result<Uuid> {
        match row.get_ref("idempotency_key")? {
            ValueRef::Blob(bytes) => Uuid::from_slice(bytes).map_err(|e| {
                corrupt(
                    "idempotency_key",
                    format!("not a 16-byte UUID ({} bytes): {e}", bytes.len()),
                )
            }),
            // A key queued before runtime step 5 where no bundled SQLite converted it.
            _ => uuid("idempotency_key"),
        }
    };
    let action = text("action")?;
    let action = Action::parse(&action)
        .ok_or_else(|| corrupt("action", format!("unknown action {action:?}")))?;
    let status = text("status")?;
    let payload = row
        .get::<_, Option<String>>("payload")
        .map_err(|e| corrupt("payload", e.to_string()))?;
    let fields_in_record = payload.is_none();
    let payload = match payload.as_deref().map(serde_json::from_str) {
        None if action == Action::Create => serde_json::Map::new(),
        None => {
            return Err(corrupt(
                "payload",
                format!(
                    "NULL, which only a create may have, in a {}",
                    action.as_str()
                ),
            ));
        }
        Some(Ok(serde_json::Value::Object(map))) => map,
        Some(Ok(other)) => {
            return Err(corrupt(
                "payload",
                format!("expected a JSON object, found {other}"),
            ));
        }
        Some(Err(e)) => return Err(corrupt("payload", format!("invalid JSON: {e}"))),
    };
    let entry = QueueEntry {
        id,
        idempotency_key: key()?,
        entity_type: text("entity_type")?,
        action,
        entity_id: uuid("entity_id")?,
        payload,
        schema_version: uint("schema_version")?,
        retry_count: uint("retry_count")?,
        max_retries: uint("max_retries")?,
        next_attempt_at: from_millis(int("next_attempt_at")?),
        created_at: from_millis(int("created_at")?),
        status: QueueStatus::parse(&status)
            .ok_or_else(|| corrupt("status", format!("unknown status {status:?}")))?,
        error: row
            .get::<_, Option<String>>("error")
            .map_err(|e| corrupt("error", e.to_string()))?,
        base_version: row
            .get::<_, Option<i64>>("base_version")
            .map_err(|e| corrupt("base_version", e.to_string()))?
            .map(i64::unsigned_abs),
        changed_fields: match row
            .get::<_, Option<String>>("changed_fields")
            .map_err(|e| corrupt("changed_fields", e.to_string()))?
        {
            None => None,
            Some(text) => Some(serde_json::from_str(&text).map_err(|e| {
                corrupt("changed_fields", format!("not a JSON array of names: {e}"))
            })?),
        },
    };
    Ok(Stored {
        entry,
        fields_in_record,
    })
}

/// Reads the fields of creates stored without a payload from their records, as they are when
/// the entry is read: exactly what the create must push (later local updates of a create not
/// yet sent coalesce into it anyway; one made while it is in flight is queued after it and
/// sends its changed fields again, which changes nothing).
#[derive(Clone, Copy)]
struct Fields<'db> {
    db: &'db Database,
}

impl Fields<'_> {
    /// `stored`'s entry with its payload. A create's record that is gone is
    /// [`Error::QueueRecordMissing`]; an entity this database does not know,
    /// [`Error::UnknownEntity`].
    fn fill(self, conn: &Connection, stored: Stored) -> Result<QueueEntry> {
        let Stored {
            mut entry,
            fields_in_record,
        } = stored;
        if !fields_in_record {
            return Ok(entry);
        }
        let Some(entity) = self.db.entity(&entry.entity_type) else {
            return Err(Error::UnknownEntity {
                entity: entry.entity_type,
            });
        };
        match local::read(conn, entity, entry.entity_id)? {
            Some(row) => {
                entry.payload = row.fields(entity);
                entry.schema_version = self.db.schema_version;
                Ok(entry)
            }
            None => Err(Error::QueueRecordMissing {
                id: entry.id,
                entity: entry.entity_type,
                table: entity.table.to_owned(),
                record: entry.entity_id,
            }),
        }
    }

    /// [`Fields::fill`] for a listing: a create whose record is gone, or whose entity this
    /// database has not registered, lists with `{}`, so one such entry neither hides the others
    /// nor stops the app from discarding it.
    fn fill_listed(self, conn: &Connection, stored: Stored) -> Result<QueueEntry> {
        if !stored.fields_in_record {
            return Ok(stored.entry);
        }
        let entry = stored.entry.clone();
        match self.fill(conn, stored) {
            Err(Error::QueueRecordMissing { .. } | Error::UnknownEntity { .. }) => Ok(entry),
            other => other,
        }
    }
}

/// The mutation queue, from [`Database::queue`].
#[derive(Debug, Clone, Copy)]
pub struct Queue<'db> {
    db: &'db Database,
}

/// Entry `id` for a state change (fail, retry, discard): a create's payload is left empty, as
/// none of them reads it.
fn entry_in(tx: &Transaction<'_>, id: i64) -> Result<QueueEntry> {
    let sql = format!(
        "SELECT {} FROM _sync_queue WHERE id = ?1",
        QUEUE.column_list()
    );
    let mut stmt = tx.prepare_cached(&sql).map_err(Error::sql(&sql))?;
    let mut rows = stmt.query([id]).map_err(Error::sql(&sql))?;
    match rows.next().map_err(Error::sql(&sql))? {
        Some(row) => Ok(read_stored(row)?.entry),
        None => Err(Error::QueueEntryNotFound { id }),
    }
}

fn expect(
    entry: &QueueEntry,
    status: QueueStatus,
    operation: &'static str,
    expected: &'static str,
) -> Result<()> {
    if entry.status == status {
        Ok(())
    } else {
        Err(Error::QueueEntryState {
            id: entry.id,
            status: entry.status.as_str().to_owned(),
            operation,
            expected,
        })
    }
}

impl<'db> Queue<'db> {
    pub(crate) fn new(db: &'db Database) -> Self {
        Queue { db }
    }

    fn list(&self, filter: &str) -> Result<Vec<QueueEntry>> {
        let sql = format!(
            "SELECT {} FROM _sync_queue {filter} ORDER BY id",
            QUEUE.column_list()
        );
        let fields = Fields { db: self.db };
        self.db.with_reader(|conn| {
            let mut stmt = conn.prepare(&sql).map_err(Error::sql(&sql))?;
            let mut rows = stmt.query([]).map_err(Error::sql(&sql))?;
            let mut out = Vec::new();
            while let Some(row) = rows.next().map_err(Error::sql(&sql))? {
                out.push(fields.fill_listed(conn, read_stored(row)?)?);
            }
            Ok(out)
        })
    }

    /// Every entry not yet completed, in queue order.
    pub fn open_entries(&self) -> Result<Vec<QueueEntry>> {
        self.list("WHERE status <> 'completed'")
    }

    /// Every entry, completed ones included, in queue order.
    pub fn all_entries(&self) -> Result<Vec<QueueEntry>> {
        self.list("")
    }

    /// The entries that gave up after `max_retries`, for the app to show.
    pub fn failed(&self) -> Result<Vec<QueueEntry>> {
        self.list("WHERE status = 'failed'")
    }

    /// Entry `id`, if it exists.
    pub fn get(&self, id: i64) -> Result<Option<QueueEntry>> {
        Ok(self.list(&format!("WHERE id = {id}"))?.into_iter().next())
    }

    /// Hands out up to `limit` entries due at the clock's now, in queue order and respecting
    /// per-record order and parents before children (see the module docs), and marks them
    /// `in_flight`.
    pub fn next_batch(&self, limit: usize) -> Result<Vec<QueueEntry>> {
        let now = to_millis(self.db.clock.now());
        self.take(Selection::Due { now }, limit)
    }

    /// Hands out up to `limit` entries that were sent before without an answer (a lost
    /// response, a 500, a crash while in flight: pending with an error), whatever their
    /// backoff, in the same order as [`Queue::next_batch`]. The sync engine re-sends them
    /// before it pulls, so a pull never meets a change of its own whose fate it does not know.
    pub(crate) fn in_doubt_batch(&self, limit: usize) -> Result<Vec<QueueEntry>> {
        self.take(Selection::InDoubt, limit)
    }

    fn take(&self, selection: Selection, limit: usize) -> Result<Vec<QueueEntry>> {
        let entities = self.db.registered();
        let fields = Fields { db: self.db };
        self.db.with_writer(|tx| {
            // Inside the transaction: a read-only database refused before any lock file.
            self.db.owner.hold()?;
            let Due {
                batch: entries,
                unsendable,
            } = due_entries(tx, fields, &entities, selection, limit)?;
            // Never retried by itself: only restoring the row (then `retry`) or `discard`
            // helps. Its record's later entries wait behind it, as behind any failed entry.
            let fail = "UPDATE _sync_queue SET status = 'failed', error = ?2, claimed_by = NULL \
                        WHERE id = ?1";
            for (id, error) in &unsendable {
                tx.prepare_cached(fail)
                    .and_then(|mut s| s.execute((id, error)))
                    .map_err(Error::sql(fail))?;
            }
            let update =
                "UPDATE _sync_queue SET status = 'in_flight', claimed_by = ?2 WHERE id = ?1";
            let mut stmt = tx.prepare_cached(update).map_err(Error::sql(update))?;
            let mut out = Vec::with_capacity(entries.len());
            for mut entry in entries {
                stmt.execute((entry.id, self.db.owner.id()))
                    .map_err(Error::sql(update))?;
                entry.status = QueueStatus::InFlight;
                out.push(entry);
            }
            Ok(out)
        })
    }

    /// Marks in-flight entry `id` accepted by the server. When its record has no other open
    /// entry, the record becomes `synced` with `synced_at = now`.
    pub fn complete(&self, id: i64) -> Result<()> {
        self.complete_inner(id, None)
    }

    /// [`Queue::complete`], also storing the id the server assigned to the record.
    pub fn complete_with_server_id(&self, id: i64, server_id: &str) -> Result<()> {
        self.complete_inner(id, Some(server_id))
    }

    /// Marks every in-flight entry of `ids` accepted by the server, as [`Queue::complete`]
    /// does one, in ONE transaction (one commit for a whole answered batch instead of one per
    /// entry). Either all of them complete or, on the first entry that cannot (not in flight,
    /// claimed by another instance, missing), none does and that entry's error is returned.
    pub fn complete_all(&self, ids: &[i64]) -> Result<()> {
        let now = to_millis(self.db.clock.now());
        self.db.with_writer(|tx| {
            for &id in ids {
                self.settle_completed(tx, id, None, now)?;
            }
            Ok(())
        })
    }

    /// [`Queue::complete_all`] with the id the server assigned to each entry's record:
    /// `(entry id, server id)` pairs, as [`Queue::complete_with_server_id`].
    pub fn complete_all_with_server_ids(&self, entries: &[(i64, &str)]) -> Result<()> {
        let now = to_millis(self.db.clock.now());
        self.db.with_writer(|tx| {
            for &(id, server_id) in entries {
                self.settle_completed(tx, id, Some(server_id), now)?;
            }
            Ok(())
        })
    }

    fn complete_inner(&self, id: i64, server_id: Option<&str>) -> Result<()> {
        let now = to_millis(self.db.clock.now());
        self.db
            .with_writer(|tx| self.settle_completed(tx, id, server_id, now))
    }

    /// Completes in-flight entry `id` inside `tx`: the entry `completed`, the record's server id
    /// stored when given, and the record `synced` at `now` once it has no other open entry.
    /// Reads only the four columns it checks (not the payload), with prepared statements.
    fn settle_completed(
        &self,
        tx: &Transaction<'_>,
        id: i64,
        server_id: Option<&str>,
        now: i64,
    ) -> Result<()> {
        let sql =
            "SELECT status, entity_type, entity_id, claimed_by FROM _sync_queue WHERE id = ?1";
        let found: Option<(String, String, String, Option<String>)> = tx
            .prepare_cached(sql)
            .and_then(|mut s| {
                s.query_row([id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
                    .optional()
            })
            .map_err(Error::sql(sql))?;
        let Some((status, entity_type, record, claimed_by)) = found else {
            return Err(Error::QueueEntryNotFound { id });
        };
        if status != QueueStatus::InFlight.as_str() {
            return Err(Error::QueueEntryState {
                id,
                status,
                operation: "complete",
                expected: "in_flight",
            });
        }
        if let Some(owner) = claimed_by
            && owner != self.db.owner.id()
        {
            return Err(Error::QueueEntryClaimed { id, owner });
        }
        let sql = "UPDATE _sync_queue SET status = 'completed', error = NULL, claimed_by = NULL WHERE id = ?1";
        tx.prepare_cached(sql)
            .and_then(|mut s| s.execute([id]))
            .map_err(Error::sql(sql))?;
        let Some(entity) = self.db.entity(&entity_type) else {
            return Err(Error::UnknownEntity {
                entity: entity_type,
            });
        };
        if let Some(server_id) = server_id {
            row_writer::set_server_id(tx, entity, &record, server_id)?;
        }
        let sql = sql_cache::sql(entity, Shape::MarkSynced, || {
            format!(
                "UPDATE {} SET {status} = 'synced', {} = ?1 WHERE {} = ?2 \
                 AND {status} IN ('pending', 'error') AND NOT EXISTS (SELECT 1 FROM _sync_queue \
                 WHERE entity_type = ?3 AND entity_id = ?2 AND status <> 'completed')",
                quote(entity.table),
                entity.quoted("synced_at"),
                entity.quoted("id"),
                status = entity.quoted("sync_status"),
            )
        });
        tx.prepare_cached(&sql)
            .and_then(|mut s| s.execute((now, &record, entity.name)))
            .map_err(Error::sql(&sql))?;
        Ok(())
    }

    /// Records a failed push of in-flight entry `id`: the entry backs off (see
    /// [`crate::RetryPolicy`]) or, at `max_retries`, becomes `failed` and its record `error`.
    pub fn fail(&self, id: i64, error: &str) -> Result<FailOutcome> {
        let now = self.db.clock.now();
        let unit = self.db.jitter.unit();
        self.db.with_writer(|tx| {
            let entry = entry_in(tx, id)?;
            expect(&entry, QueueStatus::InFlight, "fail", "in_flight")?;
            self.expect_owned(tx, id)?;
            let failures = entry.retry_count.saturating_add(1);
            if failures >= entry.max_retries {
                let sql = "UPDATE _sync_queue SET status = 'failed', retry_count = ?1, error = ?2, \
                           claimed_by = NULL WHERE id = ?3";
                tx.execute(sql, (failures, error, id))
                    .map_err(Error::sql(sql))?;
                if let Some(entity) = self.db.entity(&entry.entity_type) {
                    let sql = set_status(entity, "error", "pending");
                    tx.execute(&sql, [entry.entity_id.hyphenated().to_string()])
                        .map_err(Error::sql(&sql))?;
                }
                return Ok(FailOutcome::Failed);
            }
            let next = now + self.db.retry.jittered(failures, unit);
            let sql = "UPDATE _sync_queue SET status = 'pending', retry_count = ?1, error = ?2, \
                       next_attempt_at = ?3, claimed_by = NULL WHERE id = ?4";
            tx.execute(sql, (failures, error, to_millis(next), id))
                .map_err(Error::sql(sql))?;
            Ok(FailOutcome::Retrying {
                next_attempt_at: next,
            })
        })
    }

    /// Puts failed entry `id` back in line: `pending`, retry count reset, due now; its record
    /// becomes `pending` again. (The last error stays recorded.)
    pub fn retry(&self, id: i64) -> Result<()> {
        let now = to_millis(self.db.clock.now());
        self.db.with_writer(|tx| {
            let entry = entry_in(tx, id)?;
            expect(&entry, QueueStatus::Failed, "retry", "failed")?;
            self.requeue(tx, &entry, now)
        })
    }

    /// [`Queue::retry`] for every failed entry; returns how many.
    pub fn retry_failed(&self) -> Result<usize> {
        let now = to_millis(self.db.clock.now());
        let failed = self.failed()?;
        self.db.with_writer(|tx| {
            let mut n = 0;
            for entry in &failed {
                if entry_in(tx, entry.id)?.status == QueueStatus::Failed {
                    self.requeue(tx, entry, now)?;
                    n += 1;
                }
            }
            Ok(n)
        })
    }

    fn requeue(&self, tx: &Transaction<'_>, entry: &QueueEntry, now: i64) -> Result<()> {
        let sql = "UPDATE _sync_queue SET status = 'pending', retry_count = 0, next_attempt_at = ?1 WHERE id = ?2";
        tx.execute(sql, (now, entry.id)).map_err(Error::sql(sql))?;
        if let Some(entity) = self.db.entity(&entry.entity_type) {
            let sql = set_status(entity, "pending", "error");
            tx.execute(&sql, [entry.entity_id.hyphenated().to_string()])
                .map_err(Error::sql(&sql))?;
        }
        Ok(())
    }

    /// Drops entry `id` (not allowed while `in_flight`). The record keeps its local state; it
    /// is marked `error` since the server will not get this change.
    pub fn discard(&self, id: i64) -> Result<()> {
        self.db.with_writer(|tx| {
            let entry = entry_in(tx, id)?;
            if entry.status == QueueStatus::InFlight {
                return Err(Error::QueueEntryState {
                    id,
                    status: entry.status.as_str().to_owned(),
                    operation: "discard",
                    expected: "pending, failed or completed",
                });
            }
            let sql = "DELETE FROM _sync_queue WHERE id = ?1";
            tx.execute(sql, [id]).map_err(Error::sql(sql))?;
            if entry.status != QueueStatus::Completed
                && let Some(entity) = self.db.entity(&entry.entity_type)
            {
                let sql = set_status(entity, "error", "pending");
                tx.execute(&sql, [entry.entity_id.hyphenated().to_string()])
                    .map_err(Error::sql(&sql))?;
            }
            Ok(())
        })
    }

    /// Returns the entries left `in_flight` by an instance that is gone (dropped, or its
    /// process died) to `pending`, with an `error` note (which also stops them from being
    /// coalesced). Entries in flight in a live instance, in this process or another, stay
    /// theirs: an instance holds an OS lock beside the database file while it is open. Runs
    /// at open; returns how many were taken back.
    pub fn recover_in_flight(&self) -> Result<usize> {
        let owner = &self.db.owner;
        owner.sweep();
        self.db.with_writer(|tx| {
            let sql = "SELECT DISTINCT claimed_by FROM _sync_queue WHERE status = 'in_flight'";
            let owners: Vec<Option<String>> = tx
                .prepare(sql)
                .and_then(|mut stmt| stmt.query_map([], |r| r.get(0))?.collect())
                .map_err(Error::sql(sql))?;
            let sql = "UPDATE _sync_queue SET status = 'pending', claimed_by = NULL, \
                       error = coalesce(error, 'interrupted while in flight') \
                       WHERE status = 'in_flight' AND claimed_by IS ?1";
            let mut recovered = 0;
            for gone in owners.iter().filter(|o| owner.is_gone(o.as_deref())) {
                recovered += tx.execute(sql, [gone]).map_err(Error::sql(sql))?;
            }
            Ok(recovered)
        })
    }

    /// Refuses to settle entry `id` unless this instance took it.
    fn expect_owned(&self, tx: &Transaction<'_>, id: i64) -> Result<()> {
        let sql = "SELECT claimed_by FROM _sync_queue WHERE id = ?1";
        let claimed_by: Option<String> = tx
            .query_row(sql, [id], |r| r.get(0))
            .map_err(Error::sql(sql))?;
        match claimed_by {
            Some(owner) if owner != self.db.owner.id() => {
                Err(Error::QueueEntryClaimed { id, owner })
            }
            _ => Ok(()),
        }
    }
}

/// The statement behind [`Queue::next_batch`]: due pending entries in queue order whose record
/// has no earlier open entry. It walks `idx__sync_queue_status_id` in queue order (the `+`
/// keeps the planner off the `next_attempt_at` index, which would need a sort of every pending
/// entry per batch), and the `NOT EXISTS` looks the record up by
/// `idx__sync_queue_entity_type_entity_id` (tests/queue.rs pins the plan).
#[doc(hidden)]
pub const DUE_SQL: &str = "SELECT \"id\", \"idempotency_key\", \"entity_type\", \"action\", \
    \"entity_id\", \"payload\", \"schema_version\", \"retry_count\", \"max_retries\", \
    \"next_attempt_at\", \"created_at\", \"status\", \"error\", \"claimed_by\", \"base_version\", \
    \"changed_fields\" FROM _sync_queue AS q WHERE q.status = 'pending' AND +q.next_attempt_at <= ?1 \
    AND NOT EXISTS (SELECT 1 FROM _sync_queue AS p WHERE p.entity_type = q.entity_type \
    AND p.entity_id = q.entity_id AND p.id < q.id AND p.status <> 'completed') ORDER BY q.id";

/// [`DUE_SQL`] for the entries sent before without an answer (pending with an error).
#[doc(hidden)]
pub const IN_DOUBT_SQL: &str = "SELECT \"id\", \"idempotency_key\", \"entity_type\", \"action\", \
    \"entity_id\", \"payload\", \"schema_version\", \"retry_count\", \"max_retries\", \
    \"next_attempt_at\", \"created_at\", \"status\", \"error\", \"claimed_by\", \"base_version\", \
    \"changed_fields\" FROM _sync_queue AS q WHERE q.status = 'pending' AND +q.next_attempt_at <= ?1 \
    AND q.error IS NOT NULL \
    AND NOT EXISTS (SELECT 1 FROM _sync_queue AS p WHERE p.entity_type = q.entity_type \
    AND p.entity_id = q.entity_id AND p.id < q.id AND p.status <> 'completed') ORDER BY q.id";

/// Which entries a batch takes.
#[derive(Debug, Clone, Copy)]
enum Selection {
    /// Those due at `now` (epoch ms).
    Due { now: i64 },
    /// Those sent before without an answer, due or not.
    InDoubt,
}

/// The statement of the parent hold: the open entries of a referenced record queued before the
/// child's entry.
#[doc(hidden)]
pub const OPEN_BEFORE_SQL: &str = "SELECT id FROM _sync_queue WHERE entity_type = ?1 \
    AND entity_id = ?2 AND id < ?3 AND status <> 'completed'";

/// The statement of [`open_entries_of`]: a record's open entries, found by the record index.
/// Without `ORDER BY`: beside `entity_id = ?` it makes SQLite prepare the statement again on
/// every use (its plan depends on the bound value), which costs more than the lookup; the few
/// entries are sorted after.
#[doc(hidden)]
pub const OPEN_OF_SQL: &str = "SELECT \"id\", \"idempotency_key\", \"entity_type\", \"action\", \
    \"entity_id\", \"payload\", \"schema_version\", \"retry_count\", \"max_retries\", \
    \"next_attempt_at\", \"created_at\", \"status\", \"error\", \"claimed_by\", \"base_version\", \
    \"changed_fields\" FROM _sync_queue WHERE entity_type = ?1 AND entity_id = ?2 \
    AND status <> 'completed'";

/// Up to `limit` due entries in queue order, holding back an entry while a record it
/// references by foreign key (in its payload) has an earlier open entry that is not in the same
/// batch ahead of it: a child's create never reaches the server before its parent's.
///
/// A create whose record's row is gone cannot be sent: it is returned apart, with its error,
/// for the caller to fail, and the batch goes on without it.
fn due_entries(
    tx: &Transaction<'_>,
    fields: Fields<'_>,
    entities: &[&'static EntityDescriptor],
    selection: Selection,
    limit: usize,
) -> Result<Due> {
    let mut due = Due::default();
    if limit == 0 {
        return Ok(due);
    }
    let batch = &mut due.batch;
    let mut taken = std::collections::HashSet::new();
    let (sql, now) = match selection {
        Selection::Due { now } => (DUE_SQL, now),
        // Every entry counts as due: an in-doubt one is sent again whatever its backoff.
        Selection::InDoubt => (IN_DOUBT_SQL, i64::MAX),
    };
    let mut stmt = tx.prepare_cached(sql).map_err(Error::sql(sql))?;
    let mut open_before = tx
        .prepare_cached(OPEN_BEFORE_SQL)
        .map_err(Error::sql(OPEN_BEFORE_SQL))?;
    let mut rows = stmt.query([now]).map_err(Error::sql(sql))?;
    while let Some(row) = rows.next().map_err(Error::sql(sql))? {
        let entry = match fields.fill(tx, read_stored(row)?) {
            Ok(entry) => entry,
            Err(missing @ Error::QueueRecordMissing { id, .. }) => {
                due.unsendable.push((id, missing.to_string()));
                continue;
            }
            Err(e) => return Err(e),
        };
        let mut held = false;
        for (parent_entity, parent_id) in references(entities, &entry) {
            let mut ids = open_before
                .query((parent_entity, parent_id, entry.id))
                .map_err(Error::sql(OPEN_BEFORE_SQL))?;
            while let Some(r) = ids.next().map_err(Error::sql(OPEN_BEFORE_SQL))? {
                let id: i64 = r.get(0).map_err(Error::sql(OPEN_BEFORE_SQL))?;
                if !taken.contains(&id) {
                    held = true;
                    break;
                }
            }
            if held {
                break;
            }
        }
        if held {
            continue;
        }
        taken.insert(entry.id);
        batch.push(entry);
        if batch.len() >= limit {
            break;
        }
    }
    Ok(due)
}

/// What [`due_entries`] found.
#[derive(Default)]
struct Due {
    /// The entries to hand out, in queue order.
    batch: Vec<QueueEntry>,
    /// Creates that cannot be sent (their record's row is gone): id and why.
    unsendable: Vec<(i64, String)>,
}

/// The records `entry`'s payload references by foreign key, as (entity name, id).
fn references<'e>(
    entities: &'e [&'static EntityDescriptor],
    entry: &'e QueueEntry,
) -> impl Iterator<Item = (&'static str, &'e str)> + 'e {
    let entity = entities.iter().find(|e| e.name == entry.entity_type);
    entity
        .into_iter()
        .flat_map(|e| e.columns.iter())
        .filter_map(move |column| {
            let table = column.references?;
            let parent = entities.iter().find(|e| e.table == table)?;
            let id = entry.payload.get(column.name)?.as_str()?;
            Some((parent.name, id))
        })
}

/// A mutation to append, see [`enqueue`].
pub(crate) struct NewEntry<'a> {
    pub entity: &'a EntityDescriptor,
    pub action: Action,
    pub entity_id: Uuid,
    /// The record's domain values after the write, in `entity.columns` order (none for a
    /// delete): the payload holds those of the changed fields.
    pub values: &'a [Value],
    pub schema_version: u32,
    pub max_retries: u32,
    pub now_ms: i64,
    /// Whether an update may be merged into the queue's tail (see the module docs).
    pub coalesce: bool,
    /// The fields an update changed (`None`: all of them).
    pub changed_fields: Option<Vec<&'a str>>,
}

/// Appends `entry` to the queue inside the caller's transaction (the one writing its row), or
/// merges an update into the queue's tail. The entry's base is the record's server version as
/// the engine knows it (`_sync_records`); a merged update keeps the tail's base and adds its
/// changed fields to the tail's. A create stores no payload (its fields are read from the
/// record, see [`Fields`]), and an update merged into a create leaves none.
pub(crate) fn enqueue(tx: &Transaction<'_>, entry: &NewEntry<'_>) -> Result<()> {
    let payload_of = |fields: Option<&[&str]>| {
        encode_payload(&to_payload_of(entry.entity, entry.values, fields))
    };
    let id = entry.entity_id.hyphenated().to_string();
    if entry.coalesce && entry.action == Action::Update {
        // The queue's tail, if it is an unsent create/update of the same record.
        let sql = "SELECT id, action, changed_fields FROM _sync_queue WHERE id = (SELECT max(id) FROM _sync_queue) \
                   AND entity_type = ?1 AND entity_id = ?2 AND status = 'pending' \
                   AND retry_count = 0 AND error IS NULL AND action IN ('create', 'update')";
        let tail: Option<(i64, String, Option<String>)> = tx
            .prepare_cached(sql)
            .and_then(|mut s| {
                s.query_row((entry.entity.name, &id), |r| {
                    Ok((r.get(0)?, r.get(1)?, r.get(2)?))
                })
                .optional()
            })
            .map_err(Error::sql(sql))?;
        if let Some((tail, tail_action, tail_fields)) = tail {
            // A create reads every field from the record when it is sent (a create queued
            // before runtime step 5 drops its stored copy here); a merged update carries the
            // new values of every field either change touched.
            let (payload, changed) = if tail_action == Action::Create.as_str() {
                (None, None)
            } else {
                let fields = union_fields(tail_fields.as_deref(), entry.changed_fields.as_deref());
                let names: Option<Vec<&str>> = fields
                    .as_ref()
                    .map(|f| f.iter().map(String::as_str).collect());
                let payload = payload_of(names.as_deref());
                let changed = fields
                    .as_ref()
                    .map(|f| serde_json::to_string(f).unwrap_or_else(|_| "[]".into()));
                (Some(payload), changed)
            };
            let sql = "UPDATE _sync_queue SET payload = ?1, schema_version = ?2, changed_fields = ?3 \
                       WHERE id = ?4";
            tx.prepare_cached(sql)
                .and_then(|mut s| s.execute((&payload, entry.schema_version, changed, tail)))
                .map_err(Error::sql(sql))?;
            return Ok(());
        }
    }
    let payload = match entry.action {
        Action::Create => None,
        Action::Update | Action::Delete => Some(payload_of(entry.changed_fields.as_deref())),
    };
    let changed = entry
        .changed_fields
        .as_ref()
        .map(|fields| serde_json::to_string(fields).unwrap_or_else(|_| "[]".to_owned()));
    let base = if entry.action == Action::Create {
        None
    } else {
        known_server_version(tx, &id)?
    };
    let sql = "INSERT INTO _sync_queue (idempotency_key, entity_type, action, entity_id, payload, \
               schema_version, retry_count, max_retries, next_attempt_at, created_at, status, \
               base_version, changed_fields) \
               VALUES (?1, ?2, ?3, ?4, ?5, ?6, 0, ?7, ?8, ?8, 'pending', ?9, ?10)";
    tx.prepare_cached(sql)
        .and_then(|mut s| {
            s.execute((
                new_key(),
                entry.entity.name,
                entry.action.as_str(),
                &id,
                &payload,
                entry.schema_version,
                entry.max_retries,
                entry.now_ms,
                base,
                changed,
            ))
        })
        .map_err(Error::sql(sql))?;
    Ok(())
}

/// A fresh idempotency key as stored: the UUID's 16 bytes.
fn new_key() -> [u8; 16] {
    Uuid::new_v4().into_bytes()
}

/// The stored text of a payload (a JSON object; the same text `Value::Object(..).to_string()`
/// gives).
fn encode_payload(payload: &serde_json::Map<String, serde_json::Value>) -> String {
    serde_json::to_string(payload).unwrap_or_else(|_| "{}".to_owned())
}

/// The union of two changed-field lists, the first as stored (`None`: every field), sorted.
fn union_fields(stored: Option<&str>, added: Option<&[&str]>) -> Option<Vec<String>> {
    let mut all: Vec<String> = serde_json::from_str(stored?).ok()?;
    all.extend(added?.iter().map(|s| (*s).to_owned()));
    all.sort();
    all.dedup();
    Some(all)
}

/// The server version of record `id` as the engine last learned it, if the server has it.
pub(crate) fn known_server_version(tx: &Connection, id: &str) -> Result<Option<i64>> {
    let sql = "SELECT server_version FROM _sync_records WHERE entity_id = ?1";
    tx.prepare_cached(sql)
        .and_then(|mut s| s.query_row([id], |r| r.get(0)).optional())
        .map_err(Error::sql(sql))
}

/// Queue entries by state, for [`crate::Database::status`].
pub(crate) struct Counts {
    pub pending: u64,
    pub in_flight: u64,
    pub failed: u64,
}

pub(crate) fn counts(conn: &Connection) -> Result<Counts> {
    let sql = "SELECT count(*) FILTER (WHERE status = 'pending'), \
               count(*) FILTER (WHERE status = 'in_flight'), \
               count(*) FILTER (WHERE status = 'failed') FROM _sync_queue";
    conn.query_row(sql, [], |r| {
        let n = |i: usize| r.get::<_, i64>(i).map(i64::unsigned_abs);
        Ok(Counts {
            pending: n(0)?,
            in_flight: n(1)?,
            failed: n(2)?,
        })
    })
    .map_err(Error::sql(sql))
}

/// What [`crate::Database::purge_tombstones`] removed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PurgeReport {
    /// Tombstone rows removed.
    pub tombstones: usize,
    /// Completed queue entries removed.
    pub queue_entries: usize,
}

/// `UPDATE` of record `?1` of `entity` from sync status `from` to `to`.
fn set_status(entity: &EntityDescriptor, to: &str, from: &str) -> String {
    format!(
        "UPDATE {} SET {status} = '{to}' WHERE {} = ?1 AND {status} = '{from}'",
        quote(entity.table),
        entity.quoted("id"),
        status = entity.quoted("sync_status"),
    )
}

/// Removes what synced before `cutoff_ms`: tombstones of `entities` without an open queue
/// entry, and completed queue entries.
pub(crate) fn purge(
    tx: &Transaction<'_>,
    entities: &[&EntityDescriptor],
    cutoff_ms: i64,
) -> Result<PurgeReport> {
    let mut report = PurgeReport::default();
    for entity in entities {
        let sql = format!(
            "DELETE FROM {t} WHERE {deleted} = 1 AND {status} = 'synced' \
             AND {synced} IS NOT NULL AND {synced} <= ?1 AND NOT EXISTS \
             (SELECT 1 FROM _sync_queue q WHERE q.entity_type = ?2 AND q.entity_id = {t}.{id} \
             AND q.status <> 'completed')",
            t = quote(entity.table),
            deleted = entity.quoted("is_deleted"),
            status = entity.quoted("sync_status"),
            synced = entity.quoted("synced_at"),
            id = entity.quoted("id"),
        );
        report.tombstones += tx
            .execute(&sql, (cutoff_ms, entity.name))
            .map_err(Error::sql(&sql))?;
    }
    let sql = "DELETE FROM _sync_queue WHERE status = 'completed' AND created_at <= ?1";
    report.queue_entries = tx.execute(sql, [cutoff_ms]).map_err(Error::sql(sql))?;
    Ok(report)
}

// The sync engine's queue writes. Each runs inside the engine's transaction (one per answered
// batch or applied page), so an answer and its queue changes commit together.

/// The entries of record `entity_id` that are not completed, in queue order.
pub(crate) fn open_entries_of(
    db: &Database,
    tx: &Connection,
    entity_type: &str,
    entity_id: &str,
) -> Result<Vec<QueueEntry>> {
    let fields = Fields { db };
    let sql = OPEN_OF_SQL;
    let mut stmt = tx.prepare_cached(sql).map_err(Error::sql(sql))?;
    let mut rows = stmt
        .query((entity_type, entity_id))
        .map_err(Error::sql(sql))?;
    let mut out = Vec::new();
    while let Some(row) = rows.next().map_err(Error::sql(sql))? {
        out.push(fields.fill_listed(tx, read_stored(row)?)?);
    }
    out.sort_by_key(|e| e.id);
    Ok(out)
}

/// Removes the open entries of record `entity_id`: a conflict decided that the server's
/// version stands (or that one new entry replaces them).
pub(crate) fn drop_open_entries_of(
    tx: &Transaction<'_>,
    entity_type: &str,
    entity_id: &str,
) -> Result<usize> {
    let sql = "DELETE FROM _sync_queue WHERE entity_type = ?1 AND entity_id = ?2 AND status <> 'completed'";
    tx.prepare_cached(sql)
        .and_then(|mut s| s.execute((entity_type, entity_id)))
        .map_err(Error::sql(sql))
}

/// Marks entry `id` accepted and rebases the record's later open entries on the version the
/// server gave it; returns how many open entries the record still has.
pub(crate) fn settle_accepted(
    tx: &Transaction<'_>,
    entry: &QueueEntry,
    server_version: u64,
) -> Result<usize> {
    let sql = "UPDATE _sync_queue SET status = 'completed', error = NULL, claimed_by = NULL WHERE id = ?1";
    tx.prepare_cached(sql)
        .and_then(|mut s| s.execute([entry.id]))
        .map_err(Error::sql(sql))?;
    let sql = "UPDATE _sync_queue SET base_version = ?1 WHERE entity_type = ?2 AND entity_id = ?3 \
               AND status <> 'completed'";
    // Rebasing touches every open entry of the record: their count comes for free.
    let still_open = tx
        .prepare_cached(sql)
        .and_then(|mut s| {
            s.execute((
                i64::try_from(server_version).unwrap_or(i64::MAX),
                &entry.entity_type,
                entry.entity_id.hyphenated().to_string(),
            ))
        })
        .map_err(Error::sql(sql))?;
    Ok(still_open)
}

/// Marks entry `id` failed for good with the server's `reason` (a rejection): no retry helps.
pub(crate) fn settle_rejected(tx: &Transaction<'_>, id: i64, reason: &str) -> Result<()> {
    let sql =
        "UPDATE _sync_queue SET status = 'failed', error = ?1, claimed_by = NULL WHERE id = ?2";
    tx.prepare_cached(sql)
        .and_then(|mut s| s.execute((reason, id)))
        .map_err(Error::sql(sql))?;
    Ok(())
}

/// Puts in-flight entries back in line unchanged (no failure counted): their batch was refused
/// whole for another mutation's sake, or for a reason retrying does not fix now.
pub(crate) fn release(tx: &Transaction<'_>, ids: &[i64]) -> Result<()> {
    let sql = "UPDATE _sync_queue SET status = 'pending', claimed_by = NULL WHERE id = ?1 \
               AND status = 'in_flight'";
    let mut stmt = tx.prepare_cached(sql).map_err(Error::sql(sql))?;
    for id in ids {
        stmt.execute([id]).map_err(Error::sql(sql))?;
    }
    Ok(())
}

/// A change the engine queues itself (a conflict kept the local side, or the app resolved a
/// manual conflict): sent on top of `base_version`, never coalesced.
pub(crate) struct Resend<'a> {
    pub entity: &'a EntityDescriptor,
    pub action: Action,
    pub entity_id: Uuid,
    pub payload: &'a serde_json::Map<String, serde_json::Value>,
    /// `None`: every field.
    pub changed_fields: Option<&'a [String]>,
    pub base_version: u64,
    pub schema_version: u32,
    pub max_retries: u32,
    pub now_ms: i64,
}

/// Appends `resend` under a new idempotency key.
pub(crate) fn enqueue_resend(tx: &Transaction<'_>, resend: &Resend<'_>) -> Result<()> {
    let sql = "INSERT INTO _sync_queue (idempotency_key, entity_type, action, entity_id, payload, \
               schema_version, retry_count, max_retries, next_attempt_at, created_at, status, \
               base_version, changed_fields) \
               VALUES (?1, ?2, ?3, ?4, ?5, ?6, 0, ?7, ?8, ?8, 'pending', ?9, ?10)";
    let changed = resend
        .changed_fields
        .map(|f| serde_json::to_string(f).unwrap_or_else(|_| "[]".to_owned()));
    tx.prepare_cached(sql)
        .and_then(|mut s| {
            s.execute((
                new_key(),
                resend.entity.name,
                resend.action.as_str(),
                resend.entity_id.hyphenated().to_string(),
                encode_payload(resend.payload),
                resend.schema_version,
                resend.max_retries,
                resend.now_ms,
                i64::try_from(resend.base_version).unwrap_or(i64::MAX),
                changed,
            ))
        })
        .map_err(Error::sql(sql))?;
    Ok(())
}
