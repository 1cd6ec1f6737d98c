//! Attribute values (Rust expressions) into the shared key reader's values: literals, negated
//! numbers and arrays of them; anything else is kept only as its description.

use syn::spanned::Spanned;
use syn::{Expr, Lit, UnOp};

use super::SpanMap;
use crate::parse::keys::{Raw, RawValue};

/// `expr` as the key reader reads it.
pub(super) fn raw_value(expr: &Expr, spans: &SpanMap) -> RawValue {
    RawValue {
        raw: raw(expr, spans),
        origin: spans.origin(expr.span()),
    }
}

fn raw(expr: &Expr, spans: &SpanMap) -> Raw {
    match expr {
        Expr::Lit(lit) => match &lit.lit {
            Lit::Str(s) => Raw::Str(s.value()),
            Lit::Bool(b) => Raw::Bool(b.value),
            Lit::Int(i) => Raw::Int(i.base10_parse::<i64>().ok()),
            Lit::Float(f) => Raw::Float(f.base10_parse::<f64>().ok().filter(|f| f.is_finite())),
            _ => Raw::Other("a literal of another kind"),
        },
        Expr::Unary(unary) if matches!(unary.op, UnOp::Neg(_)) => match &*unary.expr {
            Expr::Lit(lit) => match &lit.lit {
                // `-9223372036854775808` fits though its digits alone do not.
                Lit::Int(i) => Raw::Int(
                    i.base10_parse::<i128>()
                        .ok()
                        .and_then(|i| i64::try_from(-i).ok()),
                ),
                Lit::Float(f) => Raw::Float(
                    f.base10_parse::<f64>()
                        .ok()
                        .map(|f| -f)
                        .filter(|f| f.is_finite()),
                ),
                _ => Raw::Other("an expression"),
            },
            _ => Raw::Other("an expression"),
        },
        Expr::Group(group) => raw(&group.expr, spans),
        Expr::Array(array) => Raw::Array(array.elems.iter().map(|e| raw_value(e, spans)).collect()),
        Expr::Path(_) => Raw::Other("a path"),
        _ => Raw::Other("an expression"),
    }
}
