//! The migration runner: brings a database to the app's schema version without losing data.
//!
//! Rules, in order:
//! 1. The migration set is checked on its own ([`MigrationSet::check`]).
//! 2. The database is inspected *read-only*: a file that is not SQLite is an
//!    [`Error::NotADatabase`], a database with tables but no syncwright bookkeeping (another
//!    app's) an [`Error::ForeignDatabase`], a version above the app's is a
//!    [`Error::Downgrade`], a `_sync_migrations` history that is not exactly `1..=user_version`
//!    is an [`Error::HistoryGap`], a recorded checksum that differs from the app's step is an
//!    [`Error::ChecksumMismatch`]. A refused database is left byte-for-byte untouched.
//! 3. The runtime's own tables are brought up to date first, by their own versioned steps
//!    (see `docs/contracts.md`); the app's migrations never create them.
//! 4. An empty database (version 0, no history) gets `schema.sql` in one transaction, and the
//!    history records every step `1..=N` (name and checksum of the step), since the fresh
//!    schema stands for them; a later tampered step is then detected on every install.
//! 5. Otherwise each missing step runs in its own `BEGIN IMMEDIATE` transaction together with
//!    its `PRAGMA user_version` bump and its `_sync_migrations` row. A crash leaves the
//!    database at the old or the new version, never between.
//!
//! Files are run statement by statement (split as SQLite does, never by line): the
//! `BEGIN;`/`COMMIT;` statements are left out; an `ALTER TABLE "t" ADD COLUMN "c" ...` statement
//! is skipped when `t.c` already exists, and an `ALTER TABLE "t" DROP COLUMN "c";` statement
//! when it is already gone.

use std::collections::BTreeMap;
use std::time::SystemTime;

use rusqlite::{Connection, OptionalExtension, TransactionBehavior};

use crate::clock::to_millis;
use crate::entity::{EntityDescriptor, IndexDescriptor, quote};
use crate::error::Drift;
use crate::foreign::refuse_foreign;
use crate::migration::{Chunk, MigrationRef, MigrationSet, MigrationSource, chunks};
use crate::runtime_tables;
use crate::{Error, Result};

pub(crate) const CREATE_HISTORY: &str = "CREATE TABLE IF NOT EXISTS \"_sync_migrations\" (\
     \"version\" INTEGER PRIMARY KEY, \"name\" TEXT NOT NULL, \"checksum\" TEXT NOT NULL, \
     \"applied_at\" INTEGER NOT NULL)";

/// Where a migration run is, reported to the progress callback after every statement.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Progress<'a> {
    /// The version the running migration leads to.
    pub version: u32,
    /// The running migration's name (`schema` for a fresh install).
    pub name: &'a str,
    /// 1-based position of the running migration among those this run applies.
    pub migration: usize,
    /// How many migrations this run applies.
    pub migrations: usize,
    /// Statements of the running migration executed so far (0 when it starts; every
    /// statement of the migration once it committed).
    pub statements_done: usize,
    /// Whether the running migration has committed.
    pub committed: bool,
}

/// What a migration run did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MigrationReport {
    /// The version before the run.
    pub from: u32,
    /// The version after the run.
    pub to: u32,
    /// Whether the database was empty and got `schema.sql`.
    pub fresh: bool,
}

/// The schema version of a database (`PRAGMA user_version`).
pub fn current_version(conn: &Connection) -> Result<u32> {
    let sql = "PRAGMA user_version";
    let v: i64 = conn
        .query_row(sql, [], |r| r.get(0))
        .map_err(Error::sql(sql))?;
    Ok(u32::try_from(v).unwrap_or(0))
}

/// Brings `conn` to the latest version of `migrations` (see the module docs for the rules).
pub fn to_latest(
    conn: &mut Connection,
    migrations: &impl MigrationSource,
) -> Result<MigrationReport> {
    run(
        conn,
        &migrations.migration_set(),
        SystemTime::now(),
        &mut |_| {},
    )
}

