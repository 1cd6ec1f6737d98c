//! Two schema versions of one app (the sync-app fixture's v1 and v2) syncing through one
//! server: an older client's push keeps the fields it does not know, a pull into an older
//! client skips them, and after the older client upgrades, a migration sync brings the new
//! fields' values to the records it pulled before. (A client newer than the server:
//! `engine_sync.rs`, `a_client_newer_than_the_server_is_refused_clearly_and_keeps_its_queue`.)

#[macro_use]
mod backends;

use backends::Backend;
mod sync_app;

use std::sync::Arc;

use sync_app::*;
use syncwright::{Database, ManualClock, SyncStatus};

fn an_older_clients_push_keeps_the_fields_it_does_not_know(backend: Backend) {
    let server = server_on(backend);
    let new = Client::new(&server);
    let old = Client::at_version(&server, 1);
    let p = new
        .db
        .insert(&Project {
            name: "Bridge".into(),
            archived: false,
            budget: 500,
        })
        .unwrap();
    new.sync();
    old.sync();
    let at_old = old
        .db
        .get::<ProjectV1>(p.id)
        .unwrap()
        .expect("pulled into v1");
    assert_eq!(at_old.data.name, "Bridge", "the fields v1 knows arrive");
    old.later(10);
    old.db
        .update(
            p.id,
            &ProjectV1 {
                name: "Bridge (v1 edit)".into(),
                archived: true,
            },
        )
        .unwrap();
    old.sync();
    new.sync();
    let at_new = new.db.get::<Project>(p.id).unwrap().unwrap();
    assert_eq!(
        at_new.data,
        Project {
            name: "Bridge (v1 edit)".into(),
            archived: true,
            budget: 500,
        },
        "the budget v1 does not know kept its server value"
    );
    let on_server = server_records(&server, &["project"]);
    assert_eq!(on_server[&("project".to_owned(), p.id)].2["budget"], 500);
}

fn a_create_from_an_older_client_gets_the_newer_fields_defaults(backend: Backend) {
    let server = server_on(backend);
    let old = Client::at_version(&server, 1);
    let p = old
        .db
        .insert(&ProjectV1 {
            name: "Old made".into(),
            archived: false,
        })
        .unwrap();
    old.sync();
    let new = Client::new(&server);
    new.sync();
    assert_eq!(new.db.get::<Project>(p.id).unwrap().unwrap().data.budget, 0);
}

#[test]
fn after_an_upgrade_records_pulled_before_get_the_new_fields_values() {
    let dir =
        std::env::temp_dir().join(format!("syncwright-migration-sync-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("old.db");
    let server = server();
    let new = Client::new(&server);
    let p = new
        .db
        .insert(&Project {
            name: "Bridge".into(),
            archived: false,
            budget: 750,
        })
        .unwrap();
    let t = new
        .db
        .insert(&Task {
            project_id: p.id,
            title: "Bolts".into(),
            done: false,
            priority: Some(3),
        })
        .unwrap();
    let c = new
        .db
        .insert(&Comment {
            task_id: t.id,
            body: "rusty".into(),
        })
        .unwrap();
    new.sync();

    let open = |version: u32| -> Database {
        let entities = if version == 1 {
            entities_v1()
        } else {
            entities_v2()
        };
        Database::options()
            .clock(Arc::new(ManualClock::new(start())))
            .retry_policy(no_backoff())
            .entities(&entities)
            .open(&path, &migrations(version))
            .unwrap()
    };
    let transport = syncwright_server::transport::InProcessTransport::new(server.clone(), "ana");
    {
        let old = open(1);
        old.sync(&transport).unwrap();
        assert!(old.get::<ProjectV1>(p.id).unwrap().is_some());
    }
    // The app updates to v2: the migration adds `budget` (default 0) and `priority` (NULL).
    let upgraded = open(2);
    let before = upgraded.get::<Project>(p.id).unwrap().unwrap();
    assert_eq!(
        before.data.budget, 0,
        "the column's default until the migration sync"
    );
    let report = upgraded.sync(&transport).unwrap();
    assert_eq!(
        report.resynced,
        ["project", "task"],
        "the entities whose fields changed are pulled again from the start"
    );
    let project = upgraded.get::<Project>(p.id).unwrap().unwrap();
    assert_eq!(project.data.budget, 750);
    assert_eq!(project.sync_status, SyncStatus::Synced);
    assert_eq!(
        upgraded.get::<Task>(t.id).unwrap().unwrap().data.priority,
        Some(3)
    );
    assert_eq!(
        upgraded.get::<Comment>(c.id).unwrap().unwrap().data.body,
        "rusty",
        "an entity new in v2 is pulled from the start"
    );
    assert!(
        upgraded.sync(&transport).unwrap().resynced.is_empty(),
        "once"
    );
    drop(upgraded);
    let _ = std::fs::remove_dir_all(&dir);
}

on_both_backends!(
    an_older_clients_push_keeps_the_fields_it_does_not_know,
    a_create_from_an_older_client_gets_the_newer_fields_defaults,
);
