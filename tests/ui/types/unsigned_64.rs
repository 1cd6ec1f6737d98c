use syncwright::Syncable;

#[derive(Syncable)]
struct Photo {
    size_bytes: u64,
}

fn main() {}
