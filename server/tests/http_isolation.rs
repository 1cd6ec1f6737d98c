//! Who may see what, over HTTP: bob can neither pull, overwrite nor delete ana's records, and
//! every answer he gets is the one he would get for an id that does not exist.

#[macro_use]
mod backends;

use backends::Backend;
mod common;
mod http_support;

use http_support::*;
use serde_json::json;
use syncwright::Uuid;
use syncwright::sync::protocol::{Mutation, Outcome, PullRequest, PushRequest, RemoteRecord};
use syncwright::sync::transport::Transport;

const ENTITIES: [&str; 3] = ["project", "task", "comment"];

struct AnasData {
    project: Uuid,
    task: Uuid,
    before: Vec<RemoteRecord>,
}

/// Ana's project and a task under it, and how she pulls them.
fn anas_data(server: &TestServer) -> AnasData {
    let project = Uuid::new_v4();
    let task = Uuid::new_v4();
    let push = PushRequest::new(
        1,
        vec![
            common::create("project", project, 1, json!({ "name": "Bridge" })),
            common::create(
                "task",
                task,
                1,
                json!({ "title": "Check bolts", "project_id": project }),
            ),
        ],
    );
    server.transport("ana").push(&push).unwrap();
    let before = pull_all(&server.transport("ana"), 2, &ENTITIES);
    assert_eq!(before.len(), 2);
    AnasData {
        project,
        task,
        before,
    }
}

fn assert_unchanged(server: &TestServer, ana: &AnasData) {
    assert_eq!(
        pull_all(&server.transport("ana"), 2, &ENTITIES),
        ana.before,
        "ana's records changed"
    );
}

/// Bob's push of one mutation: the status and the answer.
fn bobs_push(server: &TestServer, mutation: Mutation) -> Outcome {
    let answer = post_json(
        &server.url(),
        "/v1/push",
        "bob",
        &PushRequest::new(1, vec![mutation]),
    );
    assert_eq!(answer.status, 200, "{:?}", answer);
    let response: syncwright::sync::protocol::PushResponse =
        serde_json::from_value(answer.body).unwrap();
    response.results.into_iter().next().unwrap().outcome
}

/// The reason of a rejection, with the record id replaced, to compare answers for two ids.
fn rejection_without_id(outcome: Outcome, id: Uuid) -> String {
    match outcome {
        Outcome::Rejected { reason } => reason.replace(&id.to_string(), "<id>"),
        other => panic!("expected a rejection, got {other:?}"),
    }
}

fn bob_pulls_none_of_anas_records(backend: Backend) {
    let server = TestServer::start_on(backend);
    let ana = anas_data(&server);
    let answer = post_json(
        &server.url(),
        "/v1/pull",
        "bob",
        &PullRequest::new(
            2,
            ENTITIES.iter().map(|e| (e.to_string(), None)).collect(),
            100,
        ),
    );
    assert_eq!(answer.status, 200, "{:?}", answer);
    assert_eq!(answer.body["changes"], json!([]));
    assert_eq!(answer.body["has_more"], json!(false));
    // Ana's cursor is no way in either.
    let anas_page = server
        .transport("ana")
        .pull(&PullRequest::new(
            1,
            [("project".to_string(), None)].into(),
            1,
        ))
        .unwrap();
    let with_anas_cursor = PullRequest::new(
        1,
        [(
            "project".to_string(),
            Some(anas_page.cursors["project"].clone()),
        )]
        .into(),
        100,
    );
    let answer = post_json(&server.url(), "/v1/pull", "bob", &with_anas_cursor);
    assert_eq!(answer.status, 400, "{:?}", answer);
    assert_eq!(answer.code(), "invalid_cursor");
    assert_unchanged(&server, &ana);
}

