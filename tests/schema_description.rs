//! The in-process schema comparison (`support::schema_description`) that replaces the
//! `sqldiff` program in the default test run: it sees every kind of difference an upgrade can
//! get wrong, and none where only the layout of the SQL differs.

#[path = "support/schema_description.rs"]
mod schema_description;

use rusqlite::Connection;
use schema_description::{describe, difference};

const BASE: &str = r#"
CREATE TABLE "projects" ("id" TEXT PRIMARY KEY NOT NULL, "name" TEXT NOT NULL);
CREATE TABLE "tasks" (
    "id" TEXT PRIMARY KEY NOT NULL,
    "title" TEXT NOT NULL DEFAULT 'untitled',
    "done" INTEGER NOT NULL DEFAULT 0 CHECK ("done" IN (0, 1)),
    "project_id" TEXT REFERENCES "projects" ("id") DEFERRABLE INITIALLY DEFERRED,
    "sync_status" TEXT NOT NULL DEFAULT 'pending'
);
CREATE INDEX "idx_tasks_title" ON "tasks" ("title");
CREATE INDEX "idx_tasks_sync_status" ON "tasks" ("sync_status") WHERE "sync_status" <> 'synced';
CREATE UNIQUE INDEX "idx_tasks_project_id_title" ON "tasks" ("project_id", "title");
CREATE VIEW "open_tasks" AS SELECT "id" FROM "tasks" WHERE "done" = 0;
CREATE TRIGGER "tasks_touch" AFTER UPDATE ON "tasks" BEGIN SELECT 1; END;
"#;

fn described(sql: &str) -> Vec<String> {
    let conn = Connection::open_in_memory().unwrap();
    conn.execute_batch(sql)
        .unwrap_or_else(|e| panic!("{e}\n{sql}"));
    describe(&conn)
}

/// The base schema with `from` replaced by `to` (which must occur).
fn variant(from: &str, to: &str) -> Vec<String> {
    assert!(BASE.contains(from), "`{from}` is not in the base schema");
    described(&BASE.replacen(from, to, 1))
}

#[track_caller]
fn assert_noticed(changed: Vec<String>, expected_in_diff: &str) {
    let base = described(BASE);
    let diff = difference(&base, &changed).expect("the difference is noticed");
    assert!(
        diff.contains(expected_in_diff),
        "the difference should mention `{expected_in_diff}`:\n{diff}"
    );
}

#[test]
fn the_same_schema_in_another_layout_is_equal() {
    // Whitespace, comments and the order of statements are not part of the schema.
    let relaid = BASE
        .replace("\n    ", " ")
        .replace(" (\"id\")", "(\"id\") -- the parent\n")
        .replace(
            "CREATE INDEX \"idx_tasks_title\"",
            "CREATE  INDEX /* by title */ \"idx_tasks_title\"",
        );
    let base = described(BASE);
    assert_eq!(difference(&base, &described(&relaid)), None);
    assert_eq!(difference(&base, &base), None);
}

#[test]
fn a_column_type_notnull_default_or_primary_key_difference_is_noticed() {
    assert_noticed(
        variant("\"name\" TEXT NOT NULL", "\"name\" BLOB NOT NULL"),
        "type=BLOB",
    );
    assert_noticed(
        variant("\"name\" TEXT NOT NULL", "\"name\" TEXT"),
        "notnull=0",
    );
    assert_noticed(
        variant("DEFAULT 'untitled'", "DEFAULT 'Untitled'"),
        "default='Untitled'",
    );
    assert_noticed(
        variant(
            "\"projects\" (\"id\" TEXT PRIMARY KEY NOT NULL",
            "\"projects\" (\"id\" TEXT NOT NULL",
        ),
        "pk=0",
    );
}

#[test]
fn a_missing_or_reordered_column_is_noticed() {
    assert_noticed(
        variant(",\n    \"sync_status\" TEXT NOT NULL DEFAULT 'pending'", ""),
        "column 4 \"sync_status\"",
    );
    let reordered = variant(
        "\"id\" TEXT PRIMARY KEY NOT NULL, \"name\" TEXT NOT NULL",
        "\"name\" TEXT NOT NULL, \"id\" TEXT PRIMARY KEY NOT NULL",
    );
    assert_noticed(reordered, "column 0 \"name\"");
}

#[test]
fn an_index_difference_in_columns_uniqueness_or_predicate_is_noticed() {
    assert_noticed(
        variant("ON \"tasks\" (\"title\");", "ON \"tasks\" (\"done\");"),
        "columns=(\"done\" BINARY ASC)",
    );
    assert_noticed(
        variant(
            "CREATE UNIQUE INDEX \"idx_tasks_project_id_title\"",
            "CREATE INDEX \"idx_tasks_project_id_title\"",
        ),
        "unique=0",
    );
    assert_noticed(
        variant(
            "WHERE \"sync_status\" <> 'synced'",
            "WHERE \"sync_status\" = 'error'",
        ),
        "where=\"sync_status\" = 'error'",
    );
    assert_noticed(
        variant("(\"project_id\", \"title\")", "(\"title\", \"project_id\")"),
        "columns=(\"title\" BINARY ASC, \"project_id\" BINARY ASC)",
    );
    assert_noticed(
        variant(
            "CREATE INDEX \"idx_tasks_title\" ON \"tasks\" (\"title\");",
            "",
        ),
        "- table \"tasks\": index \"idx_tasks_title\"",
    );
}

#[test]
fn a_foreign_key_difference_is_noticed() {
    assert_noticed(
        variant(
            "REFERENCES \"projects\" (\"id\") DEFERRABLE",
            "REFERENCES \"projects\" (\"id\") ON DELETE CASCADE DEFERRABLE",
        ),
        "on_delete=CASCADE",
    );
    assert_noticed(
        variant(
            " REFERENCES \"projects\" (\"id\") DEFERRABLE INITIALLY DEFERRED",
            "",
        ),
        "foreign key 0 (\"project_id\") -> \"projects\"(\"id\")",
    );
    // Visible only in the CREATE TABLE statement.
    assert_noticed(
        variant(" DEFERRABLE INITIALLY DEFERRED", ""),
        "sql CREATE TABLE \"tasks\"",
    );
}

#[test]
fn a_check_constraint_difference_is_noticed() {
    assert_noticed(
        variant(
            "CHECK (\"done\" IN (0, 1))",
            "CHECK (\"done\" IN (0, 1, 2))",
        ),
        "IN(0,1,2)",
    );
}

#[test]
fn a_trigger_or_view_difference_is_noticed() {
    assert_noticed(
        variant("SELECT 1; END", "SELECT 2; END"),
        "trigger \"tasks_touch\" on \"tasks\"",
    );
    assert_noticed(
        variant("WHERE \"done\" = 0", "WHERE \"done\" = 1"),
        "view \"open_tasks\"",
    );
    assert_noticed(
        variant(
            "CREATE TRIGGER \"tasks_touch\" AFTER UPDATE ON \"tasks\" BEGIN SELECT 1; END;",
            "",
        ),
        "- trigger \"tasks_touch\"",
    );
}

#[test]
fn a_missing_table_is_noticed() {
    let conn = Connection::open_in_memory().unwrap();
    conn.execute_batch(BASE).unwrap();
    let before = describe(&conn);
    conn.execute_batch("CREATE TABLE \"extra\" (\"x\")")
        .unwrap();
    let diff = difference(&before, &describe(&conn)).expect("the new table is noticed");
    assert!(diff.contains("+ table \"extra\": column 0 \"x\""), "{diff}");
}
