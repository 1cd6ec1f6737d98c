//! Faults between the engine and the server (the scripted `FaultyTransport`): a response lost
//! after the server applied a push, a 500, a dropped pull. Afterwards: no duplicate, no lost
//! mutation, no skipped change.

#[macro_use]
mod backends;

use backends::Backend;
mod sync_app;

use sync_app::*;
use syncwright::sync::SyncOptions;
use syncwright::sync::protocol::{PullRequest, PullResponse, PushRequest, PushResponse};
use syncwright::sync::transport::{Transport, TransportError};
use syncwright::{Error, QueueStatus, SyncStatus, Uuid};
use syncwright_server::transport::{Fault, FaultyTransport};

fn project(name: &str) -> Project {
    Project {
        name: name.to_owned(),
        archived: false,
        budget: 0,
    }
}

fn task(project_id: Uuid, title: &str) -> Task {
    Task {
        project_id,
        title: title.to_owned(),
        done: false,
        priority: None,
    }
}

/// Pulls answer "nothing new": the next sync goes straight to the push.
struct PushOnly<T>(T);

impl<T: Transport> Transport for PushOnly<T> {
    fn pull(&self, request: &PullRequest) -> Result<PullResponse, TransportError> {
        let mut page = self.0.pull(request)?;
        page.changes.clear();
        page.has_more = false;
        Ok(page)
    }
    fn push(&self, request: &PushRequest) -> Result<PushResponse, TransportError> {
        self.0.push(request)
    }
}

const ENTITIES: [&str; 2] = ["project", "task"];

fn a_push_whose_response_was_lost_is_sent_again_and_applied_once(backend: Backend) {
    let server = server_on(backend);
    let a = Client::new(&server);
    let p = a.db.insert(&project("P")).unwrap();
    let t = a.db.insert(&task(p.id, "T")).unwrap();
    // The pull goes through; the push is applied by the server, then its answer is lost.
    let faulty = FaultyTransport::scripted(&a.transport, [None, Some(Fault::DropResponse)]);
    let error = a.sync_through(&faulty, &SyncOptions::new()).unwrap_err();
    assert!(matches!(error, Error::SyncStopped { .. }), "{error}");
    assert_eq!(
        server_records(&server, &ENTITIES).len(),
        2,
        "the server applied it"
    );
    let open = a.db.queue().open_entries().unwrap();
    assert_eq!(open.len(), 2, "the changes wait to be sent again");
    assert!(open.iter().all(|e| e.status == QueueStatus::Pending));

    // The retry sends the same keys: the server answers with its first answers.
    let keys: Vec<Uuid> = open.iter().map(|e| e.idempotency_key).collect();
    let report = a
        .sync_through(&PushOnly(&a.transport), &SyncOptions::new())
        .unwrap();
    assert_eq!(report.pushed, 2);
    let completed: Vec<Uuid> =
        a.db.queue()
            .all_entries()
            .unwrap()
            .iter()
            .map(|e| e.idempotency_key)
            .collect();
    assert_eq!(completed, keys, "no new keys");
    let on_server = server_records(&server, &ENTITIES);
    assert_eq!(on_server.len(), 2);
    assert!(
        on_server.values().all(|(version, _, _)| *version == 1),
        "applied once: {on_server:?}"
    );
    for id in [p.id, t.id] {
        let status =
            a.db.get::<Project>(id)
                .unwrap()
                .map(|r| r.sync_status)
                .or_else(|| a.db.get::<Task>(id).unwrap().map(|r| r.sync_status));
        assert_eq!(status, Some(SyncStatus::Synced));
    }
}

fn a_lost_response_then_a_pull_of_the_applied_change_settles_without_a_conflict(backend: Backend) {
    let server = server_on(backend);
    let a = Client::new(&server);
    let p = a.db.insert(&project("P")).unwrap();
    a.sync();
    a.later(10);
    a.db.update(p.id, &project("renamed")).unwrap();
    let faulty = FaultyTransport::scripted(&a.transport, [None, Some(Fault::DropResponse)]);
    a.sync_through(&faulty, &SyncOptions::new()).unwrap_err();
    // The next sync pulls the change it made itself before it could push it again.
    let report = a.sync();
    assert!(report.conflicts.is_empty(), "{report:?}");
    assert_eq!(a.db.status().unwrap().pending, 0);
    let on_server = server_records(&server, &ENTITIES);
    assert_eq!(
        on_server[&("project".to_owned(), p.id)].0,
        2,
        "applied once"
    );
    assert_eq!(
        a.db.get::<Project>(p.id).unwrap().unwrap().sync_status,
        SyncStatus::Synced
    );
}

