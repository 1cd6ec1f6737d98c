//! Crash safety: a child process is SIGKILLed during a large migration and during a burst of
//! writes; the database must come back whole.
//!
//! The test binary re-executes itself (`--ignored --exact crash_child`) with
//! `SYNCWRIGHT_CRASH_MODE` set; the child prints `committed <id> <version>` after every
//! committed write, and the parent kills it after a varying delay or number of lines.

mod common;

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::*;
use rusqlite::Connection;
use syncwright::{Database, Syncable};

const MODE: &str = "SYNCWRIGHT_CRASH_MODE";
const DB: &str = "SYNCWRIGHT_CRASH_DB";
/// `normal` runs the child's writes under `synchronous = NORMAL` (default: the store's default).
const SYNC: &str = "SYNCWRIGHT_CRASH_SYNC";
const ROWS: i64 = 60_000;

/// The child side; does nothing unless started by the parent.
#[test]
#[ignore = "run by the crash tests in a child process"]
fn crash_child() {
    let (Ok(mode), Ok(path)) = (std::env::var(MODE), std::env::var(DB)) else {
        return;
    };
    match mode.as_str() {
        "migrate" => {
            println!("opening");
            Database::open(&path, &migrations()).expect("child migration");
            println!("migrated");
        }
        "write" => {
            let mut options = Database::options();
            if std::env::var(SYNC).as_deref() == Ok("normal") {
                options.synchronous(syncwright::Synchronous::Normal);
            }
            let db = options
                .coalesce(false)
                .open(&path, &migrations())
                .expect("child open");
            let mut ids = Vec::new();
            for i in 0u32.. {
                if i % 3 == 2 {
                    let id = ids[(i as usize * 7) % ids.len()];
                    let r = db
                        .update(
                            id,
                            &Task {
                                priority: i64::from(i),
                                ..Task::new("updated")
                            },
                        )
                        .expect("update");
                    println!("committed {} {}", r.id, r.version);
                } else {
                    let r = db.insert(&Task::new(&format!("task {i}"))).expect("insert");
                    ids.push(r.id);
                    println!("committed {} {}", r.id, r.version);
                }
            }
        }
        "claim" => {
            let db =
                Database::open_with(&path, &migrations(), &[Task::ENTITY]).expect("child open");
            let ids: Vec<String> = db
                .queue()
                .next_batch(10)
                .expect("child claims")
                .iter()
                .map(|e| e.id.to_string())
                .collect();
            println!("claimed {}", ids.join(" "));
            loop {
                std::thread::sleep(Duration::from_secs(1));
            }
        }
        other => panic!("unknown mode {other}"),
    }
}

fn spawn(mode: &str, path: &Path) -> std::process::Child {
    spawn_with(mode, path, "full")
}

fn spawn_with(mode: &str, path: &Path, synchronous: &str) -> std::process::Child {
    Command::new(std::env::current_exe().unwrap())
        .args([
            "--ignored",
            "--exact",
            "crash_child",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(MODE, mode)
        .env(DB, path)
        .env(SYNC, synchronous)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn child")
}

/// Opens the database at `path` with the latest migrations in a child process and kills it
/// `after` it said it is opening (so at any point of the upgrade, or after it).
fn kill_while_migrating(path: &Path, after: Duration) {
    let mut child = spawn("migrate", path);
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    while !line.contains("opening") {
        line.clear();
        if out.read_line(&mut line).unwrap() == 0 {
            break;
        }
    }
    std::thread::sleep(after);
    child.kill().unwrap();
    child.wait().unwrap();
}

/// A v1 database with many tasks, closed cleanly (single file).
fn seed_v1(path: &Path) {
    drop(Database::open(path, &migrations_up_to(1)).unwrap());
    let conn = Connection::open(path).unwrap();
    conn.execute_batch(&format!(
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {ROWS}) \
         INSERT INTO tasks (id, title, done) SELECT printf('00000000-0000-4000-8000-%012d', i), 'task ' || i, i % 2 FROM n;"
    ))
    .unwrap();
    conn.query_row("PRAGMA journal_mode = DELETE", [], |r| {
        r.get::<_, String>(0)
    })
    .unwrap();
}

#[test]
fn killed_migration_leaves_a_whole_version() {
    let dir = TempDir::new();
    let template = dir.path("template.db");
    seed_v1(&template);
    let mut versions_seen = HashMap::new();
    let started = Instant::now();
    for round in 0..12u64 {
        let path = dir.path(&format!("m{round}.db"));
        std::fs::copy(&template, &path).unwrap();
        kill_while_migrating(&path, Duration::from_millis(round * 15));

        let conn = Connection::open(&path).unwrap();
        integrity_ok(&conn);
        let version = count(&conn, "PRAGMA user_version");
        *versions_seen.entry(version).or_insert(0) += 1;
        let recorded = count(&conn, "SELECT count(*) FROM _sync_migrations");
        assert_eq!(
            recorded, version,
            "round {round}: history matches the version"
        );
        let has_priority = count(
            &conn,
            "SELECT count(*) FROM pragma_table_info('tasks') WHERE name = 'priority'",
        );
        assert_eq!(
            has_priority,
            i64::from(version >= 2),
            "round {round}: columns match version {version}"
        );
        assert_eq!(
            count(&conn, "SELECT count(*) FROM tasks"),
            ROWS,
            "round {round}: no row lost"
        );
        if version >= 2 {
            let unfilled = count(
                &conn,
                "SELECT count(*) FROM tasks WHERE done = 0 AND priority = 0",
            );
            assert_eq!(
                unfilled, 0,
                "round {round}: the backfill committed with its version"
            );
        }
        drop(conn);
        let db = Database::open_with(&path, &migrations(), &[Task::ENTITY])
            .expect("reopen finishes the migration");
        assert_eq!(
            db.query::<Task>().count().unwrap(),
            u64::try_from(ROWS).unwrap()
        );
    }
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "bounded runtime"
    );
    eprintln!("versions at kill time: {versions_seen:?}");
}

