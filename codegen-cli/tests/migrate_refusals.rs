//! `syncwright migrate new` refuses every change an additive migration cannot make, with a
//! message naming the entity, the field, both versions and the additive alternative, and
//! writes nothing. One test per kind of refusal; each message is snapshotted.

mod migrate_support;

use migrate_support::{Project, Specs};

const PROJECT: &str = r#"[entity]
name = "project"

[fields]
name = { type = "text" }
"#;

const TASK: &str = r#"[entity]
name = "task"

[fields]
title      = { type = "text" }
notes      = { type = "text", nullable = true }
priority   = { type = "integer", default = 0 }
code       = { type = "text", nullable = true, index = true }
project_id = { type = "uuid", references = "projects", nullable = true }
"#;

const TAG: &str = r#"[entity]
name = "tag"

[fields]
label = { type = "text" }
"#;

fn v1() -> Specs {
    Specs::from([
        ("project.toml", PROJECT.to_string()),
        ("task.toml", TASK.to_string()),
        ("tag.toml", TAG.to_string()),
    ])
}

/// `specs` with `old` replaced by `new` in `file` (which must contain `old`).
fn edit(mut specs: Specs, file: &'static str, old: &str, new: &str) -> Specs {
    let text = specs.get_mut(file).unwrap();
    assert!(text.contains(old), "{file} does not contain {old:?}");
    *text = text.replacen(old, new, 1);
    specs
}

/// Releases v1, then tries to release `v2` and returns the refusal report, after checking
/// that nothing was written.
fn refused(v2: Specs) -> String {
    let project = Project::new();
    project.release(1, &v1(), "init");
    refused_after(&project, 2, v2)
}

fn refused_after(project: &Project, version: u32, specs: Specs) -> String {
    project.write_specs(version, &specs);
    let before = project.files();
    let error = syncwright_codegen::migrate_new(project.config(), "change")
        .expect_err("the change must be refused");
    assert_eq!(project.files(), before, "a refused release writes nothing");
    project.report(&error)
}

#[test]
fn type_change() {
    let v2 = edit(
        v1(),
        "task.toml",
        r#"code       = { type = "text""#,
        r#"code       = { type = "integer""#,
    );
    insta::assert_snapshot!(refused(v2));
}

#[test]
fn nullable_to_not_null() {
    let v2 = edit(
        v1(),
        "task.toml",
        r#"notes      = { type = "text", nullable = true }"#,
        r#"notes      = { type = "text" }"#,
    );
    insta::assert_snapshot!(refused(v2));
}

#[test]
fn not_null_to_nullable() {
    let v2 = edit(
        v1(),
        "task.toml",
        r#"title      = { type = "text" }"#,
        r#"title      = { type = "text", nullable = true }"#,
    );
    insta::assert_snapshot!(refused(v2));
}

#[test]
fn new_not_null_field_without_default() {
    let v2 = edit(
        v1(),
        "task.toml",
        "priority ",
        "rating     = { type = \"integer\" }\npriority ",
    );
    insta::assert_snapshot!(refused(v2));
}

#[test]
fn removed_field_that_was_not_deprecated() {
    let v2 = edit(
        v1(),
        "task.toml",
        "code       = { type = \"text\", nullable = true, index = true }\n",
        "",
    );
    insta::assert_snapshot!(refused(v2));
}

#[test]
fn removed_entity_that_was_not_deprecated() {
    let mut v2 = v1();
    v2.remove("tag.toml");
    let report = refused(v2);
    // The spec is gone, so the message points at the version that removes it.
    assert!(
        report.contains("is removed since v2") && report.contains("[project]/syncwright.toml:2:11"),
        "{report}"
    );
    insta::assert_snapshot!(report);
}

#[test]
fn rename_without_renamed_from() {
    let v2 = edit(v1(), "task.toml", "notes      =", "details    =");
    insta::assert_snapshot!(refused(v2));
}

#[test]
fn unique_added_to_an_existing_field() {
    let v2 = edit(
        v1(),
        "task.toml",
        "nullable = true, index = true }",
        "nullable = true, unique = true }",
    );
    insta::assert_snapshot!(refused(v2));
}

#[test]
fn unique_index_added_over_existing_fields() {
    let mut v2 = v1();
    v2.get_mut("task.toml")
        .unwrap()
        .push_str("\n[[indexes]]\ncolumns = [\"title\", \"project_id\"]\nunique = true\n");
    insta::assert_snapshot!(refused(v2));
}

#[test]
fn changed_default_of_an_existing_field() {
    let v2 = edit(v1(), "task.toml", "default = 0", "default = 1");
    insta::assert_snapshot!(refused(v2));
}

