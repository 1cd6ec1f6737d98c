//! Applying a push: check the whole batch, then apply each mutation and store its answer in
//! one transaction.

use std::collections::HashSet;

use serde_json::Value as Json;
use syncwright::sync::protocol::{
    Action, InvalidMutation, Mutation, MutationResult, Outcome, PROTOCOL_VERSION, ProtocolError,
    PushRequest, PushResponse,
};
use uuid::Uuid;

use crate::catalog::SchemaVersion;
use crate::project::project;
use crate::storage::{StorageError, StoredRecord, WriteTx};
use crate::validate::check_mutation;
use crate::{Server, ServerError};

pub(crate) fn push(
    server: &Server,
    user: &str,
    request: &PushRequest,
) -> Result<PushResponse, ServerError> {
    let client = server.client_schema(request.protocol_version, request.schema_version)?;
    check_batch(server, request)?;
    // The server's newest model: a create from an older client gets the newer fields' defaults.
    let latest = server.catalog.latest().unwrap_or(client);
    let mut results = Vec::with_capacity(request.mutations.len());
    server.storage.write(user, &mut |tx| {
        // The backend may run this again after a transient failure: start from scratch.
        results.clear();
        for mutation in &request.mutations {
            let key = mutation.idempotency_key;
            let outcome = match tx.answer(key)? {
                Some(first) => first,
                None => {
                    let outcome = apply(tx, mutation, client, latest, server)?;
                    tx.put_answer(key, &outcome)?;
                    outcome
                }
            };
            results.push(MutationResult {
                idempotency_key: key,
                outcome,
            });
        }
        Ok(())
    })?;
    Ok(PushResponse {
        protocol_version: PROTOCOL_VERSION,
        results,
    })
}

/// Refuses the whole batch when it is too large, repeats a key, or holds a mutation that does
/// not match the entity model: nothing of a refused batch is applied.
fn check_batch(server: &Server, request: &PushRequest) -> Result<(), ProtocolError> {
    let max = server.limits.max_push_batch;
    if request.mutations.len() > max {
        return Err(ProtocolError::InvalidRequest {
            reason: format!(
                "the batch holds {} mutations, more than this server's limit of {max}; send \
                 smaller batches",
                request.mutations.len()
            ),
        });
    }
    let mut keys = HashSet::new();
    if let Some(repeated) = request
        .mutations
        .iter()
        .find(|m| !keys.insert(m.idempotency_key))
    {
        return Err(ProtocolError::InvalidRequest {
            reason: format!(
                "idempotency key {} appears twice in the batch; every mutation needs its own key",
                repeated.idempotency_key
            ),
        });
    }
    let rejected: Vec<InvalidMutation> = request
        .mutations
        .iter()
        .filter_map(|m| {
            let problems = check_mutation(&server.catalog, request.schema_version, m);
            (!problems.is_empty()).then(|| InvalidMutation {
                idempotency_key: m.idempotency_key,
                reason: format!(
                    "{} {} {}: {}",
                    action_name(m.action),
                    m.entity,
                    m.id,
                    problems.join("; ")
                ),
            })
        })
        .collect();
    if rejected.is_empty() {
        Ok(())
    } else {
        Err(ProtocolError::InvalidMutations { rejected })
    }
}

fn action_name(action: Action) -> &'static str {
    match action {
        Action::Create => "create",
        Action::Update => "update",
        Action::Delete => "delete",
    }
}

