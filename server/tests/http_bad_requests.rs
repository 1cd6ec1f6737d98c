//! Every bad request over HTTP: its status, the protocol's JSON error naming the problem, and
//! that nothing of it was applied (a pull afterwards finds only what was there before).

#[macro_use]
mod backends;
mod common;
mod http_support;

use std::sync::Arc;

use http_support::*;
use serde_json::json;
use syncwright::Uuid;
use syncwright::sync::protocol::{
    Cursor, Mutation, ProtocolError, PullRequest, PushRequest, RemoteRecord,
};
use syncwright::sync::transport::{Transport, TransportError};
use syncwright_server::http::HttpConfig;
use syncwright_server::storage::SqliteStorage;
use syncwright_server::{Limits, Server};

const ENTITIES: [&str; 3] = ["project", "task", "comment"];

/// A server where ana has one project; returns it and the project's id.
fn server_with_one_project(server: TestServer) -> (TestServer, Uuid) {
    let id = Uuid::new_v4();
    let push = PushRequest::new(
        1,
        vec![common::create(
            "project",
            id,
            1,
            json!({ "name": "Bridge" }),
        )],
    );
    server.transport("ana").push(&push).expect("the seed push");
    (server, id)
}

/// Asserts ana still has exactly the seed project, unchanged.
fn assert_nothing_applied(server: &TestServer, seed: Uuid) {
    let records: Vec<RemoteRecord> = pull_all(&server.transport("ana"), 2, &ENTITIES);
    assert_eq!(
        records.len(),
        1,
        "the refused request applied something: {records:#?}"
    );
    assert_eq!(records[0].id, seed);
    assert_eq!(records[0].server_version, 1, "the seed project was changed");
    assert_eq!(records[0].fields["name"], json!("Bridge"));
}

fn valid_create() -> Mutation {
    common::create("project", Uuid::new_v4(), 1, json!({ "name": "Quay" }))
}

#[test]
fn malformed_json_is_400_naming_the_parse_error_and_applies_nothing() {
    let (server, seed) = server_with_one_project(TestServer::start());
    let answer = post_raw(
        &server.url(),
        "/v1/push",
        Some(&token_of("ana")),
        Some("application/json"),
        br#"{"protocol_version": 1, "schema_version": 1, "mutations": [{"#,
    );
    assert_eq!(answer.status, 400, "{:?}", answer);
    assert_eq!(answer.code(), "invalid_request");
    assert!(
        answer.message().contains("parse the request body as JSON"),
        "{}",
        answer.message()
    );
    assert_nothing_applied(&server, seed);
}

#[test]
fn a_body_over_the_size_limit_is_413_in_the_protocol_shape_and_applies_nothing() {
    let config = HttpConfig {
        body_limit: 4096,
        ..HttpConfig::default()
    };
    let (server, seed) = server_with_one_project(TestServer::start_with(&USERS, config));
    let push = PushRequest::new(1, (0..100).map(|_| valid_create()).collect());
    let answer = post_json(&server.url(), "/v1/push", "ana", &push);
    assert_eq!(answer.status, 413, "{:?}", answer);
    assert_eq!(answer.code(), "invalid_request");
    assert!(
        answer.message().contains("limit of 4096 bytes"),
        "{}",
        answer.message()
    );
    assert_nothing_applied(&server, seed);
}

#[test]
fn a_batch_over_the_mutation_limit_is_400_and_applies_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("server.db");
    let core =
        Server::new(common::catalog(), SqliteStorage::open(&db).unwrap()).with_limits(Limits {
            max_push_batch: 3,
            ..Limits::default()
        });
    let server = TestServer::serve(Arc::new(core), &USERS, HttpConfig::default(), dir, db);
    let (server, seed) = server_with_one_project(server);
    let push = PushRequest::new(1, (0..4).map(|_| valid_create()).collect());
    let answer = post_json(&server.url(), "/v1/push", "ana", &push);
    assert_eq!(answer.status, 400, "{:?}", answer);
    assert_eq!(answer.code(), "invalid_request");
    assert!(
        answer
            .message()
            .contains("holds 4 mutations, more than this server's limit of 3"),
        "{}",
        answer.message()
    );
    assert_nothing_applied(&server, seed);
}

