use syncwright::Syncable;

#[derive(Syncable)]
struct Patient {
    name: String,
    birth_year: i64,
}

fn main() {
    let _ = Patient::BIRTH_YAER.eq(1980);
}
