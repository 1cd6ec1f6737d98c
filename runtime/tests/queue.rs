//! Queue semantics: order, coalescing, backoff, retries, recovery, purge, status.

mod common;

use std::time::Duration;

use common::*;
use syncwright::{
    Action, Clock, Database, Error, FailOutcome, QueueStatus, RetryPolicy, SyncStatus, Syncable,
};

#[test]
fn batches_follow_queue_order_and_hold_back_later_mutations_of_a_record_in_flight() {
    let (db, _) = memory_db_with(
        RetryPolicy {
            jitter: 0.0,
            ..RetryPolicy::default()
        },
        false,
    );
    let a = db.insert(&Task::new("a")).unwrap();
    let b = db.insert(&Task::new("b")).unwrap();
    db.update(a.id, &Task::new("a2")).unwrap();
    let first = db.queue().next_batch(10).unwrap();
    let got: Vec<_> = first.iter().map(|e| (e.entity_id, e.action)).collect();
    assert_eq!(
        got,
        [(a.id, Action::Create), (b.id, Action::Create)],
        "a's update waits for a's create"
    );
    assert!(first.iter().all(|e| e.status == QueueStatus::InFlight));
    assert!(
        db.queue().next_batch(10).unwrap().is_empty(),
        "in-flight entries are not handed out twice"
    );
    db.queue().complete(first[0].id).unwrap();
    let second = db.queue().next_batch(10).unwrap();
    assert_eq!(
        second
            .iter()
            .map(|e| (e.entity_id, e.action))
            .collect::<Vec<_>>(),
        [(a.id, Action::Update)]
    );
    assert_eq!(second[0].payload["title"], "a2");
}

#[test]
fn create_followed_by_updates_coalesces_into_one_create() {
    let (db, _) = memory_db();
    let a = db.insert(&Task::new("draft")).unwrap();
    db.update(a.id, &Task::new("draft 2")).unwrap();
    db.update(
        a.id,
        &Task {
            done: true,
            ..Task::new("final")
        },
    )
    .unwrap();
    let entries = db.queue().open_entries().unwrap();
    assert_eq!(entries.len(), 1, "{entries:?}");
    assert_eq!(entries[0].action, Action::Create);
    assert_eq!(entries[0].payload["title"], "final");
    assert_eq!(entries[0].payload["done"], true);
    assert_eq!(
        db.get::<Task>(a.id).unwrap().unwrap().version,
        3,
        "the row still counts every write"
    );
}

#[test]
fn an_update_queues_only_the_fields_it_changed_and_coalescing_unions_them() {
    let (db, _) = memory_db();
    let a = db.insert(&Task::new("draft")).unwrap();
    db.queue()
        .complete_all(&[db.queue().next_batch(1).unwrap()[0].id])
        .unwrap();
    let titled = Task::new("titled");
    db.update(a.id, &titled).unwrap();
    let entries = db.queue().open_entries().unwrap();
    assert_eq!(entries.len(), 1, "{entries:?}");
    assert_eq!(
        serde_json::Value::Object(entries[0].payload.clone()),
        serde_json::json!({"title": "titled"}),
        "an update's payload holds the fields it changed, not the whole record"
    );
    db.update(
        a.id,
        &Task {
            done: true,
            ..titled
        },
    )
    .unwrap();
    let entries = db.queue().open_entries().unwrap();
    assert_eq!(entries.len(), 1, "the second update coalesced: {entries:?}");
    assert_eq!(
        serde_json::Value::Object(entries[0].payload.clone()),
        serde_json::json!({"title": "titled", "done": true}),
    );
    assert_eq!(
        entries[0].changed_fields.as_deref(),
        Some(&["done".to_owned(), "title".to_owned()][..])
    );
}

#[test]
fn coalescing_never_moves_a_mutation_ahead_of_a_later_entry() {
    let (db, _) = memory_db();
    let a = db.insert(&Task::new("parent")).unwrap();
    db.insert(&Note {
        task_id: Some(a.id),
        body: "child".into(),
        pinned: false,
    })
    .unwrap();
    db.update(a.id, &Task::new("parent renamed")).unwrap();
    let actions: Vec<_> = db
        .queue()
        .open_entries()
        .unwrap()
        .iter()
        .map(|e| (e.entity_type.clone(), e.action))
        .collect();
    assert_eq!(
        actions,
        [
            ("task".into(), Action::Create),
            ("note".into(), Action::Create),
            ("task".into(), Action::Update)
        ]
    );
}

