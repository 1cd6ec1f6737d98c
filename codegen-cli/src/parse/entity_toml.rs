//! Parses one TOML entity spec into an [`Entity`].
//!
//! The format is documented in `docs/spec-format.md`. Every problem in the file is reported;
//! the entity is returned only when the file is structurally readable (semantic rules that look
//! at several fields or entities live in `validate`).

use toml::Spanned;
use toml::de::{DeTable, DeValue};

use super::toml_value::{TableReader, describe, report_syntax_errors};
use crate::diagnostic::{Diagnostic, Diagnostics, FileId, Origin, SourceMap};
use crate::model::{ConflictStrategy, DefaultValue, Entity, Field, FieldType, IndexSpec, Located};
use crate::naming::{did_you_mean, plural};
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
    let root = TableReader {
        file,
        table: document.get_ref(),
        context: format!("entity spec `{stem}`"),
    };
    root.check_keys(symbol::TOP_LEVEL_KEYS, "top-level", diags);

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
                    describe(entity_value.get_ref())
                ),
            )
            .help("write `[entity]` on its own line, followed by `name = \"...\"`"),
        );
        return None;
    };
    let header = TableReader {
        file,
        table: entity_table,
        context: "`[entity]`".to_string(),
    };
    header.check_keys(symbol::ENTITY_KEYS, "entity", diags);
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
    let entity_name = name.get_ref().clone();
    let table = match header.string(symbol::TABLE, diags) {
        Some(table) => located(file, table),
        None => Located::new(plural(&entity_name), Origin::file(file, name.span())),
    };
    let conflict = parse_conflict(&header, diags);
    let deprecated = header
        .bool(symbol::DEPRECATED, diags)
        .map(|v| located(file, v));

    let fields = match root.get(symbol::FIELDS) {
        None => Vec::new(),
        Some(value) => match value.get_ref() {
            DeValue::Table(fields) => fields
                .iter()
                .filter_map(|(key, value)| parse_field(file, &entity_name, key, value, diags))
                .collect(),
            other => {
                diags.push(
                    Diagnostic::error(
                        Origin::file(file, value.span()),
                        format!(
                            "`fields` of entity `{entity_name}` must be a table, found {}",
                            describe(other)
                        ),
                    )
                    .help("write `[fields]` followed by one `name = { type = \"text\" }` per line"),
                );
                Vec::new()
            }
        },
    };
    let indexes = parse_indexes(file, &entity_name, &root, diags);

    Some(Entity {
        name: located(file, name),
        table,
        conflict,
        fields,
        indexes,
        deprecated,
        origin: Origin::file(file, entity_value.span()),
    })
}

fn located<T>(file: FileId, spanned: Spanned<T>) -> Located<T> {
    let span = spanned.span();
    Located::new(spanned.into_inner(), Origin::file(file, span))
}

