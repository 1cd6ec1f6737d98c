use syncwright::Syncable;

#[derive(Syncable)]
#[syncwright(tabel = "tasks")]
struct Task {
    title: String,
}

fn main() {}