/// [`to_latest`] with a callback called after every statement and every commit, for a
/// progress indicator during long migrations (backfills of big tables).
pub fn to_latest_with_progress(
    conn: &mut Connection,
    migrations: &impl MigrationSource,
    progress: &mut dyn FnMut(&Progress<'_>),
) -> Result<MigrationReport> {
    run(
        conn,
        &migrations.migration_set(),
        SystemTime::now(),
        progress,
    )
}

#[derive(Debug)]
struct Applied {
    version: u32,
    name: String,
    checksum: String,
}

fn history(conn: &Connection) -> Result<Vec<Applied>> {
    let exists = "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = '_sync_migrations'";
    let found = conn
        .query_row(exists, [], |_| Ok(()))
        .optional()
        .map_err(Error::sql(exists))?;
    if found.is_none() {
        return Ok(Vec::new());
    }
    let sql = "SELECT version, name, checksum FROM _sync_migrations ORDER BY version";
    let mut stmt = conn.prepare(sql).map_err(Error::sql(sql))?;
    let rows = stmt
        .query_map([], |r| {
            Ok(Applied {
                version: u32::try_from(r.get::<_, i64>(0)?).unwrap_or(u32::MAX),
                name: r.get(1)?,
                checksum: r.get(2)?,
            })
        })
        .and_then(Iterator::collect)
        .map_err(Error::sql(sql))?;
    Ok(rows)
}

/// The read-only checks of rule 2; returns the database version.
pub(crate) fn verify(conn: &Connection, set: &MigrationSet<'_>) -> Result<u32> {
    if let Some(adoption) = &set.adoption
        && crate::adopt::awaiting_adoption(conn, adoption)?
    {
        return Ok(0);
    }
    refuse_foreign(conn)?;
    runtime_tables::verify(conn)?;
    let version = current_version(conn)?;
    if version > set.version {
        return Err(Error::Downgrade {
            database_version: version,
            app_version: set.version,
        });
    }
    let applied = history(conn)?;
    let recorded: Vec<u32> = applied.iter().map(|a| a.version).collect();
    let missing: Vec<u32> = (1..=version).filter(|v| !recorded.contains(v)).collect();
    let unexpected: Vec<u32> = recorded
        .iter()
        .copied()
        .filter(|&v| v == 0 || v > version)
        .collect();
    if !missing.is_empty() || !unexpected.is_empty() {
        return Err(Error::HistoryGap {
            database_version: version,
            recorded,
            missing,
            unexpected,
        });
    }
    for a in &applied {
        let Some(step) = set.steps.iter().find(|s| s.version == a.version) else {
            continue; // unreachable after `check`: steps cover 1..=set.version
        };
        if step.checksum != a.checksum {
            return Err(Error::ChecksumMismatch {
                version: a.version,
                applied_name: a.name.clone(),
                applied_checksum: a.checksum.clone(),
                expected_name: step.name.to_owned(),
                expected_checksum: step.checksum.to_owned(),
            });
        }
    }
    Ok(version)
}

pub(crate) fn run(
    conn: &mut Connection,
    set: &MigrationSet<'_>,
    now: SystemTime,
    progress: &mut dyn FnMut(&Progress<'_>),
) -> Result<MigrationReport> {
    set.check()?;
    // The app's tables of an adopted project, as the import snapshot has them: step 1, the
    // adoption, takes them as they are instead of a fresh install creating them.
    let awaiting = match &set.adoption {
        Some(adoption) => crate::adopt::awaiting_adoption(conn, adoption)?,
        None => false,
    };
    let from = verify(conn, set)?;
    // The runtime's own tables come first: the app's migrations never create them (those of
    // release 0.1.0 did, with `IF NOT EXISTS`, which then does nothing).
    runtime_tables::upgrade(conn, now)?;
    let start = match &set.adoption {
        Some(adoption) if awaiting => crate::adopt::adopt_step(conn, set, adoption, now)?,
        Some(_) if from == 0 => crate::adopt::record_earlier_adoption(conn, set, now)?,
        _ => from,
    };
    let fresh = start == 0;
    let plan: Vec<&MigrationRef<'_>> = if fresh {
        vec![&set.schema]
    } else {
        set.steps.iter().filter(|s| s.version > start).collect()
    };
    let total = plan.len();
    for (index, migration) in plan.into_iter().enumerate() {
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(Error::sql("BEGIN IMMEDIATE"))?;
        // Another connection may have migrated while we waited for the write lock.
        let at = current_version(&tx)?;
        let before = if fresh { 0 } else { migration.version - 1 };
        if at != before {
            drop(tx);
            verify(conn, set)?;
            continue;
        }
        let mut report = |statements_done, committed| {
            progress(&Progress {
                version: migration.version,
                name: migration.name,
                migration: index + 1,
                migrations: total,
                statements_done,
                committed,
            });
        };
        report(0, false);
        tx.execute_batch(CREATE_HISTORY)
            .map_err(Error::sql(CREATE_HISTORY))?;
        let statements = apply(&tx, migration, &mut |done| report(done, false))?;
        let bump = format!("PRAGMA user_version = {}", migration.version);
        tx.execute_batch(&bump).map_err(Error::sql(&bump))?;
        let records: Vec<&MigrationRef<'_>> = if fresh {
            set.steps.iter().collect()
        } else {
            vec![migration]
        };
        let insert = "INSERT INTO _sync_migrations (version, name, checksum, applied_at) VALUES (?1, ?2, ?3, ?4)";
        for r in records {
            tx.execute(insert, (r.version, r.name, r.checksum, to_millis(now)))
                .map_err(Error::sql(insert))?;
        }
        tx.commit().map_err(Error::sql("COMMIT"))?;
        report(statements, true);
    }
    Ok(MigrationReport {
        from,
        to: current_version(conn)?,
        fresh: fresh && total > 0,
    })
}

