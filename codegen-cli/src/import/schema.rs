//! The import snapshot: an existing app's SQLite schema exactly as it is, read from a database
//! file, a Room export or a Drift dump.
//!
//! It is written next to the specs (`schema/import.json`) when a project is adopted, and the
//! runtime compares a live database with it before adopting that database: a table the app
//! changed since the import is refused with its differences listed. Tables, columns, indexes
//! and foreign keys are kept in a fixed order (tables and indexes by name, columns in table
//! order) so the file is deterministic.

use serde::{Deserialize, Serialize};

/// Every table of an existing database that the project adopts.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportedSchema {
    /// The app's tables, sorted by name.
    pub tables: Vec<ImportedTable>,
}

/// One existing table.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportedTable {
    /// The table name, exactly as the app spells it.
    pub name: String,
    /// The columns in table order.
    pub columns: Vec<ImportedColumn>,
    /// The primary key's columns in key order; empty when the table has none (rowid only).
    pub primary_key: Vec<String>,
    /// Whether the key is an `INTEGER PRIMARY KEY AUTOINCREMENT`.
    pub autoincrement: bool,
    /// Whether the table is `WITHOUT ROWID`.
    pub without_rowid: bool,
    /// The explicit indexes and the unique constraints, sorted by name.
    pub indexes: Vec<ImportedIndex>,
    /// The foreign keys, in declaration order.
    pub foreign_keys: Vec<ImportedForeignKey>,
}

impl ImportedTable {
    /// Looks a column up by name, ignoring ASCII case as SQLite does.
    pub fn column(&self, name: &str) -> Option<&ImportedColumn> {
        self.columns
            .iter()
            .find(|c| c.name.eq_ignore_ascii_case(name))
    }
}

/// One existing column.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportedColumn {
    /// The column name, exactly as the app spells it.
    pub name: String,
    /// The declared type, as written in `CREATE TABLE` (may be empty).
    pub declared_type: String,
    /// Whether the column is `NOT NULL` (a primary key column of a rowid table counts as
    /// declared).
    pub not_null: bool,
    /// The `DEFAULT` clause's SQL text, if any.
    pub default_sql: Option<String>,
}

/// One index, or the index SQLite made for a `UNIQUE` constraint.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportedIndex {
    /// The index name (`sqlite_autoindex_…` for a constraint).
    pub name: String,
    /// The indexed columns, in index order.
    pub columns: Vec<String>,
    /// Whether the index is unique.
    pub unique: bool,
}

/// One foreign key.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportedForeignKey {
    /// The referencing columns of this table.
    pub columns: Vec<String>,
    /// The referenced table.
    pub table: String,
    /// The referenced columns (empty means the referenced table's primary key).
    pub to_columns: Vec<String>,
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
