use syncwright::{Database, Migrations, Syncable};

#[derive(Syncable)]
struct Patient {
    name: String,
}

#[derive(Syncable)]
struct Visit {
    note: String,
}

fn main() {
    let db = Database::open_in_memory(&Migrations::from_dir("migrations").unwrap()).unwrap();
    let _ = db.query::<Patient>().filter_by(Visit::NOTE.eq("x"));
}
