//! Opening a [`Database`]: the options, and the order of the steps at open.
//!
//! 1. Open the connection (read-only when asked, or when SQLite cannot write the file).
//! 2. Refuse, before anything is written: a file that is not SQLite, another app's database, a
//!    downgrade, a broken history, a tampered migration, a database that needs writing while
//!    read-only.
//! 3. Switch to WAL, bring the runtime's tables and then the app's schema up to date.
//! 4. Drift-check the registered entities and take back the in-flight queue entries of
//!    instances that are gone.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use rusqlite::{Connection, MAIN_DB, OpenFlags};

use crate::clock::{Clock, SystemClock};
use crate::entity::EntityDescriptor;
use crate::migrate::{self, Progress};
use crate::migration::MigrationSource;
use crate::retry::RetryPolicy;
use crate::runtime_tables::{self, RUNTIME_TABLES_VERSION};
use crate::store::Database;
use crate::{Error, Result};

/// Options for opening a [`Database`], in the builder style of the generator's `Config`:
/// [`OpenOptions::new`] (or [`Database::options`]), chainable setters, one final
/// [`OpenOptions::open`] (or [`OpenOptions::open_in_memory`]).
///
/// ```
/// # fn main() -> syncwright::Result<()> {
/// # let migrations = syncwright::Migrations::from_dir(
/// #     concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/tasks-notes/migrations"))?;
/// let db = syncwright::OpenOptions::new()
///     .coalesce(false)
///     .read_connections(2)
///     .open_in_memory(&migrations)?;
/// # drop(db); Ok(()) }
/// ```
pub struct OpenOptions<'a> {
    clock: Arc<dyn Clock>,
    retry: RetryPolicy,
    coalesce: bool,
    busy_timeout: Duration,
    entities: Vec<&'static EntityDescriptor>,
    progress: Option<&'a mut dyn FnMut(&Progress<'_>)>,
    readers: usize,
    jitter_seed: Option<u64>,
    read_only: bool,
    synchronous: Synchronous,
    purge_at_open: Option<Duration>,
}

/// How hard a commit waits for the disk (SQLite's `PRAGMA synchronous`, in WAL mode), see
/// [`OpenOptions::synchronous`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Synchronous {
    /// Every commit is synced to disk before it returns: a commit survives a crash of the
    /// process AND a power loss or OS crash. SQLite's default, and the store's.
    #[default]
    Full,
    /// The WAL is synced at checkpoints only: a commit survives a crash of the process (the
    /// crash tests run under both settings), but the last commits before a power loss or OS
    /// crash may be rolled back (never corrupted). Fewer fsyncs: the usual choice for apps
    /// whose writes the user can redo.
    Normal,
}

impl Synchronous {
    fn pragma(self) -> &'static str {
        match self {
            Synchronous::Full => "PRAGMA synchronous = FULL",
            Synchronous::Normal => "PRAGMA synchronous = NORMAL",
        }
    }
}

impl Default for OpenOptions<'_> {
    fn default() -> Self {
        OpenOptions::new()
    }
}

impl<'a> OpenOptions<'a> {
    /// Default options: system clock, default retry policy, coalescing on, 5 s busy timeout,
    /// 4 idle readers, random jitter, read-write, every commit synced to disk.
    pub fn new() -> Self {
        OpenOptions {
            clock: Arc::new(SystemClock),
            retry: RetryPolicy::default(),
            coalesce: true,
            busy_timeout: Duration::from_secs(5),
            entities: Vec::new(),
            progress: None,
            readers: 4,
            jitter_seed: None,
            read_only: false,
            synchronous: Synchronous::Full,
            purge_at_open: None,
        }
    }

    /// Purges, right after opening, synced tombstones older than `age` (see
    /// [`Database::purge_tombstones`]; [`crate::DEFAULT_TOMBSTONE_AGE`] is 30 days). Off by
    /// default: without it tombstones stay until the app purges them.
    pub fn purge_tombstones_at_open(&mut self, age: Duration) -> &mut Self {
        self.purge_at_open = Some(age);
        self
    }

    /// The clock for every timestamp (default: [`SystemClock`]).
    pub fn clock(&mut self, clock: Arc<dyn Clock>) -> &mut Self {
        self.clock = clock;
        self
    }

    /// Retry policy for failed pushes (default: [`RetryPolicy::default`]).
    pub fn retry_policy(&mut self, retry: RetryPolicy) -> &mut Self {
        self.retry = retry;
        self
    }

    /// Seed of the backoff jitter, for reproducible tests (default: random).
    pub fn jitter_seed(&mut self, seed: u64) -> &mut Self {
        self.jitter_seed = Some(seed);
        self
    }

    /// Whether updates are coalesced into the queue's last entry (default: `true`); see
    /// [`crate::queue`] for the rule.
    pub fn coalesce(&mut self, coalesce: bool) -> &mut Self {
        self.coalesce = coalesce;
        self
    }

    /// How long a connection waits for a lock held by another connection (default: 5 s).
    pub fn busy_timeout(&mut self, timeout: Duration) -> &mut Self {
        self.busy_timeout = timeout;
        self
    }

    /// Registers an entity: the drift check at open verifies its table, columns and indexes.
    /// Entities are also registered on first use, but only registered entities take part in
    /// [`crate::Queue::complete`], [`Database::status`] conflict counts and
    /// [`Database::purge_tombstones`].
    pub fn entity(&mut self, entity: &'static EntityDescriptor) -> &mut Self {
        self.entities.push(entity);
        self
    }