fn parse_conflict(
    header: &TableReader<'_, '_>,
    diags: &mut Diagnostics,
) -> Located<ConflictStrategy> {
    let Some(value) = header.string(symbol::CONFLICT, diags) else {
        return Located::new(ConflictStrategy::default(), Origin::Generated);
    };
    let origin = header.origin(value.span());
    match ConflictStrategy::parse(value.get_ref()) {
        Some(strategy) => Located::new(strategy, origin),
        None => {
            let names = ConflictStrategy::ALL.map(ConflictStrategy::as_str);
            let help = match did_you_mean(value.get_ref(), names) {
                Some(s) => format!("did you mean `{s}`? strategies are: {}", names.join(", ")),
                None => format!("strategies are: {}", names.join(", ")),
            };
            diags.push(
                Diagnostic::error(
                    origin.clone(),
                    format!(
                        "unknown conflict strategy `{}` in `[entity]`",
                        value.get_ref()
                    ),
                )
                .label("unknown strategy")
                .help(help),
            );
            Located::new(ConflictStrategy::default(), origin)
        }
    }
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
        let ty = parse_type(
            file,
            &context,
            Spanned::new(value.span(), ty.to_string()),
            diags,
        )?;
        return Some(Field::new(name, ty, field_origin));
    }
    let DeValue::Table(table) = value.get_ref() else {
        diags.push(
            Diagnostic::error(
                Origin::file(file, value.span()),
                format!(
                    "{context} must be a table or a type name, found {}",
                    describe(value.get_ref())
                ),
            )
            .help(format!("write `{} = {{ type = \"text\" }}`", name.value)),
        );
        return None;
    };
    let reader = TableReader {
        file,
        table,
        context: context.clone(),
    };
    reader.check_keys(symbol::FIELD_KEYS, "field", diags);
    let ty = match reader.string(symbol::TYPE, diags) {
        Some(ty) => parse_type(file, &context, ty, diags),
        None => {
            if reader.get(symbol::TYPE).is_none() {
                diags.push(
                    Diagnostic::error(
                        Origin::file(file, value.span()),
                        format!("{context} has no `type`"),
                    )
                    .help(format!("add `type = \"text\"` (one of: {})", type_names())),
                );
            }
            None
        }
    };
    let nullable = reader
        .bool(symbol::NULLABLE, diags)
        .is_some_and(|b| b.into_inner());
    let default = reader
        .entry(symbol::DEFAULT)
        .and_then(|(_, v)| parse_default(file, &context, v, diags));
    let mut field = Field::new(name, ty?, field_origin);
    field.nullable = nullable;
    field.default = default;
    field.index = reader.bool(symbol::INDEX, diags).map(|v| located(file, v));
    field.unique = reader.bool(symbol::UNIQUE, diags).map(|v| located(file, v));
    field.references = reader
        .string(symbol::REFERENCES, diags)
        .map(|v| located(file, v));
    field.renamed_from = reader
        .string(symbol::RENAMED_FROM, diags)
        .map(|v| located(file, v));
    field.backfill = reader
        .string(symbol::BACKFILL, diags)
        .map(|v| located(file, v));
    field.deprecated = reader
        .bool(symbol::DEPRECATED, diags)
        .map(|v| located(file, v));
    Some(field)
}

fn type_names() -> String {
    FieldType::ALL.map(FieldType::as_str).join(", ")
}

fn parse_type(
    file: FileId,
    context: &str,
    ty: Spanned<String>,
    diags: &mut Diagnostics,
) -> Option<Located<FieldType>> {
    let origin = Origin::file(file, ty.span());
    if let Some(parsed) = FieldType::parse(ty.get_ref()) {
        return Some(Located::new(parsed, origin));
    }
    let names = FieldType::ALL.map(FieldType::as_str);
    let help = match did_you_mean(ty.get_ref(), names) {
        Some(s) => format!("did you mean `{s}`? types are: {}", type_names()),
        None => format!("types are: {}", type_names()),
    };
    diags.push(
        Diagnostic::error(
            origin,
            format!("unknown type `{}` for {context}", ty.get_ref()),
        )
        .label("unknown type")
        .help(help),
    );
    None
}

fn parse_default(
    file: FileId,
    context: &str,
    value: &Spanned<DeValue<'_>>,
    diags: &mut Diagnostics,
) -> Option<Located<DefaultValue>> {
    let origin = Origin::file(file, value.span());
    let parsed = match value.get_ref() {
        DeValue::String(s) => DefaultValue::Text(s.to_string()),
        DeValue::Integer(i) => match i64::from_str_radix(i.as_str(), i.radix()) {
            Ok(i) => DefaultValue::Integer(i),
            Err(_) => {
                diags.push(super::default_out_of_range(origin, context));
                return None;
            }
        },
        DeValue::Float(f) => match f.as_str().parse::<f64>() {
            Ok(f) if f.is_finite() => DefaultValue::Real(f),
            _ => {
                diags.push(super::default_not_finite(origin, context));
                return None;
            }
        },
        DeValue::Boolean(b) => DefaultValue::Bool(*b),
        DeValue::Array(_) | DeValue::Table(_) => {
            DefaultValue::Json(to_json(file, context, value, diags)?.to_string())
        }
        DeValue::Datetime(_) => {
            diags.push(
                Diagnostic::error(origin, format!("default of {context} is a TOML datetime"))
                    .label("not supported")
                    .help("timestamps are epoch milliseconds (UTC): write the default as an integer, such as `default = 0`"),
            );
            return None;
        }
    };
    Some(Located::new(parsed, origin))
}

