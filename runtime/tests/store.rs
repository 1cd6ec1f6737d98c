//! Typed writes and reads: metadata, tombstones, field timestamps, queries, bad data.

mod common;

use std::time::Duration;

use common::*;
use syncwright::{Action, Database, Error, Op, Order, SyncStatus, Syncable};

#[test]
fn insert_sets_metadata_and_enqueues_a_create_in_the_same_transaction() {
    let (db, _) = memory_db();
    let task = db.insert(&Task::new("write tests")).unwrap();
    assert_eq!(
        (task.version, task.sync_status, task.is_deleted),
        (1, SyncStatus::Pending, false)
    );
    assert_eq!(
        (task.created_at, task.updated_at, task.synced_at),
        (start(), start(), None)
    );
    assert_eq!(task.data, Task::new("write tests"));
    let entries = db.queue().open_entries().unwrap();
    assert_eq!(entries.len(), 1);
    let e = &entries[0];
    assert_eq!(
        (
            e.action,
            e.entity_id,
            e.entity_type.as_str(),
            e.schema_version
        ),
        (Action::Create, task.id, "task", 3)
    );
    assert_eq!(
        serde_json::Value::Object(e.payload.clone()),
        serde_json::json!({"title": "write tests", "done": false, "priority": 1, "due_at": null})
    );
}

#[test]
fn update_bumps_version_and_updated_at() {
    let (db, clock) = memory_db_with(syncwright::RetryPolicy::default(), false);
    let task = db.insert(&Task::new("a")).unwrap();
    clock.advance(Duration::from_secs(10));
    let updated = db
        .update(
            task.id,
            &Task {
                done: true,
                ..Task::new("a")
            },
        )
        .unwrap();
    assert_eq!(updated.version, 2);
    assert_eq!(updated.updated_at, start() + Duration::from_secs(10));
    assert_eq!(updated.created_at, start());
    let actions: Vec<Action> = db
        .queue()
        .open_entries()
        .unwrap()
        .iter()
        .map(|e| e.action)
        .collect();
    assert_eq!(actions, [Action::Create, Action::Update]);
}

#[test]
fn update_without_changes_writes_nothing() {
    // Coalescing off: an update entry, had one been written, would stay visible.
    let (db, clock) = memory_db_with(syncwright::RetryPolicy::default(), false);
    let task = db.insert(&Task::new("a")).unwrap();
    let queue_before = db.queue().all_entries().unwrap();
    clock.advance(Duration::from_secs(10));
    let same = db.update(task.id, &Task::new("a")).unwrap();
    assert_eq!(
        same, task,
        "the row is as it was: version, updated_at, status"
    );
    assert_eq!(
        db.get::<Task>(task.id).unwrap().unwrap(),
        task,
        "and so is the stored row"
    );
    assert_eq!(
        db.queue().all_entries().unwrap(),
        queue_before,
        "no queue entry was added or changed"
    );
}

#[test]
fn delete_leaves_a_tombstone_that_queries_skip_by_default() {
    let (db, _) = memory_db();
    let keep = db.insert(&Task::new("keep")).unwrap();
    let gone = db.insert(&Task::new("gone")).unwrap();
    db.delete::<Task>(gone.id).unwrap();
    db.delete::<Task>(gone.id)
        .expect("deleting a tombstone again is a no-op");
    assert!(db.get::<Task>(gone.id).unwrap().is_none());
    let tomb = db
        .get_including_deleted::<Task>(gone.id)
        .unwrap()
        .expect("tombstone kept");
    assert!(tomb.is_deleted);
    assert_eq!((tomb.version, tomb.sync_status), (2, SyncStatus::Pending));
    let live: Vec<_> = db
        .query::<Task>()
        .fetch()
        .unwrap()
        .into_iter()
        .map(|r| r.id)
        .collect();
    assert_eq!(live, [keep.id]);
    assert_eq!(db.query::<Task>().include_deleted().count().unwrap(), 2);
    assert_eq!(
        db.query::<Task>().only_deleted().fetch().unwrap()[0].id,
        gone.id
    );
    let last = db.queue().open_entries().unwrap().pop().unwrap();
    assert_eq!(
        (last.action, last.entity_id, last.payload.len()),
        (Action::Delete, gone.id, 0)
    );
    let err = db.update(gone.id, &Task::new("again")).unwrap_err();
    assert!(matches!(err, Error::RecordDeleted { .. }), "{err:?}");
}