/// Applies one valid mutation whose key has no answer yet, and returns its answer.
fn apply(
    tx: &mut dyn WriteTx,
    mutation: &Mutation,
    client: &SchemaVersion,
    latest: &SchemaVersion,
    server: &Server,
) -> Result<Outcome, StorageError> {
    let current = tx.record(&mutation.entity, mutation.id)?;
    let written = server
        .catalog
        .version(mutation.schema_version)
        .expect("check_batch accepted the mutation's schema version");
    match (mutation.action, current) {
        // A create of an id that exists is idempotent only by its key: under a new key it is a
        // conflict with what the server has.
        (_, Some(current)) if Some(current.version) != mutation.base_version => {
            Ok(Outcome::Conflict {
                current: project(&current, client),
            })
        }
        (Action::Create, None) => {
            if let Some(reason) = missing_reference(tx, mutation, written)? {
                return Ok(Outcome::Rejected { reason });
            }
            let seq = tx.next_seq()?;
            let record = StoredRecord {
                entity: mutation.entity.clone(),
                id: mutation.id,
                server_id: Uuid::new_v4().to_string(),
                version: 1,
                schema_version: mutation.schema_version,
                deleted: false,
                created_at: mutation.updated_at,
                updated_at: mutation.updated_at,
                fields: create_fields(mutation, written, latest),
                field_timestamps: mutation.field_timestamps.clone(),
                created_seq: seq,
                seq,
            };
            tx.put_record(&record)?;
            Ok(accepted(&record))
        }
        (_, None) => Ok(Outcome::Rejected {
            reason: format!(
                "{} {} does not exist on the server; push its create first",
                mutation.entity, mutation.id
            ),
        }),
        (Action::Update, Some(current)) if current.deleted => Ok(Outcome::Conflict {
            current: project(&current, client),
        }),
        (Action::Delete, Some(current)) if current.deleted => Ok(accepted(&current)),
        (action, Some(mut record)) => {
            if let Some(reason) = missing_reference(tx, mutation, written)? {
                return Ok(Outcome::Rejected { reason });
            }
            // Only the fields sent change: fields the client's version does not know keep their
            // server values.
            record.fields.extend(mutation.fields.clone());
            record
                .field_timestamps
                .extend(mutation.field_timestamps.clone());
            record.deleted = action == Action::Delete;
            record.version += 1;
            record.schema_version = mutation.schema_version;
            record.updated_at = mutation.updated_at;
            record.seq = tx.next_seq()?;
            tx.put_record(&record)?;
            Ok(accepted(&record))
        }
    }
}

fn accepted(record: &StoredRecord) -> Outcome {
    Outcome::Accepted {
        server_version: record.version,
        server_id: record.server_id.clone(),
    }
}

/// A create's fields: what it sent, then every field it did not send at its default (first of
/// the version it was written under, then of the server's newest version).
fn create_fields(
    mutation: &Mutation,
    written: &SchemaVersion,
    latest: &SchemaVersion,
) -> serde_json::Map<String, Json> {
    let mut fields = mutation.fields.clone();
    for version in [written, latest] {
        for field in version
            .entity(&mutation.entity)
            .map_or(&[][..], |e| &e.fields[..])
        {
            if !fields.contains_key(&field.name)
                && let Some(value) = field.fill_value()
            {
                fields.insert(field.name.clone(), value);
            }
        }
    }
    fields
}

/// The reason to reject a mutation whose reference field names a record the user does not
/// have on the server (a tombstone counts as present): a child never reaches the server before
/// its parent.
fn missing_reference(
    tx: &mut dyn WriteTx,
    mutation: &Mutation,
    written: &SchemaVersion,
) -> Result<Option<String>, StorageError> {
    let Some(entity) = written.entity(&mutation.entity) else {
        return Ok(None);
    };
    for field in &entity.fields {
        let (Some(parent), Some(Json::String(value))) =
            (&field.references, mutation.fields.get(&field.name))
        else {
            continue;
        };
        let Ok(parent_id) = Uuid::parse_str(value) else {
            continue;
        };
        if tx.record(parent, parent_id)?.is_none() {
            return Ok(Some(format!(
                "`{}.{}` references {parent} {parent_id}, which does not exist on the server; \
                 push the {parent}'s create first",
                mutation.entity, field.name
            )));
        }
    }
    Ok(None)
}
