//! The sync engine's entry point: [`Database::sync`] pulls, then pushes, and reports.
//!
//! Each step is one transaction (an applied page with its cursors; an answered batch with its
//! queue updates), so a run stopped anywhere (a transport error, a killed process) resumes
//! from what was persisted: a page is applied again or not at all (applying a version twice
//! changes nothing), a batch whose answer was lost is sent again under the same idempotency
//! keys (the server answers them without applying anything twice).

use crate::Result;
use crate::store::Database;
use crate::sync::pull::pull_all;
use crate::sync::push::{Round, push_all};
use crate::sync::report::SyncReport;
use crate::sync::transport::Transport;
use crate::sync_log::{Direction, SyncLogEntry};

/// How a sync run pages, in the builder style of [`crate::OpenOptions`].
///
/// ```no_run
/// # fn run(db: &syncwright::Database, transport: &impl syncwright::sync::transport::Transport) -> syncwright::Result<()> {
/// let report = syncwright::sync::SyncOptions::new().batch_size(200).pull_limit(1000).run(db, transport)?;
/// println!("pulled {}, pushed {}", report.pulled, report.pushed);
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SyncOptions {
    batch_size: usize,
    pull_limit: u32,
}

impl Default for SyncOptions {
    fn default() -> Self {
        SyncOptions::new()
    }
}

impl SyncOptions {
    /// Defaults: batches of 100 mutations, pages of 500 records.
    pub fn new() -> Self {
        SyncOptions {
            batch_size: 100,
            pull_limit: 500,
        }
    }

    /// The most mutations one push carries (at least 1).
    pub fn batch_size(&mut self, n: usize) -> &mut Self {
        self.batch_size = n.max(1);
        self
    }

    /// The most records one pull page asks for (at least 1; the server may cap it lower).
    pub fn pull_limit(&mut self, n: u32) -> &mut Self {
        self.pull_limit = n.max(1);
        self
    }

    /// Syncs `db` through `transport`: re-sends the changes whose answer was lost, pulls every
    /// registered entity until caught up, then pushes the queue until nothing is due. A transport error stops the run with
    /// [`crate::Error::SyncStopped`]; what was done before it is kept.
    pub fn run(&self, db: &Database, transport: &impl Transport) -> Result<SyncReport> {
        let span = tracing::info_span!(
            "sync",
            pulled = tracing::field::Empty,
            pull_requests = tracing::field::Empty,
            pushed = tracing::field::Empty,
            push_requests = tracing::field::Empty,
            conflicts = tracing::field::Empty,
            rejected = tracing::field::Empty,
        );
        let _entered = span.enter();
        let mut report = SyncReport::default();
        // Changes sent before without an answer go first, whatever their backoff: the pull
        // then never meets a change of this device whose fate it does not know.
        let pulled = push_all(db, transport, self.batch_size, Round::InDoubt, &mut report)
            .and_then(|()| pull_all(db, transport, self.pull_limit, &mut report));
        log_round(db, Direction::Pull, &report, pulled.as_ref().err())?;
        let result = pulled.and_then(|()| {
            let pushed = push_all(db, transport, self.batch_size, Round::Due, &mut report);
            log_round(db, Direction::Push, &report, pushed.as_ref().err())?;
            pushed
        });
        span.record("pulled", report.pulled);
        span.record("pull_requests", report.pull_requests);
        span.record("pushed", report.pushed);
        span.record("push_requests", report.push_requests);
        span.record("conflicts", report.conflicts.len());
        span.record("rejected", report.rejected.len());
        match &result {
            Ok(()) => tracing::info!("sync finished"),
            Err(e) => tracing::warn!(error = %e, "sync stopped"),
        }
        result.map(|()| report)
    }
}

/// One `_sync_log` row per direction and run.
fn log_round(
    db: &Database,
    direction: Direction,
    report: &SyncReport,
    error: Option<&crate::Error>,
) -> Result<()> {
    let conflicts = report
        .conflicts
        .iter()
        .filter(|c| {
            matches!(
                (direction, c.found_by),
                (Direction::Pull, crate::sync::report::FoundBy::Pull)
                    | (Direction::Push, crate::sync::report::FoundBy::Push)
            )
        })
        .count();
    db.log_sync(&SyncLogEntry {
        direction,
        entity_type: None,
        pulled: if direction == Direction::Pull {
            report.pulled
        } else {
            0
        },
        pushed: if direction == Direction::Push {
            report.pushed
        } else {
            0
        },
        conflicts: conflicts as u64,
        resolution: None,
        error: error.map(ToString::to_string),
    })
}

impl Database {
    /// Syncs with [`SyncOptions::new`]: pulls, then pushes, and reports what it did.
    pub fn sync(&self, transport: &impl Transport) -> Result<SyncReport> {
        SyncOptions::new().run(self, transport)
    }

    /// Syncs with `options`.
    pub fn sync_with(
        &self,
        transport: &impl Transport,
        options: &SyncOptions,
    ) -> Result<SyncReport> {
        options.run(self, transport)
    }
}