#[test]
fn missing_record_is_not_found() {
    let (db, _) = memory_db();
    let err = db
        .update(uuid::Uuid::new_v4(), &Task::new("x"))
        .unwrap_err();
    assert!(
        matches!(err, Error::NotFound { entity: "task", .. }),
        "{err:?}"
    );
    assert!(matches!(
        db.delete::<Task>(uuid::Uuid::new_v4()),
        Err(Error::NotFound { .. })
    ));
}

#[test]
fn field_merge_entities_stamp_only_the_fields_that_changed() {
    let (db, clock) = memory_db();
    let note = db
        .insert(&Note {
            task_id: None,
            body: "hello".into(),
            pinned: false,
        })
        .unwrap();
    assert_eq!(note.field_timestamps.len(), 3);
    assert!(note.field_timestamps.values().all(|t| *t == start()));
    clock.advance(Duration::from_secs(60));
    let note = db
        .update(
            note.id,
            &Note {
                task_id: None,
                body: "hello".into(),
                pinned: true,
            },
        )
        .unwrap();
    assert_eq!(
        note.field_timestamps["pinned"],
        start() + Duration::from_secs(60)
    );
    assert_eq!(note.field_timestamps["body"], start());
    assert_eq!(note.field_timestamps["task_id"], start());
}

#[test]
fn queries_filter_order_and_page() {
    let (db, clock) = memory_db();
    for (i, title) in ["c", "a", "b", "d"].iter().enumerate() {
        clock.advance(Duration::from_secs(1));
        let priority = i64::try_from(i).unwrap();
        db.insert(&Task {
            priority,
            ..Task::new(title)
        })
        .unwrap();
    }
    let titles = |q: syncwright::Query<'_, Task>| {
        q.fetch()
            .unwrap()
            .into_iter()
            .map(|r| r.data.title)
            .collect::<Vec<_>>()
    };
    assert_eq!(
        titles(db.query::<Task>()),
        ["c", "a", "b", "d"],
        "default order is creation order"
    );
    assert_eq!(
        titles(db.query::<Task>().order_by("title", Order::Asc)),
        ["a", "b", "c", "d"]
    );
    assert_eq!(
        titles(
            db.query::<Task>()
                .filter("priority", Op::Ge, 2)
                .order_by("priority", Order::Desc)
        ),
        ["d", "b"]
    );
    assert_eq!(titles(db.query::<Task>().filter_eq("title", "a")), ["a"]);
    assert_eq!(
        titles(db.query::<Task>().filter_eq("due_at", None::<i64>)).len(),
        4
    );
    assert_eq!(
        titles(
            db.query::<Task>()
                .order_by("title", Order::Asc)
                .limit(2)
                .offset(1)
        ),
        ["b", "c"]
    );
    assert_eq!(
        db.query::<Task>()
            .sync_status(SyncStatus::Pending)
            .count()
            .unwrap(),
        4
    );
    let err = db
        .query::<Task>()
        .filter_eq("title; DROP TABLE tasks", 1)
        .fetch()
        .unwrap_err();
    assert!(matches!(err, Error::UnknownColumn { .. }), "{err:?}");
}

#[test]
fn foreign_keys_and_uuids_round_trip() {
    let (db, _) = memory_db();
    let task = db.insert(&Task::new("parent")).unwrap();
    let note = db
        .insert(&Note {
            task_id: Some(task.id),
            body: "child".into(),
            pinned: false,
        })
        .unwrap();
    let found = db
        .query::<Note>()
        .filter_eq("task_id", task.id)
        .fetch()
        .unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].id, note.id);
    assert_eq!(found[0].task_id, Some(task.id));
}

#[test]
fn transaction_commits_all_writes_or_none() {
    let (db, _) = memory_db();
    let result: syncwright::Result<()> = db.transaction(|tx| {
        tx.insert(&Task::new("one"))?;
        tx.insert(&Task::new("two"))?;
        Err(Error::NotFound {
            entity: "task",
            id: "abort".into(),
        })
    });
    assert!(result.is_err());
    assert_eq!(db.query::<Task>().count().unwrap(), 0);
    assert!(
        db.queue().all_entries().unwrap().is_empty(),
        "no queue entry without its row"
    );
}

