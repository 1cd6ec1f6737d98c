//! Front ends: every input format parses into the one [`crate::model`].
//!
//! Each front end turns its syntax into entries for the one key reader (`keys`), where every
//! key's meaning and every message about a key is written once.

#[cfg(feature = "generate")]
pub mod entity_toml;
pub(crate) mod keys;
#[cfg(feature = "generate")]
pub mod project;
pub mod rust_attrs;
pub mod rust_source;
#[cfg(feature = "generate")]
pub(crate) mod toml_value;
