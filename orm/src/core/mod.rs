//! The Core layer: tables, expressions and statements as plain data, written to SQL per dialect.
//! Usable without models; the ORM layer compiles down to it.

pub mod expr;
pub mod row;
pub mod schema;
pub mod statement;
pub mod writer;

pub use expr::{
    and_, func, not_, or_, AnyColumn, Column, Condition, Expr, IntoOrderBy, Operand, OrderBy,
    SqlExpr, TypedExpr,
};
pub use row::{FromRow, Row};
pub use schema::{ColumnDef, ForeignKey, Literal, OnDelete, Table};
pub use statement::{
    delete, insert, select, text, Delete, FromItem, Insert, Join, JoinKind, Select, SelectItem,
    Statement, TextClause, TextPart, Update,
};
pub use writer::{Compiled, Out, PostgresWriter, SqlWriter, SqliteWriter, StandardWriter};

/// `update` as a function name clashes with nothing, but keep the Core verbs together.
pub use statement::update;
