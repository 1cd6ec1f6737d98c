//! Change subscriptions: a table, a query or the sync status summary watched, the subscriber
//! told after each commit that touched it.
//!
//! SQLite's update hook on the writer connection records every table a write transaction
//! changes (the store's typed writes, the queue, the sync engine's remote apply, raw SQL run
//! through [`crate::WriteTx::sql`] alike). When the transaction commits, still holding the
//! writer, the recorded tables are taken; after the writer is released every subscription
//! whose tables they meet gets one [`Change`] on its channel. A rolled-back transaction (an
//! `Err` from the closure, a failed `COMMIT`, a panic) discards what it recorded, so it never
//! notifies. Notifications are sent after the commit is visible to readers, so a subscriber
//! that re-reads sees at least that commit. Known over-approximation: a write undone by a
//! `ROLLBACK TO` savepoint inside a transaction that then commits still counts as a change.

use std::collections::BTreeSet;
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};

use rusqlite::Connection;

use crate::entity::Syncable;
use crate::query::Query;
use crate::record::Record;
use crate::status::SyncSummary;
use crate::store::Database;
use crate::{Error, Result};

/// One commit that touched watched tables.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    /// The watched tables the commit changed (every table it changed, for a subscription to
    /// all tables).
    pub tables: BTreeSet<String>,
}

/// Which tables a subscriber watches.
enum Watched {
    All,
    Tables(BTreeSet<String>),
}

struct Subscriber {
    id: u64,
    watched: Watched,
    sender: Sender<Change>,
}

/// The tables the open write transaction touched, and the subscribers to tell when it commits.
#[derive(Default)]
pub(crate) struct Hub {
    touched: Arc<Mutex<BTreeSet<String>>>,
    subscribers: Mutex<(u64, Vec<Subscriber>)>,
}

impl std::fmt::Debug for Hub {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Hub").finish_non_exhaustive()
    }
}

impl Hub {
    /// Records, on the writer connection `conn`, every table its statements change.
    pub fn install(&self, conn: &mut Connection) -> Result<()> {
        let touched = Arc::clone(&self.touched);
        conn.update_hook(Some(
            move |_: rusqlite::hooks::Action, _: &str, table: &str, _: i64| {
                let mut touched = touched.lock().unwrap_or_else(|e| e.into_inner());
                if !touched.contains(table) {
                    touched.insert(table.to_owned());
                }
            },
        ))
        .map_err(|source| Error::Sqlite { sql: None, source })
    }

    /// Takes what the transaction that just ended touched (call while holding the writer).
    pub fn take(&self) -> BTreeSet<String> {
        std::mem::take(&mut *self.touched.lock().unwrap_or_else(|e| e.into_inner()))
    }

    /// Tells every subscriber whose tables `tables` meets (call after releasing the writer, so
    /// a subscriber may write in turn). Subscribers whose receiver is gone are dropped.
    pub fn publish(&self, tables: &BTreeSet<String>) {
        if tables.is_empty() {
            return;
        }
        let mut subscribers = self.subscribers.lock().unwrap_or_else(|e| e.into_inner());
        subscribers.1.retain(|subscriber| {
            let hit: BTreeSet<String> = match &subscriber.watched {
                Watched::All => tables.clone(),
                Watched::Tables(watched) => watched.intersection(tables).cloned().collect(),
            };
            if hit.is_empty() {
                return true;
            }
            subscriber.sender.send(Change { tables: hit }).is_ok()
        });
    }

    fn subscribe(self: &Arc<Self>, watched: Watched) -> Subscription {
        let (sender, receiver) = mpsc::channel();
        let mut subscribers = self.subscribers.lock().unwrap_or_else(|e| e.into_inner());
        subscribers.0 += 1;
        let id = subscribers.0;
        subscribers.1.push(Subscriber {
            id,
            watched,
            sender,
        });
        Subscription {
            receiver,
            hub: Arc::downgrade(self),
            id,
        }
    }

    fn unsubscribe(&self, id: u64) {
        let mut subscribers = self.subscribers.lock().unwrap_or_else(|e| e.into_inner());
        subscribers.1.retain(|s| s.id != id);
    }
}

/// A watch on some tables: one [`Change`] per commit that touched them, in commit order.
/// It is `Send`, so a UI thread can wait on it while other threads write; dropping it
/// unsubscribes.
#[must_use = "a subscription that is not read only buffers changes"]
pub struct Subscription {
    receiver: Receiver<Change>,
    hub: Weak<Hub>,
    id: u64,
}

impl std::fmt::Debug for Subscription {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Subscription")
            .field("id", &self.id)
            .finish()
    }
}

