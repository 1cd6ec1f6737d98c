//! The shared backend: one PostgreSQL database behind any number of server processes.
//!
//! Every write transaction of a user first locks that user's row of `user_sequences` (an upsert
//! that row-locks it until commit), so the writes of one user run one at a time across all
//! processes, each seeing every change committed before it (READ COMMITTED takes a fresh
//! snapshot per statement, after the lock is granted). The change sequence is that row's
//! counter, so numbers are taken and committed in the same order: when a read's snapshot shows
//! the counter at `N`, every change numbered up to `N` is in that snapshot and no later commit
//! can carry a number up to `N`. `docs/protocol.md` ("Several server processes") explains why
//! this keeps a cursor from skipping a change.
//!
//! Serialization failures, deadlocks (SQLSTATE `40001`, `40P01`) and a connection lost before
//! the answer are retried here, a bounded number of times with jittered backoff: a client never
//! sees them. Retrying is safe because a write's effects are its transaction's, and a push whose
//! commit did land is recognised by its idempotency keys.

use std::collections::HashMap;
use std::time::Duration;

use postgres::error::SqlState;
use postgres::types::{Json, ToSql};
use postgres::{Client, IsolationLevel, NoTls, Row, Statement, Transaction};
use syncwright::sync::protocol::{FieldTimestamps, Fields, Outcome};
use uuid::Uuid;

use super::steps::{STEPS_TABLE, Step, pending};
use super::{ReadPage, Scan, Storage, StorageError, StoredRecord, WriteTx};

/// The steps of the server's own tables on PostgreSQL (see [`super::steps`]).
pub(super) const STEPS: &[Step] = &[Step {
    version: 1,
    purpose: "records, the per-user change sequences, the answers to idempotency keys",
    sql: STEP_1,
}];

const STEP_1: &str = r#"
CREATE TABLE server_meta (
    key   TEXT PRIMARY KEY,
    value BYTEA NOT NULL
);
-- One change sequence per user: the last number taken. Its row is also the user's write lock.
CREATE TABLE user_sequences (
    user_name TEXT PRIMARY KEY,
    last_seq  BIGINT NOT NULL
);
CREATE TABLE records (
    user_name        TEXT NOT NULL,
    entity           TEXT NOT NULL,
    id               UUID NOT NULL,
    server_id        TEXT NOT NULL UNIQUE,
    version          BIGINT NOT NULL,
    schema_version   INTEGER NOT NULL,
    deleted          BOOLEAN NOT NULL,
    created_at       BIGINT NOT NULL,
    updated_at       BIGINT NOT NULL,
    fields           JSON NOT NULL,
    field_timestamps JSON NOT NULL,
    created_seq      BIGINT NOT NULL,
    seq              BIGINT NOT NULL,
    PRIMARY KEY (user_name, entity, id)
);
-- A pull reads records the client has not seen by their create, and records it has seen by
-- their latest change.
CREATE INDEX records_by_created_seq ON records (user_name, entity, created_seq);
CREATE INDEX records_by_seq ON records (user_name, entity, seq);
-- The first answer to every idempotency key, written in the transaction that applied it.
CREATE TABLE answers (
    user_name       TEXT NOT NULL,
    idempotency_key UUID NOT NULL,
    outcome         JSON NOT NULL,
    PRIMARY KEY (user_name, idempotency_key)
);
"#;

/// Held (transaction-scoped) while a server applies the steps, so processes starting together
/// apply them once. An arbitrary constant: "syncwrit" in ASCII.
const MIGRATION_LOCK: i64 = 0x7379_6e63_7772_6974;

const RECORD_COLUMNS: &str = "entity, id, server_id, version, schema_version, deleted, created_at, \
     updated_at, fields, field_timestamps, created_seq, seq";

/// How often a transaction that failed transiently is tried in all.
const MAX_ATTEMPTS: u32 = 12;

/// Opens the pool's connections.
struct Manager {
    config: postgres::Config,
}

