//! What invalid input still expands to: an impl with the right shape and no body, so the user
//! sees the `compile_error!`s that explain the problem and not a flood of "`Task` does not
//! implement `Syncable`" errors wherever the type is used (thiserror's `fallback.rs`).

use proc_macro2::TokenStream;
use quote::quote;
use syn::DeriveInput;

/// A `Syncable` impl for `input` whose methods are unreachable.
pub fn expand(input: &DeriveInput) -> TokenStream {
    let ident = &input.ident;
    let (impl_generics, ty_generics, where_clause) = input.generics.split_for_impl();
    let name = ident.to_string();
    quote! {
        #[automatically_derived]
        impl #impl_generics ::syncwright::Syncable for #ident #ty_generics #where_clause {
            const ENTITY: &'static ::syncwright::EntityDescriptor = &::syncwright::EntityDescriptor {
                name: #name,
                table: #name,
                conflict: ::syncwright::ConflictStrategy::LastWriteWins,
                columns: &[],
                indexes: &[],
                sync: &::syncwright::SyncColumns::STANDARD,
            };
            fn to_values(&self) -> ::std::vec::Vec<::syncwright::__private::Value> {
                ::core::unreachable!()
            }
            fn from_row(_: &::syncwright::__private::Row<'_>) -> ::syncwright::Result<Self> {
                ::core::unreachable!()
            }
        }
    }
}
