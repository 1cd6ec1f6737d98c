//! Adopting an existing app's database: the runtime side of `syncwright import`.
//!
//! `syncwright import` writes an import snapshot (`schema/import.json`: the app's tables as
//! they were) and an adoption migration (`schema/adopt.sql`: additive SQL that keeps the
//! app's keys and adds `_sync_`-prefixed sync columns, backfilled). [`adopt`] takes both
//! (embedded with `include_str!`) and an app database:
//!
//! 1. Read-only, the live schema is compared with the snapshot. Any difference in an imported
//!    table (a column added, retyped or dropped, a key, index or foreign key changed, a table
//!    gone) refuses the database with every difference listed
//!    ([`Error::AdoptedSchemaChanged`]); nothing is written. Tables the snapshot does not
//!    cover are left alone, named in a `tracing` warning and in [`AdoptionReport::uncovered`].
//! 2. The runtime's own tables are created (their versioned steps, as for any database).
//! 3. The adoption migration runs in one `BEGIN IMMEDIATE` transaction together with its
//!    `_sync_adoption` row: a crash leaves the database as the app had it, or adopted.
//!
//! Adopting an adopted database again does nothing (the same migration's checksum is
//! recorded); a database adopted by another migration is refused.

use std::time::SystemTime;

use rusqlite::{Connection, OptionalExtension, TransactionBehavior};
use serde::Deserialize;

use crate::clock::to_millis;
use crate::migrate;
use crate::migration::{MigrationRef, checksum};
use crate::runtime_tables;
use crate::{Error, Result};

/// What to adopt: the two files `syncwright import` wrote.
#[derive(Debug, Clone, Copy)]
pub struct Adoption<'a> {
    /// The import snapshot, `schema/import.json`.
    pub snapshot: &'a str,
    /// The adoption migration, `schema/adopt.sql`.
    pub migration: &'a str,
    /// How existing rows start, as written in `syncwright.toml` `[adopted] existing_rows`
    /// (recorded for support; the migration already sets it).
    pub existing_rows: &'a str,
}

/// What [`adopt`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdoptionReport {
    /// Whether this call adopted the database (`false`: it was adopted before).
    pub adopted_now: bool,
    /// The adopted tables.
    pub tables: Vec<String>,
    /// Tables of the database the snapshot does not cover: left alone, not synced.
    pub uncovered: Vec<String>,
}

#[derive(Debug, Deserialize, PartialEq, Eq)]
struct Snapshot {
    tables: Vec<Table>,
}

#[derive(Debug, Deserialize, PartialEq, Eq)]
struct Table {
    name: String,
    columns: Vec<Column>,
    primary_key: Vec<String>,
    indexes: Vec<Index>,
    foreign_keys: Vec<ForeignKey>,
}

#[derive(Debug, Deserialize, PartialEq, Eq)]
struct Column {
    name: String,
    declared_type: String,
    not_null: bool,
    default_sql: Option<String>,
}

#[derive(Debug, Deserialize, PartialEq, Eq, PartialOrd, Ord)]
struct Index {
    columns: Vec<String>,
    unique: bool,
}

#[derive(Debug, Deserialize, PartialEq, Eq)]
struct ForeignKey {
    columns: Vec<String>,
    table: String,
    to_columns: Vec<String>,
}

/// The prefix of the columns (and their indexes) the adoption adds.
const SYNC_PREFIX: &str = "_sync_";

/// Adopts `conn`'s tables as `adoption` describes (see the module docs).
pub fn adopt(conn: &mut Connection, adoption: &Adoption<'_>) -> Result<AdoptionReport> {
    adopt_at(conn, adoption, SystemTime::now())
}

