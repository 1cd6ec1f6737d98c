//! Property: 2-4 devices of one user make random creates, updates and deletes on projects and
//! their tasks, and sync in a random order through transports that drop requests, drop
//! responses after the server applied them, answer 500 or stall. After a final sync of
//! everyone, every database holds exactly the server's records, every accepted mutation was
//! applied exactly once, and no child reached the server before its parent (the server would
//! have rejected it).
//!
//! Runs on SQLite and, when the tests have one, PostgreSQL. 256 cases by default (a quarter on
//! PostgreSQL); a longer run: `PROPTEST_CASES=5000 cargo test -p syncwright-server
//! --test engine_convergence --release`.

#[macro_use]
mod backends;

use backends::Backend;
mod sync_app;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Mutex;

use proptest::prelude::*;
use sync_app::*;
use syncwright::sync::SyncOptions;
use syncwright::sync::protocol::{
    Action, Outcome, PullRequest, PullResponse, PushRequest, PushResponse,
};
use syncwright::sync::transport::{Transport, TransportError};
use syncwright::{Error, Uuid};
use syncwright_server::transport::FaultyTransport;

/// One step of the schedule; indexes pick modulo what exists.
#[derive(Debug, Clone)]
enum Step {
    CreateProject {
        device: usize,
    },
    CreateTask {
        device: usize,
        project: usize,
    },
    RenameProject {
        device: usize,
        project: usize,
    },
    ToggleTask {
        device: usize,
        task: usize,
    },
    DeleteProject {
        device: usize,
        project: usize,
    },
    DeleteTask {
        device: usize,
        task: usize,
    },
    /// Sync, with faults from `seed` when given.
    Sync {
        device: usize,
        faults: Option<u64>,
    },
    /// The device's clock moves on.
    Later {
        device: usize,
        ms: u64,
    },
}

fn step() -> impl Strategy<Value = Step> {
    let d = 0usize..4;
    prop_oneof![
        2 => d.clone().prop_map(|device| Step::CreateProject { device }),
        3 => (d.clone(), any::<usize>()).prop_map(|(device, project)| Step::CreateTask { device, project }),
        2 => (d.clone(), any::<usize>()).prop_map(|(device, project)| Step::RenameProject { device, project }),
        3 => (d.clone(), any::<usize>()).prop_map(|(device, task)| Step::ToggleTask { device, task }),
        1 => (d.clone(), any::<usize>()).prop_map(|(device, project)| Step::DeleteProject { device, project }),
        1 => (d.clone(), any::<usize>()).prop_map(|(device, task)| Step::DeleteTask { device, task }),
        4 => (d.clone(), proptest::option::of(any::<u64>())).prop_map(|(device, faults)| Step::Sync { device, faults }),
        1 => (d, 0u64..50).prop_map(|(device, ms)| Step::Later { device, ms }),
    ]
}

/// Every push answer the server gave (lost ones included): key, record, outcome.
#[derive(Default)]
struct Answers(Mutex<Vec<(Uuid, Action, Uuid, Outcome)>>);

/// Records the server's answers below the fault injection, so lost answers count too.
struct Recording<'a, T> {
    inner: T,
    answers: &'a Answers,
}

impl<T: Transport> Transport for Recording<'_, T> {
    fn pull(&self, request: &PullRequest) -> Result<PullResponse, TransportError> {
        self.inner.pull(request)
    }
    fn push(&self, request: &PushRequest) -> Result<PushResponse, TransportError> {
        let response = self.inner.push(request)?;
        let mut answers = self.answers.0.lock().unwrap();
        for (m, r) in request.mutations.iter().zip(&response.results) {
            answers.push((m.idempotency_key, m.action, m.id, r.outcome.clone()));
        }
        Ok(response)
    }
}

fn pick(ids: &[Uuid], n: usize) -> Option<Uuid> {
    (!ids.is_empty()).then(|| ids[n % ids.len()])
}

