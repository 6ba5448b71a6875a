//! The Core layer: tables, expressions and statements as plain data, written to SQL per dialect.
//! Usable without models; the ORM layer compiles down to it.

pub mod expr;
pub mod row;
pub mod schema;
pub mod statement;
pub mod subquery;
pub mod writer;

pub use expr::{
    and_, case, cast, func, literal, literal_column, not_, or_, window, AnyColumn, Case, Column,
    Condition, Expr, InValues, IntoOrderBy, IntoTyped, Operand, OrderBy, SqlExpr, TypedExpr,
    Window,
};
pub use row::{FromRow, Row};
pub use schema::{ColumnDef, ForeignKey, Literal, OnDelete, Table};
pub use statement::{
    delete, excluded, insert, select, text, ConflictAction, Delete, FromItem, Insert, Join,
    JoinKind, OnConflict, Select, SelectItem, Statement, TextClause, TextPart, Update, Upsert,
};
pub use subquery::{exists, union, union_all, Alias, Cte, FromSource, IntoSelect, SetOp, Subquery};
pub use writer::{Compiled, Out, PostgresWriter, SqlWriter, SqliteWriter, StandardWriter};

/// `update` as a function name clashes with nothing, but keep the Core verbs together.
pub use statement::update;
