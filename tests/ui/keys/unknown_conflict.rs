use syncwright::Syncable;

#[derive(Syncable)]
#[syncwright(conflict = "field_merg")]
struct Task {
    title: String,
}

fn main() {}