#[test]
fn entries_handed_out_once_are_never_coalesced() {
    let (db, _) = memory_db();
    let a = db.insert(&Task::new("a")).unwrap();
    let batch = db.queue().next_batch(1).unwrap();
    db.queue().fail(batch[0].id, "offline").unwrap();
    db.update(a.id, &Task::new("a2")).unwrap();
    assert_eq!(
        db.queue().open_entries().unwrap().len(),
        2,
        "the server may already know the first key"
    );
}

#[test]
fn failures_back_off_exponentially_up_to_sixty_seconds() {
    let (db, clock) = memory_db_with(
        RetryPolicy {
            max_retries: 20,
            jitter: 0.0,
            ..RetryPolicy::default()
        },
        true,
    );
    db.insert(&Task::new("a")).unwrap();
    let mut delays = Vec::new();
    for _ in 0..9 {
        let entry = db.queue().next_batch(1).unwrap().pop().expect("entry due");
        let FailOutcome::Retrying { next_attempt_at } = db.queue().fail(entry.id, "503").unwrap()
        else {
            panic!("gave up too early")
        };
        let delay = next_attempt_at.duration_since(clock.now()).unwrap();
        delays.push(delay.as_secs());
        clock.advance(delay - Duration::from_millis(1));
        assert!(
            db.queue().next_batch(1).unwrap().is_empty(),
            "not due before next_attempt_at"
        );
        clock.advance(Duration::from_millis(1));
    }
    assert_eq!(delays, [1, 2, 4, 8, 16, 32, 60, 60, 60]);
}

#[test]
fn jitter_only_shortens_the_delay() {
    let policy = RetryPolicy::default();
    for failures in 1..10 {
        for unit in [0.0, 0.5, 0.999] {
            let d = policy.jittered(failures, unit);
            assert!(
                d <= policy.delay(failures) && d >= policy.delay(failures).mul_f64(0.8),
                "{d:?}"
            );
        }
    }
    let (db, clock) = memory_db_with(RetryPolicy::default(), true);
    db.insert(&Task::new("a")).unwrap();
    let id = db.queue().next_batch(1).unwrap()[0].id;
    let FailOutcome::Retrying { next_attempt_at } = db.queue().fail(id, "x").unwrap() else {
        panic!()
    };
    let delay = next_attempt_at.duration_since(clock.now()).unwrap();
    assert!(
        delay <= Duration::from_secs(1) && delay >= Duration::from_millis(800),
        "{delay:?}"
    );
}

#[test]
fn entry_fails_after_max_retries_and_can_be_retried_or_discarded() {
    let (db, clock) = memory_db_with(
        RetryPolicy {
            max_retries: 3,
            jitter: 0.0,
            ..RetryPolicy::default()
        },
        true,
    );
    let a = db.insert(&Task::new("a")).unwrap();
    let mut outcome = None;
    for _ in 0..3 {
        clock.advance(Duration::from_secs(120));
        let entry = db.queue().next_batch(1).unwrap().pop().unwrap();
        outcome = Some(db.queue().fail(entry.id, "422 invalid").unwrap());
    }
    assert_eq!(outcome, Some(FailOutcome::Failed));
    let failed = db.queue().failed().unwrap();
    assert_eq!(
        (
            failed.len(),
            failed[0].retry_count,
            failed[0].error.as_deref()
        ),
        (1, 3, Some("422 invalid"))
    );
    assert_eq!(
        db.get::<Task>(a.id).unwrap().unwrap().sync_status,
        SyncStatus::Error
    );
    assert_eq!(db.status().unwrap().failed, 1);
    clock.advance(Duration::from_secs(3600));
    assert!(
        db.queue().next_batch(1).unwrap().is_empty(),
        "failed entries are not retried on their own"
    );

    assert_eq!(db.queue().retry_failed().unwrap(), 1);
    assert_eq!(
        db.get::<Task>(a.id).unwrap().unwrap().sync_status,
        SyncStatus::Pending
    );
    let entry = db
        .queue()
        .next_batch(1)
        .unwrap()
        .pop()
        .expect("retried entry is due");
    assert_eq!(entry.retry_count, 0);
    db.queue().complete(entry.id).unwrap();

    let b = db.insert(&Task::new("b")).unwrap();
    let entry = db.queue().next_batch(1).unwrap().pop().unwrap();
    let err = db.queue().discard(entry.id).unwrap_err();
    assert!(
        matches!(
            err,
            Error::QueueEntryState {
                operation: "discard",
                ..
            }
        ),
        "{err:?}"
    );
    db.queue().fail(entry.id, "x").unwrap();
    db.queue().discard(entry.id).unwrap();
    assert!(db.queue().open_entries().unwrap().is_empty());
    assert_eq!(
        db.get::<Task>(b.id).unwrap().unwrap().sync_status,
        SyncStatus::Error
    );
}

