//! The Rust front end's core, shared by `#[derive(Syncable)]` and the source-file front end:
//! one struct with `#[syncwright(...)]` attributes into one [`Entity`] of the schema model.
//!
//! The keys mirror the TOML entity spec one for one (the same [`symbol`] constants, the same
//! messages), so a struct and a spec that say the same thing build the same model:
//!
//! ```text
//! #[derive(Syncable)]
//! #[syncwright(conflict = "field_merge", index(columns = ["project_id", "priority"]))]
//! struct Task {                                  // [entity] name = "task" (snake_case)
//!     title: String,                             // title = { type = "text" }
//!     #[syncwright(references = "projects")]
//!     project_id: uuid::Uuid,                    // project_id = { type = "uuid", references = "projects" }
//!     due_on: Option<std::time::SystemTime>,     // due_on = { type = "timestamp", nullable = true }
//!     #[syncwright(default = 0, index)]
//!     priority: i64,                             // priority = { type = "integer", default = 0, index = true }
//! }
//! ```
//!
//! - Struct keys: `name`, `table`, `conflict`, `deprecated` (the `[entity]` keys), and one
//!   `index(columns = [...], unique)` per `[[indexes]]` entry.
//! - Field keys: the TOML field keys, except that the Rust type gives `type` (a `type = "..."`
//!   key overrides it) and `Option<T>` gives `nullable`; `json` is short for `type = "json"`.
//!   A boolean key may be written alone (`index`) or with a value (`index = true`).
//!
//! Besides the [`Entity`], [`parse_struct`] returns what the derive needs to generate code: each
//! field's Rust name, type and value conversion ([`RustEntity`]).

use proc_macro2::{Delimiter, Span, TokenStream, TokenTree};
use syn::ext::IdentExt;
use syn::spanned::Spanned;
use syn::{Attribute, Expr, Fields, Generics, Ident, Lit, Type, UnOp};

use crate::diagnostic::{Diagnostic, Diagnostics, FileId, Origin};
use crate::model::{ConflictStrategy, DefaultValue, Entity, Field, FieldType, IndexSpec, Located};
use crate::naming::{did_you_mean, plural, snake_case};
use crate::symbol;

/// How the spans of parsed Rust code become [`Origin`]s.
#[derive(Clone, Copy, Debug)]
pub enum SpanMap {
    /// Derive input: errors become `compile_error!` at the span itself.
    Macro,
    /// A source file parsed with proc-macro2's span locations: byte ranges into `file`, shifted
    /// by `offset` (a stripped byte-order mark or shebang line).
    File {
        /// The file in the run's source map.
        file: FileId,
        /// Bytes removed from the front of the text before parsing.
        offset: usize,
    },
}

impl SpanMap {
    /// The origin of `span`.
    pub fn origin(&self, span: Span) -> Origin {
        match *self {
            SpanMap::Macro => Origin::Macro(span),
            SpanMap::File { file, offset } => {
                let range = span.byte_range();
                Origin::file(file, range.start + offset..range.end + offset)
            }
        }
    }
}

/// A struct as both front ends see it: a `syn::DeriveInput` of a struct or a `syn::ItemStruct`.
#[derive(Clone, Copy)]
pub struct StructInput<'a> {
    /// The struct's attributes (only `#[syncwright(...)]` is read).
    pub attrs: &'a [Attribute],
    /// The struct's name.
    pub ident: &'a Ident,
    /// Its generics; entities cannot have any.
    pub generics: &'a Generics,
    /// Its fields; entities need named ones.
    pub fields: &'a Fields,
    /// The span the entity as a whole is reported at.
    pub span: Span,
}

impl<'a> StructInput<'a> {
    /// The input of a struct item found in a source file.
    pub fn from_item(item: &'a syn::ItemStruct) -> Self {
        StructInput {
            attrs: &item.attrs,
            ident: &item.ident,
            generics: &item.generics,
            fields: &item.fields,
            span: item.span(),
        }
    }
}

/// An entity parsed from a Rust struct, with the Rust side of each field.
#[derive(Clone, Debug)]
pub struct RustEntity {
    /// The entity in the schema model.
    pub entity: Entity,
    /// The struct's name.
    pub ident: Ident,
    /// One per field of the struct (and of `entity.fields`), in declaration order.
    pub fields: Vec<RustField>,
}

