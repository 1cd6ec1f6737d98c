//! Pushes: idempotency, conflicts, validation, schema versions, isolation.

#[macro_use]
mod backends;
mod common;

use common::*;
use serde_json::json;
use syncwright::Uuid;
use syncwright::sync::protocol::{Outcome, ProtocolError};
use syncwright_server::ServerError;

fn refusal(result: Result<Vec<Outcome>, ServerError>) -> ProtocolError {
    match result {
        Err(ServerError::Refused(error)) => error,
        other => panic!("expected a refusal, got {other:?}"),
    }
}

/// Every record `user` has, as a v2 client pulls it.
fn records(
    server: &syncwright_server::Server,
    user: &str,
) -> Vec<syncwright::sync::protocol::RemoteRecord> {
    let mut cursors = start(&["project", "task", "comment"]);
    pull_all(server, user, 2, &mut cursors, 1000).0
}

#[test]
fn a_replayed_key_returns_the_first_answer_and_applies_nothing() {
    let server = server();
    let project = seed_project(&server, "ana", "Bridge");
    let rename = update(
        "project",
        project,
        1,
        1,
        json!({ "name": "Harbour bridge" }),
    );
    let first = push(&server, "ana", 1, vec![rename.clone()]);
    assert_eq!(assert_accepted(&first[0]), 2);

    // The response was lost; the client sends the same batch again, and once more later.
    assert_eq!(push(&server, "ana", 1, vec![rename.clone()]), first);
    assert_eq!(push(&server, "ana", 1, vec![rename]), first);

    let all = records(&server, "ana");
    assert_eq!(all.len(), 1);
    assert_eq!(all[0].server_version, 2, "the replays applied nothing");
}

#[test]
fn a_replayed_create_is_answered_accepted_with_the_same_server_id() {
    let server = server();
    let create = create("project", Uuid::new_v4(), 1, json!({ "name": "Bridge" }));
    let first = push(&server, "ana", 1, vec![create.clone()]);
    assert!(matches!(
        first[0],
        Outcome::Accepted {
            server_version: 1,
            ..
        }
    ));
    assert_eq!(push(&server, "ana", 1, vec![create]), first);
    assert_eq!(records(&server, "ana").len(), 1);
}

#[test]
fn a_stale_base_version_answers_conflict_with_the_current_record() {
    let server = server();
    let project = seed_project(&server, "ana", "Bridge");
    assert_accepted(
        &push(
            &server,
            "ana",
            1,
            vec![update(
                "project",
                project,
                1,
                1,
                json!({ "name": "From phone" }),
            )],
        )[0],
    );

    let stale = push(
        &server,
        "ana",
        1,
        vec![update(
            "project",
            project,
            1,
            1,
            json!({ "name": "From tablet" }),
        )],
    );
    let Outcome::Conflict { current } = &stale[0] else {
        panic!("expected a conflict, got {:?}", stale[0]);
    };
    assert_eq!(current.server_version, 2);
    assert_eq!(current.fields["name"], json!("From phone"));
    assert_eq!(
        records(&server, "ana")[0].fields["name"],
        json!("From phone"),
        "not applied"
    );

    // Re-sent on the current version (client wins), it is accepted.
    let resent = push(
        &server,
        "ana",
        1,
        vec![update(
            "project",
            project,
            2,
            1,
            json!({ "name": "From tablet" }),
        )],
    );
    assert_eq!(assert_accepted(&resent[0]), 3);
}

#[test]
fn a_create_of_an_existing_id_under_a_new_key_is_a_conflict() {
    let server = server();
    let project = seed_project(&server, "ana", "Bridge");
    let again = push(
        &server,
        "ana",
        1,
        vec![create("project", project, 1, json!({ "name": "Other" }))],
    );
    let Outcome::Conflict { current } = &again[0] else {
        panic!("expected a conflict, got {:?}", again[0]);
    };
    assert_eq!(
        (current.server_version, &current.fields["name"]),
        (1, &json!("Bridge"))
    );
}

#[test]
fn an_update_or_delete_of_a_tombstone_is_a_conflict_or_a_no_op() {
    let server = server();
    let project = seed_project(&server, "ana", "Bridge");
    assert_eq!(
        assert_accepted(&push(&server, "ana", 1, vec![delete("project", project, 1, 1)])[0]),
        2
    );

    let late_edit = push(
        &server,
        "ana",
        1,
        vec![update("project", project, 2, 1, json!({ "name": "x" }))],
    );
    assert!(matches!(&late_edit[0], Outcome::Conflict { current } if current.deleted));
    let second_delete = push(&server, "ana", 1, vec![delete("project", project, 2, 1)]);
    assert_eq!(
        assert_accepted(&second_delete[0]),
        2,
        "deleting a tombstone changes nothing"
    );
    let all = records(&server, "ana");
    assert!(all[0].deleted, "pulled as a tombstone");
}

#[test]
fn an_update_of_a_record_the_server_does_not_have_is_rejected() {
    let server = server();
    let outcomes = push(
        &server,
        "ana",
        1,
        vec![update(
            "project",
            Uuid::new_v4(),
            1,
            1,
            json!({ "name": "x" }),
        )],
    );
    assert!(
        matches!(&outcomes[0], Outcome::Rejected { reason } if reason.contains("does not exist on the server")),
        "{outcomes:?}"
    );
}

