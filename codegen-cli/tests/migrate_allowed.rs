//! Additive changes beyond the fixture's history: contracting a deprecated indexed field and a
//! deprecated entity, and a NOT NULL backfill. Each release's SQL is snapshotted and run on a
//! database with rows.

mod migrate_support;

use migrate_support::{Project, Specs};
use rusqlite::Connection;

const NOTE_V1: &str = r#"[entity]
name = "note"

[fields]
body  = { type = "text" }
code  = { type = "text", nullable = true, index = true }
words = { type = "integer", nullable = true }

[[indexes]]
columns = ["code", "body"]
"#;

const NOTE_V2: &str = r#"[entity]
name = "note"

[fields]
body  = { type = "text" }
code  = { type = "text", nullable = true, deprecated = true }
words = { type = "integer", nullable = true }
# NOT NULL with a default: rows where the backfill gives NULL keep the default.
size  = { type = "integer", default = -1, backfill = "length(\"body\") + \"words\"" }
"#;

const NOTE_V3: &str = r#"[entity]
name = "note"

[fields]
body  = { type = "text" }
words = { type = "integer", nullable = true }
size  = { type = "integer", default = -1, backfill = "length(\"body\") + \"words\"" }
"#;

const LABEL: &str = "[entity]\nname = \"label\"\n\n[fields]\ntext = { type = \"text\" }\n";
const LABEL_DEPRECATED: &str =
    "[entity]\nname = \"label\"\ndeprecated = true\n\n[fields]\ntext = { type = \"text\" }\n";

fn run(conn: &Connection, project: &Project, file: &str) {
    conn.execute_batch(&project.read(file))
        .unwrap_or_else(|e| panic!("{file}: {e}"));
}