/// The Rust side of one field.
#[derive(Clone, Debug)]
pub struct RustField {
    /// The field's name in the struct.
    pub member: Ident,
    /// The column name.
    pub column: String,
    /// The field's type as written.
    pub ty: Type,
    /// How values cross between the field and the column.
    pub conversion: Conversion,
    /// Deprecated fields keep their column but are left out of the runtime's column list: the
    /// generated `from_row` fills them with `Default::default()` and `to_values` skips them.
    pub deprecated: bool,
}

/// How the value of a field becomes a column value and back.
#[derive(Clone, Debug)]
pub enum Conversion {
    /// The type implements the runtime's `ColumnValue` (the supported types and `Option`s of
    /// them, or any type given an explicit non-JSON `type`).
    Column,
    /// A serde type stored as JSON text.
    Json {
        /// The serde type (inside the `Option`, when `nullable`).
        inner: Box<Type>,
        /// Whether the field is an `Option` of it: `None` is SQL `NULL`.
        nullable: bool,
    },
}

/// The error for `#[derive(Syncable)]` on something that is not a struct with named fields.
pub fn not_a_struct(spans: &SpanMap, span: Span, ident: &Ident, kind: &str) -> Diagnostic {
    Diagnostic::error(
        spans.origin(span),
        format!("`#[derive(Syncable)]` needs a struct with named fields; `{ident}` is {kind}"),
    )
    .label(format!("{kind} here"))
    .help(
        "an entity is a struct whose named fields are its columns: `struct Task { title: String }`",
    )
}

/// Parses one struct into an entity. Every problem is pushed to `diags`; the entity is returned
/// when the struct could be read at all (its fields with problems left out), so later checks
/// still run.
pub fn parse_struct(
    input: StructInput<'_>,
    spans: &SpanMap,
    diags: &mut Diagnostics,
) -> Option<RustEntity> {
    let ident = input.ident;
    let named = match input.fields {
        Fields::Named(named) => named,
        Fields::Unnamed(_) => {
            diags.push(not_a_struct(spans, ident.span(), ident, "a tuple struct"));
            return None;
        }
        Fields::Unit => {
            diags.push(not_a_struct(spans, ident.span(), ident, "a unit struct"));
            return None;
        }
    };
    if let Some(param) = input.generics.params.first() {
        diags.push(
            Diagnostic::error(
                spans.origin(param.span()),
                format!("entity struct `{ident}` cannot be generic"),
            )
            .label("generic parameter")
            .help("an entity maps to one table with fixed column types; remove the parameter"),
        );
    }

    let metas = read_attrs(input.attrs, spans, diags);
    let struct_context = format!("`#[{}]` of struct `{ident}`", symbol::ATTRIBUTE);
    let reader = Reader {
        spans,
        context: struct_context,
    };
    let metas = reader.check_keys(
        metas,
        symbol::RUST_ENTITY_KEYS,
        &[symbol::INDEX],
        "entity",
        diags,
    );

    let name = match find(&metas, symbol::NAME).and_then(|m| reader.string(m, diags)) {
        Some(name) => name,
        None => Located::new(
            snake_case(&ident.unraw().to_string()),
            spans.origin(ident.span()),
        ),
    };
    let table = find(&metas, symbol::TABLE)
        .and_then(|m| reader.string(m, diags))
        .unwrap_or_else(|| Located::new(plural(&name.value), name.origin.clone()));
    let conflict = find(&metas, symbol::CONFLICT)
        .map(|m| parse_conflict(&reader, m, diags))
        .unwrap_or_else(|| Located::new(ConflictStrategy::default(), Origin::Generated));

    let deprecated = find(&metas, symbol::DEPRECATED).and_then(|m| reader.bool(m, diags));

    let entity_name = name.value.clone();
    let mut entity = Entity {
        name,
        table,
        conflict,
        fields: Vec::new(),
        indexes: Vec::new(),
        deprecated,
        origin: spans.origin(input.span),
    };
    let mut rust_fields = Vec::new();
    for field in &named.named {
        if let Some((model, rust)) = parse_field(spans, &entity_name, field, diags) {
            entity.fields.push(model);
            rust_fields.push(rust);
        }
    }
    let index_metas = metas.iter().filter(|m| m.key == symbol::INDEX);
    for (i, meta) in index_metas.enumerate() {
        if let Some(index) = parse_index(spans, &entity_name, i + 1, meta, diags) {
            entity.indexes.push(index);
        }
    }
    Some(RustEntity {
        entity,
        ident: ident.clone(),
        fields: rust_fields,
    })
}

