//! Front ends: every input format parses into the one [`crate::model`].

pub mod entity_toml;
pub mod project;
pub mod rust_attrs;
pub mod rust_source;
pub(crate) mod toml_value;

use crate::diagnostic::{Diagnostic, Origin};

/// A default integer outside SQLite's signed 64-bit range (same words in every front end).
pub(crate) fn default_out_of_range(origin: Origin, context: &str) -> Diagnostic {
    Diagnostic::error(
        origin,
        format!("default of {context} does not fit in 64 bits"),
    )
    .help("use a value between -9223372036854775808 and 9223372036854775807")
}

/// A default float that is infinite or NaN (same words in every front end).
pub(crate) fn default_not_finite(origin: Origin, context: &str) -> Diagnostic {
    Diagnostic::error(
        origin,
        format!("default of {context} must be a finite number"),
    )
    .help("SQLite cannot store inf or nan as a default; use a finite value")
}