/// Converts a TOML value into JSON, for `json` defaults written as arrays or tables. A number
/// JSON cannot hold (`nan`, `inf`, an integer beyond 64 bits) is an error at that number,
/// never a silent `null`.
fn to_json(
    file: FileId,
    context: &str,
    value: &Spanned<DeValue<'_>>,
    diags: &mut Diagnostics,
) -> Option<serde_json::Value> {
    use serde_json::Value as J;
    let origin = || Origin::file(file, value.span());
    Some(match value.get_ref() {
        DeValue::String(s) => J::String(s.to_string()),
        DeValue::Integer(i) => match i64::from_str_radix(i.as_str(), i.radix()) {
            Ok(i) => J::from(i),
            Err(_) => {
                diags.push(super::default_out_of_range(origin(), context));
                return None;
            }
        },
        DeValue::Float(f) => match f.as_str().parse::<f64>() {
            Ok(f) if f.is_finite() => J::from(f),
            _ => {
                diags.push(super::default_not_finite(origin(), context));
                return None;
            }
        },
        DeValue::Boolean(b) => J::Bool(*b),
        DeValue::Datetime(d) => J::String(d.to_string()),
        DeValue::Array(items) => J::Array(
            items
                .iter()
                .map(|v| to_json(file, context, v, diags))
                .collect::<Vec<_>>()
                .into_iter()
                .collect::<Option<_>>()?,
        ),
        DeValue::Table(table) => J::Object(
            table
                .iter()
                .map(|(k, v)| Some((k.get_ref().to_string(), to_json(file, context, v, diags)?)))
                .collect::<Vec<_>>()
                .into_iter()
                .collect::<Option<_>>()?,
        ),
    })
}

fn parse_indexes(
    file: FileId,
    entity: &str,
    root: &TableReader<'_, '_>,
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
                    describe(value.get_ref())
                ),
            )
            .help("write each index as `[[indexes]]` followed by `columns = [\"a\", \"b\"]`"),
        );
        return Vec::new();
    };
    let mut indexes = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let DeValue::Table(table) = item.get_ref() else {
            diags.push(
                Diagnostic::error(
                    Origin::file(file, item.span()),
                    format!(
                        "index #{} of entity `{entity}` must be a table, found {}",
                        i + 1,
                        describe(item.get_ref())
                    ),
                )
                .help("write `{ columns = [\"a\", \"b\"] }`"),
            );
            continue;
        };
        let reader = TableReader {
            file,
            table,
            context: format!("index #{} of entity `{entity}`", i + 1),
        };
        reader.check_keys(symbol::INDEX_KEYS, "index", diags);
        let unique = reader
            .bool(symbol::UNIQUE, diags)
            .is_some_and(|b| b.into_inner());
        let Some(columns) = reader.strings(symbol::COLUMNS, diags) else {
            if reader.get(symbol::COLUMNS).is_none() {
                diags.push(
                    Diagnostic::error(
                        Origin::file(file, item.span()),
                        format!("{} has no `columns`", reader.context),
                    )
                    .help("add `columns = [\"field_a\", \"field_b\"]`"),
                );
            }
            continue;
        };
        if columns.is_empty() {
            diags.push(
                Diagnostic::error(
                    Origin::file(file, item.span()),
                    format!("{} has an empty `columns` list", reader.context),
                )
                .help("name at least one field: `columns = [\"field_a\"]`"),
            );
            continue;
        }
        indexes.push(IndexSpec {
            columns: columns.into_iter().map(|c| located(file, c)).collect(),
            unique,
            origin: Origin::file(file, item.span()),
        });
    }
    indexes
}
