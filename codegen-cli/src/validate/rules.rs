//! One function per cross-field rule; each states its rule in its doc comment.

use std::collections::HashMap;

use crate::diagnostic::{Diagnostic, Diagnostics};
use crate::model::ADOPTED_SYNC_PREFIX;
use crate::model::{DefaultValue, Entity, Field, FieldType, Located, Schema};
use crate::naming::{did_you_mean, is_identifier, to_identifier};
use crate::symbol::SYNC_COLUMNS;

/// Entity, table, field, reference and index names are identifiers: ASCII letters, digits and
/// `_`, not starting with a digit. (SQL keywords are fine: emitted SQL quotes every name.)
pub fn identifiers(schema: &Schema, diags: &mut Diagnostics) {
    let mut check = |what: &str, name: &Located<String>, context: &str| {
        if !is_identifier(&name.value) {
            diags.push(
                Diagnostic::error(
                    name.origin.clone(),
                    format!("{what} `{}`{context} is not a valid identifier", name.value),
                )
                .label("not an identifier")
                .help(identifier_help(&name.value)),
            );
        }
    };
    for entity in &schema.entities {
        let of_entity = format!(" of entity `{}`", entity.name.value);
        check("entity name", &entity.name, "");
        check("table name", &entity.table, &of_entity);
        for field in &entity.fields {
            check("field name", &field.name, &of_entity);
        }
    }
}

/// How to write an identifier, with an example close to `name` when there is one (a name with
/// no ASCII letter or digit, like `é`, has none worth showing).
fn identifier_help(name: &str) -> String {
    let rule = "use ASCII letters, digits and `_`, not starting with a digit";
    let example = to_identifier(name);
    if example.chars().any(|c| c.is_ascii_alphanumeric()) {
        format!("{rule}, for example `{example}`")
    } else {
        rule.to_string()
    }
}

/// Names the tool owns are not available to users: the sync columns as field names, and the
/// `_sync` / `sqlite_` prefixes as table names.
pub fn reserved_names(schema: &Schema, diags: &mut Diagnostics) {
    for entity in &schema.entities {
        let table = &entity.table.value;
        let lower = table.to_ascii_lowercase();
        if lower.starts_with("_sync") || lower.starts_with("sqlite_") {
            diags.push(
                Diagnostic::error(
                    entity.table.origin.clone(),
                    format!("table name `{table}` of entity `{}` is reserved", entity.name.value),
                )
                .label("reserved prefix")
                .help("names starting with `_sync` belong to the syncwright runtime and `sqlite_` to SQLite; choose another table name"),
            );
        }
        for field in &entity.fields {
            let name = &field.name.value;
            if entity.is_adopted() {
                adopted_field_name(entity, field, diags);
                continue;
            }
            if let Some(sync) = SYNC_COLUMNS.iter().find(|s| s.eq_ignore_ascii_case(name)) {
                diags.push(
                    Diagnostic::error(
                        field.name.origin.clone(),
                        format!(
                            "field `{name}` of entity `{}` clashes with the sync column `{sync}`",
                            entity.name.value
                        ),
                    )
                    .label("reserved for sync")
                    .help(format!(
                        "every entity already has `{sync}`; rename the field (for example `{}_{name}`), the sync columns are: {}",
                        entity.name.value,
                        SYNC_COLUMNS.join(", ")
                    )),
                );
            }
        }
    }
}

/// The fields of an adopted entity keep the app's names (its own `id` or `version` too); the
/// sync columns are `_sync_`-prefixed there, so only that prefix is reserved.
fn adopted_field_name(entity: &Entity, field: &Field, diags: &mut Diagnostics) {
    let name = &field.name.value;
    if name.to_ascii_lowercase().starts_with(ADOPTED_SYNC_PREFIX) {
        diags.push(
            Diagnostic::error(
                field.name.origin.clone(),
                format!(
                    "field `{name}` of adopted entity `{}` uses the prefix `{ADOPTED_SYNC_PREFIX}` of its sync columns",
                    entity.name.value
                ),
            )
            .label("reserved for sync")
            .help("rename the field: names starting with `_sync_` are the sync columns of adopted tables"),
        );
    }
}

