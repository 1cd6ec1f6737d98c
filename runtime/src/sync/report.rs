//! What one sync run did: [`SyncReport`].

use uuid::Uuid;

use crate::entity::ConflictStrategy;

/// What one [`crate::Database::sync`] run did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SyncReport {
    /// Pulled records applied locally (repeats of a version already here are not counted).
    pub pulled: u64,
    /// Pull round trips.
    pub pull_requests: u64,
    /// Local changes the server accepted.
    pub pushed: u64,
    /// Push round trips.
    pub push_requests: u64,
    /// Every conflict met, with how it was resolved.
    pub conflicts: Vec<ConflictReport>,
    /// Local changes the server will never accept (their queue entries are `failed`).
    pub rejected: Vec<Rejection>,
    /// Entities pulled again from the start because a local schema upgrade changed them
    /// (migration sync).
    pub resynced: Vec<String>,
}

/// One conflict and its resolution.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConflictReport {
    /// The entity name.
    pub entity: String,
    /// The record.
    pub id: Uuid,
    /// The entity's strategy.
    pub strategy: ConflictStrategy,
    /// Found by a pull or answered to a push.
    pub found_by: FoundBy,
    /// What happened.
    pub resolution: Resolution,
}

/// Where a conflict showed up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FoundBy {
    /// A pulled record whose local copy had unsynced changes.
    Pull,
    /// A push answered `conflict`.
    Push,
}

/// How a conflict was resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resolution {
    /// The server's version was kept; the local changes were dropped.
    ServerKept,
    /// The local version was kept and is sent again on top of the server's version.
    LocalResent,
    /// Fields were merged; the named fields took the local value and are sent again.
    Merged {
        /// The fields whose local value won.
        local_fields: Vec<String>,
    },
    /// The record is `conflict` and waits for the app ([`crate::Database::conflicts`]).
    Manual,
}

impl Resolution {
    /// The text written to `_sync_log.resolution`.
    pub fn describe(&self, strategy: ConflictStrategy) -> String {
        let name = strategy_name(strategy);
        match self {
            Resolution::ServerKept => format!("{name}: server kept"),
            Resolution::LocalResent => format!("{name}: local resent"),
            Resolution::Merged { local_fields } => {
                format!("{name}: merged, local {}", local_fields.join(","))
            }
            Resolution::Manual => format!("{name}: waiting for the app"),
        }
    }
}

/// The spec's name of a strategy (`lww`, `server_wins`, ...).
pub fn strategy_name(strategy: ConflictStrategy) -> &'static str {
    match strategy {
        ConflictStrategy::LastWriteWins => "lww",
        ConflictStrategy::ServerWins => "server_wins",
        ConflictStrategy::ClientWins => "client_wins",
        ConflictStrategy::FieldMerge => "field_merge",
        ConflictStrategy::Manual => "manual",
    }
}

/// A local change the server rejected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    /// The entity name.
    pub entity: String,
    /// The record.
    pub id: Uuid,
    /// The change's idempotency key.
    pub idempotency_key: Uuid,
    /// The server's reason.
    pub reason: String,
}
