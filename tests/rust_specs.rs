//! Rust structs as specs: the derive, the source-file front end and the TOML front end agree.
//!
//! `fixtures/field-service-rs` is `fixtures/field-service` written as annotated structs, sharing
//! its history and lock. The same `model.rs` is compiled here with `#[derive(Syncable)]`.

use std::path::Path;

use syncwright::Syncable;
use syncwright_codegen::diagnostic::{Diagnostics, SourceMap};
use syncwright_codegen::model::{ColumnRole, Schema, Table};
use syncwright_codegen::parse::rust_source::parse_source;
use syncwright_codegen::render::rust::entities_rs;
use syncwright_codegen::{LoadedProject, build_config, load_project, rendered_migrations, resolve};

#[path = "../fixtures/field-service-rs/src/model.rs"]
mod model;

fn load(project: &str) -> LoadedProject {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures")
        .join(project)
        .join("syncwright.toml");
    load_project(&path).unwrap_or_else(|e| panic!("fixture `{project}` does not load:\n{e}"))
}

fn tables(schema: &Schema) -> Vec<Table> {
    resolve::tables(schema)
}

#[test]
fn rust_sources_and_toml_specs_give_identical_tables_and_migrations() {
    let toml = load("field-service");
    let rust = load("field-service-rs");
    assert_eq!(
        tables(&toml.schema),
        tables(&rust.schema),
        "model.rs must describe exactly the tables of the TOML specs"
    );
    let toml_set = rendered_migrations(&toml).expect("TOML project renders its migrations");
    let rust_set = rendered_migrations(&rust).expect("Rust project renders its migrations");
    assert_eq!(
        toml_set.schema.sql, rust_set.schema.sql,
        "schema.sql differs between the TOML and the Rust project"
    );
    assert_eq!(
        toml_set, rust_set,
        "migrations differ between the TOML and the Rust project"
    );
}

#[test]
fn rust_sources_match_the_released_snapshot_byte_for_byte() {
    // The latest snapshot was frozen from the TOML specs; the specs-vs-snapshot check of
    // `rendered_migrations` passing for the Rust project (above) proves the same, this states it.
    let rust = load("field-service-rs");
    let snapshot = std::fs::read_to_string(rust.config.history_dir.join("v5.toml")).unwrap();
    for table in tables(&rust.schema) {
        assert!(
            snapshot.contains(&format!("name = \"{}\"", table.name)),
            "table `{}` is missing from the v5 snapshot",
            table.name
        );
    }
}

/// The derive's static description is `resolve::table` of the same struct: every domain column
/// (deprecated ones aside) and every index, by name.
fn assert_descriptor_matches<T: Syncable>(table: &Table) {
    let entity = T::ENTITY;
    assert_eq!(entity.name, table.entity);
    assert_eq!(entity.table, table.name);
    assert_eq!(
        format!("{:?}", entity.conflict),
        table.conflict.runtime_variant(),
        "conflict strategy of `{}`",
        table.entity
    );
    let domain: Vec<_> = table
        .columns
        .iter()
        .filter(|c| c.role == ColumnRole::Domain && !c.deprecated)
        .collect();
    assert_eq!(
        entity.columns.len(),
        domain.len(),
        "columns of `{}`",
        table.entity
    );
    for (descriptor, column) in entity.columns.iter().zip(domain) {
        assert_eq!(descriptor.name, column.name);
        assert_eq!(format!("{:?}", descriptor.ty), format!("{:?}", column.ty));
        assert_eq!(
            descriptor.nullable, column.nullable,
            "nullability of `{}`",
            column.name
        );
        assert_eq!(descriptor.references, column.references.as_deref());
    }
    let names: Vec<_> = entity.indexes.iter().map(|i| (i.name, i.unique)).collect();
    let expected: Vec<_> = table
        .indexes
        .iter()
        .map(|i| (i.name.as_str(), i.unique))
        .collect();
    assert_eq!(names, expected, "indexes of `{}`", table.entity);
}