/// Queue entries of the runtime-step crash test: enough that the rebuild takes a while.
const QUEUE_ROWS: i64 = 20_000;

/// A database at runtime step 4 with a large queue (text keys), closed cleanly.
fn seed_runtime_step_4(path: &Path) {
    let conn = Connection::open(path).unwrap();
    conn.execute_batch(&runtime_steps_up_to(4)).unwrap();
    conn.execute_batch(&format!(
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {QUEUE_ROWS}) \
         INSERT INTO _sync_queue (idempotency_key, entity_type, action, entity_id, payload, \
         schema_version, next_attempt_at, created_at, status, changed_fields) \
         SELECT printf('00000000-0000-4000-8000-%012d', i), 'task', 'update', \
         printf('00000000-0000-4000-9000-%012d', i % 1000), '{{\"title\":\"t\"}}', 3, i, i, \
         CASE i % 4 WHEN 0 THEN 'pending' WHEN 1 THEN 'failed' WHEN 2 THEN 'completed' ELSE 'pending' END, \
         '[\"title\"]' FROM n;"
    ))
    .unwrap();
    conn.query_row("PRAGMA journal_mode = DELETE", [], |r| {
        r.get::<_, String>(0)
    })
    .unwrap();
}

#[test]
fn killed_runtime_step_5_leaves_the_old_queue_or_the_new_one_whole() {
    // The queue's rebuild (step 5) is one transaction with its `_sync_runtime` row: a kill at
    // any moment leaves step 4's shape with every entry, or step 5's with every entry.
    let dir = TempDir::new();
    let template = dir.path("template.db");
    seed_runtime_step_4(&template);
    let mut versions_seen = HashMap::new();
    for round in 0..10u64 {
        let path = dir.path(&format!("r{round}.db"));
        std::fs::copy(&template, &path).unwrap();
        kill_while_migrating(&path, Duration::from_millis(round * 100));

        let conn = Connection::open(&path).unwrap();
        integrity_ok(&conn);
        let version = count(&conn, "SELECT max(version) FROM _sync_runtime");
        *versions_seen.entry(version).or_insert(0) += 1;
        assert_eq!(
            count(&conn, "SELECT count(*) FROM _sync_queue"),
            QUEUE_ROWS,
            "round {round}: no entry lost at runtime version {version}"
        );
        let key_type = if version >= 5 { "blob" } else { "text" };
        assert_eq!(
            count(
                &conn,
                &format!(
                    "SELECT count(*) FROM _sync_queue WHERE typeof(idempotency_key) = '{key_type}'"
                )
            ),
            QUEUE_ROWS,
            "round {round}: runtime version {version} has every key as {key_type}"
        );
        assert_eq!(
            count(
                &conn,
                "SELECT count(*) FROM sqlite_master WHERE name = 'idx__sync_queue_entity_type_status'"
            ),
            i64::from(version < 5),
            "round {round}: the indexes match runtime version {version}"
        );
        drop(conn);
        let db = Database::open_with(&path, &migrations(), &[Task::ENTITY])
            .expect("reopen finishes the upgrade");
        let status = db.status().unwrap();
        assert_eq!(
            status.pending + status.failed,
            u64::try_from(QUEUE_ROWS / 4 * 3).unwrap(),
            "round {round}: the upgraded queue reads every open entry"
        );
    }
    eprintln!("runtime versions at kill time: {versions_seen:?}");
}

#[test]
fn killed_write_burst_keeps_rows_and_queue_in_step() {
    killed_write_burst("full");
}

#[test]
fn killed_write_burst_keeps_rows_and_queue_in_step_under_synchronous_normal() {
    // NORMAL syncs the WAL at checkpoints only: a killed process still loses no commit.
    killed_write_burst("normal");
}

