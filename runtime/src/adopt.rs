//! Adopting an existing app's database: the runtime side of `syncwright import`.
//!
//! `syncwright import` writes an import snapshot (`schema/import.json`: the app's tables as
//! they were), and the project's first release (`migrations/0001_<name>.sql`) is the adoption:
//! additive SQL that keeps the app's keys and adds `_sync_`-prefixed sync columns, backfilled.
//! The migration runner takes both through [`AdoptedMigrations`] (the build.rs module's
//! `MIGRATIONS` of an adopted project): a database holding the app's tables and no syncwright
//! bookkeeping is recognised by its snapshot and adopted with step 1, then upgraded like any
//! other. [`adopt`] does the same adoption on its own, from the two files:
//!
//! 1. Read-only, the live schema is compared with the snapshot. Any difference in an imported
//!    table (a column added, retyped or dropped, a key, index or foreign key changed, a table
//!    gone) refuses the database with every difference listed
//!    ([`Error::AdoptedSchemaChanged`]); nothing is written. Tables the snapshot does not
//!    cover are left alone, named in a `tracing` warning and in [`AdoptionReport::uncovered`].
//! 2. The runtime's own tables are created (their versioned steps, as for any database).
//! 3. The adoption migration runs in one `BEGIN IMMEDIATE` transaction together with its
//!    `_sync_adoption` row and its record as migration 1 (`_sync_migrations`,
//!    `user_version = 1`): a crash leaves the database as the app had it, or adopted at
//!    version 1.
//!
//! Adopting an adopted database again does nothing (the same migration's checksum is
//! recorded); a database adopted by another migration is refused.

use std::time::SystemTime;

use rusqlite::{Connection, OptionalExtension, TransactionBehavior};
use serde::Deserialize;

use crate::clock::to_millis;
use crate::migrate;
use crate::migration::{MigrationRef, MigrationSet, MigrationSource, checksum};
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

/// The import snapshot an adopted project's migrations carry (see [`AdoptedMigrations`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AdoptionRef<'a> {
    /// The import snapshot, `schema/import.json`.
    pub snapshot: &'a str,
    /// `[adopted] existing_rows` (`pending` or `synced`), recorded with the adoption.
    pub existing_rows: &'a str,
}

/// The migrations of an adopted project: its releases, whose step 1 is the adoption, and the
/// import snapshot. Opening the app's database with them recognises its tables (they match the
/// snapshot), adopts them with step 1 and runs the later steps, like any upgrade; a database
/// adopted before is at version 1 or later, and an empty one gets the fresh-install schema.
///
/// ```
/// # use syncwright::{AdoptedMigrations, Migration, Migrations};
/// const MIGRATIONS: AdoptedMigrations<'static, Migrations> = AdoptedMigrations {
///     migrations: Migrations {
///         version: 1,
///         schema: Migration { version: 1, name: "schema", sql: "", checksum: "" },
///         steps: &[Migration { version: 1, name: "adopt", sql: "", checksum: "" }],
///         entities: &[],
///     },
///     snapshot: r#"{ "tables": [] }"#,
///     existing_rows: "pending",
/// };
/// # assert_eq!(MIGRATIONS.migrations.version, 1);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AdoptedMigrations<'a, M> {
    /// The project's releases; step 1 is the adoption.
    pub migrations: M,
    /// The import snapshot, `schema/import.json`.
    pub snapshot: &'a str,
    /// `[adopted] existing_rows`.
    pub existing_rows: &'a str,
}

impl<M: MigrationSource> MigrationSource for AdoptedMigrations<'_, M> {
    fn migration_set(&self) -> MigrationSet<'_> {
        MigrationSet {
            adoption: Some(AdoptionRef {
                snapshot: self.snapshot,
                existing_rows: self.existing_rows,
            }),
            ..self.migrations.migration_set()
        }
    }

    fn entities(&self) -> &[&'static crate::EntityDescriptor] {
        self.migrations.entities()
    }
}

fn parse_snapshot(text: &str) -> Result<Snapshot> {
    serde_json::from_str(text).map_err(|e| Error::InvalidAdoption {
        reason: format!(
            "the snapshot is not an import snapshot written by `syncwright import` (line {}, \
             column {}): {e}",
            e.line(),
            e.column()
        ),
    })
}

/// Whether `conn` holds the app's tables still to be adopted: tables but no syncwright
/// bookkeeping. Read-only; a database whose tables differ from the snapshot is refused with
/// the differences ([`Error::AdoptedSchemaChanged`]).
pub(crate) fn awaiting_adoption(conn: &Connection, adoption: &AdoptionRef<'_>) -> Result<bool> {
    let bookkeeping = "SELECT 1 FROM sqlite_master WHERE type = 'table' \
                       AND name IN ('_sync_migrations', '_sync_runtime')";
    let ours = conn
        .query_row(bookkeeping, [], |_| Ok(()))
        .optional()
        .map_err(Error::sql(bookkeeping))?
        .is_some();
    if ours || app_tables(conn)?.is_empty() {
        return Ok(false);
    }
    let snapshot = parse_snapshot(adoption.snapshot)?;
    refuse_changed(conn, &snapshot)?;
    Ok(true)
}

