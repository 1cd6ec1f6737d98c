//! `syncwright check` (for CI) and `syncwright generate` protect what was released: each
//! problem names the command that fixes it, and nothing released is ever rewritten.

mod migrate_support;

use std::process::Command;

use migrate_support::{Project, Specs};

const TASK_V1: &str = "[entity]\nname = \"task\"\n\n[fields]\ntitle = { type = \"text\" }\n";
const TASK_V2: &str = "[entity]\nname = \"task\"\n\n[fields]\ntitle = { type = \"text\" }\ndone  = { type = \"bool\", default = false }\n";

fn specs(task: &str) -> Specs {
    Specs::from([("task.toml", task.to_string())])
}

/// A project with v1 and v2 released and every generated file up to date.
fn released() -> Project {
    let project = Project::new();
    project.release(1, &specs(TASK_V1), "init");
    project.release(2, &specs(TASK_V2), "task_done");
    syncwright_codegen::check(project.config()).expect("a fresh release passes check");
    project
}

fn check_fails(project: &Project) -> String {
    let error = syncwright_codegen::check(project.config()).expect_err("check must fail");
    project.report(&error)
}

#[test]
fn check_passes_when_everything_matches() {
    let project = released();
    let report = syncwright_codegen::check(project.config()).unwrap();
    assert_eq!(report.version, 2);
    assert_eq!(report.files, 4, "two steps, schema.sql and the lock");
}

#[test]
fn check_catches_an_edited_migration() {
    let project = released();
    let path = project.path("migrations/0002_task_done.sql");
    let sql = project.read("migrations/0002_task_done.sql");
    std::fs::write(
        &path,
        sql.replace("COMMIT;", "UPDATE \"tasks\" SET \"done\" = 1;\nCOMMIT;"),
    )
    .unwrap();
    let report = check_fails(&project);
    assert!(
        report.contains("restore the file from version control"),
        "{report}"
    );
    insta::assert_snapshot!(report);
}

#[test]
fn check_catches_an_edited_snapshot() {
    let project = released();
    let path = project.path("schema/history/v1.toml");
    let text = project.read("schema/history/v1.toml");
    std::fs::write(&path, text.replace("name = \"title\"", "name = \"name\"")).unwrap();
    insta::assert_snapshot!(check_fails(&project));
}

#[test]
fn check_catches_stale_and_missing_outputs() {
    let project = released();
    let schema = project.path("migrations/schema.sql");
    std::fs::write(
        &schema,
        project
            .read("migrations/schema.sql")
            .replace("COMMIT;", "PRAGMA foreign_keys = ON;\nCOMMIT;"),
    )
    .unwrap();
    std::fs::remove_file(project.path("migrations/syncwright.lock")).unwrap();
    let report = check_fails(&project);
    assert!(report.contains("run `syncwright generate`"), "{report}");
    insta::assert_snapshot!(report);
}

#[test]
fn check_catches_an_unreleased_spec_change() {
    let project = released();
    let task = format!("{TASK_V2}due_on = {{ type = \"timestamp\", nullable = true }}\n");
    project.write_specs(2, &specs(&task));
    let report = check_fails(&project);
    assert!(report.contains("syncwright migrate new <name>"), "{report}");
    insta::assert_snapshot!(report);
}

#[test]
fn check_catches_a_version_bumped_without_a_release() {
    let project = released();
    project.set_version(3);
    insta::assert_snapshot!(check_fails(&project));
}

#[test]
fn check_reports_a_refused_change_even_before_a_release() {
    let project = released();
    let task = TASK_V2.replace("default = false", "default = true");
    project.write_specs(2, &specs(&task));
    let report = check_fails(&project);
    assert!(report.contains("default of field `done`"), "{report}");
}

