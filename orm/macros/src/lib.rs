//! `#[derive(Model)]` and `#[derive(FromRow)]`: thin wrappers over `orm-codegen`, which the
//! notebook kernel also calls.

use proc_macro::TokenStream;

/// Maps a struct to a table. See the `orm` crate for the options.
#[proc_macro_derive(Model, attributes(orm))]
pub fn derive_model(input: TokenStream) -> TokenStream {
    let input = syn::parse_macro_input!(input as syn::DeriveInput);
    orm_codegen::expand_model(&input)
        .unwrap_or_else(syn::Error::into_compile_error)
        .into()
}

/// Reads a struct from a result row by column name: each field from the column of the same name,
/// or the one named by `#[orm(column = "…")]`. See `orm::core::FromRow`.
#[proc_macro_derive(FromRow, attributes(orm))]
pub fn derive_from_row(input: TokenStream) -> TokenStream {
    let input = syn::parse_macro_input!(input as syn::DeriveInput);
    orm_codegen::expand_from_row(&input)
        .unwrap_or_else(syn::Error::into_compile_error)
        .into()
}

/// Stores a fieldless enum as text: each variant as its name in snake case, or
/// `#[orm(rename = "…")]`. A model column of the type gets a `CHECK` constraint that admits
/// only those strings. See `orm::DbEnum`.
#[proc_macro_derive(DbEnum, attributes(orm))]
pub fn derive_db_enum(input: TokenStream) -> TokenStream {
    let input = syn::parse_macro_input!(input as syn::DeriveInput);
    orm_codegen::expand_db_enum(&input)
        .unwrap_or_else(syn::Error::into_compile_error)
        .into()
}