    /// Registers several entities, see [`OpenOptions::entity`].
    pub fn entities(&mut self, entities: &[&'static EntityDescriptor]) -> &mut Self {
        self.entities.extend_from_slice(entities);
        self
    }

    /// A callback reporting migration progress after every statement.
    pub fn on_progress(&mut self, progress: &'a mut dyn FnMut(&Progress<'_>)) -> &mut Self {
        self.progress = Some(progress);
        self
    }

    /// Opens the database for reading only (default: `false`). An up-to-date database then
    /// opens even on a read-only file or medium, and every write fails with
    /// [`Error::ReadOnly`]. A file the process cannot write is opened this way by itself.
    pub fn read_only(&mut self, read_only: bool) -> &mut Self {
        self.read_only = read_only;
        self
    }

    /// How durable a commit is (default: [`Synchronous::Full`], every commit synced to disk).
    /// [`Synchronous::Normal`] trades the last commits before a power loss for fewer fsyncs;
    /// a crash of the app itself loses nothing under either setting.
    pub fn synchronous(&mut self, synchronous: Synchronous) -> &mut Self {
        self.synchronous = synchronous;
        self
    }

    /// How many idle read connections to keep (default: 4).
    pub fn read_connections(&mut self, n: usize) -> &mut Self {
        self.readers = n;
        self
    }

    /// Opens (or creates) the database file at `path`, migrates it and recovers the queue.
    pub fn open(
        &mut self,
        path: impl AsRef<Path>,
        migrations: &impl MigrationSource,
    ) -> Result<Database> {
        let path = path.as_ref().to_path_buf();
        let flags = if self.read_only {
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX
        } else {
            OpenFlags::default()
        };
        let conn = Connection::open_with_flags(&path, flags).map_err(|source| Error::Sqlite {
            sql: Some(format!("open {}", path.display())),
            source,
        })?;
        self.finish(conn, Some(path), migrations)
    }

    /// Opens a private in-memory database (for tests and previews).
    pub fn open_in_memory(&mut self, migrations: &impl MigrationSource) -> Result<Database> {
        self.finish(Connection::open_in_memory()?, None, migrations)
    }

    fn finish(
        &mut self,
        mut conn: Connection,
        path: Option<PathBuf>,
        migrations: &impl MigrationSource,
    ) -> Result<Database> {
        conn.busy_timeout(self.busy_timeout)?;
        let set = migrations.migration_set();
        set.check()?;
        // Refusals come before anything is written, including the journal mode.
        let from = migrate::verify(&conn, &set).map_err(|e| match &path {
            Some(path) => e.in_file(path),
            None => e,
        })?;
        let read_only = conn.is_readonly(MAIN_DB)?;
        refuse_writes_when_read_only(&conn, read_only, &path, from, set.version)?;
        if path.is_some() && !read_only {
            let sql = "PRAGMA journal_mode = WAL";
            conn.query_row(sql, [], |r| r.get::<_, String>(0))
                .map_err(Error::sql(sql))?;
            let sql = self.synchronous.pragma();
            conn.execute_batch(sql).map_err(Error::sql(sql))?;
        }
        let mut ignore = |_: &Progress<'_>| {};
        let progress = match self.progress.as_deref_mut() {
            Some(progress) => progress,
            None => &mut ignore,
        };
        let report = migrate::run(&mut conn, &set, self.clock.now(), progress)?;
        // The entities the migrations carry (all of the app's, for the generated constant)
        // join the ones given here, so the plain open call registers everything.
        for entity in migrations.entities() {
            if !self.entities.iter().any(|e| e.name == entity.name) {
                self.entities.push(entity);
            }
        }
        migrate::check_drift(&conn, &self.entities)?;
        let db = Database::new(
            conn,
            path,
            crate::store::Settings {
                clock: self.clock.clone(),
                retry: self.retry,
                coalesce: self.coalesce,
                busy_timeout: self.busy_timeout,
                max_readers: self.readers,
                jitter_seed: self.jitter_seed,
                schema_version: set.version,
                report,
                entities: &self.entities,
                read_only,
            },
        )?;
        if !read_only {
            db.queue().recover_in_flight()?;
            db.queue_adopted_rows(&db.registered())?;
            if let Some(age) = self.purge_at_open {
                db.purge_tombstones(age)?;
            }
        }
        Ok(db)
    }
}

/// A read-only database opens only when neither its schema nor the runtime's tables need a
/// migration (SQLite opens a file it cannot write read-only by itself).
fn refuse_writes_when_read_only(
    conn: &Connection,
    read_only: bool,
    path: &Option<PathBuf>,
    from: u32,
    to: u32,
) -> Result<()> {
    if !read_only {
        return Ok(());
    }
    let refuse = |operation: String| {
        Err(Error::ReadOnly {
            path: path.clone(),
            operation,
        })
    };
    if from < to {
        return refuse(format!("migrate it from version {from} to {to}"));
    }
    let runtime = runtime_tables::current_version(conn)?;
    if runtime < RUNTIME_TABLES_VERSION {
        return refuse(format!(
            "upgrade the runtime's tables from version {runtime} to {RUNTIME_TABLES_VERSION}"
        ));
    }
    Ok(())
}