#[test]
fn generate_never_rewrites_an_edited_released_migration() {
    let project = released();
    let path = project.path("migrations/0001_init.sql");
    std::fs::write(&path, "-- edited\n").unwrap();
    let before = project.files();
    let error = syncwright_codegen::generate(project.config()).unwrap_err();
    let report = project.report(&error);
    assert!(
        report.contains("released migration `[project]/migrations/0001_init.sql` was edited"),
        "{report}"
    );
    assert_eq!(project.files(), before, "nothing is written");
}

#[test]
fn generate_writes_a_deleted_migration_again_byte_for_byte() {
    let project = released();
    let original = project.read("migrations/0001_init.sql");
    std::fs::remove_file(project.path("migrations/0001_init.sql")).unwrap();
    syncwright_codegen::generate(project.config()).unwrap();
    assert_eq!(project.read("migrations/0001_init.sql"), original);
    syncwright_codegen::check(project.config()).unwrap();
}

#[test]
fn generate_without_a_release_names_migrate_new() {
    let project = Project::new();
    project.write_specs(1, &specs(TASK_V1));
    let report = project.report(&syncwright_codegen::generate(project.config()).unwrap_err());
    assert!(
        report.contains("run `syncwright migrate new <name>`"),
        "{report}"
    );
    assert!(!project.path("migrations").exists());
}

#[test]
fn the_check_command_exits_non_zero_and_names_the_fix() {
    let project = released();
    project.set_version(3);
    let output = Command::new(env!("CARGO_BIN_EXE_syncwright"))
        .arg("--config")
        .arg(project.config())
        .arg("check")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(stderr.contains("syncwright migrate new <name>"), "{stderr}");

    project.set_version(2);
    let output = Command::new(env!("CARGO_BIN_EXE_syncwright"))
        .arg("--config")
        .arg(project.config())
        .arg("check")
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

#[test]
fn the_migrate_new_command_writes_the_release() {
    let project = Project::new();
    project.write_specs(1, &specs(TASK_V1));
    let output = Command::new(env!("CARGO_BIN_EXE_syncwright"))
        .args(["migrate", "new", "init"])
        .current_dir(project.dir.path())
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert!(
        stdout.contains("created schema/history/v1.toml"),
        "{stdout}"
    );
    assert!(
        stdout.contains("created migrations/0001_init.sql"),
        "{stdout}"
    );
}

#[test]
fn check_catches_stale_rust_structs_of_toml_specs() {
    let project = released();
    let config = project.read("syncwright.toml");
    std::fs::write(
        project.config(),
        format!("{config}\n[output]\nrust = \"src/generated\"\n"),
    )
    .unwrap();
    syncwright_codegen::generate(project.config()).expect("generate writes entities.rs");
    let report = syncwright_codegen::check(project.config()).unwrap();
    assert_eq!(report.files, 5, "the migrations, the lock and entities.rs");
    let path = project.path("src/generated/entities.rs");
    let rust = project.read("src/generated/entities.rs");
    std::fs::write(&path, rust.replace("pub done: bool", "pub done: i64")).unwrap();
    let report = check_fails(&project);
    assert!(
        report.contains("src/generated/entities.rs` is out of date"),
        "{report}"
    );
    assert!(report.contains("run `syncwright generate`"), "{report}");
}

#[test]
fn a_spec_deleted_without_a_new_version_is_removed_since_the_current_version() {
    let project = Project::new();
    let mut both = specs(TASK_V1);
    both.insert(
        "tag.toml",
        "[entity]\nname = \"tag\"\n\n[fields]\nlabel = { type = \"text\" }\n".to_string(),
    );
    project.release(1, &specs(TASK_V1), "init");
    project.release(2, &both, "tags");
    std::fs::remove_file(project.path("schema/tag.toml")).unwrap();
    let report = check_fails(&project);
    assert!(
        report.contains("entity `tag` (table `tags`) is removed since v2")
            && report.contains("`tag` removed since v2")
            && report.contains("syncwright.toml:"),
        "the message names the version the specs are at, and points at it:\n{report}"
    );
}
