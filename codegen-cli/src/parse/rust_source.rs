//! Rust source files as a spec source: every `#[derive(Syncable)]` struct in a file (inline
//! modules included) becomes an entity, through the same parser the derive uses
//! ([`super::rust_attrs`]), so a struct means the same to `build.rs`, the CLI and the compiler.
//!
//! The file is read as tokens and split into items; only items that derive `Syncable` are
//! parsed, each as a `syn::DeriveInput`. Parsing the whole file as a `syn::File` would need
//! syn's `full` feature, which the derive (reading the file it expands in, for `references`)
//! does not link (issue 16); the generator, with `generate`, checks the whole file's syntax
//! first, so a syntax error anywhere is still reported with its line.

use std::str::FromStr;

use proc_macro2::{Delimiter, TokenStream, TokenTree};
use syn::spanned::Spanned;
use syn::{Data, DeriveInput};

use super::rust_attrs::{RustEntity, SpanMap, StructInput, not_a_struct, parse_struct};
use crate::diagnostic::{Diagnostic, Diagnostics, FileId, Origin, SourceMap};
use crate::symbol;

/// Parses the Rust source `file` and returns every entity declared in it, in source order.
/// Problems (a syntax error, a bad attribute) are pushed to `diags`.
pub fn parse_source(sources: &SourceMap, file: FileId, diags: &mut Diagnostics) -> Vec<RustEntity> {
    let text = sources.get(file).text.as_str();
    let (offset, body) = strip_preamble(text);
    let invalid = |range: std::ops::Range<usize>, error: &dyn std::fmt::Display| {
        Diagnostic::error(
            Origin::file(file, range.start + offset..range.end + offset),
            format!("invalid Rust: {error}"),
        )
        .label("here")
        .help("the file must parse as Rust source (run `cargo check` for details)")
    };
    #[cfg(feature = "generate")]
    if let Err(error) = syn::parse_str::<syn::File>(body) {
        diags.push(invalid(error.span().byte_range(), &error));
        return Vec::new();
    }
    let tokens = match TokenStream::from_str(body) {
        Ok(tokens) => tokens,
        Err(error) => {
            diags.push(invalid(error.span().byte_range(), &error));
            return Vec::new();
        }
    };
    let spans = SpanMap::File { file, offset };
    let mut entities = Vec::new();
    collect(tokens, &spans, diags, &mut entities);
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

/// The entities of the items in `tokens` (a file or a module's body), in source order.
fn collect(
    tokens: TokenStream,
    spans: &SpanMap,
    diags: &mut Diagnostics,
    out: &mut Vec<RustEntity>,
) {
    for item in items(tokens) {
        if let Some(body) = module_body(&item) {
            collect(body, spans, diags, out);
            continue;
        }
        if !declares_type(&item) {
            continue;
        }
        // Items the front end cannot read as a type declaration are the compiler's to report.
        let Ok(input) = syn::parse2::<DeriveInput>(item.into_iter().collect()) else {
            continue;
        };
        if !derives_syncable(&input.attrs) {
            continue;
        }
        match &input.data {
            Data::Struct(data) => {
                out.extend(parse_struct(
                    StructInput::from_item(&input, &data.fields),
                    spans,
                    diags,
                ));
            }
            Data::Enum(data) => {
                diags.push(not_a_struct(
                    spans,
                    data.enum_token.span(),
                    &input.ident,
                    "an enum",
                ));
            }
            Data::Union(data) => {
                diags.push(not_a_struct(
                    spans,
                    data.union_token.span(),
                    &input.ident,
                    "a union",
                ));
            }
        }
    }
}

/// The items of a file or module body: each ends at a `;` or a `{ ... }` block outside any
/// other delimiter, which is where every item's syntax ends. The body's inner attributes
/// (`#![...]`, `//!` docs), which precede its first item, are left out.
fn items(tokens: TokenStream) -> Vec<Vec<TokenTree>> {
    let tokens: Vec<TokenTree> = tokens.into_iter().collect();
    let mut rest = tokens.as_slice();
    while let [
        TokenTree::Punct(hash),
        TokenTree::Punct(bang),
        TokenTree::Group(g),
        tail @ ..,
    ] = rest
        && hash.as_char() == '#'
        && bang.as_char() == '!'
        && g.delimiter() == Delimiter::Bracket
    {
        rest = tail;
    }
    let mut items = vec![Vec::new()];
    for token in rest.iter().cloned() {
        let ends_item = match &token {
            TokenTree::Punct(p) => p.as_char() == ';',
            TokenTree::Group(g) => g.delimiter() == Delimiter::Brace,
            _ => false,
        };
        items.last_mut().expect("never empty").push(token);
        if ends_item {
            items.push(Vec::new());
        }
    }
    items
}

/// The keywords of `item` after its attributes (`#[...]`) and visibility.
fn keywords(item: &[TokenTree]) -> impl Iterator<Item = String> + '_ {
    let mut rest = item;
    while let [TokenTree::Punct(hash), TokenTree::Group(g), tail @ ..] = rest
        && hash.as_char() == '#'
        && g.delimiter() == Delimiter::Bracket
    {
        rest = tail;
    }
    rest.iter().map_while(|token| match token {
        TokenTree::Ident(ident) => Some(ident.to_string()),
        // `pub(crate)`, `pub(in path)`
        TokenTree::Group(g) if g.delimiter() == Delimiter::Parenthesis => Some(String::new()),
        _ => None,
    })
}

