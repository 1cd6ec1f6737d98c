use std::time::SystemTime;

use syncwright::{Column, Filter, Order, Query, Syncable};

#[derive(Syncable)]
struct Patient {
    name: String,
    nickname: Option<String>,
    birth_year: i64,
    seen_at: Option<SystemTime>,
    #[syncwright(default = true)]
    active: bool,
}

fn filters() -> Filter<Patient> {
    Patient::BIRTH_YEAR
        .is_in([1980, 1990])
        .or(Patient::NICKNAME.is_null().and(Patient::NAME.like("A%")))
        .and(Patient::NICKNAME.eq("Al").not())
        .and(Patient::ACTIVE.eq(true))
        .and(Patient::SEEN_AT.lt(SystemTime::now()))
        .and(Patient::ID.ne(syncwright::Uuid::nil()))
}

fn ordered(query: Query<'_, Patient>) -> Query<'_, Patient> {
    query
        .filter_by(filters())
        .sort_by(Patient::BIRTH_YEAR, Order::Desc)
        .sort_by(Patient::UPDATED_AT, Order::Asc)
}

fn main() {
    let column: Column<Patient, i64> = Patient::BIRTH_YEAR;
    assert_eq!(column.name(), "birth_year");
    let _ = ordered;
}
