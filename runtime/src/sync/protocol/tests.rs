//! JSON round trips of every message, and its shape pinned by snapshots (the shapes
//! `docs/protocol.md` documents).

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::json;

use super::*;

const PROJECT: &str = "3f2b8e7a-1c4d-4e5f-9a6b-7c8d9e0f1a2b";
const TASK: &str = "b7e1c2d3-4f5a-4b6c-8d7e-9f0a1b2c3d4e";
const KEY_1: &str = "9a1b2c3d-4e5f-4a6b-8c7d-0e1f2a3b4c5d";
const KEY_2: &str = "0c9d8e7f-6a5b-4c3d-9e2f-1a0b9c8d7e6f";
const KEY_3: &str = "5e4d3c2b-1a0f-4e9d-8c7b-6a5f4e3d2c1b";

fn uuid(s: &str) -> Uuid {
    Uuid::parse_str(s).unwrap()
}

fn fields(value: Json) -> Fields {
    value.as_object().unwrap().clone()
}

/// Serializes, parses back, checks equality, and returns the pretty JSON.
fn round_trip<T: Serialize + DeserializeOwned + PartialEq + fmt::Debug>(message: &T) -> String {
    let json = serde_json::to_string_pretty(message).unwrap();
    let back: T =
        serde_json::from_str(&json).unwrap_or_else(|e| panic!("{json}\ndoes not parse back: {e}"));
    assert_eq!(&back, message, "the round trip changed the message");
    json
}

fn project_record() -> RemoteRecord {
    RemoteRecord {
        entity: "project".into(),
        id: uuid(PROJECT),
        server_id: "7d0f7c7e-5a55-4a51-a4a4-1d2cf5b0e001".into(),
        server_version: 3,
        schema_version: 5,
        deleted: false,
        created_at: 1_764_000_000_000,
        updated_at: 1_764_000_900_000,
        fields: fields(
            json!({ "name": "Harbour bridge", "archived": false, "slug": "harbour-bridge" }),
        ),
        field_timestamps: FieldTimestamps::new(),
    }
}

fn task_record() -> RemoteRecord {
    RemoteRecord {
        entity: "task".into(),
        id: uuid(TASK),
        server_id: "7d0f7c7e-5a55-4a51-a4a4-1d2cf5b0e002".into(),
        server_version: 2,
        schema_version: 4,
        deleted: false,
        created_at: 1_764_000_100_000,
        updated_at: 1_764_000_200_000,
        fields: fields(
            json!({ "title": "Check bolts", "project_id": PROJECT, "due_on": null, "done": true }),
        ),
        field_timestamps: [("done".to_string(), 1_764_000_200_000)].into(),
    }
}

#[test]
fn pull_request_round_trips_with_a_null_cursor_for_a_new_entity() {
    let request = PullRequest::new(
        5,
        [
            (
                "project".to_string(),
                Some(Cursor("41.6c1f0e2a9b3d4c5e".into())),
            ),
            ("photo".to_string(), None),
        ]
        .into(),
        500,
    );
    insta::assert_snapshot!(round_trip(&request));
}

#[test]
fn pull_response_round_trips_with_records_and_a_tombstone() {
    // Another task, deleted: a tombstone keeps its last fields.
    let mut tombstone = task_record();
    tombstone.id = uuid("e2d1c0b9-a8f7-4e6d-9c5b-4a3f2e1d0c9b");
    tombstone.server_id = "7d0f7c7e-5a55-4a51-a4a4-1d2cf5b0e003".into();
    tombstone.fields["title"] = json!("Paint railings");
    tombstone.field_timestamps.clear();
    tombstone.deleted = true;
    tombstone.server_version = 3;
    let response = PullResponse {
        protocol_version: PROTOCOL_VERSION,
        changes: vec![project_record(), task_record(), tombstone],
        cursors: [
            (
                "project".to_string(),
                Cursor("0-2-44.0b1c2d3e4f5a6b7c".into()),
            ),
            ("task".to_string(), Cursor("0-2-44.8e9fa0b1c2d3e4f5".into())),
        ]
        .into(),
        has_more: true,
    };
    insta::assert_snapshot!(round_trip(&response));
}

