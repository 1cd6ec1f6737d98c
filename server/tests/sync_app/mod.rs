//! The engine tests' app (`tests/fixtures/sync-app`, released as v1 and v2 with the
//! generator): its Rust types for both versions, its server, and clients (in-memory databases
//! with their own manual clock) that sync through the in-process transport.
#![allow(dead_code)] // each test file uses its own share

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use syncwright::sync::protocol::Fields;
use syncwright::sync::transport::Transport;
use syncwright::sync::{SyncOptions, SyncReport};
use syncwright::{
    Database, ManualClock, Migrations, OwnedMigration, OwnedMigrations, RetryPolicy, Syncable, Uuid,
};
use syncwright_server::Server;
use syncwright_server::catalog::Catalog;
use syncwright_server::storage::SqliteStorage;
use syncwright_server::transport::InProcessTransport;

pub fn fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/sync-app")
}

/// A project (lww), as v2 has it.
#[derive(Debug, Clone, PartialEq, Syncable)]
#[syncwright(conflict = "lww")]
pub struct Project {
    pub name: String,
    #[syncwright(default = false)]
    pub archived: bool,
    #[syncwright(default = 0)]
    pub budget: i64,
}

/// A project as v1 has it (no budget).
#[derive(Debug, Clone, PartialEq, Syncable)]
#[syncwright(name = "project", table = "projects", conflict = "lww")]
pub struct ProjectV1 {
    pub name: String,
    #[syncwright(default = false)]
    pub archived: bool,
}

/// A task of a project (lww), as v2 has it.
#[derive(Debug, Clone, PartialEq, Syncable)]
#[syncwright(conflict = "lww")]
pub struct Task {
    #[syncwright(references = "projects")]
    pub project_id: Uuid,
    pub title: String,
    #[syncwright(default = false)]
    pub done: bool,
    pub priority: Option<i64>,
}

/// A task as v1 has it (no priority).
#[derive(Debug, Clone, PartialEq, Syncable)]
#[syncwright(name = "task", table = "tasks", conflict = "lww")]
pub struct TaskV1 {
    #[syncwright(references = "projects")]
    pub project_id: Uuid,
    pub title: String,
    #[syncwright(default = false)]
    pub done: bool,
}

/// A comment on a task (v2 only).
#[derive(Debug, Clone, PartialEq, Syncable)]
#[syncwright(conflict = "lww")]
pub struct Comment {
    #[syncwright(references = "tasks")]
    pub task_id: Uuid,
    pub body: String,
}

/// One memo entity per other strategy, all with the same fields.
macro_rules! memo {
    ($ty:ident, $name:literal, $table:literal, $strategy:literal) => {
        #[doc = concat!("A memo resolved by `", $strategy, "`.")]
        #[derive(Debug, Clone, PartialEq, Syncable)]
        #[syncwright(name = $name, table = $table, conflict = $strategy)]
        pub struct $ty {
            pub title: String,
            #[syncwright(default = "")]
            pub body: String,
        }

        impl Memo for $ty {
            fn new(title: &str, body: &str) -> Self {
                $ty {
                    title: title.to_owned(),
                    body: body.to_owned(),
                }
            }
            fn title(&self) -> &str {
                &self.title
            }
            fn body(&self) -> &str {
                &self.body
            }
        }
    };
}

/// What the strategy tests need of a memo.
pub trait Memo: Syncable + Clone + PartialEq + std::fmt::Debug {
    fn new(title: &str, body: &str) -> Self;
    fn title(&self) -> &str;
    fn body(&self) -> &str;
}

memo!(MemoServer, "memo_server", "memo_servers", "server_wins");
memo!(MemoClient, "memo_client", "memo_clients", "client_wins");
memo!(MemoField, "memo_field", "memo_fields", "field_merge");
memo!(MemoManual, "memo_manual", "memo_manuals", "manual");

/// Every v2 entity, parents first.
pub fn entities_v2() -> Vec<&'static syncwright::EntityDescriptor> {
    vec![
        Project::ENTITY,
        Task::ENTITY,
        Comment::ENTITY,
        MemoServer::ENTITY,
        MemoClient::ENTITY,
        MemoField::ENTITY,
        MemoManual::ENTITY,
    ]
}

/// Every v1 entity.
pub fn entities_v1() -> Vec<&'static syncwright::EntityDescriptor> {
    vec![
        ProjectV1::ENTITY,
        TaskV1::ENTITY,
        MemoServer::ENTITY,
        MemoClient::ENTITY,
        MemoField::ENTITY,
        MemoManual::ENTITY,
    ]
}

/// The app's migrations, cut at `version` (what the app released at that version shipped).
pub fn migrations(version: u32) -> OwnedMigrations {
    let mut all = Migrations::from_dir(fixture().join("migrations")).expect("the fixture loads");
    if version < all.version {
        all.steps.retain(|s| s.version <= version);
        all.version = version;
        all.schema = OwnedMigration::new(
            version,
            "schema",
            all.steps.iter().map(|s| s.sql.as_str()).collect::<String>(),
        );
    }
    all
}

/// The server's catalog: every released version of the fixture.
pub fn catalog() -> Catalog {
    Catalog::from_project(fixture().join("syncwright.toml")).expect("the catalog builds")
}

/// A server over the fixture's catalog, its state in memory.
pub fn server() -> Arc<Server> {
    server_on(crate::backends::Backend::Sqlite)
}