#[test]
fn completing_marks_the_record_synced_with_its_server_id() {
    let (db, clock) = memory_db();
    let a = db.insert(&Task::new("a")).unwrap();
    let entry = db.queue().next_batch(5).unwrap().pop().unwrap();
    clock.advance(Duration::from_secs(3));
    db.queue()
        .complete_with_server_id(entry.id, "srv-42")
        .unwrap();
    let a = db.get::<Task>(a.id).unwrap().unwrap();
    assert_eq!(a.sync_status, SyncStatus::Synced);
    assert_eq!(a.server_id.as_deref(), Some("srv-42"));
    assert_eq!(a.synced_at, Some(start() + Duration::from_secs(3)));
    let err = db.queue().complete(entry.id).unwrap_err();
    assert!(matches!(err, Error::QueueEntryState { .. }), "{err:?}");
}

#[test]
fn record_written_while_its_entry_is_in_flight_stays_pending() {
    let (db, _) = memory_db();
    let a = db.insert(&Task::new("a")).unwrap();
    let entry = db.queue().next_batch(5).unwrap().pop().unwrap();
    db.update(a.id, &Task::new("a2")).unwrap();
    db.queue().complete(entry.id).unwrap();
    assert_eq!(
        db.get::<Task>(a.id).unwrap().unwrap().sync_status,
        SyncStatus::Pending
    );
}

#[test]
fn in_flight_entries_return_to_pending_when_reopened() {
    let dir = TempDir::new();
    let path = dir.path("app.db");
    let db = Database::open_with(&path, &migrations(), &[Task::ENTITY]).unwrap();
    let a = db.insert(&Task::new("a")).unwrap();
    let sent = db.queue().next_batch(5).unwrap().pop().unwrap();
    drop(db); // the process "dies" with the entry in flight
    let db = Database::open_with(&path, &migrations(), &[Task::ENTITY]).unwrap();
    let entries = db.queue().open_entries().unwrap();
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0].status, QueueStatus::Pending);
    assert_eq!(
        entries[0].idempotency_key, sent.idempotency_key,
        "the key is kept so the server deduplicates"
    );
    db.update(a.id, &Task::new("a2")).unwrap();
    assert_eq!(
        db.queue().open_entries().unwrap().len(),
        2,
        "a recovered entry is not coalesced into"
    );
    assert_eq!(db.queue().next_batch(5).unwrap()[0].id, sent.id);
}