/// A pooled connection and the statements prepared on it, so that a query is parsed and
/// planned once per connection rather than once per use (and costs one round trip, not two).
struct Connection {
    client: Client,
    statements: HashMap<String, Statement>,
}

impl r2d2::ManageConnection for Manager {
    type Connection = Connection;
    type Error = postgres::Error;

    fn connect(&self) -> Result<Connection, postgres::Error> {
        Ok(Connection {
            client: self.config.connect(NoTls)?,
            statements: HashMap::new(),
        })
    }

    fn is_valid(&self, connection: &mut Connection) -> Result<(), postgres::Error> {
        connection.client.simple_query("").map(|_| ())
    }

    fn has_broken(&self, connection: &mut Connection) -> bool {
        connection.client.is_closed()
    }
}

type Pool = r2d2::Pool<Manager>;

/// The statement for `sql` on the transaction's connection, prepared on first use.
fn prepared(
    tx: &mut Transaction<'_>,
    statements: &mut HashMap<String, Statement>,
    sql: &str,
) -> Result<Statement, postgres::Error> {
    if let Some(statement) = statements.get(sql) {
        return Ok(statement.clone());
    }
    let statement = tx.prepare(sql)?;
    statements.insert(sql.to_string(), statement.clone());
    Ok(statement)
}

/// Server state in one PostgreSQL database, shareable by several server processes.
///
/// ```no_run
/// use syncwright_server::storage::{PostgresStorage, Storage};
///
/// let storage = PostgresStorage::connect("postgres://sync@localhost/sync").unwrap();
/// assert_eq!(storage.secret().len(), 32);
/// ```
pub struct PostgresStorage {
    pool: Pool,
    secret: Vec<u8>,
}

impl PostgresStorage {
    /// Connects to the database at `url` (`postgres://user:password@host:port/database`, or
    /// the key-value form `host=... dbname=...`), creating or upgrading the server's tables.
    pub fn connect(url: &str) -> Result<Self, StorageError> {
        PostgresStorage::connect_with_pool_size(url, 16)
    }

    /// [`connect`](Self::connect), keeping at most `max_connections` connections open.
    pub fn connect_with_pool_size(url: &str, max_connections: u32) -> Result<Self, StorageError> {
        let config: postgres::Config = url.parse().map_err(|e| {
            StorageError::new(format!(
                "`{}` is not a PostgreSQL connection string: {e}",
                redact(url)
            ))
        })?;
        // One direct connection first: a wrong address or password fails at once, clearly.
        let mut client = config.connect(NoTls).map_err(|e| {
            StorageError::new(format!(
                "cannot connect to `{}`: {}",
                redact(url),
                describe(&e)
            ))
        })?;
        let secret = retrying("open the server tables", || {
            let mut tx = client.transaction()?;
            migrate(&mut tx)?;
            let secret = read_secret(&mut tx)?;
            tx.commit()?;
            Ok(secret)
        })?;
        let pool = r2d2::Pool::builder()
            .max_size(max_connections.max(1))
            // Connections are opened on demand, not all at start.
            .min_idle(Some(0))
            .connection_timeout(Duration::from_secs(10))
            // No round trip to check a connection out: a connection that broke fails its
            // first statement, and the transaction is tried again on another.
            .test_on_check_out(false)
            .build(Manager { config })
            .map_err(|e| StorageError::new(format!("cannot open a connection pool: {e}")))?;
        Ok(PostgresStorage { pool, secret })
    }

    fn connection(&self) -> Result<r2d2::PooledConnection<Manager>, Failure> {
        self.pool.get().map_err(|e| {
            // The pool gave up waiting for a connection: the database is unreachable or busy.
            Failure::Fatal(StorageError::new(format!(
                "no PostgreSQL connection available: {e}"
            )))
        })
    }
}

