//! The storage backends every storage-facing test runs on: SQLite (always) and PostgreSQL (when
//! there is one), and [`on_both_backends!`] to run a test body on each.
//!
//! PostgreSQL for the tests: the server named by `SYNCWRIGHT_TEST_POSTGRES`, or else a
//! throwaway cluster this test process starts (`initdb` + `pg_ctl`, under `/tmp`, on a free
//! loopback port) and a watchdog stops and deletes once the process is gone. Each test gets a
//! database of its own.
//!
//! Without either, [`postgres`] prints a `skipped:` line and returns `None`, so the tests pass on
//! a machine with only Rust; with `SYNCWRIGHT_REQUIRE_POSTGRES=1` (CI) that is a failure.
#![allow(dead_code)] // each test file uses its own share

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;

use syncwright_server::storage::{
    PostgresStorage, ReadPage, Scan, SqliteStorage, Storage, StorageError, WriteTx,
};

/// Runs each named `fn name(backend: Backend)` as two tests, `name::sqlite` and
/// `name::postgres` (the latter skipped, saying so, without a PostgreSQL).
#[allow(unused_macros)] // not every test file runs tests on both
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            #[test]
            fn sqlite() {
                super::$name(crate::backends::Backend::Sqlite);
            }

            #[test]
            fn postgres() {
                if let Some(backend) = crate::backends::Backend::postgres() {
                    super::$name(backend);
                }
            }
        }
    )*};
}

/// Where a test server keeps its state.
#[derive(Clone, Copy)]
pub enum Backend {
    /// An in-memory SQLite database.
    Sqlite,
    /// A fresh database on the tests' PostgreSQL.
    Postgres(&'static TestPostgres),
}

impl Backend {
    /// PostgreSQL, when the tests have one (see [`postgres`]).
    pub fn postgres() -> Option<Backend> {
        postgres().map(Backend::Postgres)
    }

    /// A new, empty storage.
    pub fn storage(self) -> Box<dyn Storage> {
        match self {
            Backend::Sqlite => Box::new(SqliteStorage::in_memory().expect("SQLite opens")),
            Backend::Postgres(server) => Box::new(OwnedPostgres::new(server.database())),
        }
    }
}

/// The variable naming a PostgreSQL server the tests may create databases on.
pub const URL_VAR: &str = "SYNCWRIGHT_TEST_POSTGRES";
/// The variable that turns "no PostgreSQL" from a skip into a failure.
pub const REQUIRE_VAR: &str = "SYNCWRIGHT_REQUIRE_POSTGRES";

/// A PostgreSQL server the tests may create databases on.
pub struct TestPostgres {
    /// `postgres://user@host:port` (no database).
    base: String,
}

/// The tests' PostgreSQL, started on first use; `None` (after a `skipped:` line) when there is
/// none, unless [`REQUIRE_VAR`] is set.
pub fn postgres() -> Option<&'static TestPostgres> {
    static SERVER: OnceLock<Result<TestPostgres, String>> = OnceLock::new();
    match SERVER.get_or_init(find_or_start) {
        Ok(server) => Some(server),
        Err(why) if std::env::var_os(REQUIRE_VAR).is_some() => {
            panic!("{REQUIRE_VAR} is set but no PostgreSQL is available: {why}")
        }
        Err(why) => {
            // Straight to stderr, past the test harness's capture: a skip must be seen.
            let test = std::thread::current()
                .name()
                .unwrap_or("a test")
                .to_string();
            let _ = writeln!(
                std::io::stderr(),
                "skipped: {test} on PostgreSQL ({why}; install PostgreSQL or set \
                 {URL_VAR}=postgres://... to run it)"
            );
            None
        }
    }
}

fn find_or_start() -> Result<TestPostgres, String> {
    if let Ok(url) = std::env::var(URL_VAR) {
        let base = url.trim_end_matches('/').to_string();
        // Strip a database name: the tests create their own.
        let base = match base.split_once("://") {
            Some((scheme, rest)) => match rest.split_once('/') {
                Some((authority, _)) => format!("{scheme}://{authority}"),
                None => base.clone(),
            },
            None => base,
        };
        return Ok(TestPostgres { base });
    }
    let bin = binaries().ok_or("no PostgreSQL binaries (initdb, pg_ctl) found")?;
    start_cluster(&bin)
}

/// The newest `/usr/lib/postgresql/<version>/bin` holding `initdb`, or `pg_config --bindir`.
fn binaries() -> Option<PathBuf> {
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| {
            let version = entry.file_name().to_str()?.parse().ok()?;
            Some((version, entry.path().join("bin")))
        })
        .filter(|(_, bin)| bin.join("initdb").exists())
        .collect();
    versions.sort();
    if let Some((_, bin)) = versions.pop() {
        return Some(bin);
    }
    let output = Command::new("pg_config").arg("--bindir").output().ok()?;
    let bin = PathBuf::from(String::from_utf8(output.stdout).ok()?.trim());
    bin.join("initdb").exists().then_some(bin)
}

