//! A two-version app, a server over it, and shorthands for requests.
#![allow(dead_code)] // each test file uses its own share

use std::collections::BTreeMap;

use serde_json::{Value as Json, json};
use syncwright::Uuid;
use syncwright::sync::protocol::{
    Cursor, Fields, Mutation, Outcome, PullRequest, PullResponse, PushRequest, RemoteRecord,
};
use syncwright_server::catalog::{Catalog, EntitySchema, FieldSchema, FieldType, SchemaVersion};
use syncwright_server::storage::SqliteStorage;
use syncwright_server::{Server, ServerError};

/// Version 1: projects and their tasks. Version 2 adds `project.budget` (default 0),
/// `task.priority` (nullable) and a `comment` entity under tasks.
pub fn catalog() -> Catalog {
    let project_v1 = EntitySchema::new("project")
        .with_field(FieldSchema::new("name", FieldType::Text))
        .with_field(FieldSchema::new("archived", FieldType::Bool).with_default(json!(false)));
    let task_v1 = EntitySchema::new("task")
        .with_field(FieldSchema::new("title", FieldType::Text))
        .with_field(FieldSchema::new("project_id", FieldType::Uuid).references("project"))
        .with_field(FieldSchema::new("done", FieldType::Bool).with_default(json!(false)))
        .with_field(FieldSchema::new("due_on", FieldType::Timestamp).nullable());
    let v1 = SchemaVersion::new(1)
        .with_entity(project_v1.clone())
        .with_entity(task_v1.clone());
    let v2 = SchemaVersion::new(2)
        .with_entity(
            project_v1
                .with_field(FieldSchema::new("budget", FieldType::Integer).with_default(json!(0))),
        )
        .with_entity(
            task_v1.with_field(FieldSchema::new("priority", FieldType::Integer).nullable()),
        )
        .with_entity(
            EntitySchema::new("comment")
                .with_field(FieldSchema::new("task_id", FieldType::Uuid).references("task"))
                .with_field(FieldSchema::new("body", FieldType::Text)),
        );
    Catalog::new().with_version(v1).with_version(v2)
}

/// A server over [`catalog`] with its state in memory.
pub fn server() -> Server {
    Server::new(catalog(), SqliteStorage::in_memory().unwrap())
}

/// A server over [`catalog`] with its state in a fresh `backend` database.
pub fn server_on(backend: crate::backends::Backend) -> Server {
    Server::new(catalog(), backend.storage())
}

pub fn fields(value: Json) -> Fields {
    value.as_object().expect("fields are a JSON object").clone()
}

pub fn create(entity: &str, id: Uuid, schema_version: u32, value: Json) -> Mutation {
    Mutation::create(
        Uuid::new_v4(),
        entity,
        id,
        schema_version,
        1_000,
        fields(value),
    )
}

pub fn update(entity: &str, id: Uuid, base: u64, schema_version: u32, value: Json) -> Mutation {
    Mutation::update(
        Uuid::new_v4(),
        entity,
        id,
        base,
        schema_version,
        2_000,
        fields(value),
    )
}

pub fn delete(entity: &str, id: Uuid, base: u64, schema_version: u32) -> Mutation {
    Mutation::delete(Uuid::new_v4(), entity, id, base, schema_version, 3_000)
}

/// Pushes as `user` with the client at `schema_version`, expecting an answer.
pub fn push(
    server: &Server,
    user: &str,
    schema_version: u32,
    mutations: Vec<Mutation>,
) -> Vec<Outcome> {
    push_result(server, user, schema_version, mutations)
        .unwrap_or_else(|e| panic!("the push was refused: {e}"))
}

pub fn push_result(
    server: &Server,
    user: &str,
    schema_version: u32,
    mutations: Vec<Mutation>,
) -> Result<Vec<Outcome>, ServerError> {
    let request = PushRequest::new(schema_version, mutations);
    let response = server.handle_push(user, &request)?;
    assert_eq!(
        response.results.len(),
        request.mutations.len(),
        "one answer per mutation"
    );
    for (result, mutation) in response.results.iter().zip(&request.mutations) {
        assert_eq!(
            result.idempotency_key, mutation.idempotency_key,
            "answers in request order"
        );
    }
    Ok(response.results.into_iter().map(|r| r.outcome).collect())
}

pub fn assert_accepted(outcome: &Outcome) -> u64 {
    match outcome {
        Outcome::Accepted { server_version, .. } => *server_version,
        other => panic!("expected accepted, got {other:?}"),
    }
}

/// Creates a project as `user` and returns its id.
pub fn seed_project(server: &Server, user: &str, name: &str) -> Uuid {
    let id = Uuid::new_v4();
    let outcomes = push(
        server,
        user,
        1,
        vec![create("project", id, 1, json!({ "name": name }))],
    );
    assert_accepted(&outcomes[0]);
    id
}

/// Where a client stands: a cursor per entity.
pub type Cursors = BTreeMap<String, Option<Cursor>>;

pub fn start(entities: &[&str]) -> Cursors {
    entities.iter().map(|e| (e.to_string(), None)).collect()
}

pub fn pull_page(
    server: &Server,
    user: &str,
    schema_version: u32,
    cursors: &Cursors,
    limit: u32,
) -> Result<PullResponse, ServerError> {
    server.handle_pull(
        user,
        &PullRequest::new(schema_version, cursors.clone(), limit),
    )
}

/// Pulls until `has_more` is false, moving `cursors` along; returns every change and the
/// number of round trips.
pub fn pull_all(
    server: &Server,
    user: &str,
    schema_version: u32,
    cursors: &mut Cursors,
    limit: u32,
) -> (Vec<RemoteRecord>, usize) {
    let mut changes = Vec::new();
    for round_trips in 1.. {
        let page = pull_page(server, user, schema_version, cursors, limit)
            .unwrap_or_else(|e| panic!("the pull was refused: {e}"));
        assert!(
            page.changes.len() <= limit as usize,
            "a page holds at most `limit` records"
        );
        assert_eq!(
            page.cursors.keys().collect::<Vec<_>>(),
            cursors.keys().collect::<Vec<_>>(),
            "a cursor for every requested entity"
        );
        *cursors = page
            .cursors
            .into_iter()
            .map(|(e, c)| (e, Some(c)))
            .collect();
        changes.extend(page.changes);
        if !page.has_more {
            return (changes, round_trips);
        }
    }
    unreachable!()
}

/// The latest state of each record in `changes`, applied in order.
pub fn apply(changes: &[RemoteRecord]) -> BTreeMap<Uuid, RemoteRecord> {
    let mut state = BTreeMap::new();
    for change in changes {
        state.insert(change.id, change.clone());
    }
    state
}