#[test]
fn changed_foreign_key() {
    let v2 = edit(
        v1(),
        "task.toml",
        r#"references = "projects""#,
        r#"references = "tags""#,
    );
    insta::assert_snapshot!(refused(v2));
}

#[test]
fn backfill_added_to_an_existing_field() {
    let v2 = edit(
        v1(),
        "task.toml",
        "nullable = true, index = true }",
        "nullable = true, index = true, backfill = \"upper(title)\" }",
    );
    insta::assert_snapshot!(refused(v2));
}

#[test]
fn new_foreign_key_with_a_default() {
    let v2 = edit(
        v1(),
        "task.toml",
        "priority ",
        "tag_id     = { type = \"uuid\", references = \"tags\", nullable = true, default = \"00000000-0000-0000-0000-000000000000\" }\npriority ",
    );
    insta::assert_snapshot!(refused(v2));
}

#[test]
fn new_unique_field_with_a_default() {
    let v2 = edit(
        v1(),
        "tag.toml",
        "label =",
        "slug = { type = \"text\", default = \"\", unique = true }\nlabel =",
    );
    insta::assert_snapshot!(refused(v2));
}

#[test]
fn renamed_from_an_unknown_field() {
    let v2 = edit(
        v1(),
        "task.toml",
        "priority ",
        "details    = { type = \"text\", nullable = true, renamed_from = \"description\" }\npriority ",
    );
    insta::assert_snapshot!(refused(v2));
}

#[test]
fn renamed_from_a_field_of_another_type() {
    let v2 = edit(
        v1(),
        "task.toml",
        "notes      =",
        "note_count = { type = \"integer\", nullable = true, renamed_from = \"notes\" }\nnotes      =",
    );
    insta::assert_snapshot!(refused(v2));
}

#[test]
fn conflict_strategy_changed_to_field_merge() {
    let v2 = edit(
        v1(),
        "task.toml",
        "name = \"task\"\n",
        "name = \"task\"\nconflict = \"field_merge\"\n",
    );
    insta::assert_snapshot!(refused(v2));
}

#[test]
fn entity_renamed() {
    let v2 = edit(
        v1(),
        "tag.toml",
        "name = \"tag\"\n",
        "name = \"label\"\ntable = \"tags\"\n",
    );
    insta::assert_snapshot!(refused(v2));
}

#[test]
fn table_renamed() {
    let v2 = edit(
        v1(),
        "tag.toml",
        "name = \"tag\"\n",
        "name = \"tag\"\ntable = \"labels\"\n",
    );
    insta::assert_snapshot!(refused(v2));
}

#[test]
fn dropping_a_deprecated_foreign_key() {
    let project = Project::new();
    project.release(1, &v1(), "init");
    let v2 = edit(
        v1(),
        "task.toml",
        r#"references = "projects", nullable = true }"#,
        r#"references = "projects", nullable = true, deprecated = true }"#,
    );
    project.release(2, &v2, "deprecate_project_id");
    let v3 = edit(
        v2,
        "task.toml",
        "project_id = { type = \"uuid\", references = \"projects\", nullable = true, deprecated = true }\n",
        "",
    );
    insta::assert_snapshot!(refused_after(&project, 3, v3));
}

#[test]
fn dropping_a_deprecated_entity_that_is_still_referenced() {
    let project = Project::new();
    let tag_id = r#"tag_id     = { type = "uuid", references = "tags", nullable = true }"#;
    let with_tag_id = edit(
        v1(),
        "task.toml",
        "priority ",
        &format!("{tag_id}\npriority "),
    );
    project.release(1, &with_tag_id, "init");
    let v2 = edit(
        with_tag_id,
        "tag.toml",
        "name = \"tag\"\n",
        "name = \"tag\"\ndeprecated = true\n",
    );
    let v2 = edit(
        v2,
        "task.toml",
        "nullable = true }\npriority",
        "nullable = true, deprecated = true }\npriority",
    );
    project.release(2, &v2, "deprecate_tags");
    let mut v3 = v2;
    v3.remove("tag.toml");
    let v3 = edit(
        v3,
        "task.toml",
        r#"tag_id     = { type = "uuid", references = "tags", nullable = true, deprecated = true }"#,
        "",
    );
    let report = refused_after(&project, 3, v3);
    assert!(report.contains("found 2 problems"), "{report}");
    insta::assert_snapshot!(report);
}

#[test]
fn every_refusal_of_a_release_is_reported_at_once() {
    let v2 = edit(
        v1(),
        "task.toml",
        r#"code       = { type = "text""#,
        r#"code       = { type = "integer""#,
    );
    let v2 = edit(v2, "task.toml", "default = 0", "default = 1");
    let mut v2 = edit(v2, "task.toml", "notes      =", "details    =");
    v2.remove("tag.toml");
    let report = refused(v2);
    assert!(report.contains("found 4 problems"), "{report}");
    insta::assert_snapshot!(report);
}

