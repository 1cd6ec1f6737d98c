//! Rust types into column types: which Rust type stores as which field type, how its values
//! convert, and whether it is nullable.

use syn::Type;
use syn::spanned::Spanned;

use super::{Conversion, SpanMap};
use crate::diagnostic::{Diagnostic, Diagnostics};
use crate::model::{FieldType, Located};

/// The Rust types the derive maps to column types, for messages.
pub const SUPPORTED_TYPES: &str = "String, i8, i16, i32, i64, u8, u16, u32, f32, f64, bool, \
uuid::Uuid, std::time::SystemTime, Vec<u8>, serde_json::Value, and Option<T> of these";

/// The column type of a Rust field type, how its values convert, and whether it is nullable.
pub(super) fn column_type(
    spans: &SpanMap,
    context: &str,
    ty: &Type,
    override_type: Option<Located<FieldType>>,
    diags: &mut Diagnostics,
) -> Option<(Located<FieldType>, Conversion, bool)> {
    let (inner, nullable) = match option_inner(ty) {
        Some(inner) => (inner, true),
        None => (ty, false),
    };
    let origin = spans.origin(ty.span());
    let inferred = infer_type(inner);
    match (inferred, override_type) {
        (Ok(FieldType::Json), None) => Some((
            Located::new(FieldType::Json, origin),
            Conversion::Column,
            nullable,
        )),
        (Ok(inferred), None) => {
            Some((Located::new(inferred, origin), Conversion::Column, nullable))
        }
        (inferred, Some(over)) if over.value == FieldType::Json => {
            let conversion = if inferred == Ok(FieldType::Json) {
                Conversion::Column
            } else {
                Conversion::Json {
                    inner: Box::new(inner.clone()),
                    nullable,
                }
            };
            Some((over, conversion, nullable))
        }
        (Ok(inferred), Some(over)) => {
            if inferred.sql_type() != over.value.sql_type() {
                diags.push(
                    Diagnostic::error(
                        over.origin.clone(),
                        format!(
                            "{context} has Rust type `{}`, which cannot be stored as `{}`",
                            type_text(inner),
                            over.value.as_str()
                        ),
                    )
                    .label("incompatible type")
                    .note(
                        format!(
                            "`{}` is stored as `{}`",
                            type_text(inner),
                            inferred.as_str()
                        ),
                        origin,
                    )
                    .help(format!(
                        "remove `type = \"{}\"`, or change the field's Rust type",
                        over.value.as_str()
                    )),
                );
                return None;
            }
            Some((over, Conversion::Column, nullable))
        }
        // A type the derive does not know (an alias, a newtype) with an explicit column type:
        // trusted, and the compiler checks that it implements the runtime's `ColumnValue`.
        (Err(_), Some(over)) => Some((over, Conversion::Column, nullable)),
        (Err(help), None) => {
            diags.push(
                Diagnostic::error(
                    origin,
                    format!("unsupported type `{}` for {context}", type_text(inner)),
                )
                .label("no column type for this")
                .help(help),
            );
            None
        }
    }
}

/// `T` of `Option<T>` (also spelled `std::option::Option<T>`).
fn option_inner(ty: &Type) -> Option<&Type> {
    let Type::Path(path) = ty else { return None };
    if path.qself.is_some() {
        return None;
    }
    let names = segment_names(&path.path);
    let is_option = matches!(
        names
            .iter()
            .map(String::as_str)
            .collect::<Vec<_>>()
            .as_slice(),
        ["Option"] | ["std" | "core", "option", "Option"]
    );
    if !is_option {
        return None;
    }
    single_type_argument(path.path.segments.last()?)
}

fn single_type_argument(segment: &syn::PathSegment) -> Option<&Type> {
    let syn::PathArguments::AngleBracketed(args) = &segment.arguments else {
        return None;
    };
    match args.args.iter().collect::<Vec<_>>().as_slice() {
        [syn::GenericArgument::Type(inner)] => Some(inner),
        _ => None,
    }
}

fn segment_names(path: &syn::Path) -> Vec<String> {
    path.segments.iter().map(|s| s.ident.to_string()).collect()
}

/// The column type of a supported Rust type, or a help line saying what to do instead.
fn infer_type(ty: &Type) -> Result<FieldType, String> {
    let json_hint = format!(
        "supported types are: {SUPPORTED_TYPES}; add `#[syncwright(json)]` to store any serde type as JSON"
    );
    let path = match ty {
        Type::Path(path) if path.qself.is_none() => &path.path,
        Type::Group(group) => return infer_type(&group.elem),
        Type::Paren(paren) => return infer_type(&paren.elem),
        Type::Reference(_) => {
            return Err(format!(
                "an entity owns its data: use an owned type such as `String` or `Vec<u8>` ({json_hint})"
            ));
        }
        _ => return Err(json_hint),
    };
    let Some(last) = path.segments.last() else {
        return Err(json_hint);
    };
    let names = segment_names(path);
    let last_name = last.ident.to_string();
    let plain = matches!(last.arguments, syn::PathArguments::None);
    let found = match (last_name.as_str(), plain) {
        ("String", true) => FieldType::Text,
        ("i8" | "i16" | "i32" | "i64" | "u8" | "u16" | "u32", true) if names.len() == 1 => {
            FieldType::Integer
        }
        ("f32" | "f64", true) if names.len() == 1 => FieldType::Real,
        ("bool", true) if names.len() == 1 => FieldType::Bool,
        ("Uuid", true) => FieldType::Uuid,
        ("SystemTime", true) => FieldType::Timestamp,
        ("Value", true) if names.len() >= 2 && names[names.len() - 2] == "serde_json" => {
            FieldType::Json
        }
        ("Vec", false) => match single_type_argument(last) {
            Some(item) if type_text(item) == "u8" => FieldType::Blob,
            _ => return Err(json_hint),
        },
        ("u64" | "usize" | "u128" | "i128" | "isize", true) => {
            return Err(
                "SQLite integers are signed 64-bit: use `i64`, or `u32` for values that are never negative"
                    .to_string(),
            );
        }
        ("DateTime" | "NaiveDateTime" | "OffsetDateTime" | "PrimitiveDateTime" | "Instant", _) => {
            return Err(
                "timestamps are `std::time::SystemTime`, stored as INTEGER epoch milliseconds (UTC)"
                    .to_string(),
            );
        }
        ("Option", false) => {
            return Err(
                "a field is nullable or not: use one `Option`, not an `Option` inside another"
                    .to_string(),
            );
        }
        _ => return Err(json_hint),
    };
    Ok(found)
}

/// A type as users write it: `HashMap<String, i64>`, not `HashMap < String , i64 >`.
pub fn type_text(ty: &Type) -> String {
    let text = quote::ToTokens::to_token_stream(ty).to_string();
    let mut out = text
        .replace(" :: ", "::")
        .replace(":: ", "::")
        .replace(" < ", "<")
        .replace("< ", "<")
        .replace(" <", "<")
        .replace(" >", ">")
        .replace(" ,", ",")
        .replace("& ", "&");
    if out.starts_with(":: ") {
        out = out.replacen(":: ", "::", 1);
    }
    out
}
