use syncwright::{Syncable, Uuid};

#[derive(Syncable)]
struct Project {
    name: String,
}

#[derive(Syncable)]
struct Task {
    title: String,
    // `project` is the entity; `references` takes its table, `projects`.
    #[syncwright(references = "project")]
    project_id: Uuid,
}

fn main() {}