#[test]
fn version_not_bumped() {
    let project = Project::new();
    project.release(1, &v1(), "init");
    let v2 = edit(
        v1(),
        "task.toml",
        "priority ",
        "rating     = { type = \"integer\", nullable = true }\npriority ",
    );
    insta::assert_snapshot!(refused_after(&project, 1, v2));
}

#[test]
fn version_skips() {
    let project = Project::new();
    project.release(1, &v1(), "init");
    let v2 = edit(
        v1(),
        "task.toml",
        "priority ",
        "rating     = { type = \"integer\", nullable = true }\npriority ",
    );
    insta::assert_snapshot!(refused_after(&project, 3, v2));
}

#[test]
fn version_goes_back() {
    let project = Project::new();
    project.release(1, &v1(), "init");
    let v2 = edit(
        v1(),
        "task.toml",
        "priority ",
        "rating     = { type = \"integer\", nullable = true }\npriority ",
    );
    project.release(2, &v2, "rating");
    insta::assert_snapshot!(refused_after(&project, 1, v1()));
}

#[test]
fn first_version_is_not_one() {
    let project = Project::new();
    project.write_specs(2, &v1());
    let error = syncwright_codegen::migrate_new(project.config(), "init").unwrap_err();
    insta::assert_snapshot!(project.report(&error));
}

#[test]
fn nothing_changed() {
    let project = Project::new();
    project.release(1, &v1(), "init");
    insta::assert_snapshot!(refused_after(&project, 2, v1()));
}

#[test]
fn migration_name_is_not_snake_case() {
    let project = Project::new();
    project.write_specs(1, &v1());
    let error = syncwright_codegen::migrate_new(project.config(), "Add Tasks").unwrap_err();
    insta::assert_snapshot!(project.report(&error));
}

#[test]
fn released_snapshot_was_edited() {
    let project = Project::new();
    project.release(1, &v1(), "init");
    let snapshot = project.path("schema/history/v1.toml");
    let text = std::fs::read_to_string(&snapshot).unwrap();
    std::fs::write(
        &snapshot,
        text.replace("name = \"label\"", "name = \"title\""),
    )
    .unwrap();
    let v2 = edit(
        v1(),
        "task.toml",
        "priority ",
        "rating     = { type = \"integer\", nullable = true }\npriority ",
    );
    insta::assert_snapshot!(refused_after(&project, 2, v2));
}

#[test]
fn rename_onto_a_column_in_use() {
    // `code` keeps its own values, so it cannot claim to hold `notes`'.
    let v2 = edit(
        v1(),
        "task.toml",
        "notes      = { type = \"text\", nullable = true }\n",
        "",
    );
    let v2 = edit(
        v2,
        "task.toml",
        r#"code       = { type = "text", nullable = true, index = true }"#,
        r#"notes      = { type = "text", nullable = true, deprecated = true }
code       = { type = "text", nullable = true, index = true, renamed_from = "notes" }"#,
    );
    insta::assert_snapshot!(refused(v2));
}

#[test]
fn reviving_a_renamed_column_without_renamed_from() {
    let project = Project::new();
    project.release(1, &v1(), "init");
    let v2 = edit(
        v1(),
        "task.toml",
        "notes      = { type = \"text\", nullable = true }\n",
        "notes      = { type = \"text\", nullable = true, deprecated = true }\nremarks    = { type = \"text\", nullable = true, renamed_from = \"notes\" }\n",
    );
    project.release(2, &v2, "remarks");
    let v3 = edit(
        v1(),
        "task.toml",
        "notes      = { type = \"text\", nullable = true }\n",
        "notes      = { type = \"text\", nullable = true }\nremarks    = { type = \"text\", nullable = true, deprecated = true }\n",
    );
    insta::assert_snapshot!(refused_after(&project, 3, v3));
}

#[test]
fn renaming_back_from_a_field_of_another_type() {
    let project = Project::new();
    project.release(1, &v1(), "init");
    let v2 = edit(
        v1(),
        "task.toml",
        "notes      = { type = \"text\", nullable = true }\n",
        "notes      = { type = \"text\", nullable = true, deprecated = true }\nremarks    = { type = \"integer\", nullable = true }\n",
    );
    project.release(2, &v2, "remarks");
    let v3 = edit(
        v1(),
        "task.toml",
        "notes      = { type = \"text\", nullable = true }\n",
        "notes      = { type = \"text\", nullable = true, renamed_from = \"remarks\" }\nremarks    = { type = \"integer\", nullable = true, deprecated = true }\n",
    );
    insta::assert_snapshot!(refused_after(&project, 3, v3));
}
