//! The syncwright runtime: what an offline-first app links.
//!
//! It opens the local SQLite database, brings it to the app's schema version without losing
//! data ([`migrate`]), and routes every local write into the entity table *and* the mutation
//! queue in one transaction ([`Database`], [`queue`]). [`Database::sync`] runs the sync
//! engine against a server through a [`sync::transport::Transport`]: it pulls every registered
//! entity page by page, pushes the queue in batches (parents before children), resolves
//! conflicts by each entity's strategy and returns a [`sync::SyncReport`]; `docs/protocol.md`
//! is the contract and `syncwright-server` the reference server (with an in-process
//! transport). A hand-written engine can drain the queue itself with [`Queue::next_batch`],
//! [`Queue::complete`] and [`Queue::fail`].
//!
//! Screens stay current with change subscriptions ([`Database::watch`], [`Query::watch`],
//! [`Database::watch_status`]): one notification per commit that touched the watched tables,
//! none for a rollback. Raw SQL has two escape hatches, [`Database::read_sql`] and
//! [`WriteTx::sql`] (which bypasses the queue).
//!
//! Apps get their [`Migrations`] constant from the generated build.rs module
//! (`include!(concat!(env!("OUT_DIR"), "/syncwright_migrations.rs"))`) and their [`Syncable`]
//! impls from `#[derive(Syncable)]`. This example loads the migrations of a project from its
//! directory instead, and syncs against a pretend server.
//!
//! ```
//! use syncwright::{Database, Migrations, Order, SyncStatus, Syncable};
//!
//! #[derive(Debug, Clone, PartialEq, Syncable)]
//! struct Task {
//!     title: String,
//!     #[syncwright(default = false)]
//!     done: bool,
//!     #[syncwright(default = 0, index)]
//!     priority: i64,
//!     due_at: Option<std::time::SystemTime>,
//! }
//!
//! fn main() -> syncwright::Result<()> {
//!     let migrations =
//!         Migrations::from_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/tasks-notes/migrations"))?;
//!     let dir = std::env::temp_dir().join(format!("syncwright-doc-{}", std::process::id()));
//!     std::fs::create_dir_all(&dir).unwrap();
//!     let db = Database::open_with(dir.join("app.db"), &migrations, &[Task::ENTITY])?;
//!
//!     // Local writes: the row and its queue entry commit together.
//!     let task = db.insert(&Task { title: "Buy milk".into(), done: false, priority: 2, due_at: None })?;
//!     db.modify::<Task>(task.id, |t| t.done = true)?; // read, change, write; coalesced into the create
//!     // Typed columns: a misspelt column or a wrong value type does not compile.
//!     let open = db.query::<Task>().filter_by(Task::DONE.eq(false)).sort_by(Task::PRIORITY, Order::Desc).fetch()?;
//!     assert!(open.is_empty());
//!
//!     // A whole sync: pull, push, conflicts (here against a server that accepts everything).
//!     # struct AcceptAll;
//!     # impl syncwright::sync::transport::Transport for AcceptAll {
//!     #     fn pull(&self, r: &syncwright::sync::protocol::PullRequest) -> Result<syncwright::sync::protocol::PullResponse, syncwright::sync::transport::TransportError> {
//!     #         Ok(syncwright::sync::protocol::PullResponse { protocol_version: 1, changes: vec![], has_more: false,
//!     #             cursors: r.cursors.keys().map(|e| (e.clone(), syncwright::sync::protocol::Cursor("0".into()))).collect() })
//!     #     }
//!     #     fn push(&self, r: &syncwright::sync::protocol::PushRequest) -> Result<syncwright::sync::protocol::PushResponse, syncwright::sync::transport::TransportError> {
//!     #         Ok(syncwright::sync::protocol::PushResponse { protocol_version: 1, results: r.mutations.iter().map(|m|
//!     #             syncwright::sync::protocol::MutationResult { idempotency_key: m.idempotency_key,
//!     #                 outcome: syncwright::sync::protocol::Outcome::Accepted { server_version: 1, server_id: "srv-1".into() } }).collect() })
//!     #     }
//!     # }
//!     let report = db.sync(&AcceptAll)?;
//!     assert_eq!(report.pushed, 1);
//!     assert_eq!(db.get::<Task>(task.id)?.expect("task exists").sync_status, SyncStatus::Synced);
//!
//!     // Or drain the queue by hand.
//!     db.update(task.id, &Task { priority: 3, ..task.data.clone() })?;
//!     loop {
//!         let batch = db.queue().next_batch(50)?;
//!         if batch.is_empty() { break; }
//!         for entry in batch {
//!             // send entry.idempotency_key, entry.action, entry.entity_id, entry.payload ...
//!             db.queue().complete_with_server_id(entry.id, "srv-1")?;
//!         }
//!     }
//!     let task = db.get::<Task>(task.id)?.expect("task exists");
//!     assert_eq!(task.sync_status, SyncStatus::Synced);
//!     assert_eq!(db.status()?.pending, 0);
//!
//!     db.delete::<Task>(task.id)?; // a tombstone, synced like any change
//!     assert!(db.get::<Task>(task.id)?.is_none());
//!     # drop(db); std::fs::remove_dir_all(&dir).unwrap();
//!     Ok(())
//! }
//! ```