fn bobs_update_of_anas_record_is_rejected_exactly_like_one_of_a_missing_record(backend: Backend) {
    let server = TestServer::start_on(backend);
    let ana = anas_data(&server);
    let missing = Uuid::new_v4();
    let on_anas = bobs_push(
        &server,
        common::update("project", ana.project, 1, 1, json!({ "name": "Mine now" })),
    );
    let on_missing = bobs_push(
        &server,
        common::update("project", missing, 1, 1, json!({ "name": "Mine now" })),
    );
    assert_eq!(
        rejection_without_id(on_anas, ana.project),
        rejection_without_id(on_missing, missing),
        "the answer tells ana's record from a missing one"
    );
    assert_unchanged(&server, &ana);
}

fn bobs_delete_of_anas_record_is_rejected_exactly_like_one_of_a_missing_record(backend: Backend) {
    let server = TestServer::start_on(backend);
    let ana = anas_data(&server);
    let missing = Uuid::new_v4();
    let on_anas = bobs_push(&server, common::delete("task", ana.task, 1, 1));
    let on_missing = bobs_push(&server, common::delete("task", missing, 1, 1));
    assert_eq!(
        rejection_without_id(on_anas, ana.task),
        rejection_without_id(on_missing, missing)
    );
    assert_unchanged(&server, &ana);
}

fn bobs_task_under_anas_project_is_rejected_exactly_like_one_under_a_missing_project(
    backend: Backend,
) {
    let server = TestServer::start_on(backend);
    let ana = anas_data(&server);
    let missing = Uuid::new_v4();
    let task = |project: Uuid| {
        common::create(
            "task",
            Uuid::new_v4(),
            1,
            json!({ "title": "Sneak in", "project_id": project }),
        )
    };
    let under_anas = bobs_push(&server, task(ana.project));
    let under_missing = bobs_push(&server, task(missing));
    assert_eq!(
        rejection_without_id(under_anas, ana.project),
        rejection_without_id(under_missing, missing)
    );
    assert_unchanged(&server, &ana);
}

fn bobs_create_with_anas_id_makes_his_own_record_and_leaves_hers_alone(backend: Backend) {
    let server = TestServer::start_on(backend);
    let ana = anas_data(&server);
    let outcome = bobs_push(
        &server,
        common::create("project", ana.project, 1, json!({ "name": "Bob's" })),
    );
    assert!(
        matches!(
            outcome,
            Outcome::Accepted {
                server_version: 1,
                ..
            }
        ),
        "a create answers as for any new id: {outcome:?}"
    );
    let bobs = pull_all(&server.transport("bob"), 2, &ENTITIES);
    assert_eq!(bobs.len(), 1);
    assert_eq!(bobs[0].fields["name"], json!("Bob's"));
    assert_unchanged(&server, &ana);
}

fn bob_replaying_anas_idempotency_key_does_not_get_her_answer(backend: Backend) {
    let server = TestServer::start_on(backend);
    let ana = anas_data(&server);
    let rename = common::update("project", ana.project, 1, 1, json!({ "name": "Quay" }));
    server
        .transport("ana")
        .push(&PushRequest::new(1, vec![rename.clone()]))
        .unwrap();
    let anas_after = pull_all(&server.transport("ana"), 2, &ENTITIES);
    let outcome = bobs_push(&server, rename);
    assert!(
        matches!(outcome, Outcome::Rejected { .. }),
        "bob got ana's answer: {outcome:?}"
    );
    assert_eq!(pull_all(&server.transport("ana"), 2, &ENTITIES), anas_after);
}

on_both_backends!(
    bob_pulls_none_of_anas_records,
    bobs_update_of_anas_record_is_rejected_exactly_like_one_of_a_missing_record,
    bobs_delete_of_anas_record_is_rejected_exactly_like_one_of_a_missing_record,
    bobs_task_under_anas_project_is_rejected_exactly_like_one_under_a_missing_project,
    bobs_create_with_anas_id_makes_his_own_record_and_leaves_hers_alone,
    bob_replaying_anas_idempotency_key_does_not_get_her_answer,
);
