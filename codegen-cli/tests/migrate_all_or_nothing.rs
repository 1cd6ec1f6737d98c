//! Nothing a command writes is left half done when it fails: every output is staged and renamed
//! into place only when all of them were written, and what cannot work is refused up front.

mod migrate_support;

use migrate_support::{Project, Specs};

const TASK_V1: &str = "[entity]\nname = \"task\"\n\n[fields]\ntitle = { type = \"text\" }\n";
const TASK_V2: &str = "[entity]\nname = \"task\"\n\n[fields]\ntitle = { type = \"text\" }\ndone  = { type = \"bool\", default = false }\n";

fn specs(task: &str) -> Specs {
    Specs::from([("task.toml", task.to_string())])
}

/// Adds `[output] rust = "<folder>"` to the project's `syncwright.toml`.
fn with_rust_output(project: &Project, folder: &str) {
    let config = project.read("syncwright.toml");
    std::fs::write(
        project.config(),
        format!("{config}\n[output]\nrust = \"{folder}\"\n"),
    )
    .unwrap();
}

#[test]
fn migrate_new_with_an_overlong_name_is_refused_before_anything_is_written() {
    let project = Project::new();
    project.release(1, &specs(TASK_V1), "init");
    project.write_specs(2, &specs(TASK_V2));
    let before = project.files();
    let name = "a".repeat(300);
    let error = syncwright_codegen::migrate_new(project.config(), &name).unwrap_err();
    let report = project.report(&error);
    assert!(report.contains("over the 255 bytes"), "{report}");
    assert!(report.contains("at most 246 characters"), "{report}");
    assert_eq!(project.files(), before, "nothing is written");
    // The longest name that fits is released, and generate is not stuck afterwards.
    syncwright_codegen::migrate_new(project.config(), &"a".repeat(246)).unwrap();
    syncwright_codegen::generate(project.config()).unwrap();
    syncwright_codegen::check(project.config()).unwrap();
}

#[test]
fn migrate_new_that_cannot_write_an_output_leaves_no_snapshot_and_can_be_retried() {
    let project = Project::new();
    project.release(1, &specs(TASK_V1), "init");
    project.write_specs(2, &specs(TASK_V2));
    // A file where the `[output] rust` folder should be: no process (not even root) can write.
    std::fs::write(project.path("gen"), "in the way").unwrap();
    with_rust_output(&project, "gen/rust");
    let before = project.files();
    let error = syncwright_codegen::migrate_new(project.config(), "task_done").unwrap_err();
    assert!(
        project
            .report(&error)
            .contains("cannot write `[project]/gen/rust/entities.rs`"),
        "{}",
        project.report(&error)
    );
    assert_eq!(
        project.files(),
        before,
        "no snapshot, no migration, no temporary"
    );

    std::fs::remove_file(project.path("gen")).unwrap();
    syncwright_codegen::migrate_new(project.config(), "task_done")
        .expect("the retry releases v2, it is not `already released`");
    assert!(project.path("migrations/0002_task_done.sql").is_file());
}

#[test]
fn generate_that_cannot_write_the_rust_output_writes_no_migration() {
    let project = Project::new();
    project.release(1, &specs(TASK_V1), "init");
    project.release(2, &specs(TASK_V2), "task_done");
    std::fs::remove_file(project.path("migrations/0002_task_done.sql")).unwrap();
    std::fs::remove_file(project.path("migrations/schema.sql")).unwrap();
    std::fs::create_dir_all(project.path("gen")).unwrap();
    std::fs::write(project.path("gen/rust"), "in the way").unwrap();
    with_rust_output(&project, "gen/rust");
    let before = project.files();
    syncwright_codegen::generate(project.config()).unwrap_err();
    assert_eq!(
        project.files(),
        before,
        "no migration written before the failure"
    );
}

#[test]
fn a_folder_created_for_outputs_is_removed_when_writing_fails() {
    let project = Project::new();
    project.write_specs(1, &specs(TASK_V1));
    std::fs::write(project.path("gen"), "in the way").unwrap();
    with_rust_output(&project, "gen/rust");
    syncwright_codegen::migrate_new(project.config(), "init").unwrap_err();
    assert!(
        !project.path("migrations").exists(),
        "created, then removed"
    );
    assert!(
        !project.path("schema/history").exists(),
        "created, then removed"
    );
}

#[test]
fn a_lock_that_is_a_folder_is_an_error_not_a_missing_lock() {
    let project = Project::new();
    project.release(1, &specs(TASK_V1), "init");
    std::fs::remove_file(project.path("migrations/syncwright.lock")).unwrap();
    std::fs::create_dir(project.path("migrations/syncwright.lock")).unwrap();
    let before = project.files();
    for error in [
        syncwright_codegen::generate(project.config()).unwrap_err(),
        syncwright_codegen::check(project.config()).unwrap_err(),
    ] {
        let report = project.report(&error);
        assert!(
            report.contains("`[project]/migrations/syncwright.lock` is not a file"),
            "{report}"
        );
    }
    assert_eq!(project.files(), before);
    assert!(project.path("migrations/syncwright.lock").is_dir());
}

#[test]
fn a_history_that_is_a_file_must_be_a_folder() {
    let project = Project::new();
    project.write_specs(1, &specs(TASK_V1));
    std::fs::write(project.path("schema/history"), "not a folder").unwrap();
    let error = syncwright_codegen::migrate_new(project.config(), "init").unwrap_err();
    let report = project.report(&error);
    assert!(
        report.contains("`[schema] history` points at `[project]/schema/history`, which is a file: it must be a folder"),
        "{report}"
    );
    assert!(!project.path("migrations").exists());
}

#[test]
fn a_migrations_folder_that_is_a_file_must_be_a_folder() {
    let project = Project::new();
    project.write_specs(1, &specs(TASK_V1));
    std::fs::write(project.path("migrations"), "not a folder").unwrap();
    let error = syncwright_codegen::migrate_new(project.config(), "init").unwrap_err();
    let report = project.report(&error);
    assert!(
        report.contains("`[output] migrations` points at `[project]/migrations`, which is a file: it must be a folder"),
        "{report}"
    );
    assert!(!project.path("schema/history").exists());
}