/// Brings the server's tables to the latest step inside `tx`, one server at a time.
fn migrate(tx: &mut Transaction<'_>) -> Result<(), Failure> {
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])?;
    tx.batch_execute(&format!(
        "CREATE TABLE IF NOT EXISTS {STEPS_TABLE} (
             version    INTEGER PRIMARY KEY,
             purpose    TEXT NOT NULL,
             applied_at TIMESTAMPTZ NOT NULL DEFAULT now()
         )"
    ))?;
    let applied: i32 = tx
        .query_one(
            &format!("SELECT COALESCE(MAX(version), 0) FROM {STEPS_TABLE}"),
            &[],
        )?
        .get(0);
    for step in pending(STEPS, u32::try_from(applied).unwrap_or(0)).map_err(Failure::Fatal)? {
        tx.batch_execute(step.sql).map_err(|e| {
            Failure::Fatal(StorageError::new(format!(
                "server tables step {} failed: {}",
                step.version,
                describe(&e)
            )))
        })?;
        let version = i32::try_from(step.version).unwrap_or(i32::MAX);
        tx.execute(
            &format!("INSERT INTO {STEPS_TABLE} (version, purpose) VALUES ($1, $2)"),
            &[&version, &step.purpose],
        )?;
    }
    Ok(())
}

/// The database's cursor secret, generated by the first server that opens it.
fn read_secret(tx: &mut Transaction<'_>) -> Result<Vec<u8>, Failure> {
    tx.execute(
        "INSERT INTO server_meta (key, value) VALUES ('cursor_secret', $1) \
         ON CONFLICT (key) DO NOTHING",
        &[&new_secret()],
    )?;
    Ok(tx
        .query_one(
            "SELECT value FROM server_meta WHERE key = 'cursor_secret'",
            &[],
        )?
        .get(0))
}

fn new_secret() -> Vec<u8> {
    [Uuid::new_v4(), Uuid::new_v4()]
        .iter()
        .flat_map(|u| u.into_bytes())
        .collect()
}

/// Why one attempt at a transaction failed.
#[derive(Debug)]
enum Failure {
    /// Worth another attempt: a serialization failure, a deadlock, a lost connection.
    Transient(String),
    /// Not worth another: reported as is.
    Fatal(StorageError),
}

impl From<postgres::Error> for Failure {
    fn from(error: postgres::Error) -> Self {
        if is_transient(&error) {
            Failure::Transient(describe(&error))
        } else {
            Failure::Fatal(StorageError::new(describe(&error)))
        }
    }
}

impl From<StorageError> for Failure {
    fn from(error: StorageError) -> Self {
        Failure::Fatal(error)
    }
}

/// A serialization failure or deadlock (the transaction was rolled back and may simply run
/// again), or a connection that closed under the transaction.
fn is_transient(error: &postgres::Error) -> bool {
    let code = error.code();
    code == Some(&SqlState::T_R_SERIALIZATION_FAILURE)
        || code == Some(&SqlState::T_R_DEADLOCK_DETECTED)
        || error.is_closed()
}

/// The database's own message (`postgres::Error`'s display is only "db error").
fn describe(error: &postgres::Error) -> String {
    match error.as_db_error() {
        Some(db) => format!("{} (SQLSTATE {})", db.message(), db.code().code()),
        None => match std::error::Error::source(error) {
            Some(cause) => format!("{error}: {cause}"),
            None => error.to_string(),
        },
    }
}

/// `url` without its password, for messages and logs.
pub(crate) fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        // The key-value form: `host=... password=... dbname=...`.
        return url
            .split_whitespace()
            .map(|pair| match pair.split_once('=') {
                Some(("password", _)) => "password=***",
                _ => pair,
            })
            .collect::<Vec<_>>()
            .join(" ");
    };
    let Some((credentials, host)) = rest.split_once('@') else {
        return url.to_string();
    };
    match credentials.split_once(':') {
        Some((user, _password)) => format!("{scheme}://{user}:***@{host}"),
        None => url.to_string(),
    }
}

