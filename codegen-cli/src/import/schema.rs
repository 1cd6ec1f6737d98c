//! The import snapshot: an existing app's SQLite schema exactly as it is, read from a database
//! file, a Room export or a Drift dump.
//!
//! It is written next to the specs (`schema/import.json`) when a project is adopted, and the
//! runtime compares a live database with it before adopting that database: a table the app
//! changed since the import is refused with its differences listed. Tables, columns, indexes
//! and foreign keys are kept in a fixed order (tables and indexes by name, columns in table
//! order) so the file is deterministic.

use serde::{Deserialize, Serialize};

pub use crate::model::{ImportedColumn, ImportedForeignKey, ImportedIndex, ImportedTable};

/// Every table of an existing database that the project adopts.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportedSchema {
    /// The app's tables, sorted by name.
    pub tables: Vec<ImportedTable>,
}

impl ImportedSchema {
    /// The snapshot as pretty JSON with a final newline, the form written to disk.
    pub fn to_json(&self) -> String {
        let mut text =
            serde_json::to_string_pretty(self).expect("the import snapshot always serializes");
        text.push('\n');
        text
    }

    /// Looks a table up by name, ignoring ASCII case as SQLite does.
    pub fn table(&self, name: &str) -> Option<&ImportedTable> {
        self.tables
            .iter()
            .find(|t| t.name.eq_ignore_ascii_case(name))
    }
}
