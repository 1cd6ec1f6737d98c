//! Front ends: every input format parses into the one [`crate::model`].

pub mod entity_toml;
pub mod project;
pub mod rust_attrs;
pub mod rust_source;
pub(crate) mod toml_value;
