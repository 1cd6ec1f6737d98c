//! Rendering Rust: the build.rs module with the embedded migrations, and `#[derive(Syncable)]`
//! structs for TOML entity specs, through the askama templates `migrations.rs` and
//! `entities.rs`.

use std::path::Path;

use askama::Template;

use crate::diagnostic::{Origin, SourceMap, display_path};
use crate::model::{
    ColumnRole, ConflictStrategy, DefaultValue, Entity, Field, FieldType, Table, sync_columns_const,
};
use crate::naming::{plural, snake_case};
use crate::symbol;

/// One migration to embed, borrowed from whatever rendered it.
#[derive(Clone, Copy, Debug)]
pub struct EmbeddedMigration<'a> {
    /// The version the database is at after it.
    pub version: u32,
    /// `init` for `0001_init.sql`, `schema` for the fresh-install script.
    pub name: &'a str,
    /// The whole SQL file.
    pub sql: &'a str,
    /// SHA-256 (lower-case hex) of the SQL with `\r\n` replaced by `\n`.
    pub checksum: &'a str,
}

/// `syncwright_migrations.rs`: the `MIGRATIONS` constant of `docs/contracts.md`.
#[derive(Template)]
#[template(path = "migrations.rs")]
struct MigrationsRs {
    source: String,
    version: u32,
    schema: String,
    steps: Vec<String>,
    entities: Vec<String>,
    /// `MIGRATIONS`, or `RELEASES` when `MIGRATIONS` wraps them for an adopted project.
    releases: &'static str,
    /// For an adopted project: the import snapshot and `existing_rows`, as Rust literals.
    adoption: Option<(String, String)>,
}

/// What the build.rs module of an adopted project embeds besides its releases.
#[derive(Clone, Copy, Debug)]
pub struct EmbeddedAdoption<'a> {
    /// The import snapshot's text.
    pub snapshot: &'a str,
    /// `[adopted] existing_rows`.
    pub existing_rows: &'a str,
}

