//! The README's sync loop, compiled so it cannot rot (`tests/readme.rs` checks that the README's
//! block is this function's body, verbatim; rustfmt leaves it as written for that reason).

use crate::MIGRATIONS;

/// Syncs `app.db` with a server core kept in `server.db` every 30 seconds, forever.
#[allow(dead_code, unused_imports)]
#[rustfmt::skip]
pub fn sync_forever() -> Result<(), Box<dyn std::error::Error>> {
use std::sync::Arc;
use std::time::Duration;
use syncwright::sync::SyncOptions;
use syncwright::{Database, Error};
use syncwright_server::{Server, catalog::Catalog, storage::SqliteStorage};
use syncwright_server::transport::InProcessTransport;

let server = Arc::new(Server::new(
    Catalog::from_project("syncwright.toml")?, // the app's released schema history
    SqliteStorage::open("server.db")?,
));
let transport = InProcessTransport::new(server, "user-42"); // over HTTP: a bearer token
let db = Database::open("app.db", &MIGRATIONS)?; // registers every entity of the schema
loop {
    match db.sync_with(&transport, SyncOptions::new().batch_size(100).pull_limit(500)) {
        Ok(report) => {
            println!("pulled {}, pushed {}", report.pulled, report.pushed);
            for conflict in &report.conflicts {
                println!("{} {}: {:?}", conflict.entity, conflict.id, conflict.resolution);
            }
            for rejected in &report.rejected {
                eprintln!("{} {} refused: {}", rejected.entity, rejected.id, rejected.reason);
            }
        }
        // Offline, a 5xx, or a refusal such as `schema_too_new`: nothing is lost, the queue
        // keeps every unanswered change; try again later.
        Err(Error::SyncStopped { source }) => eprintln!("sync stopped: {source}"),
        Err(other) => return Err(other.into()),
    }
    for conflict in db.conflicts()? {
        // `manual` entities: show both versions, then e.g.
        // db.resolve_conflict::<Task>(conflict.id, syncwright::sync::Choice::Local)?;
        println!("{} {} waits for a decision", conflict.entity, conflict.id);
    }
    std::thread::sleep(Duration::from_secs(30));
}
}
