use syncwright::Syncable;

#[derive(Syncable)]
struct Task {
    #[syncwright(default = 0)]
    #[syncwright(index, default = 1)]
    priority: i64,
}

fn main() {}
