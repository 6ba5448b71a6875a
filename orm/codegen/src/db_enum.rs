//! From a fieldless enum to its `SqlType` implementation: each variant stored as a string
//! (SQLAlchemy's `Enum` with `native_enum=False`), the column limited to those strings by a
//! `CHECK` constraint that `#[derive(Model)]` writes for every column of the type.

use proc_macro2::TokenStream;
use quote::quote;
use syn::{Data, DeriveInput, Fields, LitStr};

use crate::snake_case;

/// The `impl orm::SqlType` for an enum whose variants have no fields.
///
/// # Errors
/// A `syn::Error` at the input when it is not an enum of fieldless variants, at an
/// `#[orm(...)]` attribute that does not parse, or at a variant whose string repeats another's.
pub fn expand_db_enum(input: &DeriveInput) -> syn::Result<TokenStream> {
    let name = &input.ident;
    let Data::Enum(data) = &input.data else {
        return Err(syn::Error::new_spanned(
            name,
            "#[derive(DbEnum)] works on enums whose variants have no fields",
        ));
    };
    if data.variants.is_empty() {
        return Err(syn::Error::new_spanned(
            name,
            "#[derive(DbEnum)] needs at least one variant",
        ));
    }
    let mut variants = Vec::new();
    let mut strings: Vec<String> = Vec::new();
    for variant in &data.variants {
        if !matches!(variant.fields, Fields::Unit) {
            return Err(syn::Error::new_spanned(
                variant,
                "#[derive(DbEnum)] stores variants without fields only",
            ));
        }
        let mut stored = snake_case(&variant.ident.to_string());
        for attr in variant.attrs.iter().filter(|a| a.path().is_ident("orm")) {
            attr.parse_nested_meta(|meta| {
                if meta.path.is_ident("rename") {
                    stored = meta.value()?.parse::<LitStr>()?.value();
                    Ok(())
                } else {
                    Err(meta.error("unknown variant option (expected rename = \"stored string\")"))
                }
            })?;
        }
        if strings.contains(&stored) {
            return Err(syn::Error::new_spanned(
                variant,
                format!("two variants are stored as \"{stored}\""),
            ));
        }
        variants.push(variant.ident.clone());
        strings.push(stored);
    }
    let length = strings.iter().map(|s| s.chars().count()).max().unwrap_or(1) as u32;
    let quoted: Vec<String> = strings.iter().map(|s| format!("'{s}'")).collect();
    let expected = format!("one of the {name} values {}", quoted.join(", "));
    let to_arms = variants
        .iter()
        .zip(&strings)
        .map(|(v, s)| quote!(#name::#v => #s,));
    let from_arms = variants
        .iter()
        .zip(&strings)
        .map(|(v, s)| quote!(#s => ::std::result::Result::Ok(#name::#v),));
    Ok(quote! {
        impl ::orm::SqlType for #name {
            // The longest stored string, as SQLAlchemy sizes a non-native Enum's VARCHAR.
            const COLUMN_TYPE: ::orm::ColumnType = ::orm::ColumnType::String(::std::option::Option::Some(#length));
            const ENUM_VALUES: ::std::option::Option<&'static [&'static str]> =
                ::std::option::Option::Some(&[#(#strings),*]);
            // Compared only with its own variants (`Ticket::status.eq(Status::Open)`).
            type Kind = #name;
            type NonNull = #name;
            fn to_value_ref(&self) -> ::orm::ValueRef<'_> {
                ::orm::ValueRef::Text(match self { #(#to_arms)* })
            }
            fn from_value_ref(value: ::orm::ValueRef<'_>) -> ::std::result::Result<Self, ::orm::TypeMismatch> {
                let unknown = |found: ::std::string::String| ::orm::TypeMismatch { expected: #expected, found };
                match value {
                    ::orm::ValueRef::Text(text) => match text {
                        #(#from_arms)*
                        other => ::std::result::Result::Err(unknown(::std::format!("the unknown value {other:?}"))),
                    },
                    other => ::std::result::Result::Err(unknown(::std::format!("{other:?}"))),
                }
            }
        }
        impl ::orm::core::Operand<#name> for #name {
            fn into_expr(self) -> ::orm::core::Expr {
                ::orm::core::Expr::Value(::orm::SqlType::to_value(&self))
            }
        }
    })
}
