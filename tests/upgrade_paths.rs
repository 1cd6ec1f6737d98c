//! Every upgrade path of the field-service fixture, with data: for each pair of versions
//! i < j, a database created at vi and filled with rows is upgraded to vj with the checked-in
//! migration files, then compared with a fresh vj database.

mod support;

use rusqlite::Connection;
use support::*;

/// A vi database as the app released at vi created it, filled with rows.
fn database_at(
    dir: &std::path::Path,
    history: &syncwright_codegen::history::History,
    version: u32,
) -> Connection {
    let conn = open(&dir.join(format!("upgraded-from-v{version}.db")));
    conn.execute_batch(&sqlite3_fresh_sql(history, version))
        .unwrap_or_else(|e| panic!("fresh v{version} schema: {e}"));
    conn.execute_batch("BEGIN").unwrap();
    fill(&conn, &history.get(version).unwrap().tables);
    conn.execute_batch("COMMIT").unwrap();
    conn
}

fn fresh_database(history: &syncwright_codegen::history::History, version: u32) -> Connection {
    let conn = Connection::open_in_memory().unwrap();
    conn.execute_batch(&sqlite3_fresh_sql(history, version))
        .unwrap();
    conn
}

fn upgrade(conn: &Connection, from: u32, to: u32) {
    for version in from + 1..=to {
        let path = step_file(version);
        let sql = std::fs::read_to_string(&path).unwrap();
        // Each file is atomic on its own (BEGIN; ... COMMIT;).
        conn.execute_batch(&sql)
            .unwrap_or_else(|e| panic!("{} on a v{} database: {e}", path.display(), version - 1));
        assert_eq!(
            user_version(conn),
            version,
            "{} bumps the version",
            path.display()
        );
    }
}

#[test]
fn every_upgrade_path_keeps_every_row_and_ends_at_the_fresh_schema() {
    let history = history();
    let latest = history.latest_version();
    assert_eq!(latest, 5, "the fixture has a five-version history");
    let dir = tempfile::tempdir().unwrap();
    let mut paths = 0;
    for from in 1..latest {
        for to in from + 1..=latest {
            let context = format!("v{from} -> v{to}");
            let _ = std::fs::remove_file(dir.path().join(format!("upgraded-from-v{from}.db")));
            let conn = database_at(dir.path(), &history, from);
            let before = rows(&conn);
            upgrade(&conn, from, to);

            // (a) the same schema as a fresh install of vj.
            let fresh = fresh_database(&history, to);
            schema_description::assert_same(
                &schema(&conn),
                "upgraded",
                &schema(&fresh),
                &format!("fresh v{to}"),
                &context,
            );
            assert_eq!(user_version(&conn), to);
            // (b) every row and value survived, added columns hold their backfills.
            assert_rows_survived(&conn, &history, from, to, &before);
            // (c) the database is consistent.
            assert_consistent(&conn, &context);
            paths += 1;
        }
    }
    assert_eq!(paths, 10);
}

#[test]
fn a_fresh_install_equals_replaying_every_step_from_an_empty_database() {
    let history = history();
    for version in 1..=history.latest_version() {
        let replayed = Connection::open_in_memory().unwrap();
        replayed
            .execute_batch(&syncwright::runtime_tables_sql())
            .unwrap();
        upgrade(&replayed, 0, version);
        schema_description::assert_same(
            &schema(&replayed),
            &format!("steps 1..={version}"),
            &schema(&fresh_database(&history, version)),
            "the fresh schema",
            &format!("v{version}"),
        );
    }
}