#[test]
fn an_unknown_entity_refuses_the_whole_batch_with_422() {
    let (server, seed) = server_with_one_project(TestServer::start());
    let invoice = common::create("invoice", Uuid::new_v4(), 1, json!({ "total": 3 }));
    let push = PushRequest::new(1, vec![valid_create(), invoice.clone()]);
    let answer = post_json(&server.url(), "/v1/push", "ana", &push);
    assert_eq!(answer.status, 422, "{:?}", answer);
    assert_eq!(answer.code(), "invalid_mutations");
    let rejected = answer.body["error"]["rejected"].as_array().unwrap();
    assert_eq!(rejected.len(), 1, "only the bad mutation is listed");
    assert_eq!(
        rejected[0]["idempotency_key"],
        json!(invoice.idempotency_key)
    );
    assert!(answer.message().contains("invoice"), "{}", answer.message());
    assert_nothing_applied(&server, seed);
}

#[test]
fn fields_or_types_off_the_entity_refuse_the_whole_batch_with_422() {
    let (server, seed) = server_with_one_project(TestServer::start());
    let wrong_type = common::create("project", Uuid::new_v4(), 1, json!({ "name": 42 }));
    let unknown_field = common::create(
        "project",
        Uuid::new_v4(),
        1,
        json!({ "name": "Pier", "colour": "red" }),
    );
    let push = PushRequest::new(1, vec![valid_create(), wrong_type, unknown_field]);
    let answer = post_json(&server.url(), "/v1/push", "ana", &push);
    assert_eq!(answer.status, 422, "{:?}", answer);
    assert_eq!(answer.code(), "invalid_mutations");
    let message = answer.message();
    assert!(message.contains("2 mutation(s)"), "{message}");
    assert!(
        message.contains("`project.name`: expected text, got 42"),
        "{message}"
    );
    assert!(message.contains("colour"), "{message}");
    assert_nothing_applied(&server, seed);
}

#[test]
fn a_missing_protocol_version_is_a_4xx_naming_the_member() {
    let (server, seed) = server_with_one_project(TestServer::start());
    let mut push = serde_json::to_value(PushRequest::new(1, vec![valid_create()])).unwrap();
    push.as_object_mut().unwrap().remove("protocol_version");
    let answer = post_json(&server.url(), "/v1/push", "ana", &push);
    assert_eq!(answer.status, 422, "{:?}", answer);
    assert_eq!(answer.code(), "invalid_request");
    assert!(
        answer
            .message()
            .contains("missing field `protocol_version`"),
        "{}",
        answer.message()
    );
    assert_nothing_applied(&server, seed);
}

#[test]
fn an_unsupported_protocol_version_is_400_unsupported_protocol() {
    let (server, seed) = server_with_one_project(TestServer::start());
    let mut push = PushRequest::new(1, vec![valid_create()]);
    push.protocol_version = 2;
    let answer = post_json(&server.url(), "/v1/push", "ana", &push);
    assert_eq!(answer.status, 400, "{:?}", answer);
    assert_eq!(answer.code(), "unsupported_protocol");
    assert_eq!(answer.body["error"]["supported"], json!([1]));
    assert!(
        answer
            .message()
            .contains("protocol version 2 is not supported"),
        "{}",
        answer.message()
    );
    assert_nothing_applied(&server, seed);
}

#[test]
fn an_unknown_action_is_a_4xx_naming_it() {
    let (server, seed) = server_with_one_project(TestServer::start());
    let mut push = serde_json::to_value(PushRequest::new(
        1,
        vec![valid_create(), common::delete("project", seed, 1, 1)],
    ))
    .unwrap();
    push["mutations"][1]["action"] = json!("archive");
    let answer = post_json(&server.url(), "/v1/push", "ana", &push);
    assert_eq!(answer.status, 422, "{:?}", answer);
    assert_eq!(answer.code(), "invalid_request");
    assert!(
        answer.message().contains("unknown variant `archive`"),
        "{}",
        answer.message()
    );
    assert_nothing_applied(&server, seed);
}

