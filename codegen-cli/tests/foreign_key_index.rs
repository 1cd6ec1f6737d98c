//! A foreign key's own index is left out when a declared index starts with its column (SQLite
//! serves the key's lookups and checks with any index whose leftmost column is the key), and a
//! project released before that rule drops the redundant index in its next version: explained
//! by `check`, commented in the migration, never refused, and no row lost.
//!
//! `tests/released-with-fk-index` is such a project, released by the generator before the rule:
//! its v1 creates both `tasks(project_id)` and `tasks(project_id,priority)`.

mod migrate_support;

use std::path::Path;

use migrate_support::Project;
use rusqlite::Connection;
use syncwright_codegen::load::schema_from_toml;
use syncwright_codegen::resolve;

const PROJECT: &str = "[entity]\nname = \"project\"\n\n[fields]\nname = { type = \"text\" }\n";

/// The index columns of `tasks` resolved from a task spec with `fields` and `indexes` (TOML).
fn task_indexes(fields: &str, indexes: &str) -> Vec<Vec<String>> {
    let task = format!("[entity]\nname = \"task\"\n\n[fields]\n{fields}\n{indexes}");
    let schema = schema_from_toml(1, &[("project.toml", PROJECT), ("task.toml", &task)])
        .unwrap_or_else(|e| panic!("specs must be valid:\n{e}"));
    let tasks = resolve::tables(&schema)
        .into_iter()
        .find(|t| t.name == "tasks")
        .expect("a tasks table");
    tasks.indexes.into_iter().map(|i| i.columns).collect()
}

fn columns(names: &[&str]) -> Vec<String> {
    names.iter().map(|n| n.to_string()).collect()
}

const FIELDS: &str = "title = { type = \"text\" }\npriority = { type = \"integer\", default = 0 }";

#[test]
fn a_foreign_key_gets_its_own_index_when_no_declared_index_starts_with_it() {
    let fields = format!("{FIELDS}\nproject_id = {{ type = \"uuid\", references = \"projects\" }}");
    let indexes = task_indexes(
        &fields,
        "[[indexes]]\ncolumns = [\"priority\", \"project_id\"]\n",
    );
    assert!(
        indexes.contains(&columns(&["project_id"])),
        "an index with the key second cannot serve lookups by the key: {indexes:?}"
    );
}

#[test]
fn a_declared_index_starting_with_the_foreign_key_replaces_its_own_index() {
    let fields = format!("{FIELDS}\nproject_id = {{ type = \"uuid\", references = \"projects\" }}");
    for unique in ["", "unique = true\n"] {
        let declared = format!("[[indexes]]\ncolumns = [\"project_id\", \"priority\"]\n{unique}");
        let indexes = task_indexes(&fields, &declared);
        assert!(
            !indexes.contains(&columns(&["project_id"])),
            "`{declared}` already serves lookups by `project_id`: {indexes:?}"
        );
        assert!(indexes.contains(&columns(&["project_id", "priority"])));
    }
}

#[test]
fn an_explicit_index_on_a_foreign_key_stays_beside_a_declared_one() {
    for own in ["index = true", "unique = true"] {
        let fields = format!(
            "{FIELDS}\nproject_id = {{ type = \"uuid\", references = \"projects\", {own} }}"
        );
        let indexes = task_indexes(
            &fields,
            "[[indexes]]\ncolumns = [\"project_id\", \"priority\"]\n",
        );
        assert!(
            indexes.contains(&columns(&["project_id"])),
            "`{own}` on the field is the user's index: {indexes:?}"
        );
    }
}

/// A copy of the project released before the rule, in a temporary directory.
fn released_before_the_rule() -> Project {
    let project = Project::new();
    copy_dir(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/released-with-fk-index"),
        project.dir.path(),
    );
    project
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let path = entry.unwrap().path();
        let target = to.join(path.file_name().unwrap());
        if path.is_dir() {
            copy_dir(&path, &target);
        } else {
            std::fs::copy(&path, &target).unwrap();
        }
    }
}

fn set_version(project: &Project, version: u32) {
    let config = project.read("syncwright.toml");
    let config = config.replace("version = 1", &format!("version = {version}"));
    std::fs::write(project.config(), config).unwrap();
}

#[test]
fn check_explains_a_released_foreign_key_index_a_declared_index_makes_redundant() {
    let project = released_before_the_rule();
    let error = syncwright_codegen::check(project.config())
        .expect_err("the released v1 has an index the specs no longer give");
    let report = project.report(&error);
    assert!(
        report.contains("dropped as redundant") && report.contains("loses no data"),
        "{report}"
    );
    insta::assert_snapshot!(report);
}

/// The index names and columns of `table` in `conn`.
fn indexes_of(conn: &Connection, table: &str) -> Vec<String> {
    let mut statement = conn
        .prepare("SELECT name FROM pragma_index_list(?1) ORDER BY name")
        .unwrap();
    statement
        .query_map([table], |row| row.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

#[test]
fn the_next_version_drops_the_redundant_index_keeping_every_row_and_the_key_indexed() {
    let project = released_before_the_rule();
    let conn = Connection::open_in_memory().unwrap();
    conn.execute_batch(&project.read("migrations/0001_init.sql"))
        .unwrap();
    conn.execute_batch(
        "PRAGMA foreign_keys = ON;
         INSERT INTO projects (id, name) VALUES ('p1', 'Roof');
         INSERT INTO tasks (id, title, project_id, priority) VALUES
           ('t1', 'Survey', 'p1', 2), ('t2', 'Repair', 'p1', 1);",
    )
    .unwrap();
    assert!(indexes_of(&conn, "tasks").contains(&"tasks(project_id)".to_string()));

    set_version(&project, 2);
    syncwright_codegen::migrate_new(project.config(), "shared_fk_index").unwrap_or_else(|e| {
        panic!(
            "dropping an index is not destructive: {}",
            project.report(&e)
        )
    });
    let migration = project.read("migrations/0002_shared_fk_index.sql");
    insta::assert_snapshot!("drop_redundant_fk_index", migration);
    syncwright_codegen::check(project.config())
        .unwrap_or_else(|e| panic!("v2 is released: {}", project.report(&e)));

    conn.execute_batch(&migration).unwrap();
    let indexes = indexes_of(&conn, "tasks");
    assert!(
        !indexes.contains(&"tasks(project_id)".to_string()),
        "{indexes:?}"
    );
    assert!(indexes.contains(&"tasks(project_id,priority)".to_string()));
    let rows: i64 = conn
        .query_row(
            "SELECT count(*) FROM tasks WHERE project_id = 'p1'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(rows, 2, "every task survives the drop");
    // The foreign key's child lookup (a parent's delete checks its children) still uses an
    // index: the declared one, by its leftmost column.
    let plan: String = conn
        .query_row(
            "EXPLAIN QUERY PLAN SELECT 1 FROM tasks WHERE project_id = 'p1'",
            [],
            |r| r.get(3),
        )
        .unwrap();
    assert!(
        plan.contains("USING COVERING INDEX tasks(project_id,priority)")
            || plan.contains("USING INDEX tasks(project_id,priority)"),
        "lookups by the key use the declared index: {plan}"
    );
}
