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
    assert!(v2.find("DROP INDEX IF EXISTS \"idx_notes_code\"").is_some());

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
