//! `#[derive(Model)]` and `#[derive(FromRow)]`: thin wrappers over `orm-codegen`, which the
//! notebook kernel also calls.
#![warn(missing_docs)]

use proc_macro::TokenStream;

/// Maps a struct with named fields to a table: columns, primary key, constraints and
/// relationships, as SQLAlchemy's declarative mapping does. Every container and field
/// attribute (`#[orm(…)]`) is listed, with its meaning and an example, on the page of the
/// re-export `orm::Model` (the derive macro), whose examples run as doctests there: this crate
/// cannot depend on `orm`, which depends on it.
#[proc_macro_derive(Model, attributes(orm))]
pub fn derive_model(input: TokenStream) -> TokenStream {
    let input = syn::parse_macro_input!(input as syn::DeriveInput);
    orm_codegen::expand_model(&input)
        .unwrap_or_else(syn::Error::into_compile_error)
        .into()
}

/// Reads a struct from a result row by column name: each field from the column of the same name,
/// or the one named by `#[orm(column = "…")]` (the only attribute). The page of the re-export
/// `orm::FromRow` has an example that runs.
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
