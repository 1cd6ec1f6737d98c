//! Two devices and one server over loopback HTTP, with the real engine and `HttpTransport`:
//! the five conflict strategies (the scenes of `conflict_scenes/`), a seeded convergence run
//! through a proxy that drops requests and cuts answers, the real binary killed and restarted
//! while an engine pushes, and a wrong token stopping the engine with its queue untouched.

#[macro_use]
mod backends;

use backends::Backend;
mod common;
#[macro_use]
mod conflict_scenes;
mod http_support;
mod sync_app;

use http_support::rng::Rng;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use conflict_scenes::Devices;
use http_support::proxy::{Proxy, ProxyFault, body_of};
use http_support::{Binary, TestServer, USERS, token_of, tokens_file};
use sync_app::{Client, Project, Task};
use syncwright::sync::SyncOptions;
use syncwright::sync::http::HttpTransport;
use syncwright::sync::protocol::{Outcome, ProtocolError, PushRequest, PushResponse};
use syncwright::sync::transport::TransportError;
use syncwright::{Error, QueueStatus, Uuid};
use syncwright_server::Server;
use syncwright_server::http::HttpConfig;
use syncwright_server::storage::SqliteStorage;

/// Devices syncing over HTTP with the real router, serving the sync app from a SQLite file.
struct OverHttp(TestServer);

impl Devices for OverHttp {
    type T = HttpTransport;
    fn device(&self) -> Client<HttpTransport> {
        Client::over(self.0.transport("ana"))
    }
}

fn sync_app_server() -> TestServer {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("server.db");
    let core = Server::new(sync_app::catalog(), SqliteStorage::open(&db).unwrap());
    TestServer::serve(Arc::new(core), &USERS, HttpConfig::default(), dir, db)
}

/// The sync app over HTTP with its state in a fresh `backend` database (SQLite: a file).
fn sync_app_server_on(backend: Backend) -> TestServer {
    match backend {
        Backend::Sqlite => sync_app_server(),
        postgres => {
            let dir = tempfile::tempdir().unwrap();
            let db = dir.path().join("unused.db");
            let core = Server::new(sync_app::catalog(), postgres.storage());
            TestServer::serve(Arc::new(core), &USERS, HttpConfig::default(), dir, db)
        }
    }
}

fn over_http(backend: Backend) -> OverHttp {
    OverHttp(sync_app_server_on(backend))
}

#[test]
fn an_engine_with_a_wrong_token_stops_unauthorized_and_keeps_its_queue_untouched() {
    let server = sync_app_server();
    let client = Client::over(HttpTransport::new(server.url(), "not-a-token"));
    client
        .db
        .insert(&Project {
            name: "Bridge".into(),
            archived: false,
            budget: 0,
        })
        .unwrap();
    for _ in 0..2 {
        match client.db.sync(&client.transport) {
            Err(Error::SyncStopped {
                source:
                    TransportError::Refused {
                        status: Some(401),
                        error: ProtocolError::Unauthorized { .. },
                    },
            }) => {}
            other => panic!("expected the sync to stop `unauthorized`, got {other:?}"),
        }
    }
    let queue = client.db.queue().open_entries().unwrap();
    assert_eq!(queue.len(), 1);
    assert_eq!(queue[0].status, QueueStatus::Pending);
    assert_eq!(queue[0].retry_count, 0, "a refusal is no failed attempt");
    assert!(sync_app::server_records(&server.server, &["project"]).is_empty());
}

/// Every push the server answered through `proxy` (cut answers included): (request, answer).
fn pushes_through(proxy: &Proxy) -> Vec<(PushRequest, PushResponse)> {
    let exchanges = proxy.exchanges.lock().unwrap();
    exchanges
        .iter()
        .filter(|(request, response)| {
            request.starts_with(b"POST /v1/push ") && response.starts_with(b"HTTP/1.1 200")
        })
        .map(|(request, response)| {
            (
                serde_json::from_slice(body_of(request)).unwrap(),
                serde_json::from_slice(body_of(response)).unwrap(),
            )
        })
        .collect()
}

