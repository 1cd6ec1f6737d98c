//! The snapshots, the lock and the migration files each cross-check the others, so no command
//! rewrites a released migration, whichever of them is deleted or edited.

mod migrate_support;

use migrate_support::{Project, Specs};

const TASK_V1: &str = "[entity]\nname = \"task\"\n\n[fields]\ntitle = { type = \"text\" }\n";
const TASK_V2: &str = "[entity]\nname = \"task\"\n\n[fields]\ntitle = { type = \"text\" }\ndone  = { type = \"bool\", default = false }\n";
const TASK_V3: &str = "[entity]\nname = \"task\"\n\n[fields]\ntitle = { type = \"text\" }\ndone  = { type = \"bool\", default = false }\nnote  = { type = \"text\", nullable = true }\n";

fn specs(task: &str) -> Specs {
    Specs::from([("task.toml", task.to_string())])
}

/// v1, v2 and v3 released, everything up to date.
fn released() -> Project {
    let project = Project::new();
    project.release(1, &specs(TASK_V1), "init");
    project.release(2, &specs(TASK_V2), "task_done");
    project.release(3, &specs(TASK_V3), "task_note");
    syncwright_codegen::check(project.config()).expect("a fresh release passes check");
    project
}

fn check_fails(project: &Project) -> String {
    project.report(&syncwright_codegen::check(project.config()).expect_err("check must fail"))
}

fn generate_fails(project: &Project) -> String {
    project.report(&syncwright_codegen::generate(project.config()).expect_err("generate must fail"))
}

fn migrate_new_fails(project: &Project, name: &str) -> String {
    project.report(
        &syncwright_codegen::migrate_new(project.config(), name)
            .expect_err("migrate new must fail"),
    )
}

#[test]
fn migrate_new_with_the_history_deleted_never_rewrites_a_released_migration() {
    let project = released();
    std::fs::remove_dir_all(project.path("schema/history")).unwrap();
    project.write_specs(1, &specs(TASK_V1));
    let before = project.files();
    let report = migrate_new_fails(&project, "init");
    assert!(
        report.contains(
            "snapshot `[project]/schema/history/v1.toml` of released version 1 is missing"
        ),
        "{report}"
    );
    assert_eq!(project.files(), before, "0001_init.sql is not rewritten");
    // Releasing "the next" version on top of nothing is refused the same way.
    project.write_specs(4, &specs(TASK_V3));
    migrate_new_fails(&project, "again");
    let report = check_fails(&project);
    assert!(
        report.contains("v3.toml` of released version 3 is missing"),
        "{report}"
    );
}

#[test]
fn migrate_new_with_the_history_and_the_lock_deleted_never_rewrites_a_released_migration() {
    let project = released();
    std::fs::remove_dir_all(project.path("schema/history")).unwrap();
    std::fs::remove_file(project.path("migrations/syncwright.lock")).unwrap();
    project.write_specs(1, &specs(TASK_V1));
    let before = project.files();
    let report = migrate_new_fails(&project, "init");
    assert!(
        report.contains("`[project]/migrations/syncwright.lock` is missing, but `[project]/migrations` holds migrations"),
        "{report}"
    );
    assert!(
        report.contains("`[project]/migrations/0002_task_done.sql` is not a released migration"),
        "orphaned migrations are named: {report}"
    );
    assert_eq!(project.files(), before);
}

#[test]
fn generate_with_the_lock_deleted_and_a_snapshot_edited_writes_nothing() {
    let project = released();
    std::fs::remove_file(project.path("migrations/syncwright.lock")).unwrap();
    let v2 = project.read("schema/history/v2.toml");
    std::fs::write(
        project.path("schema/history/v2.toml"),
        v2.replace("default_sql = \"0\"", "default_sql = \"1\""),
    )
    .unwrap();
    let before = project.files();
    let report = generate_fails(&project);
    assert!(
        report.contains("syncwright.lock` is missing, but v1 to v3 are released"),
        "{report}"
    );
    assert_eq!(
        project.files(),
        before,
        "no migration rewritten, no lock blessing the edit"
    );
    check_fails(&project);
}

#[test]
fn a_released_migration_on_disk_is_never_rewritten_even_when_everything_else_agrees() {
    let project = released();
    // The migration, its lock entry and nothing else edited the same way: the lock agrees with
    // the file, the history renders something else.
    let path = project.path("migrations/0002_task_done.sql");
    let edited = project
        .read("migrations/0002_task_done.sql")
        .replace("-- ", "--  ");
    let lock = project.read("migrations/syncwright.lock").replace(
        &syncwright_codegen::rendered::checksum(&project.read("migrations/0002_task_done.sql")),
        &syncwright_codegen::rendered::checksum(&edited),
    );
    std::fs::write(&path, &edited).unwrap();
    std::fs::write(project.path("migrations/syncwright.lock"), lock).unwrap();
    let before = project.files();
    let report = generate_fails(&project);
    assert!(report.contains("0002_task_done.sql"), "{report}");
    assert_eq!(project.files(), before);
}

#[test]
fn check_fails_on_a_stray_sql_file_in_the_migrations_folder() {
    let project = released();
    std::fs::write(
        project.path("migrations/0004_hand_written.sql"),
        "SELECT 1;\n",
    )
    .unwrap();
    std::fs::write(project.path("migrations/seed.sql"), "SELECT 1;\n").unwrap();
    let report = check_fails(&project);
    for name in ["0004_hand_written.sql", "seed.sql"] {
        assert!(
            report.contains(&format!(
                "`[project]/migrations/{name}` is not a released migration"
            )),
            "{report}"
        );
    }
    project.write_specs(
        4,
        &specs(&format!(
            "{TASK_V3}due = {{ type = \"timestamp\", nullable = true }}\n"
        )),
    );
    let report = migrate_new_fails(&project, "task_due");
    assert!(
        report.contains("0004_hand_written.sql` is not a released migration"),
        "{report}"
    );
}

