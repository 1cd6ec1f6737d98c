use syncwright::Syncable;

#[derive(Syncable)]
struct Task {
    #[syncwright(type = "integer")]
    title: String,
}

fn main() {}
