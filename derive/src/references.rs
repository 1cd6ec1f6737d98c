//! `references` checked against the other entities of the same source file.
//!
//! A derive sees only its own struct, but it can read the file it expands in
//! (`proc_macro::Span::local_file`, stable since Rust 1.88) and parse every
//! `#[derive(Syncable)]` struct there with the generator's source-file front end. A reference
//! to a table declared in that file is fine; one to a table declared nowhere in it may still
//! be declared in another file or in a TOML spec, so it is refused only when it is a near miss
//! of a table this file does declare (`project` for `projects`): a typo, not a reference the
//! derive cannot see. The generator, which sees the whole project, checks every reference.

use std::path::Path;

use syncwright_codegen::diagnostic::{Diagnostics, SourceMap};
use syncwright_codegen::model::Entity;
use syncwright_codegen::naming::did_you_mean;
use syncwright_codegen::parse::rust_source::parse_source;
use syncwright_codegen::validate::rules::unknown_reference;

/// Reports each `references` of `entity` that misses a table of this file by a typo.
pub fn check_in_file(entity: &Entity, diags: &mut Diagnostics) {
    let own = entity.table.value.as_str();
    let targets: Vec<_> = entity
        .fields
        .iter()
        .filter_map(|f| f.references.as_ref().map(|r| (f, r)))
        .filter(|(_, r)| r.value != own)
        .collect();
    if targets.is_empty() {
        return;
    }
    let Some(tables) = proc_macro::Span::call_site()
        .local_file()
        .and_then(|path| tables_in(&path))
    else {
        return;
    };
    for (field, target) in targets {
        if tables.contains(&target.value) {
            continue;
        }
        let candidates = tables.iter().map(String::as_str).chain([own]);
        let Some(suggestion) = did_you_mean(&target.value, candidates) else {
            continue;
        };
        diags.push(unknown_reference(entity, field, target).help(format!(
            "did you mean `{suggestion}`? `references` takes a table name, and `{suggestion}` is declared in this file"
        )));
    }
}

/// The tables of every `#[derive(Syncable)]` struct in the file at `path`.
fn tables_in(path: &Path) -> Option<Vec<String>> {
    let text = std::fs::read_to_string(path).ok()?;
    let mut sources = SourceMap::default();
    let file = sources.add(path, text);
    // Problems in the file are reported by each struct's own derive; only names matter here.
    let mut ignored = Diagnostics::new();
    let entities = parse_source(&sources, file, &mut ignored);
    Some(entities.into_iter().map(|e| e.entity.table.value).collect())
}
