//! Attribute syntax: `#[syncwright(key, key = value, key(nested, ...))]` into the shared key
//! reader's entries, read without stopping at the first mistake (each comma-separated item is
//! read on its own).

use proc_macro2::{Delimiter, TokenStream, TokenTree};
use syn::Attribute;
use syn::spanned::Spanned;

use super::SpanMap;
use super::literal;
use crate::diagnostic::{Diagnostic, Diagnostics};
use crate::model::Located;
use crate::parse::keys::{Entry, Raw, RawValue};
use crate::symbol;

/// Every item of every `#[syncwright(...)]` attribute in `attrs`.
pub(super) fn read_attrs(
    attrs: &[Attribute],
    spans: &SpanMap,
    diags: &mut Diagnostics,
) -> Vec<Entry> {
    let mut out = Vec::new();
    for attr in attrs
        .iter()
        .filter(|a| a.path().is_ident(symbol::ATTRIBUTE))
    {
        match &attr.meta {
            syn::Meta::List(list) if matches!(list.delimiter, syn::MacroDelimiter::Paren(_)) => {
                out.extend(read_list(list.tokens.clone(), spans, diags));
            }
            other => diags.push(
                Diagnostic::error(
                    spans.origin(other.span()),
                    format!(
                        "expected `#[{0}(...)]`, with the keys in parentheses",
                        symbol::ATTRIBUTE
                    ),
                )
                .help(format!(
                    "for example `#[{}(index, default = 0)]`",
                    symbol::ATTRIBUTE
                )),
            ),
        }
    }
    out
}

fn read_list(tokens: TokenStream, spans: &SpanMap, diags: &mut Diagnostics) -> Vec<Entry> {
    let mut items = vec![Vec::new()];
    for token in tokens {
        match &token {
            TokenTree::Punct(p) if p.as_char() == ',' => items.push(Vec::new()),
            _ => items.last_mut().expect("never empty").push(token),
        }
    }
    items
        .into_iter()
        .filter(|item| !item.is_empty())
        .filter_map(|item| read_item(item, spans, diags))
        .collect()
}

fn read_item(item: Vec<TokenTree>, spans: &SpanMap, diags: &mut Diagnostics) -> Option<Entry> {
    let mut tokens = item.into_iter();
    let first = tokens.next()?;
    let TokenTree::Ident(key) = first else {
        diags.push(
            Diagnostic::error(
                spans.origin(first.span()),
                "expected a key, such as `index` or `table = \"...\"`",
            )
            .label("not a key"),
        );
        return None;
    };
    let key_origin = spans.origin(key.span());
    let value = match tokens.next() {
        None => RawValue {
            raw: Raw::Flag,
            origin: key_origin.clone(),
        },
        Some(TokenTree::Punct(eq)) if eq.as_char() == '=' => {
            let rest: TokenStream = tokens.collect();
            if rest.is_empty() {
                diags.push(
                    Diagnostic::error(
                        spans.origin(eq.span()),
                        format!("expected a value after `{key} =`"),
                    )
                    .label("no value"),
                );
                return None;
            }
            literal::raw_value(rest, spans)
        }
        Some(TokenTree::Group(group)) if group.delimiter() == Delimiter::Parenthesis => {
            if let Some(extra) = tokens.next() {
                diags.push(
                    Diagnostic::error(
                        spans.origin(extra.span()),
                        format!("expected `,` after `{key}(...)`"),
                    )
                    .label("unexpected"),
                );
                return None;
            }
            RawValue {
                raw: Raw::List(read_list(group.stream(), spans, diags)),
                origin: spans.origin(group.span()),
            }
        }
        Some(other) => {
            diags.push(
                Diagnostic::error(
                    spans.origin(other.span()),
                    format!("expected `,`, `= value` or `(...)` after `{key}`"),
                )
                .label("unexpected"),
            );
            return None;
        }
    };
    Some(Entry {
        key: Located::new(key.to_string(), key_origin),
        value,
    })
}