fn parse_conflict(
    reader: &Reader<'_>,
    meta: &Meta,
    diags: &mut Diagnostics,
) -> Located<ConflictStrategy> {
    let Some(value) = reader.string(meta, diags) else {
        return Located::new(ConflictStrategy::default(), Origin::Generated);
    };
    match ConflictStrategy::parse(&value.value) {
        Some(strategy) => Located::new(strategy, value.origin),
        None => {
            let names = ConflictStrategy::ALL.map(ConflictStrategy::as_str);
            let help = match did_you_mean(&value.value, names) {
                Some(s) => format!("did you mean `{s}`? strategies are: {}", names.join(", ")),
                None => format!("strategies are: {}", names.join(", ")),
            };
            diags.push(
                Diagnostic::error(
                    value.origin.clone(),
                    format!(
                        "unknown conflict strategy `{}` in {}",
                        value.value, reader.context
                    ),
                )
                .label("unknown strategy")
                .help(help),
            );
            Located::new(ConflictStrategy::default(), value.origin)
        }
    }
}

fn parse_field(
    spans: &SpanMap,
    entity: &str,
    field: &syn::Field,
    diags: &mut Diagnostics,
) -> Option<(Field, RustField)> {
    // Named fields always have an ident.
    let member = field.ident.clone()?;
    let column = member.unraw().to_string();
    let context = format!("field `{column}` of entity `{entity}`");
    let reader = Reader {
        spans,
        context: context.clone(),
    };
    let metas: Vec<Meta> = read_attrs(&field.attrs, spans, diags)
        .into_iter()
        .filter(|meta| {
            if meta.key != symbol::NULLABLE {
                return true;
            }
            diags.push(
                Diagnostic::error(
                    spans.origin(meta.key.span()),
                    format!("`{}` is not a Rust field key ({context})", symbol::NULLABLE),
                )
                .label("not needed in Rust")
                .help("a field is nullable when its type is `Option<T>`: write the type as an `Option`"),
            );
            false
        })
        .collect();
    let metas = reader.check_keys(metas, symbol::RUST_FIELD_KEYS, &[], "field", diags);

    let explicit_type = find(&metas, symbol::TYPE).and_then(|m| {
        let value = reader.string(m, diags)?;
        parse_type_name(&context, value, diags)
    });
    let json = find(&metas, symbol::JSON).and_then(|m| reader.bool(m, diags));
    if let (Some(meta), Some(_)) = (find(&metas, symbol::JSON), find(&metas, symbol::TYPE)) {
        diags.push(
            Diagnostic::error(
                spans.origin(meta.key.span()),
                format!(
                    "{context} has both `{}` and `{}`",
                    symbol::JSON,
                    symbol::TYPE
                ),
            )
            .label("conflicts with `type`")
            .help("`json` is short for `type = \"json\"`; keep one of them"),
        );
    }
    let override_type = match json {
        Some(json) if json.value => Some(Located::new(FieldType::Json, json.origin)),
        _ => explicit_type,
    };

    let (ty, conversion, nullable) = column_type(spans, &context, &field.ty, override_type, diags)?;

    let origin = spans.origin(field.span());
    let mut model = Field::new(
        Located::new(column.clone(), spans.origin(member.span())),
        ty,
        origin,
    );
    model.nullable = nullable;
    model.default = find(&metas, symbol::DEFAULT).and_then(|m| parse_default(&reader, m, diags));
    model.index = find(&metas, symbol::INDEX).and_then(|m| reader.bool(m, diags));
    model.unique = find(&metas, symbol::UNIQUE).and_then(|m| reader.bool(m, diags));
    model.references = find(&metas, symbol::REFERENCES).and_then(|m| reader.string(m, diags));
    model.renamed_from = find(&metas, symbol::RENAMED_FROM).and_then(|m| reader.string(m, diags));
    model.backfill = find(&metas, symbol::BACKFILL).and_then(|m| reader.string(m, diags));
    model.deprecated = find(&metas, symbol::DEPRECATED).and_then(|m| reader.bool(m, diags));
    let rust = RustField {
        member,
        column,
        ty: field.ty.clone(),
        conversion,
        deprecated: model.is_deprecated(),
    };
    Some((model, rust))
}

fn type_names() -> String {
    FieldType::ALL.map(FieldType::as_str).join(", ")
}