/// Renders the module that embeds `schema` (fresh install) and `steps` (in version order) at
/// `version`, and the runtime descriptor of every table in `entities` (the latest version's,
/// deprecated ones left out) so that opening the database with `MIGRATIONS` registers them all;
/// `source` names where they came from for the header.
pub fn migrations_rs(
    source: &str,
    version: u32,
    schema: EmbeddedMigration<'_>,
    steps: &[EmbeddedMigration<'_>],
    entities: &[Table],
    adoption: Option<EmbeddedAdoption<'_>>,
) -> String {
    super::render(&MigrationsRs {
        releases: if adoption.is_some() {
            "RELEASES"
        } else {
            "MIGRATIONS"
        },
        adoption: adoption.map(|a| (raw_string(a.snapshot), format!("{:?}", a.existing_rows))),
        source: source.to_string(),
        version,
        schema: migration_literal(schema),
        steps: steps.iter().copied().map(migration_literal).collect(),
        entities: entities
            .iter()
            .filter(|t| !t.deprecated)
            .map(descriptor_literal)
            .collect(),
    })
}

/// The `syncwright::EntityDescriptor` of `table`: the same description `#[derive(Syncable)]`
/// emits for it (domain columns that are not deprecated, every index).
fn descriptor_literal(table: &Table) -> String {
    let columns: Vec<String> = table
        .columns
        .iter()
        .filter(|c| c.role == ColumnRole::Domain && !c.deprecated)
        .map(|c| {
            let references = match &c.references {
                Some(parent) => format!("::core::option::Option::Some({parent:?})"),
                None => "::core::option::Option::None".to_owned(),
            };
            format!(
                "::syncwright::ColumnDescriptor {{ name: {:?}, ty: ::syncwright::ColumnType::{:?}, nullable: {}, references: {references} }}",
                c.name, c.ty, c.nullable
            )
        })
        .collect();
    let indexes: Vec<String> = table
        .indexes
        .iter()
        .map(|i| {
            let columns: Vec<String> = i.columns.iter().map(|c| format!("{c:?}")).collect();
            format!(
                "::syncwright::IndexDescriptor {{ name: {:?}, columns: &[{}], unique: {} }}",
                i.name,
                columns.join(", "),
                i.unique
            )
        })
        .collect();
    format!(
        "&::syncwright::EntityDescriptor {{\n        name: {:?},\n        table: {:?},\n        conflict: ::syncwright::ConflictStrategy::{},\n        columns: &[\n            {}\n        ],\n        indexes: &[\n            {}\n        ],\n        sync: &::syncwright::SyncColumns::{},\n    }}",
        table.entity,
        table.name,
        table.conflict.runtime_variant(),
        columns.join(",\n            "),
        indexes.join(",\n            "),
        sync_columns_const(table.adopted.is_some()),
    )
}

fn migration_literal(migration: EmbeddedMigration<'_>) -> String {
    format!(
        "::syncwright::Migration {{ version: {}, name: {:?}, checksum: {:?}, sql: {} }}",
        migration.version,
        migration.name,
        migration.checksum,
        raw_string(migration.sql)
    )
}

/// A raw string literal holding `text` verbatim, with enough `#`s that no `"#...` in the text
/// ends it early: SQL stays readable in the generated file.
pub fn raw_string(text: &str) -> String {
    let mut hashes = 1;
    while text.contains(&format!("\"{}", "#".repeat(hashes))) {
        hashes += 1;
    }
    let fence = "#".repeat(hashes);
    format!("r{fence}\"{text}\"{fence}")
}

/// `entities.rs`: one `#[derive(Syncable)]` struct per entity.
#[derive(Template)]
#[template(path = "entities.rs")]
struct EntitiesRs {
    source: String,
    entities: Vec<EntityView>,
}

struct EntityView {
    /// An adopted entity keeps the app's column names (camelCase too) as field names.
    adopted: bool,
    name: String,
    table: String,
    path: String,
    rust_name: String,
    attrs: Option<String>,
    fields: Vec<FieldView>,
}

struct FieldView {
    name: String,
    ty: String,
    attrs: Option<String>,
}

/// Renders a struct with `#[derive(Syncable)]` for each entity that is not deprecated, leaving
/// deprecated fields out: typed Rust for a TOML-first project. Parsed back by the Rust front
/// end, each struct gives the same table as its spec (deprecated fields aside).
///
/// `root` is the project directory: spec paths in doc comments are shown relative to it.
pub fn entities_rs(source: &str, entities: &[&Entity], sources: &SourceMap, root: &Path) -> String {
    let entities = entities
        .iter()
        .filter(|e| !e.is_deprecated())
        .map(|entity| entity_view(entity, sources, root))
        .collect();
    super::render(&EntitiesRs {
        source: source.to_string(),
        entities,
    })
}

fn entity_view(entity: &Entity, sources: &SourceMap, root: &Path) -> EntityView {
    let name = &entity.name.value;
    let rust_name = entity.rust_name();
    let mut attrs = Vec::new();
    if snake_case(&rust_name) != *name {
        attrs.push(format!("{} = {:?}", symbol::NAME, name));
    }
    if entity.table.value != plural(name) {
        attrs.push(format!("{} = {:?}", symbol::TABLE, entity.table.value));
    }
    if entity.is_adopted() {
        attrs.push(symbol::ADOPTED.to_owned());
    }
    if entity.conflict.value != ConflictStrategy::default() {
        attrs.push(format!(
            "{} = {:?}",
            symbol::CONFLICT,
            entity.conflict.value.as_str()
        ));
    }
    for index in &entity.indexes {
        let columns: Vec<String> = index
            .columns
            .iter()
            .map(|c| format!("{:?}", c.value))
            .collect();
        let unique = if index.unique {
            format!(", {}", symbol::UNIQUE)
        } else {
            String::new()
        };
        attrs.push(format!(
            "{}({} = [{}]{unique})",
            symbol::INDEX,
            symbol::COLUMNS,
            columns.join(", ")
        ));
    }
    let path = match &entity.origin {
        Origin::File { file, .. } => {
            let path = &sources.get(*file).path;
            display_path(path.strip_prefix(root).unwrap_or(path))
        }
        _ => String::from("a spec"),
    };
    // The app's own columns of an adopted table keep their indexes and keys as the app made
    // them: `index`, `unique` and `references` there describe, they add nothing.
    let app_column = |field: &Field| {
        entity
            .adoption
            .as_ref()
            .is_some_and(|a| a.imported.column(&field.name.value).is_some())
    };
    EntityView {
        adopted: entity.is_adopted(),
        name: name.clone(),
        table: entity.table.value.clone(),
        path,
        rust_name,
        attrs: join(attrs),
        fields: entity
            .fields
            .iter()
            .filter(|f| !f.is_deprecated())
            .map(|f| field_view(f, app_column(f)))
            .collect(),
    }
}

fn join(attrs: Vec<String>) -> Option<String> {
    (!attrs.is_empty()).then(|| attrs.join(", "))
}

/// A field of the struct; `app_column`: an adopted table's own column (see [`entity_view`]).
fn field_view(field: &Field, app_column: bool) -> FieldView {
    let mut attrs = Vec::new();
    if let Some(default) = &field.default {
        attrs.push(format!(
            "{} = {}",
            symbol::DEFAULT,
            default_literal(&default.value)
        ));
    }
    if field.is_indexed() && !app_column {
        attrs.push(symbol::INDEX.to_string());
    }
    if field.is_unique() && !app_column {
        attrs.push(symbol::UNIQUE.to_string());
    }
    let references = if app_column { &None } else { &field.references };
    let strings = [
        (symbol::REFERENCES, references),
        (symbol::RENAMED_FROM, &field.renamed_from),
        (symbol::BACKFILL, &field.backfill),
    ];
    for (key, value) in strings {
        if let Some(value) = value {
            attrs.push(format!("{key} = {:?}", value.value));
        }
    }
    let ty = rust_type(field.ty.value);
    FieldView {
        name: rust_ident(&field.name.value),
        ty: if field.nullable {
            format!("Option<{ty}>")
        } else {
            ty.to_string()
        },
        attrs: join(attrs),
    }
}

/// The Rust type of a column type, as the derive maps it back.
pub fn rust_type(ty: FieldType) -> &'static str {
    match ty {
        FieldType::Text => "String",
        FieldType::Integer => "i64",
        FieldType::Real => "f64",
        FieldType::Bool => "bool",
        FieldType::Uuid => "::syncwright::Uuid",
        FieldType::Timestamp => "::std::time::SystemTime",
        FieldType::Json => "::syncwright::serde_json::Value",
        FieldType::Blob => "Vec<u8>",
    }
}

