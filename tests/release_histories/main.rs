//! The property behind every release: for random valid histories of spec changes (3 to 6
//! versions of new entities, new nullable or defaulted fields of every type, indexes and unique
//! indexes, renames through `renamed_from`, deprecations and the drops that follow them,
//! backfills, SQL-keyword and camelCase names), releasing version after version with
//! `migrate new` in a fresh project:
//!
//! - every release is accepted, and its SQL runs: the runtime's migration runner upgrades a
//!   database that holds rows written at every earlier version;
//! - after every release the upgraded database has the schema of a fresh install of
//!   `schema.sql` (compared with the bundled SQLite), every index the specs declare, and every
//!   row written so far with its values, as the specs say an upgrade carries them (renamed
//!   columns hold the old values, added ones their backfill or default);
//! - `check` passes on the released project, and fails once any released file (a snapshot, a
//!   migration, `schema.sql`, the lock) is deleted or edited.
//!
//! The default run tries 48 histories from a fixed seed, so it is deterministic and shrinks a
//! failure the same way every time; the failure prints the minimal history as the spec files
//! of each version. A longer run, as before a release of syncwright:
//!
//! ```sh
//! PROPTEST_CASES=1000 cargo test --release --test release_histories
//! ```
//!
//! (`PROPTEST_RNG_SEED=<n>` explores other histories.)

#[path = "../../codegen-cli/tests/migrate_support/mod.rs"]
mod migrate_support;
#[path = "../support/schema_description.rs"]
mod schema_description;

mod generate;
mod oracle;
mod spec;
mod tamper;

use proptest::prelude::*;
use proptest::test_runner::{Config, RngSeed};
use rusqlite::Connection;
use syncwright::migrate::to_latest;
use syncwright::{Migrations, OwnedMigrations};

use migrate_support::{Project, Specs as SpecFiles};
use oracle::Rows;
use spec::{History, Release};

/// Histories tried by default; `PROPTEST_CASES` overrides it.
const DEFAULT_CASES: u32 = 48;
/// The seed of the default run; `PROPTEST_RNG_SEED` overrides it.
const DEFAULT_SEED: u64 = 0x5eed_0008;

fn config() -> Config {
    let defaults = Config::default();
    Config {
        cases: if std::env::var_os("PROPTEST_CASES").is_some() {
            defaults.cases
        } else {
            DEFAULT_CASES
        },
        rng_seed: if std::env::var_os("PROPTEST_RNG_SEED").is_some() {
            defaults.rng_seed
        } else {
            RngSeed::Fixed(DEFAULT_SEED)
        },
        // The seed reproduces a failure; no regression files are written into the source tree.
        failure_persistence: None,
        max_shrink_iters: 512,
        ..defaults
    }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn every_release_of_a_random_history_upgrades_every_database_and_check_guards_it(
        history in generate::histories()
    ) {
        released(&history).map_err(TestCaseError::fail)?;
    }
}

/// Releases `history` version by version, checking everything the module docs list.
fn released(history: &History) -> Result<(), String> {
    let project = Project::new();
    let databases = tempfile::tempdir().unwrap();
    let mut conn = open(&databases.path().join("app.db"));
    let mut tables = Vec::new();
    let mut rows = Rows::default();
    for release in &history.releases {
        let v = release.version;
        let migrations = release_version(&project, release)?;
        to_latest(&mut conn, &migrations).map_err(|e| {
            format!(
                "v{v}: the runtime cannot upgrade the database with rows from v1..v{}: {e}",
                v - 1
            )
        })?;

        let (next, added) = oracle::next_tables(&tables, &release.specs);
        rows.upgrade(&next, &added);
        tables = next;
        rows.write(&conn, &tables)
            .map_err(|e| format!("v{v}: {e}"))?;
        rows.compare(&conn, &tables)
            .map_err(|e| format!("v{v}: {e}"))?;
        foreign_keys_hold(&conn).map_err(|e| format!("v{v}: {e}"))?;

        let mut fresh = Connection::open_in_memory().unwrap();
        to_latest(&mut fresh, &migrations)
            .map_err(|e| format!("v{v}: the runtime cannot install schema.sql: {e}"))?;
        let (upgraded, installed) = (
            schema_description::describe(&conn),
            schema_description::describe(&fresh),
        );
        if let Some(diff) = schema_description::difference(&upgraded, &installed) {
            return Err(format!(
                "v{v}: the upgraded database and a fresh install of schema.sql differ \
                 (- upgraded, + fresh):\n{diff}"
            ));
        }
        oracle::check_indexes(&fresh, &release.specs).map_err(|e| format!("v{v}: {e}"))?;
    }

    let latest = history.releases.last().unwrap().version;
    match syncwright_codegen::check(project.config()) {
        Ok(report) if report.version == latest => {}
        Ok(report) => {
            return Err(format!(
                "`check` says the project is at v{}, not v{latest}",
                report.version
            ));
        }
        Err(e) => {
            return Err(format!(
                "`check` fails on the released project:\n{}",
                project.report(&e)
            ));
        }
    }
    let unnoticed = tamper::unnoticed_tampering(project.dir.path());
    if !unnoticed.is_empty() {
        return Err(format!(
            "`check` accepts tampered released files:\n  {}",
            unnoticed.join("\n  ")
        ));
    }
    Ok(())
}

/// Writes the specs of `release`, releases it with `migrate new`, and reads the migrations the
/// app ships at that version.
fn release_version(project: &Project, release: &Release) -> Result<OwnedMigrations, String> {
    let v = release.version;
    let files: SpecFiles = release
        .specs
        .entities
        .iter()
        .map(|e| (e.file, e.toml()))
        .collect();
    project.write_specs(v, &files);
    syncwright_codegen::migrate_new(project.config(), &format!("release_{v}")).map_err(|e| {
        format!(
            "v{v}: `migrate new` refuses the release:\n{}",
            project.report(&e)
        )
    })?;
    Migrations::from_dir(project.path("migrations"))
        .map_err(|e| format!("v{v}: the runtime cannot read the released migrations: {e}"))
}

/// A database file as apps open it: foreign keys enforced.
fn open(path: &std::path::Path) -> Connection {
    let conn = Connection::open(path).unwrap();
    conn.pragma_update(None, "foreign_keys", true).unwrap();
    conn
}

/// `PRAGMA foreign_key_check` finds nothing.
fn foreign_keys_hold(conn: &Connection) -> Result<(), String> {
    let mut stmt = conn.prepare("PRAGMA foreign_key_check").unwrap();
    let problems: Vec<String> = stmt
        .query_map([], |r| {
            Ok(format!(
                "{}: rowid {:?} -> {}",
                r.get::<_, String>(0)?,
                r.get::<_, Option<i64>>(1)?,
                r.get::<_, String>(2)?
            ))
        })
        .unwrap()
        .map(Result::unwrap)
        .collect();
    if problems.is_empty() {
        Ok(())
    } else {
        Err(format!("foreign keys broken: {problems:?}"))
    }
}

/// The generator of histories reads the numbers proptest draws as valid histories only.
#[test]
fn all_zero_choices_read_as_a_small_valid_history() {
    let raw = vec![vec![(0u8, Vec::new())]; 3];
    let history = generate::interpret(&raw);
    assert_eq!(history.releases.len(), 3);
    let first = &history.releases[0];
    assert_eq!(first.specs.entities.len(), 1, "{history:?}");
    assert!(first.changes[0].starts_with("add entity"), "{history:?}");
    // Every later version adds an entity too, while the pool lasts.
    assert_eq!(history.releases[2].specs.entities.len(), 3, "{history:?}");
}
