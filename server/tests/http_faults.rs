//! Faults over real sockets, through the engine's `HttpTransport`: a response cut after the
//! server applied the push, a server slower than the client's timeout, a 5xx, no server at all,
//! and the real binary killed and restarted mid-push. Nothing is lost, nothing doubled.

#[macro_use]
mod backends;

use backends::Backend;
mod common;
mod http_support;

use std::collections::BTreeSet;
use std::io::Write;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::time::{Duration, Instant};

use http_support::proxy::{Proxy, ProxyFault, read_message};
use http_support::*;
use serde_json::json;
use syncwright::Uuid;
use syncwright::sync::http::HttpTransport;
use syncwright::sync::protocol::{Mutation, Outcome, PushRequest};
use syncwright::sync::transport::{RetryCause, Transport, TransportError};
use syncwright_server::Server;
use syncwright_server::http::HttpConfig;
use syncwright_server::storage::{ReadPage, Scan, SqliteStorage, Storage, StorageError, WriteTx};

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

/// Asserts every answer is an acceptance at version 1 (a create applied once).
fn assert_all_created_once(outcomes: impl IntoIterator<Item = Outcome>) {
    for outcome in outcomes {
        assert!(
            matches!(
                outcome,
                Outcome::Accepted {
                    server_version: 1,
                    ..
                }
            ),
            "{outcome:?}"
        );
    }
}

/// Asserts `user` has exactly the records `batch` created, each once, at version 1.
fn assert_exactly(transport: &impl Transport, schema_version: u32, batch: &[Mutation]) {
    let records = pull_all(transport, schema_version, &["project"]);
    let pulled: BTreeSet<Uuid> = records.iter().map(|r| r.id).collect();
    let pushed: BTreeSet<Uuid> = batch.iter().map(|m| m.id).collect();
    assert_eq!(records.len(), pulled.len(), "a record was pulled twice");
    assert_eq!(pulled, pushed, "records were lost or added");
    assert!(
        records.iter().all(|r| r.server_version == 1),
        "a create was applied twice"
    );
}

fn a_response_cut_after_the_push_applied_is_retried_and_deduplicated(backend: Backend) {
    let server = TestServer::start_on(backend);
    let proxy = Proxy::start(server.addr, ProxyFault::CutResponse);
    let batch = PushRequest::new(1, creates(20, 1));
    let through_proxy = HttpTransport::new(proxy.url(), token_of("ana"));
    match through_proxy.push(&batch) {
        Err(TransportError::RetryLater {
            cause: RetryCause::Network,
            ..
        }) => {}
        other => panic!("expected a network error to retry, got {other:?}"),
    }
    // The server applied it before the answer was cut.
    assert_exactly(&server.transport("ana"), 1, &batch.mutations);
    let retried = server.transport("ana").push(&batch).unwrap();
    assert_all_created_once(retried.results.into_iter().map(|r| r.outcome));
    assert_exactly(&server.transport("ana"), 1, &batch.mutations);
}

fn a_server_slower_than_the_clients_timeout_is_retry_later_and_the_retry_is_deduplicated(
    backend: Backend,
) {
    let server = TestServer::start_on(backend);
    let proxy = Proxy::start(server.addr, ProxyFault::Delay(Duration::from_secs(3)));
    let batch = PushRequest::new(1, creates(5, 1));
    let impatient =
        HttpTransport::new(proxy.url(), token_of("ana")).read_timeout(Duration::from_millis(300));
    let started = Instant::now();
    match impatient.push(&batch) {
        Err(TransportError::RetryLater {
            cause: RetryCause::Timeout,
            ..
        }) => {}
        other => panic!("expected a timeout to retry, got {other:?}"),
    }
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "the client waited {:?}, past its timeout",
        started.elapsed()
    );
    let retried = server.transport("ana").push(&batch).unwrap();
    assert_all_created_once(retried.results.into_iter().map(|r| r.outcome));
    assert_exactly(&server.transport("ana"), 1, &batch.mutations);
}

/// Storage whose every write fails, as a full disk would.
struct FailingStorage(SqliteStorage);

impl Storage for FailingStorage {
    fn write(
        &self,
        _: &str,
        _: &mut dyn FnMut(&mut dyn WriteTx) -> Result<(), StorageError>,
    ) -> Result<(), StorageError> {
        Err(StorageError::new("disk I/O error (injected)"))
    }
    fn read(&self, user: &str, scans: &[Scan], limit: usize) -> Result<ReadPage, StorageError> {
        self.0.read(user, scans, limit)
    }
    fn secret(&self) -> &[u8] {
        self.0.secret()
    }
}

