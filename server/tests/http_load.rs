//! Load: 50 concurrent clients (10 users, 5 devices each), each pushing 200 creates over HTTP in
//! batches and then pulling everything, against one server, bounded in time. No error, no lost
//! or duplicated mutation, and the server's record count exact. On SQLite and PostgreSQL.

#[macro_use]
mod backends;

use backends::Backend;
mod common;
mod http_support;

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use http_support::*;
use serde_json::json;
use syncwright::Uuid;
use syncwright::sync::protocol::{Outcome, PushRequest};
use syncwright::sync::transport::Transport;
use syncwright_server::http::HttpConfig;

const USERS: usize = 10;
const CLIENTS_PER_USER: usize = 5;
const MUTATIONS_PER_CLIENT: usize = 200;
const BATCH: usize = 50;
const TIME_BOUND: Duration = Duration::from_secs(120);

fn fifty_clients_pushing_200_mutations_each_lose_and_double_nothing(backend: Backend) {
    let names: Vec<String> = (0..USERS).map(|u| format!("user{u:02}")).collect();
    let users: Vec<&str> = names.iter().map(String::as_str).collect();
    let server = TestServer::start_with_on(&users, HttpConfig::default(), backend);
    let started = Instant::now();

    let clients: Vec<_> = (0..USERS * CLIENTS_PER_USER)
        .map(|client| {
            let user = names[client % USERS].clone();
            let transport = server.transport(&user);
            std::thread::spawn(move || {
                let ids: Vec<Uuid> = (0..MUTATIONS_PER_CLIENT).map(|_| Uuid::new_v4()).collect();
                for batch in ids.chunks(BATCH) {
                    let mutations = batch
                        .iter()
                        .map(|id| {
                            common::create(
                                "project",
                                *id,
                                1,
                                json!({ "name": format!("client {client}") }),
                            )
                        })
                        .collect();
                    let answer = transport
                        .push(&PushRequest::new(1, mutations))
                        .unwrap_or_else(|e| panic!("client {client}'s push failed: {e}"));
                    for result in answer.results {
                        assert!(
                            matches!(
                                result.outcome,
                                Outcome::Accepted {
                                    server_version: 1,
                                    ..
                                }
                            ),
                            "client {client}: {:?}",
                            result.outcome
                        );
                    }
                }
                // Everything pulled holds at least this client's records. While others push, a
                // record created during a multi-page catch-up comes again in the next pull (the
                // protocol allows it; a client applies only higher versions), but never at a
                // higher version: no create was applied twice.
                let pulled = pull_all(&transport, 1, &["project"]);
                assert!(
                    pulled.iter().all(|r| r.server_version == 1),
                    "client {client} pulled a create applied twice"
                );
                let pulled_ids: BTreeSet<Uuid> = pulled.iter().map(|r| r.id).collect();
                assert!(
                    ids.iter().all(|id| pulled_ids.contains(id)),
                    "client {client} did not pull back its own records"
                );
                (user, ids)
            })
        })
        .collect();
    let mut pushed: std::collections::BTreeMap<String, BTreeSet<Uuid>> = Default::default();
    for client in clients {
        let (user, ids) = client.join().expect("a client failed");
        pushed.entry(user).or_default().extend(ids);
    }
    let elapsed = started.elapsed();
    eprintln!(
        "{} clients x {MUTATIONS_PER_CLIENT} mutations pushed and pulled in {elapsed:?}",
        USERS * CLIENTS_PER_USER
    );
    assert!(
        elapsed < TIME_BOUND,
        "the load took {elapsed:?}, over {TIME_BOUND:?}"
    );

    for (user, ids) in &pushed {
        assert_eq!(ids.len(), CLIENTS_PER_USER * MUTATIONS_PER_CLIENT);
        let records = pull_all(&server.transport(user), 1, &["project"]);
        let pulled: BTreeSet<Uuid> = records.iter().map(|r| r.id).collect();
        // Nobody writes now: a pull from scratch delivers each record once.
        assert_eq!(records.len(), pulled.len(), "{user}: a record pulled twice");
        assert_eq!(&pulled, ids, "{user}: records lost or added");
        assert!(
            records.iter().all(|r| r.server_version == 1),
            "{user}: a create doubled"
        );
    }
    // The tables themselves: the SQLite file is at hand (on PostgreSQL the pulls above, every
    // user's records exact and each at version 1, stand for them).
    if !matches!(backend, Backend::Sqlite) {
        return;
    }
    let db = rusqlite::Connection::open(&server.db).unwrap();
    let count: i64 = db
        .query_row("SELECT count(*) FROM records", [], |r| r.get(0))
        .unwrap();
    assert_eq!(
        count as usize,
        USERS * CLIENTS_PER_USER * MUTATIONS_PER_CLIENT
    );
    let answers: i64 = db
        .query_row("SELECT count(*) FROM answers", [], |r| r.get(0))
        .unwrap();
    assert_eq!(
        answers as usize,
        USERS * CLIENTS_PER_USER * MUTATIONS_PER_CLIENT
    );
}

on_both_backends!(fifty_clients_pushing_200_mutations_each_lose_and_double_nothing);