/// One seeded case: `devices` devices make `steps` random edits of projects and tasks and
/// sync, a third of the time through a proxy that drops one request in four and cuts one
/// answer in four; then everyone syncs cleanly until quiet.
/// Returns how many syncs a fault stopped.
fn converge(backend: Backend, seed: u64, devices: usize, steps: usize) -> usize {
    let server = sync_app_server_on(backend);
    let faulty = Proxy::start(server.addr, ProxyFault::Seeded { seed, one_in: 4 });
    let clean = Proxy::start(server.addr, ProxyFault::Delay(Duration::ZERO));
    let clients: Vec<_> = (0..devices)
        .map(|_| Client::over(HttpTransport::new(clean.url(), token_of("ana"))))
        .collect();
    let through_faults = HttpTransport::new(faulty.url(), token_of("ana"));
    let options = *SyncOptions::new().batch_size(3).pull_limit(4);
    let mut rng = Rng(seed);
    let mut stopped = 0;
    for n in 0..steps {
        let c = &clients[rng.below(devices as u64) as usize];
        match rng.below(10) {
            0 | 1 => {
                c.db.insert(&Project {
                    name: format!("p{n}"),
                    archived: false,
                    budget: 0,
                })
                .unwrap();
            }
            2 | 3 => {
                if let Some(project_id) = rng.pick(&c.live::<Project>()) {
                    c.db.insert(&Task {
                        project_id,
                        title: format!("t{n}"),
                        done: false,
                        priority: None,
                    })
                    .unwrap();
                }
            }
            4 => {
                if let Some(id) = rng.pick(&c.live::<Project>()) {
                    let mut p = c.db.get::<Project>(id).unwrap().unwrap().data;
                    p.name = format!("p{n}");
                    c.db.update(id, &p).unwrap();
                }
            }
            5 => {
                if let Some(id) = rng.pick(&c.live::<Task>()) {
                    let mut t = c.db.get::<Task>(id).unwrap().unwrap().data;
                    t.done = !t.done;
                    c.db.update(id, &t).unwrap();
                }
            }
            6 => {
                if rng.below(2) == 0 {
                    if let Some(id) = rng.pick(&c.live::<Project>()) {
                        c.db.delete::<Project>(id).unwrap();
                    }
                } else if let Some(id) = rng.pick(&c.live::<Task>()) {
                    c.db.delete::<Task>(id).unwrap();
                }
            }
            7 => c.later(rng.below(50)),
            _ => {
                let result = if rng.below(3) == 0 {
                    c.sync_through(&through_faults, &options)
                } else {
                    c.sync_through(&c.transport, &options)
                };
                match result {
                    Ok(report) => assert!(report.rejected.is_empty(), "seed {seed}: {report:?}"),
                    Err(Error::SyncStopped { source }) => {
                        assert!(source.is_retryable(), "seed {seed}: refused: {source}");
                        stopped += 1;
                    }
                    Err(e) => panic!("seed {seed}: sync failed: {e}"),
                }
            }
        }
    }

    // Everyone syncs cleanly, round after round, until nobody has anything to send.
    for round in 0.. {
        assert!(round < 10, "seed {seed}: no convergence after 10 rounds");
        let mut quiet = true;
        for c in &clients {
            let report = c.sync_through(&c.transport, &options).unwrap();
            assert!(report.rejected.is_empty(), "seed {seed}: {report:?}");
            quiet &= report.pushed == 0 && report.conflicts.is_empty();
        }
        if quiet {
            break;
        }
    }

    let on_server = sync_app::server_records(&server.server, &["project", "task"]);
    let expected: BTreeMap<_, _> = on_server
        .iter()
        .map(|(k, (_, deleted, fields))| (k.clone(), (*deleted, fields.clone())))
        .collect();
    for (i, c) in clients.iter().enumerate() {
        assert_eq!(
            c.records(),
            expected,
            "seed {seed}: device {i} differs from the server"
        );
        assert_eq!(c.db.status().unwrap().pending, 0, "seed {seed}: device {i}");
    }

    // Nothing doubled: per record, the accepted keys (lost answers included) hold the distinct
    // versions 1..=final, each key one version however often it was sent.
    let mut accepted: BTreeMap<Uuid, BTreeMap<Uuid, u64>> = BTreeMap::new();
    for (request, response) in pushes_through(&faulty)
        .into_iter()
        .chain(pushes_through(&clean))
    {
        for (m, r) in request.mutations.iter().zip(&response.results) {
            match &r.outcome {
                Outcome::Accepted { server_version, .. } => {
                    let previous = accepted
                        .entry(m.id)
                        .or_default()
                        .insert(m.idempotency_key, *server_version);
                    assert!(
                        previous.is_none_or(|v| v == *server_version),
                        "seed {seed}: key {} answered with two versions",
                        m.idempotency_key
                    );
                }
                Outcome::Rejected { reason } => panic!("seed {seed}: rejected: {reason}"),
                Outcome::Conflict { .. } => {}
            }
        }
    }
    for ((_, id), (version, _, _)) in &on_server {
        let versions: BTreeSet<u64> = accepted[id].values().copied().collect();
        assert_eq!(
            versions.len(),
            accepted[id].len(),
            "seed {seed}: two keys made one version of {id}"
        );
        let all: BTreeSet<u64> = (1..=*version).collect();
        assert_eq!(
            versions, all,
            "seed {seed}: {id} was not applied once per change"
        );
    }
    stopped
}

fn devices_syncing_over_http_through_faults_converge_on_the_server(backend: Backend) {
    // Bounded: 8 seeded cases of 40 steps (the in-process property runs 256 random ones).
    let started = Instant::now();
    let stopped: usize = (1..=8)
        .map(|seed| converge(backend, seed, 2 + (seed as usize % 3), 40))
        .sum();
    assert!(
        stopped > 0,
        "no fault stopped a sync; the run proved nothing"
    );
    eprintln!("{stopped} syncs stopped by a fault");
    assert!(
        started.elapsed() < Duration::from_secs(120),
        "the run took {:?}",
        started.elapsed()
    );
}

