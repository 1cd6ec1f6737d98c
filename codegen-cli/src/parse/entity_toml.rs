//! Parses one TOML entity spec into an [`Entity`].
//!
//! The format is documented in `docs/spec-format.md`. Every problem in the file is reported;
//! the entity is returned only when the file is structurally readable (semantic rules that look
//! at several fields or entities live in `validate`).

use toml::Spanned;
use toml::de::{DeTable, DeValue};

use super::keys::{self, KeyReader};
use super::toml_value::{describe, reader, report_syntax_errors};
use crate::diagnostic::{Diagnostic, Diagnostics, FileId, Origin, SourceMap};
use crate::model::{Entity, Field, FieldType, IndexSpec, Located};
use crate::symbol;

/// Parses the entity spec in `file`. Returns `None` when the file cannot be read as an entity
/// at all (syntax error, no `[entity]` name); problems are pushed to `diags` either way.
pub fn parse_entity(sources: &SourceMap, file: FileId, diags: &mut Diagnostics) -> Option<Entity> {
    let text = sources.get(file).text.as_str();
    let (document, errors) = DeTable::parse_recoverable(text);
    if report_syntax_errors(file, &errors, text.len(), diags) {
        return None;
    }
    let stem = sources
        .get(file)
        .path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let root = document.get_ref();
    let mut top = reader(file, root, format!("entity spec `{stem}`"));
    top.check_keys(symbol::TOP_LEVEL_KEYS, &[], "top-level", diags);

    let whole_file = Origin::file(file, 0..0);
    let Some(entity_value) = root.get(symbol::ENTITY) else {
        diags.push(
            Diagnostic::error(whole_file, "missing `[entity]` table in entity spec")
                .help("start the file with `[entity]` and `name = \"<singular name>\"`"),
        );
        return None;
    };
    let DeValue::Table(entity_table) = entity_value.get_ref() else {
        diags.push(
            Diagnostic::error(
                Origin::file(file, entity_value.span()),
                format!(
                    "`entity` must be a table, found {}",
                    describe(file, entity_value)
                ),
            )
            .help("write `[entity]` on its own line, followed by `name = \"...\"`"),
        );
        return None;
    };
    let mut header = reader(file, entity_table, "`[entity]`");
    header.check_keys(symbol::ENTITY_KEYS, &[], "entity", diags);
    let Some(name) = header.string(symbol::NAME, diags) else {
        if header.get(symbol::NAME).is_none() {
            diags.push(
                Diagnostic::error(
                    Origin::file(file, entity_value.span()),
                    "`[entity]` has no `name`",
                )
                .help(format!(
                    "add `name = \"{stem}\"` (singular, snake_case) under `[entity]`"
                )),
            );
        }
        return None;
    };
    let entity_name = name.value.clone();
    let mut entity = header.entity(name, Origin::file(file, entity_value.span()), diags);

    let fields = match root.get(symbol::FIELDS) {
        None => Vec::new(),
        Some(value) => match value.get_ref() {
            DeValue::Table(fields) => fields
                .iter()
                .filter_map(|(key, value)| parse_field(file, &entity_name, key, value, diags))
                .collect(),
            _ => {
                diags.push(
                    Diagnostic::error(
                        Origin::file(file, value.span()),
                        format!(
                            "`fields` of entity `{entity_name}` must be a table, found {}",
                            describe(file, value)
                        ),
                    )
                    .help("write `[fields]` followed by one `name = { type = \"text\" }` per line"),
                );
                Vec::new()
            }
        },
    };
    entity.fields = fields;
    entity.indexes = parse_indexes(file, &entity_name, root, diags);
    Some(entity)
}

fn parse_field(
    file: FileId,
    entity: &str,
    key: &Spanned<toml::de::DeString<'_>>,
    value: &Spanned<DeValue<'_>>,
    diags: &mut Diagnostics,
) -> Option<Field> {
    let name = Located::new(key.get_ref().to_string(), Origin::file(file, key.span()));
    let field_origin = Origin::file(file, key.span().start..value.span().end);
    let context = format!("field `{}` of entity `{entity}`", name.value);
    // Shorthand: `title = "text"` means `title = { type = "text" }`.
    if let DeValue::String(ty) = value.get_ref() {
        let ty = Located::new(ty.to_string(), Origin::file(file, value.span()));
        let ty = keys::field_type(&context, ty, diags)?;
        return Some(Field::new(name, ty, field_origin));
    }
    let DeValue::Table(table) = value.get_ref() else {
        diags.push(
            Diagnostic::error(
                Origin::file(file, value.span()),
                format!(
                    "{context} must be a table or a type name, found {}",
                    describe(file, value)
                ),
            )
            .help(format!("write `{} = {{ type = \"text\" }}`", name.value)),
        );
        return None;
    };
    let mut reader: KeyReader = reader(file, table, context.clone());
    reader.check_keys(symbol::FIELD_KEYS, &[], "field", diags);
    let ty = reader.field_type(diags);
    if reader.get(symbol::TYPE).is_none() {
        diags.push(
            Diagnostic::error(
                Origin::file(file, value.span()),
                format!("{context} has no `type`"),
            )
            .help(format!(
                "add `type = \"text\"` (one of: {})",
                keys::type_names()
            )),
        );
    }
    let nullable = reader
        .bool(symbol::NULLABLE, diags)
        .is_some_and(|b| b.value);
    // Every option is read (and its problems reported) even when the type is wrong.
    let mut field = Field::new(
        name,
        Located::new(FieldType::Text, Origin::Generated),
        field_origin,
    );
    field.nullable = nullable;
    reader.field_options(&mut field, diags);
    field.ty = ty?;
    Some(field)
}

fn parse_indexes(
    file: FileId,
    entity: &str,
    root: &DeTable<'_>,
    diags: &mut Diagnostics,
) -> Vec<IndexSpec> {
    let Some(value) = root.get(symbol::INDEXES) else {
        return Vec::new();
    };
    let DeValue::Array(items) = value.get_ref() else {
        diags.push(
            Diagnostic::error(
                Origin::file(file, value.span()),
                format!(
                    "`indexes` of entity `{entity}` must be an array of tables, found {}",
                    describe(file, value)
                ),
            )
            .help("write each index as `[[indexes]]` followed by `columns = [\"a\", \"b\"]`"),
        );
        return Vec::new();
    };
    let mut indexes = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let context = format!("index #{} of entity `{entity}`", i + 1);
        let DeValue::Table(table) = item.get_ref() else {
            diags.push(
                Diagnostic::error(
                    Origin::file(file, item.span()),
                    format!("{context} must be a table, found {}", describe(file, item)),
                )
                .help("write `{ columns = [\"a\", \"b\"] }`"),
            );
            continue;
        };
        let mut reader = reader(file, table, context);
        reader.check_keys(symbol::INDEX_KEYS, &[], "index", diags);
        let origin = Origin::file(file, item.span());
        indexes.extend(reader.index(origin.clone(), origin, diags));
    }
    indexes
}