/// Entity names and table names are unique across the project. SQLite compares names without
/// regard to ASCII case, so `Task` and `task` collide too.
pub fn duplicate_entities_and_tables(schema: &Schema, diags: &mut Diagnostics) {
    let mut names: HashMap<String, &Located<String>> = HashMap::new();
    let mut tables: HashMap<String, &Located<String>> = HashMap::new();
    for entity in &schema.entities {
        if let Some(first) = names.insert(entity.name.value.to_ascii_lowercase(), &entity.name) {
            diags.push(duplicate(
                "entity",
                &entity.name,
                first,
                "rename one of the entities; each entity needs its own name",
            ));
        } else if let Some(first) =
            tables.insert(entity.table.value.to_ascii_lowercase(), &entity.table)
        {
            diags.push(duplicate(
                "table",
                &entity.table,
                first,
                &format!(
                    "give entity `{}` its own table with `table = \"...\"`",
                    entity.name.value
                ),
            ));
        }
    }
}

fn duplicate(
    what: &str,
    name: &Located<String>,
    first: &Located<String>,
    help: &str,
) -> Diagnostic {
    Diagnostic::error(
        name.origin.clone(),
        format!("duplicate {what} name `{}`", name.value),
    )
    .label("defined again here")
    .note(
        format!("`{}` is first defined here", first.value),
        first.origin.clone(),
    )
    .help(help)
}

/// Field names are unique within an entity, ignoring ASCII case (SQLite column names are
/// case-insensitive). TOML already rejects exact duplicates; this catches `Title` and `title`
/// and duplicates from Rust sources.
pub fn duplicate_fields(entity: &Entity, diags: &mut Diagnostics) {
    let mut seen: HashMap<String, &Located<String>> = HashMap::new();
    for field in &entity.fields {
        if let Some(first) = seen.insert(field.name.value.to_ascii_lowercase(), &field.name) {
            diags.push(duplicate(
                &format!("field (entity `{}`)", entity.name.value),
                &field.name,
                first,
                "SQLite column names ignore case; rename one of the fields",
            ));
        }
    }
}

/// A default must be a value of the field's type: an integer for `integer` and `timestamp`
/// (epoch milliseconds), a number for `real`, a boolean for `bool`, a string for `text`, a
/// UUID string for `uuid`, valid JSON for `json`; `blob` fields take no default.
pub fn defaults_fit_types(entity: &Entity, diags: &mut Diagnostics) {
    for field in &entity.fields {
        let Some(default) = &field.default else {
            continue;
        };
        let ty = field.ty.value;
        let fits = match (&default.value, ty) {
            (DefaultValue::Text(_), FieldType::Text) => true,
            (DefaultValue::Text(s), FieldType::Uuid) => is_uuid(s),
            (DefaultValue::Text(s), FieldType::Json) => {
                serde_json::from_str::<serde_json::Value>(s).is_ok()
            }
            (
                DefaultValue::Integer(_),
                FieldType::Integer | FieldType::Timestamp | FieldType::Real | FieldType::Json,
            ) => true,
            (DefaultValue::Real(_), FieldType::Real | FieldType::Json) => true,
            (DefaultValue::Bool(_), FieldType::Bool | FieldType::Json) => true,
            (DefaultValue::Json(_), FieldType::Json) => true,
            _ => false,
        };
        if fits {
            continue;
        }
        let name = &field.name.value;
        let help = match ty {
            FieldType::Text => "write a string: `default = \"...\"`".to_string(),
            FieldType::Integer => "write an integer: `default = 0`".to_string(),
            FieldType::Real => "write a number: `default = 0.0`".to_string(),
            FieldType::Bool => "write `default = true` or `default = false`".to_string(),
            FieldType::Uuid => "write a hyphenated UUID string such as `\"00000000-0000-0000-0000-000000000000\"`, or make the field nullable without a default".to_string(),
            FieldType::Timestamp => "timestamps are epoch milliseconds (UTC): write an integer such as `default = 0`".to_string(),
            FieldType::Json => "write a JSON text (`default = \"{}\"`) or a TOML array or table".to_string(),
            FieldType::Blob => format!("remove the default; make `{name}` nullable if rows may lack it"),
        };
        let nullable = if field.nullable { "nullable " } else { "" };
        diags.push(
            Diagnostic::error(
                default.origin.clone(),
                format!(
                    "default of {nullable}field `{name}` of entity `{}` does not fit its type `{}`: found {}",
                    entity.name.value,
                    ty.as_str(),
                    match (&default.value, ty) {
                        (DefaultValue::Text(_), FieldType::Uuid) => "a string that is not a UUID",
                        (DefaultValue::Text(_), FieldType::Json) => "a string that is not valid JSON",
                        (value, _) => value.kind(),
                    }
                ),
            )
            .label(format!("does not fit `{}`", ty.as_str()))
            .help(help),
        );
    }
}

