//! Validation: every rule a parsed [`Schema`] must satisfy before anything is planned or written.
//!
//! Rules about one value live next to the parser; rules that look at more than one field or
//! entity live in [`rules`], one function per rule. All of them report into the same
//! [`Diagnostics`], so a run lists every problem at once.

pub mod rules;

use crate::diagnostic::Diagnostics;
use crate::model::{Entity, Schema};

/// Runs every check over `schema`, collecting all problems.
pub fn validate(schema: &Schema, diags: &mut Diagnostics) {
    rules::identifiers(schema, diags);
    rules::reserved_names(schema, diags);
    rules::duplicate_entities_and_tables(schema, diags);
    for entity in &schema.entities {
        entity_rules(entity, diags);
    }
    rules::references_resolve(schema, diags);
}

/// Runs every check that needs only `entity` itself: what the derive can check, since a macro
/// sees one struct at a time (it checks `references` against the structs of its own file;
/// the generator checks them against the whole project).
pub fn validate_entity(entity: &Entity, diags: &mut Diagnostics) {
    let schema = Schema {
        entities: vec![entity.clone()],
        ..Schema::default()
    };
    rules::identifiers(&schema, diags);
    rules::reserved_names(&schema, diags);
    entity_rules(entity, diags);
}

/// The rules about one entity's own fields and indexes.
fn entity_rules(entity: &Entity, diags: &mut Diagnostics) {
    rules::duplicate_fields(entity, diags);
    rules::defaults_fit_types(entity, diags);
    rules::defaults_have_no_nul(entity, diags);
    rules::field_options(entity, diags);
    rules::index_columns_exist(entity, diags);
    rules::index_columns_distinct(entity, diags);
}
