//! Pulls: paging, commit order (a parent before its child), catch-ups that miss nothing,
//! tombstones, schema projection, cursors, isolation.

#[macro_use]
mod backends;
mod common;

use std::collections::HashSet;

use common::*;
use serde_json::json;
use syncwright::Uuid;
use syncwright::sync::protocol::{Cursor, Mutation, ProtocolError, RemoteRecord};
use syncwright_server::{Server, ServerError};

/// Creates `count` projects for `user` in batches of 500.
fn seed_projects(server: &Server, user: &str, count: usize) -> Vec<Uuid> {
    let ids: Vec<Uuid> = (0..count).map(|_| Uuid::new_v4()).collect();
    for chunk in ids.chunks(500) {
        let batch: Vec<Mutation> = chunk
            .iter()
            .enumerate()
            .map(|(i, id)| create("project", *id, 1, json!({ "name": format!("p{i}") })))
            .collect();
        push(server, user, 1, batch);
    }
    ids
}

/// Asserts that no change names a parent the client did not receive before it.
fn assert_parents_first(changes: &[RemoteRecord], already_local: &HashSet<Uuid>) {
    let mut local = already_local.clone();
    for change in changes {
        for parent_field in ["project_id", "task_id"] {
            if let Some(parent) = change.fields.get(parent_field).and_then(|v| v.as_str()) {
                let parent = Uuid::parse_str(parent).unwrap();
                assert!(
                    local.contains(&parent),
                    "{} {} arrived before its parent {parent}",
                    change.entity,
                    change.id
                );
            }
        }
        local.insert(change.id);
    }
}

#[test]
fn ten_thousand_records_with_limit_500_take_exactly_20_round_trips() {
    let server = server();
    let ids = seed_projects(&server, "ana", 10_000);
    let mut cursors = start(&["project"]);
    let (changes, round_trips) = pull_all(&server, "ana", 1, &mut cursors, 500);
    assert_eq!(round_trips, 20, "the 20th page says has_more = false");
    assert_eq!(changes.len(), 10_000, "each record exactly once");
    let pulled: Vec<Uuid> = changes.iter().map(|c| c.id).collect();
    assert_eq!(pulled, ids, "in commit order");

    // Caught up: the next pull is one empty round trip.
    let (again, round_trips) = pull_all(&server, "ana", 1, &mut cursors, 500);
    assert_eq!((again.len(), round_trips), (0, 1));
}

#[test]
fn a_limit_above_the_servers_maximum_is_lowered() {
    let server = server().with_limits(syncwright_server::Limits {
        max_pull_limit: 3,
        ..Default::default()
    });
    seed_projects(&server, "ana", 5);
    let page = pull_page(&server, "ana", 1, &start(&["project"]), 1000).unwrap();
    assert_eq!((page.changes.len(), page.has_more), (3, true));
}

#[test]
fn a_parent_changed_after_its_child_was_created_still_arrives_first() {
    let server = server();
    let project = seed_project(&server, "ana", "Bridge");
    let task = Uuid::new_v4();
    push(
        &server,
        "ana",
        1,
        vec![create(
            "task",
            task,
            1,
            json!({ "title": "t", "project_id": project }),
        )],
    );
    // The parent's latest change is now after the child's create.
    push(
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
    );

    for limit in [1, 2, 100] {
        let mut cursors = start(&["project", "task"]);
        let (changes, _) = pull_all(&server, "ana", 1, &mut cursors, limit);
        assert_parents_first(&changes, &HashSet::new());
        let state = apply(&changes);
        assert_eq!(
            state[&project].fields["name"],
            json!("Harbour bridge"),
            "limit {limit}"
        );
        assert_eq!(state.len(), 2);
    }
}

