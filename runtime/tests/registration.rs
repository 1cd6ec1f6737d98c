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
