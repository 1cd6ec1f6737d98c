//! Graceful shutdown: a push in progress when the server is told to stop is answered and its
//! batch kept; new connections are no longer accepted; SIGTERM stops the real binary cleanly.

#[macro_use]
mod backends;
mod common;
mod http_support;

use std::collections::BTreeSet;
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use http_support::*;
use serde_json::json;
use syncwright::Uuid;
use syncwright::sync::http::HttpTransport;
use syncwright::sync::protocol::{Mutation, Outcome, PushRequest};
use syncwright::sync::transport::Transport;
use syncwright_server::Server;
use syncwright_server::http::HttpConfig;
use syncwright_server::storage::{ReadPage, Scan, SqliteStorage, Storage, StorageError, WriteTx};

/// Storage whose writes wait at a gate: each write says it arrived, then waits to be let in.
struct GatedStorage {
    inner: SqliteStorage,
    arrived: SyncSender<()>,
    enter: Mutex<Receiver<()>>,
}

impl Storage for GatedStorage {
    fn write(
        &self,
        user: &str,
        work: &mut dyn FnMut(&mut dyn WriteTx) -> Result<(), StorageError>,
    ) -> Result<(), StorageError> {
        let _ = self.arrived.send(());
        self.enter
            .lock()
            .unwrap()
            .recv()
            .map_err(|_| StorageError::new("gate closed"))?;
        self.inner.write(user, work)
    }
    fn read(&self, user: &str, scans: &[Scan], limit: usize) -> Result<ReadPage, StorageError> {
        self.inner.read(user, scans, limit)
    }
    fn secret(&self) -> &[u8] {
        self.inner.secret()
    }
}

fn creates(count: usize, schema_version: u32) -> Vec<Mutation> {
    (0..count)
        .map(|i| {
            common::create(
                "project",
                Uuid::new_v4(),
                schema_version,
                json!({ "name": format!("Project {i}") }),
            )
        })
        .collect()
}

#[test]
fn a_push_in_progress_at_shutdown_is_answered_and_kept() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("server.db");
    let (arrived, arrivals) = sync_channel(1);
    let (let_in, enter) = sync_channel(1);
    let storage = GatedStorage {
        inner: SqliteStorage::open(&db).unwrap(),
        arrived,
        enter: Mutex::new(enter),
    };
    let core = Arc::new(Server::new(common::catalog(), storage));
    let mut server = TestServer::serve(core, &USERS, HttpConfig::default(), dir, db.clone());
    let batch = PushRequest::new(1, creates(50, 1));
    let transport = server.transport("ana");
    let sending = batch.clone();
    let push = std::thread::spawn(move || transport.push(&sending));

    // The push is inside the server, about to write, when the shutdown starts.
    arrivals.recv_timeout(Duration::from_secs(10)).unwrap();
    server.begin_shutdown();
    let deadline = Instant::now() + Duration::from_secs(5);
    while ureq::get(format!("{}/health", server.url())).call().is_ok() {
        assert!(
            Instant::now() < deadline,
            "still accepting connections after the shutdown"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let_in.send(()).unwrap();

    let answer = push
        .join()
        .unwrap()
        .expect("the push in progress is answered");
    assert!(answer.results.iter().all(|r| matches!(
        r.outcome,
        Outcome::Accepted {
            server_version: 1,
            ..
        }
    )));
    server.stop();

    // The batch is in the database.
    let reopened = Arc::new(Server::new(
        common::catalog(),
        SqliteStorage::open(&db).unwrap(),
    ));
    let records = syncwright_server::transport::InProcessTransport::new(reopened, "ana");
    let pulled: BTreeSet<Uuid> = pull_all(&records, 1, &["project"])
        .iter()
        .map(|r| r.id)
        .collect();
    let pushed: BTreeSet<Uuid> = batch.mutations.iter().map(|m| m.id).collect();
    assert_eq!(pulled, pushed);
}

#[test]
fn sigterm_during_a_push_stops_the_binary_cleanly_with_the_batch_applied_whole_or_not_at_all() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("server.db");
    let tokens = dir.path().join("tokens.toml");
    std::fs::write(&tokens, tokens_file(&["ana"])).unwrap();
    let mut binary = Binary::start(&db, &tokens);
    let batch = PushRequest::new(5, creates(500, 5));
    let transport = HttpTransport::new(binary.url(), token_of("ana"));
    let sending = batch.clone();
    let push = std::thread::spawn(move || transport.push(&sending));
    std::thread::sleep(Duration::from_millis(10));
    binary.terminate();
    let status = binary.wait_exit(Duration::from_secs(30));
    assert!(
        status.success(),
        "the server exited with {status} on SIGTERM"
    );
    let answered = push.join().unwrap();
    eprintln!(
        "the push at SIGTERM: {:?}",
        answered.as_ref().map(|a| a.results.len())
    );

    let binary = Binary::start(&db, &tokens);
    let stored = pull_all(
        &HttpTransport::new(binary.url(), token_of("ana")),
        5,
        &["project"],
    );
    match answered {
        Ok(answer) => {
            assert_eq!(answer.results.len(), 500);
            assert_eq!(stored.len(), 500, "an answered push was not kept whole");
        }
        Err(error) => {
            assert!(error.is_retryable(), "{error:?}");
            assert!(
                stored.is_empty() || stored.len() == 500,
                "a batch applied in part: {} of 500",
                stored.len()
            );
        }
    }
}
