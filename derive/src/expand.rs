//! Expansion: the parsed entity into a `syncwright::Syncable` impl.
//!
//! The static description comes from `resolve::table`, the same function the generator renders
//! SQL from, so the derive and the CLI agree on every column and index name.

use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{Data, DeriveInput};
use syncwright_codegen::diagnostic::{Diagnostic, Diagnostics, Origin};
use syncwright_codegen::model::{ColumnRole, sync_column_name, sync_columns_const};
use syncwright_codegen::parse::rust_attrs::{
    Conversion, RustEntity, SpanMap, StructInput, not_a_struct, parse_struct,
};
use syncwright_codegen::resolve;
use syncwright_codegen::validate::validate_entity;

use crate::fallback;

/// The whole expansion of `#[derive(Syncable)]` on `input`.
pub fn derive(input: &DeriveInput) -> TokenStream {
    let mut diags = Diagnostics::new();
    let parsed = parse(input, &mut diags);
    if let Some(parsed) = &parsed {
        validate_entity(&parsed.entity, &mut diags);
        crate::references::check_in_file(&parsed.entity, &mut diags);
    }
    match parsed {
        Some(parsed) if diags.is_empty() => expand(&parsed),
        _ => {
            let errors = diags.iter().map(compile_error);
            let fallback = fallback::expand(input);
            quote! { #(#errors)* #fallback }
        }
    }
}

fn parse(input: &DeriveInput, diags: &mut Diagnostics) -> Option<RustEntity> {
    let spans = SpanMap::Macro;
    let fields = match &input.data {
        Data::Struct(data) => &data.fields,
        Data::Enum(data) => {
            let span = data.enum_token.span();
            diags.push(not_a_struct(&spans, span, &input.ident, "an enum"));
            return None;
        }
        Data::Union(data) => {
            let span = data.union_token.span();
            diags.push(not_a_struct(&spans, span, &input.ident, "a union"));
            return None;
        }
    };
    let input = StructInput {
        attrs: &input.attrs,
        ident: &input.ident,
        generics: &input.generics,
        fields,
        span: input.ident.span(),
    };
    parse_struct(input, &spans, diags)
}

/// A diagnostic as `compile_error!` at its span, help and notes as the compiler's `= help:`
/// lines.
fn compile_error(diagnostic: &Diagnostic) -> TokenStream {
    let span = match &diagnostic.origin {
        Origin::Macro(span) => *span,
        _ => Span::call_site(),
    };
    let mut message = diagnostic.message.clone();
    for (note, origin) in &diagnostic.notes {
        // `compile_error!` has one span: say where the note points in words.
        let place = match origin {
            Origin::Macro(span) if span.start().line > 0 => {
                let start = span.start();
                format!(" (line {}, column {})", start.line, start.column + 1)
            }
            _ => String::new(),
        };
        message.push_str(&format!("\n= note: {note}{place}"));
    }
    if let Some(help) = &diagnostic.help {
        message.push_str(&format!("\n= help: {help}"));
    }
    quote_spanned!(span=> ::core::compile_error! { #message })
}

fn expand(parsed: &RustEntity) -> TokenStream {
    let table = resolve::table(&parsed.entity);
    let ident = &parsed.ident;
    let entity_name = &table.entity;
    let table_name = &table.name;
    let conflict = format_ident!("{}", table.conflict.runtime_variant());
    let sync = format_ident!("{}", sync_columns_const(table.adopted.is_some()));

    let columns = table
        .columns
        .iter()
        .filter(|c| c.role == ColumnRole::Domain && !c.deprecated)
        .map(|column| {
            let name = &column.name;
            let ty = format_ident!("{}", format!("{:?}", column.ty));
            let nullable = column.nullable;
            let references = match &column.references {
                Some(table) => quote!(::core::option::Option::Some(#table)),
                None => quote!(::core::option::Option::None),
            };
            quote! {
                ::syncwright::ColumnDescriptor {
                    name: #name,
                    ty: ::syncwright::ColumnType::#ty,
                    nullable: #nullable,
                    references: #references,
                }
            }
        });
    let indexes = table.indexes.iter().map(|index| {
        let name = &index.name;
        let columns = &index.columns;
        let unique = index.unique;
        quote! {
            ::syncwright::IndexDescriptor { name: #name, columns: &[#(#columns),*], unique: #unique }
        }
    });

    let private = quote!(::syncwright::__private);
    let live = parsed.fields.iter().filter(|f| !f.deprecated);
    let to_values = live.map(|field| {
        let member = &field.member;
        match &field.conversion {
            Conversion::Column => quote_spanned! {field.ty.span()=>
                #private::ColumnValue::to_value(&self.#member)
            },
            Conversion::Json {
                nullable: false, ..
            } => quote! {
                #private::json_to_value(&self.#member)
            },
            Conversion::Json { nullable: true, .. } => quote! {
                match &self.#member {
                    ::core::option::Option::Some(value) => #private::json_to_value(value),
                    ::core::option::Option::None => #private::Value::Null,
                }
            },
        }
    });
    // One expression per field, read from `__src` (a `DomainValues`: a row's columns by index,
    // or the values a write just stored), shared by `from_row` and `from_values`. Live fields
    // are numbered in `ENTITY.columns` order; deprecated ones are not stored.
    let mut index = 0usize;
    let from_domain: Vec<TokenStream> = parsed
        .fields
        .iter()
        .map(|field| {
            let member = &field.member;
            let column = &field.column;
            let ty = &field.ty;
            let at = index;
            if !field.deprecated {
                index += 1;
            }
            let read = quote!(#private::DomainValues::value(__src, #at, #column)?);
            let value = match &field.conversion {
                _ if field.deprecated => quote!(::core::default::Default::default()),
                Conversion::Column => quote_spanned! {ty.span()=>
                    <#ty as #private::ColumnValue>::from_value(#read, #column)?
                },
                Conversion::Json {
                    inner,
                    nullable: false,
                } => quote! {
                    #private::json_from_value::<#inner>(#read, #column)?
                },
                Conversion::Json {
                    inner,
                    nullable: true,
                } => quote! {
                    match #read {
                        #private::ValueRef::Null => ::core::option::Option::None,
                        value => ::core::option::Option::Some(
                            #private::json_from_value::<#inner>(value, #column)?,
                        ),
                    }
                },
            };
            quote!(#member: #value)
        })
        .collect();

    let typed_columns = typed_columns(parsed, table.adopted.is_some());

    quote! {
        #typed_columns

        #[automatically_derived]
        impl ::syncwright::Syncable for #ident {
            const ENTITY: &'static ::syncwright::EntityDescriptor = &::syncwright::EntityDescriptor {
                name: #entity_name,
                table: #table_name,
                conflict: ::syncwright::ConflictStrategy::#conflict,
                columns: &[#(#columns),*],
                indexes: &[#(#indexes),*],
                sync: &::syncwright::SyncColumns::#sync,
            };

            fn to_values(&self) -> ::std::vec::Vec<#private::Value> {
                ::std::vec![#(#to_values),*]
            }

            fn from_row(__row: &#private::Row<'_>) -> ::syncwright::Result<Self> {
                let __first = <Self as ::syncwright::Syncable>::ENTITY.first_domain_column();
                let __src = &#private::RowColumns::new(__row, __first);
                ::core::result::Result::Ok(Self { #(#from_domain),* })
            }

            fn from_values(
                __values: &[#private::Value],
            ) -> ::core::option::Option<::syncwright::Result<Self>> {
                let __read = || -> ::syncwright::Result<Self> {
                    let __src = __values;
                    ::core::result::Result::Ok(Self { #(#from_domain),* })
                };
                ::core::option::Option::Some(__read())
            }
        }
    }
}

/// The typed column handles: one associated constant per live, non-JSON domain field (named
/// after the field, upper-cased) and the sync columns filters and orderings use most. A field
/// whose constant would be `ENTITY` gets none, so it cannot shadow `Syncable::ENTITY`.
///
/// An adopted table keeps the app's own columns (often an `id`): its sync columns' constants
/// are `SYNC_ID`, `SYNC_CREATED_AT` and `SYNC_UPDATED_AT`, for `_sync_id` and so on.
fn typed_columns(parsed: &RustEntity, adopted: bool) -> TokenStream {
    let ident = &parsed.ident;
    let fields = parsed
        .fields
        .iter()
        .filter(|f| !f.deprecated && matches!(f.conversion, Conversion::Column))
        .filter_map(|field| {
            let name = field.member.to_string();
            let konst = name.trim_start_matches("r#").to_uppercase();
            if konst == "ENTITY" {
                return None;
            }
            let konst = format_ident!("{}", konst, span = field.member.span());
            let column = &field.column;
            let ty = &field.ty;
            let doc = format!("The `{column}` column, for typed filters and ordering.");
            Some(quote! {
                #[doc = #doc]
                pub const #konst: ::syncwright::Column<#ident, #ty> = ::syncwright::Column::new(#column);
            })
        });
    let sync = [
        ("ID", "id", quote!(::syncwright::Uuid)),
        ("CREATED_AT", "created_at", quote!(::std::time::SystemTime)),
        ("UPDATED_AT", "updated_at", quote!(::std::time::SystemTime)),
    ]
    .into_iter()
    .map(|(konst, column, ty)| {
        let (konst, column) = if adopted {
            (format!("SYNC_{konst}"), sync_column_name(true, column))
        } else {
            (konst.to_owned(), column.to_owned())
        };
        let konst = format_ident!("{}", konst);
        let doc = format!("The `{column}` sync column, for typed filters and ordering.");
        quote! {
            #[doc = #doc]
            pub const #konst: ::syncwright::Column<#ident, #ty> = ::syncwright::Column::new(#column);
        }
    });
    quote! {
        #[automatically_derived]
        #[allow(dead_code)]
        impl #ident {
            #(#sync)*
            #(#fields)*
        }
    }
}
