use syncwright::Syncable;

#[derive(Syncable)]
struct Task {
    #[syncwright(default = 0, indx)]
    priority: i64,
}

fn main() {}
