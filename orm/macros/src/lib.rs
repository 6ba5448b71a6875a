//! `#[derive(Model)]` and `#[derive(FromRow)]`: thin wrappers over `orm-codegen`, which the
//! notebook kernel also calls.
#![warn(missing_docs)]

use proc_macro::TokenStream;

/// Maps a struct with named fields to a table: columns, primary key, constraints and
/// relationships, as SQLAlchemy's declarative mapping does. (`orm::Model`'s page has an example
/// that runs.)
///
/// # Container attributes (`#[orm(...)]` on the struct)
///
/// | attribute | meaning |
/// | --- | --- |
/// | `table = "users"` | the table's name (default: the struct's name in snake case, `OrderLine` → `order_line`) |
/// | `has_many(posts: Post, foreign_key = "user_id")` | one-to-many: `Post` rows whose `user_id` holds this row's key |
/// | `belongs_to(author: User, foreign_key = "user_id")` | many-to-one: the `User` this row's `user_id` points at |
/// | `many_to_many(courses: Course, secondary = "student_courses", local = "student_id", remote = "course_id")` | many-to-many through an association table: `local` refers to this model, `remote` to the other |
///
/// Options of the three relationships:
///
/// | option | meaning |
/// | --- | --- |
/// | `foreign_key = "column"` | the foreign key column (`has_many`: on the child; `belongs_to`: on this model) |
/// | `back_populates = "name"` | the relationship on the other model that mirrors this one, kept in step in memory |
/// | `secondary = "table"` | `many_to_many`: the association table |
/// | `local = "column"`, `remote = "column"` | `many_to_many`: the association table's columns |
/// | `cascade = "all, delete-orphan"` | `has_many`: SQLAlchemy's cascades (`save-update`, `merge`, `delete`, `delete-orphan`, `all`) |
///
/// # Field attributes (`#[orm(...)]` on a field)
///
/// | attribute | meaning |
/// | --- | --- |
/// | `primary_key` | the primary key (default: the field named `id`); an integer key is generated on insert |
/// | `unique` | a `UNIQUE` constraint |
/// | `index` | an index (`CREATE INDEX`) |
/// | `column = "name"` | the column's name (default: the field's) |
/// | `length = 50` | `VARCHAR(50)` instead of the default text type |
/// | `text` | `TEXT` on every database |
/// | `default = 0` | a server default (`DEFAULT 0`): a literal |
/// | `foreign_key = "users.id"` | a `REFERENCES users (id)` constraint |
/// | `on_delete = "cascade"` | the foreign key's `ON DELETE`: `"cascade"`, `"set null"` or `"restrict"` |
///
/// A field of type `Option<T>` is a nullable column; any other type is `NOT NULL`.
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
