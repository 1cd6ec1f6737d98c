//! No registration trap: migrations that carry the app's entities (the generated `MIGRATIONS`
//! does) register every entity at open, so a restart that forgets them cannot strand queue
//! entries.

mod common;

use common::*;
use syncwright::{Database, Migration, Migrations, Syncable};

/// The fixture migrations embedded the way the generated module embeds them, entities included.
fn embedded() -> Migrations {
    let loaded = migrations();
    let leak = |m: &syncwright::OwnedMigration| Migration {
        version: m.version,
        name: Box::leak(m.name.clone().into_boxed_str()),
        sql: Box::leak(m.sql.clone().into_boxed_str()),
        checksum: Box::leak(m.checksum.clone().into_boxed_str()),
    };
    Migrations {
        version: loaded.version,
        schema: leak(&loaded.schema),
        steps: Box::leak(
            loaded
                .steps
                .iter()
                .map(leak)
                .collect::<Vec<_>>()
                .into_boxed_slice(),
        ),
        entities: &[Task::ENTITY, Note::ENTITY],
    }
}

#[test]
fn opening_with_migrations_that_carry_entities_registers_every_one() {
    let dir = TempDir::new();
    let migrations = embedded();
    let db = Database::open(dir.path("app.db"), &migrations).unwrap();
    let note = db
        .insert(&Note {
            task_id: None,
            body: "n".into(),
            pinned: false,
        })
        .unwrap();
    let batch = db.queue().next_batch(10).unwrap();
    assert_eq!(batch.len(), 1);
    drop(db);

    // The restart: the plain open call, no entity named, nothing read or written before the
    // queue is settled. Without the entities in the migrations this fails with "unknown
    // entity `note`: register it when opening the database".
    let db = Database::open(dir.path("app.db"), &migrations).unwrap();
    let batch = db.queue().next_batch(10).unwrap();
    assert_eq!(batch.len(), 1, "the in-flight entry was recovered");
    db.queue()
        .complete_with_server_id(batch[0].id, "srv-1")
        .unwrap();
    assert_eq!(
        db.get::<Note>(note.id)
            .unwrap()
            .unwrap()
            .server_id
            .as_deref(),
        Some("srv-1")
    );
}

#[test]
fn purge_tombstones_at_open_removes_old_synced_tombstones_only_when_asked() {
    let dir = TempDir::new();
    let clock = std::sync::Arc::new(syncwright::ManualClock::new(start()));
    let open = |purge: bool| {
        let mut options = Database::options();
        options.clock(clock.clone()).entities(&[Task::ENTITY]);
        if purge {
            options.purge_tombstones_at_open(syncwright::DEFAULT_TOMBSTONE_AGE);
        }
        options.open(dir.path("app.db"), &migrations()).unwrap()
    };
    let db = open(false);
    let settle = |db: &Database| {
        for entry in db.queue().next_batch(10).unwrap() {
            db.queue().complete(entry.id).unwrap();
        }
    };
    let task = db.insert(&Task::new("old")).unwrap();
    settle(&db);
    db.delete::<Task>(task.id).unwrap();
    settle(&db);
    drop(db);
    clock.advance(syncwright::DEFAULT_TOMBSTONE_AGE + std::time::Duration::from_secs(1));

    let db = open(false);
    assert!(
        db.get_including_deleted::<Task>(task.id).unwrap().is_some(),
        "kept by default"
    );
    drop(db);
    let db = open(true);
    assert!(
        db.get_including_deleted::<Task>(task.id).unwrap().is_none(),
        "purged at open"
    );
}