mod adopt;
mod adopted_rows;
mod clock;
mod column;
mod cursor;
mod entity;
mod error;
mod fk_check;
mod foreign;
mod jitter;
pub mod migrate;
mod migration;
mod open;
mod owner;
pub mod payload;
mod pool;
mod query;
pub mod queue;
mod record;
mod registry;
mod retry;
mod row_writer;
mod runtime_tables;
mod sql_cache;
mod statements;
mod status;
mod store;
mod subscribe;
pub mod sync;
mod sync_log;
mod value;
mod write_tx;

pub use adopt::{AdoptedMigrations, Adoption, AdoptionRef, AdoptionReport, adopt};
pub use clock::{Clock, ManualClock, SystemClock, from_millis, to_millis};
pub use column::{Column, Filter, Operand};
pub use cursor::Cursor;
pub use entity::{
    ColumnDescriptor, ColumnType, ConflictStrategy, EntityDescriptor, FIELD_TIMESTAMPS,
    IndexDescriptor, SYNC_COLUMNS, SyncColumns, Syncable,
};
pub use error::{Drift, Error, Result};
pub use fk_check::ForeignKeyViolation;
pub use migrate::{MigrationReport, Progress, check_drift, validate};
pub use migration::{
    Migration, MigrationRef, MigrationSet, MigrationSource, Migrations, OwnedMigration,
    OwnedMigrations, checksum,
};
pub use open::{OpenOptions, Synchronous};
pub use query::{Op, Order, Query, QueryValue};
pub use queue::{Action, PurgeReport, Queue, QueueEntry, QueueStatus};
pub use record::{FieldChangeTimes, Record, SyncStatus};
pub use retry::{FailOutcome, RetryPolicy};
pub use runtime_tables::{RUNTIME_TABLES_VERSION, runtime_tables_sql};
pub use rusqlite::types::Value;
pub use status::SyncSummary;
pub use store::{DEFAULT_TOMBSTONE_AGE, Database};
pub use subscribe::{Change, QueryWatch, StatusWatch, Subscription};
pub use sync_log::{Direction, SyncLogEntry};
pub use value::ColumnValue;
pub use write_tx::{RemoteVersion, WriteTx};

/// Re-exported so apps use the same SQLite binding as the runtime (for the escape hatches
/// [`Database::read_sql`] and [`WriteTx::sql`]) without matching its version by hand.
pub use rusqlite;
/// Re-exported for `json` fields; see [`uuid`] for why.
pub use serde_json;
/// Re-exported so apps (and structs generated from TOML specs) name UUIDs and JSON values
/// through this one dependency.
pub use uuid::{self, Uuid};

#[cfg(feature = "derive")]
pub use syncwright_derive::Syncable;

/// What generated code needs; not a public API.
#[doc(hidden)]
pub mod __private {
    pub use crate::value::{
        ColumnValue, DomainValues, RowColumns, get_column, json_from_value, json_to_value,
    };
    pub use rusqlite::Row;
    pub use rusqlite::types::{Value, ValueRef};
    pub use serde_json;
    pub use uuid::Uuid;
}