/// Runs the statements of one migration file on `conn` (inside the caller's transaction);
/// returns how many it counted.
pub(crate) fn apply(
    conn: &Connection,
    migration: &MigrationRef<'_>,
    progress: &mut dyn FnMut(usize),
) -> Result<usize> {
    let failed = |sql: &str| {
        let sql = sql.to_owned();
        move |source| Error::MigrationFailed {
            version: migration.version,
            name: migration.name.to_owned(),
            sql,
            source,
        }
    };
    let mut done = 0;
    for chunk in chunks(migration.sql) {
        let run = match &chunk {
            Chunk::AddColumn { table, column, sql } => {
                (!column_exists(conn, table, column)?).then_some(*sql)
            }
            Chunk::DropColumn { table, column, sql } => {
                column_exists(conn, table, column)?.then_some(*sql)
            }
            Chunk::Statement(sql) => Some(*sql),
        };
        if let Some(sql) = run {
            conn.execute_batch(sql).map_err(failed(sql))?;
        }
        done += 1;
        progress(done);
    }
    Ok(done)
}

fn column_exists(conn: &Connection, table: &str, column: &str) -> Result<bool> {
    let sql = "SELECT 1 FROM pragma_table_info(?1) WHERE name = ?2";
    Ok(conn
        .query_row(sql, (table, column), |_| Ok(()))
        .optional()
        .map_err(Error::sql(sql))?
        .is_some())
}

/// Checks that the runtime tables and every table, column and index `entities` need exist,
/// reporting everything missing at once as [`Error::SchemaDrift`].
pub fn check_drift(conn: &Connection, entities: &[&EntityDescriptor]) -> Result<()> {
    let mut missing = Vec::new();
    for table in runtime_tables::TABLES {
        check_table(
            conn,
            table.name,
            table.current_columns().map(|c| c.name),
            table.current_indexes(),
            &mut missing,
        )?;
    }
    for entity in entities {
        let columns = entity
            .sync_columns()
            .chain(entity.columns.iter().map(|c| c.name));
        check_table(
            conn,
            entity.table,
            columns,
            entity.indexes.iter(),
            &mut missing,
        )?;
    }
    if missing.is_empty() {
        Ok(())
    } else {
        Err(Error::SchemaDrift { missing })
    }
}

