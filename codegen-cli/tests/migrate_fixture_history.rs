//! The field-service fixture's five-version history is the tool's own output: replaying
//! `syncwright migrate new` over the specs of each version reproduces it byte for byte.
//! The snapshots, `schema.sql` and the SQL of the upgrade paths v1→v2, v1→v5 and v3→v5 that
//! the replay renders are golden files, so a change of the generator's output shows up here
//! (review it with `cargo insta review`), independently of the checked-in fixture.

mod migrate_support;

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::OnceLock;

use migrate_support::Project;

const FIXTURE: &str = "../fixtures/field-service";
const RELEASES: [(u32, &str, &str); 5] = [
    (1, "init", "versions/v1"),
    (2, "task_priority", "versions/v2"),
    (3, "add_inspections", "versions/v3"),
    (4, "task_details", "versions/v4"),
    (5, "add_photos", "schema"),
];

fn fixture(relative: &str) -> String {
    std::fs::read_to_string(Path::new(FIXTURE).join(relative))
        .unwrap_or_else(|e| panic!("{relative}: {e}"))
}

fn specs_of(dir: &str) -> migrate_support::Specs {
    let mut specs = migrate_support::Specs::new();
    for entry in std::fs::read_dir(Path::new(FIXTURE).join(dir)).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "toml") {
            let name: &'static str = path
                .file_name()
                .unwrap()
                .to_string_lossy()
                .into_owned()
                .leak();
            specs.insert(name, std::fs::read_to_string(&path).unwrap());
        }
    }
    specs
}

/// Every file of a fresh project after releasing the fixture's five versions with
/// `migrate new`, by path relative to the project: what the generator renders today.
fn replayed() -> &'static BTreeMap<String, String> {
    static REPLAYED: OnceLock<BTreeMap<String, String>> = OnceLock::new();
    REPLAYED.get_or_init(|| {
        let project = Project::new();
        for (version, name, dir) in RELEASES {
            project.release(version, &specs_of(dir), name);
        }
        project.files()
    })
}

/// The replay's file at `path`.
fn rendered(path: &str) -> &'static str {
    replayed()
        .get(path)
        .unwrap_or_else(|| panic!("replaying the history wrote no {path}"))
}

#[test]
fn replaying_every_release_reproduces_the_checked_in_history() {
    let mut compared = 0;
    for (path, text) in replayed() {
        if path.starts_with("schema/history/") || path.starts_with("migrations/") {
            assert_eq!(text, &fixture(path), "{path} differs from the fixture's");
            compared += 1;
        }
    }
    assert_eq!(
        compared,
        5 + 5 + 2,
        "five snapshots, five steps, schema.sql and the lock"
    );
}

#[test]
fn check_passes_on_the_fixture() {
    let report = syncwright_codegen::check(Path::new(FIXTURE).join("syncwright.toml"))
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(report.version, 5);
}

#[test]
fn the_migration_set_is_the_checked_in_files() {
    let project =
        syncwright_codegen::load_project(&Path::new(FIXTURE).join("syncwright.toml")).unwrap();
    let set = syncwright_codegen::rendered_migrations(&project).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(set.version, 5);
    assert_eq!(set.schema.file_name, "schema.sql");
    assert_eq!(set.schema.sql, fixture("migrations/schema.sql"));
    let names: Vec<&str> = set.steps.iter().map(|s| s.file_name.as_str()).collect();
    assert_eq!(
        names,
        [
            "0001_init.sql",
            "0002_task_priority.sql",
            "0003_add_inspections.sql",
            "0004_task_details.sql",
            "0005_add_photos.sql"
        ]
    );
    let lock = fixture("migrations/syncwright.lock");
    for step in &set.steps {
        assert_eq!(step.sql, fixture(&format!("migrations/{}", step.file_name)));
        assert_eq!(
            step.checksum,
            syncwright_codegen::rendered::checksum(&step.sql)
        );
        assert!(
            lock.contains(&step.checksum),
            "the lock records {}",
            step.file_name
        );
    }
}

#[test]
fn snapshot_files() {
    for version in 1..=5 {
        insta::assert_snapshot!(
            format!("snapshot_v{version}"),
            rendered(&format!("schema/history/v{version}.toml"))
        );
    }
}

/// The SQL an upgrade from `from` to `to` runs, as the replay renders it: the steps in order.
fn path_sql(from: u32, to: u32) -> String {
    (from + 1..=to)
        .map(|version| {
            let (_, name, _) = RELEASES[version as usize - 1];
            rendered(&format!("migrations/{version:04}_{name}.sql"))
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn upgrade_path_v1_to_v2() {
    insta::assert_snapshot!(path_sql(1, 2));
}

#[test]
fn upgrade_path_v1_to_v5() {
    insta::assert_snapshot!(path_sql(1, 5));
}

#[test]
fn upgrade_path_v3_to_v5() {
    insta::assert_snapshot!(path_sql(3, 5));
}

#[test]
fn the_fresh_schema_is_rendered_from_the_latest_snapshot() {
    insta::assert_snapshot!(rendered("migrations/schema.sql"));
}
