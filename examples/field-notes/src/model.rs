//! The app's model: annotated structs are the schema spec.

use std::time::SystemTime;

use serde::{Deserialize, Serialize};
use syncwright::Syncable;
use uuid::Uuid;

/// A crew's notebook (table `notebooks`; last write wins).
#[derive(Debug, Clone, PartialEq, Syncable)]
pub struct Notebook {
    pub title: String,
    #[syncwright(default = false)]
    pub archived: bool,
}

/// One observation. Crews edit notes on several devices, so fields merge one by one.
#[derive(Debug, Clone, PartialEq, Syncable)]
#[syncwright(conflict = "field_merge", index(columns = ["notebook_id", "observed_at"]))]
pub struct Note {
    #[syncwright(references = "notebooks")]
    pub notebook_id: Uuid,
    pub body: String,
    pub observed_at: SystemTime,
    /// Any serde type is stored as JSON text with `json`.
    #[syncwright(json, default = [])]
    pub tags: Vec<String>,
    #[syncwright(json)]
    pub location: Option<Location>,
    #[syncwright(default = 0, index)]
    pub priority: i64,
}

/// Where a note was taken.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Location {
    pub lat: f64,
    pub lon: f64,
}
