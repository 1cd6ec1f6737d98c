use syncwright::Syncable;

// Three independent mistakes: all three are reported, and nothing else.
#[derive(Syncable)]
#[syncwright(conflict = "lwww")]
struct Task {
    #[syncwright(uniqe)]
    title: String,
    id: String,
    #[syncwright(references = "projects")]
    project_id: uuid::Uuid,
}

fn main() {}
