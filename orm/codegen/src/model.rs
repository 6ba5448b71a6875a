//! From a struct with `#[orm(...)]` attributes to the `Model` implementation and column constants.

use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote};
use syn::{Data, DeriveInput, Expr, Fields, Lit, LitStr, Type};

struct FieldSpec {
    ident: syn::Ident,
    ty: Type,
    column: String,
    primary_key: bool,
    unique: bool,
    index: bool,
    length: Option<u32>,
    text: bool,
    default: Option<Lit>,
    foreign_key: Option<(String, String)>,
    on_delete: Option<String>,
    server_default: Option<String>,
    onupdate: Option<String>,
}

/// A table-level `unique_constraint(…)`, `index(…)`, `check_constraint(…)` or
/// `foreign_key_constraint(…)` on the struct: column names as string literals, and
/// `name = "…"` (and `unique = true` for an index, `references = "parent(a, b)"` and
/// `on_delete = "…"` for a foreign key).
struct TableArgSpec {
    kind: TableArgKind,
    name: Option<String>,
    columns: Vec<String>,
    unique: bool,
    sql: Option<String>,
    /// A foreign key's referenced table and columns, from `references = "parent(a, b)"`.
    references: Option<(String, Vec<String>)>,
    on_delete: Option<String>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum TableArgKind {
    Unique,
    Index,
    Check,
    ForeignKey,
}

/// `on_delete = "cascade" | "set null" | "restrict"`, lower-cased, or the error naming the
/// accepted values.
fn parse_on_delete(v: &LitStr) -> syn::Result<String> {
    match v.value().to_lowercase().as_str() {
        value @ ("cascade" | "set null" | "restrict") => Ok(value.to_string()),
        _ => err(
            v.span(),
            "on_delete is \"cascade\", \"set null\" or \"restrict\"",
        ),
    }
}

/// The `Option<OnDelete>` tokens of a parsed `on_delete`.
fn on_delete_tokens(on_delete: Option<&str>) -> TokenStream {
    match on_delete {
        Some("cascade") => quote!(::std::option::Option::Some(::orm::core::OnDelete::Cascade)),
        Some("set null") => quote!(::std::option::Option::Some(::orm::core::OnDelete::SetNull)),
        Some(_) => quote!(::std::option::Option::Some(::orm::core::OnDelete::Restrict)),
        None => quote!(::std::option::Option::None),
    }
}

/// `references = "offerings(term, code)"`: the table and its columns, in order.
fn parse_references(v: &LitStr) -> syn::Result<(String, Vec<String>)> {
    let value = v.value();
    let parsed = value.trim().strip_suffix(')').and_then(|rest| {
        let (table, columns) = rest.split_once('(')?;
        let columns: Vec<String> = columns.split(',').map(|c| c.trim().to_string()).collect();
        let valid = !table.trim().is_empty() && columns.iter().all(|c| !c.is_empty());
        valid.then(|| (table.trim().to_string(), columns))
    });
    parsed.ok_or_else(|| {
        syn::Error::new(
            v.span(),
            "references is written \"table(column, column)\", e.g. references = \"offerings(term, code)\"",
        )
    })
}

/// `unique_constraint("a", "b", name = "uq_x")`, `index("a", "b", unique = true)`,
/// `check_constraint(name = "age_positive", sql = "age >= 0")`,
/// `foreign_key_constraint("term", "code", references = "offerings(term, code)")`.
fn parse_table_arg(
    kind: TableArgKind,
    meta: &syn::meta::ParseNestedMeta,
) -> syn::Result<TableArgSpec> {
    let mut spec = TableArgSpec {
        kind,
        name: None,
        columns: Vec::new(),
        unique: false,
        sql: None,
        references: None,
        on_delete: None,
    };
    let span = meta
        .path
        .get_ident()
        .map_or_else(Span::call_site, |i| i.span());
    let content;
    syn::parenthesized!(content in meta.input);
    while !content.is_empty() {
        if content.peek(LitStr) {
            spec.columns.push(content.parse::<LitStr>()?.value());
        } else {
            let key: syn::Ident = content.parse()?;
            content.parse::<syn::Token![=]>()?;
            match (key.to_string().as_str(), kind) {
                ("name", _) => spec.name = Some(content.parse::<LitStr>()?.value()),
                ("unique", TableArgKind::Index) => spec.unique = content.parse::<syn::LitBool>()?.value,
                ("sql", TableArgKind::Check) => spec.sql = Some(content.parse::<LitStr>()?.value()),
                ("references", TableArgKind::ForeignKey) => {
                    spec.references = Some(parse_references(&content.parse::<LitStr>()?)?)
                }
                ("on_delete", TableArgKind::ForeignKey) => {
                    spec.on_delete = Some(parse_on_delete(&content.parse::<LitStr>()?)?)
                }
                (other, _) => {
                    return err(key.span(), format!("unknown option `{other}` here (expected column names as strings, name = \"…\"{})", match kind {
                        TableArgKind::Index => ", unique = true",
                        TableArgKind::Check => ", sql = \"…\"",
                        TableArgKind::ForeignKey => ", references = \"table(column, …)\", on_delete = \"…\"",
                        TableArgKind::Unique => "",
                    }))
                }
            }
        }
        if !content.is_empty() {
            content.parse::<syn::Token![,]>()?;
        }
    }
    match kind {
        TableArgKind::Check if spec.sql.is_none() || spec.name.is_none() => err(
            span,
            "check_constraint needs name = \"…\" and sql = \"…\" (the condition), e.g. check_constraint(name = \"age_positive\", sql = \"age >= 0\")",
        ),
        TableArgKind::Unique | TableArgKind::Index | TableArgKind::ForeignKey if spec.columns.is_empty() => {
            err(span, "name the columns as strings, e.g. unique_constraint(\"team_id\", \"name\")")
        }
        TableArgKind::ForeignKey => match &spec.references {
            None => err(
                span,
                "foreign_key_constraint needs references = \"table(column, …)\", e.g. foreign_key_constraint(\"term\", \"code\", references = \"offerings(term, code)\")",
            ),
            Some((table, referred)) if referred.len() != spec.columns.len() => err(
                span,
                format!(
                    "foreign_key_constraint names {} column{} but references {} column{} of {table}: one referenced column per column",
                    spec.columns.len(),
                    if spec.columns.len() == 1 { "" } else { "s" },
                    referred.len(),
                    if referred.len() == 1 { "" } else { "s" },
                ),
            ),
            Some(_) => Ok(spec),
        },
        _ => Ok(spec),
    }
}

/// A relationship declared on the struct: `#[orm(has_many(posts: Post, foreign_key = "user_id"))]`.
pub(crate) struct RelationSpec {
    pub kind: RelationKind,
    pub name: syn::Ident,
    pub target: syn::Path,
    pub foreign_key: Option<String>,
    pub back_populates: Option<String>,
    pub secondary: Option<String>,
    pub local: Option<String>,
    pub remote: Option<String>,
    pub cascade: Option<String>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum RelationKind {
    HasMany,
    BelongsTo,
    ManyToMany,
}

fn err<T>(span: Span, msg: impl std::fmt::Display) -> syn::Result<T> {
    Err(syn::Error::new(span, msg))
}

/// `users` from `User`: lower snake case plus `s`, used when no `table = "…"` is given.
fn default_table_name(name: &str) -> String {
    format!("{}s", crate::snake_case(name))
}

fn parse_string(meta: &syn::meta::ParseNestedMeta) -> syn::Result<String> {
    Ok(meta.value()?.parse::<LitStr>()?.value())
}

fn parse_relation(
    kind: RelationKind,
    meta: &syn::meta::ParseNestedMeta,
) -> syn::Result<RelationSpec> {
    let content;
    syn::parenthesized!(content in meta.input);
    let name: syn::Ident = content.parse()?;
    content.parse::<syn::Token![:]>()?;
    let target: syn::Path = content.parse()?;
    let mut spec = RelationSpec {
        kind,
        name,
        target,
        foreign_key: None,
        back_populates: None,
        secondary: None,
        local: None,
        remote: None,
        cascade: None,
    };
    while !content.is_empty() {
        content.parse::<syn::Token![,]>()?;
        if content.is_empty() {
            break;
        }
        let key: syn::Ident = content.parse()?;
        content.parse::<syn::Token![=]>()?;
        let value: LitStr = content.parse()?;
        let slot = match key.to_string().as_str() {
            "foreign_key" => &mut spec.foreign_key,
            "back_populates" => &mut spec.back_populates,
            "secondary" => &mut spec.secondary,
            "local" => &mut spec.local,
            "remote" => &mut spec.remote,
            "cascade" => &mut spec.cascade,
            other => {
                return err(
                    key.span(),
                    format!("unknown relationship option `{other}` (expected foreign_key, back_populates, secondary, local, remote or cascade)"),
                )
            }
        };
        *slot = Some(value.value());
    }
    Ok(spec)
}

/// Generates the `Model` implementation, the column constants and the relationship constants.
pub fn expand_model(input: &DeriveInput) -> syn::Result<TokenStream> {
    let name = &input.ident;
    if !input.generics.params.is_empty() {
        return err(
            input.generics.span_or(name.span()),
            "#[derive(Model)] does not support generic structs",
        );
    }
    let mut table = default_table_name(&name.to_string());
    let mut relations = Vec::new();
    let mut table_args: Vec<TableArgSpec> = Vec::new();
    let mut version_id_col: Option<String> = None;
    for attr in input.attrs.iter().filter(|a| a.path().is_ident("orm")) {
        attr.parse_nested_meta(|meta| {
            let key = meta.path.get_ident().map(|i| i.to_string()).unwrap_or_default();
            match key.as_str() {
                "table" => table = parse_string(&meta)?,
                "has_many" => relations.push(parse_relation(RelationKind::HasMany, &meta)?),
                "belongs_to" => relations.push(parse_relation(RelationKind::BelongsTo, &meta)?),
                "many_to_many" => relations.push(parse_relation(RelationKind::ManyToMany, &meta)?),
                "version_id_col" => version_id_col = Some(parse_string(&meta)?),
                "unique_constraint" => table_args.push(parse_table_arg(TableArgKind::Unique, &meta)?),
                "index" => table_args.push(parse_table_arg(TableArgKind::Index, &meta)?),
                "check_constraint" => table_args.push(parse_table_arg(TableArgKind::Check, &meta)?),
                "foreign_key_constraint" => table_args.push(parse_table_arg(TableArgKind::ForeignKey, &meta)?),
                _ => {
                    return Err(meta.error(format!(
                        "unknown model option `{key}` (expected table, has_many, belongs_to, many_to_many, unique_constraint, index, check_constraint, foreign_key_constraint or version_id_col)"
                    )))
                }
            }
            Ok(())
        })?;
    }
    let Data::Struct(data) = &input.data else {
        return err(
            name.span(),
            "#[derive(Model)] works on structs with named fields",
        );
    };
    let Fields::Named(named) = &data.fields else {
        return err(
            name.span(),
            "#[derive(Model)] works on structs with named fields",
        );
    };
    let mut fields = Vec::new();
    for f in &named.named {
        let ident = f.ident.clone().expect("named field");
        let mut spec = FieldSpec {
            column: ident.to_string().trim_start_matches("r#").to_string(),
            ident,
            ty: f.ty.clone(),
            primary_key: false,
            unique: false,
            index: false,
            length: None,
            text: false,
            default: None,
            foreign_key: None,
            on_delete: None,
            server_default: None,
            onupdate: None,
        };
        for attr in f.attrs.iter().filter(|a| a.path().is_ident("orm")) {
            attr.parse_nested_meta(|meta| {
                let key = meta.path.get_ident().map(|i| i.to_string()).unwrap_or_default();
                match key.as_str() {
                    "primary_key" => spec.primary_key = true,
                    "unique" => spec.unique = true,
                    "index" => spec.index = true,
                    "text" => spec.text = true,
                    "length" => spec.length = Some(meta.value()?.parse::<syn::LitInt>()?.base10_parse()?),
                    "column" => spec.column = parse_string(&meta)?,
                    "server_default" => spec.server_default = Some(parse_string(&meta)?),
                    "onupdate" => spec.onupdate = Some(parse_string(&meta)?),
                    "default" => {
                        let expr: Expr = meta.value()?.parse()?;
                        spec.default = Some(literal_of(&expr)?);
                    }
                    "foreign_key" => {
                        let target = meta.value()?.parse::<LitStr>()?;
                        let value = target.value();
                        let Some((t, c)) = value.split_once('.') else {
                            return err(target.span(), "foreign_key is written \"table.column\", e.g. \"users.id\"");
                        };
                        spec.foreign_key = Some((t.to_string(), c.to_string()));
                    }
                    "on_delete" => {
                        spec.on_delete = Some(parse_on_delete(&meta.value()?.parse::<LitStr>()?)?);
                    }
                    _ => {
                        return Err(meta.error(format!(
                            "unknown column option `{key}` (expected primary_key, unique, index, text, length, column, default, server_default, onupdate, foreign_key or on_delete)"
                        )))
                    }
                }
                Ok(())
            })?;
        }
        fields.push(spec);
    }
    let pk_positions: Vec<usize> = fields
        .iter()
        .enumerate()
        .filter(|(_, f)| f.primary_key)
        .map(|(i, _)| i)
        .collect();
    // Several `#[orm(primary_key)]` fields make a composite key, in declaration order.
    let pk_positions = match pk_positions.as_slice() {
        [] => match fields.iter().position(|f| f.ident == "id") {
            Some(i) => vec![i],
            None => return err(name.span(), format!("model {name} has no primary key: mark one field #[orm(primary_key)] (or several, for a composite key)")),
        },
        _ => pk_positions,
    };
    let pk = pk_positions[0];
    let composite = pk_positions.len() > 1;

    let version_id = match &version_id_col {
        Some(column) => match fields.iter().position(|f| f.column == *column) {
            Some(i) if pk_positions.contains(&i) => {
                return err(name.span(), format!("version_id_col `{column}` is a primary key column: the version counter is a column of its own"))
            }
            Some(i) => quote!(::std::option::Option::Some(#i)),
            None => return err(name.span(), format!("version_id_col names `{column}`, which is no column of {name}")),
        },
        None => quote!(::std::option::Option::None),
    };
    let column_count = fields.len();
    let column_consts = fields.iter().map(|f| {
        let ident = &f.ident;
        let ty = &f.ty;
        let column = &f.column;
        let doc = format!("The `{table}.{column}` column.");
        quote! {
            #[doc = #doc]
            pub const #ident: ::orm::Column<#name, #ty> = ::orm::Column::new(#table, #column);
        }
    });
    let column_defs = fields.iter().enumerate().map(|(i, f)| {
        let ty = &f.ty;
        let column = &f.column;
        let column_type = if f.text {
            quote!(::orm::ColumnType::Text)
        } else if let Some(n) = f.length {
            quote!(::orm::ColumnType::String(Some(#n)))
        } else {
            quote!(<#ty as ::orm::SqlType>::COLUMN_TYPE)
        };
        let is_pk = pk_positions.contains(&i);
        // Only a one-column integer key is assigned by the database (SQLAlchemy's
        // `autoincrement="auto"`): the parts of a composite key are always given.
        let assigned = is_pk && !composite;
        let unique = f.unique;
        let index = f.index;
        let default = match &f.default {
            Some(lit) => {
                let literal = literal_tokens(lit);
                quote!(::std::option::Option::Some(#literal))
            }
            None => quote!(::std::option::Option::None),
        };
        let foreign_key = match &f.foreign_key {
            Some((t, c)) => {
                let on_delete = on_delete_tokens(f.on_delete.as_deref());
                quote!(::std::option::Option::Some(::orm::core::ForeignKey {
                    table: ::orm::__private::Cow::Borrowed(#t),
                    column: ::orm::__private::Cow::Borrowed(#c),
                    on_delete: #on_delete,
                }))
            }
            None => quote!(::std::option::Option::None),
        };
        let sql_option = |o: &Option<String>| match o {
            Some(sql) => quote!(::std::option::Option::Some(::orm::__private::Cow::Borrowed(#sql))),
            None => quote!(::std::option::Option::None),
        };
        let server_default = sql_option(&f.server_default);
        let onupdate = sql_option(&f.onupdate);
        // A struct literal, not the builder methods: a const may not drop the fields it replaces.
        let def = quote! {
            ::orm::core::ColumnDef {
                name: ::orm::__private::Cow::Borrowed(#column),
                ty: #column_type,
                nullable: <#ty as ::orm::SqlType>::NULLABLE && !#is_pk,
                primary_key: #is_pk,
                autoincrement: #assigned && matches!(#column_type, ::orm::ColumnType::Integer),
                unique: #unique,
                index: #index,
                default: #default,
                foreign_key: #foreign_key,
                server_default: #server_default,
                onupdate: #onupdate,
                enum_values: <#ty as ::orm::SqlType>::ENUM_VALUES,
            }
        };
        def
    });
    let names = |columns: &[String]| quote!(::orm::__private::Cow::Borrowed(&[#(::orm::__private::Cow::Borrowed(#columns)),*]));
    let name_option = |name: &Option<String>| match name {
        Some(n) => quote!(::std::option::Option::Some(::orm::__private::Cow::Borrowed(#n))),
        None => quote!(::std::option::Option::None),
    };
    for arg in &table_args {
        for column in &arg.columns {
            if !fields.iter().any(|f| f.column == *column) {
                return err(
                    name.span(),
                    format!(
                        "{name} has no column `{column}` (named in a unique_constraint, index or foreign_key_constraint)"
                    ),
                );
            }
        }
    }
    let table_uniques = table_args
        .iter()
        .filter(|a| a.kind == TableArgKind::Unique)
        .map(|a| {
            let (n, c) = (name_option(&a.name), names(&a.columns));
            quote!(::orm::core::UniqueConstraint { name: #n, columns: #c })
        });
    let table_indexes = table_args
        .iter()
        .filter(|a| a.kind == TableArgKind::Index)
        .map(|a| {
            let (n, c, u) = (name_option(&a.name), names(&a.columns), a.unique);
            quote!(::orm::core::Index { name: #n, columns: #c, unique: #u })
        });
    let table_checks = table_args
        .iter()
        .filter(|a| a.kind == TableArgKind::Check)
        .map(|a| {
            let (n, sql) = (
                a.name.as_deref().unwrap_or_default(),
                a.sql.as_deref().unwrap_or_default(),
            );
            quote!(::orm::core::CheckConstraint {
                name: ::orm::__private::Cow::Borrowed(#n),
                sqltext: ::orm::__private::Cow::Borrowed(#sql),
            })
        });
    let table_foreign_keys = table_args
        .iter()
        .filter(|a| a.kind == TableArgKind::ForeignKey)
        .map(|a| {
            let (parent, referred) = a.references.clone().unwrap_or_default();
            let (c, r) = (names(&a.columns), names(&referred));
            let on_delete = on_delete_tokens(a.on_delete.as_deref());
            quote!(::orm::core::ForeignKeyConstraint {
                columns: #c,
                table: ::orm::__private::Cow::Borrowed(#parent),
                referred: #r,
                on_delete: #on_delete,
            })
        });
    let value_arms = fields.iter().enumerate().map(|(i, f)| {
        let ident = &f.ident;
        quote!(#i => ::orm::SqlType::to_value_ref(&self.#ident),)
    });
    let readers = fields.iter().map(|f| {
        let ident = &f.ident;
        let column = &f.column;
        quote!(#ident: row.read(#table, #column)?,)
    });
    let pk_ident = &fields[pk].ident;
    let defaults = fields.iter().filter(|f| f.default.is_some()).map(|f| {
        let ident = &f.ident;
        let literal = literal_value_tokens(f.default.as_ref().expect("filtered"));
        quote! {
            if ::orm::SqlType::to_value_ref(&self.#ident) == ::orm::ValueRef::Null {
                if let Ok(v) = ::orm::SqlType::from_value_ref(#literal) {
                    self.#ident = v;
                }
            }
        }
    });
    let relation_items = crate::model::relations::expand(name, &table, &relations)?;
    let rel_consts = relation_items.consts;
    let rel_infos = relation_items.infos;

    Ok(quote! {
        #[allow(non_upper_case_globals, dead_code)]
        impl #name {
            #(#column_consts)*
            #(#rel_consts)*
        }
        impl ::orm::Model for #name {
            const TABLE_NAME: &'static str = #table;
            const TABLE: ::orm::core::Table = ::orm::core::Table {
                name: ::orm::__private::Cow::Borrowed(#table),
                columns: ::orm::__private::Cow::Borrowed(&[#(#column_defs),*]),
                uniques: ::orm::__private::Cow::Borrowed(&[#(#table_uniques),*]),
                indexes: ::orm::__private::Cow::Borrowed(&[#(#table_indexes),*]),
                checks: ::orm::__private::Cow::Borrowed(&[#(#table_checks),*]),
                foreign_keys: ::orm::__private::Cow::Borrowed(&[#(#table_foreign_keys),*]),
            };
            const PRIMARY_KEY: usize = #pk;
            const PRIMARY_KEYS: &'static [usize] = &[#(#pk_positions),*];
            const VERSION_ID: ::std::option::Option<usize> = #version_id;
            const COLUMN_COUNT: usize = #column_count;
            fn column_value(&self, index: usize) -> ::orm::ValueRef<'_> {
                match index {
                    #(#value_arms)*
                    _ => ::orm::ValueRef::Null,
                }
            }
            fn set_primary_key(&mut self, id: i64) {
                if let Ok(v) = ::orm::SqlType::from_value_ref(::orm::ValueRef::Integer(id)) {
                    self.#pk_ident = v;
                }
            }
            fn from_row(row: &mut ::orm::RowReader<'_>) -> ::orm::Result<Self> {
                Ok(#name { #(#readers)* })
            }
            fn apply_defaults(&mut self) {
                #(#defaults)*
            }
            fn relationships() -> ::std::vec::Vec<::orm::RelationshipInfo> {
                ::std::vec![#(#rel_infos),*]
            }
        }
        impl ::orm::Entities for #name {
            type Fetcher = ::orm::Models<#name>;
            fn fetcher() -> Self::Fetcher {
                ::orm::Models::new()
            }
        }
    })
}

fn literal_of(expr: &Expr) -> syn::Result<Lit> {
    match expr {
        Expr::Lit(l) => Ok(l.lit.clone()),
        Expr::Unary(u) if matches!(u.op, syn::UnOp::Neg(_)) => match &*u.expr {
            Expr::Lit(syn::ExprLit {
                lit: Lit::Int(i), ..
            }) => Ok(Lit::Int(syn::LitInt::new(
                &format!("-{}", i.base10_digits()),
                i.span(),
            ))),
            Expr::Lit(syn::ExprLit {
                lit: Lit::Float(f), ..
            }) => Ok(Lit::Float(syn::LitFloat::new(
                &format!("-{}", f.base10_digits()),
                f.span(),
            ))),
            _ => err(
                proc_macro2::Span::call_site(),
                "default must be a literal: a number, a string or a bool",
            ),
        },
        _ => err(
            proc_macro2::Span::call_site(),
            "default must be a literal: a number, a string or a bool",
        ),
    }
}

fn literal_tokens(lit: &Lit) -> TokenStream {
    match lit {
        Lit::Int(i) => quote!(::orm::core::Literal::Integer(#i)),
        Lit::Float(f) => quote!(::orm::core::Literal::Float(#f)),
        Lit::Str(s) => quote!(::orm::core::Literal::Text(::orm::__private::Cow::Borrowed(#s))),
        Lit::Bool(b) => quote!(::orm::core::Literal::Bool(#b)),
        other => syn::Error::new(other.span(), "default must be a number, a string or a bool")
            .to_compile_error(),
    }
}

fn literal_value_tokens(lit: &Lit) -> TokenStream {
    match lit {
        Lit::Int(i) => quote!(::orm::ValueRef::Integer(#i)),
        Lit::Float(f) => quote!(::orm::ValueRef::Real(#f)),
        Lit::Str(s) => quote!(::orm::ValueRef::Text(#s)),
        Lit::Bool(b) => quote!(::orm::ValueRef::Bool(#b)),
        other => syn::Error::new(other.span(), "default must be a number, a string or a bool")
            .to_compile_error(),
    }
}

trait SpanOr {
    fn span_or(&self, fallback: Span) -> Span;
}
impl SpanOr for syn::Generics {
    fn span_or(&self, fallback: Span) -> Span {
        self.lt_token.map(|t| t.spans[0]).unwrap_or(fallback)
    }
}

#[allow(unused_imports)]
use format_ident as _;

pub(crate) mod relations {
    use super::{RelationKind, RelationSpec};
    use proc_macro2::TokenStream;
    use quote::quote;

    pub(crate) struct Expanded {
        pub consts: Vec<TokenStream>,
        pub infos: Vec<TokenStream>,
    }

    /// One constant per relationship (`User::posts`), typed by its kind and target.
    pub(crate) fn expand(
        owner: &syn::Ident,
        table: &str,
        specs: &[RelationSpec],
    ) -> syn::Result<Expanded> {
        let mut consts = Vec::new();
        let mut infos = Vec::new();
        for spec in specs {
            let name = &spec.name;
            let name_str = name.to_string();
            let target = &spec.target;
            let opt = |o: &Option<String>| match o {
                Some(s) => quote!(::std::option::Option::Some(#s)),
                None => quote!(::std::option::Option::None),
            };
            let back = opt(&spec.back_populates);
            let cascade = opt(&spec.cascade);
            let (ty, ctor) = match spec.kind {
                RelationKind::HasMany => {
                    let Some(fk) = &spec.foreign_key else {
                        return Err(syn::Error::new(
                            name.span(),
                            format!("has_many `{name_str}` needs foreign_key = \"column of the child table that points at {table}\""),
                        ));
                    };
                    (
                        quote!(::orm::HasMany<#owner, #target>),
                        quote!(::orm::HasMany::new(#name_str, #fk, #back, #cascade)),
                    )
                }
                RelationKind::BelongsTo => {
                    let Some(fk) = &spec.foreign_key else {
                        return Err(syn::Error::new(
                            name.span(),
                            format!("belongs_to `{name_str}` needs foreign_key = \"column of {table} that points at the parent\""),
                        ));
                    };
                    (
                        quote!(::orm::BelongsTo<#owner, #target>),
                        quote!(::orm::BelongsTo::new(#name_str, #fk, #back)),
                    )
                }
                RelationKind::ManyToMany => {
                    let (Some(secondary), Some(local), Some(remote)) =
                        (&spec.secondary, &spec.local, &spec.remote)
                    else {
                        return Err(syn::Error::new(
                            name.span(),
                            format!("many_to_many `{name_str}` needs secondary = \"association table\", local = \"its column for {table}\", remote = \"its column for the other side\""),
                        ));
                    };
                    (
                        quote!(::orm::ManyToMany<#owner, #target>),
                        quote!(::orm::ManyToMany::new(#name_str, #secondary, #local, #remote, #back)),
                    )
                }
            };
            let doc = format!("The `{name_str}` relationship.");
            consts.push(quote! {
                #[doc = #doc]
                pub const #name: #ty = #ctor;
            });
            infos.push(quote!(::orm::RelationshipInfo::of(&#owner::#name)));
        }
        Ok(Expanded { consts, infos })
    }
}

#[cfg(test)]
mod tests {
    /// The error `#[derive(Model)]` gives for `source`.
    fn error_of(source: &str) -> String {
        let input: syn::DeriveInput = syn::parse_str(source).unwrap();
        match super::expand_model(&input) {
            Ok(_) => panic!("expanded without an error: {source}"),
            Err(e) => e.to_string(),
        }
    }

    const FIELDS: &str = "struct R { id: i64, term: String, code: String }";

    #[test]
    fn foreign_key_constraint_mistakes_are_named() {
        assert_eq!(
            error_of(&format!(
                r#"#[orm(foreign_key_constraint("term", "code"))] {FIELDS}"#
            )),
            r#"foreign_key_constraint needs references = "table(column, …)", e.g. foreign_key_constraint("term", "code", references = "offerings(term, code)")"#
        );
        assert_eq!(
            error_of(&format!(
                r#"#[orm(foreign_key_constraint("term", "code", references = "offerings(term)"))] {FIELDS}"#
            )),
            "foreign_key_constraint names 2 columns but references 1 column of offerings: one referenced column per column"
        );
        assert_eq!(
            error_of(&format!(
                r#"#[orm(foreign_key_constraint("term", "code", references = "offerings.term, offerings.code"))] {FIELDS}"#
            )),
            r#"references is written "table(column, column)", e.g. references = "offerings(term, code)""#
        );
        assert_eq!(
            error_of(&format!(
                r#"#[orm(foreign_key_constraint("term", "kode", references = "offerings(term, code)"))] {FIELDS}"#
            )),
            "R has no column `kode` (named in a unique_constraint, index or foreign_key_constraint)"
        );
        assert_eq!(
            error_of(&format!(
                r#"#[orm(foreign_key_constraint("term", "code", references = "offerings(term, code)", on_delete = "explode"))] {FIELDS}"#
            )),
            r#"on_delete is "cascade", "set null" or "restrict""#
        );
    }

    #[test]
    fn foreign_key_constraint_expands_into_the_table() {
        let input: syn::DeriveInput = syn::parse_str(&format!(
            r#"#[orm(foreign_key_constraint("term", "code", references = "offerings(term, code)", on_delete = "cascade"))] {FIELDS}"#
        ))
        .unwrap();
        let out = super::expand_model(&input).unwrap().to_string();
        let expected = [
            ":: orm :: core :: ForeignKeyConstraint { columns : :: orm :: __private :: Cow :: Borrowed (& [:: orm :: __private :: Cow :: Borrowed (\"term\") , :: orm :: __private :: Cow :: Borrowed (\"code\")]) ,",
            "table : :: orm :: __private :: Cow :: Borrowed (\"offerings\") ,",
            "on_delete : :: std :: option :: Option :: Some (:: orm :: core :: OnDelete :: Cascade)",
        ];
        for part in expected {
            assert!(out.contains(part), "{part}\nnot in\n{out}");
        }
    }
}
