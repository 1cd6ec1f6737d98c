//! Golden SQL: the fresh-install schema for the fixtures project, for every field type and for
//! every conflict strategy. Review changes with `cargo insta review`.

use syncwright_codegen::load::{load_project, schema_from_toml};
use syncwright_codegen::{render, resolve};

fn schema_sql_of(specs: &[(&str, &str)]) -> String {
    let schema = schema_from_toml(1, specs).unwrap_or_else(|e| panic!("specs must be valid:\n{e}"));
    render::schema_sql(1, "the entity specs", &resolve::tables(&schema))
}

#[test]
fn field_service_fixture_schema_from_specs() {
    let project = load_project("../fixtures/field-service/syncwright.toml".as_ref())
        .unwrap_or_else(|e| panic!("fixture must be valid:\n{e}"));
    let sql = render::schema_sql(
        project.schema.version,
        "the entity specs",
        &resolve::tables(&project.schema),
    );
    insta::assert_snapshot!("field_service_schema", sql);
}

#[test]
fn every_field_type_required_nullable_and_with_default() {
    let sql = schema_sql_of(&[(
        "sample.toml",
        r#"
[entity]
name = "sample"

[fields]
a_text        = { type = "text" }
a_text_null   = { type = "text", nullable = true }
a_text_dflt   = { type = "text", default = "it's" }
an_int        = { type = "integer" }
an_int_dflt   = { type = "integer", default = -7 }
a_real        = { type = "real", nullable = true }
a_real_dflt   = { type = "real", default = 2 }
a_bool        = { type = "bool" }
a_bool_dflt   = { type = "bool", default = true }
a_uuid        = { type = "uuid", nullable = true }
a_uuid_dflt   = { type = "uuid", default = "00000000-0000-0000-0000-000000000000" }
a_timestamp   = { type = "timestamp", nullable = true }
a_ts_dflt     = { type = "timestamp", default = 0 }
a_json        = { type = "json", nullable = true }
a_json_dflt   = { type = "json", default = { tags = ["a"], n = 1 } }
a_json_text   = { type = "json", default = "[]" }
a_blob        = { type = "blob", nullable = true }
shorthand     = "text"
"#,
    )]);
    insta::assert_snapshot!("every_field_type", sql);
}

#[test]
fn every_conflict_strategy() {
    let spec = |name: &str, conflict: &str| {
        format!(
            "[entity]\nname = \"{name}\"\nconflict = \"{conflict}\"\n\n[fields]\nbody = {{ type = \"text\" }}\n"
        )
    };
    let specs: Vec<(String, String)> =
        ["lww", "server_wins", "client_wins", "field_merge", "manual"]
            .iter()
            .map(|c| (format!("{c}.toml"), spec(&format!("{c}_note"), c)))
            .collect();
    let borrowed: Vec<(&str, &str)> = specs
        .iter()
        .map(|(p, t)| (p.as_str(), t.as_str()))
        .collect();
    let sql = schema_sql_of(&borrowed);
    assert_eq!(
        sql.matches("\"field_timestamps\"").count(),
        2,
        "only the field_merge table gets per-field timestamps (column + its CHECK)"
    );
    insta::assert_snapshot!("every_conflict_strategy", sql);
}

