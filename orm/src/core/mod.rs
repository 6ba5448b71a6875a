//! The Core layer: tables, expressions and statements as plain data, written to SQL per dialect.
//! Usable without models; the ORM layer compiles down to it.
//!
//! Beyond `select`/`insert`/`update`/`delete`: upserts ([`Insert::on_conflict`]), scalar
//! subqueries, `IN (SELECT …)`, [`exists`], aliases for self-joins ([`Table::alias`]), common
//! table expressions ([`Select::cte`], recursive too), window functions ([`TypedExpr::over`]),
//! [`case`], [`cast`], [`func::coalesce`], compound selects ([`union_all`]) and hand-written SQL
//! with named parameters ([`text`]). Each is written by [`SqlWriter`]'s defaults, overridden per
//! dialect in `writer/sqlite.rs` and `writer/postgres.rs`.
//!
//! ```
//! use orm::core::{excluded, insert, select, text, window, ColumnDef, Table};
//! use orm::prelude::*;
//!
//! let scores = Table::new("scores")
//!     .column(ColumnDef::new("player", orm::ColumnType::Text).primary_key())
//!     .column(ColumnDef::new("team", orm::ColumnType::Text))
//!     .column(ColumnDef::new("points", orm::ColumnType::Integer));
//! let engine = create_engine("sqlite:///:memory:")?;
//! engine.execute(orm::core::Statement::CreateTable { table: scores.clone(), if_not_exists: false })?;
//! for (player, team, points) in [("ann", "red", 5), ("ben", "red", 3), ("cid", "blue", 4), ("ann", "red", 7)] {
//!     engine.execute(
//!         insert(&scores).value("player", player).value("team", team).value("points", points)
//!             .on_conflict(["player"]).do_update([("points", excluded("points"))]),
//!     )?;
//! }
//! let ranked = select([scores.c("player")])
//!     .column(func::rank().over(window().partition_by(scores.c("team")).order_by(scores.c("points").desc())))
//!     .from(&scores)
//!     .order_by(scores.c("player"));
//! let rows: Vec<(String, i64)> = engine.execute(ranked)?.all()?;
//! assert_eq!(rows, [("ann".into(), 1), ("ben".into(), 2), ("cid".into(), 1)]);
//! let best = engine.execute(text("SELECT player FROM scores WHERE points > :min").bind("min", 4))?;
//! assert_eq!(best.scalars::<String>()?, ["ann"]);
//! # Ok::<(), orm::Error>(())
//! ```

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
pub use schema::{
    naming, CheckConstraint, ColumnDef, ColumnNames, ForeignKey, ForeignKeyConstraint, Index,
    Literal, OnDelete, Table, UniqueConstraint,
};
pub use statement::{
    delete, excluded, insert, select, text, ConflictAction, Delete, FromItem, Insert, Join,
    JoinKind, OnConflict, Select, SelectItem, Statement, TextClause, TextPart, Update, Upsert,
};
pub use subquery::{exists, union, union_all, Alias, Cte, FromSource, IntoSelect, SetOp, Subquery};
pub use writer::{Compiled, Out, PostgresWriter, SqlWriter, SqliteWriter, StandardWriter};

/// `update` as a function name clashes with nothing, but keep the Core verbs together.
pub use statement::update;
