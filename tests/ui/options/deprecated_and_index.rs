use syncwright::Syncable;

#[derive(Syncable)]
struct Task {
    title: String,
    #[syncwright(deprecated, index)]
    notes: Option<String>,
}

fn main() {}
