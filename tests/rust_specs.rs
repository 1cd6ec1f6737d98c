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
