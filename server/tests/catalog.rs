//! The catalog built from a real project's frozen history, and a server validating against it.

use serde_json::json;
use syncwright::Uuid;
use syncwright::sync::protocol::{Mutation, Outcome, ProtocolError, PushRequest};
use syncwright_server::catalog::{Catalog, FieldType};
use syncwright_server::storage::SqliteStorage;
use syncwright_server::{Server, ServerError};

const FIELD_SERVICE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../fixtures/field-service/syncwright.toml"
);

#[test]
fn every_released_version_of_the_fixture_becomes_a_catalog_version() {
    let catalog = Catalog::from_project(FIELD_SERVICE).unwrap();
    assert_eq!(catalog.latest_version(), Some(5));
    let v1 = catalog.version(1).unwrap();
    assert_eq!(v1.entities.keys().collect::<Vec<_>>(), ["project", "task"]);
    let v5 = catalog.version(5).unwrap();
    assert_eq!(
        v5.entities.keys().collect::<Vec<_>>(),
        ["comment", "inspection", "photo", "project", "task"]
    );

    let task = v5.entity("task").unwrap();
    let project_id = task.field("project_id").unwrap();
    assert_eq!(
        (project_id.ty, project_id.references.as_deref()),
        (FieldType::Uuid, Some("project")),
        "table name mapped to entity name"
    );
    assert_eq!(task.field("done").unwrap().default, Some(json!(false)));
    assert!(task.field("title").unwrap().is_required());
    assert!(
        task.field("created_at").is_none(),
        "sync columns are not fields"
    );
    let inspection = v5.entity("inspection").unwrap();
    assert_eq!(
        inspection.field("checklist").unwrap().default,
        Some(json!([]))
    );
    assert!(
        v1.entity("project").unwrap().field("description").is_some(),
        "dropped later, known to v1"
    );
    assert!(v5.entity("project").unwrap().field("description").is_none());
}

#[test]
fn a_missing_project_file_is_an_error_naming_it() {
    let error = Catalog::from_project("/nonexistent/syncwright.toml").unwrap_err();
    assert!(
        error.to_string().contains("/nonexistent/syncwright.toml"),
        "{error}"
    );
}

#[test]
fn a_server_over_the_fixture_accepts_a_v1_task_and_refuses_a_v5_field_from_v1() {
    let server = Server::new(
        Catalog::from_project(FIELD_SERVICE).unwrap(),
        SqliteStorage::in_memory().unwrap(),
    );
    let project = Uuid::new_v4();
    let fields = |v: serde_json::Value| v.as_object().unwrap().clone();
    let ok = PushRequest::new(
        1,
        vec![
            Mutation::create(
                Uuid::new_v4(),
                "project",
                project,
                1,
                0,
                fields(json!({ "name": "Bridge" })),
            ),
            Mutation::create(
                Uuid::new_v4(),
                "task",
                Uuid::new_v4(),
                1,
                0,
                fields(json!({ "title": "t", "project_id": project })),
            ),
        ],
    );
    let answer = server.handle_push("ana", &ok).unwrap();
    assert!(
        answer
            .results
            .iter()
            .all(|r| matches!(r.outcome, Outcome::Accepted { .. })),
        "{answer:?}"
    );

    let bad = PushRequest::new(
        1,
        vec![Mutation::create(
            Uuid::new_v4(),
            "task",
            Uuid::new_v4(),
            1,
            0,
            fields(json!({ "title": "t", "project_id": project, "priority": 3 })),
        )],
    );
    match server.handle_push("ana", &bad) {
        Err(ServerError::Refused(ProtocolError::InvalidMutations { rejected })) => assert!(
            rejected[0]
                .reason
                .contains("`task.priority`: no such field in schema version 1"),
            "{}",
            rejected[0].reason
        ),
        other => panic!("expected a refusal, got {other:?}"),
    }
}