#[test]
fn backfills_and_renames_fill_existing_rows() {
    let history = history();
    let dir = tempfile::tempdir().unwrap();
    let conn = database_at(dir.path(), &history, 1);
    upgrade(&conn, 1, 5);
    let slugs: Vec<(String, Option<String>)> = conn
        .prepare("SELECT name, slug FROM projects ORDER BY id")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(
        slugs[1],
        (
            "project name 1".to_string(),
            Some("project-name-1".to_string())
        )
    );
    let moved: i64 = conn
        .query_row(
            "SELECT count(*) FROM tasks WHERE details IS notes",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(
        moved, 5,
        "every task's `details` holds its `notes`, NULLs included"
    );
    let priorities: i64 = conn
        .query_row("SELECT count(*) FROM tasks WHERE priority = 0", [], |r| {
            r.get(0)
        })
        .unwrap();
    assert_eq!(priorities, 5, "tasks from v1 get the default priority");
}

#[test]
fn every_step_can_run_again_after_it_was_applied() {
    // A re-run after a partial application: the worst case is that every statement already
    // ran. Added columns that exist (and dropped ones that are gone) are skipped, as the
    // runtime does; everything else must be idempotent by itself.
    let history = history();
    let dir = tempfile::tempdir().unwrap();
    for version in 2..=history.latest_version() {
        let _ = std::fs::remove_file(
            dir.path()
                .join(format!("upgraded-from-v{}.db", version - 1)),
        );
        let conn = database_at(dir.path(), &history, version - 1);
        let sql = std::fs::read_to_string(step_file(version)).unwrap();
        conn.execute_batch(&sql).unwrap();
        let once = (schema(&conn), rows(&conn));
        apply_skipping_done(&conn, &sql);
        assert_eq!(
            (schema(&conn), rows(&conn)),
            once,
            "step {version} run twice"
        );
    }
}

#[test]
fn the_runtime_runner_installs_v1_then_upgrades_it_to_v5() {
    use syncwright::{Migrations, OwnedMigration, OwnedMigrations};
    let history = history();
    let dir = tempfile::tempdir().unwrap();
    let mut conn = open(&dir.path().join("runtime.db"));
    // The app as released at v1: its fresh schema and its one step.
    let v1 = OwnedMigrations {
        version: 1,
        schema: OwnedMigration::new(1, "schema", fresh_sql(&history, 1)),
        steps: vec![OwnedMigration::new(
            1,
            "init",
            std::fs::read_to_string(step_file(1)).unwrap(),
        )],
    };
    syncwright::migrate::to_latest(&mut conn, &v1).unwrap_or_else(|e| panic!("install v1: {e}"));
    conn.execute_batch("BEGIN").unwrap();
    fill(&conn, &history.get(1).unwrap().tables);
    conn.execute_batch("COMMIT").unwrap();
    let mut before = rows(&conn);
    before.remove("_sync_migrations");

    let latest = Migrations::from_dir(MIGRATIONS).unwrap_or_else(|e| panic!("{e}"));
    syncwright::migrate::to_latest(&mut conn, &latest).unwrap_or_else(|e| panic!("upgrade: {e}"));
    assert_eq!(user_version(&conn), 5);
    let bookkeeping = |line: &String| !line.contains("_sync_migrations");
    schema_description::assert_same(
        &schema(&conn)
            .into_iter()
            .filter(bookkeeping)
            .collect::<Vec<_>>(),
        "upgraded by the runtime",
        &schema(&fresh_database(&history, 5)),
        "fresh v5",
        "runtime v1 -> v5",
    );
    assert_rows_survived(&conn, &history, 1, 5, &before);
    assert_consistent(&conn, "runtime v1 -> v5");
    let recorded: i64 = conn
        .query_row("SELECT count(*) FROM _sync_migrations", [], |r| r.get(0))
        .unwrap();
    assert_eq!(recorded, 5);
}

#[test]
fn the_runtime_finishes_a_step_that_was_partly_applied_by_hand() {
    use syncwright::{Migrations, OwnedMigration, OwnedMigrations};
    let history = history();
    let dir = tempfile::tempdir().unwrap();
    let mut conn = open(&dir.path().join("partial.db"));
    let released_at = |version: u32| OwnedMigrations {
        version,
        schema: OwnedMigration::new(version, "schema", fresh_sql(&history, version)),
        steps: (1..=version)
            .map(|v| {
                let path = step_file(v);
                let name = path.file_stem().unwrap().to_string_lossy()[5..].to_string();
                OwnedMigration::new(v, name, std::fs::read_to_string(path).unwrap())
            })
            .collect(),
    };
    syncwright::migrate::to_latest(&mut conn, &released_at(4)).unwrap_or_else(|e| panic!("{e}"));
    conn.execute_batch("BEGIN").unwrap();
    fill(&conn, &history.get(4).unwrap().tables);
    conn.execute_batch("COMMIT").unwrap();
    // Someone ran the first statements of step 5 by hand (outside a transaction) and stopped:
    // the dropped column is already gone and one new table already exists.
    let step5 = std::fs::read_to_string(step_file(5)).unwrap();
    let drop = step5
        .lines()
        .find(|l| l.starts_with("ALTER TABLE \"projects\" DROP COLUMN"))
        .expect("step 5 drops the column deprecated in v4");
    conn.execute_batch("DROP INDEX IF EXISTS \"idx_projects_description\"")
        .unwrap();
    conn.execute_batch(drop).unwrap();
    assert_eq!(user_version(&conn), 4);

    let latest = Migrations::from_dir(MIGRATIONS).unwrap_or_else(|e| panic!("{e}"));
    syncwright::migrate::to_latest(&mut conn, &latest)
        .unwrap_or_else(|e| panic!("the runtime must skip the column that is already gone: {e}"));
    assert_eq!(user_version(&conn), 5);
    let bookkeeping = |line: &String| !line.contains("_sync_migrations");
    schema_description::assert_same(
        &schema(&conn)
            .into_iter()
            .filter(bookkeeping)
            .collect::<Vec<_>>(),
        "upgraded by the runtime",
        &schema(&fresh_database(&history, 5)),
        "fresh v5",
        "partly applied v5",
    );
    assert_consistent(&conn, "partly applied v5");
}