/// Runs `attempt` until it succeeds, fails for good, or has failed transiently
/// [`MAX_ATTEMPTS`] times, sleeping a jittered, growing pause between attempts.
fn retrying<T>(
    what: &str,
    mut attempt: impl FnMut() -> Result<T, Failure>,
) -> Result<T, StorageError> {
    for number in 1..=MAX_ATTEMPTS {
        match attempt() {
            Ok(value) => return Ok(value),
            Err(Failure::Fatal(error)) => return Err(error),
            Err(Failure::Transient(cause)) if number < MAX_ATTEMPTS => {
                tracing::debug!(attempt = number, %cause, "{what}: retrying after a transient failure");
                std::thread::sleep(backoff(number));
            }
            Err(Failure::Transient(cause)) => {
                return Err(StorageError::new(format!(
                    "{what} failed {MAX_ATTEMPTS} times in a row, last: {cause}"
                )));
            }
        }
    }
    unreachable!("the last attempt returns")
}

/// The pause after the `attempt`th failure: up to 2 ms doubled per attempt (at most 256 ms),
/// at a random point of its upper half so that colliding transactions spread apart.
fn backoff(attempt: u32) -> Duration {
    let ceiling_us: u64 = 2_000 << attempt.min(7);
    let jitter = (Uuid::new_v4().as_u128() % u128::from(ceiling_us / 2)) as u64;
    Duration::from_micros(ceiling_us / 2 + jitter)
}

impl Storage for PostgresStorage {
    fn write(
        &self,
        user: &str,
        work: &mut dyn FnMut(&mut dyn WriteTx) -> Result<(), StorageError>,
    ) -> Result<(), StorageError> {
        retrying("a write transaction", || {
            let mut conn = self.connection()?;
            let Connection { client, statements } = &mut *conn;
            let mut tx = client.transaction()?;
            // Locks the user's sequence row until commit: this user's writes, in every process,
            // now wait for this one.
            let lock = prepared(
                &mut tx,
                statements,
                "INSERT INTO user_sequences (user_name, last_seq) VALUES ($1, 0) \
                 ON CONFLICT (user_name) DO UPDATE SET last_seq = user_sequences.last_seq",
            )?;
            tx.execute(&lock, &[&user])?;
            let mut pg = PostgresTx {
                tx,
                statements,
                user,
                transient: None,
            };
            let result = work(&mut pg);
            match (result, pg.transient) {
                // The work failed because a statement failed transiently: try it all again.
                (Err(_), Some(cause)) => Err(Failure::Transient(cause)),
                (Err(error), None) => Err(Failure::Fatal(error)),
                (Ok(()), _) => {
                    pg.tx.commit()?;
                    Ok(())
                }
            }
        })
    }

    fn read(&self, user: &str, scans: &[Scan], limit: usize) -> Result<ReadPage, StorageError> {
        retrying("a read transaction", || {
            let mut conn = self.connection()?;
            let Connection { client, statements } = &mut *conn;
            // One snapshot for every statement; a read-only one never fails to serialize.
            let mut tx = client
                .build_transaction()
                .isolation_level(IsolationLevel::RepeatableRead)
                .read_only(true)
                .start()?;
            let latest = prepared(
                &mut tx,
                statements,
                "SELECT last_seq FROM user_sequences WHERE user_name = $1",
            )?;
            let latest_seq = tx
                .query_opt(&latest, &[&user])?
                .map_or(0, |row| to_u64(row.get(0)));
            let mut records = Vec::new();
            for scan in scans {
                records.extend(scan_records(&mut tx, statements, user, scan, limit)?);
            }
            tx.commit()?;
            Ok(ReadPage {
                latest_seq,
                records,
            })
        })
    }

    fn secret(&self) -> &[u8] {
        &self.secret
    }
}