pub(crate) fn adopt_at(
    conn: &mut Connection,
    adoption: &Adoption<'_>,
    now: SystemTime,
) -> Result<AdoptionReport> {
    let snapshot: Snapshot =
        serde_json::from_str(adoption.snapshot).map_err(|e| Error::InvalidAdoption {
            reason: format!(
                "the snapshot is not an import snapshot written by `syncwright import` (line {}, \
                 column {}): {e}",
                e.line(),
                e.column()
            ),
        })?;
    let sum = checksum(adoption.migration);
    let tables: Vec<String> = snapshot.tables.iter().map(|t| t.name.clone()).collect();
    let live_names = app_tables(conn)?;
    let uncovered: Vec<String> = live_names
        .iter()
        .filter(|n| !tables.iter().any(|t| t.eq_ignore_ascii_case(n)))
        .cloned()
        .collect();
    if !uncovered.is_empty() {
        tracing::warn!(
            tables = ?uncovered,
            "tables not in the import snapshot are left alone and not synced"
        );
    }
    if let Some(recorded) = recorded_adoption(conn)? {
        if recorded != sum {
            return Err(Error::InvalidAdoption {
                reason: format!(
                    "it was adopted by another adoption migration (checksum {recorded}, this one \
                     is {sum}); adopt with the files the database was adopted with"
                ),
            });
        }
        return Ok(AdoptionReport {
            adopted_now: false,
            tables,
            uncovered,
        });
    }
    let mut differences = Vec::new();
    for expected in &snapshot.tables {
        if !live_names
            .iter()
            .any(|n| n.eq_ignore_ascii_case(&expected.name))
        {
            differences.push(format!("table `{}` is missing", expected.name));
            continue;
        }
        let live = read_table(conn, &expected.name)?;
        table_differences(expected, &live, &mut differences);
    }
    if !differences.is_empty() {
        return Err(Error::AdoptedSchemaChanged { differences });
    }
    runtime_tables::upgrade(conn, now)?;
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(Error::sql("BEGIN IMMEDIATE"))?;
    // Another connection may have adopted it while we waited for the write lock.
    if recorded_adoption(&tx)?.is_none() {
        let step = MigrationRef {
            version: 0,
            name: "adopt",
            sql: adoption.migration,
            checksum: &sum,
        };
        migrate::apply(&tx, &step, &mut |_| {})?;
        let insert = "INSERT INTO _sync_adoption (checksum, tables, existing_rows, adopted_at) \
                      VALUES (?1, ?2, ?3, ?4)";
        let names = serde_json::to_string(&tables).expect("names serialize");
        tx.execute(
            insert,
            (&sum, names, adoption.existing_rows, to_millis(now)),
        )
        .map_err(Error::sql(insert))?;
    }
    tx.commit().map_err(Error::sql("COMMIT"))?;
    Ok(AdoptionReport {
        adopted_now: true,
        tables,
        uncovered,
    })
}

fn recorded_adoption(conn: &Connection) -> Result<Option<String>> {
    let exists = "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = '_sync_adoption'";
    let found = conn
        .query_row(exists, [], |_| Ok(()))
        .optional()
        .map_err(Error::sql(exists))?;
    if found.is_none() {
        return Ok(None);
    }
    let sql = "SELECT checksum FROM _sync_adoption LIMIT 1";
    conn.query_row(sql, [], |r| r.get(0))
        .optional()
        .map_err(Error::sql(sql))
}

/// The app's tables: neither SQLite's nor syncwright's.
fn app_tables(conn: &Connection) -> Result<Vec<String>> {
    let sql = "SELECT name FROM sqlite_master WHERE type = 'table' \
               AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' AND name NOT LIKE '\\_sync%' ESCAPE '\\' \
               ORDER BY name";
    conn.prepare(sql)
        .and_then(|mut stmt| stmt.query_map([], |r| r.get(0))?.collect())
        .map_err(Error::sql(sql))
}