/// A text default holds no NUL byte: SQLite's C API ends text at the first NUL, so the default
/// would be cut short, and a NUL has no place in SQL text. (Line breaks are fine: they stay
/// inside the quoted literal, CRLF as LF.)
pub fn defaults_have_no_nul(entity: &Entity, diags: &mut Diagnostics) {
    for field in &entity.fields {
        let Some(default) = &field.default else {
            continue;
        };
        let (DefaultValue::Text(text) | DefaultValue::Json(text)) = &default.value else {
            continue;
        };
        let Some(at) = text.find('\0') else {
            continue;
        };
        diags.push(
            Diagnostic::error(
                default.origin.clone(),
                format!(
                    "default of field `{}` of entity `{}` contains a NUL byte (at character {})",
                    field.name.value,
                    entity.name.value,
                    text[..at].chars().count() + 1
                ),
            )
            .label("NUL byte")
            .help(
                "SQLite ends text at a NUL byte: remove it (binary data belongs in a `blob` field)",
            ),
        );
    }
}

fn is_uuid(s: &str) -> bool {
    let bytes = s.as_bytes();
    bytes.len() == 36
        && bytes.iter().enumerate().all(|(i, b)| match i {
            8 | 13 | 18 | 23 => *b == b'-',
            _ => b.is_ascii_hexdigit(),
        })
}

/// Options that cannot go together on one field: a deprecated field is on its way out, so it
/// gets no new index, uniqueness or reference; a backfill needs an expression, and a field
/// cannot be renamed from itself.
pub fn field_options(entity: &Entity, diags: &mut Diagnostics) {
    for field in &entity.fields {
        let name = &field.name.value;
        let Some(deprecated) = field.deprecated.as_ref().filter(|d| d.value) else {
            if let Some(from) = &field.renamed_from
                && from.value == *name
            {
                diags.push(
                    Diagnostic::error(
                        from.origin.clone(),
                        format!(
                            "field `{name}` of entity `{}` is renamed from itself",
                            entity.name.value
                        ),
                    )
                    .help(
                        "`renamed_from` names the old column; remove it if the name did not change",
                    ),
                );
            }
            continue;
        };
        let conflicts = [
            (
                "index",
                field
                    .index
                    .as_ref()
                    .filter(|v| v.value)
                    .map(|v| v.origin.clone()),
            ),
            (
                "unique",
                field
                    .unique
                    .as_ref()
                    .filter(|v| v.value)
                    .map(|v| v.origin.clone()),
            ),
        ];
        for (key, origin) in conflicts {
            if let Some(origin) = origin {
                diags.push(
                    Diagnostic::error(origin, format!("field `{name}` of entity `{}` is both `deprecated` and `{key}`", entity.name.value))
                        .label("conflicts with `deprecated`")
                        .note("deprecated here", deprecated.origin.clone())
                        .help(format!("a deprecated field is on its way out: remove `{key} = true`, or remove `deprecated`")),
                );
            }
        }
    }
}

/// Every column named in `[[indexes]]` is a field of the entity (or one of its sync columns).
pub fn index_columns_exist(entity: &Entity, diags: &mut Diagnostics) {
    let known: Vec<&str> = entity
        .fields
        .iter()
        .map(|f| f.name.value.as_str())
        .chain(SYNC_COLUMNS.iter().copied())
        .collect();
    for index in &entity.indexes {
        for column in &index.columns {
            if known.contains(&column.value.as_str()) {
                continue;
            }
            let fields: Vec<&str> = entity
                .fields
                .iter()
                .map(|f| f.name.value.as_str())
                .collect();
            let help = match did_you_mean(&column.value, known.iter().copied()) {
                Some(s) => format!("did you mean `{s}`?"),
                None => format!(
                    "fields of `{}` are: {}",
                    entity.name.value,
                    fields.join(", ")
                ),
            };
            diags.push(
                Diagnostic::error(
                    column.origin.clone(),
                    format!(
                        "index on unknown field `{}` of entity `{}`",
                        column.value, entity.name.value
                    ),
                )
                .label("no such field")
                .help(help),
            );
        }
    }
}

