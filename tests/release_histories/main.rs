//! The property behind every release: for random valid histories of spec changes (3 to 6
//! versions of new entities, new nullable or defaulted fields of every type, indexes and unique
//! indexes, renames through `renamed_from`, deprecations and the drops that follow them,
//! backfills, SQL-keyword and camelCase names), releasing version after version with
//! `migrate new` in a fresh project:
//!
//! - every release is accepted, and its SQL runs: the runtime's migration runner upgrades a
//!   database that holds rows written at every earlier version, and so does running the
//!   migration files as plain SQL (as the `sqlite3` program does);
//! - after every release both upgraded databases have the schema of a fresh install of
//!   `schema.sql` (compared with the bundled SQLite) and every row written so far with its
//!   values, as the specs say an upgrade carries them (renamed columns hold the old values,
//!   added ones their backfill or default); and every index the specs declare exists;
//! - `check` passes on the released project, and fails once any released file (a snapshot, a
//!   migration, `schema.sql`, the lock) is deleted or edited.
//!
//! The default run tries 64 histories (32 for the tampering) from a fixed seed, so it is
//! deterministic and shrinks a failure the same way every time; the failure prints the minimal
//! history as the spec files of each version. A longer run, as before a release of syncwright:
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

/// Histories tried by default by the properties on databases (fast) and by the one that
/// tampers with every released file (slower: some 50 `check` runs per history);
/// `PROPTEST_CASES` overrides both.
const DATABASE_CASES: u32 = 64;
const TAMPERING_CASES: u32 = 32;
/// The seed of the default run; `PROPTEST_RNG_SEED` overrides it.
const DEFAULT_SEED: u64 = 0x5eed_0008;

fn config(default_cases: u32) -> Config {
    let defaults = Config::default();
    Config {
        cases: if std::env::var_os("PROPTEST_CASES").is_some() {
            defaults.cases
        } else {
            default_cases
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

// Three properties over the same histories, so that one broken promise does not hide the
// others: each failure shrinks to its own minimal history.
proptest! {
    #![proptest_config(config(DATABASE_CASES))]

    #[test]
    fn a_database_filled_at_every_version_upgrades_to_the_fresh_schema_with_every_row(
        history in generate::histories()
    ) {
        upgrades_keep_every_row(&history).map_err(TestCaseError::fail)?;
    }

    #[test]
    fn every_index_the_specs_declare_exists_at_every_version(
        history in generate::histories()
    ) {
        release_each(&history, |release, migrations| {
            let mut fresh = Connection::open_in_memory().unwrap();
            to_latest(&mut fresh, migrations)
                .map_err(|e| format!("the runtime cannot install schema.sql: {e}"))?;
            oracle::check_indexes(&fresh, &release.specs)
        })
        .map_err(TestCaseError::fail)?;
    }
}

proptest! {
    #![proptest_config(config(TAMPERING_CASES))]

    #[test]
    fn check_passes_on_a_released_history_and_refuses_every_tampered_released_file(
        history in generate::histories()
    ) {
        check_guards_released_files(&history).map_err(TestCaseError::fail)?;
    }
}

/// Releases `history` version by version in a fresh project, calling `after` with each
/// release and the migrations the app ships at that version; returns the project.
fn release_each(
    history: &History,
    mut after: impl FnMut(&Release, &OwnedMigrations) -> Result<(), String>,
) -> Result<Project, String> {
    let project = Project::new();
    for release in &history.releases {
        let migrations = release_version(&project, release)?;
        after(release, &migrations).map_err(|e| format!("v{}: {e}", release.version))?;
    }
    Ok(project)
}

/// After every release, a database with rows from every earlier version, upgraded by the
/// runtime and by the migration files run as plain SQL, has the fresh install's schema and
/// every row with the values the specs say.
fn upgrades_keep_every_row(history: &History) -> Result<(), String> {
    let databases = tempfile::tempdir().unwrap();
    // One database upgraded by the runtime's migration runner, one by running each migration
    // file as plain SQL, as the `sqlite3` program (or a non-Rust app) does.
    let mut by_runtime = open(&databases.path().join("runtime.db"));
    let by_script = open(&databases.path().join("script.db"));
    let mut tables = Vec::new();
    let mut rows = Rows::default();
    release_each(history, |release, migrations| {
        let v = release.version;
        to_latest(&mut by_runtime, migrations).map_err(|e| {
            format!(
                "the runtime cannot upgrade the database with rows from v1..v{}: {e}",
                v - 1
            )
        })?;
        let step = migrations
            .steps
            .iter()
            .find(|step| step.version == v)
            .ok_or("no migration step for this version")?;
        by_script
            .execute_batch(&step.sql)
            .map_err(|e| format!("the migration file fails as plain SQL: {e}"))?;

        let (next, added) = oracle::next_tables(&tables, &release.specs);
        rows.upgrade(&next, &added);
        tables = next;
        rows.write(&[&by_runtime, &by_script], &tables)?;

        let mut fresh = Connection::open_in_memory().unwrap();
        to_latest(&mut fresh, migrations)
            .map_err(|e| format!("the runtime cannot install schema.sql: {e}"))?;
        let installed = schema_description::describe(&fresh);
        // The runtime creates and keeps its own `_sync*` tables; plain SQL gives the app's
        // schema only, so that is what the script-upgraded database is compared by.
        let app_schema = |lines: Vec<String>| -> Vec<String> {
            lines
                .into_iter()
                .filter(|line| !line.starts_with("table \"_sync"))
                .collect()
        };
        for (conn, how, runtime_tables) in [
            (&by_runtime, "the runtime", true),
            (&by_script, "the migration files", false),
        ] {
            let context = format!("upgraded by {how}");
            rows.compare(conn, &tables)
                .map_err(|e| format!("{context}: {e}"))?;
            foreign_keys_hold(conn).map_err(|e| format!("{context}: {e}"))?;
            let (upgraded, expected) = if runtime_tables {
                (schema_description::describe(conn), installed.clone())
            } else {
                (
                    app_schema(schema_description::describe(conn)),
                    app_schema(installed.clone()),
                )
            };
            if let Some(diff) = schema_description::difference(&upgraded, &expected) {
                return Err(format!(
                    "{context}: the database and a fresh install of schema.sql differ \
                     (- upgraded, + fresh):\n{diff}"
                ));
            }
        }
        Ok(())
    })
    .map(|_project| ())
}

/// `check` passes on the released project, and fails once any released file is deleted or
/// edited (see [`tamper::unnoticed_tampering`]).
fn check_guards_released_files(history: &History) -> Result<(), String> {
    let project = release_each(history, |_, _| Ok(()))?;
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
    if unnoticed.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "`check` accepts tampered released files:\n  {}",
            unnoticed.join("\n  ")
        ))
    }
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
