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
//!
//! The struct is read here; the attribute syntax in `meta`, attribute values in `literal`, and
//! Rust types in `types`; what each key means, in the shared key reader
//! (`parse::keys`).

mod literal;
mod meta;
mod types;

use std::fmt;

use proc_macro2::Span;
use syn::ext::IdentExt;
use syn::spanned::Spanned;
use syn::{Attribute, Fields, Generics, Ident, Type};

pub use types::{SUPPORTED_TYPES, type_text};

use crate::diagnostic::{Diagnostic, Diagnostics, FileId, Origin};
use crate::model::{Entity, Field, FieldType, IndexSpec, Located};
use crate::naming::snake_case;
use crate::parse::keys::{Entry, KeyReader, Raw, Syntax};
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
    /// The input of a struct item found in a source file, read as a `syn::DeriveInput` with
    /// its `fields`; reported at the whole item.
    pub fn from_item(item: &'a syn::DeriveInput, fields: &'a Fields) -> Self {
        StructInput {
            attrs: &item.attrs,
            ident: &item.ident,
            generics: &item.generics,
            fields,
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
#[derive(Clone)]
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
#[derive(Clone)]
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

// `Debug` by hand: syn's own `Debug` impls need its `extra-traits` feature, which every app
// would compile for the derive (issue 16); a type shows as the Rust it was written as.
impl fmt::Debug for RustField {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RustField")
            .field("member", &self.member)
            .field("column", &self.column)
            .field("ty", &TypeTokens(&self.ty))
            .field("conversion", &self.conversion)
            .field("deprecated", &self.deprecated)
            .finish()
    }
}

impl fmt::Debug for Conversion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Conversion::Column => f.write_str("Column"),
            Conversion::Json { inner, nullable } => f
                .debug_struct("Json")
                .field("inner", &TypeTokens(inner))
                .field("nullable", nullable)
                .finish(),
        }
    }
}

/// A type in `Debug` output, as its tokens.
struct TypeTokens<'a>(&'a Type);

impl fmt::Debug for TypeTokens<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", quote::ToTokens::to_token_stream(self.0))
    }
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

    let mut reader = KeyReader::new(
        Syntax::Rust,
        format!("`#[{}]` of struct `{ident}`", symbol::ATTRIBUTE),
        meta::read_attrs(input.attrs, spans, diags),
    );
    reader.check_keys(symbol::RUST_ENTITY_KEYS, &[symbol::INDEX], "entity", diags);

    let name = reader.string(symbol::NAME, diags).unwrap_or_else(|| {
        Located::new(
            snake_case(&ident.unraw().to_string()),
            spans.origin(ident.span()),
        )
    });
    let entity_name = name.value.clone();
    let mut entity = reader.entity(name, spans.origin(input.span), diags);
    let mut rust_fields = Vec::new();
    for field in &named.named {
        if let Some((model, rust)) = parse_field(spans, &entity_name, field, diags) {
            entity.fields.push(model);
            rust_fields.push(rust);
        }
    }
    for (i, entry) in reader.all(symbol::INDEX).enumerate() {
        if let Some(index) = parse_index(&entity_name, i + 1, entry, diags) {
            entity.indexes.push(index);
        }
    }
    Some(RustEntity {
        entity,
        ident: ident.clone(),
        fields: rust_fields,
    })
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
    let entries: Vec<Entry> = meta::read_attrs(&field.attrs, spans, diags)
        .into_iter()
        .filter(|entry| {
            if entry.key.value != symbol::NULLABLE {
                return true;
            }
            diags.push(
                Diagnostic::error(
                    entry.key.origin.clone(),
                    format!("`{}` is not a Rust field key ({context})", symbol::NULLABLE),
                )
                .label("not needed in Rust")
                .help("a field is nullable when its type is `Option<T>`: write the type as an `Option`"),
            );
            false
        })
        .collect();
    let mut reader = KeyReader::new(Syntax::Rust, context.clone(), entries);
    reader.check_keys(symbol::RUST_FIELD_KEYS, &[], "field", diags);

    let explicit_type = reader.field_type(diags);
    let json = reader.bool(symbol::JSON, diags);
    if let (Some(entry), Some(_)) = (reader.get(symbol::JSON), reader.get(symbol::TYPE)) {
        diags.push(
            Diagnostic::error(
                entry.key.origin.clone(),
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

    let (ty, conversion, nullable) =
        types::column_type(spans, &context, &field.ty, override_type, diags)?;

    let origin = spans.origin(field.span());
    let mut model = Field::new(
        Located::new(column.clone(), spans.origin(member.span())),
        ty,
        origin,
    );
    model.nullable = nullable;
    reader.field_options(&mut model, diags);
    let rust = RustField {
        member,
        column,
        ty: field.ty.clone(),
        conversion,
        deprecated: model.is_deprecated(),
    };
    Some((model, rust))
}

/// One `index(columns = [...], unique)` of the struct attribute.
fn parse_index(
    entity: &str,
    number: usize,
    entry: &Entry,
    diags: &mut Diagnostics,
) -> Option<IndexSpec> {
    let Raw::List(items) = &entry.value.raw else {
        diags.push(
            Diagnostic::error(
                entry.key.origin.clone(),
                format!("`{}` on a struct declares an index and takes a list", symbol::INDEX),
            )
            .label("expected `index(...)`")
            .help("write `index(columns = [\"field_a\", \"field_b\"])`, adding `unique` for a unique index"),
        );
        return None;
    };
    let mut reader = KeyReader::new(
        Syntax::Rust,
        format!("index #{number} of entity `{entity}`"),
        items.clone(),
    );
    reader.check_keys(symbol::INDEX_KEYS, &[], "index", diags);
    reader.index(entry.key.origin.clone(), entry.value.origin.clone(), diags)
}