#[test]
fn indexes_cover_sync_foreign_keys_unique_and_declared() {
    let sql = schema_sql_of(&[
        (
            "project.toml",
            "[entity]\nname = \"project\"\n[fields]\nname = \"text\"\n",
        ),
        (
            "task.toml",
            r#"
[entity]
name = "task"
[fields]
project_id = { type = "uuid", references = "projects", nullable = true }
code       = { type = "text", unique = true }
priority   = { type = "integer", default = 0, index = true }
[[indexes]]
columns = ["project_id", "priority"]
[[indexes]]
columns = ["priority"]
unique = true
"#,
        ),
    ]);
    for expected in [
        r#"CREATE UNIQUE INDEX IF NOT EXISTS "unique tasks(server_id)" ON "tasks" ("server_id");"#,
        r#"CREATE INDEX IF NOT EXISTS "tasks(sync_status) where unsynced" ON "tasks" ("sync_status") WHERE "sync_status" <> 'synced';"#,
        r#"CREATE INDEX IF NOT EXISTS "tasks(updated_at)" ON "tasks" ("updated_at");"#,
        r#"CREATE INDEX IF NOT EXISTS "tasks(is_deleted)" ON "tasks" ("is_deleted");"#,
        r#"CREATE UNIQUE INDEX IF NOT EXISTS "unique tasks(code)" ON "tasks" ("code");"#,
        // `index = true` and a one-column unique `[[indexes]]` on the same field make one index.
        r#"CREATE UNIQUE INDEX IF NOT EXISTS "unique tasks(priority)" ON "tasks" ("priority");"#,
        r#"CREATE INDEX IF NOT EXISTS "tasks(project_id,priority)" ON "tasks" ("project_id", "priority");"#,
    ] {
        assert!(sql.contains(expected), "missing {expected}\n{sql}");
    }
    assert_eq!(sql.matches("(\"priority\")").count(), 1, "{sql}");
    // The foreign key's lookups are served by `tasks(project_id,priority)`, which starts with it.
    assert!(!sql.contains(r#""tasks(project_id)""#), "{sql}");
    // Parents come before the tables that reference them.
    assert!(sql.find("\"projects\" (").unwrap() < sql.find("\"tasks\" (").unwrap());
}

/// The `CREATE ... INDEX` statements of `sql`.
fn index_statements(sql: &str) -> Vec<&str> {
    sql.lines()
        .filter(|l| l.starts_with("CREATE ") && l.contains(" INDEX "))
        .collect()
}

#[test]
fn index_names_never_collide_across_tables_and_column_lists() {
    // `a.b_c` and `a_b.c`, and `["x", "y"]` and `["x_y"]`, gave one name each before: the second
    // index was skipped and its `unique` lost.
    let sql = schema_sql_of(&[
        (
            "a.toml",
            "[entity]\nname = \"a\"\ntable = \"a\"\n[fields]\nb_c = { type = \"text\", unique = true }\nx = \"text\"\ny = \"text\"\nx_y = \"text\"\n[[indexes]]\ncolumns = [\"x\", \"y\"]\nunique = true\n[[indexes]]\ncolumns = [\"x_y\"]\n",
        ),
        (
            "a_b.toml",
            "[entity]\nname = \"a_b\"\ntable = \"a_b\"\n[fields]\nc = { type = \"text\", unique = true }\n",
        ),
    ]);
    for expected in [
        r#"CREATE UNIQUE INDEX IF NOT EXISTS "unique a(b_c)" ON "a" ("b_c");"#,
        r#"CREATE UNIQUE INDEX IF NOT EXISTS "unique a_b(c)" ON "a_b" ("c");"#,
        r#"CREATE UNIQUE INDEX IF NOT EXISTS "unique a(x,y)" ON "a" ("x", "y");"#,
        r#"CREATE INDEX IF NOT EXISTS "a(x_y)" ON "a" ("x_y");"#,
    ] {
        assert!(sql.contains(expected), "missing {expected}\n{sql}");
    }
    let statements = index_statements(&sql);
    let names: std::collections::BTreeSet<String> = statements
        .iter()
        .map(|l| l.split('"').nth(1).unwrap().to_ascii_lowercase())
        .collect();
    assert_eq!(
        names.len(),
        statements.len(),
        "every index has its own name:\n{sql}"
    );
    let conn = rusqlite::Connection::open_in_memory().unwrap();
    conn.execute_batch(&sql).unwrap();
    let created: i64 = conn
        .query_row(
            "SELECT count(*) FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(
        created as usize,
        statements.len(),
        "SQLite created every index"
    );
}

#[test]
fn output_is_deterministic_and_rewrites_nothing_when_unchanged() {
    let dir = tempfile::tempdir().unwrap();
    copy_dir(std::path::Path::new("tests/keywords"), dir.path());
    let config = dir.path().join("syncwright.toml");
    let first = syncwright_codegen::generate(&config).unwrap();
    assert!(
        first
            .files
            .iter()
            .all(|(_, o)| *o == syncwright_codegen::WriteOutcome::Created)
    );
    let bytes: Vec<Vec<u8>> = first
        .files
        .iter()
        .map(|(p, _)| std::fs::read(p).unwrap())
        .collect();
    let second = syncwright_codegen::generate(&config).unwrap();
    assert!(
        second
            .files
            .iter()
            .all(|(_, o)| *o == syncwright_codegen::WriteOutcome::Unchanged),
        "a second run with the same input must not rewrite anything: {:?}",
        second.files
    );
    let again: Vec<Vec<u8>> = second
        .files
        .iter()
        .map(|(p, _)| std::fs::read(p).unwrap())
        .collect();
    assert_eq!(bytes, again);
}

fn copy_dir(from: &std::path::Path, to: &std::path::Path) {
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            std::fs::create_dir_all(&target).unwrap();
            copy_dir(&entry.path(), &target);
        } else if entry.file_name() != "migrations" {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

#[test]
fn a_multi_line_text_default_stays_one_literal_with_lf_line_ends() {
    // The second line would be a `COMMIT;` line if the SQL were split by lines.
    let spec = "[entity]\nname = \"note\"\n[fields]\nbody = { type = \"text\", default = \"first\\r\\nCOMMIT;\\nthird\" }\n";
    let sql = schema_sql_of(&[("note.toml", spec)]);
    assert!(!sql.contains('\r'), "no CR reaches the SQL:\n{sql:?}");
    assert!(
        sql.contains("DEFAULT 'first\nCOMMIT;\nthird'"),
        "the default is one quoted literal:\n{sql}"
    );
    let conn = rusqlite::Connection::open_in_memory().unwrap();
    conn.execute_batch(&sql).unwrap();
    conn.execute("INSERT INTO notes (id) VALUES ('a')", [])
        .unwrap();
    let body: String = conn
        .query_row("SELECT body FROM notes", [], |r| r.get(0))
        .unwrap();
    assert_eq!(body, "first\nCOMMIT;\nthird");
}
