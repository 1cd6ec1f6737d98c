//! The in-process transport and each injected fault: what reaches the server, what the client
//! sees, and that a retry with the same keys applies everything exactly once.

#[macro_use]
mod backends;
mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use common::*;
use serde_json::json;
use syncwright::Uuid;
use syncwright::sync::protocol::{Outcome, ProtocolError, PullRequest, PushRequest};
use syncwright::sync::transport::{RetryCause, Transport, TransportError};
use syncwright_server::Server;
use syncwright_server::transport::{Fault, FaultyTransport, InProcessTransport};

fn setup(script: Vec<Option<Fault>>) -> (Arc<Server>, FaultyTransport<InProcessTransport>) {
    let server = Arc::new(server());
    let transport =
        FaultyTransport::scripted(InProcessTransport::new(server.clone(), "ana"), script);
    (server, transport)
}

fn a_create() -> PushRequest {
    PushRequest::new(
        1,
        vec![create(
            "project",
            Uuid::new_v4(),
            1,
            json!({ "name": "Bridge" }),
        )],
    )
}

/// `(records, their versions summed)` of ana's projects on the server.
fn server_state(server: &Server) -> (usize, u64) {
    let (all, _) = pull_all(server, "ana", 1, &mut start(&["project"]), 1000);
    (all.len(), all.iter().map(|r| r.server_version).sum())
}

fn retry_cause(error: TransportError) -> RetryCause {
    match error {
        TransportError::RetryLater { cause, .. } => cause,
        other => panic!("expected retry later, got {other:?}"),
    }
}

#[test]
fn the_in_process_transport_answers_like_the_server() {
    let (server, transport) = setup(Vec::new());
    let answer = transport.push(&a_create()).unwrap();
    assert!(matches!(
        answer.results[0].outcome,
        Outcome::Accepted {
            server_version: 1,
            ..
        }
    ));
    let page = transport
        .pull(&PullRequest::new(1, start(&["project"]), 10))
        .unwrap();
    assert_eq!(page.changes.len(), 1);
    assert_eq!(server_state(&server), (1, 1));
}

#[test]
fn a_refusal_arrives_as_refused_with_the_servers_reason_and_is_not_retryable() {
    let (_, transport) = setup(Vec::new());
    let error = transport
        .push(&PushRequest::new(9, Vec::new()))
        .unwrap_err();
    assert!(!error.is_retryable());
    assert_eq!(
        error,
        TransportError::refused(ProtocolError::SchemaTooNew {
            client_schema_version: 9,
            server_schema_version: 2
        })
    );
}

#[test]
fn a_dropped_request_applies_nothing_and_its_retry_applies_once() {
    let (server, transport) = setup(vec![Some(Fault::DropRequest)]);
    let request = a_create();
    assert_eq!(
        retry_cause(transport.push(&request).unwrap_err()),
        RetryCause::Network
    );
    assert_eq!(server_state(&server), (0, 0), "the request never arrived");
    transport.push(&request).unwrap();
    assert_eq!(server_state(&server), (1, 1));
}

#[test]
fn a_dropped_response_was_applied_and_its_retry_is_deduplicated() {
    let (server, transport) = setup(vec![None]);
    let project = Uuid::new_v4();
    transport
        .push(&PushRequest::new(
            1,
            vec![create("project", project, 1, json!({ "name": "Bridge" }))],
        ))
        .unwrap();
    let rename = PushRequest::new(
        1,
        vec![update(
            "project",
            project,
            1,
            1,
            json!({ "name": "Harbour" }),
        )],
    );

    transport.then(Some(Fault::DropResponse));
    assert_eq!(
        retry_cause(transport.push(&rename).unwrap_err()),
        RetryCause::Network
    );
    assert_eq!(
        server_state(&server),
        (1, 2),
        "the server applied the update"
    );

    // The client retries the same keys: it gets the first answer, nothing is applied twice.
    let retried = transport.push(&rename).unwrap();
    assert!(matches!(
        retried.results[0].outcome,
        Outcome::Accepted {
            server_version: 2,
            ..
        }
    ));
    assert_eq!(server_state(&server), (1, 2), "applied exactly once");
    assert_eq!(transport.injected(), vec![Fault::DropResponse]);
}

#[test]
fn a_500_applies_nothing_and_asks_for_a_retry() {
    let (server, transport) = setup(vec![Some(Fault::ServerError)]);
    let request = a_create();
    assert_eq!(
        retry_cause(transport.push(&request).unwrap_err()),
        RetryCause::Server { status: Some(500) }
    );
    assert_eq!(server_state(&server), (0, 0));
    transport.push(&request).unwrap();
    assert_eq!(server_state(&server), (1, 1));
}

#[test]
fn a_delayed_request_goes_through_late() {
    let (server, transport) = setup(vec![Some(Fault::Delay(Duration::from_millis(50)))]);
    let started = Instant::now();
    transport.push(&a_create()).unwrap();
    assert!(
        started.elapsed() >= Duration::from_millis(50),
        "held {:?}",
        started.elapsed()
    );
    assert_eq!(server_state(&server), (1, 1));
}

#[test]
fn faults_apply_to_pulls_too() {
    let (_, transport) = setup(vec![Some(Fault::DropResponse), Some(Fault::ServerError)]);
    let request = PullRequest::new(1, start(&["project"]), 10);
    assert!(transport.pull(&request).unwrap_err().is_retryable());
    assert!(transport.pull(&request).unwrap_err().is_retryable());
    assert!(transport.pull(&request).is_ok());
}

#[test]
fn a_seed_gives_the_same_faults_on_the_same_calls() {
    let faults = |seed: u64, percent: u8| {
        let transport = FaultyTransport::seeded(
            InProcessTransport::new(Arc::new(server()), "ana"),
            seed,
            percent,
        );
        let request = PullRequest::new(1, start(&["project"]), 10);
        let outcomes: Vec<bool> = (0..200).map(|_| transport.pull(&request).is_ok()).collect();
        (outcomes, transport.injected())
    };
    assert_eq!(faults(7, 30), faults(7, 30), "deterministic");
    assert_ne!(
        faults(7, 30).0,
        faults(8, 30).0,
        "another seed, another schedule"
    );
    let (outcomes, injected) = faults(7, 30);
    let failures = outcomes.iter().filter(|ok| !**ok).count();
    // Delays let the call through; every other fault fails it.
    let delays = injected
        .iter()
        .filter(|f| matches!(f, Fault::Delay(_)))
        .count();
    assert_eq!(failures, injected.len() - delays);
    assert!(
        (30..90).contains(&injected.len()),
        "about 30% of 200 calls: {}",
        injected.len()
    );
    for kind in [Fault::DropRequest, Fault::DropResponse, Fault::ServerError] {
        assert!(injected.contains(&kind), "{kind:?} was never drawn");
    }
    assert!(faults(7, 0).1.is_empty());
    assert_eq!(faults(7, 100).1.len(), 200);
}
