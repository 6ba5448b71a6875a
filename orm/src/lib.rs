//! A small ORM on SQLite in SQLAlchemy's shape, written for a lesson and for real programs.
//! PostgreSQL is the second engine (cargo feature `postgres`): the same models, sessions, queries
//! and migrations, with `create_engine("postgresql://user:password@host/dbname")`.
//!
//! Layers, as in SQLAlchemy:
//! - [`core`]: tables, expressions and statements as plain data, written to SQL by a dialect writer;
//! - the ORM on top: [`Model`] (derive it), [`Engine`], [`Session`] with a unit of work and an
//!   identity map, [`Query`], relationships and loading strategies;
//! - [`migrate`]: Alembic-style migrations built on both.
//!
//! ```
//! use orm::prelude::*;
//!
//! #[derive(Model, Debug, Clone, Default)]
//! #[orm(table = "users")]
//! pub struct User {
//!     #[orm(primary_key)] pub id: i64,
//!     pub name: String,                        // NOT NULL: not an Option
//!     #[orm(unique)] pub email: Option<String>,
//!     #[orm(index)] pub age: Option<i64>,
//! }
//!
//! let engine = create_engine("sqlite:///:memory:")?;
//! MetaData::new().add::<User>().create_all(&engine)?;
//! let session = Session::new(&engine);
//! session.add(User { name: "Alice".into(), age: Some(30), ..Default::default() });
//! session.commit()?;
//! let adults = session.query::<User>().filter(User::age.ge(18)).order_by(User::name.desc()).all()?;
//! assert_eq!(adults[0].borrow().name, "Alice");
//! # Ok::<(), orm::Error>(())
//! ```
//!
//! No global state anywhere (statics, thread-locals): in a notebook every cell links its own copy
//! of this crate, so everything lives in values — engines, sessions, metadata.

// The derive writes `::orm::…` paths; this lets the crate's own tests use it.
extern crate self as orm;

#[warn(missing_docs)]
pub mod check;
// Every public item of the Core layer and of queries says what it is (clippy -D warnings).
#[warn(missing_docs)]
pub mod core;
pub mod display;
mod engine;
mod error;
mod metadata;
pub mod migrate;
mod model;
#[warn(missing_docs)]
pub mod query;
mod relationship;
mod session;
mod value;

pub use crate::core::FromRow;
pub use crate::core::{Column, Condition};
pub use display::{TableView, Tabulate};
pub use engine::{
    create_engine, create_engine_from_env, DatabaseUrl, Engine, PostgresUrl, ResultSet, RowAccess,
    RowReader, SQLITE_BUSY_TIMEOUT,
};
pub use error::{Error, Result};
pub use metadata::MetaData;
pub use model::{IntoObj, Key, Model, Obj, ObjectState};
pub use orm_macros::{FromRow, Model};
pub use query::{select, select_values, Entities, Fetch, Models, Query};
pub use relationship::{
    joinedload, selectinload, BelongsTo, Collection, HasMany, LoadOption, Loader, ManyToMany,
    Relationship, RelationshipInfo,
};
pub use session::Session;
pub use value::{kind, ColumnType, SqlType, TypeMismatch, Value, ValueRef};

/// Everything a notebook needs in one `use orm::prelude::*;`.
pub mod prelude {
    pub use crate::core::{
        and_, case, cast, exists, func, not_, or_, union, union_all, window, Column, Condition,
        FromRow, SqlExpr,
    };
    pub use crate::display::Tabulate;
    pub use crate::query::aliased;
    pub use crate::relationship::{joinedload, selectinload};
    pub use crate::{
        create_engine, create_engine_from_env, select, select_values, Engine, Error, MetaData,
        Model, Obj, Query, Session,
    };
    pub use chrono::{NaiveDate, NaiveDateTime, NaiveTime};
    pub use orm_macros::FromRow;
    // The crates of the column types, so a notebook can name `serde_json::Value` without `:dep`.
    pub use chrono;
    pub use serde_json;
}

/// Re-exports the derive's generated code relies on (not for direct use).
#[doc(hidden)]
pub mod __private {
    pub use std::borrow::Cow;
}