#[test]
fn deprecated_field_and_entity_are_dropped_in_the_next_version() {
    let project = Project::new();
    project.release(
        1,
        &Specs::from([
            ("note.toml", NOTE_V1.to_string()),
            ("label.toml", LABEL.to_string()),
        ]),
        "init",
    );
    let conn = Connection::open_in_memory().unwrap();
    run(&conn, &project, "migrations/0001_init.sql");
    conn.execute_batch(
        "INSERT INTO notes (id, body, code, words) VALUES ('a', 'hello', 'x', 2), ('b', 'hi', NULL, NULL);
         INSERT INTO labels (id, text) VALUES ('l', 'red');",
    )
    .unwrap();

    project.release(
        2,
        &Specs::from([
            ("note.toml", NOTE_V2.to_string()),
            ("label.toml", LABEL_DEPRECATED.to_string()),
        ]),
        "deprecate_code",
    );
    project.release(
        3,
        &Specs::from([("note.toml", NOTE_V3.to_string())]),
        "drop_code",
    );
    let v2 = project.read("migrations/0002_deprecate_code.sql");
    let v3 = project.read("migrations/0003_drop_code.sql");
    insta::assert_snapshot!("deprecate", v2);
    insta::assert_snapshot!("drop", v3);
    // Indexes on the column go before the column (SQLite refuses to drop an indexed column).
    assert!(v2.find("DROP INDEX IF EXISTS \"notes(code)\"").is_some());

    run(&conn, &project, "migrations/0002_deprecate_code.sql");
    run(&conn, &project, "migrations/0003_drop_code.sql");
    let sizes: Vec<(String, i64)> = conn
        .prepare("SELECT id, size FROM notes ORDER BY id")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(sizes, [("a".to_string(), 7), ("b".to_string(), -1)]);
    let labels: i64 = conn
        .query_row(
            "SELECT count(*) FROM sqlite_master WHERE name = 'labels'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(labels, 0, "the deprecated entity's table is dropped");
    let fresh = Connection::open_in_memory().unwrap();
    run(&fresh, &project, "migrations/schema.sql");
    let columns = |conn: &Connection| -> Vec<String> {
        conn.prepare("SELECT name FROM pragma_table_info('notes')")
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .map(Result::unwrap)
            .collect()
    };
    assert_eq!(columns(&conn), columns(&fresh));
}

const CONTACT_V1: &str =
    "[entity]\nname = \"contact\"\n\n[fields]\nphone = { type = \"text\", nullable = true }\n";
const CONTACT_MOBILE: &str = "[entity]\nname = \"contact\"\n\n[fields]\nphone  = { type = \"text\", nullable = true, deprecated = true }\nmobile = { type = \"text\", nullable = true, renamed_from = \"phone\" }\n";
const CONTACT_PHONE_AGAIN: &str = "[entity]\nname = \"contact\"\n\n[fields]\nphone  = { type = \"text\", nullable = true, renamed_from = \"mobile\" }\nmobile = { type = \"text\", nullable = true, deprecated = true }\n";

fn contact(text: &str) -> Specs {
    Specs::from([("contact.toml", text.to_string())])
}

fn phones(conn: &Connection) -> Vec<(String, Option<String>)> {
    conn.prepare("SELECT id, phone FROM contacts ORDER BY id")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

#[test]
fn renaming_back_onto_a_deprecated_column_copies_the_current_values() {
    let project = Project::new();
    let conn = Connection::open_in_memory().unwrap();
    project.release(1, &contact(CONTACT_V1), "init");
    run(&conn, &project, "migrations/0001_init.sql");
    conn.execute_batch("INSERT INTO contacts (id, phone) VALUES ('a', 'old-a'), ('b', 'old-b');")
        .unwrap();
    project.release(2, &contact(CONTACT_MOBILE), "mobile");
    run(&conn, &project, "migrations/0002_mobile.sql");
    // On v2 the app writes `mobile` only: a changed number, a cleared one and a new row.
    conn.execute_batch(
        "UPDATE contacts SET mobile = 'new-a' WHERE id = 'a';
         UPDATE contacts SET mobile = NULL WHERE id = 'b';
         INSERT INTO contacts (id, mobile) VALUES ('c', 'new-c');",
    )
    .unwrap();

    project.release(3, &contact(CONTACT_PHONE_AGAIN), "phone_again");
    let sql = project.read("migrations/0003_phone_again.sql");
    assert!(
        sql.contains("-- `contacts`: `phone` is renamed back from `mobile`"),
        "the migration says it copies the values back:\n{sql}"
    );
    run(&conn, &project, "migrations/0003_phone_again.sql");
    assert_eq!(
        phones(&conn),
        [
            ("a".to_string(), Some("new-a".to_string())),
            ("b".to_string(), None),
            ("c".to_string(), Some("new-c".to_string())),
        ],
        "the app on v3 reads the values written on v2"
    );
}

#[test]
fn renaming_onto_a_column_dropped_earlier_adds_it_again_with_the_current_values() {
    let project = Project::new();
    let conn = Connection::open_in_memory().unwrap();
    project.release(1, &contact(CONTACT_V1), "init");
    run(&conn, &project, "migrations/0001_init.sql");
    project.release(2, &contact(CONTACT_MOBILE), "mobile");
    run(&conn, &project, "migrations/0002_mobile.sql");
    conn.execute_batch("INSERT INTO contacts (id, mobile) VALUES ('a', 'new-a');")
        .unwrap();
    let only_mobile =
        "[entity]\nname = \"contact\"\n\n[fields]\nmobile = { type = \"text\", nullable = true }\n";
    project.release(3, &contact(only_mobile), "drop_phone");
    run(&conn, &project, "migrations/0003_drop_phone.sql");
    let phone_from_mobile = "[entity]\nname = \"contact\"\n\n[fields]\nmobile = { type = \"text\", nullable = true, deprecated = true }\nphone  = { type = \"text\", nullable = true, renamed_from = \"mobile\" }\n";
    project.release(4, &contact(phone_from_mobile), "phone_again");
    run(&conn, &project, "migrations/0004_phone_again.sql");
    assert_eq!(
        phones(&conn),
        [("a".to_string(), Some("new-a".to_string()))]
    );
}

#[test]
fn a_chain_of_renames_carries_the_values_to_the_last_name() {
    let project = Project::new();
    let conn = Connection::open_in_memory().unwrap();
    project.release(1, &contact(CONTACT_V1), "init");
    run(&conn, &project, "migrations/0001_init.sql");
    conn.execute_batch("INSERT INTO contacts (id, phone) VALUES ('a', 'v1');")
        .unwrap();
    project.release(2, &contact(CONTACT_MOBILE), "mobile");
    run(&conn, &project, "migrations/0002_mobile.sql");
    conn.execute_batch("UPDATE contacts SET mobile = 'v2' WHERE id = 'a';")
        .unwrap();
    let cell = "[entity]\nname = \"contact\"\n\n[fields]\nmobile = { type = \"text\", nullable = true, deprecated = true }\ncell   = { type = \"text\", nullable = true, renamed_from = \"mobile\" }\n";
    project.release(3, &contact(cell), "cell");
    run(&conn, &project, "migrations/0003_cell.sql");
    conn.execute_batch("UPDATE contacts SET cell = 'v3' WHERE id = 'a';")
        .unwrap();
    let phone_from_cell = "[entity]\nname = \"contact\"\n\n[fields]\ncell  = { type = \"text\", nullable = true, deprecated = true }\nphone = { type = \"text\", nullable = true, renamed_from = \"cell\" }\n";
    project.release(4, &contact(phone_from_cell), "phone_again");
    run(&conn, &project, "migrations/0004_phone_again.sql");
    assert_eq!(phones(&conn), [("a".to_string(), Some("v3".to_string()))]);
}

#[test]
fn a_multi_line_text_default_fills_existing_rows_with_lf_line_ends() {
    let project = Project::new();
    let conn = Connection::open_in_memory().unwrap();
    project.release(1, &contact(CONTACT_V1), "init");
    run(&conn, &project, "migrations/0001_init.sql");
    conn.execute_batch("INSERT INTO contacts (id) VALUES ('a');")
        .unwrap();
    let with_note = format!(
        "{CONTACT_V1}note  = {{ type = \"text\", default = \"line one\\r\\nCOMMIT;\\nline three\" }}\n"
    );
    project.release(2, &contact(&with_note), "note");
    let sql = project.read("migrations/0002_note.sql");
    assert!(!sql.contains('\r'), "no CR reaches the migration:\n{sql:?}");
    run(&conn, &project, "migrations/0002_note.sql");
    let note: String = conn
        .query_row("SELECT note FROM contacts WHERE id = 'a'", [], |r| r.get(0))
        .unwrap();
    assert_eq!(note, "line one\nCOMMIT;\nline three");
}

const FLAG_V1: &str = "[entity]\nname = \"flag\"\n\n[fields]\ndone = { type = \"bool\", default = false }\nmeta = { type = \"json\", nullable = true }\n";
const FLAG_RENAMED: &str = "[entity]\nname = \"flag\"\n\n[fields]\ndone     = { type = \"bool\", default = false, deprecated = true }\nmeta     = { type = \"json\", nullable = true, deprecated = true }\nfinished = { type = \"bool\", default = false, renamed_from = \"done\" }\n";
const FLAG_DROPPED: &str =
    "[entity]\nname = \"flag\"\n\n[fields]\nfinished = { type = \"bool\", default = false }\n";

/// Every trigger of the database: name and SQL.
fn triggers(conn: &Connection) -> Vec<(String, String)> {
    conn.prepare("SELECT name, sql FROM sqlite_master WHERE type = 'trigger' ORDER BY name")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

#[test]
fn a_bool_field_renamed_and_dropped_after_release_moves_its_type_check_triggers_along() {
    let project = Project::new();
    let flag = |text: &str| Specs::from([("flag.toml", text.to_string())]);
    let conn = Connection::open_in_memory().unwrap();
    project.release(1, &flag(FLAG_V1), "init");
    run(&conn, &project, "migrations/0001_init.sql");
    conn.execute_batch(
        "INSERT INTO flags (id, done, meta) VALUES ('a', 1, '[1]'), ('b', 0, NULL);",
    )
    .unwrap();
    project.release(2, &flag(FLAG_RENAMED), "finished");
    project.release(3, &flag(FLAG_DROPPED), "drop_done");
    let v2 = project.read("migrations/0002_finished.sql");
    let v3 = project.read("migrations/0003_drop_done.sql");
    insta::assert_snapshot!("rename_bool", v2);
    insta::assert_snapshot!("drop_bool_and_json", v3);

    run(&conn, &project, "migrations/0002_finished.sql");
    // The deprecated column stays checked while it is in the database.
    let refused = conn
        .execute_batch("UPDATE flags SET done = 2")
        .expect_err("a deprecated bool column still holds only 0 or 1");
    assert!(
        refused.to_string().contains("flags.done must be 0 or 1"),
        "{refused}"
    );
    run(&conn, &project, "migrations/0003_drop_done.sql");

    let fresh = Connection::open_in_memory().unwrap();
    run(&fresh, &project, "migrations/schema.sql");
    assert_eq!(
        triggers(&conn),
        triggers(&fresh),
        "upgraded vs fresh install"
    );
    let names: Vec<String> = triggers(&conn).into_iter().map(|(name, _)| name).collect();
    assert_eq!(
        names,
        [
            "flags.finished is bool on insert",
            "flags.finished is bool on update"
        ]
    );
    let finished: Vec<(String, i64)> = conn
        .prepare("SELECT id, finished FROM flags ORDER BY id")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(finished, [("a".to_string(), 1), ("b".to_string(), 0)]);
    let refused = conn
        .execute_batch("UPDATE flags SET finished = 2 WHERE id = 'a'")
        .expect_err("the renamed column is checked");
    assert!(
        refused
            .to_string()
            .contains("flags.finished must be 0 or 1"),
        "{refused}"
    );
}
