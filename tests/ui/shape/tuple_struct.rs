use syncwright::Syncable;

#[derive(Syncable)]
struct Point(i64, i64);

fn main() {}
