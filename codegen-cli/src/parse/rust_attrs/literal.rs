//! Attribute values into the shared key reader's values: literals, negated numbers and
//! arrays of them; anything else is kept only as its description.
//!
//! Values are read from their tokens, not parsed as a `syn::Expr`: syn parses arrays (and
//! blocks, closures, ...) only with its `full` feature, which the derive leaves to the
//! generator's `generate` side so that an app's syn is the build serde_derive already compiles
//! (issue 16). Every value is read, so a malformed one reaches the key reader as "an
//! expression" and gets that key's own message.

use proc_macro2::{Delimiter, TokenStream, TokenTree};
use syn::Lit;
use syn::spanned::Spanned;

use super::SpanMap;
use crate::parse::keys::{Raw, RawValue};

/// The value written as `tokens` (everything after `key =`), as the key reader reads it.
pub(super) fn raw_value(tokens: TokenStream, spans: &SpanMap) -> RawValue {
    RawValue {
        origin: spans.origin(tokens.span()),
        raw: raw(tokens, spans),
    }
}

fn raw(tokens: TokenStream, spans: &SpanMap) -> Raw {
    let trees: Vec<TokenTree> = tokens.clone().into_iter().collect();
    match trees.as_slice() {
        // Values passed through `macro_rules!` arrive wrapped in an invisible group.
        [TokenTree::Group(group)] if group.delimiter() == Delimiter::None => {
            raw(group.stream(), spans)
        }
        [TokenTree::Group(group)] if group.delimiter() == Delimiter::Bracket => {
            match elements(group.stream()) {
                Some(items) => Raw::Array(items.into_iter().map(|e| raw_value(e, spans)).collect()),
                None => Raw::Other("an expression"),
            }
        }
        [TokenTree::Punct(minus), number] if minus.as_char() == '-' => negated(number),
        [single] => match syn::parse2::<Lit>(single.clone().into()) {
            Ok(lit) => literal(&lit),
            Err(_) => path_or_expression(tokens),
        },
        _ => path_or_expression(tokens),
    }
}

fn literal(lit: &Lit) -> Raw {
    match lit {
        Lit::Str(s) => Raw::Str(s.value()),
        Lit::Bool(b) => Raw::Bool(b.value),
        Lit::Int(i) => Raw::Int(i.base10_parse::<i64>().ok()),
        Lit::Float(f) => Raw::Float(f.base10_parse::<f64>().ok().filter(|f| f.is_finite())),
        _ => Raw::Other("a literal of another kind"),
    }
}

/// `-number`: only numeric literals may be negated.
fn negated(number: &TokenTree) -> Raw {
    match syn::parse2::<Lit>(number.clone().into()) {
        // `-9223372036854775808` fits though its digits alone do not.
        Ok(Lit::Int(i)) => Raw::Int(
            i.base10_parse::<i128>()
                .ok()
                .and_then(|i| i64::try_from(-i).ok()),
        ),
        Ok(Lit::Float(f)) => Raw::Float(
            f.base10_parse::<f64>()
                .ok()
                .map(|f| -f)
                .filter(|f| f.is_finite()),
        ),
        _ => Raw::Other("an expression"),
    }
}

/// A name such as `Priority::High` is "a path"; any other expression is only described.
fn path_or_expression(tokens: TokenStream) -> Raw {
    match syn::parse2::<syn::Path>(tokens) {
        Ok(_) => Raw::Other("a path"),
        Err(_) => Raw::Other("an expression"),
    }
}

/// The comma-separated elements of an array's contents (a trailing comma allowed), or `None`
/// when an element is missing, as in `[1, , 2]`.
fn elements(contents: TokenStream) -> Option<Vec<TokenStream>> {
    let mut items = vec![Vec::new()];
    for token in contents {
        match &token {
            TokenTree::Punct(p) if p.as_char() == ',' => items.push(Vec::new()),
            _ => items.last_mut().expect("never empty").push(token),
        }
    }
    if items.last().is_some_and(Vec::is_empty) {
        items.pop();
    }
    if items.iter().any(Vec::is_empty) {
        return None;
    }
    Some(
        items
            .into_iter()
            .map(|item| item.into_iter().collect())
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use quote::quote;

    use super::*;

    fn read(tokens: TokenStream) -> Raw {
        raw_value(tokens, &SpanMap::Macro).raw
    }

    #[test]
    fn arrays_of_literals_are_read_with_or_without_a_trailing_comma() {
        for tokens in [quote!(["a", -2, true]), quote!(["a", -2, true,])] {
            let Raw::Array(items) = read(tokens.clone()) else {
                panic!("`{tokens}` is an array");
            };
            let items: Vec<_> = items.into_iter().map(|item| item.raw).collect();
            assert!(
                matches!(
                    items.as_slice(),
                    [Raw::Str(s), Raw::Int(Some(-2)), Raw::Bool(true)] if s == "a"
                ),
                "`{tokens}` read as {items:?}"
            );
        }
        assert!(matches!(read(quote!([])), Raw::Array(items) if items.is_empty()));
    }

    #[test]
    fn negated_numbers_are_read_down_to_i64_min() {
        assert!(matches!(
            read(quote!(-9223372036854775808)),
            Raw::Int(Some(i64::MIN))
        ));
        assert!(matches!(read(quote!(-9223372036854775809)), Raw::Int(None)));
        assert!(matches!(read(quote!(-1.5)), Raw::Float(Some(f)) if f == -1.5));
        assert!(matches!(read(quote!(-"text")), Raw::Other("an expression")));
    }

    #[test]
    fn paths_and_other_expressions_are_only_described() {
        assert!(matches!(read(quote!(Priority::High)), Raw::Other("a path")));
        for tokens in [
            quote!(1 + 2),
            quote!(if flag { 1 } else { 2 }),
            quote!(|x| x),
            quote!([1, , 2]),
            quote!(b"bytes" b"more"),
        ] {
            assert!(
                matches!(read(tokens.clone()), Raw::Other("an expression")),
                "`{tokens}` is an expression"
            );
        }
        assert!(matches!(
            read(quote!(b'x')),
            Raw::Other("a literal of another kind")
        ));
    }
}
