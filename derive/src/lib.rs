//! `#[derive(Syncable)]`: a thin shell over the shared Rust front end in `syncwright-codegen`.
//!
//! Use it through the `syncwright` crate, which re-exports it; the attribute grammar is in
//! `syncwright_codegen::parse::rust_attrs` and `docs/spec-format.md`.

mod expand;
mod fallback;
mod references;

use proc_macro::TokenStream;

/// Implements `syncwright::Syncable` for a struct with named fields, configured by
/// `#[syncwright(...)]` attributes on the struct and its fields.
#[proc_macro_derive(Syncable, attributes(syncwright))]
pub fn derive_syncable(input: TokenStream) -> TokenStream {
    let input = syn::parse_macro_input!(input as syn::DeriveInput);
    expand::derive(&input).into()
}