#[test]
fn a_child_whose_parent_is_not_on_the_server_is_rejected_and_a_parent_earlier_in_the_batch_counts()
{
    let server = server();
    let orphan = create(
        "task",
        Uuid::new_v4(),
        1,
        json!({ "title": "t", "project_id": Uuid::new_v4() }),
    );
    let outcomes = push(&server, "ana", 1, vec![orphan]);
    assert!(
        matches!(&outcomes[0], Outcome::Rejected { reason } if reason.contains("`task.project_id` references project")),
        "{outcomes:?}"
    );

    let project = Uuid::new_v4();
    let outcomes = push(
        &server,
        "ana",
        1,
        vec![
            create("project", project, 1, json!({ "name": "Bridge" })),
            create(
                "task",
                Uuid::new_v4(),
                1,
                json!({ "title": "t", "project_id": project }),
            ),
        ],
    );
    assert_accepted(&outcomes[0]);
    assert_accepted(&outcomes[1]);
}

#[test]
fn a_batch_with_one_mutation_off_the_model_is_refused_whole_naming_each_field() {
    let server = server();
    let project = seed_project(&server, "ana", "Bridge");
    let good = update("project", project, 1, 1, json!({ "name": "Renamed" }));
    let cases = [
        (
            create("projekt", Uuid::new_v4(), 1, json!({ "name": "x" })),
            "unknown entity `projekt` in schema version 1 (did you mean `project`?)",
        ),
        (
            create(
                "project",
                Uuid::new_v4(),
                1,
                json!({ "name": "x", "nmae": 1 }),
            ),
            "`project.nmae`: no such field in schema version 1 (did you mean `name`?)",
        ),
        (
            create("project", Uuid::new_v4(), 1, json!({ "name": 42 })),
            "`project.name`: expected text, got 42",
        ),
        (
            create("project", Uuid::new_v4(), 1, json!({ "name": null })),
            "`project.name` cannot be null; send a text value",
        ),
        (
            create("project", Uuid::new_v4(), 1, json!({ "archived": true })),
            "`project.name` is required on create (schema version 1) and was not sent",
        ),
        (
            create(
                "task",
                Uuid::new_v4(),
                1,
                json!({ "title": "t", "project_id": "not-a-uuid" }),
            ),
            "`task.project_id`: expected uuid, got \"not-a-uuid\"",
        ),
        (
            create(
                "project",
                Uuid::new_v4(),
                1,
                json!({ "name": "x", "budget": 5 }),
            ),
            "`project.budget`: no such field in schema version 1",
        ),
        (
            create("project", Uuid::new_v4(), 0, json!({ "name": "x" })),
            "schema version 0 is unknown to the server",
        ),
    ];
    for (bad, expected) in cases {
        let error = refusal(push_result(
            &server,
            "ana",
            1,
            vec![good.clone(), bad.clone()],
        ));
        let ProtocolError::InvalidMutations { rejected } = &error else {
            panic!("expected invalid mutations, got {error:?}");
        };
        assert_eq!(rejected.len(), 1, "{rejected:?}");
        assert_eq!(rejected[0].idempotency_key, bad.idempotency_key);
        assert!(
            rejected[0].reason.contains(expected),
            "{:?} does not say {expected:?}",
            rejected[0].reason
        );
    }
    let all = records(&server, "ana");
    assert_eq!(
        (all.len(), all[0].server_version, &all[0].fields["name"]),
        (1, 1, &json!("Bridge")),
        "nothing of a refused batch was applied"
    );
    // Nothing was recorded either: the good mutation's key is still unanswered.
    assert_eq!(assert_accepted(&push(&server, "ana", 1, vec![good])[0]), 2);
}

#[test]
fn every_problem_of_one_mutation_is_reported_at_once() {
    let server = server();
    let bad = create(
        "task",
        Uuid::new_v4(),
        1,
        json!({ "title": 1, "done": "yes" }),
    );
    let error = refusal(push_result(&server, "ana", 1, vec![bad]));
    let message = error.to_string();
    for expected in [
        "`task.title`: expected text, got 1",
        "`task.done`: expected bool, got \"yes\"",
        "`task.project_id` is required on create",
    ] {
        assert!(
            message.contains(expected),
            "{message} does not say {expected}"
        );
    }
}

#[test]
fn a_repeated_key_in_one_batch_or_an_oversized_batch_is_refused() {
    let server = server().with_limits(syncwright_server::Limits {
        max_push_batch: 2,
        ..Default::default()
    });
    let one = create("project", Uuid::new_v4(), 1, json!({ "name": "x" }));
    let error = refusal(push_result(
        &server,
        "ana",
        1,
        vec![one.clone(), one.clone()],
    ));
    assert!(
        error.to_string().contains("appears twice in the batch"),
        "{error}"
    );
    let three = (0..3)
        .map(|_| create("project", Uuid::new_v4(), 1, json!({ "name": "x" })))
        .collect();
    let error = refusal(push_result(&server, "ana", 1, three));
    assert!(
        error
            .to_string()
            .contains("more than this server's limit of 2"),
        "{error}"
    );
    assert!(records(&server, "ana").is_empty());
}