/// A server over the fixture's catalog, its state in a fresh `backend` database.
pub fn server_on(backend: crate::backends::Backend) -> Arc<Server> {
    Arc::new(Server::new(catalog(), backend.storage()))
}

/// A server that knows only v1 of the app.
pub fn server_v1() -> Arc<Server> {
    let catalog = catalog();
    let v1 = catalog.version(1).expect("v1 is released").clone();
    Arc::new(Server::new(
        Catalog::new().with_version(v1),
        SqliteStorage::in_memory().unwrap(),
    ))
}

pub fn start() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(1_764_000_000)
}

/// Retries at once: the tests move no clock to get past a backoff.
pub fn no_backoff() -> RetryPolicy {
    RetryPolicy {
        max_retries: 1_000,
        base_delay: Duration::ZERO,
        max_delay: Duration::ZERO,
        jitter: 0.0,
    }
}

/// One device of user `ana`: a database at `version` with its own clock, and its transport
/// (in process unless built with [`Client::over`]).
pub struct Client<T: Transport = InProcessTransport> {
    pub db: Database,
    pub clock: Arc<ManualClock>,
    pub transport: T,
}

impl Client {
    /// A v2 client of `server`.
    pub fn new(server: &Arc<Server>) -> Client {
        Client::at_version(server, 2)
    }

    /// A client of `server` at schema `version`.
    pub fn at_version(server: &Arc<Server>, version: u32) -> Client {
        Client::over_at_version(InProcessTransport::new(server.clone(), "ana"), version)
    }
}

impl<T: Transport> Client<T> {
    /// The ids of this device's live (not deleted) records of `E`.
    pub fn live<E: Syncable>(&self) -> Vec<Uuid> {
        let rows = self.db.query::<E>().fetch().unwrap();
        rows.iter().map(|r| r.id).collect()
    }

    /// This device's projects and tasks, tombstones included, keyed and shaped as the server
    /// lists them: what a converged device must equal.
    pub fn records(&self) -> BTreeMap<(String, Uuid), (bool, Fields)> {
        let mut out = BTreeMap::new();
        for r in self
            .db
            .query::<Project>()
            .include_deleted()
            .fetch()
            .unwrap()
        {
            out.insert(
                ("project".to_owned(), r.id),
                (r.is_deleted, r.data.to_payload()),
            );
        }
        for r in self.db.query::<Task>().include_deleted().fetch().unwrap() {
            out.insert(
                ("task".to_owned(), r.id),
                (r.is_deleted, r.data.to_payload()),
            );
        }
        out
    }

    /// A v2 client, in memory, syncing through `transport` (e.g. an `HttpTransport`).
    pub fn over(transport: T) -> Client<T> {
        Client::over_at_version(transport, 2)
    }

    fn over_at_version(transport: T, version: u32) -> Client<T> {
        let clock = Arc::new(ManualClock::new(start()));
        let entities = if version == 1 {
            entities_v1()
        } else {
            entities_v2()
        };
        let db = Database::options()
            .clock(clock.clone())
            .retry_policy(no_backoff())
            .jitter_seed(1)
            .entities(&entities)
            .open_in_memory(&migrations(version))
            .expect("the client database opens");
        Client {
            db,
            clock,
            transport,
        }
    }

    /// Syncs with the default options, expecting success.
    pub fn sync(&self) -> SyncReport {
        self.db
            .sync(&self.transport)
            .unwrap_or_else(|e| panic!("sync failed: {e}"))
    }

    /// Syncs through `transport` with `options`.
    pub fn sync_through(
        &self,
        transport: &impl Transport,
        options: &SyncOptions,
    ) -> syncwright::Result<SyncReport> {
        self.db.sync_with(transport, options)
    }

    /// Moves this device's clock forward.
    pub fn later(&self, ms: u64) {
        self.clock.advance(Duration::from_millis(ms));
    }
}

/// A v2 client whose database is the file at `path` (created when new).
pub fn file_client(server: &Arc<Server>, path: &Path) -> Client {
    let clock = Arc::new(ManualClock::new(start()));
    let db = Database::options()
        .clock(clock.clone())
        .retry_policy(no_backoff())
        .entities(&entities_v2())
        .open(path, &migrations(2))
        .expect("the client database opens");
    Client {
        db,
        clock,
        transport: InProcessTransport::new(server.clone(), "ana"),
    }
}

/// A server over the fixture's catalog with its state in the file at `path`.
pub fn file_server(path: &Path) -> Arc<Server> {
    Arc::new(Server::new(catalog(), SqliteStorage::open(path).unwrap()))
}

/// The server's view of every record of `entities` for user `ana`: (entity, id) ->
/// (server_version, deleted, fields), pulled in one go.
pub fn server_records(
    server: &Server,
    entities: &[&str],
) -> BTreeMap<(String, Uuid), (u64, bool, Fields)> {
    use syncwright::sync::protocol::PullRequest;
    let mut cursors: BTreeMap<_, _> = entities.iter().map(|e| (e.to_string(), None)).collect();
    let mut out = BTreeMap::new();
    loop {
        let page = server
            .handle_pull("ana", &PullRequest::new(2, cursors.clone(), 1000))
            .expect("the server answers");
        for r in page.changes {
            out.insert((r.entity, r.id), (r.server_version, r.deleted, r.fields));
        }
        for (e, c) in page.cursors {
            cursors.insert(e, Some(c));
        }
        if !page.has_more {
            return out;
        }
    }
}
