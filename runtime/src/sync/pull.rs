//! Pull: one request for every registered entity, page after page; each page applied and its
//! cursors stored in one transaction.

use std::collections::BTreeMap;

use crate::clock::to_millis;
use crate::cursor;
use crate::entity::EntityDescriptor;
use crate::queue;
use crate::store::Database;
use crate::sync::conflict;
use crate::sync::local;
use crate::sync::protocol::{Cursor, ProtocolError, PullRequest, PullResponse, RemoteRecord};
use crate::sync::report::{ConflictReport, FoundBy, SyncReport};
use crate::sync::transport::{Transport, TransportError};
use crate::{Error, Result};

/// The field list stored with a cursor: a local schema upgrade that changes it pulls the
/// entity again from the start.
pub(crate) fn field_list(entity: &EntityDescriptor) -> String {
    entity
        .columns
        .iter()
        .map(|c| c.name)
        .collect::<Vec<_>>()
        .join(",")
}

/// The cursors to send: the stored one of each entity, or `null` for an entity never pulled or
/// whose fields changed since (migration sync, listed in `report.resynced`).
fn start_cursors(
    db: &Database,
    entities: &[&'static EntityDescriptor],
    report: &mut SyncReport,
) -> Result<BTreeMap<String, Option<Cursor>>> {
    let stored = db.with_reader(cursor::stored)?;
    let mut cursors = BTreeMap::new();
    for entity in entities {
        let cursor = match stored.get(entity.name) {
            Some(s) if s.fields.as_deref() == Some(field_list(entity).as_str()) => {
                s.cursor.clone().map(Cursor)
            }
            Some(s) if s.cursor.is_some() => {
                report.resynced.push(entity.name.to_owned());
                None
            }
            _ => None,
        };
        cursors.insert(entity.name.to_owned(), cursor);
    }
    Ok(cursors)
}

/// Pulls until the server says `has_more: false`.
pub(crate) fn pull_all(
    db: &Database,
    transport: &dyn Transport,
    limit: u32,
    report: &mut SyncReport,
) -> Result<()> {
    let entities = db.registered();
    if entities.is_empty() {
        return Ok(());
    }
    let mut cursors = start_cursors(db, &entities, report)?;
    let mut restarted = Vec::new();
    loop {
        let request = PullRequest::new(db.schema_version, cursors.clone(), limit);
        report.pull_requests += 1;
        let page = match transport.pull(&request) {
            Ok(page) => page,
            // A cursor this server did not issue: pull that entity from the start, once.
            Err(TransportError::Refused {
                error: ProtocolError::InvalidCursor { entity, .. },
                ..
            }) if !restarted.contains(&entity) && cursors.contains_key(&entity) => {
                cursors.insert(entity.clone(), None);
                restarted.push(entity);
                continue;
            }
            Err(source) => return Err(Error::SyncStopped { source }),
        };
        let resynced = report.resynced.clone();
        apply_page(db, &entities, &page, &resynced, report)?;
        for (entity, cursor) in &page.cursors {
            cursors.insert(entity.clone(), Some(cursor.clone()));
        }
        if !page.has_more {
            return Ok(());
        }
    }
}

/// Applies one page and stores its cursors, in one transaction.
fn apply_page(
    db: &Database,
    entities: &[&'static EntityDescriptor],
    page: &PullResponse,
    resynced: &[String],
    report: &mut SyncReport,
) -> Result<()> {
    let now_ms = to_millis(db.clock.now());
    let mut conflicts = Vec::new();
    let applied = db.with_writer(|tx| {
        let mut applied = 0;
        for remote in &page.changes {
            let Some(entity) = entities.iter().find(|e| e.name == remote.entity) else {
                continue;
            };
            let resync = resynced.iter().any(|e| e == entity.name);
            match apply_one(db, tx, entity, remote, resync, now_ms)? {
                Applied::No => {}
                Applied::Yes => applied += 1,
                Applied::Conflict(conflict) => {
                    applied += 1;
                    conflicts.extend(conflict);
                }
            }
        }
        for (name, cursor) in &page.cursors {
            if let Some(entity) = entities.iter().find(|e| e.name == *name) {
                cursor::store_in(tx, name, &cursor.0, &field_list(entity), now_ms)?;
            }
        }
        Ok(applied)
    })?;
    report.pulled += applied;
    report.conflicts.extend(conflicts);
    Ok(())
}

/// What became of one pulled record.
enum Applied {
    /// Nothing: the version was already here.
    No,
    /// Written as the server has it.
    Yes,
    /// Resolved as a conflict (`None`: it turned out to be none).
    Conflict(Option<ConflictReport>),
}

/// Applies one pulled record: a version older than the known one is a no-op, and so is the
/// same version (except in a migration sync, `resync`, which brings the new fields of records
/// already here); a record with unsynced local changes (or waiting in manual conflict) is a
/// conflict; anything else is written as the server has it.
fn apply_one(
    db: &Database,
    tx: &rusqlite::Transaction<'_>,
    entity: &'static EntityDescriptor,
    remote: &RemoteRecord,
    resync: bool,
    now_ms: i64,
) -> Result<Applied> {
    let known = local::known(tx, remote.id)?;
    let id = remote.id.hyphenated().to_string();
    let open = queue::open_entries_of(db, tx, entity.name, &id)?;
    let in_conflict = local::in_conflict(tx, entity, remote.id)?;
    let settled = open.is_empty() && !in_conflict;
    match known {
        Some(v) if v > remote.server_version => return Ok(Applied::No),
        Some(v) if v == remote.server_version && !(resync && settled) => return Ok(Applied::No),
        _ => {}
    }
    if settled {
        local::write_remote(tx, entity, remote, now_ms)?;
        return Ok(Applied::Yes);
    }
    conflict::resolve(db, tx, entity, remote, FoundBy::Pull, now_ms).map(Applied::Conflict)
}