/// One live table in the snapshot's shape, as `syncwright import` reads it.
fn read_table(conn: &Connection, name: &str) -> Result<Table> {
    let sql = "SELECT name, type, \"notnull\", dflt_value, pk FROM pragma_table_info(?1)";
    let mut key: Vec<(i64, String)> = Vec::new();
    let columns = conn
        .prepare(sql)
        .and_then(|mut stmt| {
            stmt.query_map([name], |r| {
                let pk: i64 = r.get(4)?;
                let column: String = r.get(0)?;
                Ok((
                    pk,
                    Column {
                        name: column,
                        declared_type: r.get(1)?,
                        not_null: r.get::<_, i64>(2)? != 0,
                        default_sql: r.get(3)?,
                    },
                ))
            })?
            .collect::<rusqlite::Result<Vec<_>>>()
        })
        .map_err(Error::sql(sql))?
        .into_iter()
        .map(|(pk, c)| {
            if pk > 0 {
                key.push((pk, c.name.clone()));
            }
            c
        })
        .collect();
    key.sort();
    let sql = "SELECT l.name, l.\"unique\", i.name FROM pragma_index_list(?1) AS l \
               JOIN pragma_index_info(l.name) AS i WHERE l.origin <> 'pk' ORDER BY l.name, i.seqno";
    let rows: Vec<(String, bool, Option<String>)> = conn
        .prepare(sql)
        .and_then(|mut stmt| {
            stmt.query_map([name], |r| {
                Ok((r.get(0)?, r.get::<_, i64>(1)? != 0, r.get(2)?))
            })?
            .collect()
        })
        .map_err(Error::sql(sql))?;
    let mut indexes: Vec<(String, Index)> = Vec::new();
    for (index, unique, column) in rows {
        if indexes.last().is_none_or(|(last, _)| *last != index) {
            indexes.push((
                index.clone(),
                Index {
                    columns: Vec::new(),
                    unique,
                },
            ));
        }
        let column = column.unwrap_or_else(|| "<expression>".to_owned());
        indexes
            .last_mut()
            .expect("pushed above")
            .1
            .columns
            .push(column);
    }
    let sql =
        "SELECT id, \"table\", \"from\", \"to\" FROM pragma_foreign_key_list(?1) ORDER BY id, seq";
    let rows: Vec<(i64, String, String, Option<String>)> = conn
        .prepare(sql)
        .and_then(|mut stmt| {
            stmt.query_map([name], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?
                .collect()
        })
        .map_err(Error::sql(sql))?;
    let mut keys: Vec<(i64, ForeignKey)> = Vec::new();
    for (id, table, from, to) in rows {
        if keys.last().is_none_or(|(last, _)| *last != id) {
            keys.push((
                id,
                ForeignKey {
                    columns: Vec::new(),
                    table,
                    to_columns: Vec::new(),
                },
            ));
        }
        let fk = &mut keys.last_mut().expect("pushed above").1;
        fk.columns.push(from);
        fk.to_columns.extend(to);
    }
    keys.reverse(); // the pragma numbers keys from the last declared
    Ok(Table {
        name: name.to_owned(),
        columns,
        primary_key: key.into_iter().map(|(_, c)| c).collect(),
        indexes: indexes.into_iter().map(|(_, i)| i).collect(),
        foreign_keys: keys.into_iter().map(|(_, k)| k).collect(),
    })
}

/// Every difference between an imported table and the live one, ignoring what an adoption
/// adds (`_sync_` columns, their indexes).
fn table_differences(expected: &Table, live: &Table, out: &mut Vec<String>) {
    let t = &expected.name;
    let find = |table: &'_ Table, name: &str| -> Option<usize> {
        table
            .columns
            .iter()
            .position(|c| c.name.eq_ignore_ascii_case(name))
    };
    for column in &expected.columns {
        let c = &column.name;
        let Some(at) = find(live, c) else {
            out.push(format!("table `{t}`: column `{c}` was dropped or renamed"));
            continue;
        };
        let found = &live.columns[at];
        if !found
            .declared_type
            .eq_ignore_ascii_case(&column.declared_type)
        {
            out.push(format!(
                "table `{t}` column `{c}`: imported as `{}`, now `{}`",
                column.declared_type, found.declared_type
            ));
        }
        if found.not_null != column.not_null {
            let says = |n: bool| if n { "NOT NULL" } else { "nullable" };
            out.push(format!(
                "table `{t}` column `{c}`: imported {}, now {}",
                says(column.not_null),
                says(found.not_null)
            ));
        }
        if found.default_sql != column.default_sql {
            let says = |d: &Option<String>| d.clone().unwrap_or_else(|| "no default".into());
            out.push(format!(
                "table `{t}` column `{c}`: imported with default `{}`, now `{}`",
                says(&column.default_sql),
                says(&found.default_sql)
            ));
        }
    }
    for column in &live.columns {
        if find(expected, &column.name).is_none() && !column.name.starts_with(SYNC_PREFIX) {
            out.push(format!(
                "table `{t}`: column `{}` was added since the import",
                column.name
            ));
        }
    }
    if expected.primary_key != live.primary_key {
        out.push(format!(
            "table `{t}`: primary key imported as ({}), now ({})",
            expected.primary_key.join(", "),
            live.primary_key.join(", ")
        ));
    }
    fn shape(indexes: &[Index]) -> Vec<&Index> {
        let mut v: Vec<&Index> = indexes
            .iter()
            .filter(|i| !i.columns.iter().any(|c| c.starts_with(SYNC_PREFIX)))
            .collect();
        v.sort();
        v
    }
    let (imported, now) = (shape(&expected.indexes), shape(&live.indexes));
    let describe = |i: &Index| {
        format!(
            "{}index on ({})",
            if i.unique { "unique " } else { "" },
            i.columns.join(", ")
        )
    };
    for index in imported.iter().filter(|i| !now.contains(i)) {
        out.push(format!("table `{t}`: {} was dropped", describe(index)));
    }
    for index in now.iter().filter(|i| !imported.contains(i)) {
        out.push(format!(
            "table `{t}`: {} was added since the import",
            describe(index)
        ));
    }
    for fk in expected
        .foreign_keys
        .iter()
        .filter(|k| !live.foreign_keys.contains(k))
    {
        out.push(format!(
            "table `{t}`: foreign key ({}) -> `{}` was dropped or changed",
            fk.columns.join(", "),
            fk.table
        ));
    }
    for fk in live
        .foreign_keys
        .iter()
        .filter(|k| !expected.foreign_keys.contains(k))
    {
        out.push(format!(
            "table `{t}`: foreign key ({}) -> `{}` was added since the import",
            fk.columns.join(", "),
            fk.table
        ));
    }
}
