//! The PostgreSQL backend under what only it faces: several server processes (each a storage
//! with its own connection pool) writing for one user at once, transient failures the server
//! must retry, and its tables' versioned steps. Skipped, saying so, without a PostgreSQL.

#[macro_use]
mod backends;
mod common;

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Barrier};
use std::thread;

use backends::{TestDatabase, postgres};
use common::*;
use serde_json::json;
use syncwright::Uuid;
use syncwright::sync::protocol::Outcome;
use syncwright_server::storage::{PostgresStorage, Storage};
use syncwright_server::{Server, ServerError};

/// A fresh database, or `None` (after a `skipped:` line) without a PostgreSQL.
fn database() -> Option<TestDatabase> {
    Some(postgres()?.database())
}

/// A server process over `db`: its own pool, as a separate process would have.
fn process(db: &TestDatabase) -> Server {
    Server::new(catalog(), db.storage())
}

fn count(db: &TestDatabase, sql: &str) -> i64 {
    db.client().query_one(sql, &[]).unwrap().get(0)
}

#[test]
fn writers_in_several_processes_take_each_sequence_number_once_and_a_reader_misses_none() {
    let Some(db) = database() else { return };
    const PROCESSES: usize = 4;
    const PUSHES: usize = 15;
    let servers: Vec<Arc<Server>> = (0..PROCESSES).map(|_| Arc::new(process(&db))).collect();
    let done = Arc::new(AtomicBool::new(false));
    // A client pulling all along, through yet another process: every change must reach it,
    // however the writers' commits interleave with its pulls.
    let reader = {
        let server = Arc::new(process(&db));
        let done = done.clone();
        thread::spawn(move || {
            let mut cursors = start(&["project"]);
            let mut seen = Vec::new();
            loop {
                let finished = done.load(Ordering::SeqCst);
                let (changes, _) = pull_all(&server, "ana", 1, &mut cursors, 7);
                seen.extend(changes.into_iter().map(|c| c.id));
                if finished {
                    return seen;
                }
            }
        })
    };
    let writers: Vec<_> = servers
        .iter()
        .map(|server| {
            let server = server.clone();
            thread::spawn(move || {
                let mut ids = Vec::new();
                for i in 0..PUSHES {
                    let id = Uuid::new_v4();
                    let outcomes = push(
                        &server,
                        "ana",
                        1,
                        vec![create("project", id, 1, json!({ "name": format!("p{i}") }))],
                    );
                    assert_accepted(&outcomes[0]);
                    ids.push(id);
                }
                ids
            })
        })
        .collect();
    let written: BTreeSet<Uuid> = writers
        .into_iter()
        .flat_map(|w| w.join().unwrap())
        .collect();
    done.store(true, Ordering::SeqCst);
    let seen = reader.join().unwrap();

    assert_eq!(written.len(), PROCESSES * PUSHES);
    // A record created during a multi-page catch-up may come again with the next pull (the
    // protocol allows it); none may be missing.
    let seen: BTreeSet<Uuid> = seen.into_iter().collect();
    assert_eq!(seen, written, "the reader's cursors skipped a change");
    let seqs: Vec<i64> = db
        .client()
        .query("SELECT seq FROM records ORDER BY seq", &[])
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    let expected: Vec<i64> = (1..=(PROCESSES * PUSHES) as i64).collect();
    assert_eq!(seqs, expected, "one sequence number per change, none twice");
}

#[test]
fn updates_of_one_version_from_several_processes_accept_exactly_one() {
    let Some(db) = database() else { return };
    let first = process(&db);
    let project = seed_project(&first, "ana", "Bridge");
    const PROCESSES: usize = 6;
    let barrier = Arc::new(Barrier::new(PROCESSES));
    let outcomes: Vec<Outcome> = (0..PROCESSES)
        .map(|i| {
            let server = process(&db);
            let barrier = barrier.clone();
            thread::spawn(move || {
                let edit = update("project", project, 1, 1, json!({ "name": format!("n{i}") }));
                barrier.wait();
                push(&server, "ana", 1, vec![edit]).remove(0)
            })
        })
        .collect::<Vec<_>>()
        .into_iter()
        .map(|t| t.join().unwrap())
        .collect();
    let accepted = outcomes
        .iter()
        .filter(|o| matches!(o, Outcome::Accepted { .. }))
        .count();
    let conflicts = outcomes
        .iter()
        .filter(|o| matches!(o, Outcome::Conflict { .. }))
        .count();
    assert_eq!(
        (accepted, conflicts),
        (1, PROCESSES - 1),
        "one edit of version 1 wins, the others conflict: {outcomes:?}"
    );
}

#[test]
fn one_batch_replayed_through_several_processes_at_once_applies_once() {
    let Some(db) = database() else { return };
    let batch = vec![
        create("project", Uuid::new_v4(), 1, json!({ "name": "A" })),
        create("project", Uuid::new_v4(), 1, json!({ "name": "B" })),
    ];
    const PROCESSES: usize = 5;
    let barrier = Arc::new(Barrier::new(PROCESSES));
    let answers: Vec<Vec<Outcome>> = (0..PROCESSES)
        .map(|_| {
            let server = process(&db);
            let (barrier, batch) = (barrier.clone(), batch.clone());
            thread::spawn(move || {
                barrier.wait();
                push(&server, "ana", 1, batch)
            })
        })
        .collect::<Vec<_>>()
        .into_iter()
        .map(|t| t.join().unwrap())
        .collect();
    assert!(
        answers.iter().all(|a| a == &answers[0]),
        "every replay gets the first answer: {answers:?}"
    );
    assert_eq!(count(&db, "SELECT count(*) FROM records"), 2);
    assert_eq!(count(&db, "SELECT count(*) FROM answers"), 2);
    assert_eq!(
        count(
            &db,
            "SELECT last_seq FROM user_sequences WHERE user_name = 'ana'"
        ),
        2,
        "the batch took two sequence numbers, once"
    );
}

