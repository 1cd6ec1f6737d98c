//! The client killed (SIGKILL, a real child process) mid-pull and mid-push: afterwards no
//! duplicate, no lost mutation, no skipped change.
//!
//! The test binary re-executes itself (`--ignored --exact crash_child`) with
//! `SYNCWRIGHT_SYNC_CRASH_MODE` set. The child syncs its database file against a server whose
//! state is a file too, through a transport that prints a line after each answer arrives and
//! then dawdles, so the parent's kill lands between an answer and its local transaction (or
//! inside it).

#[macro_use]
mod backends;
mod sync_app;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use sync_app::*;
use syncwright::sync::SyncOptions;
use syncwright::sync::protocol::{PullRequest, PullResponse, PushRequest, PushResponse};
use syncwright::sync::transport::{Transport, TransportError};
use syncwright::{SyncStatus, Uuid};

const MODE: &str = "SYNCWRIGHT_SYNC_CRASH_MODE";
const DIR: &str = "SYNCWRIGHT_SYNC_CRASH_DIR";

/// Prints `pulled`/`pushed` once an answer arrived (the server committed a push by then),
/// then waits a little before the engine may apply it.
struct Announcing<T>(T);

impl<T: Transport> Transport for Announcing<T> {
    fn pull(&self, request: &PullRequest) -> Result<PullResponse, TransportError> {
        let page = self.0.pull(request)?;
        println!("pulled");
        std::thread::sleep(Duration::from_millis(20));
        Ok(page)
    }
    fn push(&self, request: &PushRequest) -> Result<PushResponse, TransportError> {
        let answer = self.0.push(request)?;
        println!("pushed");
        std::thread::sleep(Duration::from_millis(20));
        Ok(answer)
    }
}

/// The child side; does nothing unless started by the parent.
#[test]
#[ignore = "run by the crash tests in a child process"]
fn crash_child() {
    let (Ok(mode), Ok(dir)) = (std::env::var(MODE), std::env::var(DIR)) else {
        return;
    };
    let dir = PathBuf::from(dir);
    let server = file_server(&dir.join("server.db"));
    let client = file_client(&server, &dir.join("client.db"));
    let transport = Announcing(&client.transport);
    let options = match mode.as_str() {
        "pull" => *SyncOptions::new().pull_limit(50),
        "push" => *SyncOptions::new().batch_size(20),
        other => panic!("unknown mode {other}"),
    };
    println!("started");
    client
        .db
        .sync_with(&transport, &options)
        .expect("child sync");
    println!("done");
}

fn spawn(mode: &str, dir: &Path) -> std::process::Child {
    Command::new(std::env::current_exe().unwrap())
        .args([
            "--ignored",
            "--exact",
            "crash_child",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(MODE, mode)
        .env(DIR, dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn child")
}

/// Runs the child in `mode` and kills it right after its `after`-th answer line.
fn kill_after(mode: &str, dir: &Path, answer: &str, after: usize) {
    let mut child = spawn(mode, dir);
    let stdout = child.stdout.take().unwrap();
    let mut seen = 0;
    for line in BufReader::new(stdout).lines() {
        let line = line.unwrap();
        assert_ne!(line, "done", "the child finished before it was killed");
        if line == answer {
            seen += 1;
            if seen == after {
                break;
            }
        }
    }
    child.kill().expect("SIGKILL the child");
    child.wait().unwrap();
}

struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> Self {
        let dir = std::env::temp_dir().join(format!(
            "syncwright-engine-crash-{name}-{}",
            std::process::id()
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn project(name: &str) -> Project {
    Project {
        name: name.to_owned(),
        archived: false,
        budget: 0,
    }
}

#[test]
fn killed_mid_pull_the_next_sync_gets_every_record_once() {
    let dir = TempDir::new("pull");
    let server = file_server(&dir.0.join("server.db"));
    {
        let writer = Client::new(&server);
        writer
            .db
            .transaction(|tx| {
                for i in 0..600 {
                    tx.insert(&project(&format!("p{i}")))?;
                }
                Ok(())
            })
            .unwrap();
        writer
            .sync_through(&writer.transport, SyncOptions::new().batch_size(600))
            .unwrap();
    }
    drop(server);
    // Killed after the 4th of 12 pages arrived.
    kill_after("pull", &dir.0, "pulled", 4);

    let server = file_server(&dir.0.join("server.db"));
    let client = file_client(&server, &dir.0.join("client.db"));
    let before = client.db.query::<Project>().count().unwrap();
    assert!(
        before < 600,
        "the child was killed mid-pull ({before} records)"
    );
    let report = client
        .sync_through(&client.transport, SyncOptions::new().pull_limit(50))
        .unwrap();
    assert_eq!(
        report.pulled + before,
        600,
        "every record is applied exactly once across the two runs"
    );
    assert_eq!(client.db.query::<Project>().count().unwrap(), 600);
    assert_eq!(
        client
            .db
            .query::<Project>()
            .sync_status(SyncStatus::Synced)
            .count()
            .unwrap(),
        600
    );
}

#[test]
fn killed_mid_push_the_next_sync_loses_nothing_and_applies_nothing_twice() {
    let dir = TempDir::new("push");
    let ids: Vec<Uuid> = {
        let server = file_server(&dir.0.join("server.db"));
        let client = file_client(&server, &dir.0.join("client.db"));
        client
            .db
            .transaction(|tx| {
                (0..200)
                    .map(|i| tx.insert(&project(&format!("p{i}"))).map(|r| r.id))
                    .collect()
            })
            .unwrap()
    };
    // Killed after the server committed the 3rd of 10 batches, before the client recorded it.
    kill_after("push", &dir.0, "pushed", 3);

    let server = file_server(&dir.0.join("server.db"));
    let on_server = server_records(&server, &["project"]);
    assert!(
        (60..200).contains(&on_server.len()),
        "the child was killed mid-push ({} on the server)",
        on_server.len()
    );
    let client = file_client(&server, &dir.0.join("client.db"));
    client
        .sync_through(&client.transport, SyncOptions::new().batch_size(20))
        .unwrap();
    let on_server = server_records(&server, &["project"]);
    assert_eq!(on_server.len(), 200, "no lost mutation");
    for id in &ids {
        let (version, _, _) = &on_server[&("project".to_owned(), *id)];
        assert_eq!(*version, 1, "{id} was applied more than once");
    }
    assert_eq!(client.db.status().unwrap().pending, 0);
    assert_eq!(client.db.status().unwrap().in_flight, 0);
}
