//! Resolving a conflict by the entity's strategy (docs/protocol.md, "Conflict strategies").
//!
//! A conflict is a pulled record whose local copy has unsynced changes, or a push answered
//! `conflict`. [`decide`] is the rule, without I/O; [`resolve`] applies the decision, the queue
//! changes and the `_sync_log` row in the caller's transaction.
//!
//! Rules shared by every strategy:
//! - When the local row already equals the server's record (the server applied this change
//!   but its answer was lost), there is no conflict: the server's version is recorded and the
//!   local entries are dropped.
//! - A server tombstone wins: the server never brings a deleted record back, so a local edit of
//!   it is dropped.
//! - Ties go to the server, so every client converges on the same copy without another push.

use rusqlite::Transaction;
use rusqlite::types::Value;

use crate::Result;
use crate::entity::{ConflictStrategy, EntityDescriptor};
use crate::payload::to_payload;
use crate::queue::{self, Action, Resend};
use crate::row_writer;
use crate::store::Database;
use crate::sync::local::{self, LocalRow, remote_stamp};
use crate::sync::manual;
use crate::sync::protocol::{FieldTimestamps, Fields, RemoteRecord};
use crate::sync::report::{ConflictReport, FoundBy, Resolution};
use crate::sync_log::{self, Direction};

/// What a strategy decides.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Decision {
    /// Keep the server's record; drop the local changes.
    Server,
    /// Keep the local record; send it again on top of the server's version.
    Local,
    /// Keep `values` (with `stamps`); send the fields in `local_fields` again.
    Merge {
        values: Vec<Value>,
        stamps: FieldTimestamps,
        local_fields: Vec<String>,
    },
    /// Mark the record `conflict`, keep both versions, let the app decide.
    Manual,
}

/// The decision of `strategy` for local row `local` against the server's `remote` (whose
/// domain values for this database are `remote_values`).
pub(crate) fn decide(
    entity: &EntityDescriptor,
    local: &LocalRow,
    remote: &RemoteRecord,
    remote_values: &[Value],
) -> Decision {
    if remote.deleted {
        return Decision::Server;
    }
    let later_write_wins = || {
        if local.updated_at > remote.updated_at {
            Decision::Local
        } else {
            Decision::Server
        }
    };
    match entity.conflict {
        ConflictStrategy::ServerWins => Decision::Server,
        ConflictStrategy::ClientWins => Decision::Local,
        ConflictStrategy::LastWriteWins => later_write_wins(),
        ConflictStrategy::Manual => Decision::Manual,
        ConflictStrategy::FieldMerge if local.deleted => later_write_wins(),
        ConflictStrategy::FieldMerge => {
            let mut values = Vec::with_capacity(entity.columns.len());
            let mut stamps = FieldTimestamps::new();
            let mut local_fields = Vec::new();
            for (i, column) in entity.columns.iter().enumerate() {
                let (ours, theirs) = (local.stamp(column.name), remote_stamp(remote, column.name));
                if ours > theirs {
                    values.push(local.values[i].clone());
                    stamps.insert(column.name.to_owned(), ours);
                    local_fields.push(column.name.to_owned());
                } else {
                    values.push(remote_values[i].clone());
                    stamps.insert(column.name.to_owned(), theirs);
                }
            }
            if local_fields.is_empty() {
                Decision::Server
            } else {
                Decision::Merge {
                    values,
                    stamps,
                    local_fields,
                }
            }
        }
    }
}

/// Whether the local row already is the server's record (for the fields both know).
fn same_content(entity: &EntityDescriptor, local: &LocalRow, remote: &RemoteRecord) -> bool {
    if local.deleted != remote.deleted {
        return false;
    }
    let ours: Fields = local.fields(entity);
    remote
        .fields
        .iter()
        .all(|(name, value)| ours.get(name).is_none_or(|v| v == value))
}