#[test]
fn a_parent_and_child_created_after_the_parents_entity_was_pulled_arrive_parent_first() {
    // The hole per-entity pulls open: the client pulled projects, then a project and its task
    // were created, then the client pulls tasks. Pulled together, in one order, they cannot
    // arrive child first.
    let server = server();
    let mut cursors = start(&["project", "task"]);
    let old = seed_project(&server, "ana", "Old");
    let (first, _) = pull_all(&server, "ana", 1, &mut cursors, 10);
    let project = seed_project(&server, "ana", "New");
    push(
        &server,
        "ana",
        1,
        vec![create(
            "task",
            Uuid::new_v4(),
            1,
            json!({ "title": "t", "project_id": project }),
        )],
    );

    let (changes, _) = pull_all(&server, "ana", 1, &mut cursors, 1);
    assert_eq!(first.len(), 1);
    assert_parents_first(&changes, &HashSet::from([old]));
    assert_eq!(changes.len(), 2);
}

#[test]
fn an_entity_added_by_a_schema_upgrade_starts_from_the_beginning_and_keeps_parents_first() {
    let server = server();
    let project = seed_project(&server, "ana", "Bridge");
    let task = Uuid::new_v4();
    push(
        &server,
        "ana",
        2,
        vec![create(
            "task",
            task,
            2,
            json!({ "title": "t", "project_id": project }),
        )],
    );
    push(
        &server,
        "ana",
        2,
        vec![create(
            "comment",
            Uuid::new_v4(),
            2,
            json!({ "task_id": task, "body": "b" }),
        )],
    );

    // A v1 client syncs everything it knows.
    let mut cursors = start(&["project", "task"]);
    let (v1_changes, _) = pull_all(&server, "ana", 1, &mut cursors, 10);
    assert_eq!(v1_changes.len(), 2);

    // Then a new task and its comment arrive while it upgrades to v2, which adds `comment`
    // (cursor null) next to the cursors it has.
    let task2 = Uuid::new_v4();
    push(
        &server,
        "ana",
        2,
        vec![create(
            "task",
            task2,
            2,
            json!({ "title": "t2", "project_id": project }),
        )],
    );
    push(
        &server,
        "ana",
        2,
        vec![create(
            "comment",
            Uuid::new_v4(),
            2,
            json!({ "task_id": task2, "body": "b2" }),
        )],
    );
    cursors.insert("comment".into(), None);
    let (changes, _) = pull_all(&server, "ana", 2, &mut cursors, 1);
    assert_parents_first(&changes, &HashSet::from([project, task]));
    let comments = changes.iter().filter(|c| c.entity == "comment").count();
    assert_eq!(comments, 2, "the new entity's old and new records");
}

#[test]
fn a_record_changed_during_a_paged_pull_is_delivered_and_nothing_is_skipped() {
    let server = server();
    let ids = seed_projects(&server, "ana", 10);
    let mut cursors = start(&["project"]);
    // Page 1 delivers ids[0..3]; then ids[1] changes and a new project is created.
    let page = pull_page(&server, "ana", 1, &cursors, 3).unwrap();
    assert!(page.has_more);
    let mut changes = page.changes;
    cursors = page
        .cursors
        .into_iter()
        .map(|(e, c)| (e, Some(c)))
        .collect();
    push(
        &server,
        "ana",
        1,
        vec![update(
            "project",
            ids[1],
            1,
            1,
            json!({ "name": "changed" }),
        )],
    );
    let late = seed_project(&server, "ana", "late");

    let (rest, _) = pull_all(&server, "ana", 1, &mut cursors, 3);
    changes.extend(rest);
    let (after, _) = pull_all(&server, "ana", 1, &mut cursors, 3);
    changes.extend(after);

    let state = apply(&changes);
    assert_eq!(state.len(), 11, "every record, the late one included");
    assert!(state.contains_key(&late));
    assert_eq!(
        state[&ids[1]].fields["name"],
        json!("changed"),
        "the change made mid-pull arrived"
    );
    assert_eq!(state[&ids[1]].server_version, 2);
}