fn corrupt(sql: &str) -> Error {
    let dir = TempDir::new();
    let path = dir.path("app.db");
    let db = Database::open(&path, &migrations()).unwrap();
    let task = db.insert(&Task::new("x")).unwrap();
    let conn = rusqlite::Connection::open(&path).unwrap();
    // Bad data gets past the checks only with them off: the sync columns' CHECKs and the
    // triggers checking the types of fields.
    conn.execute_batch("PRAGMA ignore_check_constraints = ON")
        .unwrap();
    conn.set_db_config(
        rusqlite::config::DbConfig::SQLITE_DBCONFIG_ENABLE_TRIGGER,
        false,
    )
    .unwrap();
    let n = conn.execute(sql, [task.id.to_string()]).unwrap();
    assert_eq!(n, 1, "{sql}");
    drop(conn);
    match db.get::<Task>(task.id) {
        Err(e) => e,
        Ok(_) => db
            .queue()
            .open_entries()
            .expect_err("corrupt data must be reported"),
    }
}

#[test]
fn bad_data_in_the_database_is_an_error_naming_the_row() {
    let err = corrupt("UPDATE tasks SET sync_status = 'weird' WHERE id = ?1");
    assert!(
        matches!(&err, Error::CorruptRow { column, .. } if column == "sync_status"),
        "{err:?}"
    );
    let err = corrupt("UPDATE tasks SET done = 7 WHERE id = ?1");
    let Error::Conversion { column, row, .. } = &err else {
        panic!("{err:?}")
    };
    assert_eq!(column, "done");
    assert!(row.is_some(), "the row id is attached: {err}");
    let err = corrupt("UPDATE tasks SET title = x'00ff' WHERE id = ?1");
    assert!(
        matches!(&err, Error::Conversion { column, .. } if column == "title"),
        "{err:?}"
    );
    let err = corrupt("UPDATE _sync_queue SET payload = '[1]' WHERE entity_id = ?1");
    assert!(
        matches!(&err, Error::CorruptRow { table, column, .. } if table == "_sync_queue" && column == "payload"),
        "{err:?}"
    );
}

#[test]
fn database_is_send_and_sync() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Database>();
}

#[test]
fn per_field_timestamps_are_stored_sparsely() {
    let dir = TempDir::new();
    let path = dir.path("sparse.db");
    let clock = std::sync::Arc::new(syncwright::ManualClock::new(start()));
    let db = Database::options()
        .clock(clock.clone())
        .entities(&[<Note as Syncable>::ENTITY])
        .open(&path, &migrations())
        .unwrap();
    let stored = |id: uuid::Uuid| -> String {
        let conn = rusqlite::Connection::open(&path).unwrap();
        conn.query_row(
            "SELECT field_timestamps FROM notes WHERE id = ?1",
            [id.to_string()],
            |r| r.get(0),
        )
        .unwrap()
    };
    let note = db
        .insert(&Note {
            task_id: None,
            body: "hello".into(),
            pinned: false,
        })
        .unwrap();
    assert_eq!(
        stored(note.id),
        "{}",
        "a fresh row stores no per-field times"
    );
    clock.advance(Duration::from_secs(60));
    db.update(
        note.id,
        &Note {
            task_id: None,
            body: "hello".into(),
            pinned: true,
        },
    )
    .unwrap();
    let ms = syncwright::to_millis(start() + Duration::from_secs(60));
    assert_eq!(stored(note.id), format!("{{\"pinned\":{ms}}}"));
}

/// Makes `path` read-only for the OS (root still writes it, hence also `read_only(true)`).
fn write_protect(path: &std::path::Path) {
    let mut permissions = std::fs::metadata(path).unwrap().permissions();
    permissions.set_readonly(true);
    std::fs::set_permissions(path, permissions).unwrap();
}

