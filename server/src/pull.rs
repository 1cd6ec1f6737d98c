//! Answering a pull: one page of the user's changes after the client's cursors.
//!
//! Records come in the order of their *position*: a record the client has never seen at its
//! create, one it has seen at its latest change ([`StoredRecord::position`]). A parent is
//! created before its child, so whenever the child is new to the client the parent is either
//! already there or comes first, on an earlier page or earlier on the same page, even when the
//! parent changed again after the child was created, and across entities with different
//! cursors.
//!
//! A pull that needs several pages is a *catch-up*: its cursors remember the positions already
//! delivered and the user's latest sequence number when it started (the snapshot). When the
//! last page is delivered the cursors jump to the snapshot, so a record that changed during the
//! catch-up is delivered again by the next page, never skipped; that page is announced by
//! `has_more`, which is false only once the client is caught up with the user's latest change.

use std::collections::BTreeMap;

use syncwright::sync::protocol::{PROTOCOL_VERSION, ProtocolError, PullRequest, PullResponse};

use crate::cursor::{CatchUp, CursorCodec, Position};
use crate::project::project;
use crate::storage::Scan;
use crate::{Server, ServerError};

pub(crate) fn pull(
    server: &Server,
    user: &str,
    request: &PullRequest,
) -> Result<PullResponse, ServerError> {
    let client = server.client_schema(request.protocol_version, request.schema_version)?;
    if request.limit == 0 {
        return Err(invalid("`limit` must be at least 1").into());
    }
    if request.cursors.is_empty() {
        return Err(invalid("`cursors` names no entity; name every entity to pull").into());
    }
    let codec = |entity| CursorCodec {
        secret: server.storage.secret(),
        user,
        entity,
    };
    let mut positions = BTreeMap::new();
    for (entity, cursor) in &request.cursors {
        if client.entity(entity).is_none() {
            return Err(invalid(&format!(
                "unknown entity `{entity}` in schema version {}",
                client.version
            ))
            .into());
        }
        let position = match cursor {
            None => Position::START,
            Some(cursor) => {
                codec(entity)
                    .decode(cursor)
                    .map_err(|reason| ProtocolError::InvalidCursor {
                        entity: entity.clone(),
                        reason,
                    })?
            }
        };
        positions.insert(entity.as_str(), position);
    }
    let limit = request.limit.min(server.limits.max_pull_limit) as usize;
    let scans: Vec<Scan> = positions
        .iter()
        .map(|(entity, p)| Scan {
            entity: (*entity).to_owned(),
            since: p.since,
            after: p.after(),
        })
        .collect();
    // One more than a page: whether it exists says `has_more`.
    let page = server.storage.read(user, &scans, limit + 1)?;
    let mut records: Vec<_> = page
        .records
        .into_iter()
        .map(|r| (r.position(positions[r.entity.as_str()].since), r))
        .collect();
    records.sort_by_key(|(position, _)| *position);
    let more_records = records.len() > limit;
    records.truncate(limit);
    // A catch-up that ends behind the user's latest change leaves the changes made during it
    // to the next page: `has_more = false` always means "caught up with the server".
    let catch_up_behind = positions
        .values()
        .any(|p| p.catch_up.is_some_and(|c| c.snapshot < page.latest_seq));
    let has_more = more_records || catch_up_behind;
    let last_position = records.last().map_or(0, |(position, _)| *position);
    let cursors = positions
        .iter()
        .map(|(entity, p)| {
            let snapshot = p.catch_up.map_or(page.latest_seq, |c| c.snapshot);
            let next = if more_records {
                Position {
                    since: p.since,
                    catch_up: Some(CatchUp {
                        after: p.after().max(last_position),
                        snapshot,
                    }),
                }
            } else {
                Position {
                    since: snapshot,
                    catch_up: None,
                }
            };
            ((*entity).to_owned(), codec(entity).encode(next))
        })
        .collect();
    Ok(PullResponse {
        protocol_version: PROTOCOL_VERSION,
        changes: records.iter().map(|(_, r)| project(r, client)).collect(),
        cursors,
        has_more,
    })
}

fn invalid(reason: &str) -> ProtocolError {
    ProtocolError::InvalidRequest {
        reason: reason.to_owned(),
    }
}