#[test]
fn a_caught_up_client_gets_only_what_changed_since_including_tombstones() {
    let server = server();
    let ids = seed_projects(&server, "ana", 5);
    let mut cursors = start(&["project"]);
    pull_all(&server, "ana", 1, &mut cursors, 100);

    push(
        &server,
        "ana",
        1,
        vec![
            delete("project", ids[2], 1, 1),
            update("project", ids[4], 1, 1, json!({ "archived": true })),
        ],
    );
    let (changes, round_trips) = pull_all(&server, "ana", 1, &mut cursors, 100);
    assert_eq!(round_trips, 1);
    let changed: Vec<(Uuid, bool)> = changes.iter().map(|c| (c.id, c.deleted)).collect();
    assert_eq!(changed, vec![(ids[2], true), (ids[4], false)]);
}

#[test]
fn an_older_client_pulls_only_the_fields_its_version_knows() {
    let server = server();
    let project = Uuid::new_v4();
    push(
        &server,
        "ana",
        2,
        vec![create(
            "project",
            project,
            2,
            json!({ "name": "Bridge", "budget": 900 }),
        )],
    );

    let (v1, _) = pull_all(&server, "ana", 1, &mut start(&["project"]), 10);
    assert_eq!(
        v1[0].fields,
        fields(json!({ "name": "Bridge", "archived": false }))
    );
    let (v2, _) = pull_all(&server, "ana", 2, &mut start(&["project"]), 10);
    assert_eq!(v2[0].fields["budget"], json!(900));
    assert_eq!(v2[0].schema_version, 2);
}

#[test]
fn an_entity_unknown_to_the_clients_version_is_refused() {
    let server = server();
    let error = pull_page(&server, "ana", 1, &start(&["project", "comment"]), 10).unwrap_err();
    assert!(
        error
            .to_string()
            .contains("unknown entity `comment` in schema version 1"),
        "{error}"
    );
    let error = pull_page(&server, "ana", 1, &start(&[]), 10).unwrap_err();
    assert!(error.to_string().contains("names no entity"), "{error}");
    let error = pull_page(&server, "ana", 1, &start(&["project"]), 0).unwrap_err();
    assert!(
        error.to_string().contains("`limit` must be at least 1"),
        "{error}"
    );
}

#[test]
fn a_cursor_not_issued_to_this_user_for_this_entity_by_this_server_is_refused() {
    let server = server();
    seed_projects(&server, "ana", 3);
    let page = pull_page(&server, "ana", 1, &start(&["project", "task"]), 1).unwrap();
    let anas_cursor = page.cursors["project"].clone();

    let refused = |user: &str, cursors: Cursors, server: &Server| match pull_page(
        server, user, 1, &cursors, 10,
    ) {
        Err(ServerError::Refused(ProtocolError::InvalidCursor { entity, .. })) => entity,
        other => panic!("expected an invalid cursor, got {other:?}"),
    };
    let as_ana =
        |entity: &str, cursor: Cursor| -> Cursors { [(entity.to_string(), Some(cursor))].into() };
    assert_eq!(
        refused("bob", as_ana("project", anas_cursor.clone()), &server),
        "project"
    );
    assert_eq!(
        refused("ana", as_ana("task", anas_cursor.clone()), &server),
        "task"
    );
    assert_eq!(
        refused("ana", as_ana("project", Cursor("999".into())), &server),
        "project"
    );
    assert_eq!(
        refused(
            "ana",
            as_ana("project", anas_cursor.clone()),
            &common::server()
        ),
        "project"
    );
    // Its own cursor is accepted.
    assert!(pull_page(&server, "ana", 1, &as_ana("project", anas_cursor), 10).is_ok());
}

#[test]
fn a_pull_returns_only_the_users_own_records() {
    let server = server();
    let anas = seed_projects(&server, "ana", 3);
    let bobs = seed_projects(&server, "bob", 2);
    let (ana_changes, _) = pull_all(&server, "ana", 1, &mut start(&["project"]), 100);
    let (bob_changes, _) = pull_all(&server, "bob", 1, &mut start(&["project"]), 100);
    assert_eq!(ana_changes.iter().map(|c| c.id).collect::<Vec<_>>(), anas);
    assert_eq!(bob_changes.iter().map(|c| c.id).collect::<Vec<_>>(), bobs);
}
