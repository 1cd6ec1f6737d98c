//! Change subscriptions: one notification per commit that touched a watched table, none for a
//! rollback, across tables, threads, and the sync engine's remote apply.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::*;
use syncwright::{Database, Error, RemoteVersion, Syncable};

const NONE: Duration = Duration::from_millis(50);
const WAIT: Duration = Duration::from_secs(5);

fn tables(change: &syncwright::Change) -> Vec<&str> {
    change.tables.iter().map(String::as_str).collect()
}

#[test]
fn a_commit_notifies_a_table_watch_exactly_once() {
    let (db, _) = memory_db();
    let tasks = db.watch::<Task>();
    db.insert(&Task::new("one")).unwrap();
    let change = tasks.try_recv().expect("notified after the commit");
    assert_eq!(tables(&change), ["tasks"]);
    assert!(tasks.try_recv().is_none(), "one commit, one notification");
}

#[test]
fn a_rollback_never_notifies() {
    let (db, _) = memory_db();
    let tasks = db.watch::<Task>();
    let result: syncwright::Result<()> = db.transaction(|tx| {
        tx.insert(&Task::new("undone"))?;
        Err(Error::NotFound {
            entity: "task",
            id: "stop".into(),
        })
    });
    assert!(result.is_err());
    assert!(tasks.recv_timeout(NONE).is_none());
    // A commit refused by SQLite (a dangling foreign key) is a rollback too.
    let notes = db.watch::<Note>();
    let orphan = Note {
        task_id: Some(uuid::Uuid::new_v4()),
        body: "x".into(),
        pinned: false,
    };
    assert!(db.insert(&orphan).is_err());
    assert!(notes.recv_timeout(NONE).is_none());
    // And the next commit reports only its own tables.
    let all = db.watch_all();
    db.insert(&Task::new("kept")).unwrap();
    assert_eq!(tables(&all.try_recv().unwrap()), ["_sync_queue", "tasks"]);
}

#[test]
fn a_multi_table_transaction_notifies_each_watch_once_with_the_tables_it_touched() {
    let (db, _) = memory_db();
    let tasks = db.watch::<Task>();
    let notes = db.watch::<Note>();
    let both = db.watch_tables(&["tasks", "notes"]);
    db.transaction(|tx| {
        let task = tx.insert(&Task::new("parent"))?;
        tx.insert(&Note {
            task_id: Some(task.id),
            body: "child".into(),
            pinned: false,
        })?;
        tx.insert(&Note {
            task_id: Some(task.id),
            body: "child 2".into(),
            pinned: false,
        })?;
        Ok(())
    })
    .unwrap();
    assert_eq!(tables(&tasks.try_recv().unwrap()), ["tasks"]);
    assert_eq!(tables(&notes.try_recv().unwrap()), ["notes"]);
    assert_eq!(tables(&both.try_recv().unwrap()), ["notes", "tasks"]);
    assert!(tasks.try_recv().is_none() && notes.try_recv().is_none() && both.try_recv().is_none());
}

#[test]
fn a_commit_that_does_not_touch_the_table_does_not_notify() {
    let (db, _) = memory_db();
    let notes = db.watch::<Note>();
    db.insert(&Task::new("elsewhere")).unwrap();
    assert!(notes.try_recv().is_none());
}

#[test]
fn a_watch_on_another_thread_hears_every_commit_of_writer_threads() {
    let dir = TempDir::new();
    let db = Arc::new(
        Database::open_with(
            dir.path("app.db"),
            &migrations(),
            &[Task::ENTITY, Note::ENTITY],
        )
        .unwrap(),
    );
    let tasks = db.watch::<Task>();
    let watcher = std::thread::spawn(move || {
        let mut seen = 0;
        while seen < 20 {
            tasks
                .recv_timeout(WAIT)
                .expect("a change within the timeout");
            seen += 1;
        }
        assert!(
            tasks.recv_timeout(NONE).is_none(),
            "no more than one per commit"
        );
        seen
    });
    std::thread::scope(|s| {
        for w in 0..4 {
            let db = &db;
            s.spawn(move || {
                for i in 0..5 {
                    db.insert(&Task::new(&format!("{w}-{i}"))).unwrap();
                }
            });
        }
    });
    assert_eq!(watcher.join().unwrap(), 20);
}

#[test]
fn changes_applied_by_the_sync_engine_notify_like_local_writes() {
    let (db, _) = memory_db();
    let tasks = db.watch::<Task>();
    let id = uuid::Uuid::new_v4();
    let remote = RemoteVersion {
        server_id: "srv-9".into(),
        version: 4,
        updated_at: start(),
        is_deleted: false,
    };
    db.apply_remote(id, &Task::new("from the server"), &remote)
        .unwrap();
    assert_eq!(tables(&tasks.try_recv().unwrap()), ["tasks"]);
}

#[test]
fn a_watched_query_returns_fresh_results_after_a_commit() {
    let (db, _) = memory_db();
    let open = db.query::<Task>().filter_by(Task::DONE.eq(false)).watch();
    assert!(open.current().unwrap().is_empty());
    let task = db.insert(&Task::new("first")).unwrap();
    let fresh = open.next(WAIT).unwrap().unwrap();
    assert_eq!(fresh.len(), 1);
    db.modify::<Task>(task.id, |t| t.done = true).unwrap();
    assert!(open.next(WAIT).unwrap().unwrap().is_empty());
    assert!(open.next(NONE).is_none());
}

#[test]
fn the_status_summary_watch_reports_each_change_of_the_summary() {
    let (db, _) = memory_db();
    let mut status = db.watch_status();
    db.insert(&Task::new("queued")).unwrap();
    let summary = status.next(WAIT).unwrap().unwrap();
    assert_eq!(summary.pending, 1);
    let batch = db.queue().next_batch(10).unwrap();
    let summary = status.next(WAIT).unwrap().unwrap();
    assert_eq!((summary.pending, summary.in_flight), (0, 1));
    db.queue()
        .complete_with_server_id(batch[0].id, "srv-1")
        .unwrap();
    let summary = status.next(WAIT).unwrap().unwrap();
    assert_eq!((summary.pending, summary.in_flight), (0, 0));
    assert!(status.next(NONE).is_none());
}

#[test]
fn dropping_a_subscription_unsubscribes() {
    let (db, _) = memory_db();
    let kept = db.watch::<Task>();
    drop(db.watch::<Task>());
    db.insert(&Task::new("x")).unwrap();
    assert!(kept.try_recv().is_some());
}