#[test]
fn an_up_to_date_database_on_a_read_only_file_opens_for_reading() {
    let dir = TempDir::new();
    let path = dir.path("app.db");
    let id = {
        let db = Database::open_with(&path, &migrations(), &[Task::ENTITY]).unwrap();
        let task = db.insert(&Task::new("read me")).unwrap();
        db.queue().next_batch(10).unwrap(); // left in flight: recovery must not write either
        task.id
    };
    write_protect(&path);
    let before = std::fs::read(&path).unwrap();
    let db = Database::options()
        .read_only(true)
        .entities(&[Task::ENTITY])
        .open(&path, &migrations())
        .expect("an up-to-date database opens read-only");
    assert!(db.is_read_only());
    assert_eq!(db.get::<Task>(id).unwrap().unwrap().title, "read me");
    assert_eq!(db.query::<Task>().count().unwrap(), 1);
    assert_eq!(db.status().unwrap().in_flight, 1);
    let err = db.insert(&Task::new("no")).expect_err("writes are refused");
    assert!(matches!(err, Error::ReadOnly { .. }), "{err:?}");
    assert!(
        err.to_string().contains("app.db") && err.to_string().contains("cannot write"),
        "{err}"
    );
    assert!(matches!(
        db.queue().next_batch(1),
        Err(Error::ReadOnly { .. })
    ));
    let locks: Vec<String> = std::fs::read_dir(&dir.0)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains(".queue-owner."))
        .collect();
    assert!(locks.is_empty(), "no queue owner lock was taken: {locks:?}");
    drop(db);
    assert!(
        std::fs::read(&path).unwrap() == before,
        "nothing was written"
    );
}

#[test]
fn a_database_that_needs_a_migration_is_refused_read_only_without_writing() {
    let dir = TempDir::new();
    let path = dir.path("app.db");
    drop(Database::open(&path, &migrations_up_to(2)).unwrap());
    write_protect(&path);
    let before = std::fs::read(&path).unwrap();
    let err = Database::options()
        .read_only(true)
        .open(&path, &migrations())
        .expect_err("a migration cannot run read-only");
    assert!(
        matches!(&err, Error::ReadOnly { operation, .. } if operation == "migrate it from version 2 to 3"),
        "{err:?}"
    );
    assert!(
        std::fs::read(&path).unwrap() == before,
        "nothing was written"
    );
}

fn remote(server_id: &str, version: i64, is_deleted: bool) -> syncwright::RemoteVersion {
    syncwright::RemoteVersion {
        server_id: server_id.to_owned(),
        version,
        updated_at: start() - Duration::from_secs(60),
        is_deleted,
    }
}

#[test]
fn a_remote_apply_inserts_a_synced_row_without_queueing() {
    let (db, clock) = memory_db();
    clock.advance(Duration::from_secs(5));
    let id = uuid::Uuid::new_v4();
    let stored = db
        .apply_remote(id, &Task::new("from server"), &remote("srv-9", 7, false))
        .unwrap();
    assert_eq!(stored.title, "from server");
    assert_eq!(stored.server_id.as_deref(), Some("srv-9"));
    assert_eq!(stored.version, 7);
    assert_eq!(stored.sync_status, SyncStatus::Synced);
    assert_eq!(stored.synced_at, Some(db.now()));
    assert_eq!(stored.updated_at, start() - Duration::from_secs(60));
    assert!(
        db.queue().all_entries().unwrap().is_empty(),
        "nothing queued"
    );
}

#[test]
fn a_remote_apply_overwrites_a_row_with_the_servers_state_without_queueing() {
    let (db, _) = memory_db();
    let local = db
        .insert(&Note {
            task_id: None,
            body: "draft".into(),
            pinned: false,
        })
        .unwrap();
    // What the queue stores (a create's payload is read from the record, which just changed).
    let queued = || -> Vec<_> {
        db.queue()
            .all_entries()
            .unwrap()
            .into_iter()
            .map(|e| {
                (
                    e.id,
                    e.idempotency_key,
                    e.action,
                    e.status,
                    e.changed_fields,
                )
            })
            .collect()
    };
    let entries_before = queued();
    let stored = db
        .apply_remote(
            local.id,
            &Note {
                task_id: None,
                body: "final".into(),
                pinned: true,
            },
            &remote("srv-1", 4, true),
        )
        .unwrap();
    assert_eq!((stored.body.as_str(), stored.pinned), ("final", true));
    assert_eq!((stored.version, stored.is_deleted), (4, true));
    assert_eq!(stored.sync_status, SyncStatus::Synced);
    assert_eq!(
        stored.created_at, local.created_at,
        "the local creation time stays"
    );
    assert_eq!(queued(), entries_before, "the queue is untouched");
}
