use syncwright::Syncable;

#[derive(Syncable)]
#[syncwright(index(columns = ["title", "priority", "title"]))]
struct Task {
    title: String,
    priority: i64,
}

fn main() {}