#[test]
fn purge_removes_only_old_synced_tombstones() {
    let (db, clock) = memory_db();
    let old_synced = db.insert(&Task::new("old synced")).unwrap();
    let old_unsynced = db.insert(&Task::new("old unsynced")).unwrap();
    let recent = db.insert(&Task::new("recent")).unwrap();
    let alive = db.insert(&Task::new("alive")).unwrap();
    db.delete::<Task>(old_synced.id).unwrap();
    db.delete::<Task>(old_unsynced.id).unwrap();
    let sync_all_but = |skip: uuid::Uuid| loop {
        let batch = db.queue().next_batch(100).unwrap();
        if batch.is_empty() {
            break;
        }
        for e in batch {
            if e.entity_id == skip {
                db.queue().fail(e.id, "offline").unwrap();
            } else {
                db.queue().complete(e.id).unwrap();
            }
        }
    };
    sync_all_but(old_unsynced.id);
    clock.advance(Duration::from_secs(20 * 24 * 3600));
    db.delete::<Task>(recent.id).unwrap();
    sync_all_but(old_unsynced.id);
    clock.advance(Duration::from_secs(15 * 24 * 3600));

    let report = db.purge_old_tombstones().unwrap();
    assert_eq!(report.tombstones, 1);
    assert!(
        db.get_including_deleted::<Task>(old_synced.id)
            .unwrap()
            .is_none(),
        "old synced tombstone purged"
    );
    assert!(
        db.get_including_deleted::<Task>(old_unsynced.id)
            .unwrap()
            .is_some(),
        "unsynced tombstones stay"
    );
    assert!(
        db.get_including_deleted::<Task>(recent.id)
            .unwrap()
            .is_some(),
        "recent tombstones stay"
    );
    assert!(
        db.get::<Task>(alive.id).unwrap().is_some(),
        "live records stay"
    );
    assert!(
        report.queue_entries >= 3,
        "old completed entries go too: {report:?}"
    );
    assert!(
        !db.queue().open_entries().unwrap().is_empty(),
        "open entries are never purged"
    );
}

#[test]
fn status_summarizes_queue_conflicts_sync_time_and_cursors() {
    let (db, clock) = memory_db();
    let a = db.insert(&Task::new("a")).unwrap();
    db.insert(&Task::new("b")).unwrap();
    db.insert(&Task::new("c")).unwrap();
    let batch = db.queue().next_batch(1).unwrap();
    db.transaction(|_| Ok(())).unwrap();
    // A conflict is set by the sync engine; emulate it.
    let status = db.status().unwrap();
    assert_eq!(
        (
            status.pending,
            status.in_flight,
            status.failed,
            status.conflicts
        ),
        (2, 1, 0, 0)
    );
    assert_eq!(status.last_sync, None);
    db.queue().complete(batch[0].id).unwrap();
    db.set_cursor("task", Some("cursor-7")).unwrap();
    clock.advance(Duration::from_secs(5));
    db.log_sync(&syncwright::SyncLogEntry {
        direction: syncwright::Direction::Push,
        entity_type: Some("task".into()),
        pulled: 0,
        pushed: 1,
        conflicts: 0,
        resolution: None,
        error: None,
    })
    .unwrap();
    let status = db.status().unwrap();
    assert_eq!(status.last_sync, Some(start() + Duration::from_secs(5)));
    assert_eq!(status.cursors.len(), 1);
    assert_eq!(status.cursors[0].cursor.as_deref(), Some("cursor-7"));
    assert_eq!(db.cursor("task").unwrap().as_deref(), Some("cursor-7"));
    let _ = a;
}

/// The lock files of live instances beside `path`.
fn owner_lock_files(dir: &TempDir) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(&dir.0)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains(".queue-owner."))
        .collect();
    names.sort();
    names
}

#[test]
fn a_second_open_never_takes_over_a_live_instances_in_flight_batch() {
    let dir = TempDir::new();
    let path = dir.path("app.db");
    let first = Database::open_with(&path, &migrations(), &[Task::ENTITY]).unwrap();
    first.insert(&Task::new("a")).unwrap();
    first.insert(&Task::new("b")).unwrap();
    let batch = first.queue().next_batch(10).unwrap();
    assert_eq!(batch.len(), 2);

    let second = Database::open_with(&path, &migrations(), &[Task::ENTITY]).unwrap();
    assert_eq!(
        second.status().unwrap().in_flight,
        2,
        "opening again took nothing back"
    );
    assert!(
        second.queue().next_batch(10).unwrap().is_empty(),
        "the entries are not handed out twice"
    );
    let err = second
        .queue()
        .complete(batch[0].id)
        .expect_err("the second instance does not own the entry");
    assert!(
        matches!(err, Error::QueueEntryClaimed { id, .. } if id == batch[0].id),
        "{err:?}"
    );
    assert!(matches!(
        second.queue().fail(batch[0].id, "x"),
        Err(Error::QueueEntryClaimed { .. })
    ));
    first
        .queue()
        .complete(batch[0].id)
        .expect("the owner still completes its entry");
    assert_eq!(
        owner_lock_files(&dir).len(),
        2,
        "each instance that asked for a batch holds its lock"
    );

    // Once the owner is gone, its last entry is taken back at the next open.
    drop(first);
    assert_eq!(
        owner_lock_files(&dir).len(),
        1,
        "a dropped instance removes its lock file"
    );
    let third = Database::open_with(&path, &migrations(), &[Task::ENTITY]).unwrap();
    let open = third.queue().open_entries().unwrap();
    assert_eq!(open.len(), 1);
    assert_eq!(
        (open[0].id, open[0].status),
        (batch[1].id, QueueStatus::Pending)
    );
    drop(second);
}

