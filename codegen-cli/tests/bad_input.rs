//! One test per kind of bad input: the report names file, line, column, entity and field, says
//! how to fix it, lists every problem of the run, and nothing is written.

use std::path::Path;

use syncwright_codegen::Error;

/// Runs `generate` on `tests/bad-input/<case>` and returns the plain-text report.
fn report(case: &str) -> String {
    let dir = Path::new("tests/bad-input").join(case);
    let error = syncwright_codegen::generate(dir.join("syncwright.toml"))
        .expect_err("bad input must be refused");
    assert!(
        !dir.join("migrations").exists(),
        "{case}: nothing may be written when the specs have problems"
    );
    match error {
        Error::Invalid(invalid) => invalid.report(false),
        other => panic!("{case}: expected a schema report, got: {other}"),
    }
}

/// Asserts every fragment appears in the report, then snapshots the whole report.
fn check(case: &str, fragments: &[&str]) {
    let report = report(case);
    for fragment in fragments {
        assert!(
            report.contains(fragment),
            "{case}: report lacks {fragment:?}:\n{report}"
        );
    }
    insta::assert_snapshot!(case, report);
}

#[test]
fn toml_syntax_error_points_at_the_broken_line() {
    check(
        "toml_syntax_error",
        &[
            "invalid TOML",
            "tests/bad-input/toml_syntax_error/schema/task.toml:6:1",
        ],
    );
}

#[test]
fn unknown_keys_get_did_you_mean_suggestions() {
    check(
        "unknown_keys",
        &[
            "unknown entity key `conflcit` in `[entity]`",
            "schema/task.toml:3:1",
            "did you mean `conflict`?",
            "unknown field key `indx` in field `priority` of entity `task`",
            "schema/task.toml:7:45",
            "did you mean `index`?",
            "unknown index key `colums`",
            "did you mean `columns`?",
            "unknown top-level key `field`",
            "did you mean `fields`?",
            "found 5 problems",
        ],
    );
}

#[test]
fn unknown_types_and_strategies_list_the_valid_ones() {
    check(
        "unknown_type",
        &[
            "unknown conflict strategy `last_write_wins`",
            "strategies are: lww, server_wins, client_wins, field_merge, manual",
            "unknown type `txt` for field `title` of entity `task`",
            "schema/task.toml:6:18",
            "did you mean `text`?",
            "unknown type `datetime` for field `due` of entity `task`",
        ],
    );
}

#[test]
fn duplicate_entity_names_both_places() {
    check(
        "duplicate_entity",
        &[
            "duplicate entity name `task`",
            "schema/todo.toml:2:8",
            "schema/task.toml:2:8",
        ],
    );
}

#[test]
fn duplicate_table_names_both_places() {
    check(
        "duplicate_table",
        &[
            "duplicate table name `items`",
            "schema/task.toml:3:9",
            "schema/note.toml:3:9",
            "give entity `task` its own table",
        ],
    );
}

#[test]
fn duplicate_field_ignores_case_like_sqlite() {
    check(
        "duplicate_field",
        &[
            "duplicate field (entity `task`) name `Title`",
            "schema/task.toml:6:1",
            "SQLite column names ignore case",
        ],
    );
}

#[test]
fn fields_named_like_sync_columns_are_refused() {
    check(
        "sync_column_name",
        &[
            "field `updated_at` of entity `task` clashes with the sync column `updated_at`",
            "schema/task.toml:6:1",
            "field `version` of entity `task` clashes with the sync column `version`",
            "schema/task.toml:7:1",
        ],
    );
}

#[test]
fn references_to_unknown_tables_suggest_the_table() {
    check(
        "unknown_reference",
        &[
            "field `project_id` of entity `task` references unknown table `project`",
            "schema/task.toml:5:45",
            "did you mean `projects`?",
            "references unknown table `users`",
            "known tables are: projects, tasks",
        ],
    );
}

#[test]
fn index_on_unknown_field_is_refused() {
    check(
        "unknown_index_column",
        &[
            "index on unknown field `titel` of entity `task`",
            "schema/task.toml:9:24",
            "did you mean `title`?",
        ],
    );
}

#[test]
fn names_that_are_not_identifiers_are_refused() {
    check(
        "invalid_identifier",
        &[
            "entity name `work item` is not a valid identifier",
            "schema/task.toml:2:8",
            "for example `work_item`",
            "field name `due-on` of entity `work item` is not a valid identifier",
            "schema/task.toml:6:1",
            "for example `due_on`",
        ],
    );
}

#[test]
fn defaults_that_do_not_fit_the_type_are_refused() {
    check(
        "bad_default",
        &[
            "default of field `priority` of entity `task` does not fit its type `integer`: found a string",
            "schema/task.toml:5:42",
            "default of field `done` of entity `task` does not fit its type `bool`: found an integer",
            "default of field `owner` of entity `task` does not fit its type `uuid`: found a string that is not a UUID",
            "is a TOML datetime",
            "epoch milliseconds",
        ],
    );
}