impl Subscription {
    /// Waits for the next change; `None` once the database is closed and every change was read.
    pub fn recv(&self) -> Option<Change> {
        self.receiver.recv().ok()
    }

    /// The next change if one is waiting.
    pub fn try_recv(&self) -> Option<Change> {
        self.receiver.try_recv().ok()
    }

    /// Waits at most `timeout` for the next change.
    pub fn recv_timeout(&self, timeout: Duration) -> Option<Change> {
        self.receiver.recv_timeout(timeout).ok()
    }

    /// Every change waiting now, merged into one (`None` if there is none): what a UI that
    /// re-renders once per frame wants.
    pub fn drain(&self) -> Option<Change> {
        let mut merged: Option<Change> = None;
        while let Some(change) = self.try_recv() {
            match &mut merged {
                Some(m) => m.tables.extend(change.tables),
                None => merged = Some(change),
            }
        }
        merged
    }
}

impl Drop for Subscription {
    fn drop(&mut self) {
        if let Some(hub) = self.hub.upgrade() {
            hub.unsubscribe(self.id);
        }
    }
}

impl Database {
    /// Watches `T`'s table: told after each commit that wrote to it (local writes, the sync
    /// engine's pulls and settled pushes, raw SQL in a write transaction), never for a
    /// rollback.
    pub fn watch<T: Syncable>(&self) -> Subscription {
        self.watch_tables(&[T::ENTITY.table])
    }

    /// Watches the tables named in `tables` (entity tables or the runtime's, e.g.
    /// `_sync_queue`); one [`Change`] per commit that wrote to any of them.
    pub fn watch_tables(&self, tables: &[&str]) -> Subscription {
        let tables = tables.iter().map(|t| (*t).to_owned()).collect();
        self.hub.subscribe(Watched::Tables(tables))
    }

    /// Watches every table: one [`Change`] per commit that wrote anything.
    pub fn watch_all(&self) -> Subscription {
        self.hub.subscribe(Watched::All)
    }

    /// Watches the sync status summary ([`Database::status`]): [`StatusWatch::next`] returns
    /// it each time a commit changed it.
    pub fn watch_status(&self) -> StatusWatch<'_> {
        let subscription = self.watch_all();
        StatusWatch {
            db: self,
            subscription,
            last: self.status().ok(),
        }
    }
}

impl<'db, T: Syncable> Query<'db, T> {
    /// Watches the query (Drift's `watch()`, Room's `Flow`): [`QueryWatch::next`] re-runs it
    /// after each commit that wrote to `T`'s table.
    pub fn watch(self) -> QueryWatch<'db, T> {
        let subscription = self.database().watch::<T>();
        QueryWatch {
            query: self,
            subscription,
        }
    }
}

/// A watched query, from [`Query::watch`].
pub struct QueryWatch<'db, T> {
    query: Query<'db, T>,
    subscription: Subscription,
}

impl<T: Syncable> QueryWatch<'_, T> {
    /// The query's current results (for the first render).
    pub fn current(&self) -> Result<Vec<Record<T>>> {
        self.query.fetch()
    }

    /// Waits at most `timeout` for a commit that wrote to the table, then returns the fresh
    /// results (several commits waiting are read once); `None` when nothing changed.
    pub fn next(&self, timeout: Duration) -> Option<Result<Vec<Record<T>>>> {
        self.subscription.recv_timeout(timeout)?;
        self.subscription.drain();
        Some(self.query.fetch())
    }

    /// The subscription underneath, e.g. to wait on it in a `select`-style loop.
    pub fn subscription(&self) -> &Subscription {
        &self.subscription
    }
}

/// A watched sync status summary, from [`Database::watch_status`].
pub struct StatusWatch<'db> {
    db: &'db Database,
    subscription: Subscription,
    last: Option<SyncSummary>,
}

impl StatusWatch<'_> {
    /// Waits at most `timeout` for a commit that changed the summary and returns the new
    /// summary; `None` when it did not change in that time. The first call compares with the
    /// summary when the watch began.
    pub fn next(&mut self, timeout: Duration) -> Option<Result<SyncSummary>> {
        let deadline = Instant::now() + timeout;
        if self.last.is_none() {
            match self.db.status() {
                Ok(summary) => self.last = Some(summary),
                Err(e) => return Some(Err(e)),
            }
        }
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            self.subscription.recv_timeout(left)?;
            self.subscription.drain();
            match self.db.status() {
                Ok(summary) if Some(&summary) == self.last.as_ref() => continue,
                Ok(summary) => {
                    self.last = Some(summary.clone());
                    return Some(Ok(summary));
                }
                Err(e) => return Some(Err(e)),
            }
        }
    }
}
