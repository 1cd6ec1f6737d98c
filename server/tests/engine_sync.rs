//! The sync engine end to end through the in-process server: pull and apply, push and settle,
//! paging, parents before children, rejections and refusals.

#[macro_use]
mod backends;

use backends::Backend;
mod sync_app;

use std::sync::Arc;

use sync_app::*;
use syncwright::sync::SyncOptions;
use syncwright::sync::protocol::{PullRequest, PullResponse, PushRequest, PushResponse};
use syncwright::sync::transport::{Transport, TransportError};
use syncwright::{Error, QueueStatus, SyncStatus, Uuid};

/// Counts the round trips of a transport.
struct Counting<T> {
    inner: T,
    pulls: std::cell::Cell<u64>,
    pushes: std::cell::Cell<u64>,
}

impl<T> Counting<T> {
    fn new(inner: T) -> Self {
        Counting {
            inner,
            pulls: 0.into(),
            pushes: 0.into(),
        }
    }
}

impl<T: Transport> Transport for Counting<T> {
    fn pull(&self, request: &PullRequest) -> Result<PullResponse, TransportError> {
        self.pulls.set(self.pulls.get() + 1);
        self.inner.pull(request)
    }
    fn push(&self, request: &PushRequest) -> Result<PushResponse, TransportError> {
        self.pushes.set(self.pushes.get() + 1);
        self.inner.push(request)
    }
}

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

fn records_created_on_one_device_arrive_on_another_synced_and_unqueued(backend: Backend) {
    let server = server_on(backend);
    let (a, b) = (Client::new(&server), Client::new(&server));
    let p = a.db.insert(&project("Harbour bridge")).unwrap();
    let t = a.db.insert(&task(p.id, "Check bolts")).unwrap();
    let report = a.sync();
    assert_eq!(report.pushed, 2);
    let p_at_a = a.db.get::<Project>(p.id).unwrap().unwrap();
    assert_eq!(p_at_a.sync_status, SyncStatus::Synced);
    assert!(p_at_a.server_id.is_some(), "the server id is stored");

    let report = b.sync();
    assert_eq!(report.pulled, 2);
    let t_at_b = b.db.get::<Task>(t.id).unwrap().expect("the task arrived");
    assert_eq!(t_at_b.data, t.data);
    assert_eq!(t_at_b.sync_status, SyncStatus::Synced);
    assert!(t_at_b.synced_at.is_some());
    assert!(
        b.db.queue().all_entries().unwrap().is_empty(),
        "a pulled record is not queued"
    );
    // A's own changes come back once, at the versions it has: no-ops.
    assert_eq!(a.sync().pulled, 0);
}

fn an_update_sends_only_the_fields_it_changed_on_its_base_version(backend: Backend) {
    let server = server_on(backend);
    let (a, b) = (Client::new(&server), Client::new(&server));
    let p = a.db.insert(&project("Old")).unwrap();
    a.sync();
    b.sync();
    // A renames, B archives: each update carries only its field, so both survive.
    a.later(10);
    a.db.update(p.id, &project("New")).unwrap();
    let entry = &a.db.queue().open_entries().unwrap()[0];
    assert_eq!(entry.base_version, Some(1));
    assert_eq!(entry.changed_fields, Some(vec!["name".to_owned()]));
    a.sync();
    b.later(20);
    let mut archived = b.db.get::<Project>(p.id).unwrap().unwrap().data;
    archived.archived = true;
    b.db.update(p.id, &archived).unwrap();
    b.sync();
    a.sync();
    let at_a = a.db.get::<Project>(p.id).unwrap().unwrap();
    let at_b = b.db.get::<Project>(p.id).unwrap().unwrap();
    assert_eq!(at_a.data, at_b.data);
}

fn deletes_arrive_as_tombstones(backend: Backend) {
    let server = server_on(backend);
    let (a, b) = (Client::new(&server), Client::new(&server));
    let p = a.db.insert(&project("Doomed")).unwrap();
    a.sync();
    b.sync();
    a.later(5);
    a.db.delete::<Project>(p.id).unwrap();
    a.sync();
    b.sync();
    assert!(b.db.get::<Project>(p.id).unwrap().is_none());
    let tomb =
        b.db.get_including_deleted::<Project>(p.id)
            .unwrap()
            .unwrap();
    assert!(tomb.is_deleted);
    assert_eq!(tomb.sync_status, SyncStatus::Synced);
}

fn ten_thousand_records_pull_in_exactly_twenty_pages_of_500(backend: Backend) {
    let server = server_on(backend);
    let a = Client::new(&server);
    let p = a.db.insert(&project("Big")).unwrap();
    a.db.transaction(|tx| {
        for i in 0..9_999 {
            tx.insert(&task(p.id, &format!("task {i}")))?;
        }
        Ok(())
    })
    .unwrap();
    a.sync_through(&a.transport, SyncOptions::new().batch_size(1000))
        .unwrap();
    let b = Client::new(&server);
    let counting = Counting::new(&b.transport);
    let report = b
        .sync_through(&counting, SyncOptions::new().pull_limit(500))
        .unwrap();
    assert_eq!(report.pulled, 10_000);
    assert_eq!(counting.pulls.get(), 20, "10,000 records / 500 per page");
    assert_eq!(b.db.query::<Task>().count().unwrap(), 9_999);
}