#[test]
fn derived_descriptors_match_the_generators_tables() {
    let toml = load("field-service");
    let tables = tables(&toml.schema);
    let table = |name: &str| {
        tables
            .iter()
            .find(|t| t.entity == name)
            .unwrap_or_else(|| panic!("no entity `{name}` in the TOML fixture"))
    };
    assert_descriptor_matches::<model::Comment>(table("comment"));
    assert_descriptor_matches::<model::Inspection>(table("inspection"));
    assert_descriptor_matches::<model::Photo>(table("photo"));
    assert_descriptor_matches::<model::Project>(table("project"));
    assert_descriptor_matches::<model::work::Task>(table("task"));
}

#[test]
fn toml_specs_render_structs_that_parse_back_to_the_same_tables() {
    let toml = load("field-service");
    let entities = build_config::toml_entities(&toml);
    assert_eq!(entities.len(), toml.schema.entities.len());
    let rendered = entities_rs(
        "syncwright.toml",
        &entities,
        &toml.sources,
        &toml.config.root,
    );
    insta::assert_snapshot!("field_service_entities_rs", rendered);

    let mut sources = SourceMap::default();
    let file = sources.add("entities.rs", rendered);
    let mut diags = Diagnostics::new();
    let parsed = parse_source(&sources, file, &mut diags);
    assert!(
        diags.is_empty(),
        "the rendered structs do not parse: {diags:?}"
    );
    let schema = Schema {
        version: toml.schema.version,
        entities: parsed.into_iter().map(|e| e.entity).collect(),
        ..Schema::default()
    };
    assert_eq!(tables(&schema), tables(&toml.schema));
}

fn write(dir: &Path, files: &[(&str, &str)]) {
    for (path, text) in files {
        let path = dir.join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
}

fn load_error(files: &[(&str, &str)]) -> String {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), files);
    let config = dir.path().join("syncwright.toml");
    let error = load_project(&config).expect_err("the project is invalid");
    let report = error.to_string();
    // Paths relative to the project, so the snapshot is the same on every machine.
    report.replace(&format!("{}/", dir.path().display()), "")
}

#[test]
fn an_entity_defined_in_toml_and_in_rust_is_an_error_naming_both_places() {
    let report = load_error(&[
        (
            "syncwright.toml",
            "[schema]\nversion = 1\nentities = [\"schema/*.toml\"]\nsources = [\"src/*.rs\"]\n",
        ),
        (
            "schema/task.toml",
            "[entity]\nname = \"task\"\n\n[fields]\ntitle = { type = \"text\" }\n",
        ),
        (
            "src/model.rs",
            "use syncwright::Syncable;\n\n#[derive(Syncable)]\npub struct Task {\n    pub title: String,\n}\n",
        ),
    ]);
    insta::assert_snapshot!(report);
}

#[test]
fn rust_sources_report_every_problem_with_file_line_and_column() {
    let report = load_error(&[
        (
            "syncwright.toml",
            "[schema]\nversion = 1\nentities = []\nsources = [\"src/**/*.rs\"]\n",
        ),
        (
            "src/model.rs",
            concat!(
                "use syncwright::Syncable;\n",
                "\n",
                "#[derive(Debug, Syncable)]\n",
                "pub struct Task {\n",
                "    pub title: String,\n",
                "    #[syncwright(references = \"project\")]\n",
                "    pub project_id: uuid::Uuid,\n",
                "    #[syncwright(default = 0, indx)]\n",
                "    pub priority: i64,\n",
                "}\n",
                "\n",
                "mod nested {\n",
                "    #[derive(syncwright::Syncable)]\n",
                "    #[syncwright(table = \"projects\")]\n",
                "    pub struct Project {\n",
                "        pub name: String,\n",
                "        pub tags: std::collections::HashSet<String>,\n",
                "    }\n",
                "}\n",
            ),
        ),
    ]);
    insta::assert_snapshot!(report);
}

/// An explicit `index` on a foreign key beside a declared index that starts with it.
mod explicit_key_index {
    use syncwright::Syncable;
    use uuid::Uuid;