#[test]
fn a_child_create_waits_while_its_parent_create_backs_off() {
    let (db, clock) = memory_db();
    let task = db.insert(&Task::new("parent")).unwrap();
    let batch = db.queue().next_batch(10).unwrap();
    assert_eq!(batch.len(), 1);
    db.queue().fail(batch[0].id, "offline").unwrap();
    // The parent backs off; its child is queued after it and due now.
    let note = db
        .insert(&Note {
            task_id: Some(task.id),
            body: "child".into(),
            pinned: false,
        })
        .unwrap();
    assert!(
        db.queue().next_batch(10).unwrap().is_empty(),
        "the note's create must wait for its task's create"
    );
    clock.advance(Duration::from_secs(120));
    let batch = db.queue().next_batch(10).unwrap();
    let got: Vec<_> = batch.iter().map(|e| e.entity_id).collect();
    assert_eq!(
        got,
        [task.id, note.id],
        "parent and child may share a batch, parent first"
    );
}

#[test]
fn coalescing_unions_the_changed_fields_and_deletes_change_none() {
    let (db, _) = memory_db();
    let a = db.insert(&Task::new("a")).unwrap();
    let batch = db.queue().next_batch(10).unwrap();
    db.queue().complete(batch[0].id).unwrap();
    db.update(a.id, &Task::new("a2")).unwrap();
    db.update(
        a.id,
        &Task {
            done: true,
            ..Task::new("a2")
        },
    )
    .unwrap();
    let open = db.queue().open_entries().unwrap();
    assert_eq!(open.len(), 1, "the second update merged into the first");
    assert_eq!(
        open[0].changed_fields,
        Some(vec!["done".to_owned(), "title".to_owned()])
    );
    db.delete::<Task>(a.id).unwrap();
    let open = db.queue().open_entries().unwrap();
    assert_eq!(open[1].changed_fields, Some(Vec::new()));
    let created = db.queue().all_entries().unwrap();
    assert_eq!(
        created[0].changed_fields, None,
        "a create sends every field"
    );
}

/// The plan of `sql` as `EXPLAIN QUERY PLAN` prints it, one detail per line.
fn plan(conn: &rusqlite::Connection, sql: &str) -> String {
    let mut stmt = conn.prepare(&format!("EXPLAIN QUERY PLAN {sql}")).unwrap();
    let n = stmt.parameter_count();
    let rows = stmt
        .query_map(
            rusqlite::params_from_iter(std::iter::repeat_n(rusqlite::types::Value::Null, n)),
            |r| r.get::<_, String>(3),
        )
        .unwrap();
    rows.collect::<Result<Vec<_>, _>>().unwrap().join("\n")
}

#[test]
fn the_drain_looks_records_up_by_index_not_by_scanning_the_queue() {
    // Counting work instead of timing it: every per-record lookup of the drain (the ordering
    // rule's NOT EXISTS, the parent hold) must search the (entity_type, entity_id) index; a
    // scan there makes draining n entries O(n^2).
    let dir = TempDir::new();
    let path = dir.path("plan.db");
    drop(Database::open(&path, &migrations()).unwrap());
    let conn = rusqlite::Connection::open(&path).unwrap();
    let due = plan(&conn, syncwright::queue::DUE_SQL);
    assert!(
        due.contains("SEARCH q USING INDEX idx__sync_queue_status_id")
            && !due.contains("TEMP B-TREE"),
        "next_batch must walk the pending entries in queue order, not sort them all per batch:\n{due}"
    );
    assert!(
        due.contains("SEARCH p USING INDEX idx__sync_queue_entity_type_entity_id"),
        "the ordering rule scans instead of searching the record index:\n{due}"
    );
    let in_doubt = plan(&conn, syncwright::queue::IN_DOUBT_SQL);
    assert!(
        in_doubt.contains("SEARCH p USING INDEX idx__sync_queue_entity_type_entity_id")
            && !in_doubt.contains("TEMP B-TREE"),
        "{in_doubt}"
    );
    let hold = plan(&conn, syncwright::queue::OPEN_BEFORE_SQL);
    assert!(
        hold.contains("USING INDEX idx__sync_queue_entity_type_entity_id"),
        "the parent hold scans instead of searching the record index:\n{hold}"
    );
    assert!(
        !due.contains("SCAN p") && !hold.contains("SCAN _sync_queue"),
        "{due}\n{hold}"
    );
    // A pull checks every pulled record for open entries: a search, not a sort per record.
    let open_of = plan(&conn, syncwright::queue::OPEN_OF_SQL);
    assert!(
        open_of.contains("USING INDEX idx__sync_queue_entity_type_entity_id")
            && !open_of.contains("TEMP B-TREE"),
        "a record's open entries are not found by the record index in queue order:\n{open_of}"
    );
}