fn parse_type_name(
    context: &str,
    name: Located<String>,
    diags: &mut Diagnostics,
) -> Option<Located<FieldType>> {
    if let Some(parsed) = FieldType::parse(&name.value) {
        return Some(Located::new(parsed, name.origin));
    }
    let names = FieldType::ALL.map(FieldType::as_str);
    let help = match did_you_mean(&name.value, names) {
        Some(s) => format!("did you mean `{s}`? types are: {}", type_names()),
        None => format!("types are: {}", type_names()),
    };
    diags.push(
        Diagnostic::error(
            name.origin,
            format!("unknown type `{}` for {context}", name.value),
        )
        .label("unknown type")
        .help(help),
    );
    None
}

/// The Rust types the derive maps to column types, for messages.
pub const SUPPORTED_TYPES: &str = "String, i8, i16, i32, i64, u8, u16, u32, f32, f64, bool, \
uuid::Uuid, std::time::SystemTime, Vec<u8>, serde_json::Value, and Option<T> of these";

/// The column type of a Rust field type, how its values convert, and whether it is nullable.
fn column_type(
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

fn parse_default(
    reader: &Reader<'_>,
    meta: &Meta,
    diags: &mut Diagnostics,
) -> Option<Located<DefaultValue>> {
    let context = &reader.context;
    let MetaValue::Value(expr) = &meta.value else {
        diags.push(reader.needs_value(meta, "a value", "0"));
        return None;
    };
    let origin = reader.spans.origin(expr.span());
    let value = match literal(expr) {
        Some(Literal::Str(s)) => DefaultValue::Text(s),
        Some(Literal::Bool(b)) => DefaultValue::Bool(b),
        Some(Literal::Int(Some(i))) => DefaultValue::Integer(i),
        Some(Literal::Int(None)) => {
            diags.push(super::default_out_of_range(origin, context));
            return None;
        }
        Some(Literal::Float(Some(f))) => DefaultValue::Real(f),
        Some(Literal::Float(None)) => {
            diags.push(super::default_not_finite(origin, context));
            return None;
        }
        Some(Literal::Array(_)) | None => match to_json(expr) {
            Some(json @ serde_json::Value::Array(_)) => DefaultValue::Json(json.to_string()),
            _ => {
                diags.push(
                    Diagnostic::error(
                        origin,
                        format!("default of {context} must be a literal, found {}", describe(expr)),
                    )
                    .label("not a literal")
                    .help("write a string, a number, `true`/`false`, or an array of them (json fields)"),
                );
                return None;
            }
        },
    };
    Some(Located::new(value, origin))
}

/// A literal value of an attribute.
enum Literal {
    Str(String),
    Bool(bool),
    /// `None` when it does not fit in an `i64`.
    Int(Option<i64>),
    /// `None` when not finite.
    Float(Option<f64>),
    Array(Vec<Expr>),
}

fn literal(expr: &Expr) -> Option<Literal> {
    match expr {
        Expr::Lit(lit) => Some(match &lit.lit {
            Lit::Str(s) => Literal::Str(s.value()),
            Lit::Bool(b) => Literal::Bool(b.value),
            Lit::Int(i) => Literal::Int(i.base10_parse::<i64>().ok()),
            Lit::Float(f) => Literal::Float(f.base10_parse::<f64>().ok().filter(|f| f.is_finite())),
            _ => return None,
        }),
        Expr::Unary(unary) if matches!(unary.op, UnOp::Neg(_)) => match &*unary.expr {
            Expr::Lit(lit) => match &lit.lit {
                Lit::Int(i) => Some(Literal::Int(
                    i.base10_parse::<i128>()
                        .ok()
                        .and_then(|i| i64::try_from(-i).ok()),
                )),
                Lit::Float(f) => Some(Literal::Float(
                    f.base10_parse::<f64>()
                        .ok()
                        .map(|f| -f)
                        .filter(|f| f.is_finite()),
                )),
                _ => None,
            },
            _ => None,
        },
        Expr::Group(group) => literal(&group.expr),
        Expr::Array(array) => Some(Literal::Array(array.elems.iter().cloned().collect())),
        _ => None,
    }
}

/// A literal (or an array of them) as JSON, for `json` defaults written as arrays.
fn to_json(expr: &Expr) -> Option<serde_json::Value> {
    use serde_json::Value as J;
    Some(match literal(expr)? {
        Literal::Str(s) => J::String(s),
        Literal::Bool(b) => J::Bool(b),
        Literal::Int(i) => J::from(i?),
        Literal::Float(f) => J::from(f?),
        Literal::Array(items) => J::Array(items.iter().map(to_json).collect::<Option<_>>()?),
    })
}

fn describe(expr: &Expr) -> &'static str {
    match literal(expr) {
        Some(Literal::Str(_)) => "a string",
        Some(Literal::Bool(_)) => "a boolean",
        Some(Literal::Int(_)) => "an integer",
        Some(Literal::Float(_)) => "a float",
        Some(Literal::Array(_)) => "an array",
        None => match expr {
            Expr::Path(_) => "a path",
            Expr::Lit(_) => "a literal of another kind",
            _ => "an expression",
        },
    }
}