/// `initdb` refuses to run as root: as root, the cluster belongs to `nobody`.
fn as_cluster_owner(program: &Path) -> Command {
    let root = Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| o.stdout.starts_with(b"0\n"));
    if root {
        let mut command = Command::new("runuser");
        command.args(["-u", "nobody", "--"]).arg(program);
        command
    } else {
        Command::new(program)
    }
}

fn run(command: &mut Command, what: &str) -> Result<(), String> {
    let output = command
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("cannot run {what}: {e}"))?;
    if output.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{what} failed ({}): {}{}",
            output.status,
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        ))
    }
}

fn start_cluster(bin: &Path) -> Result<TestPostgres, String> {
    let dir = tempfile::Builder::new()
        .prefix("syncwright-pg-")
        .tempdir_in("/tmp")
        .map_err(|e| format!("cannot create a directory under /tmp: {e}"))?
        // The watchdog deletes it, after this process is gone.
        .keep();
    let _ = Command::new("chown").arg("nobody").arg(&dir).output();
    let data = dir.join("data");
    run(
        as_cluster_owner(&bin.join("initdb"))
            .arg("-D")
            .arg(&data)
            .args(["-A", "trust", "-U", "postgres", "-E", "UTF8", "--no-sync"]),
        "initdb",
    )?;
    let port = free_port();
    let options = format!(
        "-p {port} -k {} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off \
         -c full_page_writes=off -c max_connections=300",
        dir.display()
    );
    run(
        as_cluster_owner(&bin.join("pg_ctl"))
            .arg("-D")
            .arg(&data)
            .args(["-o", &options, "-l"])
            .arg(dir.join("log"))
            .args(["-w", "start"])
            .stdout(Stdio::null())
            .stderr(Stdio::null()),
        "pg_ctl start",
    )?;
    spawn_watchdog(bin, &dir, &data);
    Ok(TestPostgres {
        base: format!("postgres://postgres@127.0.0.1:{port}"),
    })
}

/// Stops the cluster and deletes its directory once this process has exited, however it
/// exits (a test run's statics are never dropped).
fn spawn_watchdog(bin: &Path, dir: &Path, data: &Path) {
    let stop = as_cluster_owner(&bin.join("pg_ctl"));
    let stop_line = std::iter::once(stop.get_program())
        .chain(stop.get_args())
        .map(|a| format!("'{}'", a.to_string_lossy()))
        .collect::<Vec<_>>()
        .join(" ");
    let script = format!(
        "while kill -0 {pid} 2>/dev/null; do sleep 0.5; done; \
         {stop_line} -D '{data}' -m immediate stop; rm -rf '{dir}'",
        pid = std::process::id(),
        data = data.display(),
        dir = dir.display(),
    );
    // Never waited for: it outlives this process on purpose.
    #[allow(clippy::zombie_processes)]
    Command::new("sh")
        .args(["-c", &script])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("the cluster's watchdog starts");
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

impl TestPostgres {
    /// A new, empty database, dropped when the returned value is.
    pub fn database(&self) -> TestDatabase {
        let name = format!("syncwright_test_{}", uuid::Uuid::new_v4().simple());
        let mut admin = self.admin();
        admin
            .batch_execute(&format!("CREATE DATABASE {name}"))
            .unwrap_or_else(|e| panic!("cannot create a test database on {}: {e}", self.base));
        TestDatabase {
            url: format!("{}/{name}", self.base),
            name,
            admin_url: format!("{}/postgres", self.base),
        }
    }

    fn admin(&self) -> postgres::Client {
        postgres::Client::connect(&format!("{}/postgres", self.base), postgres::NoTls)
            .unwrap_or_else(|e| panic!("cannot connect to {}: {e}", self.base))
    }
}

/// One test's database.
pub struct TestDatabase {
    /// Its connection URL.
    pub url: String,
    name: String,
    admin_url: String,
}

impl TestDatabase {
    /// A storage over this database (each call: another pool, as another server process
    /// would have).
    pub fn storage(&self) -> PostgresStorage {
        PostgresStorage::connect_with_pool_size(&self.url, 4).expect("the test database opens")
    }

    /// A direct connection, to look at or tamper with the tables.
    pub fn client(&self) -> postgres::Client {
        postgres::Client::connect(&self.url, postgres::NoTls).expect("the test database answers")
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        if let Ok(mut admin) = postgres::Client::connect(&self.admin_url, postgres::NoTls) {
            let _ = admin.batch_execute(&format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                self.name
            ));
        }
    }
}

/// A storage that owns its test database, dropping it after the storage's connections.
pub struct OwnedPostgres {
    storage: PostgresStorage,
    _database: TestDatabase,
}

impl OwnedPostgres {
    pub fn new(database: TestDatabase) -> Self {
        OwnedPostgres {
            storage: database.storage(),
            _database: database,
        }
    }
}

impl Storage for OwnedPostgres {
    fn write(
        &self,
        user: &str,
        work: &mut dyn FnMut(&mut dyn WriteTx) -> Result<(), StorageError>,
    ) -> Result<(), StorageError> {
        self.storage.write(user, work)
    }

    fn read(&self, user: &str, scans: &[Scan], limit: usize) -> Result<ReadPage, StorageError> {
        self.storage.read(user, scans, limit)
    }

    fn secret(&self) -> &[u8] {
        self.storage.secret()
    }
}