#[test]
fn completing_a_batch_settles_every_entry_and_record_in_one_call() {
    let (db, _clock) = memory_db();
    let a = db.insert(&Task::new("a")).unwrap();
    let b = db.insert(&Task::new("b")).unwrap();
    let batch = db.queue().next_batch(10).unwrap();
    let ids: Vec<i64> = batch.iter().map(|e| e.id).collect();
    db.queue()
        .complete_all_with_server_ids(&[(ids[0], "srv-a"), (ids[1], "srv-b")])
        .unwrap();
    for (id, server) in [(a.id, "srv-a"), (b.id, "srv-b")] {
        let record = db.get::<Task>(id).unwrap().unwrap();
        assert_eq!(record.sync_status, SyncStatus::Synced);
        assert_eq!(record.server_id.as_deref(), Some(server));
    }
    assert!(db.queue().open_entries().unwrap().is_empty());
}

#[test]
fn a_batch_completion_is_one_transaction_all_or_nothing() {
    // The batch API commits once: an entry that cannot complete (here: already completed)
    // rolls back the ones before it, which a commit per entry could not do.
    let (db, _clock) = memory_db();
    let a = db.insert(&Task::new("a")).unwrap();
    db.insert(&Task::new("b")).unwrap();
    let batch = db.queue().next_batch(10).unwrap();
    db.queue().complete(batch[1].id).unwrap();
    let err = db
        .queue()
        .complete_all(&[batch[0].id, batch[1].id])
        .unwrap_err();
    assert!(
        matches!(err, Error::QueueEntryState { id, .. } if id == batch[1].id),
        "{err:?}"
    );
    let first = db.queue().get(batch[0].id).unwrap().unwrap();
    assert_eq!(first.status, QueueStatus::InFlight);
    assert_eq!(
        db.get::<Task>(a.id).unwrap().unwrap().sync_status,
        SyncStatus::Pending
    );
    let missing = db.queue().complete_all(&[batch[0].id, 9_999]).unwrap_err();
    assert!(
        matches!(missing, Error::QueueEntryNotFound { id: 9_999 }),
        "{missing:?}"
    );
}

#[test]
fn a_records_open_entries_are_looked_up_without_re_preparing() {
    // SQLite re-prepares a statement whose plan read a bound value each time it is bound
    // again (an `ORDER BY` beside `entity_id = ?` does that): a pull checks every record, so
    // a re-prepare there costs more than the lookup. Counted, not timed.
    let dir = TempDir::new();
    let path = dir.path("plan.db");
    drop(Database::open(&path, &migrations()).unwrap());
    let conn = rusqlite::Connection::open(&path).unwrap();
    for i in 0..3 {
        let mut stmt = conn.prepare_cached(syncwright::queue::OPEN_OF_SQL).unwrap();
        let mut rows = stmt.query(["task", &format!("record-{i}")]).unwrap();
        while rows.next().unwrap().is_some() {}
    }
    let stmt = conn.prepare_cached(syncwright::queue::OPEN_OF_SQL).unwrap();
    assert_eq!(
        stmt.get_status(rusqlite::StatementStatus::RePrepare),
        0,
        "the open-entries lookup is prepared again on every use"
    );
}