#[test]
fn check_fails_on_a_missing_lock() {
    let project = released();
    std::fs::remove_file(project.path("migrations/syncwright.lock")).unwrap();
    let report = check_fails(&project);
    assert!(
        report.contains("syncwright.lock` is missing, but v1 to v3 are released"),
        "{report}"
    );
    assert!(
        report.contains("restore it from version control"),
        "{report}"
    );
}

#[test]
fn an_edited_lock_blames_the_lock_not_the_migration() {
    let project = released();
    let sum = syncwright_codegen::rendered::checksum(&project.read("migrations/0001_init.sql"));
    let lock = project.read("migrations/syncwright.lock");
    std::fs::write(
        project.path("migrations/syncwright.lock"),
        lock.replace(&sum, &"0".repeat(64)),
    )
    .unwrap();
    for report in [check_fails(&project), generate_fails(&project)] {
        assert!(
            report.contains("`[project]/migrations/syncwright.lock` was edited: the checksum it records for migration `[project]/migrations/0001_init.sql`"),
            "{report}"
        );
        assert!(!report.contains("released migration"), "{report}");
        assert!(!report.contains("out of date"), "{report}");
    }
}

#[test]
fn an_edited_snapshot_checksum_in_the_lock_blames_the_lock() {
    let project = released();
    let sum = syncwright_codegen::rendered::checksum(&project.read("schema/history/v2.toml"));
    let lock = project.read("migrations/syncwright.lock");
    std::fs::write(
        project.path("migrations/syncwright.lock"),
        lock.replace(&sum, &"0".repeat(64)),
    )
    .unwrap();
    let report = check_fails(&project);
    assert!(
        report.contains("syncwright.lock` was edited: the checksum it records for snapshot `[project]/schema/history/v2.toml`"),
        "{report}"
    );
    assert!(!report.contains("released snapshot"), "{report}");
}

#[test]
fn a_stray_snapshot_is_named_as_stray() {
    let project = released();
    let v3 = project.read("schema/history/v3.toml");
    std::fs::write(
        project.path("schema/history/v9.toml"),
        v3.replace("version = 3", "version = 9"),
    )
    .unwrap();
    for report in [check_fails(&project), generate_fails(&project)] {
        assert!(
            report.contains("snapshot `[project]/schema/history/v9.toml` is stray: the latest released version is v3, so there is no v9"),
            "{report}"
        );
        assert!(!report.contains("is missing"), "{report}");
    }
}

#[test]
fn a_snapshot_the_lock_does_not_record_is_refused() {
    let project = Project::new();
    project.release(1, &specs(TASK_V1), "init");
    let lock = project.read("migrations/syncwright.lock");
    project.release(2, &specs(TASK_V2), "task_done");
    std::fs::write(project.path("migrations/syncwright.lock"), lock).unwrap();
    std::fs::remove_file(project.path("migrations/0002_task_done.sql")).unwrap();
    let report = check_fails(&project);
    assert!(
        report.contains(
            "snapshot `[project]/schema/history/v2.toml` is not recorded in `syncwright.lock`"
        ),
        "{report}"
    );
    generate_fails(&project);
    assert!(!project.path("migrations/0002_task_done.sql").exists());
}

#[test]
fn generate_and_migrate_new_agree_that_a_released_snapshot_is_missing() {
    let project = released();
    std::fs::remove_file(project.path("schema/history/v3.toml")).unwrap();
    let missing = "snapshot `[project]/schema/history/v3.toml` of released version 3 is missing";
    let generate = generate_fails(&project);
    let migrate = migrate_new_fails(&project, "task_note");
    for report in [&generate, &migrate] {
        assert!(report.contains(missing), "{report}");
        assert!(
            !report.contains("not released yet"),
            "never suggests releasing it again: {report}"
        );
    }
    assert!(
        migrate.contains("version 3 is already released"),
        "{migrate}"
    );
}

#[test]
fn deleting_history_migrations_and_lock_together_starts_an_unpublished_history_over() {
    let project = released();
    std::fs::remove_dir_all(project.path("schema/history")).unwrap();
    std::fs::remove_dir_all(project.path("migrations")).unwrap();
    project.release(1, &specs(TASK_V3), "init");
    syncwright_codegen::check(project.config()).unwrap();
}

#[test]
fn generate_renders_a_history_without_migration_files_but_check_wants_the_lock() {
    let project = released();
    std::fs::remove_dir_all(project.path("migrations")).unwrap();
    let report = check_fails(&project);
    assert!(
        report.contains("syncwright.lock` is missing, but v1 to v3 are released"),
        "{report}"
    );
    // Nothing on disk can be rewritten: generate writes every file from the snapshots.
    syncwright_codegen::generate(project.config()).unwrap();
    syncwright_codegen::check(project.config()).unwrap();
}

#[test]
fn a_spec_deleted_without_a_release_names_the_latest_release_and_its_snapshot() {
    let project = Project::new();
    let mut v1 = specs(TASK_V1);
    v1.insert(
        "note.toml",
        "[entity]\nname = \"note\"\n\n[fields]\nbody = { type = \"text\" }\n".to_string(),
    );
    project.release(1, &v1, "init");
    project.write_specs(1, &specs(TASK_V1));
    for report in [generate_fails(&project), check_fails(&project)] {
        assert!(report.contains("entity `note` (table `notes`)"), "{report}");
        assert!(
            report.contains(
                "the specs differ from v1, the latest release (`[project]/schema/history/v1.toml`)"
            ),
            "{report}"
        );
    }
}
