//! Every release runs before it is frozen: `migrate new` applies the new step to a scratch
//! database of the previous version with rows in every table and compares it with a fresh
//! install, and a backfill must be one SQL expression. `check` rehearses every released step.

mod migrate_support;

use migrate_support::{Project, Specs};

const PATIENT_V1: &str = "[entity]\nname = \"patient\"\n\n[fields]\nname = { type = \"text\" }\n";
const VISIT: &str = "[entity]\nname = \"visit\"\n\n[fields]\npatient_id = { type = \"uuid\", references = \"patients\" }\nnotes = { type = \"text\", nullable = true }\n";

fn v1() -> Specs {
    Specs::from([
        ("patient.toml", PATIENT_V1.to_string()),
        ("visit.toml", VISIT.to_string()),
    ])
}

/// v2 adds `patient.x` with `backfill = <expression>` (given as a TOML basic string body).
fn with_backfill(expression: &str) -> Specs {
    let mut specs = v1();
    specs.insert(
        "patient.toml",
        format!(
            "{PATIENT_V1}x = {{ type = \"text\", nullable = true, backfill = \"{expression}\" }}\n"
        ),
    );
    specs
}

/// Releases v1, then tries to release `v2`, which must be refused with nothing written.
fn refused(v2: Specs) -> String {
    let project = Project::new();
    project.release(1, &v1(), "init");
    project.write_specs(2, &v2);
    let before = project.files();
    let error = syncwright_codegen::migrate_new(project.config(), "v2").expect_err("refused");
    assert_eq!(project.files(), before, "nothing is written");
    project.report(&error)
}

#[test]
fn a_backfill_with_a_second_statement_is_refused_at_the_backfill_key() {
    let report = refused(with_backfill("1); DROP TABLE visits; --"));
    assert!(
        report.contains("backfill of `patients.x` must be one SQL expression over the table at v1"),
        "{report}"
    );
    assert!(
        report.contains(" --> [project]/schema/patient.toml:6:"),
        "located: {report}"
    );
    insta::assert_snapshot!(report);
}

#[test]
fn a_backfill_that_ends_the_statement_behind_a_comment_is_refused() {
    // `SELECT (1); --) FROM ...`: the comment swallows the closing parenthesis.
    let report = refused(with_backfill("1); --"));
    assert!(report.contains("it ends the statement (`;`)"), "{report}");
    let report = refused(with_backfill("1); /*"));
    assert!(report.contains("must be one SQL expression"), "{report}");
}

#[test]
fn a_backfill_with_a_parameter_is_refused() {
    let report = refused(with_backfill("?1"));
    assert!(report.contains("it has a parameter"), "{report}");
}

#[test]
fn a_backfill_that_does_not_parse_is_refused_with_the_sqlite_error() {
    let report = refused(with_backfill("lower("));
    assert!(report.contains("syntax error"), "{report}");
    assert!(report.contains("schema/patient.toml:6:"), "{report}");
}

#[test]
fn a_backfill_naming_an_unknown_column_is_refused() {
    let report = refused(with_backfill("upper(\\\"nmae\\\")"));
    assert!(report.contains("no such column: \"nmae\""), "{report}");
}

#[test]
fn a_backfill_over_existing_columns_is_released_and_runs() {
    let project = Project::new();
    project.release(1, &v1(), "init");
    project.release(
        2,
        &with_backfill("upper(\\\"name\\\") || ';' || '--'"),
        "v2",
    );
    syncwright_codegen::check(project.config()).unwrap();
}

#[test]
fn a_default_with_a_nul_character_is_refused_with_nothing_written() {
    let mut specs = v1();
    specs.insert(
        "patient.toml",
        format!("{PATIENT_V1}code = {{ type = \"text\", default = \"a\\u0000b\" }}\n"),
    );
    let report = refused(specs);
    // Validation refuses it at the default before the rehearsal would run the step.
    assert!(
        report.contains("default of field `code` of entity `patient` contains a NUL byte"),
        "{report}"
    );
}

#[test]
fn an_entity_with_more_columns_than_sqlite_allows_is_refused() {
    let mut specs = v1();
    let fields: String = (0..2000)
        .map(|i| format!("f{i} = {{ type = \"integer\", nullable = true }}\n"))
        .collect();
    specs.insert(
        "wide.toml",
        format!("[entity]\nname = \"wide\"\n\n[fields]\n{fields}"),
    );
    let report = refused(specs);
    assert!(report.contains("too many columns on wides"), "{report}");
}

#[test]
fn check_rehearses_every_released_step() {
    // A history released before backfills were checked: the snapshot of v2 carries a backfill
    // that runs a second statement. Nothing else is wrong with it (the lock matches).
    let project = Project::new();
    project.release(1, &v1(), "init");
    project.release(2, &with_backfill("upper(\\\"name\\\")"), "v2");
    project.write_specs(
        2,
        &with_backfill("1); DELETE FROM \\\"visits\\\"; SELECT (1"),
    );
    let v2 = project.read("schema/history/v2.toml");
    std::fs::write(
        project.path("schema/history/v2.toml"),
        v2.replace(
            "backfill = 'upper(\"name\")'",
            "backfill = '1); DELETE FROM \"visits\"; SELECT (1'",
        ),
    )
    .unwrap();
    assert_ne!(
        project.read("schema/history/v2.toml"),
        v2,
        "the snapshot was edited"
    );
    std::fs::remove_dir_all(project.path("migrations")).unwrap();
    syncwright_codegen::generate(project.config()).expect("renders every file from the history");
    let error = syncwright_codegen::check(project.config()).expect_err("check must fail");
    let report = project.report(&error);
    assert!(
        report.contains("backfill of `patients.x` must be one SQL expression over the table at v1"),
        "{report}"
    );
}

#[test]
fn a_backfill_that_fails_only_on_existing_rows_is_refused() {
    // Compiles over an empty table; fails on the first row whose `name` is not JSON.
    let report = refused(with_backfill("json_extract(\\\"name\\\", '$.first')"));
    assert!(
        report.contains("migration `0002_v2.sql` (v2) fails on a scratch database: malformed JSON"),
        "{report}"
    );
}