#[test]
fn a_server_failure_is_a_500_the_transport_retries_later_without_the_details() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("server.db");
    let core = Server::new(
        common::catalog(),
        FailingStorage(SqliteStorage::open(&db).unwrap()),
    );
    let server = TestServer::serve(Arc::new(core), &USERS, HttpConfig::default(), dir, db);
    match server
        .transport("ana")
        .push(&PushRequest::new(1, creates(1, 1)))
    {
        Err(TransportError::RetryLater {
            cause: RetryCause::Server { status: Some(500) },
            message,
        }) => assert!(
            !message.contains("disk I/O"),
            "storage details reached the client: {message}"
        ),
        other => panic!("expected a 500 to retry, got {other:?}"),
    }
}

#[test]
fn no_server_listening_is_a_network_error_to_retry() {
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let transport = HttpTransport::new(format!("http://127.0.0.1:{port}"), "t")
        .connect_timeout(Duration::from_secs(2));
    match transport.push(&PushRequest::new(1, creates(1, 1))) {
        Err(TransportError::RetryLater {
            cause: RetryCause::Network,
            ..
        }) => {}
        other => panic!("expected a network error to retry, got {other:?}"),
    }
}

#[test]
fn the_server_killed_and_restarted_mid_push_deduplicates_the_retried_batch() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("server.db");
    let tokens = dir.path().join("tokens.toml");
    std::fs::write(&tokens, tokens_file(&["ana"])).unwrap();
    let batch_size = 500;

    // How long one batch takes end to end, to aim the kills inside it.
    let mut pushed = creates(batch_size, 5);
    let binary = Binary::start(&db, &tokens);
    let started = Instant::now();
    let first = HttpTransport::new(binary.url(), token_of("ana"))
        .push(&PushRequest::new(5, pushed.clone()))
        .unwrap();
    let one_batch = started.elapsed();
    assert_all_created_once(first.results.into_iter().map(|r| r.outcome));
    drop(binary);

    // A 64th of a batch in, a kill surely lands before the answer however fast or loaded the
    // machine is; the other fractions land wherever they land.
    let mut cut = 0;
    for fraction in [4, 2, 1, 64] {
        let batch = PushRequest::new(5, creates(batch_size, 5));
        pushed.extend(batch.mutations.iter().cloned());
        let mut binary = Binary::start(&db, &tokens);
        let transport = HttpTransport::new(binary.url(), token_of("ana"));
        let sending = batch.clone();
        let push = std::thread::spawn(move || transport.push(&sending));
        std::thread::sleep(one_batch / fraction);
        binary.child.kill().unwrap();
        binary.child.wait().unwrap();
        match push.join().unwrap() {
            Ok(answer) => assert_all_created_once(answer.results.into_iter().map(|r| r.outcome)),
            Err(error) => {
                assert!(error.is_retryable(), "{error:?}");
                cut += 1;
            }
        }
        // Restarted on the same database, the same batch again: applied once in all.
        let binary = Binary::start(&db, &tokens);
        let transport = HttpTransport::new(binary.url(), token_of("ana"));
        let retried = transport.push(&batch).unwrap();
        assert_all_created_once(retried.results.into_iter().map(|r| r.outcome));
        assert_exactly(&transport, 5, &pushed);
    }
    eprintln!("one batch took {one_batch:?}; {cut} of 4 kills cut the answer");
    assert!(
        cut > 0,
        "no kill landed before the answer; the test proved nothing"
    );
}

/// A server that answers every request with `response`, whatever it asked.
fn canned_server(response: &'static [u8]) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        // Bounded: the tests using it send at most a few requests.
        for client in listener.incoming().take(4) {
            let Ok(mut client) = client else { continue };
            if read_message(&mut client).is_ok() {
                let _ = client.write_all(response);
            }
        }
    });
    addr
}

#[test]
fn a_4xx_without_a_protocol_body_is_refused_with_what_came_back() {
    let addr = canned_server(
        b"HTTP/1.1 403 Forbidden\r\ncontent-length: 9\r\nconnection: close\r\n\r\nforbidden",
    );
    let transport = HttpTransport::new(format!("http://{addr}"), "t");
    match transport.push(&PushRequest::new(1, creates(1, 1))) {
        Err(TransportError::Refused {
            status: Some(403),
            error: syncwright::sync::protocol::ProtocolError::InvalidRequest { reason },
        }) => assert!(
            reason.contains("HTTP 403 without a protocol error body: forbidden"),
            "{reason}"
        ),
        other => panic!("expected a 403 refusal, got {other:?}"),
    }
}

