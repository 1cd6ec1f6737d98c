// The README's `#[derive(Syncable)]` example, compiled (tests/readme.rs keeps them equal).

use syncwright::{Syncable, Uuid};

#[derive(Debug, Clone, PartialEq, Syncable)]
#[syncwright(conflict = "field_merge", index(columns = ["project_id", "priority"]))]
pub struct Task {
    pub title: String,
    #[syncwright(references = "projects")]
    pub project_id: Uuid,
    pub due_on: Option<std::time::SystemTime>,
    #[syncwright(default = 0, index)]
    pub priority: i64,
}

fn main() {}
