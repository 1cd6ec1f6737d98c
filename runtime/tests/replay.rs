//! Property: random inserts, updates, deletes and sync steps keep every pending record reachable
//! from the queue, and replaying the queue rebuilds the table.

mod common;

use std::collections::{BTreeMap, BTreeSet};

use common::*;
use proptest::prelude::*;
use syncwright::payload::values_from_payload;
use syncwright::{Action, SyncStatus, Syncable, Value};

#[derive(Debug, Clone)]
enum Op {
    Insert(String, i64),
    Update(usize, String, bool),
    Delete(usize),
    Push(usize),
    Fail(usize),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => ("[a-z]{0,6}", 0i64..5).prop_map(|(t, p)| Op::Insert(t, p)),
        4 => (any::<usize>(), "[a-z]{0,6}", any::<bool>()).prop_map(|(i, t, d)| Op::Update(i, t, d)),
        1 => any::<usize>().prop_map(Op::Delete),
        2 => (1usize..4).prop_map(Op::Push),
        1 => (1usize..3).prop_map(Op::Fail),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn queue_replays_to_the_same_table(ops in prop::collection::vec(op(), 1..40), coalesce in any::<bool>()) {
        let (db, _) = memory_db_with(syncwright::RetryPolicy { jitter: 0.0, base_delay: std::time::Duration::ZERO, ..Default::default() }, coalesce);
        let mut ids = Vec::new();
        for op in ops {
            match op {
                Op::Insert(title, priority) => ids.push(db.insert(&Task { priority, ..Task::new(&title) }).unwrap().id),
                Op::Update(i, title, done) if !ids.is_empty() => {
                    let id = ids[i % ids.len()];
                    match db.update(id, &Task { done, ..Task::new(&title) }) {
                        Ok(_) | Err(syncwright::Error::RecordDeleted { .. }) => {}
                        Err(e) => panic!("{e}"),
                    }
                }
                Op::Delete(i) if !ids.is_empty() => db.delete::<Task>(ids[i % ids.len()]).unwrap(),
                Op::Push(n) => for e in db.queue().next_batch(n).unwrap() { db.queue().complete(e.id).unwrap() },
                Op::Fail(n) => for e in db.queue().next_batch(n).unwrap() { db.queue().fail(e.id, "offline").unwrap(); },
                _ => {}
            }
        }
        let records = db.query::<Task>().include_deleted().fetch().unwrap();
        let entries = db.queue().all_entries().unwrap();
        // Every pending record is reachable from an open entry.
        for r in &records {
            let open = entries.iter().any(|e| e.entity_id == r.id && e.status != syncwright::QueueStatus::Completed);
            if r.sync_status == SyncStatus::Pending {
                prop_assert!(open, "pending record {} has no open queue entry", r.id);
            }
            if open {
                prop_assert!(matches!(r.sync_status, SyncStatus::Pending | SyncStatus::Error), "record {} with an open entry is {:?}", r.id, r.sync_status);
            }
        }
        // Replaying every entry in queue order rebuilds the table.
        let mut replayed: BTreeMap<uuid::Uuid, (Vec<Value>, bool)> = BTreeMap::new();
        for e in &entries {
            match e.action {
                Action::Create => {
                    prop_assert!(!replayed.contains_key(&e.entity_id), "one create per record");
                    replayed.insert(e.entity_id, (values_from_payload(Task::ENTITY, &e.payload).unwrap(), false));
                }
                Action::Update => {
                    // An update carries the fields it changed.
                    let row = replayed.get_mut(&e.entity_id).expect("update after create");
                    let changed = e.changed_fields.as_ref().expect("an update lists its changed fields");
                    let sent: BTreeSet<&String> = e.payload.keys().collect();
                    prop_assert_eq!(sent, changed.iter().collect::<BTreeSet<_>>());
                    let new = values_from_payload(Task::ENTITY, &e.payload).unwrap();
                    for (i, column) in Task::ENTITY.columns.iter().enumerate() {
                        if e.payload.contains_key(column.name) {
                            row.0[i] = new[i].clone();
                        }
                    }
                }
                Action::Delete => replayed.get_mut(&e.entity_id).expect("delete after create").1 = true,
            }
        }
        let table: BTreeMap<uuid::Uuid, (Vec<Value>, bool)> =
            records.iter().map(|r| (r.id, (r.data.to_values(), r.is_deleted))).collect();
        prop_assert_eq!(replayed, table);
    }
}