/// Runs step 1 of `set`, the adoption, on the app's tables (see [`adopt_in_transaction`]);
/// returns the version the database is at afterwards.
pub(crate) fn adopt_step(
    conn: &mut Connection,
    set: &MigrationSet<'_>,
    adoption: &AdoptionRef<'_>,
    now: SystemTime,
) -> Result<u32> {
    let step = set.steps.first().ok_or_else(|| Error::InvalidAdoption {
        reason: "the migrations have no step 1 to adopt the app's tables with".to_owned(),
    })?;
    let snapshot = parse_snapshot(adoption.snapshot)?;
    let tables: Vec<String> = snapshot.tables.iter().map(|t| t.name.clone()).collect();
    adopt_in_transaction(conn, step, &tables, adoption.existing_rows, now)?;
    migrate::current_version(conn)
}

/// A database adopted by [`adopt`] before its project's first release was recorded as such
/// (`_sync_adoption`, `user_version` 0): it is at version 1 when its adoption is step 1.
pub(crate) fn record_earlier_adoption(
    conn: &mut Connection,
    set: &MigrationSet<'_>,
    now: SystemTime,
) -> Result<u32> {
    let Some(recorded) = recorded_adoption(conn)? else {
        return Ok(0);
    };
    let Some(step) = set.steps.first().filter(|s| s.checksum == recorded) else {
        return Err(Error::InvalidAdoption {
            reason: format!(
                "it was adopted by another adoption migration (checksum {recorded}) than this \
                 app's step 1; open it with the migrations it was adopted with"
            ),
        });
    };
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(Error::sql("BEGIN IMMEDIATE"))?;
    if migrate::current_version(&tx)? == 0 {
        record_step(&tx, step, now)?;
    }
    tx.commit().map_err(Error::sql("COMMIT"))?;
    Ok(step.version)
}

/// Records `step` as applied: its `_sync_migrations` row and `user_version`.
fn record_step(conn: &Connection, step: &MigrationRef<'_>, now: SystemTime) -> Result<()> {
    conn.execute_batch(migrate::CREATE_HISTORY)
        .map_err(Error::sql(migrate::CREATE_HISTORY))?;
    let insert = "INSERT OR IGNORE INTO _sync_migrations (version, name, checksum, applied_at) \
                  VALUES (?1, ?2, ?3, ?4)";
    conn.execute(
        insert,
        (step.version, step.name, step.checksum, to_millis(now)),
    )
    .map_err(Error::sql(insert))?;
    let bump = format!("PRAGMA user_version = {}", step.version);
    conn.execute_batch(&bump).map_err(Error::sql(&bump))
}

/// Runs the adoption `step` in one `BEGIN IMMEDIATE` transaction with its `_sync_adoption`
/// row and its record as migration 1: a crash leaves the database as the app had it, or
/// adopted at version 1. Does nothing when another connection adopted it meanwhile.
fn adopt_in_transaction(
    conn: &mut Connection,
    step: &MigrationRef<'_>,
    tables: &[String],
    existing_rows: &str,
    now: SystemTime,
) -> Result<()> {
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(Error::sql("BEGIN IMMEDIATE"))?;
    if recorded_adoption(&tx)?.is_none() {
        migrate::apply(&tx, step, &mut |_| {})?;
        let insert = "INSERT INTO _sync_adoption (checksum, tables, existing_rows, adopted_at) \
                      VALUES (?1, ?2, ?3, ?4)";
        let names = serde_json::to_string(tables).expect("names serialize");
        tx.execute(
            insert,
            (step.checksum, names, existing_rows, to_millis(now)),
        )
        .map_err(Error::sql(insert))?;
        record_step(&tx, step, now)?;
    }
    tx.commit().map_err(Error::sql("COMMIT"))
}

/// Refuses `conn` when an imported table differs from the snapshot, every difference listed.
fn refuse_changed(conn: &Connection, snapshot: &Snapshot) -> Result<()> {
    let live_names = app_tables(conn)?;
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
    if differences.is_empty() {
        Ok(())
    } else {
        Err(Error::AdoptedSchemaChanged { differences })
    }
}

pub(crate) fn adopt_at(
    conn: &mut Connection,
    adoption: &Adoption<'_>,
    now: SystemTime,
) -> Result<AdoptionReport> {
    let snapshot = parse_snapshot(adoption.snapshot)?;
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
    refuse_changed(conn, &snapshot)?;
    runtime_tables::upgrade(conn, now)?;
    let step = MigrationRef {
        version: 1,
        name: "adopt",
        sql: adoption.migration,
        checksum: &sum,
    };
    adopt_in_transaction(conn, &step, &tables, adoption.existing_rows, now)?;
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