#[test]
fn every_problem_in_every_file_is_reported_together() {
    check(
        "many_problems_in_many_files",
        &[
            "schema/project.toml:5:",
            "did you mean `nullable`?",
            "unknown type `enum`",
            "schema/task.toml:5:1",
            "clashes with the sync column `id`",
            "references unknown table `projcts`",
            "did you mean `projects`?",
            "found 4 problems",
        ],
    );
}

#[test]
fn missing_config_is_a_clear_error() {
    let error = syncwright_codegen::generate("tests/bad-input/does-not-exist/syncwright.toml")
        .expect_err("a missing project file must be an error");
    let message = error.to_string();
    assert!(
        message.contains("cannot read `tests/bad-input/does-not-exist/syncwright.toml`"),
        "{message}"
    );
}

#[test]
fn a_column_named_twice_in_one_index_is_located_at_the_repeat() {
    check(
        "duplicate_index_column",
        &[
            "index of entity `visit` names field `reason` twice",
            "schema/visit.toml:9:31",
            "first named here",
        ],
    );
}

#[test]
fn a_nul_byte_in_a_text_default_is_refused_at_the_default() {
    check(
        "nul_in_default",
        &[
            "default of field `reason` of entity `visit` contains a NUL byte (at character 8)",
            "schema/visit.toml:5:37",
        ],
    );
}

#[test]
fn a_spec_that_is_not_utf8_is_located_at_its_first_bad_byte_and_the_other_files_still_checked() {
    check(
        "not_utf8",
        &[
            "tests/bad-input/not_utf8/schema/visit.toml` is not UTF-8 text",
            "schema/visit.toml:5:41",
            "unknown type `txt` for field `address` of entity `site`",
            "found 2 problems",
        ],
    );
}

/// A project in a temporary folder: `syncwright.toml` with `config`, and `schema/task.toml`.
fn temp_project(config: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let project = dir.path().join("project");
    std::fs::create_dir_all(project.join("schema")).unwrap();
    std::fs::write(project.join("syncwright.toml"), config).unwrap();
    std::fs::write(
        project.join("schema/task.toml"),
        "[entity]\nname = \"task\"\n[fields]\ntitle = \"text\"\n",
    )
    .unwrap();
    dir
}

/// The plain report of `generate` on the project in `dir`, with `dir` shown as `[dir]`.
fn temp_report(dir: &tempfile::TempDir) -> String {
    let config = dir.path().join("project/syncwright.toml");
    let error = syncwright_codegen::generate(&config).expect_err("must be refused");
    let text = match error {
        Error::Invalid(invalid) => invalid.report(false),
        other => other.to_string(),
    };
    text.replace(&dir.path().to_string_lossy().into_owned(), "[dir]")
}

#[test]
fn paths_outside_the_project_folder_are_refused_unless_the_config_allows_them() {
    let outside = "[schema]\nversion = 1\nentities = [\"schema/*.toml\", \"../shared/*.toml\"]\nhistory = \"schema/../../history\"\n\n[output]\nmigrations = \"/tmp/syncwright-migrations\"\nrust = \"../src\"\n";
    let dir = temp_project(outside);
    std::fs::create_dir_all(dir.path().join("shared")).unwrap();
    std::fs::write(
        dir.path().join("shared/tag.toml"),
        "[entity]\nname = \"tag\"\n[fields]\nlabel = \"text\"\n",
    )
    .unwrap();
    let report = temp_report(&dir);
    for fragment in [
        "`entities` glob `../shared/*.toml` in `syncwright.toml` points outside the project folder",
        "`history` `schema/../../history` in `syncwright.toml` points outside the project folder",
        "`migrations` `/tmp/syncwright-migrations` in `syncwright.toml` points outside the project folder",
        "`rust` `../src` in `syncwright.toml` points outside the project folder",
        "add `allow_outside_project = true` under `[schema]`",
        "found 4 problems",
    ] {
        assert!(
            report.contains(fragment),
            "report lacks {fragment:?}:\n{report}"
        );
    }
    assert!(!dir.path().join("src").exists(), "nothing is written");

    let allowed = outside.replace("[schema]\n", "[schema]\nallow_outside_project = true\n");
    let allowed = allowed.replace("/tmp/syncwright-migrations", "../migrations");
    let dir_allowed = temp_project(&allowed);
    std::fs::create_dir_all(dir_allowed.path().join("shared")).unwrap();
    std::fs::copy(
        dir.path().join("shared/tag.toml"),
        dir_allowed.path().join("shared/tag.toml"),
    )
    .unwrap();
    syncwright_codegen::migrate_new(dir_allowed.path().join("project/syncwright.toml"), "init")
        .unwrap_or_else(|e| panic!("allowed on purpose: {e}"));
    assert!(dir_allowed.path().join("history/v1.toml").exists());
    assert!(dir_allowed.path().join("migrations/schema.sql").exists());
}

