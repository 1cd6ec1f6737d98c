//! Checks a pushed mutation against the entity model of the schema version it was written
//! under. Every problem is reported, each naming the entity and field and saying how to fix it.

use serde_json::Value as Json;
use syncwright::sync::protocol::{Action, Mutation};

use crate::catalog::{Catalog, EntitySchema};

/// Every problem of `mutation`, sent by a client at `client_schema`; empty when it is valid.
pub(crate) fn check_mutation(
    catalog: &Catalog,
    client_schema: u32,
    mutation: &Mutation,
) -> Vec<String> {
    let version_number = mutation.schema_version;
    if version_number > client_schema {
        return vec![format!(
            "the mutation says schema version {version_number}, newer than the request's \
             {client_schema}; send the client's schema version in the request"
        )];
    }
    let Some(version) = catalog.version(version_number) else {
        return vec![format!(
            "schema version {version_number} is unknown to the server"
        )];
    };
    let Some(entity) = version.entity(&mutation.entity) else {
        let known = version.entities.keys().map(String::as_str);
        return vec![format!(
            "unknown entity `{}` in schema version {version_number}{}",
            mutation.entity,
            did_you_mean(&mutation.entity, known)
        )];
    };
    let mut problems = Vec::new();
    check_action(mutation, &mut problems);
    for (name, value) in &mutation.fields {
        check_field(entity, version_number, name, value, &mut problems);
    }
    if mutation.action == Action::Create {
        for field in entity.fields.iter().filter(|f| f.is_required()) {
            if !mutation.fields.contains_key(&field.name) {
                problems.push(format!(
                    "`{}.{}` is required on create (schema version {version_number}) and was \
                     not sent",
                    entity.name, field.name
                ));
            }
        }
    }
    for name in mutation.field_timestamps.keys() {
        if !mutation.fields.contains_key(name) {
            problems.push(format!(
                "`{}.{name}` has a field timestamp but is not sent; send a timestamp only for a \
                 field the mutation sets",
                entity.name
            ));
        }
    }
    problems
}

/// A create has no base version and an update or delete has one; a delete sends no fields.
fn check_action(mutation: &Mutation, problems: &mut Vec<String>) {
    let entity = &mutation.entity;
    match (mutation.action, mutation.base_version) {
        (Action::Create, Some(_)) => problems.push(format!(
            "a create of `{entity}` has a `base_version`; send `null` (there is no server \
             version yet)"
        )),
        (Action::Update | Action::Delete, None) => problems.push(format!(
            "an {} of `{entity}` needs the `base_version` it was made on",
            if mutation.action == Action::Update {
                "update"
            } else {
                "delete"
            }
        )),
        _ => {}
    }
    if mutation.action == Action::Delete && !mutation.fields.is_empty() {
        problems.push(format!("a delete of `{entity}` sends no fields"));
    }
}

/// The field exists in this version, and its value is its type's encoding (or an allowed null).
fn check_field(
    entity: &EntitySchema,
    version: u32,
    name: &str,
    value: &Json,
    problems: &mut Vec<String>,
) {
    let Some(field) = entity.field(name) else {
        let known = entity.fields.iter().map(|f| f.name.as_str());
        problems.push(format!(
            "`{}.{name}`: no such field in schema version {version}{}",
            entity.name,
            did_you_mean(name, known)
        ));
        return;
    };
    if value.is_null() {
        if !field.nullable {
            problems.push(format!(
                "`{}.{name}` cannot be null; send a {} value",
                entity.name,
                field.ty.as_str()
            ));
        }
    } else if !syncwright::payload::is_encoding_of(field.ty, value) {
        problems.push(format!(
            "`{}.{name}`: expected {}, got {}",
            entity.name,
            field.ty.as_str(),
            shorten(value)
        ));
    }
}

/// The generator's suggestion (one similarity rule for spec and payload typos), as a suffix.
fn did_you_mean<'a>(name: &str, known: impl Iterator<Item = &'a str>) -> String {
    syncwright_codegen::naming::did_you_mean(name, known)
        .map_or_else(String::new, |k| format!(" (did you mean `{k}`?)"))
}

/// The value as JSON, cut to a readable length.
fn shorten(value: &Json) -> String {
    let text = value.to_string();
    match text.char_indices().nth(40) {
        Some((cut, _)) => format!("{}...", &text[..cut]),
        None => text,
    }
}