fn killed_write_burst(synchronous: &str) {
    let dir = TempDir::new();
    let template = dir.path("template.db");
    drop(Database::open(&template, &migrations()).unwrap());
    let mut total_committed = 0;
    for round in 0..10usize {
        let path = dir.path(&format!("w{round}.db"));
        std::fs::copy(&template, &path).unwrap();
        let mut child = spawn_with("write", &path, synchronous);
        let mut out = BufReader::new(child.stdout.take().unwrap());
        let mut committed: HashMap<String, i64> = HashMap::new();
        let kill_after = 1 + round * 17;
        let mut line = String::new();
        while committed.len() < kill_after {
            line.clear();
            if out.read_line(&mut line).unwrap() == 0 {
                break;
            }
            let mut parts = line.split_whitespace();
            if parts.next() == Some("committed") {
                let id = parts.next().unwrap().to_owned();
                let version: i64 = parts.next().unwrap().parse().unwrap();
                let e = committed.entry(id).or_default();
                *e = (*e).max(version);
            }
        }
        child.kill().unwrap();
        child.wait().unwrap();
        total_committed += committed.len();

        let conn = Connection::open(&path).unwrap();
        integrity_ok(&conn);
        assert_eq!(count(&conn, "PRAGMA user_version"), 3);
        for (id, version) in &committed {
            let stored: i64 = conn
                .query_row("SELECT version FROM tasks WHERE id = ?1", [id], |r| {
                    r.get(0)
                })
                .unwrap_or_else(|e| panic!("round {round}: committed task {id} lost: {e}"));
            assert!(
                stored >= *version,
                "round {round}: {id} at {stored} < committed {version}"
            );
        }
        let orphans = count(
            &conn,
            "SELECT count(*) FROM _sync_queue q WHERE NOT EXISTS (SELECT 1 FROM tasks t WHERE t.id = q.entity_id)",
        );
        assert_eq!(orphans, 0, "round {round}: no queue entry without its row");
        // Coalescing is off in the child: a record at version v has exactly v entries
        // (its create and v - 1 updates), one per committed write.
        let mismatched = count(
            &conn,
            "SELECT count(*) FROM tasks t WHERE t.version <> (SELECT count(*) FROM _sync_queue q WHERE q.entity_id = t.id) \
             OR (SELECT count(*) FROM _sync_queue q WHERE q.entity_id = t.id AND q.action = 'create') <> 1",
        );
        assert_eq!(
            mismatched, 0,
            "round {round}: one queue entry per committed write"
        );
        drop(conn);
        let db = Database::open_with(&path, &migrations(), &[Task::ENTITY]).unwrap();
        assert!(
            db.queue()
                .open_entries()
                .unwrap()
                .iter()
                .all(|e| e.entity_type == Task::ENTITY.name)
        );
    }
    assert!(
        total_committed > 100,
        "the children committed writes before dying: {total_committed}"
    );
}

#[test]
fn a_live_child_process_keeps_its_batch_and_a_killed_one_loses_it() {
    let dir = TempDir::new();
    let path = dir.path("claim.db");
    {
        let db = Database::open_with(&path, &migrations(), &[Task::ENTITY]).unwrap();
        for i in 0..3 {
            db.insert(&Task::new(&format!("task {i}"))).unwrap();
        }
    }
    let mut child = spawn("claim", &path);
    let mut out = BufReader::new(child.stdout.take().unwrap());
    // libtest prints `test crash_child ... ` before the child's own output, on the same line.
    let mut line = String::new();
    let claimed: Vec<i64> = loop {
        line.clear();
        assert_ne!(out.read_line(&mut line).unwrap(), 0, "the child died early");
        if let Some(at) = line.find("claimed ") {
            break line[at + "claimed ".len()..]
                .split_whitespace()
                .map(|id| id.parse().unwrap())
                .collect();
        }
    };
    assert_eq!(claimed.len(), 3);

    // While the child lives, its batch stays its own.
    let parent = Database::open_with(&path, &migrations(), &[Task::ENTITY]).unwrap();
    assert_eq!(parent.status().unwrap().in_flight, 3);
    assert!(parent.queue().next_batch(10).unwrap().is_empty());
    assert!(matches!(
        parent.queue().complete(claimed[0]),
        Err(syncwright::Error::QueueEntryClaimed { .. })
    ));

    child.kill().unwrap(); // SIGKILL: no destructor runs, the lock file stays behind
    child.wait().unwrap();
    let reopened = Database::open_with(&path, &migrations(), &[Task::ENTITY]).unwrap();
    assert_eq!(
        reopened.status().unwrap().pending,
        3,
        "the dead child's batch is back"
    );
    let batch = reopened.queue().next_batch(10).unwrap();
    assert_eq!(batch.iter().map(|e| e.id).collect::<Vec<_>>(), claimed);
    for entry in batch {
        reopened.queue().complete(entry.id).unwrap();
    }
    let lock_files = std::fs::read_dir(&dir.0)
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .file_name()
                .to_string_lossy()
                .contains(".queue-owner.")
        })
        .count();
    assert_eq!(
        lock_files, 2,
        "only the live instances (parent, reopened) keep a lock file: the dead child's was swept"
    );
    drop(parent);
}
