//! Sync: the wire [`protocol`], the [`transport`] that carries it, and the engine that pulls,
//! applies, pushes and resolves conflicts ([`crate::Database::sync`]).
//!
//! The messages are plain serde structs with no storage types in them; `docs/protocol.md` is
//! the same contract in prose, with a JSON example of every message.

mod conflict;
mod engine;
#[cfg(feature = "http")]
pub mod http;
pub(crate) mod local;
mod manual;
pub mod protocol;
mod pull;
mod push;
mod report;
pub mod transport;

pub use engine::SyncOptions;
pub use manual::{Choice, Conflict};
pub use report::{ConflictReport, FoundBy, Rejection, Resolution, SyncReport, strategy_name};
