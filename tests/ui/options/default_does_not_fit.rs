use syncwright::Syncable;

#[derive(Syncable)]
struct Task {
    #[syncwright(default = "high")]
    priority: i64,
}

fn main() {}
