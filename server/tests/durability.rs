//! The SQLite file keeps everything across a restart: records, the change sequence, the
//! idempotency keys with their answers, and the cursor secret.

#[macro_use]
mod backends;
mod common;

use std::collections::HashSet;

use common::*;
use serde_json::json;
use syncwright::Uuid;
use syncwright_server::Server;
use syncwright_server::storage::SqliteStorage;

fn open(path: &std::path::Path) -> Server {
    Server::new(catalog(), SqliteStorage::open(path).unwrap())
}

#[test]
fn reopening_the_database_keeps_records_sequence_keys_and_cursors() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("server.db");

    let (first_answer, replayed, cursors, before) = {
        let server = open(&path);
        let project = seed_project(&server, "ana", "Bridge");
        let rename = update(
            "project",
            project,
            1,
            1,
            json!({ "name": "Harbour bridge" }),
        );
        let first_answer = push(&server, "ana", 1, vec![rename.clone()]);
        let mut cursors = start(&["project"]);
        let (before, _) = pull_all(&server, "ana", 1, &mut cursors, 10);
        (first_answer, rename, cursors, before)
    };

    let server = open(&path);
    // The key survived with its answer: the replay applies nothing.
    assert_eq!(push(&server, "ana", 1, vec![replayed]), first_answer);
    // The cursor is still this server's, and nothing changed since it.
    let mut cursors = cursors;
    let (since, _) = pull_all(&server, "ana", 1, &mut cursors, 10);
    assert!(since.is_empty(), "nothing new after the restart: {since:?}");
    // The records survived.
    let (all, _) = pull_all(&server, "ana", 1, &mut start(&["project"]), 10);
    assert_eq!(all, before);
    // The sequence continues after the last number instead of reusing one: a change made
    // after the restart is seen by the old cursor.
    let late = seed_project(&server, "ana", "Late");
    let (after, _) = pull_all(&server, "ana", 1, &mut cursors, 10);
    assert_eq!(
        after.iter().map(|c| c.id).collect::<HashSet<Uuid>>(),
        HashSet::from([late])
    );
}

#[test]
fn a_database_from_a_newer_server_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("server.db");
    drop(SqliteStorage::open(&path).unwrap());
    let conn = rusqlite::Connection::open(&path).unwrap();
    conn.pragma_update(None, "user_version", 99).unwrap();
    drop(conn);
    let error = SqliteStorage::open(&path).err().expect("refused");
    assert!(
        error
            .to_string()
            .contains("written by a newer server (storage version 99"),
        "{error}"
    );
}
