use syncwright::Syncable;

#[derive(Syncable)]
enum Status {
    Open,
    Done,
}

fn main() {}
