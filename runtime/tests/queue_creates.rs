//! A queued create stores no payload: whoever reads the entry gets its record's fields as they
//! are then, which is exactly what the create must push. The edges: updates before the create
//! is sent, a delete through the store and one behind its back, a local schema upgrade, an
//! update while the create is in flight, and creates an older runtime stored with a payload.

mod common;

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, UNIX_EPOCH};

use common::*;
use rusqlite::Connection;
use syncwright::{Action, Database, Error, ManualClock, QueueStatus, RetryPolicy, Syncable};

/// A database file with a manual clock, no jitter and coalescing as asked, and a raw
/// connection to the same file to look at what the queue stores.
fn open(path: &Path, coalesce: bool) -> (Database, Arc<ManualClock>, Connection) {
    let clock = Arc::new(ManualClock::new(start()));
    let db = Database::options()
        .clock(clock.clone())
        .retry_policy(RetryPolicy {
            jitter: 0.0,
            ..RetryPolicy::default()
        })
        .coalesce(coalesce)
        .entities(&[Task::ENTITY, Note::ENTITY])
        .open(path, &migrations())
        .unwrap();
    (db, clock, Connection::open(path).unwrap())
}

/// `(id, action, payload)` of every queue entry as stored.
fn stored(raw: &Connection) -> Vec<(i64, String, Option<String>)> {
    raw.prepare("SELECT id, action, payload FROM _sync_queue ORDER BY id")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

#[test]
fn a_create_stores_no_payload_and_hands_out_every_field_of_its_record() {
    let dir = TempDir::new();
    let (db, _, raw) = open(&dir.path("app.db"), true);
    let due = UNIX_EPOCH + Duration::from_millis(1_700_000_123_000);
    let a = db
        .insert(&Task {
            title: "a".into(),
            done: true,
            priority: 5,
            due_at: Some(due),
        })
        .unwrap();
    let rows = stored(&raw);
    assert_eq!(rows.len(), 1);
    assert_eq!(
        (rows[0].1.as_str(), rows[0].2.as_deref()),
        ("create", None),
        "a create's fields are not copied into the queue"
    );
    let batch = db.queue().next_batch(10).unwrap();
    assert_eq!(batch.len(), 1);
    let entry = &batch[0];
    assert_eq!((entry.action, entry.entity_id), (Action::Create, a.id));
    assert_eq!(
        serde_json::Value::Object(entry.payload.clone()),
        serde_json::json!({
            "title": "a", "done": true, "priority": 5, "due_at": 1_700_000_123_000_i64
        })
    );
    assert_eq!(entry.schema_version, 3);
    assert_eq!(entry.changed_fields, None, "a create sends every field");
}

#[test]
fn updates_before_the_create_is_sent_reach_it_once_coalesced_or_not() {
    for coalesce in [true, false] {
        let dir = TempDir::new();
        let (db, _, raw) = open(&dir.path("app.db"), coalesce);
        let a = db.insert(&Task::new("draft")).unwrap();
        db.update(
            a.id,
            &Task {
                done: true,
                ..Task::new("final")
            },
        )
        .unwrap();
        let rows = stored(&raw);
        assert_eq!(
            rows[0].2, None,
            "coalesce {coalesce}: the create still stores no payload"
        );
        if coalesce {
            assert_eq!(rows.len(), 1, "the update merged into the create");
        } else {
            assert_eq!(
                rows[1].2.as_deref(),
                Some(r#"{"done":true,"title":"final"}"#),
                "an update keeps its changed fields"
            );
        }
        let batch = db.queue().next_batch(10).unwrap();
        assert_eq!(
            batch.len(),
            1,
            "coalesce {coalesce}: the update waits for the create"
        );
        assert_eq!(batch[0].payload["title"], "final");
        assert_eq!(batch[0].payload["done"], true);
    }
}

#[test]
fn a_create_of_a_record_deleted_through_the_store_sends_its_last_fields_then_the_delete() {
    let dir = TempDir::new();
    let (db, _, _raw) = open(&dir.path("app.db"), true);
    let a = db.insert(&Task::new("short-lived")).unwrap();
    db.delete::<Task>(a.id).unwrap();
    let entries = db.queue().open_entries().unwrap();
    let got: Vec<_> = entries.iter().map(|e| e.action).collect();
    assert_eq!(got, [Action::Create, Action::Delete]);
    // The tombstone keeps the record's fields: the create sends them, the delete follows.
    let batch = db.queue().next_batch(10).unwrap();
    assert_eq!(batch.len(), 1);
    assert_eq!(batch[0].payload["title"], "short-lived");
    db.queue().complete(batch[0].id).unwrap();
    let batch = db.queue().next_batch(10).unwrap();
    assert_eq!(batch[0].action, Action::Delete);
    assert!(batch[0].payload.is_empty());
}

#[test]
fn a_create_whose_row_was_deleted_behind_the_stores_back_fails_alone_with_a_clear_error() {
    let dir = TempDir::new();
    let (db, _, raw) = open(&dir.path("app.db"), false);
    let a = db.insert(&Task::new("a")).unwrap();
    let b = db.insert(&Task::new("b")).unwrap();
    db.update(a.id, &Task::new("a2")).unwrap();
    raw.execute(
        "DELETE FROM tasks WHERE id = ?1",
        [a.id.hyphenated().to_string()],
    )
    .unwrap();

    // The others still go out; the create that cannot be built fails, saying why.
    let batch = db.queue().next_batch(10).unwrap();
    let got: Vec<_> = batch.iter().map(|e| (e.entity_id, e.action)).collect();
    assert_eq!(got, [(b.id, Action::Create)]);
    let failed = db.queue().failed().unwrap();
    assert_eq!(failed.len(), 1, "{failed:?}");
    assert_eq!(failed[0].status, QueueStatus::Failed);
    let error = failed[0].error.as_deref().unwrap_or_default();
    assert!(
        error.contains("table `tasks` has no such row")
            && error.contains(&a.id.hyphenated().to_string()),
        "{error}"
    );
    assert!(failed[0].payload.is_empty(), "listed with no fields");
    assert_eq!(
        db.get::<Task>(b.id).unwrap().unwrap().title,
        "b",
        "nothing else changed"
    );
    // a's update waits behind its failed create, as behind any failed entry, until the app
    // discards the create.
    db.queue().complete(batch[0].id).unwrap();
    assert!(db.queue().next_batch(10).unwrap().is_empty());
    db.queue().discard(failed[0].id).unwrap();
    let next = db.queue().next_batch(10).unwrap();
    assert_eq!(
        next.iter().map(|e| e.action).collect::<Vec<_>>(),
        [Action::Update]
    );
}

#[test]
fn a_create_queued_before_a_local_schema_upgrade_sends_the_new_fields_under_the_new_version() {
    let dir = TempDir::new();
    let path = dir.path("app.db");
    let v1 = Database::open_with(&path, &migrations_up_to(1), &[TaskV1::ENTITY]).unwrap();
    let a = v1
        .insert(&TaskV1 {
            title: "old".into(),
            done: true,
        })
        .unwrap();
    drop(v1);
    let (db, clock, _raw) = open(&path, true);
    // The v1 app queued the create on the system clock.
    clock.set(std::time::SystemTime::now() + Duration::from_secs(1));
    let batch = db.queue().next_batch(10).unwrap();
    assert_eq!(batch[0].entity_id, a.id);
    assert_eq!(
        serde_json::Value::Object(batch[0].payload.clone()),
        serde_json::json!({"title": "old", "done": true, "priority": 0, "due_at": null}),
        "the fields the record has now, the new ones with their defaults"
    );
    assert_eq!(
        batch[0].schema_version, 3,
        "the version of the fields the create sends, not the one it was queued under"
    );
}

#[test]
fn an_update_made_while_the_create_is_in_flight_follows_it() {
    let dir = TempDir::new();
    let (db, clock, _raw) = open(&dir.path("app.db"), true);
    let a = db.insert(&Task::new("v1")).unwrap();
    let sent = db.queue().next_batch(10).unwrap();
    assert_eq!(sent[0].payload["title"], "v1");
    db.update(a.id, &Task::new("v2")).unwrap();
    let open_entries = db.queue().open_entries().unwrap();
    assert_eq!(
        open_entries.iter().map(|e| e.action).collect::<Vec<_>>(),
        [Action::Create, Action::Update],
        "an in-flight create is never merged into"
    );
    // The push failed: the create goes again, with the record as it is now, under the same
    // key (a server that got the first attempt answers it again); the update still follows.
    db.queue().fail(sent[0].id, "HTTP 503").unwrap();
    clock.advance(Duration::from_secs(2));
    let again = db.queue().next_batch(10).unwrap();
    assert_eq!(again.len(), 1);
    assert_eq!(again[0].idempotency_key, sent[0].idempotency_key);
    assert_eq!(again[0].payload["title"], "v2");
    db.queue().complete(again[0].id).unwrap();
    let update = db.queue().next_batch(10).unwrap();
    assert_eq!(update[0].action, Action::Update);
    assert_eq!(
        serde_json::Value::Object(update[0].payload.clone()),
        serde_json::json!({"title": "v2"})
    );
}

#[test]
fn a_create_an_older_runtime_stored_with_its_payload_sends_it_until_an_update_merges_into_it() {
    let dir = TempDir::new();
    let (db, _, raw) = open(&dir.path("app.db"), true);
    let a = db.insert(&Task::new("now")).unwrap();
    // As a runtime before step 5 queued it: every field, copied at the time.
    raw.execute(
        "UPDATE _sync_queue SET payload = ?1",
        [r#"{"title":"then","done":false,"priority":1,"due_at":null}"#],
    )
    .unwrap();
    let listed = db.queue().open_entries().unwrap();
    assert_eq!(
        listed[0].payload["title"], "then",
        "a stored payload is used as is"
    );
    // Coalescing into it drops the copy: the create reads the record from then on.
    db.update(a.id, &Task::new("later")).unwrap();
    assert_eq!(stored(&raw)[0].2, None);
    let batch = db.queue().next_batch(10).unwrap();
    assert_eq!(batch.len(), 1);
    assert_eq!(batch[0].payload["title"], "later");
}

#[test]
fn a_null_payload_on_anything_but_a_create_is_reported_as_a_corrupt_row() {
    let dir = TempDir::new();
    let (db, _, raw) = open(&dir.path("app.db"), false);
    let a = db.insert(&Task::new("a")).unwrap();
    db.update(a.id, &Task::new("b")).unwrap();
    raw.execute(
        "UPDATE _sync_queue SET payload = NULL WHERE action = 'update'",
        [],
    )
    .unwrap();
    let err = db.queue().open_entries().unwrap_err();
    assert!(
        matches!(&err, Error::CorruptRow { column, .. } if column == "payload"),
        "{err:?}"
    );
    assert!(err.to_string().contains("only a create"), "{err}");
}

#[test]
fn a_create_of_an_entity_this_instance_has_not_registered_is_listed_but_not_sent_empty() {
    let dir = TempDir::new();
    let path = dir.path("app.db");
    let (db, _, _raw) = open(&path, true);
    db.insert(&Task::new("a")).unwrap();
    drop(db);
    // Opened without the entity list (no typed write yet registered `task`).
    let db = Database::open(&path, &migrations()).unwrap();
    let listed = db.queue().open_entries().unwrap();
    assert_eq!(listed.len(), 1);
    assert!(listed[0].payload.is_empty());
    let err = db.queue().next_batch(10).unwrap_err();
    assert!(
        matches!(&err, Error::UnknownEntity { entity } if entity == "task"),
        "{err:?}"
    );
    assert_eq!(
        db.queue().open_entries().unwrap()[0].status,
        QueueStatus::Pending,
        "nothing was handed out or failed"
    );
}
