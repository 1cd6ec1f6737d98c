use syncwright::Syncable;

#[derive(Syncable)]
#[syncwright(index(columns = ["title", "priorty"]))]
struct Task {
    title: String,
    priority: i64,
}

fn main() {}