/// Makes the next `failures` inserts into `answers` fail with `sqlstate`. The count lives in a
/// sequence, which a rolled-back transaction does not roll back.
fn fail_answer_inserts(db: &TestDatabase, failures: i64, sqlstate: &str) {
    db.client()
        .batch_execute(&format!(
            "CREATE SEQUENCE answer_inserts;
             CREATE FUNCTION fail_answer_insert() RETURNS trigger AS $$
             BEGIN
                 IF nextval('answer_inserts') <= {failures} THEN
                     RAISE EXCEPTION 'injected failure' USING ERRCODE = '{sqlstate}';
                 END IF;
                 RETURN NEW;
             END $$ LANGUAGE plpgsql;
             CREATE TRIGGER fail_answer_insert BEFORE INSERT ON answers
                 FOR EACH ROW EXECUTE FUNCTION fail_answer_insert();"
        ))
        .unwrap();
}

#[test]
fn serialization_failures_and_deadlocks_are_retried_and_never_reach_the_client() {
    for sqlstate in ["40001", "40P01"] {
        let Some(db) = database() else { return };
        let server = process(&db);
        fail_answer_inserts(&db, 3, sqlstate);
        let id = Uuid::new_v4();
        let outcomes = push(
            &server,
            "ana",
            1,
            vec![create("project", id, 1, json!({ "name": "Bridge" }))],
        );
        assert_eq!(assert_accepted(&outcomes[0]), 1, "{sqlstate}");
        assert_eq!(
            count(&db, "SELECT last_value FROM answer_inserts"),
            4,
            "{sqlstate}: three failed attempts, then one that committed"
        );
        assert_eq!(count(&db, "SELECT count(*) FROM records"), 1, "{sqlstate}");
        assert_eq!(
            count(&db, "SELECT last_seq FROM user_sequences"),
            1,
            "{sqlstate}: the failed attempts left no sequence number behind"
        );
    }
}

#[test]
fn a_batch_failing_for_good_midway_applies_none_of_it() {
    let Some(db) = database() else { return };
    let server = process(&db);
    // The second answer insert fails with an error no retry cures.
    db.client()
        .batch_execute(
            "CREATE SEQUENCE answer_inserts;
             CREATE FUNCTION fail_second() RETURNS trigger AS $$
             BEGIN
                 IF nextval('answer_inserts') = 2 THEN
                     RAISE EXCEPTION 'disk on fire' USING ERRCODE = '53100';
                 END IF;
                 RETURN NEW;
             END $$ LANGUAGE plpgsql;
             CREATE TRIGGER fail_second BEFORE INSERT ON answers
                 FOR EACH ROW EXECUTE FUNCTION fail_second();",
        )
        .unwrap();
    let batch = vec![
        create("project", Uuid::new_v4(), 1, json!({ "name": "A" })),
        create("project", Uuid::new_v4(), 1, json!({ "name": "B" })),
    ];
    let error = push_result(&server, "ana", 1, batch).unwrap_err();
    assert!(
        matches!(&error, ServerError::Storage(e) if e.message.contains("disk on fire")),
        "{error}"
    );
    assert_eq!(count(&db, "SELECT count(*) FROM records"), 0);
    assert_eq!(count(&db, "SELECT count(*) FROM answers"), 0);
    assert_eq!(
        count(&db, "SELECT coalesce(max(last_seq), 0) FROM user_sequences"),
        0
    );
}

#[test]
fn processes_opening_a_fresh_database_together_apply_each_step_once_and_share_one_secret() {
    let Some(db) = database() else { return };
    let db = Arc::new(db);
    let barrier = Arc::new(Barrier::new(4));
    let secrets: BTreeSet<Vec<u8>> = (0..4)
        .map(|_| {
            let (db, barrier) = (db.clone(), barrier.clone());
            thread::spawn(move || {
                barrier.wait();
                db.storage().secret().to_vec()
            })
        })
        .collect::<Vec<_>>()
        .into_iter()
        .map(|t| t.join().unwrap())
        .collect();
    assert_eq!(
        secrets.len(),
        1,
        "a cursor from one process is valid at all"
    );
    assert_eq!(
        count(&db, "SELECT count(*) FROM server_schema_steps"),
        1,
        "step 1 recorded once"
    );
    // Reopening applies nothing and keeps the secret.
    assert_eq!(db.storage().secret(), secrets.first().unwrap().as_slice());
    assert_eq!(count(&db, "SELECT count(*) FROM server_schema_steps"), 1);
}

#[test]
fn a_database_whose_tables_a_newer_server_wrote_is_refused() {
    let Some(db) = database() else { return };
    drop(db.storage());
    db.client()
        .batch_execute("INSERT INTO server_schema_steps (version, purpose) VALUES (2, 'future')")
        .unwrap();
    let error = PostgresStorage::connect(&db.url).err().expect("refused");
    assert!(
        error.message.contains("version 2") && error.message.contains("newer"),
        "{error}"
    );
}

#[test]
fn a_wrong_address_fails_at_once_naming_it_without_the_password() {
    let error = PostgresStorage::connect("postgres://sync:s3cret@127.0.0.1:1/sync")
        .err()
        .expect("nothing listens on port 1");
    assert!(
        error.message.contains("127.0.0.1:1") && !error.message.contains("s3cret"),
        "{error}"
    );
}