/// Resolves the conflict between the local record and `remote`, in `tx`. Returns what was done,
/// or `None` when it was no conflict after all (the same content, or a record already waiting
/// in `manual` conflict, whose server copy is refreshed).
pub(crate) fn resolve(
    db: &Database,
    tx: &Transaction<'_>,
    entity: &'static EntityDescriptor,
    remote: &RemoteRecord,
    found_by: FoundBy,
    now_ms: i64,
) -> Result<Option<ConflictReport>> {
    let id = remote.id;
    let id_text = id.hyphenated().to_string();
    let Some(local) = local::read(tx, entity, id)? else {
        local::write_remote(tx, entity, remote, now_ms)?;
        return Ok(None);
    };
    if local.sync_status == "conflict" {
        manual::keep_server_copy(tx, entity, remote, now_ms)?;
        local::set_known(tx, entity, id, remote.server_version)?;
        return Ok(None);
    }
    if same_content(entity, &local, remote) {
        queue::drop_open_entries_of(tx, entity.name, &id_text)?;
        local::write_remote(tx, entity, remote, now_ms)?;
        return Ok(None);
    }
    let remote_values = local::remote_values(entity, remote)?;
    let decision = decide(entity, &local, remote, &remote_values);
    queue::drop_open_entries_of(tx, entity.name, &id_text)?;
    let resend = |action: Action, payload: &Fields, changed: Option<&[String]>| {
        queue::enqueue_resend(
            tx,
            &Resend {
                entity,
                action,
                entity_id: id,
                payload,
                changed_fields: changed,
                base_version: remote.server_version,
                schema_version: db.schema_version,
                max_retries: db.retry.max_retries,
                now_ms,
            },
        )
    };
    let resolution = match decision {
        Decision::Server => {
            manual::forget(tx, id)?;
            local::write_remote(tx, entity, remote, now_ms)?;
            Resolution::ServerKept
        }
        Decision::Local => {
            local::set_known(tx, entity, id, remote.server_version)?;
            row_writer::set_server_id(tx, entity, &id.hyphenated().to_string(), &remote.server_id)?;
            if local.deleted {
                // The server keeps a deleted record's last fields: so does the tombstone here.
                let tombstone = RemoteRecord {
                    deleted: true,
                    updated_at: local.updated_at,
                    ..remote.clone()
                };
                let values = local::remote_values(entity, remote)?;
                local::write_row(
                    tx,
                    entity,
                    &tombstone,
                    values,
                    &remote.field_timestamps,
                    "pending",
                    now_ms,
                )?;
                resend(Action::Delete, &Fields::new(), Some(&[]))?;
            } else {
                resend(Action::Update, &local.fields(entity), None)?;
            }
            local::set_status(tx, entity, id, "pending", now_ms)?;
            Resolution::LocalResent
        }
        Decision::Merge {
            values,
            stamps,
            local_fields,
        } => {
            let payload = to_payload(entity, &values);
            let merged = RemoteRecord {
                updated_at: local.updated_at.max(remote.updated_at),
                ..remote.clone()
            };
            local::write_row(tx, entity, &merged, values, &stamps, "pending", now_ms)?;
            local::set_known(tx, entity, id, remote.server_version)?;
            resend(Action::Update, &payload, Some(&local_fields))?;
            Resolution::Merged { local_fields }
        }
        Decision::Manual => {
            local::set_known(tx, entity, id, remote.server_version)?;
            row_writer::set_server_id(tx, entity, &id.hyphenated().to_string(), &remote.server_id)?;
            local::set_status(tx, entity, id, "conflict", now_ms)?;
            manual::keep_server_copy(tx, entity, remote, now_ms)?;
            Resolution::Manual
        }
    };
    let direction = match found_by {
        FoundBy::Pull => Direction::Pull,
        FoundBy::Push => Direction::Push,
    };
    sync_log::log_conflict(
        tx,
        direction,
        entity.name,
        &id_text,
        &resolution.describe(entity.conflict),
        now_ms,
    )?;
    Ok(Some(ConflictReport {
        entity: entity.name.to_owned(),
        id,
        strategy: entity.conflict,
        found_by,
        resolution,
    }))
}