#[test]
fn a_401_without_a_protocol_body_is_refused_unauthorized() {
    let addr = canned_server(
        b"HTTP/1.1 401 Unauthorized\r\ncontent-length: 6\r\nconnection: close\r\n\r\nlog in",
    );
    let transport = HttpTransport::new(format!("http://{addr}"), "t");
    match transport.push(&PushRequest::new(1, creates(1, 1))) {
        Err(TransportError::Refused {
            status: Some(401),
            error: syncwright::sync::protocol::ProtocolError::Unauthorized { reason },
        }) => assert!(
            reason.contains("HTTP 401 without a protocol error body: log in"),
            "{reason}"
        ),
        other => panic!("expected an `unauthorized` refusal, got {other:?}"),
    }
}

#[test]
fn a_2xx_whose_body_is_not_the_answer_is_retry_later() {
    let addr =
        canned_server(b"HTTP/1.1 200 OK\r\ncontent-length: 7\r\nconnection: close\r\n\r\n<html>!");
    let transport = HttpTransport::new(format!("http://{addr}"), "t");
    match transport.push(&PushRequest::new(1, creates(1, 1))) {
        Err(TransportError::RetryLater {
            cause: RetryCause::Server { status: Some(200) },
            message,
        }) => assert!(message.contains("not the protocol's"), "{message}"),
        other => panic!("expected a retry, got {other:?}"),
    }
}

fn a_request_body_cut_mid_way_applies_nothing(backend: Backend) {
    let server = TestServer::start_on(backend);
    let body = serde_json::to_vec(&PushRequest::new(1, creates(10, 1))).unwrap();
    let mut stream = TcpStream::connect(server.addr).unwrap();
    let head = format!(
        "POST /v1/push HTTP/1.1\r\nhost: {}\r\nauthorization: Bearer {}\r\ncontent-type: \
         application/json\r\ncontent-length: {}\r\n\r\n",
        server.addr,
        token_of("ana"),
        body.len()
    );
    stream.write_all(head.as_bytes()).unwrap();
    stream.write_all(&body[..body.len() / 2]).unwrap();
    stream.shutdown(std::net::Shutdown::Both).unwrap();
    drop(stream);
    std::thread::sleep(Duration::from_millis(200));
    assert!(pull_all(&server.transport("ana"), 1, &["project"]).is_empty());
}

/// Storage whose writes take `delay` before they start.
struct SlowStorage {
    inner: SqliteStorage,
    delay: Duration,
}

impl Storage for SlowStorage {
    fn write(
        &self,
        user: &str,
        work: &mut dyn FnMut(&mut dyn WriteTx) -> Result<(), StorageError>,
    ) -> Result<(), StorageError> {
        std::thread::sleep(self.delay);
        self.inner.write(user, work)
    }
    fn read(&self, user: &str, scans: &[Scan], limit: usize) -> Result<ReadPage, StorageError> {
        self.inner.read(user, scans, limit)
    }
    fn secret(&self) -> &[u8] {
        self.inner.secret()
    }
}

#[test]
fn a_push_over_the_servers_request_timeout_is_503_and_still_applied_whole_once() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("server.db");
    let storage = SlowStorage {
        inner: SqliteStorage::open(&db).unwrap(),
        delay: Duration::from_millis(600),
    };
    let core = Server::new(common::catalog(), storage);
    let config = HttpConfig {
        request_timeout: Duration::from_millis(200),
        ..HttpConfig::default()
    };
    let server = TestServer::serve(Arc::new(core), &USERS, config, dir, db);
    let batch = PushRequest::new(1, creates(10, 1));
    match server.transport("ana").push(&batch) {
        Err(TransportError::RetryLater {
            cause: RetryCause::Server { status: Some(503) },
            ..
        }) => {}
        other => panic!("expected a 503 to retry, got {other:?}"),
    }
    // The write went on after the answer and committed whole.
    std::thread::sleep(Duration::from_millis(800));
    assert_exactly(&server.transport("ana"), 1, &batch.mutations);
    // The retry is as slow (503 again) and applies nothing a second time.
    assert!(
        server
            .transport("ana")
            .push(&batch)
            .unwrap_err()
            .is_retryable()
    );
    std::thread::sleep(Duration::from_millis(800));
    assert_exactly(&server.transport("ana"), 1, &batch.mutations);
}

on_both_backends!(
    a_response_cut_after_the_push_applied_is_retried_and_deduplicated,
    a_server_slower_than_the_clients_timeout_is_retry_later_and_the_retry_is_deduplicated,
    a_request_body_cut_mid_way_applies_nothing,
);
