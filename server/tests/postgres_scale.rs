//! Scale: three `syncwright-server` processes (the real binary) on one PostgreSQL database, 30
//! engine clients (3 users, 10 devices each) spread across them, making random edits and
//! syncing; one process is killed (SIGKILL) mid-run and restarted. At the end every device
//! equals the server, every mutation was answered, each accepted version of a record was
//! applied by exactly one idempotency key, and a device pulling from scratch through any
//! process sees the same state. Skipped, saying so, without a PostgreSQL.

#[macro_use]
mod backends;
mod common;
mod http_support;
mod sync_app;

use http_support::rng::Rng;

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, RwLock};
use std::thread;
use std::time::{Duration, Instant};

use http_support::{Binary, token_of, tokens_file};
use sync_app::{Client, Project, Task};
use syncwright::Error;
use syncwright::sync::SyncOptions;
use syncwright::sync::http::HttpTransport;
use syncwright::sync::protocol::Outcome;
use syncwright_server::Server;
use syncwright_server::storage::PostgresStorage;
use syncwright_server::transport::InProcessTransport;

const PROCESSES: usize = 3;
const USERS: [&str; 3] = ["ana", "bob", "eve"];
const DEVICES_PER_USER: usize = 10;
/// How long the devices edit and sync at random.
const RUN: Duration = Duration::from_secs(12);
/// When into the run one process is killed (and at once restarted).
const KILL_AT: Duration = Duration::from_secs(4);

