//! Several threads write while another drains the queue: nothing is lost or duplicated.

mod common;

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use common::*;
use syncwright::{Action, Database, SyncStatus, Syncable};

#[test]
fn writers_and_a_syncing_thread_lose_and_duplicate_nothing() {
    let dir = TempDir::new();
    let db =
        Arc::new(Database::open_with(dir.path("app.db"), &migrations(), &[Task::ENTITY]).unwrap());
    let writing = Arc::new(AtomicBool::new(true));
    let syncer = {
        let (db, writing) = (db.clone(), writing.clone());
        std::thread::spawn(move || {
            let mut pushed = Vec::new();
            loop {
                let still_writing = writing.load(Ordering::SeqCst);
                let batch = db.queue().next_batch(16).unwrap();
                if batch.is_empty() && !still_writing {
                    return pushed;
                }
                for entry in batch {
                    db.queue().complete(entry.id).unwrap();
                    pushed.push(entry);
                }
            }
        })
    };
    let writers: Vec<_> = (0..4)
        .map(|w| {
            let db = db.clone();
            std::thread::spawn(move || {
                let mut finals = HashMap::new();
                for i in 0..60 {
                    let task = db.insert(&Task::new(&format!("w{w} t{i}"))).unwrap();
                    let last = Task {
                        priority: i,
                        done: true,
                        ..Task::new(&format!("w{w} t{i} done"))
                    };
                    db.update(task.id, &last).unwrap();
                    let _ = db
                        .get::<Task>(task.id)
                        .unwrap()
                        .expect("own write is visible");
                    finals.insert(task.id, last);
                }
                finals
            })
        })
        .collect();
    let mut expected = HashMap::new();
    for w in writers {
        expected.extend(w.join().unwrap());
    }
    writing.store(false, Ordering::SeqCst);
    let pushed = syncer.join().unwrap();

    let records = db.query::<Task>().fetch().unwrap();
    assert_eq!(records.len(), expected.len(), "every insert stored once");
    for r in &records {
        assert_eq!(&r.data, &expected[&r.id], "final state of {}", r.id);
        assert_eq!(r.sync_status, SyncStatus::Synced, "{} synced", r.id);
    }
    let mut creates = HashMap::new();
    for e in &pushed {
        if e.action == Action::Create {
            *creates.entry(e.entity_id).or_insert(0) += 1;
        }
    }
    assert_eq!(creates.len(), expected.len());
    assert!(
        creates.values().all(|&n| n == 1),
        "each record created exactly once on the server"
    );
    let keys: std::collections::HashSet<_> = pushed.iter().map(|e| e.idempotency_key).collect();
    assert_eq!(keys.len(), pushed.len(), "no entry pushed twice");
    assert!(db.queue().open_entries().unwrap().is_empty());
    assert_eq!(db.queue().all_entries().unwrap().len(), pushed.len());
    assert_eq!(Task::ENTITY.name, "task");
}

/// A read borrows the writer connection only when no write holds it: while another
/// thread has a write open, `get` neither waits for it nor sees its uncommitted rows.
#[test]
fn a_get_while_another_thread_holds_a_write_neither_waits_nor_sees_uncommitted_rows() {
    let dir = TempDir::new();
    let db =
        Arc::new(Database::open_with(dir.path("app.db"), &migrations(), &[Task::ENTITY]).unwrap());
    let committed = db.insert(&Task::new("committed")).unwrap().id;
    let (holding_tx, holding_rx) = std::sync::mpsc::channel();
    let (read_tx, read_rx) = std::sync::mpsc::channel::<()>();
    let writer = {
        let db = db.clone();
        std::thread::spawn(move || {
            db.transaction(|tx| {
                let open = tx.insert(&Task::new("not yet committed"))?.id;
                tx.update(committed, &Task::new("changed, not yet committed"))?;
                holding_tx.send(open).unwrap();
                // Held until the reader is done; if the reader waited for this write, it is
                // released after 10 s and the reader then sees the commit.
                let _ = read_rx.recv_timeout(std::time::Duration::from_secs(10));
                Ok(())
            })
            .unwrap();
        })
    };
    let open = holding_rx.recv().unwrap();
    let started = std::time::Instant::now();
    let unseen = db.get::<Task>(open).unwrap();
    let before = db.get::<Task>(committed).unwrap().unwrap();
    read_tx.send(()).unwrap();
    writer.join().unwrap();
    assert!(
        started.elapsed() < std::time::Duration::from_secs(5),
        "the reads waited for the write"
    );
    assert!(unseen.is_none(), "an uncommitted row was read");
    assert_eq!(before.title, "committed");
    assert_eq!(
        db.get::<Task>(committed).unwrap().unwrap().title,
        "changed, not yet committed",
        "after the commit the read sees it"
    );
}

/// A `get` inside the thread's own transaction closure reads the last commit (on a reader)
/// instead of deadlocking on the writer the closure holds.
#[test]
fn a_get_inside_the_threads_own_transaction_reads_the_last_commit_without_deadlock() {
    let dir = TempDir::new();
    let db = Database::open_with(dir.path("app.db"), &migrations(), &[Task::ENTITY]).unwrap();
    let kept = db.insert(&Task::new("kept")).unwrap().id;
    db.transaction(|tx| {
        let open = tx.insert(&Task::new("open"))?.id;
        assert!(db.get::<Task>(open)?.is_none());
        assert_eq!(db.get::<Task>(kept)?.unwrap().title, "kept");
        Ok(())
    })
    .unwrap();
}
