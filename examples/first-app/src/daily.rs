//! The daily API in one place (the README shows this file).

use std::time::Duration;

use syncwright::{Database, Order, Result, Uuid};

use crate::model::Patient;

pub fn daily(db: &Database, id: Uuid) -> Result<()> {
    // Typed columns: the derive (and the structs generated from TOML specs) emits one constant
    // per field, plus ID, CREATED_AT and UPDATED_AT. A misspelt column or a value of the wrong
    // type does not compile; `filter_eq("birth_year", 1980)` stays for run-time names.
    let rows = db
        .query::<Patient>()
        .filter_by(
            Patient::BIRTH_YEAR
                .is_in([1980, 1985])
                .or(Patient::PHONE.is_null()),
        )
        .filter_by(Patient::NAME.like("Z%").not())
        .sort_by(Patient::BIRTH_YEAR, Order::Desc)
        .fetch()?;
    let without_phone = db
        .query::<Patient>()
        .filter_by(Patient::PHONE.is_null())
        .count()?;
    println!("{} match, {without_phone} without a phone", rows.len());

    // Change subscriptions: told after each commit that touched the table (local writes, the
    // sync engine's pulls and settled pushes, raw SQL in a write transaction), never for a
    // rollback.
    let changes = db.watch::<Patient>(); // a channel: recv, try_recv, recv_timeout, drain
    let list = db.query::<Patient>().watch(); // list.next(timeout) re-runs the query
    let mut indicator = db.watch_status(); // indicator.next(timeout): the new SyncSummary

    // Read, change and write one record in one transaction (an `update` in the queue).
    db.modify::<Patient>(id, |p| p.phone = Some("555-0199".into()))?;
    assert!(changes.try_recv().is_some());
    assert!(list.next(Duration::from_secs(1)).is_some());
    let _ = indicator.next(Duration::ZERO);

    // Escape hatches, with `syncwright::rusqlite` re-exported so versions always match.
    let queued: i64 = db.read_sql(|conn| {
        conn.query_row(
            "SELECT count(*) FROM patients p JOIN _sync_queue q ON q.entity_id = p.id",
            [],
            |r| r.get(0),
        )
    })?;
    db.transaction(|tx| {
        // Commits with the typed writes, but is not queued: app-local tables only.
        tx.sql()
            .execute_batch("CREATE TABLE IF NOT EXISTS recent (patient TEXT PRIMARY KEY)")?;
        tx.sql().execute(
            "INSERT OR REPLACE INTO recent VALUES (?1)",
            [id.to_string()],
        )?;
        Ok(())
    })?;
    println!("{queued} queue entries");
    Ok(())
}