fn parse_index(
    spans: &SpanMap,
    entity: &str,
    number: usize,
    meta: &Meta,
    diags: &mut Diagnostics,
) -> Option<IndexSpec> {
    let context = format!("index #{number} of entity `{entity}`");
    let MetaValue::List(items, group_span) = &meta.value else {
        diags.push(
            Diagnostic::error(
                spans.origin(meta.key.span()),
                format!("`{}` on a struct declares an index and takes a list", symbol::INDEX),
            )
            .label("expected `index(...)`")
            .help("write `index(columns = [\"field_a\", \"field_b\"])`, adding `unique` for a unique index"),
        );
        return None;
    };
    let reader = Reader {
        spans,
        context: context.clone(),
    };
    let items = reader.check_keys(items.clone(), symbol::INDEX_KEYS, &[], "index", diags);
    let unique = find(&items, symbol::UNIQUE)
        .and_then(|m| reader.bool(m, diags))
        .is_some_and(|b| b.value);
    let origin = spans.origin(meta.key.span());
    let Some(columns_meta) = find(&items, symbol::COLUMNS) else {
        diags.push(
            Diagnostic::error(
                spans.origin(*group_span),
                format!("{context} has no `columns`"),
            )
            .help("write `index(columns = [\"field_a\", \"field_b\"])`"),
        );
        return None;
    };
    let columns = reader.strings(columns_meta, diags)?;
    if columns.is_empty() {
        diags.push(
            Diagnostic::error(
                spans.origin(*group_span),
                format!("{context} has an empty `columns` list"),
            )
            .help("name at least one field: `columns = [\"field_a\"]`"),
        );
        return None;
    }
    Some(IndexSpec {
        columns,
        unique,
        origin,
    })
}

// ---------------------------------------------------------------------------------------------
// Attribute syntax: `#[syncwright(key, key = value, key(nested, ...))]`, read without stopping
// at the first mistake (each comma-separated item is read on its own).

/// One `key`, `key = value` or `key(...)` item.
#[derive(Clone, Debug)]
struct Meta {
    key: Ident,
    value: MetaValue,
}

#[derive(Clone, Debug)]
enum MetaValue {
    /// `key` alone.
    Flag,
    /// `key = value`.
    Value(Expr),
    /// `key(...)`, with the span of the parentheses.
    List(Vec<Meta>, Span),
}

fn find<'m>(metas: &'m [Meta], key: &str) -> Option<&'m Meta> {
    metas.iter().find(|m| m.key == key)
}

