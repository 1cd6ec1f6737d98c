//! The app's entities: each `#[derive(Syncable)]` struct is a synced table.

use syncwright::Syncable;

/// A patient (table `patients`).
#[derive(Debug, Clone, PartialEq, Syncable)]
pub struct Patient {
    pub name: String,
    #[syncwright(index)]
    pub birth_year: i64,
    /// Added in version 2: new fields are nullable or have a default.
    pub phone: Option<String>,
}
