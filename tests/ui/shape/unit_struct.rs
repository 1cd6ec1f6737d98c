use syncwright::Syncable;

#[derive(Syncable)]
struct Marker;

fn main() {}