#[test]
fn an_older_client_update_changes_only_its_fields_and_newer_fields_keep_their_values() {
    let server = server();
    let project = Uuid::new_v4();
    // A v2 client creates the project with a budget.
    assert_accepted(
        &push(
            &server,
            "ana",
            2,
            vec![create(
                "project",
                project,
                2,
                json!({ "name": "Bridge", "budget": 900 }),
            )],
        )[0],
    );
    // A v1 client, which knows no budget, renames it.
    assert_accepted(
        &push(
            &server,
            "ana",
            1,
            vec![update(
                "project",
                project,
                1,
                1,
                json!({ "name": "Harbour bridge" }),
            )],
        )[0],
    );

    let record = &records(&server, "ana")[0];
    assert_eq!(record.fields["name"], json!("Harbour bridge"));
    assert_eq!(
        record.fields["budget"],
        json!(900),
        "the field the old client does not know kept its value"
    );
    assert_eq!(
        record.schema_version, 1,
        "the record says which schema last wrote it"
    );
}

#[test]
fn an_older_client_create_gets_the_defaults_of_newer_fields() {
    let server = server();
    let project = Uuid::new_v4();
    assert_accepted(
        &push(
            &server,
            "ana",
            1,
            vec![create("project", project, 1, json!({ "name": "Bridge" }))],
        )[0],
    );
    let task = Uuid::new_v4();
    assert_accepted(
        &push(
            &server,
            "ana",
            1,
            vec![create(
                "task",
                task,
                1,
                json!({ "title": "t", "project_id": project }),
            )],
        )[0],
    );

    let all = apply(&records(&server, "ana"));
    assert_eq!(
        all[&project].fields["budget"],
        json!(0),
        "the newer field's default"
    );
    assert_eq!(
        all[&project].fields["archived"],
        json!(false),
        "an unsent field of its own version"
    );
    assert_eq!(
        all[&task].fields["priority"],
        json!(null),
        "a newer nullable field without default"
    );
}

#[test]
fn a_client_newer_than_the_server_is_refused_with_both_versions() {
    let server = server();
    let mutation = create("project", Uuid::new_v4(), 3, json!({ "name": "x" }));
    let error = refusal(push_result(&server, "ana", 3, vec![mutation]));
    assert_eq!(
        error,
        ProtocolError::SchemaTooNew {
            client_schema_version: 3,
            server_schema_version: 2
        }
    );
    let pull = pull_page(&server, "ana", 3, &start(&["project"]), 10).unwrap_err();
    assert!(
        matches!(
            pull,
            ServerError::Refused(ProtocolError::SchemaTooNew { .. })
        ),
        "{pull:?}"
    );
}

#[test]
fn another_protocol_version_is_refused() {
    let server = server();
    let mut request = syncwright::sync::protocol::PushRequest::new(1, Vec::new());
    request.protocol_version = 2;
    let error = server.handle_push("ana", &request).unwrap_err();
    assert!(
        matches!(
            error,
            ServerError::Refused(ProtocolError::UnsupportedProtocol { requested: 2, .. })
        ),
        "{error:?}"
    );
}

#[test]
fn a_user_never_reads_or_changes_another_users_records() {
    let server = server();
    let anas = seed_project(&server, "ana", "Ana's bridge");

    // Bob knows Ana's id: his update and delete find nothing, his create makes his own record.
    let outcomes = push(
        &server,
        "bob",
        1,
        vec![
            update("project", anas, 1, 1, json!({ "name": "mine" })),
            delete("project", anas, 1, 1),
        ],
    );
    for outcome in &outcomes {
        assert!(
            matches!(outcome, Outcome::Rejected { reason } if reason.contains("does not exist")),
            "{outcome:?}"
        );
    }
    assert_accepted(
        &push(
            &server,
            "bob",
            1,
            vec![create("project", anas, 1, json!({ "name": "Bob's" }))],
        )[0],
    );
    let anas_record = records(&server, "ana");
    assert_eq!(anas_record.len(), 1);
    assert_eq!(
        (
            anas_record[0].server_version,
            &anas_record[0].fields["name"]
        ),
        (1, &json!("Ana's bridge")),
        "Ana's record is unchanged"
    );
    let bobs = records(&server, "bob");
    assert_eq!(bobs.len(), 1);
    assert_eq!(bobs[0].fields["name"], json!("Bob's"));
}

#[test]
fn idempotency_keys_are_per_user() {
    let server = server();
    let project = Uuid::new_v4();
    let mutation = create("project", project, 1, json!({ "name": "x" }));
    let anas = push(&server, "ana", 1, vec![mutation.clone()]);
    let bobs = push(&server, "bob", 1, vec![mutation]);
    assert_accepted(&bobs[0]);
    assert_ne!(
        anas, bobs,
        "Bob got his own answer (another server id), not Ana's"
    );
    assert_eq!(records(&server, "bob").len(), 1);
}