/// A default as an attribute value: JSON arrays of literals as Rust arrays, other JSON as its
/// text.
fn default_literal(value: &DefaultValue) -> String {
    match value {
        DefaultValue::Json(s) => serde_json::from_str(s)
            .ok()
            .and_then(|json| json_array_literal(&json))
            .unwrap_or_else(|| format!("{s:?}")),
        DefaultValue::Text(s) => format!("{s:?}"),
        DefaultValue::Integer(i) => i.to_string(),
        DefaultValue::Real(f) => format!("{f:?}"),
        DefaultValue::Bool(b) => b.to_string(),
    }
}

/// `[1, "a", [true]]` as attribute syntax; `None` for objects and nulls, which attributes cannot
/// spell.
fn json_array_literal(json: &serde_json::Value) -> Option<String> {
    use serde_json::Value as J;
    let serde_json::Value::Array(items) = json else {
        return None;
    };
    let items: Option<Vec<String>> = items
        .iter()
        .map(|item| match item {
            J::String(s) => Some(format!("{s:?}")),
            J::Bool(b) => Some(b.to_string()),
            J::Number(n) if n.is_f64() => n.as_f64().map(|f| format!("{f:?}")),
            J::Number(n) => Some(n.to_string()),
            J::Array(_) => json_array_literal(item),
            J::Null | J::Object(_) => None,
        })
        .collect();
    Some(format!("[{}]", items?.join(", ")))
}

/// A field name as a Rust identifier: keywords become raw identifiers (`r#type`).
fn rust_ident(name: &str) -> String {
    if syn::parse_str::<syn::Ident>(name).is_ok() {
        name.to_string()
    } else {
        format!("r#{name}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raw_strings_outlast_the_quotes_inside_them() {
        assert_eq!(raw_string("a \"b\""), "r#\"a \"b\"\"#");
        assert_eq!(raw_string("x \"# y"), "r##\"x \"# y\"##");
    }

    #[test]
    fn keywords_become_raw_identifiers() {
        assert_eq!(rust_ident("type"), "r#type");
        assert_eq!(rust_ident("title"), "title");
    }
}