#[cfg(unix)]
#[test]
fn symlink_loops_and_fifos_among_the_specs_are_reported_instead_of_followed_or_read() {
    let dir = temp_project("[schema]\nversion = 1\nentities = [\"schema/**/*.toml\"]\n");
    let schema = dir.path().join("project/schema");
    // Two links back up: following them would branch at every level.
    std::os::unix::fs::symlink("..", schema.join("up")).unwrap();
    std::os::unix::fs::symlink(".", schema.join("here")).unwrap();
    std::os::unix::fs::symlink("self.toml", schema.join("self.toml")).unwrap();
    let mkfifo = std::process::Command::new("mkfifo")
        .arg(schema.join("pipe.toml"))
        .status()
        .expect("mkfifo runs");
    assert!(mkfifo.success());
    let report = temp_report(&dir);
    for fragment in [
        "symbolic link `[dir]/project/schema/here` leads to `[dir]/project/schema`, a folder it is in",
        "symbolic link `[dir]/project/schema/up` leads to `[dir]/project`, a folder it is in",
        "`[dir]/project/schema/pipe.toml` is not a regular file (a FIFO, socket or device)",
        "cannot read `[dir]/project/schema/self.toml`",
    ] {
        assert!(
            report.contains(fragment),
            "report lacks {fragment:?}:\n{report}"
        );
    }
}

#[test]
fn an_unclosed_string_is_reported_once() {
    check(
        "unclosed_string",
        &[
            "invalid basic string",
            "schema/visit.toml:5:26",
            "found 1 problem",
        ],
    );
}

#[test]
fn known_tables_are_listed_once_each() {
    let report = report("known_tables_once");
    assert!(
        report.contains("known tables are: visits\n"),
        "each table once:\n{report}"
    );
    insta::assert_snapshot!("known_tables_once", report);
}

#[test]
fn a_name_without_ascii_letters_gets_no_useless_example() {
    let report = report("no_useless_example");
    assert!(report.contains("field name `é` of entity `visit` is not a valid identifier"));
    assert!(!report.contains("for example `_`"), "{report}");
    insta::assert_snapshot!("no_useless_example", report);
}

#[test]
fn nan_inf_and_oversized_integers_in_a_json_default_are_refused_where_they_stand() {
    check(
        "json_default_not_finite",
        &[
            "default of field `vitals` of entity `visit` must be a finite number",
            "schema/visit.toml:5:47",
            "schema/visit.toml:5:67",
            "default of field `vitals` of entity `visit` does not fit in 64 bits",
            "schema/visit.toml:5:81",
            "found 3 problems",
        ],
    );
}

#[test]
fn a_rust_json_default_with_an_overflowing_float_is_refused_where_it_stands() {
    // The Rust attributes and the TOML spec share one key reader: the same refusal, the same
    // words, at the element itself.
    check(
        "rust_json_default_not_finite",
        &[
            "default of field `limits` of entity `visit` must be a finite number",
            "src/model.rs:5:40",
            "src/model.rs:5:47",
            "found 2 problems",
        ],
    );
}

#[cfg(unix)]
#[test]
fn a_fifo_as_the_project_file_is_an_error_not_a_wait() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("syncwright.toml");
    let mkfifo = std::process::Command::new("mkfifo")
        .arg(&config)
        .status()
        .expect("mkfifo runs");
    assert!(mkfifo.success());
    let error = syncwright_codegen::generate(&config).expect_err("a FIFO is refused");
    assert!(error.to_string().contains("not a regular file"), "{error}");
}

#[test]
fn globs_match_in_a_project_folder_named_with_brackets_and_with_a_leading_dot_slash() {
    let dir = tempfile::tempdir().unwrap();
    let project = dir.path().join("app[1]");
    std::fs::create_dir_all(project.join("schema/more")).unwrap();
    std::fs::write(
        project.join("syncwright.toml"),
        "[schema]\nversion = 1\nentities = [\"./schema/*.toml\", \"schema/**/*.toml\"]\n",
    )
    .unwrap();
    for (file, name) in [
        ("schema/task.toml", "task"),
        ("schema/more/tag.toml", "tag"),
    ] {
        std::fs::write(
            project.join(file),
            format!("[entity]\nname = \"{name}\"\n[fields]\nlabel = \"text\"\n"),
        )
        .unwrap();
    }
    let loaded = syncwright_codegen::load::load_project(&project.join("syncwright.toml"))
        .unwrap_or_else(|e| panic!("both specs load, each once: {e}"));
    let mut names: Vec<&str> = loaded
        .schema
        .entities
        .iter()
        .map(|e| e.name.value.as_str())
        .collect();
    names.sort();
    assert_eq!(names, ["tag", "task"]);
}
