//! What the server stores, behind a small interface: the embedded SQLite database
//! ([`SqliteStorage`], the default) or PostgreSQL shared by several server processes
//! ([`PostgresStorage`]). Both create and upgrade their own tables by versioned steps.
//!
//! A backend keeps, per user: the records (their latest state, the sequence number of their
//! create and of their latest change), one monotonic change sequence, and the first answer to
//! every idempotency key. All server logic (validation, conflicts, cursors) lives above this
//! interface; a backend only reads and writes, each [`Storage::write`] in one transaction.

mod postgres;
mod sqlite;
mod steps;

pub use postgres::PostgresStorage;
pub(crate) use postgres::redact as redact_url;
pub use sqlite::SqliteStorage;

use syncwright::sync::protocol::{FieldTimestamps, Fields, Outcome};
use uuid::Uuid;

/// A storage failure: the request was not applied and may be retried (a 5xx).
#[derive(Debug, thiserror::Error)]
#[error("server storage failed: {message}")]
pub struct StorageError {
    /// What failed.
    pub message: String,
}

impl StorageError {
    /// A storage error with `message`.
    pub fn new(message: impl Into<String>) -> Self {
        StorageError {
            message: message.into(),
        }
    }
}

impl From<rusqlite::Error> for StorageError {
    fn from(error: rusqlite::Error) -> Self {
        StorageError::new(error.to_string())
    }
}

/// A record as stored: its latest state plus its place in the user's change sequence.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredRecord {
    /// The entity name.
    pub entity: String,
    /// The client-generated id.
    pub id: Uuid,
    /// The id the server assigned at creation.
    pub server_id: String,
    /// Incremented by every accepted change, starting at 1.
    pub version: u64,
    /// The schema version of the mutation that last wrote it.
    pub schema_version: u32,
    /// A tombstone.
    pub deleted: bool,
    /// Client-reported creation time, epoch ms.
    pub created_at: i64,
    /// Client-reported time of the latest change, epoch ms.
    pub updated_at: i64,
    /// Every field any schema version wrote (a pull projects them onto the client's version).
    pub fields: Fields,
    /// Per-field change times.
    pub field_timestamps: FieldTimestamps,
    /// The sequence number of the record's create.
    pub created_seq: u64,
    /// The sequence number of the record's latest change.
    pub seq: u64,
}

impl StoredRecord {
    /// Where the record sorts for a client whose cursor is at `since`: a record the client has
    /// never seen (created after `since`) at its create, so that a parent, created before its
    /// child, always sorts before it; a record it has seen at its latest change.
    pub fn position(&self, since: u64) -> u64 {
        if self.created_seq > since {
            self.created_seq
        } else {
            self.seq
        }
    }
}

/// One entity's share of a pull: its records changed after `since` whose
/// [`position`](StoredRecord::position) is after `after`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scan {
    /// The entity.
    pub entity: String,
    /// Changes up to this sequence number are already at the client.
    pub since: u64,
    /// Positions up to this one were delivered by earlier pages of the same catch-up.
    pub after: u64,
}

/// What [`Storage::read`] returns, read in one consistent snapshot.
#[derive(Debug, Clone, PartialEq)]
pub struct ReadPage {
    /// The user's latest sequence number when the snapshot was taken.
    pub latest_seq: u64,
    /// For each scan, its first `limit` records by position, in position order.
    pub records: Vec<StoredRecord>,
}

/// A server's persistent state. Implementations must be safe to share between request
/// threads.
pub trait Storage: Send + Sync {
    /// Runs `work` in one transaction for `user`, committing when it returns `Ok` and rolling
    /// back otherwise. A backend may run `work` again after a transient failure (a
    /// serialization conflict), so `work` must not keep effects outside the transaction.
    fn write(
        &self,
        user: &str,
        work: &mut dyn FnMut(&mut dyn WriteTx) -> Result<(), StorageError>,
    ) -> Result<(), StorageError>;

    /// Reads each scan's first `limit` records, and the user's latest sequence number, from one
    /// snapshot.
    fn read(&self, user: &str, scans: &[Scan], limit: usize) -> Result<ReadPage, StorageError>;

    /// A random secret generated once per database; cursors are tagged with it so a cursor
    /// from another server (or another user) is recognised.
    fn secret(&self) -> &[u8];
}

/// A storage chosen at run time (the `--db` option) is a storage.
impl<S: Storage + ?Sized> Storage for Box<S> {
    fn write(
        &self,
        user: &str,
        work: &mut dyn FnMut(&mut dyn WriteTx) -> Result<(), StorageError>,
    ) -> Result<(), StorageError> {
        (**self).write(user, work)
    }

    fn read(&self, user: &str, scans: &[Scan], limit: usize) -> Result<ReadPage, StorageError> {
        (**self).read(user, scans, limit)
    }

    fn secret(&self) -> &[u8] {
        (**self).secret()
    }
}

/// The operations of one write transaction, all scoped to its user.
pub trait WriteTx {
    /// The first answer recorded for `key`, if any.
    fn answer(&mut self, key: Uuid) -> Result<Option<Outcome>, StorageError>;

    /// Records the first answer to `key`.
    fn put_answer(&mut self, key: Uuid, outcome: &Outcome) -> Result<(), StorageError>;

    /// The record `entity`/`id`, tombstones included.
    fn record(&mut self, entity: &str, id: Uuid) -> Result<Option<StoredRecord>, StorageError>;

    /// Inserts or replaces the record `record.entity`/`record.id`.
    fn put_record(&mut self, record: &StoredRecord) -> Result<(), StorageError>;

    /// Takes the next number of the user's change sequence (1, 2, 3, ...). Numbers are never
    /// reused, and a number taken in a transaction that commits is greater than every number of
    /// every transaction that committed before it.
    fn next_seq(&mut self) -> Result<u64, StorageError>;
}