fn a_500_applies_nothing_backs_off_and_the_next_sync_pushes(backend: Backend) {
    let server = server_on(backend);
    let a = Client::new(&server);
    a.db.insert(&project("P")).unwrap();
    let faulty = FaultyTransport::scripted(&a.transport, [None, Some(Fault::ServerError)]);
    let error = a.sync_through(&faulty, &SyncOptions::new()).unwrap_err();
    assert!(error.to_string().contains("500"), "{error}");
    assert!(server_records(&server, &ENTITIES).is_empty());
    let open = a.db.queue().open_entries().unwrap();
    assert_eq!(open[0].retry_count, 1, "the failure counts for the backoff");
    assert_eq!(a.sync().pushed, 1);
    assert_eq!(server_records(&server, &ENTITIES).len(), 1);
}

fn a_dropped_pull_stops_cleanly_and_the_next_sync_resumes_from_the_stored_cursors(
    backend: Backend,
) {
    let server = server_on(backend);
    let a = Client::new(&server);
    let p = a.db.insert(&project("P")).unwrap();
    a.db.transaction(|tx| {
        for i in 0..250 {
            tx.insert(&task(p.id, &format!("t{i}")))?;
        }
        Ok(())
    })
    .unwrap();
    a.sync();
    let b = Client::new(&server);
    // Page 1 and 2 arrive, page 3 is lost.
    let faulty = FaultyTransport::scripted(&b.transport, [None, None, Some(Fault::DropRequest)]);
    let error = b
        .sync_through(&faulty, SyncOptions::new().pull_limit(100))
        .unwrap_err();
    assert!(matches!(error, Error::SyncStopped { .. }));
    assert_eq!(
        b.db.query::<Task>().count().unwrap(),
        199,
        "two whole pages"
    );
    let report = b
        .sync_through(&b.transport, SyncOptions::new().pull_limit(100))
        .unwrap();
    assert_eq!(report.pulled, 51, "the other 51 of 251, nothing twice");
    assert_eq!(b.db.query::<Task>().count().unwrap(), 250);
}

fn a_change_made_after_a_lost_response_survives_even_under_server_wins(backend: Backend) {
    let server = server_on(backend);
    let a = Client::new(&server);
    let memo = a.db.insert(&MemoServer::new("v1", "")).unwrap();
    a.sync();
    // The edit reaches the server, its answer is lost; then the device edits again.
    a.later(10);
    a.db.update(memo.id, &MemoServer::new("v2", "")).unwrap();
    let faulty = FaultyTransport::scripted(&a.transport, [None, Some(Fault::DropResponse)]);
    a.sync_through(&faulty, &SyncOptions::new()).unwrap_err();
    a.later(10);
    a.db.update(memo.id, &MemoServer::new("v3", "")).unwrap();
    // The unanswered change is sent again before the pull, so the pull meets no change of
    // this device it does not know about: no conflict, and v3 is not dropped.
    let report = a.sync();
    assert!(report.conflicts.is_empty(), "{report:?}");
    let fresh = Client::new(&server);
    fresh.sync();
    assert_eq!(
        fresh
            .db
            .get::<MemoServer>(memo.id)
            .unwrap()
            .unwrap()
            .data
            .title,
        "v3"
    );
    assert_eq!(
        a.db.get::<MemoServer>(memo.id).unwrap().unwrap().data.title,
        "v3"
    );
}

on_both_backends!(
    a_push_whose_response_was_lost_is_sent_again_and_applied_once,
    a_lost_response_then_a_pull_of_the_applied_change_settles_without_a_conflict,
    a_500_applies_nothing_backs_off_and_the_next_sync_pushes,
    a_dropped_pull_stops_cleanly_and_the_next_sync_resumes_from_the_stored_cursors,
    a_change_made_after_a_lost_response_survives_even_under_server_wins,
);
