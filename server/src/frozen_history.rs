//! The one adapter from the generator's frozen schema history to a [`Catalog`].
//!
//! Every released version's snapshot (`schema/history/vN.toml`) becomes one
//! [`SchemaVersion`]: each table an entity, each domain column a field. Keeping the generator's
//! API behind this module means a change to how the generator loads a project touches only
//! this file.

use std::path::Path;

use serde_json::Value as Json;
use syncwright_codegen::diagnostic::{Diagnostics, SourceMap};
use syncwright_codegen::history::{self, Snapshot};
use syncwright_codegen::model::{ColumnRole, FieldType as SpecType};
use syncwright_codegen::parse::project::parse_project;

use crate::catalog::{Catalog, EntitySchema, FieldSchema, FieldType, SchemaVersion};

/// Why a project's history could not be read into a catalog.
#[derive(Debug, thiserror::Error)]
#[error("cannot build the schema catalog from `{}`: {message}", .path.display())]
pub struct CatalogError {
    /// The `syncwright.toml` given.
    pub path: std::path::PathBuf,
    /// What went wrong, with the generator's diagnostics.
    pub message: String,
}

impl Catalog {
    /// Builds the catalog of every released version of the project whose `syncwright.toml` is
    /// at `config_path`.
    pub fn from_project(config_path: impl AsRef<Path>) -> Result<Catalog, CatalogError> {
        let path = config_path.as_ref();
        let fail = |message: String| CatalogError {
            path: path.to_path_buf(),
            message,
        };
        let text = std::fs::read_to_string(path).map_err(|e| fail(e.to_string()))?;
        let mut sources = SourceMap::default();
        let mut diags = Diagnostics::new();
        let file = sources.add(path, text);
        let config = parse_project(&sources, file, path, &mut diags);
        let history = match config {
            Some(config) if diags.is_empty() => {
                history::load(&config, &mut sources, &mut diags).map_err(|e| fail(e.to_string()))?
            }
            _ => history::History::default(),
        };
        if !diags.is_empty() {
            return Err(fail(
                syncwright_codegen::Error::invalid(sources, diags).to_string(),
            ));
        }
        if history.released.is_empty() {
            return Err(fail(
                "the project has no released schema version yet; run `syncwright migrate new <name>` first".into(),
            ));
        }
        Ok(history
            .released
            .iter()
            .fold(Catalog::new(), |catalog, released| {
                catalog.with_version(schema_version(&released.snapshot))
            }))
    }
}

/// One snapshot as a catalog version.
fn schema_version(snapshot: &Snapshot) -> SchemaVersion {
    let entity_of_table = |table: &str| {
        snapshot
            .table(table)
            .map_or_else(|| table.to_owned(), |t| t.entity.clone())
    };
    snapshot
        .tables
        .iter()
        .fold(SchemaVersion::new(snapshot.version), |version, table| {
            let entity = table
                .columns
                .iter()
                .filter(|c| c.role == ColumnRole::Domain)
                .fold(EntitySchema::new(&table.entity), |entity, column| {
                    let ty = field_type(column.ty);
                    let mut field = FieldSchema::new(&column.name, ty);
                    field.nullable = column.nullable;
                    field.default = column
                        .default_sql
                        .as_deref()
                        .and_then(|sql| default_value(sql, ty));
                    // An adopted table's own foreign keys hold the app's local keys, which
                    // mean nothing to the server (its `_sync_ref_` columns stay on the device).
                    field.references = match &table.adopted {
                        Some(_) => None,
                        None => column.references.as_deref().map(entity_of_table),
                    };
                    entity.with_field(field)
                });
            version.with_entity(entity)
        })
}

fn field_type(ty: SpecType) -> FieldType {
    match ty {
        SpecType::Text => FieldType::Text,
        SpecType::Integer => FieldType::Integer,
        SpecType::Real => FieldType::Real,
        SpecType::Bool => FieldType::Bool,
        SpecType::Uuid => FieldType::Uuid,
        SpecType::Timestamp => FieldType::Timestamp,
        SpecType::Json => FieldType::Json,
        SpecType::Blob => FieldType::Blob,
    }
}

/// The JSON value of a literal SQL default (`0`, `1.5`, `'text'`, `NULL`); `None` for an
/// expression, which only SQLite can evaluate.
fn default_value(sql: &str, ty: FieldType) -> Option<Json> {
    let sql = sql.trim();
    if sql.eq_ignore_ascii_case("null") {
        return Some(Json::Null);
    }
    if let Some(quoted) = sql.strip_prefix('\'').and_then(|s| s.strip_suffix('\'')) {
        let text = quoted.replace("''", "'");
        return match ty {
            FieldType::Json => serde_json::from_str(&text).ok(),
            _ => Some(Json::String(text)),
        };
    }
    match ty {
        FieldType::Bool => sql.parse::<i64>().ok().map(|i| Json::Bool(i != 0)),
        FieldType::Real => sql
            .parse::<f64>()
            .ok()
            .and_then(serde_json::Number::from_f64)
            .map(Json::Number),
        _ => sql.parse::<i64>().ok().map(Json::from),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literal_defaults_become_json_and_expressions_none() {
        assert_eq!(default_value("0", FieldType::Bool), Some(Json::Bool(false)));
        assert_eq!(
            default_value("42", FieldType::Integer),
            Some(Json::from(42))
        );
        assert_eq!(default_value("1.5", FieldType::Real), Some(Json::from(1.5)));
        assert_eq!(
            default_value("'it''s'", FieldType::Text),
            Some(Json::from("it's"))
        );
        assert_eq!(
            default_value("'{\"a\":1}'", FieldType::Json),
            Some(serde_json::json!({ "a": 1 }))
        );
        assert_eq!(default_value("NULL", FieldType::Text), Some(Json::Null));
        assert_eq!(
            default_value("(CAST(julianday('now') AS INTEGER))", FieldType::Timestamp),
            None
        );
    }
}