fn names(conn: &Connection, sql: &str, table: &str) -> Result<Vec<String>> {
    let mut stmt = conn.prepare(sql).map_err(Error::sql(sql))?;
    let names = stmt
        .query_map([table], |r| r.get::<_, String>(0))
        .and_then(Iterator::collect)
        .map_err(Error::sql(sql))?;
    Ok(names)
}

/// The indexes of `table`: each one's columns (in index order) and whether it is unique.
fn index_shapes(conn: &Connection, table: &str) -> Result<Vec<(Vec<String>, bool)>> {
    let sql = "SELECT l.name, l.\"unique\", i.name FROM pragma_index_list(?1) AS l, \
               pragma_index_info(l.name) AS i ORDER BY l.name, i.seqno";
    let mut stmt = conn.prepare(sql).map_err(Error::sql(sql))?;
    let rows: Vec<(String, bool, Option<String>)> = stmt
        .query_map([table], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .and_then(Iterator::collect)
        .map_err(Error::sql(sql))?;
    let mut shapes: BTreeMap<String, (Vec<String>, bool)> = BTreeMap::new();
    for (index, unique, column) in rows {
        let shape = shapes.entry(index).or_insert_with(|| (Vec::new(), unique));
        // An expression column has no name; it never equals a declared column.
        shape.0.push(column.unwrap_or_default());
    }
    Ok(shapes.into_values().collect())
}

fn check_table<'a>(
    conn: &Connection,
    table: &str,
    columns: impl Iterator<Item = &'a str>,
    indexes: impl Iterator<Item = &'a IndexDescriptor>,
    missing: &mut Vec<Drift>,
) -> Result<()> {
    let present = names(conn, "SELECT name FROM pragma_table_info(?1)", table)?;
    if present.is_empty() {
        missing.push(Drift::Table {
            table: table.to_owned(),
        });
        return Ok(());
    }
    for column in columns {
        if !present.iter().any(|p| p == column) {
            missing.push(Drift::Column {
                table: table.to_owned(),
                column: column.to_owned(),
            });
        }
    }
    // Matched by shape, not by name: a change of the generator's index naming must not strand
    // a database whose indexes are right under their old names.
    let shapes = index_shapes(conn, table)?;
    for index in indexes {
        let found = shapes.iter().any(|(columns, unique)| {
            *unique == index.unique
                && columns
                    .iter()
                    .map(String::as_str)
                    .eq(index.columns.iter().copied())
        });
        if !found {
            missing.push(Drift::Index {
                table: table.to_owned(),
                index: index.name.to_owned(),
            });
        }
    }
    Ok(())
}

