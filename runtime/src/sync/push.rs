//! Push: batches from the queue in order, each answered batch settled in one transaction
//! (results, server ids, server versions, queue updates and conflict resolutions together).

use std::collections::HashMap;

use crate::clock::to_millis;
use crate::entity::EntityDescriptor;
use crate::queue::{self, Action, QueueEntry};
use crate::row_writer;
use crate::store::Database;
use crate::sync::conflict;
use crate::sync::local;
use crate::sync::protocol::{
    self, FieldTimestamps, Fields, Mutation, Outcome, ProtocolError, PushRequest, PushResponse,
};
use crate::sync::report::{FoundBy, Rejection, SyncReport};
use crate::sync::transport::{Transport, TransportError};
use crate::{Error, Result};

/// Which queue entries a push round sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Round {
    /// Those sent before without an answer (before the pull).
    InDoubt,
    /// Everything due (after the pull).
    Due,
}

/// Pushes batches of at most `batch_size` until `round` has nothing left to send.
pub(crate) fn push_all(
    db: &Database,
    transport: &dyn Transport,
    batch_size: usize,
    round: Round,
    report: &mut SyncReport,
) -> Result<()> {
    loop {
        let batch = match round {
            Round::InDoubt => db.queue().in_doubt_batch(batch_size)?,
            Round::Due => db.queue().next_batch(batch_size)?,
        };
        if batch.is_empty() {
            return Ok(());
        }
        let mutations = match db.with_reader(|conn| mutations(db, conn, &batch)) {
            Ok(m) => m,
            Err(e) => {
                let ids: Vec<i64> = batch.iter().map(|e| e.id).collect();
                db.with_writer(|tx| queue::release(tx, &ids))?;
                return Err(e);
            }
        };
        let request = PushRequest::new(db.schema_version, mutations);
        report.push_requests += 1;
        match transport.push(&request) {
            Ok(response) => settle(db, &batch, &response, report)?,
            Err(TransportError::Refused {
                error: ProtocolError::InvalidMutations { rejected },
                ..
            }) => {
                // Nothing was applied: fail the named mutations, send the others again.
                if !batch.iter().any(|e| {
                    rejected
                        .iter()
                        .any(|r| r.idempotency_key == e.idempotency_key)
                }) {
                    // A refusal that names none of them would come back forever.
                    let ids: Vec<i64> = batch.iter().map(|e| e.id).collect();
                    db.with_writer(|tx| queue::release(tx, &ids))?;
                    return Err(Error::SyncStopped {
                        source: TransportError::refused(ProtocolError::InvalidMutations {
                            rejected,
                        }),
                    });
                }
                db.with_writer(|tx| {
                    for entry in &batch {
                        match rejected
                            .iter()
                            .find(|r| r.idempotency_key == entry.idempotency_key)
                        {
                            Some(r) => reject(db, tx, entry, &r.reason, report)?,
                            None => queue::release(tx, &[entry.id])?,
                        }
                    }
                    Ok(())
                })?;
            }
            Err(source @ TransportError::Refused { .. }) => {
                // Refused whole (schema_too_new, ...): the queue is kept as it was.
                let ids: Vec<i64> = batch.iter().map(|e| e.id).collect();
                db.with_writer(|tx| queue::release(tx, &ids))?;
                return Err(Error::SyncStopped { source });
            }
            Err(source) => {
                // Unknown whether it was applied: back off, resend the same keys later.
                for entry in &batch {
                    db.queue().fail(entry.id, &source.to_string())?;
                }
                return Err(Error::SyncStopped { source });
            }
        }
    }
}