    #[derive(Debug, Clone, PartialEq, Syncable)]
    #[syncwright(index(columns = ["project_id", "priority"]))]
    pub struct Chore {
        #[syncwright(references = "projects", index)]
        pub project_id: Uuid,
        pub priority: i64,
    }
}

/// The columns of every index of `T` that starts with `column`.
fn indexes_starting_with<T: Syncable>(column: &str) -> Vec<Vec<&'static str>> {
    T::ENTITY
        .indexes
        .iter()
        .filter(|i| i.columns.first() == Some(&column))
        .map(|i| i.columns.to_vec())
        .collect()
}

#[test]
fn derive_leaves_out_a_foreign_keys_own_index_when_a_declared_index_starts_with_it() {
    assert_eq!(
        indexes_starting_with::<model::work::Task>("project_id"),
        vec![vec!["project_id", "priority"]],
        "`index(columns = [\"project_id\", \"priority\"])` serves the key's lookups"
    );
    assert_eq!(
        indexes_starting_with::<explicit_key_index::Chore>("project_id"),
        vec![vec!["project_id"], vec!["project_id", "priority"]],
        "an explicit `index` on the key is the user's and stays"
    );
}

/// The field-service migrations cut at `version`, with the steps as the fresh-install script.
fn field_service_migrations(version: Option<u32>) -> syncwright::OwnedMigrations {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/field-service/migrations");
    let mut all = syncwright::Migrations::from_dir(dir).expect("fixture migrations load");
    if let Some(version) = version {
        all.steps.retain(|s| s.version <= version);
        all.version = version;
        all.schema = syncwright::OwnedMigration::new(
            version,
            "schema",
            all.steps.iter().map(|s| s.sql.as_str()).collect::<String>(),
        );
    }
    all
}

/// The index names of `table` in the database at `path`.
fn index_names(path: &Path, table: &str) -> Vec<String> {
    let conn = rusqlite::Connection::open(path).unwrap();
    let mut statement = conn
        .prepare("SELECT name FROM pragma_index_list(?1) ORDER BY name")
        .unwrap();
    statement
        .query_map([table], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

#[test]
fn a_database_upgraded_through_the_redundant_key_index_drop_passes_the_drift_check() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("field-service.db");
    // v1 gives `tasks` its foreign key's own index; v2 declares `(project_id, priority)` and
    // drops it.
    drop(syncwright::Database::open(&path, &field_service_migrations(Some(1))).unwrap());
    rusqlite::Connection::open(&path)
        .unwrap()
        .execute_batch(
            "INSERT INTO projects (id, name) VALUES ('00000000-0000-4000-8000-000000000001', 'depot');
             INSERT INTO tasks (id, title, project_id) VALUES
               ('00000000-0000-4000-8000-000000000002', 'roof', '00000000-0000-4000-8000-000000000001');",
        )
        .unwrap();
    assert!(index_names(&path, "tasks").contains(&"tasks(project_id)".to_string()));

    let entities = [
        model::Project::ENTITY,
        model::work::Task::ENTITY,
        model::Inspection::ENTITY,
        model::Photo::ENTITY,
        model::Comment::ENTITY,
    ];
    let db = syncwright::Database::open_with(&path, &field_service_migrations(None), &entities)
        .unwrap_or_else(|e| panic!("the upgraded database opens and passes the drift check: {e}"));
    drop(db);
    let indexes = index_names(&path, "tasks");
    assert!(
        !indexes.contains(&"tasks(project_id)".to_string())
            && indexes.contains(&"tasks(project_id,priority)".to_string()),
        "{indexes:?}"
    );
    let conn = rusqlite::Connection::open(&path).unwrap();
    let tasks: i64 = conn
        .query_row("SELECT count(*) FROM tasks", [], |r| r.get(0))
        .unwrap();
    assert_eq!(tasks, 1, "the task survives the upgrade");
    let broken: i64 = conn
        .query_row("SELECT count(*) FROM pragma_foreign_key_check", [], |r| {
            r.get(0)
        })
        .unwrap();
    assert_eq!(broken, 0, "every foreign key still holds");
}