/// The scan's first `limit` records by position: records new to the client by their create,
/// records it has seen by their latest change, merged. Each half reads one index range.
fn scan_records(
    tx: &mut Transaction<'_>,
    statements: &mut HashMap<String, Statement>,
    user: &str,
    scan: &Scan,
    limit: usize,
) -> Result<Vec<StoredRecord>, Failure> {
    let from = to_i64(scan.since.max(scan.after));
    let since = to_i64(scan.since);
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    let new_sql = format!(
        "SELECT {RECORD_COLUMNS} FROM records WHERE user_name = $1 AND entity = $2 \
         AND created_seq > $3 ORDER BY created_seq LIMIT $4"
    );
    let seen_sql = format!(
        "SELECT {RECORD_COLUMNS} FROM records WHERE user_name = $1 AND entity = $2 AND seq > $3 \
         AND created_seq <= $4 ORDER BY seq LIMIT $5"
    );
    let mut records = query_records(
        tx,
        statements,
        &new_sql,
        &[&user, &scan.entity, &from, &limit],
    )?;
    records.extend(query_records(
        tx,
        statements,
        &seen_sql,
        &[&user, &scan.entity, &from, &since, &limit],
    )?);
    records.sort_by_key(|r| r.position(scan.since));
    records.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
    Ok(records)
}

fn query_records(
    tx: &mut Transaction<'_>,
    statements: &mut HashMap<String, Statement>,
    sql: &str,
    params: &[&(dyn ToSql + Sync)],
) -> Result<Vec<StoredRecord>, Failure> {
    let statement = prepared(tx, statements, sql)?;
    let rows = tx.query(&statement, params)?;
    Ok(rows.iter().map(read_record).collect::<Result<_, _>>()?)
}

/// Reads a row of [`RECORD_COLUMNS`].
fn read_record(row: &Row) -> Result<StoredRecord, StorageError> {
    let id: Uuid = row.get(1);
    let corrupt = |what: &str, e: &dyn std::fmt::Display| {
        StorageError::new(format!("corrupt record `{id}`: {what}: {e}"))
    };
    let fields: Json<Fields> = row.try_get(8).map_err(|e| corrupt("fields", &e))?;
    let field_timestamps: Json<FieldTimestamps> = row
        .try_get(9)
        .map_err(|e| corrupt("field_timestamps", &e))?;
    Ok(StoredRecord {
        entity: row.get(0),
        id,
        server_id: row.get(2),
        version: to_u64(row.get(3)),
        schema_version: u32::try_from(row.get::<_, i32>(4))
            .map_err(|e| corrupt("schema_version", &e))?,
        deleted: row.get(5),
        created_at: row.get(6),
        updated_at: row.get(7),
        fields: fields.0,
        field_timestamps: field_timestamps.0,
        created_seq: to_u64(row.get(10)),
        seq: to_u64(row.get(11)),
    })
}

/// One write transaction of one user. Remembers whether a statement failed transiently, so
/// that [`PostgresStorage::write`] runs the whole work again rather than report it.
struct PostgresTx<'a, 'c> {
    tx: Transaction<'c>,
    statements: &'a mut HashMap<String, Statement>,
    user: &'a str,
    transient: Option<String>,
}

impl PostgresTx<'_, '_> {
    /// Runs `sql` (prepared once per connection) and returns its rows.
    fn query(
        &mut self,
        sql: &str,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<Vec<Row>, StorageError> {
        let result = prepared(&mut self.tx, self.statements, sql)
            .and_then(|statement| self.tx.query(&statement, params));
        result.map_err(|e| self.fail(e))
    }

    /// `error` as a [`StorageError`] for the work, noting a transient one.
    fn fail(&mut self, error: postgres::Error) -> StorageError {
        let message = describe(&error);
        if is_transient(&error) {
            self.transient = Some(message.clone());
        }
        StorageError::new(message)
    }
}

impl WriteTx for PostgresTx<'_, '_> {
    fn answer(&mut self, key: Uuid) -> Result<Option<Outcome>, StorageError> {
        let user = self.user;
        let rows = self.query(
            "SELECT outcome FROM answers WHERE user_name = $1 AND idempotency_key = $2",
            &[&user, &key],
        )?;
        rows.first()
            .map(|row| {
                row.try_get::<_, Json<Outcome>>(0)
                    .map(|json| json.0)
                    .map_err(|e| StorageError::new(format!("corrupt answer to key {key}: {e}")))
            })
            .transpose()
    }