/// The mutations of `batch`: an update sends the fields it changed, a delete none; each is
/// stamped with the record's `updated_at` and (for `field_merge`) the sent fields' timestamps.
fn mutations(
    db: &Database,
    conn: &rusqlite::Connection,
    batch: &[QueueEntry],
) -> Result<Vec<Mutation>> {
    batch
        .iter()
        .map(|entry| {
            let entity = entity_of(db, entry)?;
            let row = local::read(conn, entity, entry.entity_id)?;
            let fields: Fields = match (entry.action, &entry.changed_fields) {
                (Action::Delete, _) => Fields::new(),
                (_, None) => entry.payload.clone(),
                (_, Some(changed)) => entry
                    .payload
                    .iter()
                    .filter(|(k, _)| changed.contains(k))
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect(),
            };
            let field_timestamps: FieldTimestamps = match (&row, entity.is_field_merge()) {
                (Some(row), true) => fields.keys().map(|k| (k.clone(), row.stamp(k))).collect(),
                _ => FieldTimestamps::new(),
            };
            let base_version = match entry.action {
                Action::Create => None,
                _ => match entry.base_version {
                    Some(v) => Some(v),
                    None => local::known(conn, entry.entity_id)?,
                },
            };
            Ok(Mutation {
                idempotency_key: entry.idempotency_key,
                entity: entry.entity_type.clone(),
                action: match entry.action {
                    Action::Create => protocol::Action::Create,
                    Action::Update => protocol::Action::Update,
                    Action::Delete => protocol::Action::Delete,
                },
                id: entry.entity_id,
                base_version,
                schema_version: entry.schema_version,
                updated_at: row.map_or_else(|| to_millis(entry.created_at), |r| r.updated_at),
                fields,
                field_timestamps,
            })
        })
        .collect()
}

fn entity_of(db: &Database, entry: &QueueEntry) -> Result<&'static EntityDescriptor> {
    db.entity(&entry.entity_type)
        .ok_or_else(|| Error::UnknownEntity {
            entity: entry.entity_type.clone(),
        })
}

/// Applies the answers to `batch` in one transaction.
fn settle(
    db: &Database,
    batch: &[QueueEntry],
    response: &PushResponse,
    report: &mut SyncReport,
) -> Result<()> {
    let now_ms = to_millis(db.clock.now());
    let answers: HashMap<_, _> = response
        .results
        .iter()
        .map(|r| (r.idempotency_key, &r.outcome))
        .collect();
    let mut pushed = 0;
    let mut conflicts = Vec::new();
    let mut rejected = Vec::new();
    db.with_writer(|tx| {
        for entry in batch {
            let entity = entity_of(db, entry)?;
            match answers.get(&entry.idempotency_key) {
                // No answer for it (a server bug): send it again later.
                None => queue::release(tx, &[entry.id])?,
                Some(Outcome::Accepted {
                    server_version,
                    server_id,
                }) => {
                    let still_open = queue::settle_accepted(tx, entry, *server_version)?;
                    local::set_known(tx, entity, entry.entity_id, *server_version)?;
                    if still_open == 0 {
                        local::set_synced(tx, entity, entry.entity_id, server_id, now_ms)?;
                    } else {
                        row_writer::set_server_id(
                            tx,
                            entity,
                            &entry.entity_id.hyphenated().to_string(),
                            server_id,
                        )?;
                    }
                    pushed += 1;
                }
                Some(Outcome::Conflict { current }) => {
                    if let Some(c) =
                        conflict::resolve(db, tx, entity, current, FoundBy::Push, now_ms)?
                    {
                        conflicts.push(c);
                    }
                }
                Some(Outcome::Rejected { reason }) => {
                    rejected.push(rejection(entry, reason));
                    queue::settle_rejected(tx, entry.id, reason)?;
                    local::set_status(tx, entity, entry.entity_id, "error", now_ms)?;
                }
            }
        }
        Ok(())
    })?;
    report.pushed += pushed;
    report.conflicts.extend(conflicts);
    report.rejected.extend(rejected);
    Ok(())
}

fn rejection(entry: &QueueEntry, reason: &str) -> Rejection {
    Rejection {
        entity: entry.entity_type.clone(),
        id: entry.entity_id,
        idempotency_key: entry.idempotency_key,
        reason: reason.to_owned(),
    }
}

/// Fails `entry` for good with `reason` (inside the caller's transaction).
fn reject(
    db: &Database,
    tx: &rusqlite::Transaction<'_>,
    entry: &QueueEntry,
    reason: &str,
    report: &mut SyncReport,
) -> Result<()> {
    queue::settle_rejected(tx, entry.id, reason)?;
    if let Some(entity) = db.entity(&entry.entity_type) {
        local::set_status(
            tx,
            entity,
            entry.entity_id,
            "error",
            to_millis(db.clock.now()),
        )?;
    }
    report.rejected.push(rejection(entry, reason));
    Ok(())
}