/// Checks a migration set the way users should in their own test suite:
///
/// - the set is consistent (checksums, steps `1..=N`, schema at `N`);
/// - `schema.sql` applies to an empty database, and so do all steps in order;
/// - every step can run a second time (idempotency, as after a partial application);
/// - the fresh schema and the upgraded schema have the same tables, columns (type, `NOT NULL`,
///   default, primary key), indexes and triggers (by name and SQL);
/// - `entities` find every column and index they need in both.
///
/// ```
/// # fn main() -> syncwright::Result<()> {
/// let migrations = syncwright::Migrations::from_dir(
///     concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/tasks-notes/migrations"),
/// )?;
/// syncwright::validate(&migrations, &[])?;
/// # Ok(()) }
/// ```
pub fn validate(migrations: &impl MigrationSource, entities: &[&EntityDescriptor]) -> Result<()> {
    let set = migrations.migration_set();
    set.check()?;
    let mut fresh = Connection::open_in_memory()?;
    run(&mut fresh, &set, SystemTime::now(), &mut |_| {})?;
    let mut upgraded = Connection::open_in_memory()?;
    runtime_tables::upgrade(&mut upgraded, SystemTime::now())?;
    for step in &set.steps {
        for _ in 0..2 {
            let tx = upgraded.unchecked_transaction()?;
            apply(&tx, step, &mut |_| {})?;
            tx.commit()?;
        }
    }
    let (a, b) = (describe(&fresh)?, describe(&upgraded)?);
    if a != b {
        let mut diffs = Vec::new();
        for (key, value) in &a {
            match b.get(key) {
                None => diffs.push(format!("{key} exists only in the fresh schema")),
                Some(other) if other != value => {
                    diffs.push(format!("{key} differs: fresh {value}, upgraded {other}"));
                }
                Some(_) => {}
            }
        }
        diffs.extend(
            b.keys()
                .filter(|k| !a.contains_key(*k))
                .map(|k| format!("{k} exists only after the upgrade steps")),
        );
        return Err(Error::InvalidMigrations {
            reason: format!("schema.sql and the steps disagree: {}", diffs.join("; ")),
        });
    }
    check_drift(&fresh, entities)?;
    check_drift(&upgraded, entities)
}

/// A comparable description of every table column, index and trigger of a database.
fn describe(conn: &Connection) -> Result<BTreeMap<String, String>> {
    let mut out = BTreeMap::new();
    let sql = "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name <> '_sync_migrations'";
    let tables: Vec<String> = {
        let mut stmt = conn.prepare(sql).map_err(Error::sql(sql))?;
        stmt.query_map([], |r| r.get(0))
            .and_then(Iterator::collect)
            .map_err(Error::sql(sql))?
    };
    for table in tables {
        let sql = "SELECT name, type, \"notnull\", dflt_value, pk FROM pragma_table_info(?1)";
        let mut stmt = conn.prepare(sql).map_err(Error::sql(sql))?;
        let columns: Vec<(String, String)> = stmt
            .query_map([&table], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    format!(
                        "{} notnull={} default={:?} pk={}",
                        r.get::<_, String>(1)?,
                        r.get::<_, i64>(2)?,
                        r.get::<_, Option<String>>(3)?,
                        r.get::<_, i64>(4)?
                    ),
                ))
            })
            .and_then(Iterator::collect)
            .map_err(Error::sql(sql))?;
        for (column, desc) in columns {
            out.insert(format!("column {}.{}", quote(&table), quote(&column)), desc);
        }
        let sql = "SELECT l.name, l.\"unique\", l.partial, group_concat(i.name, ',') \
                   FROM pragma_index_list(?1) AS l, pragma_index_info(l.name) AS i GROUP BY l.name";
        let mut stmt = conn.prepare(sql).map_err(Error::sql(sql))?;
        let indexes: Vec<(String, String)> = stmt
            .query_map([&table], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    format!(
                        "unique={} partial={} columns={}",
                        r.get::<_, i64>(1)?,
                        r.get::<_, i64>(2)?,
                        r.get::<_, Option<String>>(3)?.unwrap_or_default()
                    ),
                ))
            })
            .and_then(Iterator::collect)
            .map_err(Error::sql(sql))?;
        for (index, desc) in indexes {
            out.insert(
                format!("index {} on {}", quote(&index), quote(&table)),
                desc,
            );
        }
        // Triggers check the values of typed fields; both paths create them with one statement,
        // so their SQL must match too.
        let sql = "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = ?1";
        let mut stmt = conn.prepare(sql).map_err(Error::sql(sql))?;
        let triggers: Vec<(String, String)> = stmt
            .query_map([&table], |r| Ok((r.get(0)?, r.get(1)?)))
            .and_then(Iterator::collect)
            .map_err(Error::sql(sql))?;
        for (trigger, sql) in triggers {
            out.insert(
                format!("trigger {} on {}", quote(&trigger), quote(&table)),
                sql,
            );
        }
    }
    Ok(out)
}
