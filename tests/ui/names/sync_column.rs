use syncwright::Syncable;

#[derive(Syncable)]
struct Task {
    title: String,
    updated_at: std::time::SystemTime,
}

fn main() {}