#[test]
fn push_request_round_trips_every_action() {
    let request = PushRequest::new(
        5,
        vec![
            Mutation::create(
                uuid(KEY_1),
                "project",
                uuid(PROJECT),
                5,
                1_764_000_000_000,
                fields(json!({ "name": "Harbour bridge", "archived": false, "slug": null })),
            ),
            Mutation {
                field_timestamps: [("done".to_string(), 1_764_000_200_000)].into(),
                ..Mutation::update(
                    uuid(KEY_2),
                    "task",
                    uuid(TASK),
                    1,
                    4,
                    1_764_000_200_000,
                    fields(json!({ "done": true })),
                )
            },
            Mutation::delete(uuid(KEY_3), "task", uuid(TASK), 2, 5, 1_764_000_300_000),
        ],
    );
    insta::assert_snapshot!(round_trip(&request));
}

#[test]
fn push_response_round_trips_each_outcome() {
    let response = PushResponse {
        protocol_version: PROTOCOL_VERSION,
        results: vec![
            MutationResult {
                idempotency_key: uuid(KEY_1),
                outcome: Outcome::Accepted {
                    server_version: 1,
                    server_id: "7d0f7c7e-5a55-4a51-a4a4-1d2cf5b0e001".into(),
                },
            },
            MutationResult {
                idempotency_key: uuid(KEY_2),
                outcome: Outcome::Conflict {
                    current: task_record(),
                },
            },
            MutationResult {
                idempotency_key: uuid(KEY_3),
                outcome: Outcome::Rejected {
                    reason: format!("task {TASK} does not exist on the server"),
                },
            },
        ],
    };
    insta::assert_snapshot!(round_trip(&response));
}

#[test]
fn every_protocol_error_round_trips_with_its_message() {
    let errors = vec![
        ProtocolError::UnsupportedProtocol {
            requested: 2,
            supported: vec![1],
        },
        ProtocolError::SchemaTooNew {
            client_schema_version: 6,
            server_schema_version: 5,
        },
        ProtocolError::UnknownSchemaVersion { schema_version: 0 },
        ProtocolError::InvalidCursor {
            entity: "task".into(),
            reason: "the check tag of `41.6c1f0e2a9b3d4c5f` does not match (a cursor of another \
                     server, user or entity, or an edited one)"
                .into(),
        },
        ProtocolError::InvalidMutations {
            rejected: vec![InvalidMutation {
                idempotency_key: uuid(KEY_2),
                reason: format!("update task {TASK}: `task.title`: expected text, got 42"),
            }],
        },
        ProtocolError::InvalidRequest {
            reason:
                "idempotency key 9a1b2c3d-4e5f-4a6b-8c7d-0e1f2a3b4c5d appears twice in the batch"
                    .into(),
        },
        ProtocolError::Unauthorized {
            reason: "the token is not in the server's tokens file; send `Authorization: Bearer \
                     <token>` with a token the server knows"
                .into(),
        },
    ];
    let bodies: Vec<ErrorResponse> = errors.into_iter().map(ErrorResponse::from).collect();
    let json: Vec<String> = bodies.iter().map(round_trip).collect();
    insta::assert_snapshot!(json.join("\n"));
}

#[test]
fn optional_members_may_be_omitted_by_other_implementations() {
    // A client in another language may leave out `fields` of a delete and
    // `field_timestamps` everywhere.
    let mutation: Mutation = serde_json::from_value(json!({
        "idempotency_key": KEY_3, "entity": "task", "action": "delete", "id": TASK,
        "base_version": 2, "schema_version": 5, "updated_at": 1
    }))
    .unwrap();
    assert!(mutation.fields.is_empty() && mutation.field_timestamps.is_empty());
}

#[test]
fn an_unknown_action_does_not_parse() {
    let error = serde_json::from_value::<Mutation>(json!({
        "idempotency_key": KEY_3, "entity": "task", "action": "upsert", "id": TASK,
        "base_version": null, "schema_version": 5, "updated_at": 1
    }))
    .unwrap_err();
    assert!(
        error.to_string().contains("unknown variant `upsert`"),
        "{error}"
    );
}
