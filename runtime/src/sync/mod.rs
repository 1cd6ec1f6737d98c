//! What a sync engine and a sync server share: the wire [`protocol`] and the [`transport`]
//! that carries it.
//!
//! The messages are plain serde structs with no storage types in them; `docs/protocol.md` is
//! the same contract in prose, with a JSON example of every message.

#[cfg(feature = "http")]
pub mod http;
pub mod protocol;
pub mod transport;