#[test]
fn a_key_twice_in_one_batch_is_400_and_applies_nothing() {
    let (server, seed) = server_with_one_project(TestServer::start());
    let first = valid_create();
    let mut second = valid_create();
    second.idempotency_key = first.idempotency_key;
    let push = PushRequest::new(1, vec![first.clone(), second]);
    let answer = post_json(&server.url(), "/v1/push", "ana", &push);
    assert_eq!(answer.status, 400, "{:?}", answer);
    assert_eq!(answer.code(), "invalid_request");
    assert!(
        answer
            .message()
            .contains(&format!("{} appears twice", first.idempotency_key)),
        "{}",
        answer.message()
    );
    assert_nothing_applied(&server, seed);
}

#[test]
fn a_cursor_this_server_did_not_issue_is_400_invalid_cursor() {
    let (server, seed) = server_with_one_project(TestServer::start());
    let forged = PullRequest::new(
        1,
        [(
            "project".to_string(),
            Some(Cursor("1.0123456789abcdef".into())),
        )]
        .into(),
        10,
    );
    let answer = post_json(&server.url(), "/v1/pull", "ana", &forged);
    assert_eq!(answer.status, 400, "{:?}", answer);
    assert_eq!(answer.code(), "invalid_cursor");
    assert_eq!(answer.body["error"]["entity"], json!("project"));
    assert!(
        answer.message().contains("was not issued by this server"),
        "{}",
        answer.message()
    );
    // A cursor issued to bob is not ana's either.
    let bobs = server
        .transport("bob")
        .pull(&PullRequest::new(
            1,
            [("project".to_string(), None)].into(),
            10,
        ))
        .unwrap();
    let replayed = PullRequest::new(
        1,
        [("project".to_string(), Some(bobs.cursors["project"].clone()))].into(),
        10,
    );
    assert_eq!(
        post_json(&server.url(), "/v1/pull", "ana", &replayed).code(),
        "invalid_cursor"
    );
    assert_nothing_applied(&server, seed);
}

#[test]
fn a_wrong_content_type_is_415_in_the_protocol_shape() {
    let (server, seed) = server_with_one_project(TestServer::start());
    let body = serde_json::to_vec(&PushRequest::new(1, vec![valid_create()])).unwrap();
    let answer = post_raw(
        &server.url(),
        "/v1/push",
        Some(&token_of("ana")),
        Some("text/plain"),
        &body,
    );
    assert_eq!(answer.status, 415, "{:?}", answer);
    assert_eq!(answer.code(), "invalid_request");
    assert!(
        answer.message().contains("Content-Type: application/json"),
        "{}",
        answer.message()
    );
    assert_nothing_applied(&server, seed);
}

#[test]
fn an_unknown_endpoint_is_404_in_the_protocol_shape() {
    let server = TestServer::start();
    let answer = post_json(&server.url(), "/v2/push", "ana", &json!({}));
    assert_eq!(answer.status, 404, "{:?}", answer);
    assert_eq!(answer.code(), "invalid_request");
    assert!(
        answer.message().contains("POST /v1/push"),
        "{}",
        answer.message()
    );
}

#[test]
fn the_http_transport_turns_a_refusal_into_refused_with_the_servers_error() {
    let (server, seed) = server_with_one_project(TestServer::start());
    let first = valid_create();
    let mut second = valid_create();
    second.idempotency_key = first.idempotency_key;
    let error = server
        .transport("ana")
        .push(&PushRequest::new(1, vec![first, second]))
        .unwrap_err();
    match error {
        TransportError::Refused {
            status: Some(400),
            error: ProtocolError::InvalidRequest { reason },
        } => assert!(reason.contains("appears twice"), "{reason}"),
        other => panic!("expected a 400 refusal, got {other:?}"),
    }
    assert_nothing_applied(&server, seed);
}