/// One random edit on device `c`.
fn edit(c: &Client<HttpTransport>, rng: &mut Rng, n: u64) {
    match rng.below(6) {
        0 | 1 => {
            c.db.insert(&Project {
                name: format!("p{n}"),
                archived: false,
                budget: 0,
            })
            .unwrap();
        }
        2 => {
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
        3 => {
            if let Some(id) = rng.pick(&c.live::<Project>()) {
                let mut p = c.db.get::<Project>(id).unwrap().unwrap().data;
                p.budget += 1;
                c.db.update(id, &p).unwrap();
            }
        }
        4 => {
            if let Some(id) = rng.pick(&c.live::<Task>()) {
                let mut t = c.db.get::<Task>(id).unwrap().unwrap().data;
                t.done = !t.done;
                c.db.update(id, &t).unwrap();
            }
        }
        _ => {
            if let Some(id) = rng.pick(&c.live::<Task>()) {
                c.db.delete::<Task>(id).unwrap();
            }
        }
    }
}

#[test]
fn three_processes_one_killed_thirty_devices_converge_with_nothing_lost_or_doubled() {
    let Some(pg) = backends::postgres() else {
        return;
    };
    let started = Instant::now();
    let database = pg.database();
    let dir = tempfile::tempdir().unwrap();
    let tokens = dir.path().join("tokens.toml");
    std::fs::write(&tokens, tokens_file(&USERS)).unwrap();
    let config = sync_app::fixture().join("syncwright.toml");
    let db = Path::new(&database.url);
    let start = || Binary::start_with_config(&config, db, &tokens);
    let mut processes: Vec<Binary> = (0..PROCESSES).map(|_| start()).collect();
    // Where each process listens now (a restarted one gets another port).
    let urls = Arc::new(RwLock::new(
        processes.iter().map(Binary::url).collect::<Vec<_>>(),
    ));

    let stop = Arc::new(AtomicBool::new(false));
    let syncs = Arc::new(AtomicUsize::new(0));
    let stopped_syncs = Arc::new(AtomicUsize::new(0));
    let options = *SyncOptions::new().batch_size(5).pull_limit(7);
    let devices: Vec<_> = (0..USERS.len() * DEVICES_PER_USER)
        .map(|d| {
            let (urls, stop) = (urls.clone(), stop.clone());
            let (syncs, stopped_syncs) = (syncs.clone(), stopped_syncs.clone());
            thread::spawn(move || {
                let user = USERS[d % USERS.len()];
                let home = d % PROCESSES;
                let through = |process: usize| {
                    HttpTransport::new(urls.read().unwrap()[process].clone(), token_of(user))
                };
                let c = Client::over(through(home));
                let mut rng = Rng(d as u64 + 1);
                let mut n = 0;
                while !stop.load(Ordering::SeqCst) {
                    for _ in 0..=rng.below(3) {
                        n += 1;
                        edit(&c, &mut rng, n);
                    }
                    c.later(rng.below(20));
                    // Mostly its home process, sometimes another one.
                    let process = if rng.below(4) == 0 {
                        rng.below(PROCESSES as u64) as usize
                    } else {
                        home
                    };
                    syncs.fetch_add(1, Ordering::SeqCst);
                    match c.sync_through(&through(process), &options) {
                        Ok(_) => {}
                        // The killed process, or a request cut by the kill: retried next time.
                        Err(Error::SyncStopped { source }) if source.is_retryable() => {
                            stopped_syncs.fetch_add(1, Ordering::SeqCst);
                        }
                        Err(e) => panic!("device {d} ({user}): sync failed: {e}"),
                    }
                }
                (user, home, c)
            })
        })
        .collect();

    thread::sleep(KILL_AT);
    processes[1].child.kill().expect("SIGKILL");
    processes[1].child.wait().unwrap();
    processes[1] = start();
    urls.write().unwrap()[1] = processes[1].url();
    thread::sleep(RUN.saturating_sub(KILL_AT));
    stop.store(true, Ordering::SeqCst);
    let devices: Vec<_> = devices.into_iter().map(|d| d.join().unwrap()).collect();

    // Everyone syncs cleanly through its home process, round after round, until quiet.
    let urls = urls.read().unwrap().clone();
    for round in 0.. {
        assert!(round < 10, "no convergence after 10 rounds");
        let mut quiet = true;
        for (user, home, c) in &devices {
            let transport = HttpTransport::new(urls[*home].clone(), token_of(user));
            let report = c.sync_through(&transport, &options).unwrap();
            quiet &= report.pushed == 0 && report.conflicts.is_empty();
        }
        if quiet {
            break;
        }
    }

    // The server's state, read through an in-process server over the same database.
    let reader = Arc::new(Server::new(
        sync_app::catalog(),
        PostgresStorage::connect(&database.url).unwrap(),
    ));
    let mut on_server = BTreeMap::new();
    for user in USERS {
        let transport = InProcessTransport::new(reader.clone(), user);
        let state: BTreeMap<_, _> = http_support::pull_all(&transport, 2, &["project", "task"])
            .into_iter()
            .map(|r| ((r.entity.clone(), r.id), (r.deleted, r.fields)))
            .collect();
        // A device pulling from scratch through any process sees the same.
        for url in &urls {
            let fresh = HttpTransport::new(url.clone(), token_of(user));
            let through: BTreeMap<_, _> = http_support::pull_all(&fresh, 2, &["project", "task"])
                .into_iter()
                .map(|r| ((r.entity.clone(), r.id), (r.deleted, r.fields)))
                .collect();
            assert_eq!(
                through, state,
                "{user}: a pull from scratch through {url} differs"
            );
        }
        on_server.insert(user, state);
    }
    for (d, (user, _, c)) in devices.iter().enumerate() {
        assert_eq!(
            c.db.status().unwrap().pending,
            0,
            "device {d} kept mutations"
        );
        assert_eq!(
            c.records(),
            on_server[user],
            "device {d} ({user}) differs from the server"
        );
    }

    // Nothing applied twice: per record, the accepted answers hold the versions 1..=final,
    // each once (a key is answered once; a version made twice would show twice or leave a gap).
    let mut client = database.client();
    let mut versions: BTreeMap<String, Vec<u64>> = BTreeMap::new();
    for row in client
        .query("SELECT outcome::text FROM answers", &[])
        .unwrap()
    {
        let outcome: Outcome = serde_json::from_str(row.get(0)).unwrap();
        if let Outcome::Accepted {
            server_version,
            server_id,
        } = outcome
        {
            versions.entry(server_id).or_default().push(server_version);
        }
    }
    let records = client
        .query("SELECT server_id, version FROM records", &[])
        .unwrap();
    assert_eq!(
        records.len(),
        versions.len(),
        "a record without its answers"
    );
    for row in records {
        let (server_id, version): (String, i64) = (row.get(0), row.get(1));
        let mut applied = versions.remove(&server_id).unwrap_or_default();
        applied.sort();
        let expected: Vec<u64> = (1..=version as u64).collect();
        assert_eq!(applied, expected, "{server_id}: not one change per version");
    }

    let (syncs, stopped) = (
        syncs.load(Ordering::SeqCst),
        stopped_syncs.load(Ordering::SeqCst),
    );
    eprintln!(
        "{syncs} syncs ({stopped} stopped by the kill), {} records, in {:?}",
        on_server.values().map(BTreeMap::len).sum::<usize>(),
        started.elapsed()
    );
    assert!(syncs > 100, "too few syncs to prove anything: {syncs}");
}
