//! From a struct to its `FromRow` implementation: each field read from the result column of the
//! same name (or `#[orm(column = "…")]`).

use proc_macro2::TokenStream;
use quote::quote;
use syn::{Data, DeriveInput, Fields, LitStr};

/// The `impl orm::core::FromRow` for a struct with named fields.
///
/// Of a field's `#[orm(...)]` keys it reads `column`; the others are `Model`'s (a struct may
/// derive both) and are skipped.
///
/// # Errors
/// A `syn::Error` pointing at the input when it is not a struct with named fields, or at an
/// `#[orm(...)]` attribute that does not parse.
pub fn expand_from_row(input: &DeriveInput) -> syn::Result<TokenStream> {
    let name = &input.ident;
    let Data::Struct(data) = &input.data else {
        return Err(syn::Error::new_spanned(
            name,
            "#[derive(FromRow)] works on structs with named fields",
        ));
    };
    let Fields::Named(fields) = &data.fields else {
        return Err(syn::Error::new_spanned(
            name,
            "#[derive(FromRow)] works on structs with named fields",
        ));
    };
    let mut reads = Vec::new();
    for field in &fields.named {
        let ident = field.ident.as_ref().expect("named field");
        let mut column = ident.to_string().trim_start_matches("r#").to_string();
        for attr in field.attrs.iter().filter(|a| a.path().is_ident("orm")) {
            attr.parse_nested_meta(|meta| {
                if meta.path.is_ident("column") {
                    column = meta.value()?.parse::<LitStr>()?.value();
                    Ok(())
                } else {
                    // A `Model` option (`primary_key`, `default = 0`, …) on a struct that
                    // derives both: not this derive's business, skipped whole.
                    if meta.input.peek(syn::Token![=]) {
                        meta.value()?.parse::<syn::Expr>()?;
                    } else if meta.input.peek(syn::token::Paren) {
                        meta.input.parse::<proc_macro2::Group>()?;
                    }
                    Ok(())
                }
            })?;
        }
        reads.push(quote! { #ident: row.get(#column)? });
    }
    let (impl_generics, ty_generics, where_clause) = input.generics.split_for_impl();
    Ok(quote! {
        impl #impl_generics ::orm::core::FromRow for #name #ty_generics #where_clause {
            fn read_row(row: &::orm::core::Row<'_>) -> ::orm::Result<Self> {
                ::std::result::Result::Ok(#name { #(#reads,)* })
            }
        }
    })
}
