//! Rust source files as a spec source: every `#[derive(Syncable)]` struct in a file (inline
//! modules included) becomes an entity, through the same parser the derive uses
//! ([`super::rust_attrs`]), so a struct means the same to `build.rs`, the CLI and the compiler.

use syn::Item;
use syn::spanned::Spanned;

use super::rust_attrs::{RustEntity, SpanMap, StructInput, not_a_struct, parse_struct};
use crate::diagnostic::{Diagnostic, Diagnostics, FileId, Origin, SourceMap};
use crate::symbol;

/// Parses the Rust source `file` and returns every entity declared in it, in source order.
/// Problems (a syntax error, a bad attribute) are pushed to `diags`.
pub fn parse_source(sources: &SourceMap, file: FileId, diags: &mut Diagnostics) -> Vec<RustEntity> {
    let text = sources.get(file).text.as_str();
    let (offset, body) = strip_preamble(text);
    let parsed = match syn::parse_str::<syn::File>(body) {
        Ok(parsed) => parsed,
        Err(error) => {
            let range = error.span().byte_range();
            diags.push(
                Diagnostic::error(
                    Origin::file(file, range.start + offset..range.end + offset),
                    format!("invalid Rust: {error}"),
                )
                .label("here")
                .help("the file must parse as Rust source (run `cargo check` for details)"),
            );
            return Vec::new();
        }
    };
    let spans = SpanMap::File { file, offset };
    let mut entities = Vec::new();
    collect(&parsed.items, &spans, diags, &mut entities);
    entities
}

/// The byte-order mark and shebang line `syn::parse_file` would skip: spans of the rest are
/// shifted by their length.
fn strip_preamble(text: &str) -> (usize, &str) {
    let mut offset = 0;
    let mut body = text;
    if let Some(rest) = body.strip_prefix('\u{feff}') {
        offset += text.len() - rest.len();
        body = rest;
    }
    if body.starts_with("#!") && !body[2..].trim_start().starts_with('[') {
        let line_end = body.find('\n').unwrap_or(body.len());
        offset += line_end;
        body = &body[line_end..];
    }
    (offset, body)
}

fn collect(items: &[Item], spans: &SpanMap, diags: &mut Diagnostics, out: &mut Vec<RustEntity>) {
    for item in items {
        match item {
            Item::Struct(item) if derives_syncable(&item.attrs) => {
                out.extend(parse_struct(StructInput::from_item(item), spans, diags));
            }
            Item::Enum(item) if derives_syncable(&item.attrs) => {
                diags.push(not_a_struct(
                    spans,
                    item.enum_token.span(),
                    &item.ident,
                    "an enum",
                ));
            }
            Item::Union(item) if derives_syncable(&item.attrs) => {
                diags.push(not_a_struct(
                    spans,
                    item.union_token.span(),
                    &item.ident,
                    "a union",
                ));
            }
            Item::Mod(module) => {
                if let Some((_, items)) = &module.content {
                    collect(items, spans, diags, out);
                }
            }
            _ => {}
        }
    }
}

/// Whether `attrs` hold `#[derive(..., Syncable, ...)]` (under any path, such as
/// `syncwright::Syncable`).
fn derives_syncable(attrs: &[syn::Attribute]) -> bool {
    attrs
        .iter()
        .filter(|attr| attr.path().is_ident("derive"))
        .any(|attr| {
            let mut found = false;
            // A malformed derive list is the compiler's to report.
            let _ = attr.parse_nested_meta(|meta| {
                found |= meta
                    .path
                    .segments
                    .last()
                    .is_some_and(|s| s.ident == symbol::DERIVE);
                Ok(())
            });
            found
        })
}
