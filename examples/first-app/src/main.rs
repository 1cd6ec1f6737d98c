//! The README's app: open (or create, or upgrade) the database, write, query, watch, queue.

mod daily;
mod model;

use syncwright::{Database, Order, Syncable};

use crate::model::Patient;

// MIGRATIONS (every release and every entity), ENTITIES and SCHEMA_VERSION, from build.rs.
include!(concat!(env!("OUT_DIR"), "/syncwright_migrations.rs"));

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = std::env::args().nth(1).unwrap_or_else(|| "app.db".into());
    // Creates the database at the latest version, or upgrades an older one; registers every
    // entity of `MIGRATIONS`.
    let db = Database::open(&path, &MIGRATIONS)?;
    println!("{path} at schema version {}", db.schema_version());

    let changes = db.watch::<Patient>(); // told after each commit that touched `patients`
    let ada = db.insert(&Patient {
        name: "Ada".into(),
        birth_year: 1980,
        phone: None,
    })?; // the row and its queue entry, one transaction
    db.modify::<Patient>(ada.id, |p| p.phone = Some("555-0100".into()))?;
    assert_eq!(changes.drain().map(|c| c.tables.len()), Some(1));

    // Typed columns: a misspelt column or a wrong value type does not compile.
    let eighties = db
        .query::<Patient>()
        .filter_by(
            Patient::BIRTH_YEAR
                .is_in([1980, 1985])
                .and(Patient::PHONE.is_not_null()),
        )
        .sort_by(Patient::NAME, Order::Asc)
        .fetch()?;
    println!(
        "{} patient(s) born in 1980 or 1985 with a phone",
        eighties.len()
    );

    daily::daily(&db, ada.id)?; // src/daily.rs: the rest of the daily API

    // What a sync engine (or `db.sync(&transport)`) sends; here just counted.
    println!("{} change(s) waiting to sync", db.status()?.pending);
    let _ = Patient::ENTITY; // the descriptor the derive wrote, if you need it
    Ok(())
}