/// The sync app's project file, for the real binary.
fn sync_app_config() -> std::path::PathBuf {
    sync_app::fixture().join("syncwright.toml")
}

#[test]
fn the_binary_killed_and_restarted_while_an_engine_pushes_deduplicates_the_retried_batch() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("server.db");
    let tokens = dir.path().join("tokens.toml");
    std::fs::write(&tokens, tokens_file(&["ana"])).unwrap();
    let per_round = 600;
    let options = *SyncOptions::new().batch_size(per_round);
    let insert = |client: &Client<HttpTransport>| {
        for i in 0..per_round {
            client
                .db
                .insert(&Project {
                    name: format!("Project {i}"),
                    archived: false,
                    budget: 0,
                })
                .unwrap();
        }
    };

    // How long one sync of a round takes end to end, to aim the kills inside it.
    let binary = Binary::start_with_config(&sync_app_config(), &db, &tokens);
    let mut client = Client::over(HttpTransport::new(binary.url(), token_of("ana")));
    insert(&client);
    let started = Instant::now();
    client.sync_through(&client.transport, &options).unwrap();
    let one_round = started.elapsed();
    drop(binary);

    // First the certain case: the binary applies a push, the answer is lost (a proxy cuts
    // it), and the binary is killed before the engine retries.
    insert(&client);
    let mut binary = Binary::start_with_config(&sync_app_config(), &db, &tokens);
    let proxy = Proxy::start(binary.addr, ProxyFault::CutPushAnswers);
    let stopped = client.sync_through(&HttpTransport::new(proxy.url(), token_of("ana")), &options);
    assert!(
        matches!(&stopped, Err(Error::SyncStopped { source }) if source.is_retryable()),
        "{stopped:?}"
    );
    binary.child.kill().unwrap();
    binary.child.wait().unwrap();
    let stored = sync_app::server_records(&sync_app::file_server(&db), &["project"]);
    assert_eq!(stored.len(), 2 * per_round, "the cut batch was applied");
    assert_eq!(
        client.db.status().unwrap().pending,
        per_round as u64,
        "its answer was lost"
    );
    let binary = Binary::start_with_config(&sync_app_config(), &db, &tokens);
    client.transport = HttpTransport::new(binary.url(), token_of("ana"));
    let report = client.sync_through(&client.transport, &options).unwrap();
    assert_eq!(report.pushed, per_round as u64, "{report:?}");
    assert_eq!(client.db.status().unwrap().pending, 0);
    let stored = sync_app::server_records(&sync_app::file_server(&db), &["project"]);
    assert_eq!(stored.len(), 2 * per_round);
    assert!(
        stored.values().all(|(version, _, _)| *version == 1),
        "the resent batch was applied a second time"
    );
    drop(binary);

    // Then kills at points of the sync nobody picks: a quarter, half and a whole round in, and
    // (so that at least one kill surely lands inside a sync, however fast or loaded the machine
    // is) a 64th of a round in.
    let mut cut = 0;
    for fraction in [4, 2, 1, 64] {
        insert(&client);
        let mut binary = Binary::start_with_config(&sync_app_config(), &db, &tokens);
        let transport = HttpTransport::new(binary.url(), token_of("ana"));
        let syncing = std::thread::spawn(move || {
            let result = client.sync_through(&transport, &options);
            (client, result)
        });
        std::thread::sleep(one_round / fraction);
        binary.child.kill().unwrap();
        binary.child.wait().unwrap();
        let (back, result) = syncing.join().unwrap();
        client = back;
        match result {
            Ok(_) => {}
            Err(Error::SyncStopped { source }) => {
                assert!(source.is_retryable(), "{source}");
                cut += 1;
            }
            Err(e) => panic!("the sync failed: {e}"),
        }
        // Restarted on the same database: the engine resends what it has not seen answered.
        let binary = Binary::start_with_config(&sync_app_config(), &db, &tokens);
        client.transport = HttpTransport::new(binary.url(), token_of("ana"));
        let report = client.sync_through(&client.transport, &options).unwrap();
        assert!(report.rejected.is_empty(), "{report:?}");
        assert_eq!(client.db.status().unwrap().pending, 0);

        let on_server = http_support::pull_all(&client.transport, 2, &["project"]);
        let ids: BTreeSet<Uuid> = on_server.iter().map(|r| r.id).collect();
        let local: BTreeSet<Uuid> = client.live::<Project>().into_iter().collect();
        assert_eq!(on_server.len(), ids.len(), "a record was pulled twice");
        assert_eq!(ids, local, "records were lost or added");
        assert!(
            on_server.iter().all(|r| r.server_version == 1),
            "a create was applied twice"
        );
    }
    eprintln!("one round took {one_round:?}; {cut} of 4 kills stopped the sync");
    assert!(
        cut > 0,
        "no kill landed inside the sync; the test proved nothing"
    );
}

every_conflict_scene_on_both_backends!(over_http);
on_both_backends!(devices_syncing_over_http_through_faults_converge_on_the_server);