fn run(backend: Backend, devices: usize, steps: &[Step]) -> Result<(), TestCaseError> {
    let server = server_on(backend);
    let clients: Vec<Client> = (0..devices).map(|_| Client::new(&server)).collect();
    let answers = Answers::default();
    let mut names = 0u64;
    let options = *SyncOptions::new().batch_size(3).pull_limit(4);
    for step in steps {
        match *step {
            Step::CreateProject { device } => {
                names += 1;
                clients[device % devices]
                    .db
                    .insert(&Project {
                        name: format!("p{names}"),
                        archived: false,
                        budget: 0,
                    })
                    .unwrap();
            }
            Step::CreateTask { device, project } => {
                let c = &clients[device % devices];
                if let Some(project_id) = pick(&c.live::<Project>(), project) {
                    names += 1;
                    c.db.insert(&Task {
                        project_id,
                        title: format!("t{names}"),
                        done: false,
                        priority: None,
                    })
                    .unwrap();
                }
            }
            Step::RenameProject { device, project } => {
                let c = &clients[device % devices];
                if let Some(id) = pick(&c.live::<Project>(), project) {
                    names += 1;
                    let mut p = c.db.get::<Project>(id).unwrap().unwrap().data;
                    p.name = format!("p{names}");
                    c.db.update(id, &p).unwrap();
                }
            }
            Step::ToggleTask { device, task } => {
                let c = &clients[device % devices];
                if let Some(id) = pick(&c.live::<Task>(), task) {
                    let mut t = c.db.get::<Task>(id).unwrap().unwrap().data;
                    t.done = !t.done;
                    c.db.update(id, &t).unwrap();
                }
            }
            Step::DeleteProject { device, project } => {
                let c = &clients[device % devices];
                if let Some(id) = pick(&c.live::<Project>(), project) {
                    c.db.delete::<Project>(id).unwrap();
                }
            }
            Step::DeleteTask { device, task } => {
                let c = &clients[device % devices];
                if let Some(id) = pick(&c.live::<Task>(), task) {
                    c.db.delete::<Task>(id).unwrap();
                }
            }
            Step::Sync { device, faults } => {
                let c = &clients[device % devices];
                let recording = Recording {
                    inner: &c.transport,
                    answers: &answers,
                };
                let result = match faults {
                    Some(seed) => {
                        c.sync_through(&FaultyTransport::seeded(recording, seed, 30), &options)
                    }
                    None => c.sync_through(&recording, &options),
                };
                match result {
                    Ok(report) => prop_assert!(report.rejected.is_empty(), "{report:?}"),
                    Err(Error::SyncStopped { source }) => {
                        prop_assert!(source.is_retryable(), "refused: {source}")
                    }
                    Err(e) => return Err(TestCaseError::fail(format!("sync failed: {e}"))),
                }
            }
            Step::Later { device, ms } => clients[device % devices].later(ms),
        }
    }

    // The final sync of everyone, round after round until nobody has anything to send.
    for round in 0.. {
        prop_assert!(round < 10, "no convergence after 10 rounds");
        let mut quiet = true;
        for c in &clients {
            let recording = Recording {
                inner: &c.transport,
                answers: &answers,
            };
            let report = c.sync_through(&recording, &options).unwrap();
            prop_assert!(report.rejected.is_empty(), "{report:?}");
            quiet &= report.pushed == 0 && report.conflicts.is_empty();
        }
        if quiet {
            break;
        }
    }

    let on_server = server_records(&server, &["project", "task"]);
    let expected: BTreeMap<_, _> = on_server
        .iter()
        .map(|(k, (_, deleted, fields))| (k.clone(), (*deleted, fields.clone())))
        .collect();
    for (i, c) in clients.iter().enumerate() {
        prop_assert_eq!(
            &c.records(),
            &expected,
            "device {} differs from the server",
            i
        );
        prop_assert_eq!(c.db.status().unwrap().pending, 0);
    }

    // Every accepted key moved its record one version up, once: per record the accepted keys
    // hold distinct versions 1..=final.
    let answers = answers.0.into_inner().unwrap();
    let mut accepted: BTreeMap<Uuid, BTreeMap<Uuid, u64>> = BTreeMap::new();
    for (key, _, record, outcome) in &answers {
        match outcome {
            Outcome::Accepted { server_version, .. } => {
                let previous = accepted
                    .entry(*record)
                    .or_default()
                    .insert(*key, *server_version);
                prop_assert!(
                    previous.is_none_or(|v| v == *server_version),
                    "key {} answered with two versions",
                    key
                );
            }
            Outcome::Rejected { reason } => {
                return Err(TestCaseError::fail(format!("rejected: {reason}")));
            }
            Outcome::Conflict { .. } => {}
        }
    }
    for ((_, id), (version, _, _)) in &on_server {
        let versions: BTreeSet<u64> = accepted[id].values().copied().collect();
        prop_assert_eq!(
            versions.len(),
            accepted[id].len(),
            "two keys made one version of {}",
            id
        );
        let expected: BTreeSet<u64> = (1..=*version).collect();
        prop_assert_eq!(versions, expected, "{} was not applied once per change", id);
    }
    Ok(())
}

fn cases() -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(256)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(cases()))]

    #[test]
    fn devices_syncing_through_faults_converge_on_the_server(
        devices in 2usize..=4,
        steps in proptest::collection::vec(step(), 1..40),
    ) {
        run(Backend::Sqlite, devices, &steps)?;
    }
}

// On PostgreSQL a case creates a database of its own, so a quarter of the cases run.
proptest! {
    #![proptest_config(ProptestConfig::with_cases(cases().div_ceil(4)))]

    #[test]
    fn devices_syncing_through_faults_converge_on_the_server_on_postgres(
        devices in 2usize..=4,
        steps in proptest::collection::vec(step(), 1..40),
    ) {
        if let Some(backend) = Backend::postgres() {
            run(backend, devices, &steps)?;
        }
    }
}
