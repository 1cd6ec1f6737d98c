//! Property: whatever writes interleave with a client's paged pulls, every page hands the
//! client a parent before its child, and once it has pulled to the end it holds exactly the
//! server's records, each at its latest version.

#[macro_use]
mod backends;
mod common;

use std::collections::{BTreeMap, HashSet};

use common::*;
use proptest::prelude::*;
use serde_json::json;
use syncwright::Uuid;
use syncwright::sync::protocol::Outcome;

#[derive(Debug, Clone)]
enum Step {
    CreateProject,
    /// A task under the n-th project (modulo the count).
    CreateTask(usize),
    /// Update the n-th record (modulo the count).
    Update(usize),
    /// Delete the n-th record (modulo the count).
    Delete(usize),
    /// The client pulls one page of this size.
    PullPage(u32),
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        2 => Just(Step::CreateProject),
        3 => any::<usize>().prop_map(Step::CreateTask),
        3 => any::<usize>().prop_map(Step::Update),
        1 => any::<usize>().prop_map(Step::Delete),
        3 => (1u32..4).prop_map(Step::PullPage),
    ]
}

/// What the server should hold: entity, version and tombstone flag by id.
#[derive(Default)]
struct Model {
    records: BTreeMap<Uuid, (String, u64, bool)>,
    order: Vec<Uuid>,
    projects: Vec<Uuid>,
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn paged_pulls_interleaved_with_writes_keep_parents_first_and_converge(
        steps in proptest::collection::vec(step(), 1..40),
        final_limit in 1u32..5,
    ) {
        let server = server();
        let mut model = Model::default();
        let mut cursors = start(&["project", "task"]);
        let mut local: BTreeMap<Uuid, (u64, bool)> = BTreeMap::new();
        let pulled = |page: Vec<syncwright::sync::protocol::RemoteRecord>,
                          local: &mut BTreeMap<Uuid, (u64, bool)>| {
            for change in page {
                if let Some(parent) = change.fields.get("project_id").and_then(|v| v.as_str()) {
                    let parent = Uuid::parse_str(parent).unwrap();
                    prop_assert!(local.contains_key(&parent), "task {} before its project", change.id);
                }
                let known = local.get(&change.id).map_or(0, |(v, _)| *v);
                prop_assert!(change.server_version >= known, "a pull went back in time");
                local.insert(change.id, (change.server_version, change.deleted));
            }
            Ok(())
        };

        for step in steps {
            match step {
                Step::CreateProject => {
                    let id = Uuid::new_v4();
                    assert_accepted(&push(&server, "ana", 1, vec![create("project", id, 1, json!({ "name": "p" }))])[0]);
                    model.records.insert(id, ("project".into(), 1, false));
                    model.order.push(id);
                    model.projects.push(id);
                }
                Step::CreateTask(n) if !model.projects.is_empty() => {
                    let parent = model.projects[n % model.projects.len()];
                    let id = Uuid::new_v4();
                    assert_accepted(&push(&server, "ana", 1, vec![create("task", id, 1, json!({ "title": "t", "project_id": parent }))])[0]);
                    model.records.insert(id, ("task".into(), 1, false));
                    model.order.push(id);
                }
                Step::Update(n) | Step::Delete(n) if !model.order.is_empty() => {
                    let id = model.order[n % model.order.len()];
                    let (entity, version, deleted) = model.records[&id].clone();
                    let mutation = match (&step, entity.as_str()) {
                        (Step::Delete(_), _) => delete(&entity, id, version, 1),
                        (_, "project") => update(&entity, id, version, 1, json!({ "name": "q" })),
                        _ => update(&entity, id, version, 1, json!({ "done": true })),
                    };
                    let outcome = push(&server, "ana", 1, vec![mutation]).remove(0);
                    match outcome {
                        Outcome::Accepted { server_version, .. } => {
                            let now_deleted = deleted || matches!(step, Step::Delete(_));
                            model.records.insert(id, (entity, server_version, now_deleted));
                        }
                        Outcome::Conflict { current } => prop_assert!(deleted && current.deleted),
                        Outcome::Rejected { reason } => prop_assert!(false, "rejected: {reason}"),
                    }
                }
                Step::PullPage(limit) => {
                    let page = pull_page(&server, "ana", 1, &cursors, limit).unwrap();
                    cursors = page.cursors.into_iter().map(|(e, c)| (e, Some(c))).collect();
                    pulled(page.changes, &mut local)?;
                }
                _ => {}
            }
        }
        let (rest, _) = pull_all(&server, "ana", 1, &mut cursors, final_limit);
        pulled(rest, &mut local)?;

        let expected: BTreeMap<Uuid, (u64, bool)> =
            model.records.iter().map(|(id, (_, v, d))| (*id, (*v, *d))).collect();
        prop_assert_eq!(&local, &expected, "the client holds exactly the server's records");
        let ids: HashSet<Uuid> = local.keys().copied().collect();
        prop_assert_eq!(ids.len(), model.records.len());
    }
}