/// Every item of every `#[syncwright(...)]` attribute in `attrs`.
fn read_attrs(attrs: &[Attribute], spans: &SpanMap, diags: &mut Diagnostics) -> Vec<Meta> {
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

fn read_list(tokens: TokenStream, spans: &SpanMap, diags: &mut Diagnostics) -> Vec<Meta> {
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

fn read_item(item: Vec<TokenTree>, spans: &SpanMap, diags: &mut Diagnostics) -> Option<Meta> {
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
    let value = match tokens.next() {
        None => MetaValue::Flag,
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
            match syn::parse2::<Expr>(rest) {
                Ok(expr) => MetaValue::Value(expr),
                Err(error) => {
                    diags.push(
                        Diagnostic::error(
                            spans.origin(error.span()),
                            format!("expected a literal value for `{key}`: {error}"),
                        )
                        .label("not a value"),
                    );
                    return None;
                }
            }
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
            MetaValue::List(read_list(group.stream(), spans, diags), group.span())
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
    Some(Meta { key, value })
}

/// Typed reads out of attribute items, each failure a diagnostic at the offending token; the
/// counterpart of the TOML front end's `TableReader`, with the same messages.
struct Reader<'a> {
    spans: &'a SpanMap,
    /// Where the items sit, for messages (`field `priority` of entity `task``).
    context: String,
}

impl Reader<'_> {
    /// Reports unknown keys (with a suggestion when one is close) and repeated keys (except
    /// `repeatable` ones); returns the items to read, first occurrences only.
    fn check_keys(
        &self,
        metas: Vec<Meta>,
        allowed: &[&str],
        repeatable: &[&str],
        what: &str,
        diags: &mut Diagnostics,
    ) -> Vec<Meta> {
        let mut kept: Vec<Meta> = Vec::new();
        for meta in metas {
            let name = meta.key.to_string();
            if !allowed.contains(&name.as_str()) {
                let help = match did_you_mean(&name, allowed.iter().copied()) {
                    Some(suggestion) => format!("did you mean `{suggestion}`?"),
                    None => format!("allowed keys are: {}", allowed.join(", ")),
                };
                diags.push(
                    Diagnostic::error(
                        self.spans.origin(meta.key.span()),
                        format!("unknown {what} key `{name}` in {}", self.context),
                    )
                    .label("unknown key")
                    .help(help),
                );
                continue;
            }
            if !repeatable.contains(&name.as_str())
                && let Some(first) = kept.iter().find(|m| m.key == name)
            {
                diags.push(
                    Diagnostic::error(
                        self.spans.origin(meta.key.span()),
                        format!("duplicate key `{name}` in {}", self.context),
                    )
                    .label("given again here")
                    .note("first given here", self.spans.origin(first.key.span()))
                    .help(format!("give `{name}` once")),
                );
                continue;
            }
            kept.push(meta);
        }
        kept
    }

    fn wrong_type(&self, meta: &Meta, expected: &str, found: &Expr) -> Diagnostic {
        Diagnostic::error(
            self.spans.origin(found.span()),
            format!(
                "`{}` in {} must be {expected}, found {}",
                meta.key,
                self.context,
                describe(found)
            ),
        )
        .label(format!("expected {expected}"))
    }

    fn needs_value(&self, meta: &Meta, expected: &str, example: &str) -> Diagnostic {
        Diagnostic::error(
            self.spans.origin(meta.key.span()),
            format!("`{}` in {} needs {expected}", meta.key, self.context),
        )
        .label("no value")
        .help(format!("write `{} = {example}`", meta.key))
    }

    /// `key = "text"`.
    fn string(&self, meta: &Meta, diags: &mut Diagnostics) -> Option<Located<String>> {
        let MetaValue::Value(expr) = &meta.value else {
            diags.push(self.needs_value(meta, "a string", "\"...\""));
            return None;
        };
        match literal(expr) {
            Some(Literal::Str(s)) => Some(Located::new(s, self.spans.origin(expr.span()))),
            _ => {
                diags.push(self.wrong_type(meta, "a string", expr));
                None
            }
        }
    }

    /// `key` (true) or `key = true|false`.
    fn bool(&self, meta: &Meta, diags: &mut Diagnostics) -> Option<Located<bool>> {
        match &meta.value {
            MetaValue::Flag => Some(Located::new(true, self.spans.origin(meta.key.span()))),
            MetaValue::Value(expr) => match literal(expr) {
                Some(Literal::Bool(b)) => Some(Located::new(b, self.spans.origin(meta.key.span()))),
                _ => {
                    diags.push(
                        self.wrong_type(meta, "a boolean", expr)
                            .help(format!("write `{0}` or `{0} = false`", meta.key)),
                    );
                    None
                }
            },
            MetaValue::List(_, span) => {
                diags.push(
                    Diagnostic::error(
                        self.spans.origin(*span),
                        format!("`{}` in {} takes no list", meta.key, self.context),
                    )
                    .label("unexpected list")
                    .help(format!("write `{0}` or `{0} = false`", meta.key)),
                );
                None
            }
        }
    }

    /// `key = ["a", "b"]`.
    fn strings(&self, meta: &Meta, diags: &mut Diagnostics) -> Option<Vec<Located<String>>> {
        let MetaValue::Value(expr) = &meta.value else {
            diags.push(self.needs_value(meta, "an array of strings", "[\"a\", \"b\"]"));
            return None;
        };
        let Some(Literal::Array(items)) = literal(expr) else {
            diags.push(
                self.wrong_type(meta, "an array of strings", expr)
                    .help(format!("write `{} = [\"a\", \"b\"]`", meta.key)),
            );
            return None;
        };
        let mut out = Vec::new();
        for item in &items {
            match literal(item) {
                Some(Literal::Str(s)) => out.push(Located::new(s, self.spans.origin(item.span()))),
                _ => diags.push(self.wrong_type(meta, "an array of strings", item)),
            }
        }
        Some(out)
    }
}