/// Whether `item` declares a struct, enum or union.
fn declares_type(item: &[TokenTree]) -> bool {
    keywords(item).any(|k| matches!(k.as_str(), "struct" | "enum" | "union"))
}

/// The body of an inline module (`mod name { ... }`).
fn module_body(item: &[TokenTree]) -> Option<TokenStream> {
    if !keywords(item).any(|k| k == "mod") {
        return None;
    }
    match item.last()? {
        TokenTree::Group(g) if g.delimiter() == Delimiter::Brace => Some(g.stream()),
        _ => None,
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

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> (Vec<String>, Vec<String>) {
        let mut sources = SourceMap::default();
        let file = sources.add("src/model.rs", text);
        let mut diags = Diagnostics::new();
        let entities = parse_source(&sources, file, &mut diags);
        let tables = entities.into_iter().map(|e| e.entity.table.value).collect();
        (tables, diags.iter().map(|d| d.message.clone()).collect())
    }

    #[test]
    fn file_docs_and_inner_attributes_do_not_hide_the_first_entity() {
        let (tables, problems) = parse(
            "//! The app's model.\n#![allow(dead_code)]\n\n#[derive(Syncable)]\npub struct Task {\n    pub title: String,\n}\n",
        );
        assert_eq!(tables, ["tasks"], "problems: {problems:?}");
        assert!(problems.is_empty(), "{problems:?}");
    }

    #[test]
    fn entities_are_found_among_other_items_and_in_inline_modules_in_source_order() {
        let (tables, problems) = parse(concat!(
            "use std::{fmt, io};\n",
            "fn union() -> u8 { 0 }\n",
            "impl Note { fn f(&self) {} }\n",
            "#[derive(Syncable)]\n",
            "pub struct Note { pub body: String }\n",
            "const LIMIT: [u8; 2] = [1, 2];\n",
            "pub(crate) mod inner {\n",
            "    /// A task.\n",
            "    #[derive(Debug, syncwright::Syncable)]\n",
            "    pub(in crate) struct Task<> where { pub title: String }\n",
            "    #[derive(Syncable)]\n",
            "    enum Kind { A }\n",
            "}\n",
            "struct Plain { x: u8 }\n",
        ));
        assert_eq!(tables, ["notes", "tasks"]);
        assert_eq!(
            problems,
            ["`#[derive(Syncable)]` needs a struct with named fields; `Kind` is an enum"]
        );
    }

    #[test]
    fn a_syntax_error_anywhere_in_the_file_is_reported() {
        let (tables, problems) =
            parse("#[derive(Syncable)]\npub struct Task { pub title: String }\nfn broken( {}\n");
        assert!(tables.is_empty());
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(problems[0].starts_with("invalid Rust: "), "{problems:?}");
    }
}
