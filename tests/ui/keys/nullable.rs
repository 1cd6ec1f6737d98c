use syncwright::Syncable;

#[derive(Syncable)]
struct Task {
    #[syncwright(nullable)]
    due_on: i64,
}

fn main() {}
