//! A reference the derive cannot see (declared in another file or a TOML spec) compiles; the
//! generator checks it against the whole project. One to a table of this file compiles too.

use syncwright::{Syncable, Uuid};

#[derive(Syncable)]
struct Project {
    name: String,
}

#[derive(Syncable)]
struct Task {
    #[syncwright(references = "projects")]
    project_id: Uuid,
    #[syncwright(references = "users")]
    assignee_id: Option<Uuid>,
}

fn main() {}