/// A column appears once in an index: `["reason", "reason"]` is a slip (SQLite would accept it
/// and index the column twice).
pub fn index_columns_distinct(entity: &Entity, diags: &mut Diagnostics) {
    for index in &entity.indexes {
        let mut seen: HashMap<&str, &Located<String>> = HashMap::new();
        for column in &index.columns {
            if let Some(first) = seen.insert(&column.value, column) {
                diags.push(
                    Diagnostic::error(
                        column.origin.clone(),
                        format!(
                            "index of entity `{}` names field `{}` twice",
                            entity.name.value, column.value
                        ),
                    )
                    .label("named again here")
                    .note("first named here", first.origin.clone())
                    .help(format!(
                        "list each column once: `columns = [{}]`",
                        distinct(&index.columns)
                    )),
                );
            }
        }
    }
}

/// `"a", "b"`: each of `columns` once, in order, as TOML strings.
fn distinct(columns: &[Located<String>]) -> String {
    let mut out: Vec<String> = Vec::new();
    for column in columns {
        let quoted = format!("{:?}", column.value);
        if !out.contains(&quoted) {
            out.push(quoted);
        }
    }
    out.join(", ")
}

/// `references` names the table of an entity in the project (rows reference its `id`).
pub fn references_resolve(schema: &Schema, diags: &mut Diagnostics) {
    let mut tables: Vec<&str> = Vec::new();
    for entity in &schema.entities {
        // Two entities on one table are reported on their own; list the table once.
        if !tables.contains(&entity.table.value.as_str()) {
            tables.push(&entity.table.value);
        }
    }
    for entity in &schema.entities {
        for field in &entity.fields {
            let Some(target) = &field.references else {
                continue;
            };
            // An adopted table's own foreign keys point at the app's keys, whatever their
            // type; sync carries them as `_sync_ref_` UUID columns beside them.
            let app_column = entity
                .adoption
                .as_ref()
                .is_some_and(|a| a.imported.column(&field.name.value).is_some());
            if tables.contains(&target.value.as_str()) {
                if field.ty.value != FieldType::Uuid && !app_column {
                    diags.push(
                        Diagnostic::error(
                            field.ty.origin.clone(),
                            format!(
                                "field `{}` of entity `{}` references `{}` but has type `{}`",
                                field.name.value,
                                entity.name.value,
                                target.value,
                                field.ty.value.as_str()
                            ),
                        )
                        .label("expected `uuid`")
                        .help("references point at the referenced row's client `id`, a UUID: use `type = \"uuid\"`"),
                    );
                }
                continue;
            }
            // An entity name instead of its table name is the most common slip.
            let by_entity = schema
                .entities
                .iter()
                .find(|e| e.name.value == target.value)
                .map(|e| e.table.value.as_str());
            let help =
                match by_entity.or_else(|| did_you_mean(&target.value, tables.iter().copied())) {
                    Some(s) => format!("did you mean `{s}`? `references` takes a table name"),
                    None if tables.is_empty() => {
                        "declare the referenced entity in its own spec file".to_string()
                    }
                    None => format!("known tables are: {}", tables.join(", ")),
                };
            diags.push(unknown_reference(entity, field, target).help(help));
        }
    }
}

/// The error for `field`'s `references` to `target`, a table no entity has (the caller adds
/// the help line: what the front end knows about the tables there are).
pub fn unknown_reference(entity: &Entity, field: &Field, target: &Located<String>) -> Diagnostic {
    Diagnostic::error(
        target.origin.clone(),
        format!(
            "field `{}` of entity `{}` references unknown table `{}`",
            field.name.value, entity.name.value, target.value
        ),
    )
    .label("no entity has this table")
}