    fn put_answer(&mut self, key: Uuid, outcome: &Outcome) -> Result<(), StorageError> {
        let user = self.user;
        self.query(
            "INSERT INTO answers (user_name, idempotency_key, outcome) VALUES ($1, $2, $3)",
            &[&user, &key, &Json(outcome)],
        )?;
        Ok(())
    }

    fn record(&mut self, entity: &str, id: Uuid) -> Result<Option<StoredRecord>, StorageError> {
        let sql = format!(
            "SELECT {RECORD_COLUMNS} FROM records \
             WHERE user_name = $1 AND entity = $2 AND id = $3"
        );
        let user = self.user;
        let rows = self.query(&sql, &[&user, &entity, &id])?;
        rows.first().map(read_record).transpose()
    }

    fn put_record(&mut self, r: &StoredRecord) -> Result<(), StorageError> {
        let schema_version = i32::try_from(r.schema_version).map_err(|e| {
            StorageError::new(format!(
                "schema version {} too large: {e}",
                r.schema_version
            ))
        })?;
        let user = self.user;
        self.query(
            &format!(
                "INSERT INTO records (user_name, {RECORD_COLUMNS}) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) \
                     ON CONFLICT (user_name, entity, id) DO UPDATE SET \
                     server_id = EXCLUDED.server_id, version = EXCLUDED.version, \
                     schema_version = EXCLUDED.schema_version, deleted = EXCLUDED.deleted, \
                     created_at = EXCLUDED.created_at, updated_at = EXCLUDED.updated_at, \
                     fields = EXCLUDED.fields, field_timestamps = EXCLUDED.field_timestamps, \
                     created_seq = EXCLUDED.created_seq, seq = EXCLUDED.seq"
            ),
            &[
                &user,
                &r.entity,
                &r.id,
                &r.server_id,
                &to_i64(r.version),
                &schema_version,
                &r.deleted,
                &r.created_at,
                &r.updated_at,
                &Json(&r.fields),
                &Json(&r.field_timestamps),
                &to_i64(r.created_seq),
                &to_i64(r.seq),
            ],
        )?;
        Ok(())
    }

    fn next_seq(&mut self) -> Result<u64, StorageError> {
        // The row exists and is locked by this transaction since `write` began.
        let user = self.user;
        let rows = self.query(
            "UPDATE user_sequences SET last_seq = last_seq + 1 WHERE user_name = $1 \
             RETURNING last_seq",
            &[&user],
        )?;
        let row = rows.first().ok_or_else(|| {
            StorageError::new(format!(
                "the sequence row of `{user}` vanished mid-transaction"
            ))
        })?;
        Ok(to_u64(row.get(0)))
    }
}

// Sequence numbers and versions are stored as BIGINT; they stay far below i64::MAX.
fn to_i64(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

fn to_u64(n: i64) -> u64 {
    u64::try_from(n).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_url_loses_its_password_in_messages() {
        assert_eq!(
            redact("postgres://sync:s3cret@db.example:5432/sync"),
            "postgres://sync:***@db.example:5432/sync"
        );
        assert_eq!(redact("postgres://sync@db/sync"), "postgres://sync@db/sync");
        assert_eq!(
            redact("host=/tmp password=s3cret dbname=sync"),
            "host=/tmp password=*** dbname=sync"
        );
    }

    #[test]
    fn the_backoff_grows_stays_bounded_and_varies() {
        assert!(backoff(1) <= Duration::from_millis(4));
        assert!(backoff(30) <= Duration::from_millis(256));
        assert!(backoff(30) >= Duration::from_millis(128));
        let pauses: std::collections::BTreeSet<_> = (0..20).map(|_| backoff(5)).collect();
        assert!(pauses.len() > 1, "the pause is jittered");
    }
}