fn a_thousand_queued_mutations_push_in_ceil_n_over_batch_round_trips(backend: Backend) {
    let server = server_on(backend);
    let a = Client::new(&server);
    a.db.transaction(|tx| {
        for i in 0..1_000 {
            tx.insert(&project(&format!("p{i}")))?;
        }
        Ok(())
    })
    .unwrap();
    let counting = Counting::new(&a.transport);
    let report = a
        .sync_through(&counting, SyncOptions::new().batch_size(64))
        .unwrap();
    assert_eq!(report.pushed, 1_000);
    assert_eq!(counting.pushes.get(), 1_000u64.div_ceil(64));
    assert_eq!(a.db.status().unwrap().pending, 0);
}

fn a_mutation_the_server_rejects_fails_with_its_reason_and_the_rest_syncs(backend: Backend) {
    let server = server_on(backend);
    let a = Client::new(&server);
    // A task whose project the server never got (its create was dropped from the queue).
    let orphan_parent = a.db.insert(&project("never sent")).unwrap();
    let entry = a.db.queue().open_entries().unwrap()[0].id;
    a.db.queue().discard(entry).unwrap();
    let orphan = a.db.insert(&task(orphan_parent.id, "orphan")).unwrap();
    let fine = a.db.insert(&project("fine")).unwrap();
    let report = a.sync();
    assert_eq!(report.rejected.len(), 1, "{report:?}");
    assert_eq!(report.rejected[0].id, orphan.id);
    assert!(
        report.rejected[0]
            .reason
            .contains("does not exist on the server")
    );
    let failed = a.db.queue().failed().unwrap();
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0].status, QueueStatus::Failed);
    assert_eq!(
        a.db.get::<Task>(orphan.id).unwrap().unwrap().sync_status,
        SyncStatus::Error
    );
    assert_eq!(
        a.db.get::<Project>(fine.id).unwrap().unwrap().sync_status,
        SyncStatus::Synced
    );
}

#[test]
fn a_client_newer_than_the_server_is_refused_clearly_and_keeps_its_queue() {
    let server = server_v1();
    let a = Client::new(&server);
    a.db.insert(&project("from the future")).unwrap();
    let error = a.db.sync(&a.transport).unwrap_err();
    assert!(matches!(error, Error::SyncStopped { .. }), "{error:?}");
    let message = error.to_string();
    assert!(
        message.contains("schema version 2 is newer than the server's (1)"),
        "{message}"
    );
    let open = a.db.queue().open_entries().unwrap();
    assert_eq!(open.len(), 1, "the queue is kept");
    assert_eq!(open[0].status, QueueStatus::Pending);
    assert_eq!(open[0].retry_count, 0);
    let _ = Arc::clone(&server);
}

/// A subscriber that keeps the `u64` fields recorded on spans named `sync`.
#[derive(Default)]
struct SpanCounts(std::sync::Mutex<std::collections::BTreeMap<String, u64>>);

struct Visitor<'a>(&'a mut std::collections::BTreeMap<String, u64>);

impl tracing::field::Visit for Visitor<'_> {
    fn record_u64(&mut self, field: &tracing::field::Field, value: u64) {
        self.0.insert(field.name().to_owned(), value);
    }
    fn record_debug(&mut self, _: &tracing::field::Field, _: &dyn std::fmt::Debug) {}
}

impl tracing::Subscriber for &'static SpanCounts {
    fn enabled(&self, _: &tracing::Metadata<'_>) -> bool {
        true
    }
    fn new_span(&self, span: &tracing::span::Attributes<'_>) -> tracing::span::Id {
        if span.metadata().name() == "sync" {
            span.record(&mut Visitor(&mut self.0.lock().unwrap()));
        }
        tracing::span::Id::from_u64(1)
    }
    fn record(&self, _: &tracing::span::Id, values: &tracing::span::Record<'_>) {
        values.record(&mut Visitor(&mut self.0.lock().unwrap()));
    }
    fn record_follows_from(&self, _: &tracing::span::Id, _: &tracing::span::Id) {}
    fn event(&self, _: &tracing::Event<'_>) {}
    fn enter(&self, _: &tracing::span::Id) {}
    fn exit(&self, _: &tracing::span::Id) {}
}

fn each_run_records_its_counts_in_a_tracing_span(backend: Backend) {
    let server = server_on(backend);
    let a = Client::new(&server);
    let p = a.db.insert(&project("P")).unwrap();
    a.db.insert(&task(p.id, "T")).unwrap();
    let counts: &'static SpanCounts = Box::leak(Box::default());
    tracing::subscriber::with_default(counts, || a.sync());
    let recorded = counts.0.lock().unwrap().clone();
    assert_eq!(recorded.get("pushed"), Some(&2), "{recorded:?}");
    assert_eq!(recorded.get("push_requests"), Some(&1), "{recorded:?}");
    assert_eq!(recorded.get("pulled"), Some(&0), "{recorded:?}");
    assert_eq!(recorded.get("conflicts"), Some(&0), "{recorded:?}");
}

on_both_backends!(
    records_created_on_one_device_arrive_on_another_synced_and_unqueued,
    an_update_sends_only_the_fields_it_changed_on_its_base_version,
    deletes_arrive_as_tombstones,
    ten_thousand_records_pull_in_exactly_twenty_pages_of_500,
    a_thousand_queued_mutations_push_in_ceil_n_over_batch_round_trips,
    a_mutation_the_server_rejects_fails_with_its_reason_and_the_rest_syncs,
    each_run_records_its_counts_in_a_tracing_span,
);
